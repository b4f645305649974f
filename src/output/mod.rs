//! kubectl-like tables and -o wide|yaml|json, containerlab-like inspect table.
//!
//! Everything here is a pure function of the lab state returning the text to print; the
//! caller does the printing (stdout for results, stderr for kubectl's
//! `No resources found…`).
//!
//! - [`age`]: kubectl's AGE column.
//! - [`table`]: kubectl's column layout (Go tabwriter, padding 3).
//! - [`get`]: `labctl get pods|nodes|services|endpointslices` in every `-o` format, and the
//!   Kubernetes-shaped objects behind `-o yaml|json`.
//! - [`inspect`]: containerlab's `inspect` table and JSON; [`summary`] for `deploy`.

pub mod describe;
#[cfg(test)]
use crate::fixture::kind as fixture;
pub mod get;
pub mod graph;
pub mod inspect;
mod json;
pub mod table;
mod time;
mod yaml;

pub use get::Format;
pub use inspect::{InspectFormat, summary};
pub use json::to_json;
pub use time::{age, human_duration};
pub use yaml::to_yaml;
