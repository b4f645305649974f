use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cluster::LabState;
use crate::kernel;
use crate::kernel::plan::NetPlan;
use crate::runtime;
use crate::store::{Phase, Store};

use super::inspect;
use crate::lab::destroy;

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
    let progress = |msg: String| {
        if !quiet {
            eprintln!("{} INFO {msg}", &crate::clock::now_rfc3339()[11..19]);
        }
    };
    let started = Instant::now();
    progress(format!("Parsing {}", path.display()));
    let (state, plan) = super::validate::load_and_plan(&path)?;
    let store = Store::open();
    refuse_if_taken(&store, &state, &plan)?;
    let lock = store.create(&state.name)?;
    store.save(&state, &lock)?;
    store.set_phase(&state.name, Phase::Deploying, &lock)?;
    progress(format!(
        "Creating lab {}: {} nodes, {} pods, {} network namespaces, {} veth pairs",
        state.name,
        state.nodes.len(),
        state.pods.len(),
        plan.namespaces.len(),
        plan.namespaces.iter().map(|n| n.veths.len()).sum::<usize>()
    ));
    if let Err(e) = build(&store, &state, &plan) {
        let leftovers = destroy::remove_lab(&store, &state.name, lock, Some(&state));
        let mut msg = format!(
            "deploy of lab {} failed: {e:#}\nrolled back: every namespace this deploy created was removed",
            state.name
        );
        for l in leftovers {
            msg.push_str(&format!("\nrollback error: {l:#}"));
        }
        bail!(msg);
    }
    store.set_phase(&state.name, Phase::Running, &lock)?;
    drop(lock);
    progress(format!(
        "Lab {} network ready in {:.2}s; starting {} pods",
        state.name,
        started.elapsed().as_secs_f64(),
        state.pods.len()
    ));
    let (state, not_ready) = wait_for_pods(&store, &state.name, Duration::from_secs(args.wait))?;
    if not_ready.is_empty() {
        progress(format!(
            "Lab {} ready in {:.2}s",
            state.name,
            started.elapsed().as_secs_f64()
        ));
    }
    let lab = state.name.clone();
    print!("{}", inspect::render(&[state], args.output));
    if !not_ready.is_empty() {
        bail!(
            "lab {lab}: {} pods not Ready after {}s: {}\n  the lab is left running so that you can look (`labctl describe pod NAME --lab {lab}`, `labctl logs NAME --lab {lab}`); remove it with `labctl destroy {lab}`",
            not_ready.len(),
            args.wait,
            not_ready.join(", "),
        );
    }
    Ok(0)
}

/// Everything deploy creates, in order; on error the caller rolls all of it back.
fn build(store: &Store, state: &LabState, plan: &NetPlan) -> Result<()> {
    kernel::apply::apply(plan)?;
    crate::proxy::sync::sync_lab(state, &crate::proxy::NodeRules::render(state))?;
    runtime::supervisor::spawn(store, &state.name)?;
    Ok(())
}

/// Waits until the supervisor reports every pod Ready (what `kubectl wait
/// --for=condition=Ready pods --all` does); returns the state and the pods that are
/// still not Ready when `timeout` runs out (none when it is zero: no waiting).
fn wait_for_pods(store: &Store, lab: &str, timeout: Duration) -> Result<(LabState, Vec<String>)> {
    let deadline = Instant::now() + timeout;
    loop {
        let state = store.load(lab)?;
        if timeout.is_zero() {
            return Ok((state, Vec::new()));
        }
        let waiting: Vec<String> = state
            .pods
            .iter()
            .filter(|p| !p.ready)
            .map(|p| format!("{}/{} ({})", p.namespace, p.name, p.phase))
            .collect();
        if waiting.is_empty() || Instant::now() >= deadline {
            return Ok((state, waiting));
        }
        if runtime::supervisor::running(store, lab).is_none() {
            bail!(
                "the supervisor of lab {lab} stopped; see {}/supervisor.log",
                store.lab_dir(lab)?.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A lab name runs once; a netns name that exists already belongs to someone else.
fn refuse_if_taken(store: &Store, state: &LabState, plan: &NetPlan) -> Result<()> {
    if store.exists(&state.name) {
        let from = store
            .load(&state.name)
            .map(|s| format!(" (deployed from {} at {})", s.topology_file, s.created))
            .unwrap_or_default();
        bail!(
            "lab {name:?} is already running{from}\n  hint: destroy it first with `labctl destroy {name}`, or give this topology another `name:`",
            name = state.name
        );
    }
    if let Some(ns) = plan.namespaces.iter().find(|n| kernel::netns::exists(&n.name)) {
        bail!(
            "network namespace {:?} already exists and was not made by a running lab\n  hint: remove it (`ip netns delete {}`) or rename the lab",
            ns.name,
            ns.name
        );
    }
    Ok(())
}
