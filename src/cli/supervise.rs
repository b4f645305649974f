use anyhow::Result;

use crate::runtime::services::{ClusterDns, KubeProxy};
use crate::runtime::supervisor::{self, LabService};
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// Lab name
    lab: String,
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let mut services: Vec<Box<dyn LabService>> = vec![Box::new(KubeProxy::new()), Box::new(ClusterDns::new())];
    supervisor::run(&store, &args.lab, &mut services)?;
    Ok(0)
}
