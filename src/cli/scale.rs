use anyhow::{Result, bail};

use crate::cluster::state::WorkloadKind;
use crate::store::Store;

use super::labs;

#[derive(clap::Args)]
pub struct Args {
    /// Lab (optional when exactly one runs)
    #[arg(long)]
    lab: Option<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    namespace: String,
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
    let lab = labs::select(&store, args.lab.as_deref())?.name;
    crate::lab::live::scale(&store, &lab, kind, &args.namespace, &name, args.replicas)?;
    let noun = if kind == WorkloadKind::Deployment {
        "deployment.apps"
    } else {
        "statefulset.apps"
    };
    println!("{noun}/{name} scaled");
    Ok(0)
}
