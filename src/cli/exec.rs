use anyhow::{Context, Result};

use crate::cluster::LabState;
use crate::kernel::enter::joined_command;
use crate::kernel::exec::{ExecOptions, command_in, exit_code};
use crate::runtime::sandbox;
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
enum Target {
    /// A node: its network namespace, with its name as hostname, on the host's files.
    Node { netns: String, hostname: String },
    /// A pod: the namespaces of its first container (or of its sandbox), with that
    /// container's environment, as kubectl exec runs.
    Pod {
        target: sandbox::PodTarget,
        env: Option<Vec<(String, String)>>,
    },
}

pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = args.scope.lab.select(&store)?;
    let status = match find(&lab, &args.target, args.scope.namespace())? {
        Target::Node { netns, hostname } => {
            let opts = ExecOptions {
                hostname: Some(hostname),
                etc_overlay: false,
            };
            let mut cmd = command_in(&netns, &opts, &args.command)?;
            // `docker exec` into a kind node starts at `/`, never at the caller's directory.
            cmd.current_dir("/");
            cmd.status()
        }
        Target::Pod { target, env } => {
            let mut cmd = joined_command(target.pid, &target.workdir, &args.command)?;
            if let Some(env) = env {
                cmd.command.env_clear().envs(env);
            }
            cmd.status()
        }
    };
    Ok(exit_code(status.with_context(|| format!("run {}", args.command[0]))?))
}

fn find(lab: &LabState, name: &str, namespace: &str) -> Result<Target> {
    lookup(lab, name, namespace).unwrap_or_else(|| {
        Err(
        anyhow::anyhow!(
            "lab {}: no node or pod {name:?} in namespace {namespace:?}\n  hint: `labctl get pods -A --lab {}` lists the pods",
            lab.name,
            lab.name
        ))
    })
}

fn lookup(lab: &LabState, name: &str, namespace: &str) -> Option<Result<Target>> {
    if let Some(node) = lab.nodes.iter().find(|n| n.name == name || n.netns == name) {
        return Some(Ok(Target::Node {
            netns: node.netns.clone(),
            hostname: node.name.clone(),
        }));
    }
    let pod = lab
        .pods
        .iter()
        .find(|p| (p.name == name && p.namespace == namespace) || p.netns == name)?;
    let lab_dir = Store::open().lab_dir(&lab.name);
    Some(lab_dir.and_then(|dir| sandbox::target(&dir, pod)).map(|target| {
        Target::Pod {
            target,
            env: pod
                .containers
                .first()
                .map(|c| crate::runtime::env::container_env(lab, pod, c)),
        }
    }))
}
