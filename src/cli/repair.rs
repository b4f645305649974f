use anyhow::Result;

use crate::runtime::supervisor;
use crate::store::Store;

use super::labs;

#[derive(clap::Args)]
pub struct Args {
    /// Lab name (optional when exactly one runs)
    lab: Option<String>,
}

/// Restarts a degraded lab's supervisor (its containers and DNS) without
/// rebuilding the namespaces.
pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = labs::select(&store, args.lab.as_deref())?.name;
    if let Some(pid) = supervisor::running(&store, &lab) {
        println!("lab {lab} is healthy (supervisor pid {pid})");
        return Ok(0);
    }
    let _lock = store.lock(&lab)?;
    let pid = supervisor::spawn(&store, &lab)?;
    println!("lab {lab}: supervisor restarted (pid {pid})");
    Ok(0)
}

/// The warning every read command prints for a lab whose supervisor is gone.
pub fn warn_if_degraded(store: &Store, lab: &str) {
    if store.exists(lab) && supervisor::running(store, lab).is_none() {
        eprintln!(
            "warning: lab {lab} is degraded: its supervisor is not running, so pods and DNS are down; run `labctl repair {lab}`"
        );
    }
}
