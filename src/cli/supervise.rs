use anyhow::Result;

use crate::runtime::supervisor;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// Lab name
    lab: String,
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    supervisor::run(&store, &args.lab, |_state| {})?;
    Ok(0)
}
