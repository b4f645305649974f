use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cluster::LabState;
use crate::cluster::apply::ObjectRef;
use crate::cluster::state::Role;
use crate::spec::{self, Object};
use crate::store::Store;

use super::labs;

#[derive(clap::Args)]
pub struct Args {
    /// Lab (optional when exactly one runs)
    #[arg(long)]
    lab: Option<String>,
    /// Manifest file (multi-document YAML); `-` reads standard input
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
        let refs: Vec<ObjectRef> = objects.iter().map(ObjectRef::of).collect();
        let (changes, lines) = crate::cluster::apply::delete(state, &refs)?;
        report = lines;
        Ok(changes)
    })?;
    for line in report {
        println!("{line}");
    }
    Ok(0)
}

/// Reads a manifest file (`-`: standard input) with the same parser and checks as a
/// topology's manifests, in the context of the running lab (its nodes, subnets,
/// namespaces).
fn load_manifests(lab: &LabState, file: &Path) -> Result<Vec<Object>> {
    let (label, text) = read_manifest(file)?;
    let loaded = spec::load_manifests(&label, &text, lab_context(lab, &label))?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    Ok(loaded.objects)
}

/// The file's name for messages and its text; `-` is standard input, as for kubectl.
/// Both are read as the topology loader reads files: bounded, regular files only.
fn read_manifest(file: &Path) -> Result<(String, String)> {
    let (label, text) = if file == Path::new("-") {
        ("<stdin>".to_string(), spec::read_stdin())
    } else {
        (file.display().to_string(), spec::read_source(file))
    };
    let text = text.map_err(|e| match e.hint() {
        Some(hint) => anyhow::anyhow!("cannot read {label}: {e}\n  hint: {hint}"),
        None => anyhow::anyhow!("cannot read {label}: {e}"),
    })?;
    Ok((label, text))
}

/// What the manifests are checked against: the running lab as a topology.
fn lab_context(lab: &LabState, file: &str) -> spec::Topology {
    let pos = spec::Pos {
        file: file.to_string(),
        line: 1,
        col: 1,
    };
    let at = |value| spec::At::new(value, pos.clone());
    let net = &lab.networking;
    spec::Topology {
        file: file.to_string(),
        name: at(lab.name.clone()),
        nodes: lab
            .nodes
            .iter()
            .map(|n| {
                spec::At::new(
                    match n.role {
                        Role::ControlPlane => spec::NodeRole::ControlPlane,
                        Role::Worker => spec::NodeRole::Worker,
                    },
                    pos.clone(),
                )
            })
            .collect(),
        networking: spec::Networking {
            node_subnet: spec::At::new(net.node_subnet, pos.clone()),
            pod_subnet: spec::At::new(net.pod_subnet, pos.clone()),
            pod_block_size: spec::At::new(net.pod_block_size, pos.clone()),
            service_subnet: spec::At::new(net.service_subnet, pos.clone()),
            dns_domain: spec::At::new(net.dns_domain.clone(), pos.clone()),
            dns_ttl: spec::At::new(net.dns_ttl, pos.clone()),
        },
        objects: Vec::new(),
        checks: Vec::new(),
        warnings: Vec::new(),
        existing_namespaces: lab.namespaces.clone(),
    }
}
