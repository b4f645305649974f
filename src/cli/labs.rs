//! The lab a command means (`lab::select`), with the warning a degraded lab gets.

use anyhow::Result;

use crate::cluster::LabState;
use crate::lab::select::{self, Loaded};
use crate::store::Store;

/// The selected lab as the read commands show it (see `load`).
pub fn select(store: &Store, flag: Option<&str>) -> Result<LabState> {
    Ok(warn_if_degraded(select::select(store, flag)?))
}

/// A running lab's state as users see it (`lab::select::load`); a degraded lab
/// is shown with a warning on standard error.
pub fn load(store: &Store, name: &str) -> Result<LabState> {
    Ok(warn_if_degraded(select::load(store, name)?))
}

fn warn_if_degraded(loaded: Loaded) -> LabState {
    if loaded.degraded {
        let name = &loaded.state.name;
        eprintln!(
            "warning: lab {name} is degraded: its supervisor is not running, so pods and DNS are down; run `labctl repair {name}`"
        );
    }
    loaded.state
}
