//! Changing a running lab: the state under the lab's lock, and the kernel made to
//! match (removed pods' namespaces gone, added pods wired), before the state is
//! saved for the supervisor to act on.

use anyhow::Result;

use crate::cluster::LabState;
use crate::cluster::endpoints;
use crate::cluster::live::PodChanges;
use crate::cluster::netplan;
use crate::kernel;
use crate::store::Store;

pub fn change_lab(
    store: &Store,
    lab: &str,
    change: impl FnOnce(&mut LabState) -> Result<PodChanges>,
) -> Result<(LabState, PodChanges)> {
    if !store.exists(lab) {
        anyhow::bail!("lab {lab:?} is not running");
    }
    let lock = store.lock(lab)?;
    let mut state = store.load(lab)?;
    let changes = change(&mut state)?;
    remove_pods(&state, &changes)?;
    let added: Vec<_> = changes.added.iter().collect();
    if !added.is_empty()
        && let Err(e) = kernel::apply::apply(&netplan::added_pods(&state, &added))
    {
        // The new pods go again: veths first (a namespace's veths outlive it
        // briefly, and a retry reuses their names), then their namespaces.
        let netns: Vec<String> = added.iter().map(|p| p.netns.clone()).collect();
        let unwired = PodChanges {
            added: Vec::new(),
            removed: added.iter().map(|p| (*p).clone()).collect(),
        };
        let _ = remove_pods(&state, &unwired);
        // The removed pods are gone from the kernel already: save that, without the
        // pods that could not be wired, so that state and kernel agree.
        state.pods.retain(|p| !netns.contains(&p.netns));
        endpoints::refresh(&mut state);
        store.save(&state, &lock)?;
        return Err(e);
    }
    endpoints::refresh(&mut state);
    store.save(&state, &lock)?;
    Ok((state, changes))
}

/// A removed pod's processes are killed, its node-side veth deleted (a pod that
/// comes back under the same name needs that name again) and its netns removed.
fn remove_pods(state: &LabState, changes: &PodChanges) -> Result<()> {
    let netns: Vec<String> = changes.removed.iter().map(|p| p.netns.clone()).collect();
    kernel::procs::kill_all_in(&netns);
    let mut by_node: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for p in &changes.removed {
        by_node.entry(p.node.as_str()).or_default().push(p.host_veth.clone());
    }
    for (node, veths) in by_node {
        if let Some(node) = state.node(node) {
            kernel::links::delete_in(&node.netns, &veths)?;
        }
    }
    let errors = kernel::teardown::teardown(&netns);
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    Ok(())
}
