//! Files and directories created with exactly the mode asked for. open(2) and
//! mkdir(2) apply the process's umask, which only the caller of labctl chose: under
//! umask 000 a plain create would be world-writable. So the mode is set again with
//! fchmod/chmod after creating, and an existing file gets it too.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Opens a file with `options`, created with `mode`; an existing file is set to
/// `mode` as well.
pub fn open_with_mode(options: &mut OpenOptions, path: &Path, mode: u32) -> io::Result<File> {
    let file = options.mode(mode).open(path)?;
    file.set_permissions(Permissions::from_mode(mode))?;
    Ok(file)
}

/// Writes `contents` to `path` (created or truncated) with `mode`.
pub fn write_with_mode(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    open_with_mode(OpenOptions::new().create(true).truncate(true).write(true), path, mode)?.write_all(contents)
}

/// Creates `path` with `mode`; fails if it exists.
pub fn create_dir_with_mode(path: &Path, mode: u32) -> io::Result<()> {
    DirBuilder::new().mode(mode).create(path)?;
    fs::set_permissions(path, Permissions::from_mode(mode))
}

/// Creates `path` and its missing parents with `mode`; directories that exist
/// already are left as they are.
pub fn create_dir_all_with_mode(path: &Path, mode: u32) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all_with_mode(parent, mode)?;
    }
    match create_dir_with_mode(path, mode) {
        Err(e) if e.kind() == ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{Mode, umask};
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn modes_do_not_depend_on_the_umask() {
        let dir = crate::fixture::scratch_path("files");
        // Tests in this process that create files meanwhile get wider modes, never an error.
        let old = umask(Mode::empty());
        let nested = dir.join("a/b");
        create_dir_all_with_mode(&nested, 0o700).unwrap();
        write_with_mode(&nested.join("f"), b"x", 0o600).unwrap();
        umask(old);
        let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&nested.join("f")), 0o600);
        // an existing wider file is narrowed
        fs::set_permissions(nested.join("f"), Permissions::from_mode(0o666)).unwrap();
        write_with_mode(&nested.join("f"), b"y", 0o600).unwrap();
        assert_eq!(mode(&nested.join("f")), 0o600);
        fs::remove_dir_all(&dir).unwrap();
    }
}
