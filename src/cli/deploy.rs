use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::lab::deploy::{self, Step};
use crate::store::Store;

use super::inspect;

#[derive(clap::Args)]
pub struct Args {
    /// Topology file
    #[arg(value_name = "TOPOLOGY")]
    topology: Option<PathBuf>,
    /// Topology file (containerlab's spelling)
    #[arg(short = 't', long = "topo", conflicts_with = "topology")]
    topo: Option<PathBuf>,
    /// Seconds to wait for every pod to be Ready (0: don't wait)
    #[arg(long, default_value_t = 120)]
    wait: u64,
    /// Output: table (progress + summary) or json (quiet; the inspect JSON)
    #[arg(short = 'o', long = "output", default_value = "table")]
    output: inspect::Format,
}

pub fn run(args: Args) -> Result<i32> {
    let Some(path) = args.topology.or(args.topo) else {
        bail!("no topology file given; usage: labctl deploy TOPOLOGY");
    };
    let quiet = args.output == inspect::Format::Json;
    let started = Instant::now();
    let progress = |msg: String| {
        if !quiet {
            eprintln!("{} INFO {msg}", crate::clock::now().strftime("%H:%M:%S"));
        }
    };
    progress(format!("Parsing {}", path.display()));
    let planned = super::validate::load_and_plan(&path)?;
    let mut report = |step: Step| {
        let elapsed = started.elapsed().as_secs_f64();
        progress(match step {
            Step::Creating {
                lab,
                nodes,
                pods,
                namespaces,
                veth_pairs,
            } => format!(
                "Creating lab {lab}: {nodes} nodes, {pods} pods, {namespaces} network namespaces, {veth_pairs} veth pairs"
            ),
            Step::NetworkReady { lab, pods } => {
                format!("Lab {lab} network ready in {elapsed:.2}s; starting {pods} pods")
            }
            Step::Ready { lab } => format!("Lab {lab} ready in {elapsed:.2}s"),
        })
    };
    let deployed = deploy::deploy(&Store::open(), planned, Duration::from_secs(args.wait), &mut report)?;
    let lab = deployed.state.name.clone();
    print!("{}", inspect::render(&[deployed.state], args.output));
    if !deployed.not_ready.is_empty() {
        bail!(
            "lab {lab}: {} pods not Ready after {}s: {}\n  the lab is left running so that you can look (`labctl describe pod NAME --lab {lab}`, `labctl logs NAME --lab {lab}`); remove it with `labctl destroy {lab}`",
            deployed.not_ready.len(),
            args.wait,
            deployed.not_ready.join(", "),
        );
    }
    Ok(0)
}
