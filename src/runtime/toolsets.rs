//! The lab's toolsets directory: one directory of symlinks per toolset of the
//! image table (`cluster::images`), made once per lab and shown read-only in
//! every pod, where a container's PATH starts with its image's toolset.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cluster::images::{Tools, toolsets};
use crate::files;
use crate::store;

use super::env::DEFAULT_PATH;

/// Makes `<lab dir>/tools/<toolset>/` unless a supervisor made it before; returns it.
pub fn prepare(lab_dir: &Path) -> Result<PathBuf> {
    let dir = lab_dir.join("tools");
    if dir.is_dir() {
        return Ok(dir);
    }
    let draft = lab_dir.join("tools.new");
    let _ = std::fs::remove_dir_all(&draft);
    files::create_dir_all_with_mode(&draft, store::PRIVATE_DIR_MODE)?;
    let busybox = find_on_path("busybox");
    let applets = busybox.as_deref().map(busybox_applets).unwrap_or_default();
    for toolset in toolsets() {
        let set_dir = draft.join(toolset.name);
        files::create_dir_all_with_mode(&set_dir, 0o755)?;
        let links: Vec<(String, PathBuf)> = match toolset.tools {
            Tools::BusyboxApplets => match &busybox {
                Some(busybox) => applets.iter().map(|a| (a.clone(), busybox.clone())).collect(),
                None => Vec::new(),
            },
            Tools::Commands(commands) => commands
                .iter()
                .filter_map(|command| {
                    let from_busybox = || busybox.clone().filter(|_| applets.iter().any(|a| a == command));
                    find_on_path(command)
                        .or_else(from_busybox)
                        .map(|path| (command.to_string(), path))
                })
                .collect(),
        };
        for (name, target) in links {
            add_tool(&set_dir.join(&name), &target)?;
        }
    }
    std::fs::rename(&draft, &dir).with_context(|| format!("rename {} to {}", draft.display(), dir.display()))?;
    Ok(dir)
}

/// `link` runs `target`: a hard link when `target` is a regular file on the same file
/// system — it allocates no inode, where each of busybox's ≈260 symlinks costs an
/// ext4 inode (≈0.7 ms each on a /run that is ext4: `ext4_new_inode` scanning for
/// recently deleted inodes) — else a symlink. Hard links to symlinks are never made:
/// a relative target would then resolve from the toolset directory.
fn add_tool(link: &Path, target: &Path) -> Result<()> {
    let is_file = std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_file());
    if is_file && std::fs::hard_link(target, link).is_ok() {
        return Ok(());
    }
    std::os::unix::fs::symlink(target, link).with_context(|| format!("symlink {}", link.display()))
}

/// The first executable `command` on the containers' default PATH.
fn find_on_path(command: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    DEFAULT_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(command))
        .find(|path| {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `busybox --list`: one applet name a line.
fn busybox_applets(busybox: &Path) -> Vec<String> {
    std::process::Command::new(busybox)
        .arg("--list")
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|name| !name.is_empty() && !name.contains('/'))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
