//! `labctl verify`: run every check of a lab (derived from its objects, then the
//! topology's own `checks:`), one line each, a summary line, exit code 1 on any failure.

use anyhow::{Context, Result};

use crate::store::Store;
use crate::verify::{self, CheckResult};

use super::args::LabArg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lab: LabArg,
    /// Also write the results as JUnit XML to this file (for CI)
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,
    /// Output format
    #[arg(short = 'o', long = "output", default_value = "text")]
    output: Format,
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = crate::lab::select::select_healthy(&store, args.lab.name())?;
    let checks = verify::derive(&lab);
    let text = args.output == Format::Text;
    let mut print = |r: &CheckResult| {
        if text {
            println!("{}", verify::text_line(r));
        }
    };
    let results = verify::run::run_all(&lab, &checks, &mut print);
    if let Some(path) = &args.junit {
        std::fs::write(path, verify::junit(&lab.name, &results))
            .with_context(|| format!("write {}", path.display()))?;
    }
    match args.output {
        Format::Text => println!("{}", verify::report::summary(&results)),
        Format::Json => println!("{}", verify::summary_json(&lab.name, &results)),
    }
    Ok(if results.iter().all(|r| r.passed) { 0 } else { 1 })
}
