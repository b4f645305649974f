//! Named network namespaces under /run/netns, compatible with `ip netns`
//! (ip-netns(8)): a namespace is kept alive by a bind mount of its nsfs file
//! onto `/run/netns/NAME`, and `/etc/netns/NAME/` holds the files that
//! `ip netns exec` bind-mounts over `/etc`.
//!
//! `create` leaves `lo` down, as `ip netns add` does; `kernel::apply` brings
//! every link up, `lo` included.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};

use crate::files;

pub const RUN_DIR: &str = "/run/netns";
pub const ETC_DIR: &str = "/etc/netns";

/// Creates the named namespace, like `ip netns add NAME`, without forking.
/// Fails if the name is taken, leaving the existing namespace alone.
pub fn create(name: &str) -> Result<()> {
    check_name(name)?;
    let name = name.to_owned();
    std::thread::spawn(move || create_on_this_thread(&name).map(drop))
        .join()
        .map_err(|_| anyhow::anyhow!("netns create thread panicked"))?
}

/// Creates the named namespace and moves the calling thread into it; returns
/// a handle on the new namespace. Only for dedicated threads that nothing
/// else will run on: the thread stays in the new namespace.
pub(crate) fn create_on_this_thread(name: &str) -> Result<File> {
    check_name(name)?;
    prepare_run_dir()?;
    let path = path_of(name);
    // Mode 0 and O_EXCL, as iproute2 does: the file only serves as a mount point.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o000)
        .open(&path)
        .with_context(|| format!("create netns {name}: {}", path.display()))?;
    let attached = unshare(CloneFlags::CLONE_NEWNET)
        .map_err(io::Error::from)
        .context("unshare(CLONE_NEWNET)")
        // /proc/self/ns/net names the thread-group leader's namespace; only
        // /proc/thread-self is this thread's (proc(5)).
        .and_then(|()| {
            mount(
                Some("/proc/thread-self/ns/net"),
                &path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(io::Error::from)
            .context("bind-mount /proc/thread-self/ns/net")
        })
        .and_then(|()| File::open("/proc/thread-self/ns/net").context("open new netns"));
    match attached {
        Ok(file) => Ok(file),
        Err(err) => {
            let _ = fs::remove_file(&path);
            Err(err.context(format!("create netns {name}")))
        }
    }
}

/// Removes the named namespace and its `/etc/netns/NAME/`, like
/// `ip netns delete NAME`. A missing namespace is not an error. The kernel
/// frees the namespace (and reaps its veths) once nothing else holds it.
pub fn delete(name: &str) -> Result<()> {
    check_name(name)?;
    let path = path_of(name);
    match umount2(&path, MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (a leftover file); ENOENT: already gone.
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(err) => {
            return Err(io::Error::from(err))
                .with_context(|| format!("delete netns {name}: umount {}", path.display()));
        }
    }
    remove_if_present(fs::remove_file(&path))
        .with_context(|| format!("delete netns {name}: remove {}", path.display()))?;
    let etc = etc_dir_of(name);
    remove_if_present(fs::remove_dir_all(&etc))
        .with_context(|| format!("delete netns {name}: remove {}", etc.display()))
}

pub fn exists(name: &str) -> bool {
    check_name(name).is_ok() && path_of(name).exists()
}

/// Names under /run/netns, sorted.
pub fn list() -> Vec<String> {
    list_dir(RUN_DIR)
}

fn list_dir(dir: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Names under /etc/netns, sorted.
pub fn list_etc() -> Vec<String> {
    list_dir(ETC_DIR)
}

/// A handle on the named namespace, for `setns(2)` or `IFLA_NET_NS_FD`.
pub fn open(name: &str) -> Result<File> {
    check_name(name)?;
    File::open(path_of(name)).with_context(|| format!("open netns {name}"))
}

pub fn path_of(name: &str) -> PathBuf {
    Path::new(RUN_DIR).join(name)
}

pub fn etc_dir_of(name: &str) -> PathBuf {
    Path::new(ETC_DIR).join(name)
}

/// Writes `/etc/netns/NAME/FILE` for each (file name, contents).
pub fn write_etc_files(name: &str, files: &[(String, String)]) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    check_name(name)?;
    let dir = etc_dir_of(name);
    // `ip netns exec` run by any user reads these: readable by all, writable by root.
    files::create_dir_all_with_mode(&dir, 0o755).with_context(|| format!("create {}", dir.display()))?;
    for (file, contents) in files {
        check_name(file).with_context(|| format!("etc file of netns {name}"))?;
        let path = dir.join(file);
        files::write_with_mode(&path, contents.as_bytes(), 0o644)
            .with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

/// A namespace or /etc file name must be one path component.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        bail!("invalid name {name:?}: must be one non-empty path component");
    }
    Ok(())
}

fn remove_if_present(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Makes /run/netns a shared mount point, as iproute2 does, so that a
/// namespace unmounted here is unmounted in every mount namespace that
/// copied it and can be freed (ip-netns(8)). Done once per process.
fn prepare_run_dir() -> Result<()> {
    static PREPARED: Mutex<bool> = Mutex::new(false);
    let mut prepared = PREPARED.lock().unwrap_or_else(|poison| poison.into_inner());
    if *prepared {
        return Ok(());
    }
    files::create_dir_all_with_mode(Path::new(RUN_DIR), 0o755).with_context(|| format!("create {RUN_DIR}"))?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").context("read /proc/self/mountinfo")?;
    let state = mount_state(&mountinfo, RUN_DIR);
    if state == MountState::NotMounted {
        mount(
            Some(RUN_DIR),
            RUN_DIR,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(io::Error::from)
        .with_context(|| format!("mount --bind {RUN_DIR} {RUN_DIR}"))?;
    }
    if state != MountState::Shared {
        mount(
            Some(""),
            RUN_DIR,
            Some("none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(io::Error::from)
        .with_context(|| format!("mount --make-shared {RUN_DIR}"))?;
    }
    *prepared = true;
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum MountState {
    NotMounted,
    Private,
    Shared,
}

/// The propagation state of the topmost mount at `mount_point`, per the
/// fields of /proc/PID/mountinfo (proc_pid_mountinfo(5)): field 5 is the
/// mount point, optional fields (up to "-") include "shared:N".
fn mount_state(mountinfo: &str, mount_point: &str) -> MountState {
    mountinfo
        .lines()
        .rev()
        .find_map(|line| {
            let mut fields = line.split(' ');
            let point = fields.nth(4)?;
            (point == mount_point).then(|| {
                let shared = fields
                    .skip(1)
                    .take_while(|field| *field != "-")
                    .any(|field| field.starts_with("shared:"));
                if shared {
                    MountState::Shared
                } else {
                    MountState::Private
                }
            })
        })
        .unwrap_or(MountState::NotMounted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_state_reads_the_last_matching_line() {
        let info = "\
25 1 0:22 / /run rw,nosuid - tmpfs tmpfs rw
40 25 0:22 /netns /run/netns rw,nosuid shared:5 - tmpfs tmpfs rw
41 40 0:4 net:[4026532300] /run/netns/a rw shared:6 - nsfs nsfs rw
";
        assert_eq!(mount_state(info, "/run/netns"), MountState::Shared);
        assert_eq!(mount_state(info, "/run"), MountState::Private);
        assert_eq!(mount_state(info, "/nope"), MountState::NotMounted);
    }

    #[test]
    fn names_are_single_path_components() {
        assert!(check_name("lab.default.redis-0").is_ok());
        for bad in ["", ".", "..", "a/b", "../x"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
