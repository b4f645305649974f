//! Which lab a command means, one rule for every front end: a name given
//! (`--lab NAME`), else `LABCTL_LAB`, else the only lab there is, else an error
//! listing the labs. And a lab's state as users see it.

use anyhow::{Context, Result, bail};

use crate::cluster::state::PodPhase;
use crate::cluster::{LabState, endpoints};
use crate::runtime::supervisor;
use crate::store::{self, Store};

/// The variable that names the current lab when a command names none.
pub const LAB_ENV: &str = "LABCTL_LAB";

/// The name of the lab meant (checked by the lab name rule; the lab need not
/// exist).
pub fn selected_name(store: &Store, given: Option<&str>) -> Result<String> {
    if let Some(name) = given {
        store::check_lab_name(name)?;
        return Ok(name.to_string());
    }
    if let Some(name) = std::env::var_os(LAB_ENV) {
        let name = name
            .into_string()
            .map_err(|n| anyhow::anyhow!("{LAB_ENV}={n:?} is not a lab name"))?;
        store::check_lab_name(&name).with_context(|| format!("{LAB_ENV}={name:?}"))?;
        return Ok(name);
    }
    match store.list().as_slice() {
        [] => bail!("no lab is running; deploy one with `labctl deploy TOPOLOGY`"),
        [only] => Ok(only.clone()),
        many => bail!(
            "{} labs are running ({}); choose one with --lab NAME or {LAB_ENV}=NAME",
            many.len(),
            many.join(", ")
        ),
    }
}

/// A running lab's state as users see it, and whether it is degraded.
pub struct Loaded {
    pub state: LabState,
    /// Its supervisor is not running: pods and DNS are down, and every pod shows
    /// status Unknown.
    pub degraded: bool,
}

/// The selected lab (see `load`).
pub fn select(store: &Store, given: Option<&str>) -> Result<Loaded> {
    load(store, &selected_name(store, given)?)
}

/// The selected lab, which must be whole: for commands that act on its pods and
/// DNS, which are down while its supervisor is.
pub fn select_healthy(store: &Store, given: Option<&str>) -> Result<LabState> {
    let name = selected_name(store, given)?;
    if store.exists(&name) && supervisor::running(store, &name).is_none() {
        bail!("lab {name} is degraded (its supervisor is not running): run `labctl repair {name}` first");
    }
    Ok(load(store, &name)?.state)
}

/// A running lab's state as users see it. Its pods' status is what the supervisor
/// last reported; with the supervisor gone nobody reports any more, so every pod
/// shows what Kubernetes shows for pods of a node that stopped reporting: not
/// Ready, status Unknown (and no ready endpoints).
pub fn load(store: &Store, name: &str) -> Result<Loaded> {
    store::check_lab_name(name)?;
    if !store.exists(name) {
        let running = store.list();
        let hint = if running.is_empty() {
            "no lab is running".to_string()
        } else {
            format!("running: {}", running.join(", "))
        };
        bail!("lab {name:?} is not running ({hint})");
    }
    let mut state = store.load(name)?;
    let degraded = supervisor::running(store, name).is_none();
    if degraded {
        mark_unknown(&mut state);
    }
    Ok(Loaded { state, degraded })
}

fn mark_unknown(state: &mut LabState) {
    for pod in &mut state.pods {
        pod.ready = false;
        pod.phase = PodPhase::Unknown;
    }
    endpoints::refresh(state);
}

/// The lab a topology file names; falls back to its `name:` line when the file no
/// longer parses, so a broken edit never blocks destroy.
pub fn name_in_topology(file: &std::path::Path) -> Result<String> {
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
