//! /run/labctl/<lab>/: the lab's saved state, so that every later command (and
//! destroy, even after the topology file changed) works from what was deployed.
//! Files are written atomically (write + rename); a flock serialises writers.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::fcntl::{Flock, FlockArg};

use crate::cluster::LabState;

pub const DEFAULT_ROOT: &str = "/run/labctl";

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

    fn dir(&self, lab: &str) -> PathBuf {
        self.root.join(lab)
    }

    /// The lab's state directory (for the supervisor's pid and log files).
    pub fn lab_dir(&self, lab: &str) -> PathBuf {
        self.dir(lab)
    }

    /// Claims a lab name: creating its directory is atomic, so of two deploys of the
    /// same name only one gets here. Fails if the lab exists.
    pub fn create(&self, lab: &str) -> Result<LabLock> {
        fs::create_dir_all(&self.root).with_context(|| format!("create {}", self.root.display()))?;
        match fs::create_dir(self.dir(lab)) {
            Ok(()) => self.lock(lab),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => bail!("lab {lab:?} already exists"),
            Err(e) => Err(e).with_context(|| format!("create {}", self.dir(lab).display())),
        }
    }

    pub fn exists(&self, lab: &str) -> bool {
        self.dir(lab).is_dir()
    }

    fn lock_file(&self, lab: &str) -> Result<(File, PathBuf)> {
        let path = self.dir(lab).join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("open {}", path.display()))?;
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
        write_atomic(&self.dir(&state.name).join("state.json"), &json)
    }

    pub fn set_phase(&self, lab: &str, phase: Phase, _lock: &LabLock) -> Result<()> {
        write_atomic(&self.dir(lab).join("phase"), phase.as_str().as_bytes())
    }

    pub fn phase(&self, lab: &str) -> Phase {
        fs::read_to_string(self.dir(lab).join("phase"))
            .map(|s| Phase::parse(&s))
            .unwrap_or(Phase::Deploying)
    }

    pub fn load(&self, lab: &str) -> Result<LabState> {
        let path = self.dir(lab).join("state.json");
        let bytes = fs::read(&path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("parse {}", path.display()))
    }

    /// Names of the labs that have state here, sorted.
    pub fn list(&self) -> Vec<String> {
        let mut labs: Vec<String> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        labs.sort();
        labs
    }

    /// Removes the lab's directory (and the root, once no lab is left).
    pub fn remove(&self, lab: &str, lock: LabLock) -> Result<()> {
        let dir = self.dir(lab);
        let result = match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e).with_context(|| format!("remove {}", dir.display())),
            _ => Ok(()),
        };
        drop(lock);
        let _ = fs::remove_dir(&self.root);
        result
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).with_context(|| format!("create {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path).with_context(|| format!("rename {} to {}", tmp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_name_can_be_claimed_once() {
        let root = std::env::temp_dir().join(format!("labctl-store-{}", std::process::id()));
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
}
