use anyhow::{Result, bail};

use crate::cluster::state::WorkloadKind;
use crate::store::Store;

use super::args::{LabArg, NamespaceArg};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lab: LabArg,
    #[command(flatten)]
    namespace: NamespaceArg,
    /// New number of replicas
    #[arg(long)]
    replicas: u32,
    /// deployment/NAME or statefulset/NAME (or TYPE NAME)
    resource: String,
    name: Option<String>,
}

pub fn run(args: Args) -> Result<i32> {
    let (kind_word, name) = match (args.resource.split_once('/'), &args.name) {
        (Some((k, n)), None) => (k.to_string(), n.to_string()),
        (None, Some(n)) => (args.resource.clone(), n.clone()),
        _ => bail!("usage: labctl scale deployment/NAME --replicas=N"),
    };
    let kind = match kind_word.to_ascii_lowercase().as_str() {
        "deploy" | "deployment" | "deployments" => WorkloadKind::Deployment,
        "sts" | "statefulset" | "statefulsets" => WorkloadKind::StatefulSet,
        other => bail!("labctl scales deployments and statefulsets, not {other:?}"),
    };
    let store = Store::open();
    let lab = args.lab.select(&store)?.name;
    crate::lab::live::scale(&store, &lab, kind, args.namespace.name(), &name, args.replicas)?;
    let noun = if kind == WorkloadKind::Deployment {
        "deployment.apps"
    } else {
        "statefulset.apps"
    };
    println!("{noun}/{name} scaled");
    Ok(0)
}
