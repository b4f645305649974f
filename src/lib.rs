//! labctl: a Kubernetes-shaped network lab out of real Linux kernel parts.

pub mod cli;
pub mod clock;
pub mod cluster;
pub mod kernel;
pub mod output;
pub mod runtime;
pub mod spec;
pub mod store;
