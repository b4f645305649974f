//! What keeps a lab alive after the CLI exits: the per-lab supervisor process.

pub mod env;
pub mod hostname_http;
pub mod kubelet;
pub mod probe;
pub mod sandbox;
pub mod services;
pub mod supervisor;
pub mod toolsets;
