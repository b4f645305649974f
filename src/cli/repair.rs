use anyhow::Result;

use crate::lab::repair::{self, Repaired};
use crate::lab::select;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// Lab name (optional when exactly one runs)
    lab: Option<String>,
}

/// Restarts a degraded lab's supervisor without rebuilding it (`lab::repair`).
pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = select::selected_name(&store, args.lab.as_deref())?;
    match repair::repair(&store, &lab)? {
        Repaired::Healthy { supervisor } => println!("lab {lab} is healthy (supervisor pid {supervisor})"),
        Repaired::Restarted {
            supervisor,
            orphans_killed,
        } => {
            if orphans_killed > 0 {
                println!("lab {lab}: killed {orphans_killed} processes left in its pods");
            }
            println!("lab {lab}: supervisor restarted (pid {supervisor})");
        }
    }
    Ok(0)
}
