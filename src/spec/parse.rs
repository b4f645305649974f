//! Reading a topology file and the manifests it lists into the model, then checking the
//! whole of it. Every problem found is reported, each with its place and a hint.

mod manifests;
mod pod;
mod service;
mod source;
mod topology;
mod workload;
mod yaml;

pub use self::source::ReadError;
pub(crate) use self::topology::{DEFAULT_NODE_SUBNET, DEFAULT_POD_SUBNET, DEFAULT_SERVICE_SUBNET};

use std::path::Path;

use self::manifests::Sources;
use self::yaml::Cx;
use super::validate;
use super::{Pos, SpecError, SpecErrors, Topology};

/// The text of a topology or manifest file, read as the loader reads it: a regular
/// file, at most `MAX_FILE_BYTES`.
pub fn read_source(path: &Path) -> Result<String, ReadError> {
    source::read_text(path, &mut { source::MAX_TOTAL_BYTES })
}

/// Standard input (`apply -f -`), bounded as a file is.
pub fn read_stdin() -> Result<String, ReadError> {
    source::read_stdin()
}

/// Reads the topology file at `path`; manifest paths are relative to its directory.
pub fn load(path: &Path) -> Result<Topology, SpecErrors> {
    let file = path.display().to_string();
    let text = read_source(path).map_err(|error| {
        let pos = Pos {
            file: file.clone(),
            line: 1,
            col: 1,
        };
        SpecError::new(&pos, format!("cannot read the topology file: {error}"))
            .hint(error.hint().unwrap_or("check the path of the topology file"))
    })?;
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    load_str(&file, &text, base_dir)
}

/// Reads a topology given as text. `file` is how it is named in messages; manifest files
/// are read from `base_dir` and named relative to `file`'s directory.
pub fn load_str(file: &str, text: &str, base_dir: &Path) -> Result<Topology, SpecErrors> {
    load_str_in(file, text, base_dir, &[])
}

/// Like [`load_str`], for objects added to a running lab whose namespaces
/// `existing_namespaces` need no declaration.
pub fn load_str_in(
    file: &str,
    text: &str,
    base_dir: &Path,
    existing_namespaces: &[String],
) -> Result<Topology, SpecErrors> {
    let sources = Sources {
        topology_file: file.to_string(),
        read_dir: base_dir.to_path_buf(),
        display_dir: Path::new(file).parent().unwrap_or(Path::new("")).to_path_buf(),
    };
    let mut cx = Cx::new(file);
    cx.bytes_left = source::MAX_TOTAL_BYTES.saturating_sub(text.len() as u64);
    let mut topology = topology::parse(&mut cx, text, &sources);
    if let Some(topology) = &mut topology {
        topology.existing_namespaces = existing_namespaces.to_vec();
        cx.errors.extend(validate::validate(topology, &cx.named_target_ports));
    }
    match topology {
        Some(topology) => finish(cx, topology),
        None => Err(SpecErrors(in_reading_order(cx.errors, &cx.files, |e| &e.pos))),
    }
}

/// Reads manifest text (`kubectl apply -f` YAML, `file` naming it in messages) to be
/// added to a running lab: `lab` carries the lab's name, nodes, networking and
/// existing namespaces, and the objects are checked against them as a topology's are.
pub fn load_manifests(file: &str, text: &str, lab: Topology) -> Result<Topology, SpecErrors> {
    let mut cx = Cx::new(file);
    let mut topology = Topology {
        file: file.to_string(),
        objects: Vec::new(),
        warnings: Vec::new(),
        ..lab
    };
    manifests::parse_documents(&mut cx, text, &mut topology.objects);
    cx.errors.extend(validate::validate(&topology, &cx.named_target_ports));
    finish(cx, topology)
}

fn finish(cx: Cx, mut topology: Topology) -> Result<Topology, SpecErrors> {
    if !cx.errors.is_empty() {
        return Err(SpecErrors(in_reading_order(cx.errors, &cx.files, |e| &e.pos)));
    }
    topology.warnings = in_reading_order(cx.warnings, &cx.files, |(pos, _)| pos)
        .into_iter()
        .map(|(_, warning)| warning)
        .collect();
    Ok(topology)
}

/// Diagnostics sorted by file (in the order files were read) and by place within each file.
fn in_reading_order<T>(mut items: Vec<T>, files: &[String], pos: impl Fn(&T) -> &Pos) -> Vec<T> {
    items.sort_by_cached_key(|item| {
        let pos = pos(item);
        (files.iter().position(|f| *f == pos.file), pos.line, pos.col)
    });
    items
}

#[cfg(test)]
#[path = "parse_rules_tests.rs"]
mod rules_tests;
#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
