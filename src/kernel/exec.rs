//! Running a command inside a named namespace the way `ip netns exec` does
//! (ip-netns(8)): join the network namespace, take a private mount
//! namespace that receives no mounts back from it, remount /sys for the new
//! network namespace and bind-mount each file of /etc/netns/NAME/ over
//! /etc. Optionally a UTS namespace with its own hostname. All of it happens
//! in the child between fork and exec, never in labctl itself.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Output};

use anyhow::{Context, Result, bail};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::statvfs::{FsFlags, statvfs};

use super::netns;

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Run in a UTS namespace of its own with this hostname.
    pub hostname: Option<String>,
    /// Bind-mount the files of /etc/netns/NAME/ over /etc.
    pub etc_overlay: bool,
}

/// Runs `argv` inside the namespace with inherited stdio (a tty passes
/// through); returns its exit code, or 128 + the signal that killed it.
pub fn exec_in(netns_name: &str, options: &ExecOptions, argv: &[String]) -> Result<i32> {
    let status = command_in(netns_name, options, argv)?
        .status()
        .with_context(|| format!("netns {netns_name}: run {}", argv[0]))?;
    Ok(exit_code(status))
}

/// Runs `argv` inside the namespace and captures its output.
pub fn output_in(netns_name: &str, options: &ExecOptions, argv: &[String]) -> Result<Output> {
    command_in(netns_name, options, argv)?
        .output()
        .with_context(|| format!("netns {netns_name}: run {}", argv[0]))
}

/// A command that will run `argv` inside the namespace; spawn it as needed.
pub fn command_in(netns_name: &str, options: &ExecOptions, argv: &[String]) -> Result<Command> {
    let Some((program, args)) = argv.split_first() else {
        bail!("netns {netns_name}: empty command");
    };
    let setup = ChildSetup::prepare(netns_name, options)?;
    let mut command = Command::new(program);
    command.args(args);
    // SAFETY: `enter` only makes syscalls on data prepared before fork; it
    // does not allocate or take locks.
    unsafe { command.pre_exec(move || setup.enter()) };
    Ok(command)
}

pub fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Everything the child needs, allocated before fork.
struct ChildSetup {
    netns: std::fs::File,
    sysfs_source: CString,
    /// (file under /etc/netns/NAME, the /etc file it covers)
    etc_binds: Vec<(CString, CString)>,
    hostname: Option<String>,
}

impl ChildSetup {
    fn prepare(netns_name: &str, options: &ExecOptions) -> Result<Self> {
        let etc_binds = if options.etc_overlay {
            etc_binds(netns_name)?
        } else {
            Vec::new()
        };
        Ok(ChildSetup {
            netns: netns::open(netns_name)?,
            sysfs_source: CString::new(netns_name).context("netns name")?,
            etc_binds,
            hostname: options.hostname.clone(),
        })
    }

    /// Runs in the child, between fork and exec.
    fn enter(&self) -> io::Result<()> {
        setns(&self.netns, CloneFlags::CLONE_NEWNET)?;
        let mut new_namespaces = CloneFlags::CLONE_NEWNS;
        if self.hostname.is_some() {
            new_namespaces |= CloneFlags::CLONE_NEWUTS;
        }
        unshare(new_namespaces)?;
        // Keep mounts made below from propagating back to the host.
        mount(
            None::<&str>,
            c"/",
            None::<&str>,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None::<&str>,
        )?;
        // sysfs shows the network namespace of whoever mounted it, so mount a
        // fresh one. A read-only /sys that cannot be unmounted cannot be
        // shadowed read-write either (as iproute2's netns_switch notes).
        let mut sysfs_flags = MsFlags::empty();
        if umount2(c"/sys", MntFlags::MNT_DETACH).is_err()
            && statvfs(c"/sys").is_ok_and(|stat| stat.flags().contains(FsFlags::ST_RDONLY))
        {
            sysfs_flags |= MsFlags::MS_RDONLY;
        }
        mount(
            Some(self.sysfs_source.as_c_str()),
            c"/sys",
            Some(c"sysfs"),
            sysfs_flags,
            None::<&str>,
        )?;
        for (source, target) in &self.etc_binds {
            mount(
                Some(source.as_c_str()),
                target.as_c_str(),
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )?;
        }
        if let Some(hostname) = &self.hostname {
            nix::unistd::sethostname(hostname)?;
        }
        Ok(())
    }
}

/// Each file of /etc/netns/NAME/ whose /etc counterpart exists (`ip netns
/// exec` skips the others with a warning).
fn etc_binds(netns_name: &str) -> Result<Vec<(CString, CString)>> {
    let dir = netns::etc_dir_of(netns_name);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("read {}", dir.display())),
    };
    let mut binds = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("read {}", dir.display()))?;
        let target = Path::new("/etc").join(entry.file_name());
        if target.exists() {
            binds.push((
                CString::new(entry.path().as_os_str().as_bytes())?,
                CString::new(target.as_os_str().as_bytes())?,
            ));
        }
    }
    Ok(binds)
}
