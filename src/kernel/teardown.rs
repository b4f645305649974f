//! Removes a lab's namespaces, best effort.
//!
//! Deleting a namespace is enough: once its last reference goes, the kernel
//! reaps its links (the peers of its veths included) in the background, far
//! faster than deleting links one by one.

use super::{netns, threads};

/// Deletes every named namespace and its /etc/netns directory; keeps going
/// past errors and returns them all. Missing namespaces are not errors.
pub fn teardown(netns_names: &[String]) -> Vec<anyhow::Error> {
    threads::map(netns_names, threads::default_count(), |name| netns::delete(name))
        .into_iter()
        .filter_map(Result::err)
        .collect()
}
