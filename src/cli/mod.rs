//! The command line: one small module per verb (load → resolve → plan → apply → print).

mod apply;
mod args;
mod builtin;
mod delete;
mod deploy;
mod describe;
mod destroy;
mod exec;
mod get;
mod graph;
mod inspect;
mod jsonpath;
mod labs;
mod logs;
mod repair;
mod resource;
mod scale;
mod selector;
mod supervise;
mod validate;
mod verify;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "labctl",
    version,
    about = "Kubernetes-shaped network labs out of real Linux kernel parts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a lab from a topology file
    Deploy(deploy::Args),
    /// Remove a lab and every trace of it
    Destroy(destroy::Args),
    /// Show the running labs' nodes and pods (like containerlab inspect)
    Inspect(inspect::Args),
    /// Show objects of a lab (like kubectl get)
    Get(get::Args),
    /// Run a command inside a node or pod (like kubectl exec)
    Exec(exec::Args),
    /// Restart a degraded lab's supervisor without rebuilding it
    Repair(repair::Args),
    /// Show a pod or service in detail (like kubectl describe)
    Describe(describe::Args),
    /// Create or change objects from a manifest file (like kubectl apply -f)
    Apply(apply::Args),
    /// Set the replicas of a Deployment or StatefulSet (like kubectl scale)
    Scale(scale::Args),
    /// Delete pods; their controllers replace them (like kubectl delete pod)
    Delete(delete::Args),
    /// Print a container's output (like kubectl logs)
    Logs(logs::Args),
    /// Check a topology file without touching the system
    Validate(validate::Args),
    /// Run every check of a lab for real (DNS, kube-proxy rules, TCP, ping, topology checks)
    Verify(verify::Args),
    /// Draw a lab: nodes, the pods on them, the pods each service selects
    Graph(graph::Args),
    /// Run a lab's supervisor (started by deploy; not for direct use)
    #[command(hide = true)]
    Supervise(supervise::Args),
    /// Built-in container behaviours (not for direct use)
    #[command(hide = true)]
    Builtin(builtin::Args),
}

/// Why the read-only verbs need root too.
const READS_STATE: &str = "the labs' state is readable by root only";

impl Command {
    /// Why a verb needs root (all but `validate`): refused at once as another
    /// user, before anything is touched.
    fn needs_root(&self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Command::Deploy(_) => ("deploy", "it creates network namespaces"),
            Command::Destroy(_) => ("destroy", "it removes network namespaces"),
            Command::Repair(_) => ("repair", "it restarts the lab's containers in their network namespaces"),
            Command::Verify(_) => ("verify", "it runs its checks inside the lab's network namespaces"),
            Command::Apply(_) => ("apply", "it changes the lab's network namespaces"),
            Command::Scale(_) => ("scale", "it changes the lab's network namespaces"),
            Command::Delete(_) => ("delete", "it changes the lab's network namespaces"),
            Command::Exec(_) => ("exec", "it enters the lab's network namespaces"),
            Command::Get(_) => ("get", READS_STATE),
            Command::Describe(_) => ("describe", READS_STATE),
            Command::Logs(_) => ("logs", READS_STATE),
            Command::Inspect(_) => ("inspect", READS_STATE),
            Command::Graph(_) => ("graph", READS_STATE),
            _ => return None,
        })
    }
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    if let Some((verb, why)) = cli.command.needs_root()
        && !nix::unistd::geteuid().is_root()
    {
        eprintln!("error: labctl {verb} needs root: {why}; run it with sudo");
        return 1;
    }
    let result = match cli.command {
        Command::Deploy(a) => deploy::run(a),
        Command::Destroy(a) => destroy::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Get(a) => get::run(a),
        Command::Exec(a) => exec::run(a),
        Command::Logs(a) => logs::run(a),
        Command::Scale(a) => scale::run(a),
        Command::Apply(a) => apply::run(a),
        Command::Describe(a) => describe::run(a),
        Command::Repair(a) => repair::run(a),
        Command::Delete(a) => delete::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Supervise(a) => supervise::run(a),
        Command::Builtin(a) => builtin::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", render_error(&e));
            1
        }
    }
}

/// Input errors print as they are (file:line:col: error: ...); others with their causes.
fn render_error(e: &anyhow::Error) -> String {
    if let Some(spec) = e.downcast_ref::<crate::spec::SpecErrors>() {
        return spec.to_string();
    }
    format!("error: {e:#}")
}
