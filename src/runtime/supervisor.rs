//! The per-lab supervisor: a detached `labctl supervise <lab>` process that runs the
//! lab's long-lived parts — the pods' containers (its kubelet) and the cluster DNS
//! server — and follows changes of the saved lab state. `deploy` starts it,
//! `destroy` stops it.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cluster::LabState;
use crate::cluster::status::{self, PodStatusRecord};
use crate::kernel::procs;
use crate::store::{self, Store};

use super::kubelet::{Kubelet, PodStatus};

const PID_FILE: &str = "supervisor.pid";
const LOG_FILE: &str = "supervisor.log";
/// How often the supervisor looks at its containers and the saved state.
const POLL: Duration = Duration::from_millis(20);

/// What else runs with the lab and must follow its state (cluster DNS, kube-proxy).
pub trait LabService {
    fn update(&mut self, state: &LabState);
}

/// Starts the supervisor of `lab`, detached from the caller's session and terminal.
pub fn spawn(store: &Store, lab: &str) -> Result<u32> {
    let dir = store.lab_dir(lab)?;
    let log = store::open_private(
        fs::OpenOptions::new().create(true).truncate(true).write(true),
        &dir.join(LOG_FILE),
    )
    .context("create supervisor log")?;
    let exe = std::env::current_exe().context("find the labctl executable")?;
    let mut cmd = Command::new(exe);
    cmd.args(["supervise", lab])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .current_dir("/");
    // SAFETY: setsid and umask are async-signal-safe. setsid makes the supervisor
    // its own session so that the terminal's hangup or Ctrl-C never reaches it; the
    // umask is the one container runtimes give (runc: 0022), not the caller's.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
            nix::unistd::setsid().map(|_| ()).map_err(std::io::Error::from)
        });
    }
    let child = cmd.spawn().context("start the lab supervisor")?;
    let pid = child.id();
    store::open_private(
        fs::OpenOptions::new().create(true).truncate(true).write(true),
        &dir.join(PID_FILE),
    )
    .and_then(|mut f| f.write_all(pid.to_string().as_bytes()))
    .context("write supervisor pid")?;
    Ok(pid)
}

/// The supervisor's pid, if it is alive: the one its pid file names, else (the
/// file lost or stale) the one found by its command line.
pub fn running(store: &Store, lab: &str) -> Option<u32> {
    let recorded = store
        .lab_dir(lab)
        .ok()
        .and_then(|dir| fs::read_to_string(dir.join(PID_FILE)).ok())
        .and_then(|pid| pid.trim().parse().ok())
        .filter(|&pid| procs::is_supervisor_of(pid, lab));
    recorded.or_else(|| procs::supervisors_of(lab).first().copied())
}

/// Stops every supervisor of the lab (which stops its containers), whether its pid
/// file is there or not: SIGTERM, then SIGKILL if it has not gone within 2 s.
pub fn stop(store: &Store, lab: &str) -> Result<()> {
    let mut pids = procs::supervisors_of(lab);
    if let Some(pid) = running(store, lab).filter(|pid| !pids.contains(pid)) {
        pids.push(pid);
    }
    if pids.is_empty() {
        return Ok(());
    }
    signal_all(&pids, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if procs::supervisors_of(lab).is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    signal_all(&procs::supervisors_of(lab), Signal::SIGKILL);
    std::thread::sleep(Duration::from_millis(50));
    let left = procs::supervisors_of(lab);
    if !left.is_empty() {
        bail!("supervisor of lab {lab} (pids {left:?}) did not stop");
    }
    Ok(())
}

/// Raises the soft limit of open files to the hard limit. The supervisor
/// inherits the caller's soft limit (often 1,024, see getrlimit(2)), while its
/// DNS servers hold a socket per TCP client and per pending upstream question.
fn raise_open_file_limit() -> nix::Result<()> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    Ok(())
}

fn signal_all(pids: &[u32], signal: Signal) {
    for pid in pids {
        let _ = kill(Pid::from_raw(*pid as i32), signal);
    }
}

/// The supervisor's main loop: runs until the lab's state directory disappears or
/// it is signalled, then kills every container it started.
pub fn run(store: &Store, lab: &str, services: &mut [Box<dyn LabService>]) -> Result<()> {
    if let Err(e) = raise_open_file_limit() {
        eprintln!("supervisor: raise the open-file limit: {e}");
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("handle SIGTERM and SIGINT")?;
    }
    let state_file = store.state_file(lab)?;
    let mut seen = modified(&state_file);
    let mut state = store.load(lab)?;
    for s in services.iter_mut() {
        s.update(&state);
    }
    let mut reported: Vec<PodStatusRecord> = Vec::new();
    let mut kubelet = Kubelet::new(store.lab_dir(lab)?);
    while !stop.load(Ordering::SeqCst) && store.exists(lab) {
        let now = modified(&state_file);
        if now != seen {
            seen = now;
            match store.load_desired(lab) {
                Ok(mut fresh) => {
                    // What the kubelet saw stays true of the pods that are still there.
                    status::apply(&mut fresh, &reported);
                    state = fresh;
                    for s in services.iter_mut() {
                        s.update(&state);
                    }
                }
                Err(e) => eprintln!("supervisor: {e:#}"),
            }
        }
        let records = status_records(&state, &kubelet.tick(&state));
        if status::apply(&mut state, &records) {
            reported = records;
            if let Err(e) = store.save_statuses(lab, &reported) {
                eprintln!("supervisor: {e:#}");
            }
            for s in services.iter_mut() {
                s.update(&state);
            }
        }
        std::thread::sleep(POLL);
    }
    kubelet.shutdown();
    Ok(())
}

/// The kubelet's view of each pod it runs, as status records of those pods.
fn status_records(state: &LabState, statuses: &BTreeMap<(String, String), PodStatus>) -> Vec<PodStatusRecord> {
    state
        .pods
        .iter()
        .filter_map(|p| {
            let s = statuses.get(&(p.namespace.clone(), p.name.clone()))?;
            Some(PodStatusRecord {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                uid: p.uid.clone(),
                ready: s.ready,
                phase: s.status,
                restarts: s.restarts,
            })
        })
        .collect()
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}
