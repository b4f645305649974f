//! Helpers for the integration tests and benches: the one set of guards and checks.
//! - [`require_root!`]: the first line of a test that needs root; without root the test
//!   says it is skipped and passes.
//! - [`Lab`]: a lab under a unique `lt-` name, destroyed when dropped, which then checks
//!   that none of its network namespaces is left.
//! - [`Netns`]: bare network namespaces (no lab), deleted when dropped, checked likewise.
//! - State builders for tests that need no kernel live in `labctl::fixture`.

#![allow(dead_code, unused_macros)]

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
    /// Environment of every labctl this lab runs (on top of [`labctl_env`]'s).
    pub env: Vec<(String, String)>,
}

impl Lab {
    /// Guards lab `name` that the test deploys itself: destroyed when dropped.
    pub fn guard(name: String, topology: PathBuf) -> Lab {
        Lab {
            name,
            topology,
            env: Vec::new(),
        }
    }

    /// The same lab, its labctl run with `env` too.
    pub fn with_env(mut self, env: &[(&str, &str)]) -> Lab {
        self.env.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Deploys the main seed lab under a unique name.
    pub fn seed(tag: &str) -> Lab {
        let name = lab_name(tag);
        let topology = seed_topology(&scratch(tag), &name);
        Lab::deploy(name, topology)
    }

    pub fn deploy(name: String, topology: PathBuf) -> Lab {
        Lab::guard(name, topology).deployed(&[])
    }

    /// Runs `labctl deploy <args> <topology>`, which must succeed.
    pub fn deployed(self, args: &[&str]) -> Lab {
        let topology = self.topology.to_str().unwrap().to_string();
        let mut full = vec!["deploy"];
        full.extend_from_slice(args);
        full.push(&topology);
        ok(self.run(&full));
        self
    }

    /// `labctl <args>` with this lab's environment.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// The cells of `labctl get pods POD`'s row (NAME READY STATUS RESTARTS AGE).
    pub fn pod_row(&self, pod: &str) -> Vec<String> {
        let out = ok(self.run(&["get", "pods", "--lab", &self.name, pod]));
        out.lines()
            .nth(1)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// `labctl <args>` with this lab's environment and `extra`.
    pub fn run_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        env.extend_from_slice(extra);
        labctl_env(args, &env)
    }

    /// `labctl <verb> --lab <lab> <args...>`
    pub fn labctl(&self, args: &[&str]) -> Output {
        let mut full = vec![args[0], "--lab", &self.name];
        full.extend_from_slice(&args[1..]);
        self.run(&full)
    }

    /// `labctl exec --lab <lab> <target> -- <cmd...>`
    pub fn exec(&self, target: &str, cmd: &[&str]) -> Output {
        let mut full = vec!["exec", "--lab", &self.name, target, "--"];
        full.extend_from_slice(cmd);
        self.run(&full)
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
        ok(self.run(&["destroy", &self.name]));
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
        let _ = self.run(&["destroy", &self.name]);
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

/// True when running as root; otherwise prints `skipped: needs root (creates network
/// namespaces)` with the test's name and returns false (see `labctl::fixture::root`).
pub fn root() -> bool {
    labctl::fixture::root()
}

/// The first line of every test that needs root: without root the test prints
/// `skipped: needs root (creates network namespaces)` and passes.
macro_rules! require_root {
    () => {
        if !$crate::common::root() {
            return;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use require_root;

/// Bare network namespaces (no lab) that are deleted, with their `/etc/netns` files, when
/// dropped, even when the test panics; when it did not, dropping also checks that none is
/// left.
pub struct Netns(Vec<String>);

impl Netns {
    /// A new namespace `name` (one left over by an earlier run of the same name is replaced).
    pub fn create(name: impl Into<String>) -> Netns {
        let name = name.into();
        let _ = labctl::kernel::netns::delete(&name);
        labctl::kernel::netns::create(&name).unwrap_or_else(|e| panic!("create netns {name}: {e:#}"));
        Netns(vec![name])
    }

    /// Guards namespaces that the code under test creates.
    pub fn guard(names: &[String]) -> Netns {
        Netns(names.to_vec())
    }

    /// The (first) namespace's name.
    pub fn name(&self) -> &str {
        &self.0[0]
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        labctl::kernel::teardown::teardown(&self.0);
        if !std::thread::panicking() {
            assert_netns_gone(&self.0);
        }
    }
}

/// None of `names` is a network namespace any more, and none has `/etc/netns` files.
#[track_caller]
pub fn assert_netns_gone(names: &[String]) {
    let left: Vec<String> = labctl::kernel::netns::list()
        .into_iter()
        .filter(|name| names.contains(name))
        .collect();
    assert!(left.is_empty(), "namespaces left behind: {left:?}");
    for name in names {
        assert!(
            !labctl::kernel::netns::etc_dir_of(name).exists(),
            "/etc/netns/{name} left behind"
        );
    }
}

/// A DNS query for the A records of `name`, with recursion desired, as dig sends it.
pub fn query_bytes(id: u16, name: &str) -> Vec<u8> {
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    message.to_vec().unwrap()
}

/// The addresses of a reply's A records, in the order they came.
pub fn a_answers(reply: &hickory_proto::op::Message) -> Vec<std::net::Ipv4Addr> {
    use hickory_proto::rr::RData;
    reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}
