use anyhow::{Result, bail};

use crate::cluster::apply::Kind;
use crate::cluster::state::WorkloadKind;
use crate::store::Store;

use super::args::NamespaceArgs;
use super::resource::{self, Named, Resource};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scope: NamespaceArgs,
    /// New number of replicas
    #[arg(long)]
    replicas: u32,
    /// deployment/NAME or statefulset/NAME (or TYPE NAME)
    resource: String,
    name: Option<String>,
}

pub fn run(args: Args) -> Result<i32> {
    let named = resource::parse("scale", scalable, &args.resource, args.name.as_slice())?;
    let [Named { kind, names }] = named.as_slice() else {
        bail!(USAGE);
    };
    let [name] = names.as_slice() else {
        bail!(USAGE);
    };
    let store = Store::open();
    let lab = args.scope.lab.select(&store)?.name;
    crate::lab::live::scale(&store, &lab, *kind, args.scope.namespace(), name, args.replicas)?;
    println!("{}/{name} scaled", Kind::Workload(*kind).noun());
    Ok(0)
}

const USAGE: &str = "usage: labctl scale deployment/NAME --replicas=N";

fn scalable(resource: Resource) -> Option<WorkloadKind> {
    match resource {
        Resource::Workload(kind @ (WorkloadKind::Deployment | WorkloadKind::StatefulSet)) => Some(kind),
        _ => None,
    }
}
