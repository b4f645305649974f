//! Which lab a command means: `--lab NAME`, or the only one running.

use anyhow::{Result, bail};

use crate::cluster::LabState;
use crate::store::Store;

pub fn select(store: &Store, lab: Option<&str>) -> Result<LabState> {
    match lab {
        Some(name) => load(store, name),
        None => {
            let labs = store.list();
            match labs.as_slice() {
                [] => bail!("no lab is running; deploy one with `labctl deploy TOPOLOGY`"),
                [only] => load(store, only),
                many => bail!(
                    "{} labs are running ({}); choose one with --lab NAME",
                    many.len(),
                    many.join(", ")
                ),
            }
        }
    }
}

pub fn load(store: &Store, name: &str) -> Result<LabState> {
    if !store.exists(name) {
        let running = store.list();
        let hint = if running.is_empty() {
            "no lab is running".to_string()
        } else {
            format!("running: {}", running.join(", "))
        };
        bail!("lab {name:?} is not running ({hint})");
    }
    super::repair::warn_if_degraded(store, name);
    store.load(name)
}
