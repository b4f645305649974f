use anyhow::Result;

use crate::cluster::LabState;
use crate::output::inspect::{self as printer, InspectFormat};
use crate::store::Store;

use super::labs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Only this lab (default: every running lab)
    #[arg(long)]
    lab: Option<String>,
    /// Only the lab this topology file describes (as `containerlab inspect -t`)
    #[arg(short = 't', long = "topo", conflicts_with = "lab")]
    topo: Option<std::path::PathBuf>,
    /// Every running lab (the default; accepted for containerlab compatibility)
    #[arg(short = 'a', long, conflicts_with_all = ["lab", "topo"])]
    all: bool,
    /// Output format
    #[arg(short = 'f', long = "format", default_value = "table")]
    format: Format,
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = match &args.topo {
        Some(file) => Some(crate::lab::select::name_in_topology(file)?),
        None => args.lab.clone(),
    };
    let labs: Vec<LabState> = match &lab {
        Some(name) => vec![labs::load(&store, name)?],
        None => store.list().iter().filter_map(|l| labs::load(&store, l).ok()).collect(),
    };
    if labs.is_empty() && args.format == Format::Table {
        eprintln!("no lab is running");
        return Ok(0);
    }
    print!("{}", render(&labs, args.format));
    Ok(0)
}

pub fn render(labs: &[LabState], format: Format) -> String {
    printer::render(
        labs,
        match format {
            Format::Table => InspectFormat::Table,
            Format::Json => InspectFormat::Json,
        },
    )
}
