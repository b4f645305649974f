//! What keeps a lab alive after the CLI exits: the per-lab supervisor process.

pub mod images;
pub mod supervisor;
