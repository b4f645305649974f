use std::path::Path;

use super::{SpecErrors, Topology};

pub fn load(_path: &Path) -> Result<Topology, SpecErrors> {
    todo!()
}

pub fn load_str(_file: &str, _text: &str, _base_dir: &Path) -> Result<Topology, SpecErrors> {
    todo!()
}
