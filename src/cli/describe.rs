use anyhow::{Result, bail};

use crate::output::describe;
use crate::output::get::ApiObject;
use crate::store::Store;

use super::args::NamespaceArgs;
use super::resource::{self, Named, Resource};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scope: NamespaceArgs,
    /// pod or service (or TYPE/NAME)
    resource: String,
    names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Described {
    Pod,
    Service,
}

impl Described {
    fn of(resource: Resource) -> Option<Described> {
        match resource {
            Resource::Pod => Some(Described::Pod),
            Resource::Service => Some(Described::Service),
            _ => None,
        }
    }
}

/// `labctl describe pod|service NAME`, in kubectl's layout.
pub fn run(args: Args) -> Result<i32> {
    let named = resource::parse("describe", Described::of, &args.resource, &args.names)?;
    let Named { kind, names } = resource::one_type("describe", named)?;
    let state = args.scope.lab.select(&Store::open())?;
    let ns = args.scope.namespace();
    let texts = match kind {
        Described::Pod => described(&state.pods, ns, &names, |p| describe::pod(&state, p)),
        Described::Service => described(&state.services, ns, &names, |s| describe::service(&state, s)),
    };
    if texts.is_empty() {
        let word = args.resource.split('/').next().unwrap_or_default();
        bail!("{word} {:?} not found in namespace {ns:?}", names.join(" "));
    }
    print!("{}", texts.join("\n\n"));
    Ok(0)
}

/// The description of each object in namespace `ns` that is named in `names` (of every
/// one there when `names` is empty), in state order.
fn described<T: ApiObject>(objects: &[T], ns: &str, names: &[String], describe: impl Fn(&T) -> String) -> Vec<String> {
    objects
        .iter()
        .filter(|o| o.namespace() == Some(ns) && (names.is_empty() || names.iter().any(|n| n == o.name())))
        .map(describe)
        .collect()
}
