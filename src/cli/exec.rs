use anyhow::{Context, Result};

use crate::cluster::LabState;
use crate::kernel::exec::{ExecOptions, command_in, exit_code};
use crate::store::Store;

use super::args::NamespaceArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scope: NamespaceArgs,
    /// Accepted for kubectl compatibility: stdin is always passed through
    #[arg(short = 'i', long = "stdin")]
    _stdin: bool,
    /// Accepted for kubectl compatibility: the terminal is always passed through
    #[arg(short = 't', long = "tty")]
    _tty: bool,
    /// Node name, pod name or network namespace name
    target: String,
    /// Command and arguments
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Where a command runs.
struct Target {
    netns: String,
    hostname: String,
    /// Pods see their own /etc/resolv.conf, hosts and hostname.
    is_pod: bool,
    /// A pod's container environment (kubectl exec runs with it); None for nodes.
    env: Option<Vec<(String, String)>>,
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let target = find(&args.scope.lab.select(&store)?, &args.target, args.scope.namespace())?;
    let opts = ExecOptions {
        hostname: Some(target.hostname),
        etc_overlay: target.is_pod,
    };
    let mut cmd = command_in(&target.netns, &opts, &args.command)?;
    if let Some(env) = target.env {
        cmd.env_clear().envs(env);
    }
    // kubectl exec and `docker exec` into a kind node start at the image's working
    // directory, `/` for the images labs use, never at the caller's.
    cmd.current_dir("/");
    let status = cmd.status().with_context(|| format!("run {}", args.command[0]))?;
    Ok(exit_code(status))
}

fn find(lab: &LabState, name: &str, namespace: &str) -> Result<Target> {
    lookup(lab, name, namespace).ok_or_else(|| {
        anyhow::anyhow!(
            "lab {}: no node or pod {name:?} in namespace {namespace:?}\n  hint: `labctl get pods -A --lab {}` lists the pods",
            lab.name,
            lab.name
        )
    })
}

fn lookup(lab: &LabState, name: &str, namespace: &str) -> Option<Target> {
    if let Some(node) = lab.nodes.iter().find(|n| n.name == name || n.netns == name) {
        return Some(Target {
            netns: node.netns.clone(),
            hostname: node.name.clone(),
            is_pod: false,
            env: None,
        });
    }
    lab.pods
        .iter()
        .find(|p| (p.name == name && p.namespace == namespace) || p.netns == name)
        .map(|p| Target {
            netns: p.netns.clone(),
            hostname: p.hostname.clone(),
            is_pod: true,
            env: p
                .containers
                .first()
                .map(|c| crate::runtime::env::container_env(lab, p, c)),
        })
}
