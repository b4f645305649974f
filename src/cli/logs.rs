use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use anyhow::{Result, bail};

use crate::runtime::kubelet::Kubelet;
use crate::store::Store;

use super::args::NamespaceArgs;
use super::resource::{self, Resource};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scope: NamespaceArgs,
    /// Container (default: the pod's first container)
    #[arg(short = 'c', long = "container")]
    container: Option<String>,
    /// Keep printing what the container writes
    #[arg(short = 'f', long = "follow")]
    follow: bool,
    /// The output of the container's previous run (before its last restart)
    #[arg(short = 'p', long)]
    previous: bool,
    /// Pod name (or pod/NAME)
    pod: String,
}

/// The container's output, as `kubectl logs` shows it (stdout and stderr together).
pub fn run(args: Args) -> Result<i32> {
    let name = resource::one_name("logs", Resource::Pod, &args.pod)?;
    let store = Store::open();
    let state = args.scope.lab.select(&store)?;
    let Some(pod) = state.pod(args.scope.namespace(), &name) else {
        bail!("pods {name:?} not found in namespace {:?}", args.scope.namespace());
    };
    let container = match &args.container {
        Some(c) => {
            let known = pod.containers.iter().chain(&pod.init_containers).any(|x| &x.name == c);
            if !known {
                let names: Vec<&str> = pod
                    .containers
                    .iter()
                    .chain(&pod.init_containers)
                    .map(|x| x.name.as_str())
                    .collect();
                bail!(
                    "container {c} is not valid for pod {}; choose one of: {}",
                    pod.name,
                    names.join(" ")
                );
            }
            c.clone()
        }
        None => {
            if pod.containers.len() > 1 {
                eprintln!(
                    "Defaulted container \"{}\" out of: {}",
                    pod.containers[0].name,
                    pod.containers
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            pod.containers[0].name.clone()
        }
    };
    let mut path = Kubelet::log_path(&store.lab_dir(&state.name)?, pod, &container);
    if args.previous {
        path = path.with_extension("previous.log");
        if !path.exists() {
            bail!(
                "previous terminated container {container:?} in pod {:?} not found",
                pod.name
            );
        }
    }
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(_) if !args.follow => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut out = std::io::stdout();
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    out.write_all(&buf)?;
    out.flush()?;
    if !args.follow {
        return Ok(0);
    }
    loop {
        let mut more = Vec::new();
        let pos = file.stream_position()?;
        file.seek(SeekFrom::Start(pos))?;
        file.read_to_end(&mut more)?;
        if more.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
            if !store.exists(&state.name) {
                return Ok(0);
            }
        } else {
            out.write_all(&more)?;
            out.flush()?;
        }
    }
}
