//! Destroying a lab: every trace of it, found from its saved state and, as that
//! may be corrupt or half-written, from its name too.

use anyhow::Result;

use crate::cluster::{LabState, names};
use crate::kernel;
use crate::runtime;
use crate::store::{LabLock, Phase, Store};

/// What destroying a lab found and did.
pub enum Destroyed {
    /// No state, no namespace, no supervisor of that name: nothing to do.
    NotRunning,
    Removed {
        /// Why the lab's state could not be used, if it could not: what its name
        /// identifies was removed instead.
        without_state: Option<WithoutState>,
        /// Everything that could not be removed; empty when the lab is gone.
        errors: Vec<anyhow::Error>,
    },
}

/// Why a lab was destroyed by its name alone.
pub enum WithoutState {
    /// Its state could not be read.
    Unreadable(anyhow::Error),
    /// It had no state, but namespaces or a supervisor of its name remained.
    Missing,
}

/// Destroys lab `lab`, best effort (see `remove_lab`).
pub fn destroy(store: &Store, lab: &str) -> Result<Destroyed> {
    let (lock, state, without_state) = if store.exists(lab) {
        let lock = store.lock(lab)?;
        match store.load(lab) {
            Ok(state) => (lock, Some(state), None),
            Err(e) => (lock, None, Some(WithoutState::Unreadable(e))),
        }
    } else if has_traces(store, lab) {
        // No state, but namespaces or a supervisor of this name: claim the name
        // (as deploy does) and remove them.
        (store.create(lab)?, None, Some(WithoutState::Missing))
    } else {
        return Ok(Destroyed::NotRunning);
    };
    let _ = store.set_phase(lab, Phase::Destroying, &lock);
    let errors = remove_lab(store, lab, lock, state.as_ref());
    Ok(Destroyed::Removed { without_state, errors })
}

/// Best-effort removal of everything a lab owns: its supervisor, every process in
/// its namespaces, the namespaces (which takes their veths and routes with them),
/// their /etc/netns entries and its state. What it owns is known from the saved
/// state and, as that may be corrupt or half-written, from the lab's name too.
/// Every error is collected; nothing stops the rest.
pub fn remove_lab(store: &Store, lab: &str, lock: LabLock, state: Option<&LabState>) -> Vec<anyhow::Error> {
    let mut errors = Vec::new();
    if let Err(e) = runtime::supervisor::stop(store, lab) {
        errors.push(e);
    }
    let mut names = lab_netns(store, lab, state);
    names.reverse();
    kernel::procs::kill_all_in(&names);
    errors.extend(kernel::teardown::teardown(&names));
    // The pods' /etc/netns/<name>/ entries are gone; drop the parent too once empty
    // (remove_dir refuses a non-empty directory, e.g. another lab's).
    let _ = std::fs::remove_dir(kernel::netns::ETC_DIR);
    if let Err(e) = store.remove(lab, lock) {
        errors.push(e);
    }
    errors
}

fn has_traces(store: &Store, lab: &str) -> bool {
    !lab_netns(store, lab, None).is_empty() || !kernel::procs::supervisors_of(lab).is_empty()
}

/// The namespaces of a lab: those its state lists, and every name under /run/netns
/// or /etc/netns that only this lab makes (`names::is_lab_netns`) and no other
/// lab's state lists.
fn lab_netns(store: &Store, lab: &str, state: Option<&LabState>) -> Vec<String> {
    let mut names = state.map(LabState::all_netns).unwrap_or_default();
    let others: Vec<String> = store
        .list()
        .iter()
        .filter(|other| *other != lab)
        .filter_map(|other| store.load(other).ok())
        .flat_map(|other| other.all_netns())
        .collect();
    let mut found = kernel::netns::list();
    found.extend(kernel::netns::list_etc());
    found.sort();
    found.dedup();
    for ns in found {
        if names::is_lab_netns(lab, &ns) && !names.contains(&ns) && !others.contains(&ns) {
            names.push(ns);
        }
    }
    names
}
