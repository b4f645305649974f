//! Work spread over short-lived std threads that may switch network
//! namespace freely (setns(2) and unshare(2) act on the calling thread
//! only). Never run such work on tokio's worker or blocking-pool threads:
//! they are reused.

use std::io;
use std::os::fd::AsFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use nix::sched::{CloneFlags, setns};

/// Runs `work` on every item, on up to `threads` fresh threads; results in
/// item order.
pub fn map<'a, T: Sync, R: Send>(items: &'a [T], threads: usize, work: impl Fn(&'a T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    let result = work(item);
                    results.lock().unwrap_or_else(|poison| poison.into_inner())[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner())
        .into_iter()
        .map(|result| result.expect("every item was processed"))
        .collect()
}

/// How many threads kernel-bound work is spread over.
pub fn default_count() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |count| count.get())
        .clamp(2, 8)
}

/// Moves the calling thread into `netns`; only for threads of [`map`] or
/// other dedicated threads.
pub fn enter_netns(netns: impl AsFd) -> Result<()> {
    setns(netns, CloneFlags::CLONE_NEWNET)
        .map_err(io::Error::from)
        .context("setns(CLONE_NEWNET)")
}
