//! A pod's private root filesystem, built by its sandbox process inside the
//! pod's own mount namespace, and the small template namespace those are made
//! from.
//!
//! The root is an overlay of the host's root filesystem (read-only lower layer)
//! under a writable layer on a tmpfs of the pod's own, so a pod's writes never
//! reach the host and vanish with the pod, and cost no file creation on disk.
//! The same tmpfs holds the pod's /tmp, /run and a minimal /dev (as runc builds
//! one: a few device nodes, a devpts instance of its own); /proc, /sys and the
//! pod's /etc/hosts, /etc/resolv.conf and /etc/hostname are the pod's own too.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::{Mode, SFlag, makedev, mknod};
use nix::unistd::{chdir, mkdir, pivot_root, symlinkat};

use super::netns;

/// Where the lab's image toolsets appear inside every pod (read-only).
pub const TOOLS_IN_POD: &str = "/opt/labctl/tools";

/// What goes into a pod's root besides the host's files.
pub struct PodRoot<'a> {
    /// (file name under /etc, contents): hosts, resolv.conf, hostname.
    pub etc_files: &'a [(String, String)],
    /// The lab's toolsets directory, shown read-only at [`TOOLS_IN_POD`].
    pub tools: Option<&'a Path>,
    /// (a file of the host, where the pod sees it): labctl itself, which runs the
    /// built-in servers and may live outside the root filesystem.
    pub labctl: Option<(&'a Path, &'a Path)>,
}

/// Where the pod's tmpfs is put together before the pivot; any directory of the
/// template namespace that the pod no longer sees afterwards.
const STAGE: &str = "/tmp";

/// Every mount of the caller's mount namespace stops propagating, both ways.
fn make_all_private() -> nix::Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
}

/// Builds the pod's root and makes it the calling process's root and working
/// directory. The caller must be alone in a mount namespace of its own (a fresh
/// single-threaded process after unshare(CLONE_NEWNS)) and in the pod's network
/// and PID namespaces (sysfs and procfs show the namespaces of who mounts them).
pub fn build_and_enter(pod: &PodRoot) -> Result<()> {
    // pivot_root(2) refuses shared mounts; nothing of the pod may propagate out.
    make_all_private().context("make the mount namespace private")?;
    // Modes below are exact (mkdir(2) on Linux keeps the sticky bit too).
    nix::sys::stat::umask(Mode::empty());
    // The stage may cover the host's files that go into the pod: hold them first.
    let tools = pod.tools.map(open_path).transpose()?;
    let labctl = pod.labctl.map(|(file, _)| open_path(file)).transpose()?;
    let stage = Path::new(STAGE);
    mount(
        Some("labctl-pod"),
        stage,
        Some("tmpfs"),
        MsFlags::MS_NOSUID,
        Some("mode=0755"),
    )
    .context("mount the pod's tmpfs")?;
    for (dir, mode) in [
        ("upper", 0o755),
        ("work", 0o755),
        ("root", 0o755),
        ("tmp", 0o1777),
        ("run", 0o755),
    ] {
        make_dir(&stage.join(dir), mode)?;
    }
    // The pod's /etc files go straight into the writable layer, where they hide
    // the host's (no copy-up, no whiteout); the pod may change them.
    write_etc_files(&stage.join("upper"), pod.etc_files)?;
    let root = stage.join("root");
    // overlayfs(5): the lower layer is the root filesystem itself, not the mounts on it.
    let layers = format!("lowerdir=/,upperdir={STAGE}/upper,workdir={STAGE}/work");
    mount(
        Some("overlay"),
        &root,
        Some("overlay"),
        MsFlags::empty(),
        Some(layers.as_str()),
    )
    .context("mount the pod's overlay root over /")?;
    let dev = stage.join("dev");
    make_dev(&dev)?;
    bind(&dev, &root.join("dev"))?;
    mount(
        Some("devpts"),
        &root.join("dev/pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .context("mount the pod's devpts")?;
    bind(&stage.join("tmp"), &root.join("tmp"))?;
    bind(&stage.join("run"), &root.join("run"))?;
    let kernel_fs = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), &root.join("proc"), Some("proc"), kernel_fs, None::<&str>).context("mount the pod's /proc")?;
    // Read-only, as for a Kubernetes container that is not privileged.
    mount(
        Some("sysfs"),
        &root.join("sys"),
        Some("sysfs"),
        kernel_fs | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .context("mount the pod's /sys")?;
    if let Some(tools) = &tools {
        let target = root.join(TOOLS_IN_POD.trim_start_matches('/'));
        std::fs::create_dir_all(&target).with_context(|| format!("create {TOOLS_IN_POD} in the pod"))?;
        bind_read_only(&fd_path(tools), &target)?;
    }
    if let (Some(file), Some((_, in_pod))) = (&labctl, pod.labctl) {
        let target = root.join(in_pod.strip_prefix("/").unwrap_or(in_pod));
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {} in the pod", dir.display()))?;
        }
        std::fs::write(&target, b"").with_context(|| format!("create {} in the pod", in_pod.display()))?;
        bind_read_only(&fd_path(file), &target)?;
    }
    // pivot_root(2), "pivot_root(".", ".")": the old root ends up on top of the new
    // one and is detached at once, with the staging tmpfs mount and every host mount.
    chdir(&root).context("enter the pod's root")?;
    pivot_root(".", ".").context("pivot_root into the pod's root")?;
    umount2(".", MntFlags::MNT_DETACH).context("detach the host's root")?;
    chdir("/").context("chdir /")?;
    Ok(())
}

fn write_etc_files(upper: &Path, files: &[(String, String)]) -> Result<()> {
    make_dir(&upper.join("etc"), 0o755)?;
    for (name, contents) in files {
        crate::files::write_with_mode(&upper.join("etc").join(name), contents.as_bytes(), 0o644)
            .with_context(|| format!("write /etc/{name} in the pod"))?;
    }
    Ok(())
}

/// A minimal /dev (runc's default devices and links, libcontainer/rootfs_linux.go).
fn make_dev(dev: &Path) -> Result<()> {
    make_dir(dev, 0o755)?;
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        let path = dev.join(name);
        mknod(
            &path,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(major, minor),
        )
        .with_context(|| format!("mknod /dev/{name}"))?;
        // mknod(2) applies the umask.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        symlinkat(target, nix::fcntl::AT_FDCWD, &dev.join(name)).with_context(|| format!("symlink /dev/{name}"))?;
    }
    make_dir(&dev.join("pts"), 0o755)?;
    make_dir(&dev.join("shm"), 0o1777)?;
    Ok(())
}

fn make_dir(path: &Path, mode: u32) -> Result<()> {
    mkdir(path, Mode::from_bits_truncate(mode)).with_context(|| format!("mkdir {}", path.display()))
}

/// An O_PATH handle (open(2)): names the file without opening it for I/O.
fn open_path(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(path)
        .with_context(|| format!("open {}", path.display()))
}

/// The file a handle names, for mount(2).
fn fd_path(file: &File) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// A bind mount is made read-only by a second call (mount(2), MS_BIND with MS_REMOUNT).
fn bind_read_only(source: &Path, target: &Path) -> Result<()> {
    bind(source, target)?;
    mount(
        None::<&str>,
        target,
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .with_context(|| format!("make {} read-only", target.display()))
}

fn bind(source: &Path, target: &Path) -> Result<()> {
    mount(Some(source), target, None::<&str>, MsFlags::MS_BIND, None::<&str>)
        .with_context(|| format!("bind {} on {}", source.display(), target.display()))
}

/// A mount namespace for pods to start from: a private copy of the host's without
/// the mounts under /run/netns (one per network namespace of every lab). Creating
/// a mount namespace copies the creator's whole mount table (copy_tree), so
/// starting each pod from the host's would cost time in proportion to the number
/// of pods on the machine. Made once per supervisor, on a thread of its own that
/// ends at once; the handle keeps the namespace alive.
pub fn template_namespace() -> Result<File> {
    std::thread::spawn(|| -> Result<File> {
        // CLONE_NEWNS implies CLONE_FS (unshare(2)): only this thread moves.
        unshare(CloneFlags::CLONE_NEWNS)
            .map_err(io::Error::from)
            .context("unshare(CLONE_NEWNS)")?;
        make_all_private().context("make the template namespace private")?;
        let mountinfo = std::fs::read_to_string("/proc/thread-self/mountinfo").context("read mountinfo")?;
        for point in mount_points_under(&mountinfo, netns::RUN_DIR).iter().rev() {
            match umount2(point.as_path(), MntFlags::MNT_DETACH) {
                // EINVAL/ENOENT: already gone with a mount above it.
                Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
                Err(e) => return Err(io::Error::from(e)).with_context(|| format!("umount {}", point.display())),
            }
        }
        File::open("/proc/thread-self/ns/mnt").context("open the template mount namespace")
    })
    .join()
    .map_err(|_| anyhow::anyhow!("template mount namespace thread panicked"))?
}

/// Mount points at or below `dir`, in mountinfo order (proc_pid_mountinfo(5):
/// field 5, with spaces and the like octal-escaped).
fn mount_points_under(mountinfo: &str, dir: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_octal)
        .filter(|point| point == dir || point.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/')))
        .map(PathBuf::from)
        .collect()
}

fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A path for use between fork and exec.
pub fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).with_context(|| format!("path {} holds a NUL byte", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netns_mounts_are_found_below_run_netns_only() {
        let info = "\
25 1 0:22 / /run rw - tmpfs tmpfs rw
40 25 0:22 /netns /run/netns rw shared:5 - tmpfs tmpfs rw
41 40 0:4 net:[1] /run/netns/a rw shared:6 - nsfs nsfs rw
42 40 0:4 net:[2] /run/netns/with\\040space rw shared:6 - nsfs nsfs rw
43 25 0:4 net:[3] /run/netnsx rw - nsfs nsfs rw
";
        assert_eq!(
            mount_points_under(info, "/run/netns"),
            ["/run/netns", "/run/netns/a", "/run/netns/with space"].map(PathBuf::from)
        );
    }
}
