use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::lab::deploy::{self, Planned};

#[derive(clap::Args)]
pub struct Args {
    /// Topology file
    topology: PathBuf,
}

/// Everything deploy does before it touches the kernel.
pub fn run(args: Args) -> Result<i32> {
    let Planned { state, plan } = load_and_plan(&args.topology)?;
    println!(
        "{}: ok: lab {} with {} nodes, {} pods, {} services, {} network namespaces",
        args.topology.display(),
        state.name,
        state.nodes.len(),
        state.pods.len(),
        state.services.len(),
        plan.namespaces.len()
    );
    Ok(0)
}

/// Parse, validate, resolve and plan a topology; prints warnings to stderr.
pub fn load_and_plan(path: &Path) -> Result<Planned> {
    let topo = crate::spec::load(path)?;
    for w in &topo.warnings {
        eprintln!("{w}");
    }
    deploy::plan(&topo, path)
}
