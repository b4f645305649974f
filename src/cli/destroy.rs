use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::cluster::LabState;
use crate::kernel;
use crate::runtime;
use crate::store::{LabLock, Phase, Store};

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
        vec![lab_name_of(file)?]
    } else if let Some(name) = args.name {
        vec![name]
    } else {
        match store.list().as_slice() {
            [] => {
                eprintln!("no lab is running: nothing to destroy");
                return Ok(0);
            }
            [only] => vec![only.clone()],
            many => bail!(
                "{} labs are running ({}); name one, or use --all",
                many.len(),
                many.join(", ")
            ),
        }
    };
    let mut failed = false;
    for lab in labs {
        if !store.exists(&lab) {
            eprintln!("lab {lab:?} is not running: nothing to destroy");
            continue;
        }
        let lock = store.lock(&lab)?;
        let state = store.load(&lab);
        if let Err(e) = &state {
            eprintln!("warning: lab {lab}: {e:#}; removing what its name identifies");
        }
        let _ = store.set_phase(&lab, Phase::Destroying, &lock);
        let errors = remove_lab(&store, &lab, lock, state.as_ref().ok());
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

/// Best-effort removal of everything a lab owns: its namespaces (which takes their
/// veths and routes with them), their /etc/netns entries and its state. Every error
/// is collected; nothing stops the rest.
pub fn remove_lab(store: &Store, lab: &str, lock: LabLock, state: Option<&LabState>) -> Vec<anyhow::Error> {
    let mut errors = Vec::new();
    if let Err(e) = runtime::supervisor::stop(store, lab) {
        errors.push(e);
    }
    let mut names = state.map(LabState::all_netns).unwrap_or_default();
    // Pod and fabric namespaces carry the lab's name and a dot, which no other
    // lab's names can start with (lab names are DNS labels).
    let prefix = format!("{lab}.");
    for ns in kernel::netns::list() {
        if ns.starts_with(&prefix) && !names.contains(&ns) {
            names.push(ns);
        }
    }
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

/// The lab a topology file names; falls back to its `name:` line when the file no
/// longer parses, so a broken edit never blocks destroy.
fn lab_name_of(file: &std::path::Path) -> Result<String> {
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
