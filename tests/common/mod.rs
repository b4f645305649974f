//! Helpers for integration tests that deploy real labs (run as root).
//! Every lab gets a unique name starting with `lt-`; dropping a `Lab` destroys it
//! and checks that none of its network namespaces is left.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Labs deployed by tests never forward DNS questions off this machine.
const NO_UPSTREAMS: (&str, &str) = ("LABCTL_DNS_UPSTREAMS", "");

pub fn labctl(args: &[&str]) -> Output {
    labctl_env(args, &[])
}

pub fn labctl_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labctl"));
    cmd.args(args).env(NO_UPSTREAMS.0, NO_UPSTREAMS.1);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run labctl")
}

/// Retries `check` for up to `secs` seconds; panics with the last failure message
/// if it never passes.
pub fn eventually(secs: u64, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if std::time::Instant::now() >= deadline => panic!("{e}"),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "command failed: {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Network namespaces whose names belong to lab `lab`.
pub fn netns_of(lab: &str) -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(&format!("{lab}-")) || n.starts_with(&format!("{lab}.")))
        .collect()
}

/// A unique lab name for this test: `lt-<tag>-<pid>`.
pub fn lab_name(tag: &str) -> String {
    format!("lt-{tag}-{}", std::process::id())
}

/// A scratch directory for one test's files.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labctl-{}", lab_name(tag)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The main seed topology, renamed to `name`, written into `dir`, its manifests
/// referenced by absolute path.
pub fn seed_topology(dir: &Path, name: &str) -> PathBuf {
    renamed_topology("headless-services", dir, name)
}

/// topologies/<topology>.yaml renamed to `name`, written into `dir`, its manifests
/// referenced by absolute path.
pub fn renamed_topology(topology: &str, dir: &Path, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join(format!("topologies/{topology}.yaml"))).unwrap();
    let manifests = repo().join("topologies/manifests");
    let text = text
        .replace(&format!("name: {topology}\n"), &format!("name: {name}\n"))
        .replace("- manifests/", &format!("- {}/", manifests.display()));
    assert!(
        text.contains(&format!("name: {name}\n")),
        "{topology}: no top-level name line"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

pub struct Lab {
    pub name: String,
    pub topology: PathBuf,
}

impl Lab {
    /// Deploys the main seed lab under a unique name.
    pub fn seed(tag: &str) -> Lab {
        let name = lab_name(tag);
        let topology = seed_topology(&scratch(tag), &name);
        Lab::deploy(name, topology)
    }

    pub fn deploy(name: String, topology: PathBuf) -> Lab {
        let out = labctl(&["deploy", topology.to_str().unwrap()]);
        let lab = Lab { name, topology };
        ok(out);
        lab
    }

    pub fn labctl(&self, args: &[&str]) -> Output {
        let mut full = vec![args[0], "--lab", &self.name];
        full.extend_from_slice(&args[1..]);
        labctl(&full)
    }

    /// `labctl exec --lab <lab> <target> -- <cmd...>`
    pub fn exec(&self, target: &str, cmd: &[&str]) -> Output {
        let mut full = vec!["exec", "--lab", &self.name, target, "--"];
        full.extend_from_slice(cmd);
        labctl(&full)
    }

    pub fn pods_json(&self) -> serde_json::Value {
        serde_json::from_str(&ok(self.labctl(&["get", "pods", "-A", "-o", "json"]))).unwrap()
    }

    pub fn pod_ip(&self, pod: &str) -> String {
        self.pods_json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["metadata"]["name"] == pod)
            .unwrap_or_else(|| panic!("no pod {pod}"))["status"]["podIP"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn destroy(&self) {
        ok(labctl(&["destroy", &self.name]));
        assert_eq!(
            netns_of(&self.name),
            Vec::<String>::new(),
            "lab {} left namespaces",
            self.name
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = labctl(&["destroy", &self.name]);
        if !std::thread::panicking() {
            assert_eq!(
                netns_of(&self.name),
                Vec::<String>::new(),
                "lab {} left namespaces",
                self.name
            );
        }
    }
}

/// A bare network namespace for one test (`ip netns add`), deleted when dropped;
/// one left over by an earlier run of the same name is replaced.
pub struct ScratchNetns(pub String);

impl ScratchNetns {
    pub fn new(name: String) -> ScratchNetns {
        if labctl::kernel::netns::exists(&name) {
            let _ = Command::new("ip").args(["netns", "delete", &name]).status();
        }
        let added = Command::new("ip").args(["netns", "add", &name]).status().unwrap();
        assert!(added.success(), "ip netns add {name}");
        ScratchNetns(name)
    }
}

impl Drop for ScratchNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.0]).status();
    }
}
