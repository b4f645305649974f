//! Every bad topology — the parser's (`tests/bad_input/`) and the cluster layer's
//! (`tests/bad_lab/`: address conflicts, full blocks, unknown nodes) — is refused by
//! `labctl deploy` with `file:line:col: error: …` and a hint, exit code non-zero, and
//! nothing created on the host. Each file's first line is `# expect: LINE:COL MESSAGE`.
//! (Its own test binary, so no other test deploys while the host is compared.)

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn host_traces() -> (Vec<String>, Vec<String>, Vec<String>) {
    let list = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        v.sort();
        v
    };
    (list("/run/netns"), list("/run/labctl"), list("/etc/netns"))
}

fn expectation(file: &Path) -> (String, String) {
    let text = std::fs::read_to_string(file).unwrap();
    let first = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("# expect: ")
        .expect("first line is # expect:");
    let (place, message) = first.split_once(' ').unwrap();
    (place.to_string(), message.trim().to_string())
}

#[test]
fn every_bad_file_is_refused_by_the_cli() {
    require_root!();
    let all: Vec<PathBuf> = files("tests/bad_input")
        .into_iter()
        .chain(files("tests/bad_lab"))
        .collect();
    assert!(all.len() >= 15, "at least 15 bad files, found {}", all.len());
    let before = host_traces();
    let mut failures = Vec::new();
    for file in &all {
        let (place, message) = expectation(file);
        let shown = file.to_str().unwrap();
        let out = labctl(&["deploy", shown]);
        let err = stderr(&out);
        let located = format!("{shown}:{place}: error: ");
        if out.status.success() {
            failures.push(format!("{shown}: accepted"));
        } else if !err.contains(&located) || !err.contains(&message) || !err.contains("hint:") {
            failures.push(format!(
                "{shown}: expected `{located}…{message}` with a hint, got:\n{err}"
            ));
        }
        if host_traces() != before {
            failures.push(format!("{shown}: changed /run/netns, /run/labctl or /etc/netns"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
