use anyhow::{Context, Result, bail};

use crate::kernel;
use crate::runtime::supervisor;
use crate::store::{Phase, Store};

#[derive(clap::Args)]
pub struct Args {
    /// Lab name (optional when exactly one runs)
    lab: Option<String>,
}

/// Restarts a degraded lab's supervisor (its containers and DNS) without
/// rebuilding the namespaces. A lab whose network is not whole (its deploy or
/// destroy was interrupted) is refused: only destroy and a new deploy rebuild it.
pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = crate::lab::select::selected_name(&store, args.lab.as_deref())?;
    if !store.exists(&lab) {
        bail!("lab {lab:?} is not running: nothing to repair");
    }
    // Waits for a deploy or change in progress; a killed one has released it.
    let _lock = store.lock(&lab)?;
    let rebuild = format!("destroy it with `labctl destroy {lab}` and deploy again");
    match store.phase(&lab) {
        Phase::Running => {}
        Phase::Deploying => bail!("lab {lab} was never fully deployed (its deploy was interrupted): {rebuild}"),
        Phase::Destroying => bail!("lab {lab} was being destroyed: finish with `labctl destroy {lab}`"),
    }
    let state = store
        .load(&lab)
        .with_context(|| format!("lab {lab} cannot be repaired: {rebuild}"))?;
    let missing: Vec<String> = state
        .all_netns()
        .into_iter()
        .filter(|ns| !kernel::netns::exists(ns))
        .collect();
    if !missing.is_empty() {
        bail!(
            "lab {lab} is missing {} of its network namespaces ({}): {rebuild}",
            missing.len(),
            missing.join(", ")
        );
    }
    if let Some(pid) = supervisor::running(&store, &lab) {
        println!("lab {lab} is healthy (supervisor pid {pid})");
        return Ok(0);
    }
    // Containers die with their supervisor, but not what they started: those
    // orphans still hold the pods' ports, and the restarted containers would fail
    // with "Address already in use". Users' shells in the nodes are left alone.
    let pod_netns: Vec<String> = state.pods.iter().map(|p| p.netns.clone()).collect();
    let orphans = kernel::procs::kill_all_in(&pod_netns);
    let pid = supervisor::spawn(&store, &lab)?;
    if orphans > 0 {
        println!("lab {lab}: killed {orphans} processes left in its pods");
    }
    println!("lab {lab}: supervisor restarted (pid {pid})");
    Ok(0)
}
