//! iptables inside a named netns: `iptables-restore --noflush -w` fed on stdin (one
//! atomic transaction per table), `iptables-save` to read a table back, and single
//! `iptables` commands. The child joins the netns between fork and exec; nothing
//! else about its view changes (iptables needs no mounts of its own).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use nix::sched::{CloneFlags, setns};

use super::netns;

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
    let mut child = command(netns_name, bin.restore, &["--noflush", "-w"])?
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("netns {netns_name}: run {}", bin.restore))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let written = stdin.write_all(input.as_bytes());
    drop(stdin);
    let out = child
        .wait_with_output()
        .with_context(|| format!("netns {netns_name}: wait for {}", bin.restore))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "netns {netns_name}: {} --noflush failed ({}): {}{}",
            bin.restore,
            out.status,
            stderr.trim(),
            failed_line_context(input, &stderr)
        );
    }
    written.with_context(|| format!("netns {netns_name}: write {} input", bin.restore))?;
    Ok(())
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
    let out = command(netns_name, bin.save, &["-t", table])?
        .output()
        .with_context(|| format!("netns {netns_name}: run {}", bin.save))?;
    if !out.status.success() {
        bail!(
            "netns {netns_name}: {} -t {table} failed ({}): {}",
            bin.save,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One `iptables -w <args>` command inside `netns_name`; returns its stdout.
pub fn run_with(bin: Iptables, netns_name: &str, args: &[&str]) -> Result<String> {
    let mut full = vec!["-w"];
    full.extend_from_slice(args);
    let out = command(netns_name, bin.iptables, &full)?
        .output()
        .with_context(|| format!("netns {netns_name}: run {}", bin.iptables))?;
    if !out.status.success() {
        bail!(
            "netns {netns_name}: {} {} failed ({}): {}",
            bin.iptables,
            args.join(" "),
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
