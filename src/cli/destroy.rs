use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::lab::destroy::{self, Destroyed, WithoutState};
use crate::lab::select;
use crate::store::{self, Store};

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
        let name = select::name_in_topology(file)?;
        store::check_lab_name(&name).with_context(|| format!("{}: `name:`", file.display()))?;
        vec![name]
    } else {
        vec![select::selected_name(&store, args.name.as_deref())?]
    };
    let mut failed = false;
    for lab in labs {
        let (without_state, errors) = match destroy::destroy(&store, &lab)? {
            Destroyed::NotRunning => {
                eprintln!("lab {lab:?} is not running: nothing to destroy");
                continue;
            }
            Destroyed::Removed { without_state, errors } => (without_state, errors),
        };
        match without_state {
            Some(WithoutState::Unreadable(e)) => {
                eprintln!("warning: lab {lab}: {e:#}; removing what its name identifies")
            }
            Some(WithoutState::Missing) => {
                eprintln!("warning: lab {lab} has no state; removing what its name identifies")
            }
            None => {}
        }
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
