//! `labctl graph`: draw a lab (nodes, the pods on them, the pods each service selects).

use anyhow::Result;

use crate::output::graph::{GraphFormat, render};
use crate::store::Store;

use super::args::LabArg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Dot,
    Mermaid,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lab: LabArg,
    /// Output format: Graphviz DOT (`| dot -Tsvg`) or a Mermaid flowchart (for Markdown)
    #[arg(short = 'o', long = "output", default_value = "dot")]
    output: Format,
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = args.lab.select(&store)?;
    let format = match args.output {
        Format::Dot => GraphFormat::Dot,
        Format::Mermaid => GraphFormat::Mermaid,
    };
    print!("{}", render(&lab, format));
    Ok(0)
}
