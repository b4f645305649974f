//! Processes that live inside given network namespaces (a namespace file and a
//! process's /proc/PID/ns/net refer to the same inode).

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::netns;

/// Pids of every process whose network namespace is one of `names`.
pub fn in_netns(names: &[String]) -> Vec<i32> {
    let inodes: HashSet<(u64, u64)> = names
        .iter()
        .filter_map(|n| std::fs::metadata(netns::path_of(n)).ok())
        .map(|m| (m.dev(), m.ino()))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
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
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
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
