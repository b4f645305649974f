//! Deploying a lab as one transaction: everything it creates is rolled back when
//! a step fails, so a failed deploy leaves nothing behind.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cluster::{self, LabState};
use crate::kernel;
use crate::kernel::plan::NetPlan;
use crate::runtime;
use crate::spec::Topology;
use crate::store::{Phase, Store};

use super::destroy;

/// A topology resolved into the lab it describes and the kernel objects it needs;
/// nothing is touched yet.
pub struct Planned {
    pub state: LabState,
    pub plan: NetPlan,
}

/// Resolves and plans a loaded topology (read from `path`): everything deploy
/// does before it touches the kernel.
pub fn plan(topo: &Topology, path: &Path) -> Result<Planned> {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let state = cluster::resolve(topo, &absolute.to_string_lossy(), crate::clock::now())?;
    let plan = cluster::netplan::plan(&state);
    Ok(Planned { state, plan })
}

/// How far a deploy has come, for a front end to show.
pub enum Step<'a> {
    /// The lab's name is claimed; its namespaces are about to be made.
    Creating {
        lab: &'a str,
        nodes: usize,
        pods: usize,
        namespaces: usize,
        veth_pairs: usize,
    },
    /// Namespaces, links and rules are in place; the supervisor starts the pods.
    NetworkReady { lab: &'a str, pods: usize },
    /// Every pod is Ready.
    Ready { lab: &'a str },
}

/// A deployed lab: its state, and the pods still not Ready when the wait ran out.
pub struct Deployed {
    pub state: LabState,
    pub not_ready: Vec<String>,
}

/// Builds a planned lab, then waits up to `wait` for its pods to be Ready (zero:
/// no waiting). A lab that fails to build is rolled back; one whose pods are not
/// all Ready in time is left running.
pub fn deploy(store: &Store, planned: Planned, wait: Duration, progress: &mut dyn FnMut(Step)) -> Result<Deployed> {
    let Planned { state, plan } = planned;
    refuse_if_taken(store, &state, &plan)?;
    let lock = store.create(&state.name)?;
    store.save(&state, &lock)?;
    store.set_phase(&state.name, Phase::Deploying, &lock)?;
    progress(Step::Creating {
        lab: &state.name,
        nodes: state.nodes.len(),
        pods: state.pods.len(),
        namespaces: plan.namespaces.len(),
        veth_pairs: plan.namespaces.iter().map(|n| n.veths.len()).sum(),
    });
    if let Err(e) = build(store, &state, &plan) {
        let leftovers = destroy::remove_lab(store, &state.name, lock, Some(&state));
        let mut msg = format!(
            "deploy of lab {} failed: {e:#}\nrolled back: every namespace this deploy created was removed",
            state.name
        );
        for l in leftovers {
            msg.push_str(&format!("\nrollback error: {l:#}"));
        }
        bail!(msg);
    }
    store.set_phase(&state.name, Phase::Running, &lock)?;
    drop(lock);
    progress(Step::NetworkReady {
        lab: &state.name,
        pods: state.pods.len(),
    });
    let (state, not_ready) = wait_for_pods(store, &state.name, wait)?;
    if not_ready.is_empty() {
        progress(Step::Ready { lab: &state.name });
    }
    Ok(Deployed { state, not_ready })
}

/// Everything deploy creates, in order; on error the caller rolls all of it back.
fn build(store: &Store, state: &LabState, plan: &NetPlan) -> Result<()> {
    kernel::apply::apply(plan)?;
    crate::proxy::sync::sync_lab(state, &crate::proxy::NodeRules::render(state))?;
    runtime::supervisor::spawn(store, &state.name)?;
    Ok(())
}

/// Waits until the supervisor reports every pod Ready (what `kubectl wait
/// --for=condition=Ready pods --all` does); returns the state and the pods that are
/// still not Ready when `timeout` runs out (none when it is zero: no waiting).
fn wait_for_pods(store: &Store, lab: &str, timeout: Duration) -> Result<(LabState, Vec<String>)> {
    let deadline = Instant::now() + timeout;
    loop {
        let state = store.load(lab)?;
        if timeout.is_zero() {
            return Ok((state, Vec::new()));
        }
        let waiting: Vec<String> = state
            .pods
            .iter()
            .filter(|p| !p.ready)
            .map(|p| format!("{}/{} ({})", p.namespace, p.name, p.phase))
            .collect();
        if waiting.is_empty() || Instant::now() >= deadline {
            return Ok((state, waiting));
        }
        if runtime::supervisor::running(store, lab).is_none() {
            bail!(
                "the supervisor of lab {lab} stopped; see {}/supervisor.log",
                store.lab_dir(lab)?.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A lab name runs once; a netns name that exists already belongs to someone else.
fn refuse_if_taken(store: &Store, state: &LabState, plan: &NetPlan) -> Result<()> {
    if store.exists(&state.name) {
        let from = store
            .load(&state.name)
            .map(|s| format!(" (deployed from {} at {})", s.topology_file, s.created))
            .unwrap_or_default();
        bail!(
            "lab {name:?} is already running{from}\n  hint: destroy it first with `labctl destroy {name}`, or give this topology another `name:`",
            name = state.name
        );
    }
    if let Some(ns) = plan.namespaces.iter().find(|n| kernel::netns::exists(&n.name)) {
        bail!(
            "network namespace {:?} already exists and was not made by a running lab\n  hint: remove it (`ip netns delete {}`) or rename the lab",
            ns.name,
            ns.name
        );
    }
    Ok(())
}
