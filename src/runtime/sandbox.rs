//! Pod sandboxes, modelled on Kubernetes' pause container: one small process per
//! pod (`labctl builtin pause`) holds the pod's mount and UTS namespaces — its
//! private root filesystem and hostname — while the pod lives. Containers, exec
//! probes and `labctl exec` enter them; it dies with its supervisor
//! (PR_SET_PDEATHSIG) and, as PID 1 of a PID namespace of its own, reaps what is
//! left to it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, waitpid};

use crate::cluster::podfiles;
use crate::cluster::state::{LabState, PodState};
use crate::kernel::{enter, netns, pod_root};

/// The name a sandbox takes once the pod's root is ready (its /proc/PID/comm).
const READY_NAME: &str = "pause";
/// Where the supervisor's own binary appears in every pod (for the built-in servers).
pub const LABCTL_IN_POD: &str = "/opt/labctl/labctl";

/// What every sandbox of a lab is made from.
pub struct SandboxKit {
    pub exe: PathBuf,
    /// The template mount namespace (see `pod_root::template_namespace`); without
    /// it pods start from the host's, only slower.
    pub template: Option<File>,
    /// The lab's toolsets directory.
    pub tools: Option<PathBuf>,
}

/// Starts the sandbox of `pod` as PID 1 of a new PID namespace, in the pod's
/// network namespace and the template mount namespace; it builds the pod's root
/// and is ready when [`is_ready`] says so.
pub fn spawn(kit: &SandboxKit, state: &LabState, pod: &PodState) -> Result<Child> {
    let net = netns::open(&pod.netns)?;
    let template = kit.template.as_ref().map(File::try_clone).transpose()?;
    let mut command = Command::new(&kit.exe);
    command.args(["builtin", "pause", "--pod", &pod.netns, "--hostname", &pod.hostname]);
    command.arg("--labctl").arg(&kit.exe);
    if let Some(tools) = &kit.tools {
        command.arg("--tools").arg(tools);
    }
    // The pod's /etc files come on stdin, to keep them out of `ps`.
    command.stdin(Stdio::piped()).stdout(Stdio::null()).current_dir("/");
    // SAFETY: setns and prctl only, on handles opened before fork.
    unsafe {
        command.pre_exec(move || {
            setns(&net, CloneFlags::CLONE_NEWNET)?;
            if let Some(template) = &template {
                setns(template, CloneFlags::CLONE_NEWNS)?;
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = enter::spawn_as_init(&mut command)
        .with_context(|| format!("start the sandbox of pod {}/{}", pod.namespace, pod.name))?;
    let files = serde_json::to_vec(&etc_files(state, pod))?;
    // A few hundred bytes: the pipe takes them without blocking.
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(&files));
    if let Some(Err(e)) = written {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e).context("give the sandbox its /etc files");
    }
    Ok(child)
}

/// Whether sandbox `pid` has built the pod's root.
pub fn is_ready(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim_end() == READY_NAME)
}

/// kubelet's /etc files of the pod (hosts, resolv.conf, hostname).
fn etc_files(state: &LabState, pod: &PodState) -> [(&'static str, String); 3] {
    [
        ("hosts", podfiles::hosts(pod, &state.networking)),
        ("resolv.conf", podfiles::resolv_conf(pod, &state.networking)),
        ("hostname", podfiles::hostname(pod)),
    ]
}

/// What `labctl builtin pause` is given.
pub struct PauseArgs {
    pub hostname: String,
    pub labctl: Option<PathBuf>,
    pub tools: Option<PathBuf>,
}

/// The sandbox process itself: reads the pod's /etc files from stdin (JSON pairs of
/// name and contents), takes mount and UTS namespaces of its own, builds the pod's
/// root, says it is ready, then reaps orphans until killed.
pub fn pause(args: &PauseArgs) -> Result<()> {
    let mut files = String::new();
    io::stdin()
        .read_to_string(&mut files)
        .context("read the pod's /etc files")?;
    let etc_files: Vec<(String, String)> = serde_json::from_str(&files).context("read the pod's /etc files")?;
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS)
        .map_err(io::Error::from)
        .context("unshare mount and UTS namespaces")?;
    nix::unistd::sethostname(&args.hostname).context("sethostname")?;
    pod_root::build_and_enter(&pod_root::PodRoot {
        etc_files: &etc_files,
        tools: args.tools.as_deref(),
        labctl: args.labctl.as_deref().map(|exe| (exe, Path::new(LABCTL_IN_POD))),
    })?;
    let signals = waited_signals();
    signals.thread_block().context("block signals")?;
    nix::sys::prctl::set_name(&std::ffi::CString::new(READY_NAME)?).context("prctl(PR_SET_NAME)")?;
    loop {
        match signals.wait().context("sigwait")? {
            Signal::SIGCHLD => {
                while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                    if status == nix::sys::wait::WaitStatus::StillAlive {
                        break;
                    }
                }
            }
            _ => return Ok(()),
        }
    }
}

/// A blocked signal is never ignored, not even by a PID 1 without handlers
/// (kernel/signal.c, sig_ignored), so sigwait(3) receives them.
fn waited_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(signal);
    }
    set
}

/// Where a command run "in a pod" goes: the process whose namespaces it joins and
/// the directory it starts in.
pub struct PodTarget {
    pub pid: u32,
    pub workdir: String,
}

/// The first container of `pod` (as `kubectl exec` runs in a container), else —
/// none running — its sandbox. Found in /proc: the sandbox by its command line,
/// the container as the PID 1 of a namespace of the pod whose output goes to that
/// container's log.
pub fn target(lab_dir: &Path, pod: &PodState) -> Result<PodTarget> {
    let Some(sandbox) = find_sandbox(&pod.netns) else {
        bail!(
            "pod {}/{} has no running sandbox (its lab's supervisor is not running, or the pod is still starting)\n  hint: `labctl get pods` shows its status; `labctl repair` restarts a stopped supervisor",
            pod.namespace,
            pod.name
        );
    };
    let first = pod.containers.first();
    let workdir = first
        .and_then(|c| c.working_dir.clone())
        .unwrap_or_else(|| "/".to_string());
    let container = first.and_then(|c| {
        let log = super::kubelet::Kubelet::log_path(lab_dir, pod, &c.name);
        find_container(sandbox, &log)
    });
    Ok(PodTarget {
        pid: container.unwrap_or(sandbox),
        workdir,
    })
}

fn find_sandbox(pod_netns: &str) -> Option<u32> {
    crate::kernel::procs::all_pids().find(|&pid| {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        args.len() > 4 && args[1..5] == [&b"builtin"[..], b"pause", b"--pod", pod_netns.as_bytes()] && is_ready(pid)
    })
}

/// The container process whose stdout or stderr is `log`: the PID 1 of its PID
/// namespace, in the sandbox's network namespace.
fn find_container(sandbox: u32, log: &Path) -> Option<u32> {
    let net = ns_id(sandbox, "net")?;
    crate::kernel::procs::all_pids()
        .filter(|&pid| pid != sandbox)
        .find(|&pid| {
            ns_id(pid, "net") == Some(net)
                && is_namespace_init(pid)
                && [1, 2]
                    .iter()
                    .any(|fd| std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).is_ok_and(|p| p == log))
        })
}

fn ns_id(pid: u32, kind: &str) -> Option<(u64, u64)> {
    std::fs::metadata(format!("/proc/{pid}/ns/{kind}"))
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// proc_pid_status(5): NSpid lists the pid in each nested PID namespace; the last is
/// the innermost.
fn is_namespace_init(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("NSpid:"))
            .and_then(|pids| pids.split_whitespace().last().map(|last| last == "1"))
            .unwrap_or(false)
    })
}
