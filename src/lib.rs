//! labctl: a Kubernetes-shaped network lab out of real Linux kernel parts.

pub mod cli;
pub mod clock;
pub mod cluster;
pub mod dns;
pub mod files;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixture;
pub mod kernel;
pub mod lab;
pub mod output;
pub mod proxy;
pub mod runtime;
pub mod spec;
pub mod store;
pub mod verify;
