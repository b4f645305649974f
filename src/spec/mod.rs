//! Topology and manifest parsing and validation; every error carries file:line:col.

pub mod error;
pub mod model;
mod parse;
mod validate;

pub use error::{SpecError, SpecErrors};
pub use model::*;
pub use parse::{ReadError, load, load_manifests, load_str, load_str_in, read_source, read_stdin};
pub use validate::lab_name_problem;
