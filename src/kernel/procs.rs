//! Processes that live inside given network namespaces (a namespace file and a
//! process's /proc/PID/ns/net refer to the same inode), and a lab's supervisor
//! found by its command line.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::netns;

/// Pids of every process whose network namespace is one of `names`.
pub fn in_netns(names: &[String]) -> Vec<u32> {
    let inodes: HashSet<(u64, u64)> = names
        .iter()
        .filter_map(|n| std::fs::metadata(netns::path_of(n)).ok())
        .map(|m| (m.dev(), m.ino()))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    all_pids()
        .filter(|pid| {
            std::fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| inodes.contains(&(m.dev(), m.ino())))
        })
        .collect()
}

/// SIGKILLs every process inside the namespaces (a user's `labctl exec` shell, a
/// container whose supervisor was killed) and waits up to 2 s for them to be gone,
/// so that their sockets close while the network is still there; returns how many
/// there were.
pub fn kill_all_in(names: &[String]) -> usize {
    let pids = in_netns(names);
    for pid in &pids {
        let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !pids.is_empty() && std::time::Instant::now() < deadline {
        let alive = pids
            .iter()
            .filter(|pid| std::path::Path::new(&format!("/proc/{pid}/ns/net")).exists())
            .count();
        if alive == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    pids.len()
}

/// Whether `pid` is a root process running `labctl supervise <lab>`: argv[1] and
/// argv[2] exactly, so that lab `a` never matches lab `a-b`'s supervisor.
pub fn is_supervisor_of(pid: u32, lab: &str) -> bool {
    let owned_by_root = std::fs::metadata(format!("/proc/{pid}")).is_ok_and(|m| m.uid() == 0);
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    owned_by_root && args.len() >= 3 && args[1] == b"supervise" && args[2] == lab.as_bytes()
}

/// Every supervisor of `lab` (normally one), without its own children between fork
/// and exec, which carry its command line for a moment.
pub fn supervisors_of(lab: &str) -> Vec<u32> {
    all_pids()
        .filter(|&pid| is_supervisor_of(pid, lab) && !parent_of(pid).is_some_and(|p| is_supervisor_of(p, lab)))
        .collect()
}

/// The parent pid from /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold
/// spaces and parentheses, so the fields start after the last ')' (proc_pid_stat(5)).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

/// Every process's pid, from /proc.
pub fn all_pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
}
