use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cluster::LabState;
use crate::cluster::apply::ObjectRef;
use crate::lab::{live, manifests};
use crate::spec::{self, Object};
use crate::store::Store;

use super::args::LabArg;
use super::labs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    lab: LabArg,
    /// Manifest file (multi-document YAML); `-` reads standard input
    #[arg(short = 'f', long = "filename", required = true)]
    file: PathBuf,
}

/// `labctl apply -f FILE`: create or change the file's objects in a running lab.
pub fn run(args: Args) -> Result<i32> {
    let store = Store::open();
    let lab = args.lab.select(&store)?;
    let objects = load_manifests(&lab, &args.file)?;
    print_lines(live::apply(&store, &lab.name, &objects)?);
    Ok(0)
}

/// `labctl delete -f FILE`: remove the file's objects from a running lab.
pub fn delete(lab: Option<&str>, file: &Path) -> Result<i32> {
    let store = Store::open();
    let lab = labs::select(&store, lab)?;
    let refs: Vec<ObjectRef> = load_manifests(&lab, file)?.iter().map(ObjectRef::of).collect();
    print_lines(live::delete_objects(&store, &lab.name, &refs)?);
    Ok(0)
}

pub fn print_lines(lines: Vec<String>) {
    for line in lines {
        println!("{line}");
    }
}

/// Reads a manifest file (`-`: standard input) and checks it against the running
/// lab; prints its warnings.
fn load_manifests(lab: &LabState, file: &Path) -> Result<Vec<Object>> {
    let (label, text) = read_manifest(file)?;
    let loaded = manifests::parse(lab, &label, &text)?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    Ok(loaded.objects)
}

/// The file's name for messages and its text; `-` is standard input, as for kubectl.
/// Both are read as the topology loader reads files: bounded, regular files only.
fn read_manifest(file: &Path) -> Result<(String, String)> {
    let (label, text) = if file == Path::new("-") {
        ("<stdin>".to_string(), spec::read_stdin())
    } else {
        (file.display().to_string(), spec::read_source(file))
    };
    let text = text.map_err(|e| match e.hint() {
        Some(hint) => anyhow::anyhow!("cannot read {label}: {e}\n  hint: {hint}"),
        None => anyhow::anyhow!("cannot read {label}: {e}"),
    })?;
    Ok((label, text))
}
