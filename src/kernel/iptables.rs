//! iptables inside a named netns: `iptables-restore --noflush -w` fed on stdin (one
//! atomic transaction per table), `iptables-save` to read a table back, and single
//! `iptables` commands. The child joins the netns between fork and exec; nothing
//! else about its view changes (iptables needs no mounts of its own).

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, setns};

use super::netns;
use super::nft_commits::CommitWatch;

/// Which iptables binaries to run. The host's default (`iptables`, the nf_tables
/// backend on Debian 12) is what users see; legacy is for comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iptables {
    pub iptables: &'static str,
    pub restore: &'static str,
    pub save: &'static str,
}

pub const DEFAULT: Iptables = Iptables {
    iptables: "iptables",
    restore: "iptables-restore",
    save: "iptables-save",
};

pub const LEGACY: Iptables = Iptables {
    iptables: "iptables-legacy",
    restore: "iptables-legacy-restore",
    save: "iptables-legacy-save",
};

fn command(netns_name: &str, program: &str, args: &[&str]) -> Result<Command> {
    let fd = netns::open(netns_name)?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    // SAFETY: setns on a descriptor opened before fork; no allocation, no locks.
    unsafe {
        cmd.pre_exec(move || {
            setns(&fd, CloneFlags::CLONE_NEWNET)?;
            Ok(())
        })
    };
    Ok(cmd)
}

/// `iptables-restore --noflush -w` with `input` on stdin, inside `netns_name`.
pub fn restore(netns_name: &str, input: &str) -> Result<()> {
    restore_with(DEFAULT, netns_name, input)
}

pub fn restore_with(bin: Iptables, netns_name: &str, input: &str) -> Result<()> {
    let mut child = spawn_restore(bin, netns_name)?;
    let written = write_input(&mut child, input);
    let out = child
        .wait_with_output()
        .with_context(|| format!("netns {netns_name}: wait for {}", bin.restore))?;
    if !out.status.success() {
        return Err(restore_failed(bin, netns_name, input, out.status, &out.stderr));
    }
    written.with_context(|| format!("netns {netns_name}: write {} input", bin.restore))
}

/// Like [`restore`], but returns as soon as the kernel has committed every
/// transaction of `input` (one per `COMMIT` line), without waiting for
/// iptables-restore to exit, which can lag by an RCU grace period
/// ([`super::nft_commits`]). The process is reaped in the background. A failure
/// before the last commit is an error, as with [`restore`]. Meant for small
/// transactions (partial syncs): while anyone listens, the kernel also builds a
/// notification for every rule and chain a transaction touches.
pub fn restore_committed(netns_name: &str, input: &str) -> Result<()> {
    let bin = DEFAULT;
    let commits = input.lines().filter(|l| l.trim() == "COMMIT").count();
    if commits == 0 {
        return restore_with(bin, netns_name, input);
    }
    // Subscribed before the process starts, so that no NEWGEN of it is missed.
    let watch = CommitWatch::open(netns_name)?;
    let mut child = spawn_restore(bin, netns_name)?;
    let written = write_input(&mut child, input);
    let pid = child.id();
    let mut stderr = child.stderr.take().expect("piped stderr");
    let mut errors = Vec::new();
    let mut committed = 0;
    loop {
        let mut fds = [
            PollFd::new(watch.as_fd(), PollFlags::POLLIN),
            PollFd::new(stderr.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            other => other.with_context(|| format!("netns {netns_name}: wait for {}", bin.restore))?,
        };
        if fds[0].any().unwrap_or(false) {
            committed += watch.commits_by(pid)?;
            if committed >= commits {
                reap_in_background(child, stderr, watch, netns_name);
                return written.with_context(|| format!("netns {netns_name}: write {} input", bin.restore));
            }
        }
        if fds[1].any().unwrap_or(false) {
            let mut chunk = [0u8; 4096];
            match stderr.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => errors.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).with_context(|| format!("netns {netns_name}: read {} errors", bin.restore)),
            }
        }
    }
    // Its stderr closed before the last commit was seen: it is exiting.
    let status = child
        .wait()
        .with_context(|| format!("netns {netns_name}: wait for {}", bin.restore))?;
    if !status.success() {
        return Err(restore_failed(bin, netns_name, input, status, &errors));
    }
    written.with_context(|| format!("netns {netns_name}: write {} input", bin.restore))
}

fn spawn_restore(bin: Iptables, netns_name: &str) -> Result<Child> {
    command(netns_name, bin.restore, &["--noflush", "-w"])?
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("netns {netns_name}: run {}", bin.restore))
}

/// Writes the whole input and closes stdin (iptables-restore reads to EOF).
fn write_input(child: &mut Child, input: &str) -> std::io::Result<()> {
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(input.as_bytes())
}

fn restore_failed(bin: Iptables, netns_name: &str, input: &str, status: ExitStatus, stderr: &[u8]) -> anyhow::Error {
    let stderr = String::from_utf8_lossy(stderr);
    anyhow!(
        "netns {netns_name}: {} --noflush failed ({}): {}{}",
        bin.restore,
        status,
        stderr.trim(),
        failed_line_context(input, &stderr)
    )
}

/// Waits for a restore whose transactions are all committed; it can only fail
/// now in ways that changed nothing, so a failure is logged, not returned. The
/// watch is closed here too: closing any nfnetlink socket waits for the same
/// deferred frees as the restore's own exit.
fn reap_in_background(mut child: Child, mut stderr: ChildStderr, watch: CommitWatch, netns_name: &str) {
    let netns_name = netns_name.to_string();
    std::thread::spawn(move || {
        let _watch = watch;
        let mut errors = Vec::new();
        let _ = stderr.read_to_end(&mut errors);
        match child.wait() {
            Ok(status) if status.success() => {}
            Ok(status) => eprintln!(
                "netns {netns_name}: iptables-restore exited {status} after its commits: {}",
                String::from_utf8_lossy(&errors).trim()
            ),
            Err(e) => eprintln!("netns {netns_name}: wait for iptables-restore: {e}"),
        }
    });
}

/// iptables-restore names the failing line ("line 12 failed"); show it.
fn failed_line_context(input: &str, stderr: &str) -> String {
    let Some(n) = stderr
        .split("line ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.trim_end_matches(':').parse::<usize>().ok())
    else {
        return String::new();
    };
    match input.lines().nth(n.saturating_sub(1)) {
        Some(line) => format!("\n  line {n}: {line}"),
        None => String::new(),
    }
}

/// `iptables-save -t <table>` inside `netns_name`.
pub fn save(netns_name: &str, table: &str) -> Result<String> {
    save_with(DEFAULT, netns_name, table)
}

pub fn save_with(bin: Iptables, netns_name: &str, table: &str) -> Result<String> {
    let args = ["-t", table];
    stdout_of(netns_name, bin.save, &args, &args.join(" "))
}

/// One `iptables -w <args>` command inside `netns_name`; returns its stdout.
pub fn run_with(bin: Iptables, netns_name: &str, args: &[&str]) -> Result<String> {
    let mut full = vec!["-w"];
    full.extend_from_slice(args);
    stdout_of(netns_name, bin.iptables, &full, &args.join(" "))
}

/// Runs `program args` inside `netns_name` and returns its stdout; a failure is
/// reported as `<program> <shown> failed` with the program's stderr.
fn stdout_of(netns_name: &str, program: &str, args: &[&str], shown: &str) -> Result<String> {
    let out = command(netns_name, program, args)?
        .output()
        .with_context(|| format!("netns {netns_name}: run {program}"))?;
    if !out.status.success() {
        bail!(
            "netns {netns_name}: {program} {shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_line_is_quoted() {
        let input = "*nat\n:A - [0:0]\n-A A -j NOPE\nCOMMIT\n";
        let ctx = failed_line_context(input, "iptables-restore v1.8.9 (nf_tables): line 3 failed\n");
        assert_eq!(ctx, "\n  line 3: -A A -j NOPE");
        assert_eq!(failed_line_context(input, "something else"), "");
    }
}
