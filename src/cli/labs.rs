//! Which lab a command means, one rule for every command: `--lab NAME`, else
//! `LABCTL_LAB`, else the only lab there is, else an error listing the labs. And a
//! lab as the read commands show it.

use anyhow::{Context, Result, bail};

use crate::cluster::state::PodPhase;
use crate::cluster::{LabState, endpoints};
use crate::runtime::supervisor;
use crate::store::{self, Store};

/// The variable that names the current lab when a command has no `--lab`.
pub const LAB_ENV: &str = "LABCTL_LAB";

/// The name of the lab a command means (checked by the lab name rule; the lab need
/// not exist).
pub fn selected_name(store: &Store, flag: Option<&str>) -> Result<String> {
    if let Some(name) = flag {
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

/// The selected lab, as the read commands show it (see `load`).
pub fn select(store: &Store, flag: Option<&str>) -> Result<LabState> {
    load(store, &selected_name(store, flag)?)
}

/// The selected lab, which must be whole: for commands that act on its pods and
/// DNS, which are down while its supervisor is.
pub fn select_healthy(store: &Store, flag: Option<&str>) -> Result<LabState> {
    let name = selected_name(store, flag)?;
    if store.exists(&name) && supervisor::running(store, &name).is_none() {
        bail!("lab {name} is degraded (its supervisor is not running): run `labctl repair {name}` first");
    }
    load(store, &name)
}

/// A running lab's state as users see it. Its pods' status is what the supervisor
/// last reported; with the supervisor gone nobody reports any more, so every pod
/// shows what Kubernetes shows for pods of a node that stopped reporting: not
/// Ready, status Unknown (and no ready endpoints).
pub fn load(store: &Store, name: &str) -> Result<LabState> {
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
    if supervisor::running(store, name).is_none() {
        eprintln!(
            "warning: lab {name} is degraded: its supervisor is not running, so pods and DNS are down; run `labctl repair {name}`"
        );
        mark_unknown(&mut state);
    }
    Ok(state)
}

fn mark_unknown(state: &mut LabState) {
    for pod in &mut state.pods {
        pod.ready = false;
        pod.phase = PodPhase::Unknown;
    }
    endpoints::refresh(state);
}
