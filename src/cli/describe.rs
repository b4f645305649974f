use anyhow::{Result, bail};

use crate::output::describe;
use crate::store::Store;

use super::args::{LabArg, NamespaceArg};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lab: LabArg,
    #[command(flatten)]
    namespace: NamespaceArg,
    /// pod or service (or TYPE/NAME)
    resource: String,
    names: Vec<String>,
}

/// `labctl describe pod|service NAME`, in kubectl's layout.
pub fn run(args: Args) -> Result<i32> {
    let (kind, mut names) = match args.resource.split_once('/') {
        Some((k, n)) => (k.to_string(), vec![n.to_string()]),
        None => (args.resource.clone(), Vec::new()),
    };
    names.extend(args.names.iter().cloned());
    let state = args.lab.select(&Store::open())?;
    let ns = args.namespace.name();
    let mut texts = Vec::new();
    match kind.to_ascii_lowercase().as_str() {
        "po" | "pod" | "pods" => {
            for p in state
                .pods
                .iter()
                .filter(|p| p.namespace == ns && (names.is_empty() || names.contains(&p.name)))
            {
                texts.push(describe::pod(&state, p));
            }
        }
        "svc" | "service" | "services" => {
            for s in state
                .services
                .iter()
                .filter(|s| s.namespace == ns && (names.is_empty() || names.contains(&s.name)))
            {
                texts.push(describe::service(&state, s));
            }
        }
        other => bail!("labctl describes pods and services, not {other:?}"),
    }
    if texts.is_empty() {
        bail!("{kind} {:?} not found in namespace {ns:?}", names.join(" "));
    }
    print!("{}", texts.join("\n\n"));
    Ok(0)
}
