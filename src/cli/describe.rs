use anyhow::{Result, bail};

use crate::output::describe;
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
    let mut texts = Vec::new();
    match kind {
        Described::Pod => {
            for p in state
                .pods
                .iter()
                .filter(|p| p.namespace == ns && (names.is_empty() || names.contains(&p.name)))
            {
                texts.push(describe::pod(&state, p));
            }
        }
        Described::Service => {
            for s in state
                .services
                .iter()
                .filter(|s| s.namespace == ns && (names.is_empty() || names.contains(&s.name)))
            {
                texts.push(describe::service(&state, s));
            }
        }
    }
    if texts.is_empty() {
        let word = args.resource.split('/').next().unwrap_or_default();
        bail!("{word} {:?} not found in namespace {ns:?}", names.join(" "));
    }
    print!("{}", texts.join("\n\n"));
    Ok(0)
}
