//! The per-lab supervisor: a detached `labctl supervise <lab>` process that runs the
//! lab's long-lived parts (the cluster DNS server; later the pods' containers) and
//! follows changes of the saved lab state. `deploy` starts it, `destroy` stops it.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::store::Store;

const PID_FILE: &str = "supervisor.pid";
const LOG_FILE: &str = "supervisor.log";
/// How often the supervisor looks for a new lab state.
const POLL: Duration = Duration::from_millis(20);

/// Starts the supervisor of `lab`, detached from the caller's session and terminal.
pub fn spawn(store: &Store, lab: &str) -> Result<u32> {
    let dir = store.lab_dir(lab);
    let log = fs::File::create(dir.join(LOG_FILE)).context("create supervisor log")?;
    let exe = std::env::current_exe().context("find the labctl executable")?;
    let mut cmd = Command::new(exe);
    cmd.args(["supervise", lab])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .current_dir("/");
    // SAFETY: setsid is async-signal-safe; it makes the supervisor its own session
    // so that the terminal's hangup or Ctrl-C never reaches it.
    unsafe {
        cmd.pre_exec(|| nix::unistd::setsid().map(|_| ()).map_err(std::io::Error::from));
    }
    let child = cmd.spawn().context("start the lab supervisor")?;
    let pid = child.id();
    fs::write(dir.join(PID_FILE), pid.to_string()).context("write supervisor pid")?;
    Ok(pid)
}

/// The supervisor's pid, if it is alive (checked against its command line, so a
/// reused pid is never mistaken for it).
pub fn running(store: &Store, lab: &str) -> Option<u32> {
    let pid: u32 = fs::read_to_string(store.lab_dir(lab).join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_ours = args.windows(2).any(|w| w[0] == b"supervise" && w[1] == lab.as_bytes());
    is_ours.then_some(pid)
}

/// Stops the supervisor: SIGTERM, then SIGKILL if it has not gone within 2 s.
pub fn stop(store: &Store, lab: &str) -> Result<()> {
    let Some(pid) = running(store, lab) else {
        return Ok(());
    };
    let pid = Pid::from_raw(pid as i32);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if running(store, lab).is_none() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = kill(pid, Signal::SIGKILL);
    std::thread::sleep(Duration::from_millis(50));
    if running(store, lab).is_some() {
        bail!("supervisor of lab {lab} (pid {pid}) did not stop");
    }
    Ok(())
}

/// The supervisor's main loop: runs until the lab's state directory disappears or
/// it is signalled. Every change of the saved state is passed to `on_change`.
pub fn run(store: &Store, lab: &str, mut on_change: impl FnMut(&crate::cluster::LabState)) -> Result<()> {
    let state_file = store.lab_dir(lab).join("state.json");
    let mut seen = modified(&state_file);
    on_change(&store.load(lab)?);
    loop {
        std::thread::sleep(POLL);
        if !store.exists(lab) {
            return Ok(());
        }
        let now = modified(&state_file);
        if now != seen {
            seen = now;
            match store.load(lab) {
                Ok(state) => on_change(&state),
                Err(e) => eprintln!("supervisor: {e:#}"),
            }
        }
    }
}

fn modified(path: &PathBuf) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}
