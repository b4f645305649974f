use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cluster::LabState;
use crate::spec::{self, Object};
use crate::store::Store;

use super::labs;

#[derive(clap::Args)]
pub struct Args {
    /// Lab (optional when exactly one runs)
    #[arg(long)]
    lab: Option<String>,
    /// Manifest file (multi-document YAML)
    #[arg(short = 'f', long = "filename", required = true)]
    file: PathBuf,
}

/// `labctl apply -f FILE`: create or change the file's objects in a running lab.
pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = labs::select(&store, args.lab.as_deref())?;
    let objects = load_manifests(&lab, &args.file)?;
    let now = crate::clock::now_rfc3339();
    let mut report = Vec::new();
    super::live::change_lab(&store, &lab.name, |state| {
        let (changes, lines) = crate::cluster::apply::apply(state, &objects, &now)?;
        report = lines;
        Ok(changes)
    })?;
    for line in report {
        println!("{line}");
    }
    Ok(0)
}

/// `labctl delete -f FILE`: remove the file's objects from a running lab.
pub fn delete(lab: Option<&str>, file: &Path) -> Result<i32> {
    let store = Store::open();
    let lab = labs::select(&store, lab)?;
    let objects = load_manifests(&lab, file)?;
    let mut report = Vec::new();
    super::live::change_lab(&store, &lab.name, |state| {
        let (changes, lines) = crate::cluster::apply::delete(state, &objects)?;
        report = lines;
        Ok(changes)
    })?;
    for line in report {
        println!("{line}");
    }
    Ok(0)
}

/// Reads a manifest file with the same parser and checks as a topology's
/// manifests, in the context of the running lab (its nodes, subnets, namespaces).
fn load_manifests(lab: &LabState, file: &Path) -> Result<Vec<Object>> {
    let absolute = std::fs::canonicalize(file).with_context(|| format!("read {}", file.display()))?;
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new(""));
    let read_dir = absolute.parent().unwrap_or(Path::new("/"));
    let name = absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let net = &lab.networking;
    let workers = lab
        .nodes
        .iter()
        .filter(|n| n.role == crate::cluster::state::Role::Worker)
        .count();
    let mut text = format!("name: {}\ncluster:\n  nodes:\n    - role: control-plane\n", lab.name);
    for _ in 0..workers {
        text.push_str("    - role: worker\n");
    }
    text.push_str(&format!(
        "  networking:\n    nodeSubnet: {}\n    podSubnet: {}\n    podBlockSize: {}\n    serviceSubnet: {}\n    dnsDomain: {}\nmanifests:\n  - {:?}\n",
        net.node_subnet, net.pod_subnet, net.pod_block_size, net.service_subnet, net.dns_domain, name
    ));
    let label = dir.join("<labctl apply>").display().to_string();
    let topo = spec::load_str_in(&label, &text, read_dir, &lab.namespaces)?;
    for w in &topo.warnings {
        eprintln!("{w}");
    }
    Ok(topo.objects)
}
