use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cluster::{LabState, names};
use crate::kernel;
use crate::runtime;
use crate::store::{self, LabLock, Phase, Store};

use super::labs;

#[derive(clap::Args)]
pub struct Args {
    /// Lab name (optional when exactly one lab runs)
    name: Option<String>,
    /// Destroy the lab a topology file describes
    #[arg(short = 't', long = "topo", conflicts_with = "name")]
    topo: Option<PathBuf>,
    /// Destroy every running lab
    #[arg(short = 'a', long, conflicts_with_all = ["name", "topo"])]
    all: bool,
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let labs = if args.all {
        store.list()
    } else if let Some(file) = &args.topo {
        let name = lab_name_of(file)?;
        store::check_lab_name(&name).with_context(|| format!("{}: `name:`", file.display()))?;
        vec![name]
    } else {
        vec![labs::selected_name(&store, args.name.as_deref())?]
    };
    let mut failed = false;
    for lab in labs {
        let (lock, state) = if store.exists(&lab) {
            let lock = store.lock(&lab)?;
            let state = store.load(&lab);
            if let Err(e) = &state {
                eprintln!("warning: lab {lab}: {e:#}; removing what its name identifies");
            }
            (lock, state.ok())
        } else if has_traces(&store, &lab) {
            // No state, but namespaces or a supervisor of this name: claim the name
            // (as deploy does) and remove them.
            eprintln!("warning: lab {lab} has no state; removing what its name identifies");
            (store.create(&lab)?, None)
        } else {
            eprintln!("lab {lab:?} is not running: nothing to destroy");
            continue;
        };
        let _ = store.set_phase(&lab, Phase::Destroying, &lock);
        let errors = remove_lab(&store, &lab, lock, state.as_ref());
        if errors.is_empty() {
            eprintln!("Destroyed lab {lab}");
        } else {
            failed = true;
            for e in &errors {
                eprintln!("error: lab {lab}: {e:#}");
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
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

/// The lab a topology file names; falls back to its `name:` line when the file no
/// longer parses, so a broken edit never blocks destroy.
pub(super) fn lab_name_of(file: &std::path::Path) -> Result<String> {
    match crate::spec::load(file) {
        Ok(topo) => Ok(topo.name.value),
        Err(parse_error) => {
            let text = crate::spec::read_source(file).map_err(|_| anyhow::anyhow!("{parse_error}"))?;
            text.lines()
                .find_map(|l| l.strip_prefix("name:"))
                .map(|n| {
                    n.split('#')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches(['"', '\''])
                        .to_string()
                })
                .filter(|n| !n.is_empty())
                .ok_or_else(|| anyhow::anyhow!("{parse_error}"))
        }
    }
}
