//! Repairing a degraded lab: its supervisor (containers and DNS) restarted
//! without rebuilding the namespaces. A lab whose network is not whole (its
//! deploy or destroy was interrupted) is refused: only destroy and a new deploy
//! rebuild it.

use anyhow::{Context, Result, bail};

use crate::kernel;
use crate::runtime::supervisor;
use crate::store::{Phase, Store};

/// What repair found and did.
pub enum Repaired {
    /// Nothing to do: the supervisor runs.
    Healthy { supervisor: u32 },
    /// The supervisor was restarted, after killing the processes left in the pods.
    Restarted { supervisor: u32, orphans_killed: usize },
}

pub fn repair(store: &Store, lab: &str) -> Result<Repaired> {
    if !store.exists(lab) {
        bail!("lab {lab:?} is not running: nothing to repair");
    }
    // Waits for a deploy or change in progress; a killed one has released it.
    let _lock = store.lock(lab)?;
    let rebuild = format!("destroy it with `labctl destroy {lab}` and deploy again");
    match store.phase(lab) {
        Phase::Running => {}
        Phase::Deploying => bail!("lab {lab} was never fully deployed (its deploy was interrupted): {rebuild}"),
        Phase::Destroying => bail!("lab {lab} was being destroyed: finish with `labctl destroy {lab}`"),
    }
    let state = store
        .load(lab)
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
    if let Some(pid) = supervisor::running(store, lab) {
        return Ok(Repaired::Healthy { supervisor: pid });
    }
    // Containers die with their supervisor, but not what they started: those
    // orphans still hold the pods' ports, and the restarted containers would fail
    // with "Address already in use". Users' shells in the nodes are left alone.
    let pod_netns: Vec<String> = state.pods.iter().map(|p| p.netns.clone()).collect();
    let orphans_killed = kernel::procs::kill_all_in(&pod_netns);
    let pid = supervisor::spawn(store, lab)?;
    Ok(Repaired::Restarted {
        supervisor: pid,
        orphans_killed,
    })
}
