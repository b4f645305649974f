use std::path::PathBuf;

use anyhow::Result;

use crate::{cluster, kernel::plan::NetPlan};

#[derive(clap::Args)]
pub struct Args {
    /// Topology file
    topology: PathBuf,
}

/// Everything deploy does before it touches the kernel.
pub fn run(args: Args) -> Result<i32> {
    let (state, plan) = load_and_plan(&args.topology)?;
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
pub fn load_and_plan(path: &std::path::Path) -> Result<(cluster::LabState, NetPlan)> {
    let topo = crate::spec::load(path)?;
    for w in &topo.warnings {
        eprintln!("{w}");
    }
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let state = cluster::resolve(&topo, &absolute.to_string_lossy(), crate::clock::now())?;
    let plan = cluster::netplan::plan(&state);
    Ok((state, plan))
}
