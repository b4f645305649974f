//! Network sysctls of a namespace, written through /proc/sys.
//!
//! /proc/sys/net shows the network namespace of the *thread* that looks the
//! path up (the kernel resolves it through `current->nsproxy->net_ns`), so a
//! value lands in a namespace only when written from a thread inside it.

use std::fs::File;
use std::io;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Writes `/proc/sys/KEY` (e.g. `net/ipv4/ip_forward`) in the calling
/// thread's namespaces.
pub fn write_here(key: &str, value: &str) -> io::Result<()> {
    if key.is_empty() || key.split('/').any(|part| part.is_empty() || part == "..") {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid sysctl key"));
    }
    std::fs::write(Path::new("/proc/sys").join(key), value)
}

/// Reads `/proc/sys/KEY` in the calling thread's namespaces, trimmed.
pub fn read_here(key: &str) -> io::Result<String> {
    Ok(std::fs::read_to_string(Path::new("/proc/sys").join(key))?
        .trim()
        .to_owned())
}

/// Writes (key, value) pairs inside `netns`, from a short-lived thread.
pub fn write_in(netns: &File, entries: &[(String, String)]) -> Result<()> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                super::threads::enter_netns(netns)?;
                for (key, value) in entries {
                    write_here(key, value).with_context(|| format!("sysctl {key}={value}"))?;
                }
                Ok(())
            })
            .join()
            .unwrap_or_else(|_| bail!("sysctl thread panicked"))
    })
}
