//! /run/labctl/<lab>/: the lab's saved state, so that every later command (and
//! destroy, even after the topology file changed) works from what was deployed.
//! Files are written atomically (write + rename); a flock serialises writers.
//! Every lab name is checked before it becomes a path. Modes are explicit, whatever
//! the umask: the root 0755 (anyone may see which labs exist, as /run/netns shows
//! anyway), each lab's directory 0700 and its files 0600, so that no other user can
//! read the state or hold the lock that root's commands wait for.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use nix::fcntl::{Flock, FlockArg};

use crate::cluster::LabState;
use crate::cluster::status::{self, PodStatusRecord};
use crate::files;

pub const DEFAULT_ROOT: &str = "/run/labctl";
const STATE_FILE: &str = "state.json";
const STATUS_FILE: &str = "status.json";
const ROOT_MODE: u32 = 0o755;
pub const PRIVATE_DIR_MODE: u32 = 0o700;
pub const PRIVATE_FILE_MODE: u32 = 0o600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Deploying,
    Running,
    Destroying,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Deploying => "deploying",
            Phase::Running => "running",
            Phase::Destroying => "destroying",
        }
    }

    fn parse(s: &str) -> Phase {
        match s.trim() {
            "running" => Phase::Running,
            "destroying" => Phase::Destroying,
            _ => Phase::Deploying,
        }
    }
}

pub struct Store {
    root: PathBuf,
}

/// Held while a command changes a lab; released on drop.
pub struct LabLock {
    _lock: Flock<File>,
}

impl Store {
    /// `LABCTL_RUN_DIR` overrides the root (for tests of the store itself).
    pub fn open() -> Store {
        let root = std::env::var_os("LABCTL_RUN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        Store { root }
    }

    pub fn at(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
        }
    }

    /// The lab's directory; refuses a name that is not a lab name, so that no
    /// caller can make the store touch a path outside its root.
    fn dir(&self, lab: &str) -> Result<PathBuf> {
        check_lab_name(lab)?;
        Ok(self.root.join(lab))
    }

    /// The lab's state directory (for the supervisor's pid and log files).
    pub fn lab_dir(&self, lab: &str) -> Result<PathBuf> {
        self.dir(lab)
    }

    /// Claims a lab name: creating its directory is atomic, so of two deploys of the
    /// same name only one gets here. Fails if the lab exists.
    pub fn create(&self, lab: &str) -> Result<LabLock> {
        let dir = self.dir(lab)?;
        files::create_dir_all_with_mode(&self.root, ROOT_MODE)
            .with_context(|| format!("create {}", self.root.display()))?;
        match files::create_dir_with_mode(&dir, PRIVATE_DIR_MODE) {
            Ok(()) => self.lock(lab),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => bail!("lab {lab:?} already exists"),
            Err(e) => Err(e).with_context(|| format!("create {}", dir.display())),
        }
    }

    /// Whether the lab has state here; false for anything that is not a lab name.
    pub fn exists(&self, lab: &str) -> bool {
        self.dir(lab).is_ok_and(|d| d.is_dir())
    }

    fn lock_file(&self, lab: &str) -> Result<(File, PathBuf)> {
        let path = self.dir(lab)?.join("lock");
        let file = open_private(OpenOptions::new().create(true).truncate(false).write(true), &path)
            .map_err(|e| readable_error(e, lab, &path))?;
        Ok((file, path))
    }

    /// Blocks until no other labctl changes this lab.
    pub fn lock(&self, lab: &str) -> Result<LabLock> {
        let (file, path) = self.lock_file(lab)?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .with_context(|| format!("lock {}", path.display()))?;
        Ok(LabLock { _lock: lock })
    }

    /// The lock if nobody holds it now (the supervisor never blocks on a CLI command).
    pub fn try_lock(&self, lab: &str) -> Result<Option<LabLock>> {
        let (file, path) = self.lock_file(lab)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(LabLock { _lock: lock })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(e).with_context(|| format!("lock {}", path.display())),
        }
    }

    pub fn save(&self, state: &LabState, _lock: &LabLock) -> Result<()> {
        let json = serde_json::to_vec_pretty(state)?;
        write_atomic(&self.dir(&state.name)?.join(STATE_FILE), &json)
    }

    pub fn set_phase(&self, lab: &str, phase: Phase, _lock: &LabLock) -> Result<()> {
        write_atomic(&self.dir(lab)?.join("phase"), phase.as_str().as_bytes())
    }

    /// The lab's phase; a lab whose phase was never written (or cannot be read)
    /// counts as still deploying.
    pub fn phase(&self, lab: &str) -> Phase {
        self.dir(lab)
            .and_then(|d| Ok(fs::read_to_string(d.join("phase"))?))
            .map(|s| Phase::parse(&s))
            .unwrap_or(Phase::Deploying)
    }

    /// The lab as users see it: the desired state with the pods' last reported status.
    pub fn load(&self, lab: &str) -> Result<LabState> {
        let mut state = self.load_desired(lab)?;
        status::apply(&mut state, &self.load_statuses(lab));
        Ok(state)
    }

    /// state.json alone: what commands asked for, with the pod status it was saved with.
    pub fn load_desired(&self, lab: &str) -> Result<LabState> {
        let path = self.dir(lab)?.join(STATE_FILE);
        let bytes = fs::read(&path).map_err(|e| readable_error(e, lab, &path))?;
        serde_json::from_slice(&bytes).with_context(|| format!("parse {}", path.display()))
    }

    /// Replaces the pods' reported status (the supervisor's kubelet is its only
    /// writer). Not synced to disk: after a crash the kubelet reports again.
    pub fn save_statuses(&self, lab: &str, records: &[PodStatusRecord]) -> Result<()> {
        let json = serde_json::to_vec(records)?;
        write_replacing(&self.dir(lab)?.join(STATUS_FILE), &json)
    }

    /// The last reported status; none when it is missing or unreadable (it is only
    /// ever behind by a kubelet round).
    fn load_statuses(&self, lab: &str) -> Vec<PodStatusRecord> {
        self.dir(lab)
            .ok()
            .and_then(|dir| fs::read(dir.join(STATUS_FILE)).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// The file whose change means the desired state changed.
    pub fn state_file(&self, lab: &str) -> Result<PathBuf> {
        Ok(self.dir(lab)?.join(STATE_FILE))
    }

    /// Names of the labs that have state here, sorted (entries that are not lab
    /// names are no labs).
    pub fn list(&self) -> Vec<String> {
        let mut labs: Vec<String> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| check_lab_name(name).is_ok())
            .collect();
        labs.sort();
        labs
    }

    /// Removes the lab's directory (and the root, once no lab is left).
    pub fn remove(&self, lab: &str, lock: LabLock) -> Result<()> {
        let dir = self.dir(lab)?;
        let result = match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e).with_context(|| format!("remove {}", dir.display())),
            _ => Ok(()),
        };
        drop(lock);
        let _ = fs::remove_dir(&self.root);
        result
    }
}

/// The lab name rule of the topology parser (`spec::lab_name_problem`), as an error.
pub fn check_lab_name(lab: &str) -> Result<()> {
    match crate::spec::lab_name_problem(lab) {
        Some((message, hint)) => Err(anyhow!("{message}\n  hint: {hint}")),
        None => Ok(()),
    }
}

/// Opens a file with `options`, created 0600 (an existing one is set to 0600).
pub fn open_private(options: &mut OpenOptions, path: &Path) -> std::io::Result<File> {
    files::open_with_mode(options, path, PRIVATE_FILE_MODE)
}

/// A lab's files are root's alone: say so instead of "Permission denied".
fn readable_error(e: std::io::Error, lab: &str, path: &Path) -> anyhow::Error {
    if e.kind() == ErrorKind::PermissionDenied {
        anyhow!(
            "the state of lab {lab} is readable by root only ({}); run labctl with sudo",
            path.display()
        )
    } else {
        anyhow::Error::new(e).context(format!("open {}", path.display()))
    }
}

/// Write + fsync + rename: after a crash the file holds the old or the new bytes.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_through_temp(path, bytes, true)
}

/// Write + rename, without the fsync: readers never see a half-written file, but a
/// crash of the machine may lose the last write.
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<()> {
    write_through_temp(path, bytes, false)
}

fn write_through_temp(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = open_private(OpenOptions::new().create(true).truncate(true).write(true), &tmp)
        .with_context(|| format!("create {}", tmp.display()))?;
    f.write_all(bytes)?;
    if sync {
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("rename {} to {}", tmp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_name_can_be_claimed_once() {
        let root = crate::fixture::scratch_path("store");
        let store = Store::at(&root);
        let lock = store.create("a").unwrap();
        assert!(store.create("a").is_err());
        assert_eq!(store.list(), vec!["a".to_string()]);
        store.set_phase("a", Phase::Running, &lock).unwrap();
        assert_eq!(store.phase("a"), Phase::Running);
        store.remove("a", lock).unwrap();
        assert!(store.list().is_empty());
        assert!(!root.exists());
    }

    #[test]
    fn the_store_builds_no_path_from_a_name_that_is_not_a_lab_name() {
        let root = crate::fixture::scratch_path("store-bad");
        let store = Store::at(&root);
        let victim = crate::fixture::scratch_path("store-victim");
        fs::create_dir_all(&victim).unwrap();
        let escape = format!("../{}", victim.file_name().unwrap().to_str().unwrap());
        for bad in ["", ".", "..", &escape, victim.to_str().unwrap(), "a/b", "A", "a.b"] {
            assert!(store.create(bad).is_err(), "{bad:?}");
            assert!(store.lock(bad).is_err(), "{bad:?}");
            assert!(store.load(bad).is_err(), "{bad:?}");
            assert!(store.lab_dir(bad).is_err(), "{bad:?}");
            assert!(!store.exists(bad), "{bad:?}");
        }
        assert!(victim.is_dir());
        fs::remove_dir_all(&victim).unwrap();
        let _ = fs::remove_dir_all(&root);
    }
}
