//! Starting processes inside a pod: as PID 1 of a PID namespace of their own (a
//! pod's sandbox, each container, as Kubernetes runs containers without
//! `shareProcessNamespace`), or inside the namespaces of a running process
//! (`labctl exec`, exec probes), as `nsenter --target PID --all` does.
//!
//! A PID namespace is entered by the children of a thread, never by the thread
//! itself (pid_namespaces(7)): the spawning thread switches the namespace its
//! children get, spawns, and switches back. Everything else happens in the
//! child between fork and exec, never in labctl itself.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use anyhow::{Context, Result, bail};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};

/// Handles on the namespaces of a running process.
struct Namespaces {
    mnt: File,
    uts: File,
    net: File,
}

impl Namespaces {
    fn of(pid: u32) -> Result<Namespaces> {
        let open = |kind: &str| {
            File::open(format!("/proc/{pid}/ns/{kind}")).with_context(|| format!("open /proc/{pid}/ns/{kind}"))
        };
        Ok(Namespaces {
            mnt: open("mnt")?,
            uts: open("uts")?,
            net: open("net")?,
        })
    }

    /// In the child: join them all. setns(2) into a mount namespace also sets the
    /// root and working directory to the namespace's root.
    fn join(&self) -> io::Result<()> {
        setns(&self.net, CloneFlags::CLONE_NEWNET)?;
        setns(&self.uts, CloneFlags::CLONE_NEWUTS)?;
        setns(&self.mnt, CloneFlags::CLONE_NEWNS)?;
        Ok(())
    }
}

/// A command that runs as a container of the pod whose sandbox process is
/// `sandbox`: in the pod's root, network and UTS namespaces, with a mount
/// namespace of its own for a /proc of its own PID namespace, in `workdir`
/// (created if missing, as container runtimes do), killed if the calling thread
/// ends. Spawn it with [`spawn_as_init`].
pub fn container_command(sandbox: u32, workdir: &str, argv: &[String]) -> Result<Command> {
    let (mut command, namespaces, workdir) = prepare(sandbox, workdir, argv)?;
    // SAFETY: only syscalls on data allocated before fork; no allocation, no locks.
    unsafe {
        command.pre_exec(move || {
            namespaces.join()?;
            own_proc()?;
            workdir.enter()?;
            die_with_parent()
        })
    };
    Ok(command)
}

/// A command that runs inside the namespaces of process `target` (mount, UTS,
/// network, PID), in `workdir`.
pub struct JoinedCommand {
    pub command: Command,
    pid_ns: File,
}

pub fn joined_command(target: u32, workdir: &str, argv: &[String]) -> Result<JoinedCommand> {
    let (mut command, namespaces, workdir) = prepare(target, workdir, argv)?;
    let pid_ns = File::open(format!("/proc/{target}/ns/pid")).with_context(|| format!("open /proc/{target}/ns/pid"))?;
    // SAFETY: only syscalls on data allocated before fork; no allocation, no locks.
    unsafe {
        command.pre_exec(move || {
            namespaces.join()?;
            workdir.enter()
        })
    };
    Ok(JoinedCommand { command, pid_ns })
}

/// What a command entering `target`'s namespaces needs, opened before fork: the
/// command itself, the namespaces to join and the working directory.
fn prepare(target: u32, workdir: &str, argv: &[String]) -> Result<(Command, Namespaces, WorkDir)> {
    let (program, args) = split(argv)?;
    let namespaces = Namespaces::of(target)?;
    let workdir = WorkDir::new(workdir)?;
    let mut command = Command::new(program);
    command.args(args);
    Ok((command, namespaces, workdir))
}

impl JoinedCommand {
    pub fn spawn(&mut self) -> io::Result<Child> {
        let pid_ns = &self.pid_ns;
        let command = &mut self.command;
        with_children_in(|| setns(pid_ns, CloneFlags::CLONE_NEWPID), || command.spawn())
    }

    /// Runs it with inherited stdio to its end.
    pub fn status(&mut self) -> io::Result<std::process::ExitStatus> {
        self.spawn()?.wait()
    }

    /// Runs it to its end, capturing stdout and stderr.
    pub fn output(&mut self) -> io::Result<Output> {
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.spawn()?.wait_with_output()
    }
}

/// Spawns `command` as PID 1 of a new PID namespace: when it ends, the kernel
/// kills every process left in the namespace (pid_namespaces(7)).
pub fn spawn_as_init(command: &mut Command) -> io::Result<Child> {
    with_children_in(|| unshare(CloneFlags::CLONE_NEWPID), || command.spawn())
}

/// Runs `spawn` with the calling thread's children going to the PID namespace
/// `enter` picks, then puts the thread's children back into its own namespace.
fn with_children_in(
    enter: impl FnOnce() -> nix::Result<()>,
    spawn: impl FnOnce() -> io::Result<Child>,
) -> io::Result<Child> {
    let own = File::open("/proc/thread-self/ns/pid")?;
    enter()?;
    let spawned = spawn();
    // setns(2) may always re-enter the caller's own (active) PID namespace.
    let restored = setns(&own, CloneFlags::CLONE_NEWPID);
    let child = spawned?;
    restored?;
    Ok(child)
}

/// In the child: a mount namespace of its own, copied from the pod's small one,
/// with a /proc that shows the child's PID namespace.
fn own_proc() -> io::Result<()> {
    unshare(CloneFlags::CLONE_NEWNS)?;
    let _ = umount2(c"/proc", MntFlags::MNT_DETACH);
    mount(
        Some(c"proc"),
        c"/proc",
        Some(c"proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )?;
    Ok(())
}

/// In the child: SIGKILL when the thread that spawned it ends (prctl(2)). For a
/// PID 1 that takes its whole PID namespace along.
fn die_with_parent() -> io::Result<()> {
    // SAFETY: prctl is async-signal-safe.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A working directory inside the pod, with each of its ancestors, prepared
/// before fork.
struct WorkDir {
    /// "/a", "/a/b", ... ending with the directory itself.
    prefixes: Vec<CString>,
}

impl WorkDir {
    fn new(dir: &str) -> Result<WorkDir> {
        if !dir.starts_with('/') {
            bail!("working directory {dir:?} is not an absolute path");
        }
        let mut prefixes = Vec::new();
        let mut path = std::path::PathBuf::from("/");
        for part in Path::new(dir).components().skip(1) {
            path.push(part);
            prefixes.push(super::pod_root::c_path(&path)?);
        }
        if prefixes.is_empty() {
            prefixes.push(CString::from(c"/"));
        }
        Ok(WorkDir { prefixes })
    }

    /// In the child: mkdir -p, then chdir.
    fn enter(&self) -> io::Result<()> {
        for dir in &self.prefixes {
            // SAFETY: mkdir is async-signal-safe; EEXIST and the like are left to chdir.
            unsafe { libc::mkdir(dir.as_ptr(), 0o755) };
        }
        let last = self.prefixes.last().expect("at least /");
        nix::unistd::chdir(last.as_c_str())?;
        Ok(())
    }
}

fn split(argv: &[String]) -> Result<(&String, &[String])> {
    argv.split_first().context("empty command")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_working_directory_is_made_with_its_ancestors() {
        let dir = WorkDir::new("/srv/app/data").unwrap();
        assert_eq!(
            dir.prefixes,
            [c"/srv", c"/srv/app", c"/srv/app/data"].map(CString::from)
        );
        assert_eq!(WorkDir::new("/").unwrap().prefixes, [CString::from(c"/")]);
        assert!(WorkDir::new("srv").is_err());
    }
}
