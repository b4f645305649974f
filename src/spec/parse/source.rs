//! Reading the files a topology is made of: regular files only, and only so much of
//! them, so that `manifests: [/dev/zero]` cannot fill memory and a FIFO cannot hang
//! labctl.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most labctl reads of one file: far above any real manifest (the API server
/// refuses a request body over 3 MiB).
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// The most labctl reads for one topology and all of its manifest files together.
pub const MAX_TOTAL_BYTES: u64 = 64 << 20;

#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// What the path is instead: "a FIFO", "a directory", ...
    NotRegular(&'static str),
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// Past what is left of [`MAX_TOTAL_BYTES`] after the files read before it.
    TotalTooLarge,
    NotUtf8,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(error) => write!(f, "{error}"),
            ReadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge => write!(f, "it is larger than {} MiB", MAX_FILE_BYTES >> 20),
            ReadError::TotalTooLarge => write!(
                f,
                "with the files read before it, the topology is larger than {} MiB",
                MAX_TOTAL_BYTES >> 20
            ),
            ReadError::NotUtf8 => write!(f, "it is not UTF-8 text"),
        }
    }
}

impl ReadError {
    /// What to do about it, when there is more to say than the path.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ReadError::NotRegular(_) => Some("topologies and manifests are read from regular files"),
            ReadError::TooLarge | ReadError::TotalTooLarge => Some(
                "labctl reads at most 16 MiB per file and 64 MiB per topology with its manifests; split the objects over smaller files",
            ),
            ReadError::NotUtf8 => Some("save the file as UTF-8"),
            ReadError::Io(_) => None,
        }
    }
}

/// The text of the regular file at `path`, refused past [`MAX_FILE_BYTES`] or past
/// `budget`, what is left of [`MAX_TOTAL_BYTES`]; the budget shrinks by what was read.
pub fn read_text(path: &Path, budget: &mut u64) -> Result<String, ReadError> {
    let (max_bytes, too_large) = if *budget < MAX_FILE_BYTES {
        (*budget, ReadError::TotalTooLarge)
    } else {
        (MAX_FILE_BYTES, ReadError::TooLarge)
    };
    let text = read_regular(path, max_bytes).map_err(|error| match error {
        ReadError::TooLarge => too_large,
        error => error,
    })?;
    *budget -= text.len() as u64;
    Ok(text)
}

fn read_regular(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    // stat first, so that a device is never opened (opening one can have effects)...
    let metadata = std::fs::metadata(path).map_err(ReadError::Io)?;
    check_regular(&metadata.file_type())?;
    // ...and again on what was opened, in case the path changed in between. O_NONBLOCK
    // makes opening a FIFO return at once instead of waiting for a writer (fifo(7)).
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(ReadError::Io)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    check_regular(&metadata.file_type())?;
    if metadata.len() > max_bytes {
        return Err(ReadError::TooLarge);
    }
    read_at_most(file, max_bytes)
}

fn check_regular(file_type: &std::fs::FileType) -> Result<(), ReadError> {
    let kind = if file_type.is_file() {
        return Ok(());
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(ReadError::NotRegular(kind))
}

/// Standard input (`apply -f -`), bounded like one file.
pub fn read_stdin() -> Result<String, ReadError> {
    read_at_most(io::stdin().lock(), MAX_FILE_BYTES)
}

/// A file may grow after its size was checked: read one byte past the limit to know.
fn read_at_most(input: impl Read, max_bytes: u64) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    input
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_without_reading() {
        let zero = read_text(Path::new("/dev/zero"), &mut { MAX_TOTAL_BYTES }).unwrap_err();
        assert_eq!(zero.to_string(), "it is a character device, not a regular file");
        let dir = read_text(Path::new("/"), &mut { MAX_TOTAL_BYTES }).unwrap_err();
        assert_eq!(dir.to_string(), "it is a directory, not a regular file");
    }

    #[test]
    fn files_past_the_total_are_refused() {
        let path = crate::fixture::scratch_path("source");
        std::fs::write(&path, "name: lab\n").unwrap();
        let mut budget = 19;
        assert_eq!(read_text(&path, &mut budget).unwrap(), "name: lab\n");
        assert_eq!(budget, 9);
        assert!(matches!(read_text(&path, &mut budget), Err(ReadError::TotalTooLarge)));
        std::fs::remove_file(&path).unwrap();
    }
}
