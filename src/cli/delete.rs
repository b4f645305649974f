use anyhow::{Result, bail};

use crate::cluster::live;
use crate::store::Store;

use super::labs;

#[derive(clap::Args)]
pub struct Args {
    /// Lab (optional when exactly one runs)
    #[arg(long)]
    lab: Option<String>,
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    namespace: String,
    /// Delete the objects of this manifest file
    #[arg(short = 'f', long = "filename", conflicts_with = "resource")]
    file: Option<std::path::PathBuf>,
    /// pod (or pod/NAME)
    #[arg(required_unless_present = "file")]
    resource: Option<String>,
    names: Vec<String>,
}

pub fn run(args: Args) -> Result<i32> {
    if let Some(file) = &args.file {
        return super::apply::delete(args.lab.as_deref(), file);
    }
    let resource = args.resource.clone().unwrap_or_default();
    let (kind, mut names) = match resource.split_once('/') {
        Some((k, n)) => (k.to_string(), vec![n.to_string()]),
        None => (resource.clone(), Vec::new()),
    };
    names.extend(args.names.iter().cloned());
    if !matches!(kind.to_ascii_lowercase().as_str(), "po" | "pod" | "pods") {
        bail!("labctl deletes pods (`labctl delete pod NAME`), not {kind:?}");
    }
    if names.is_empty() {
        bail!("resource(s) were provided, but no name was specified");
    }
    let store = Store::open();
    let lab = labs::select(&store, args.lab.as_deref())?.name;
    let now = crate::clock::now_rfc3339();
    for name in names {
        super::live::change_lab(&store, &lab, |state| {
            live::delete_pod(state, &args.namespace, &name, &now)
        })?;
        println!("pod \"{name}\" deleted");
    }
    Ok(0)
}
