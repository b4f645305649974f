//! Applying kube-proxy's rules to the nodes of a lab: a full sync at deploy time and
//! an incremental update between two lab states (when endpoints change). The rules
//! are the same on every node (no `Local` traffic policies); nodes are programmed
//! in parallel, one thread each.

use anyhow::{Result, anyhow};

use super::plan::{self, CHAINS_PER_BATCH, Existing};
use super::rules::NodeRules;
use crate::cluster::LabState;
use crate::kernel::iptables::{self, Iptables};

/// What a sync did on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// iptables-restore transactions run.
    pub restores: usize,
}

/// Full sync of one node's netns (kube-proxy's full sync): every kube-proxy chain
/// rewritten, stale service chains deleted, jump rules ensured.
pub fn full_sync_node(netns: &str, rules: &NodeRules) -> Result<SyncStats> {
    full_sync_node_with(iptables::DEFAULT, netns, rules, CHAINS_PER_BATCH)
}

pub fn full_sync_node_with(
    bin: Iptables,
    netns: &str,
    rules: &NodeRules,
    chains_per_batch: usize,
) -> Result<SyncStats> {
    let filter = Existing::parse(&iptables::save_with(bin, netns, "filter")?);
    let nat = Existing::parse(&iptables::save_with(bin, netns, "nat")?);
    let inputs = plan::full_sync(rules, &filter, &nat, chains_per_batch);
    for input in &inputs {
        iptables::restore_with(bin, netns, input)?;
    }
    Ok(SyncStats { restores: inputs.len() })
}

/// Incremental update of one node from the rules it has (`old`) to `new`; returns
/// once the kernel has committed it.
pub fn update_node(netns: &str, old: &NodeRules, new: &NodeRules) -> Result<SyncStats> {
    match plan::update(old, new) {
        None => Ok(SyncStats::default()),
        Some(input) => {
            iptables::restore_committed(netns, &input)?;
            Ok(SyncStats { restores: 1 })
        }
    }
}

fn on_every_node<F>(state: &LabState, f: F) -> Result<()>
where
    F: Fn(&str) -> Result<SyncStats> + Sync,
{
    let errors: Vec<anyhow::Error> = std::thread::scope(|scope| {
        let handles: Vec<_> = state
            .nodes
            .iter()
            .map(|n| {
                let f = &f;
                scope.spawn(move || f(&n.netns).map_err(|e| e.context(format!("kube-proxy rules on node {}", n.name))))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| match h.join() {
                Ok(r) => r.err(),
                Err(_) => Some(anyhow!("kube-proxy sync thread panicked")),
            })
            .collect()
    });
    match errors.into_iter().reduce(|a, b| a.context(format!("{b:#}"))) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Programs `rules` (`NodeRules::render(state)`) into every node of the lab (full sync).
pub fn sync_lab(state: &LabState, rules: &NodeRules) -> Result<()> {
    on_every_node(state, |netns| full_sync_node(netns, rules))
}

/// Brings every node of the lab from the rules it has (`old`) to `new`, touching
/// only what changed; identical rules ⇒ no iptables call at all. The caller keeps
/// the rules it applied, so that each state is rendered once.
pub fn update_lab(state: &LabState, old: &NodeRules, new: &NodeRules) -> Result<()> {
    if old == new {
        return Ok(());
    }
    on_every_node(state, |netns| update_node(netns, old, new))
}
