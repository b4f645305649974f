//! Hardening: lifecycle. Lab names that are not lab names, destroy of a lab whose
//! state is corrupt or whose supervisor pid file is gone, repair of a half-built or
//! orphan-ridden lab, pod status once the supervisor is gone, `deploy --wait` that
//! runs out, modes of what labctl creates, non-root users, the "current lab".

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::*;

const RUN_DIR_ENV: &str = "LABCTL_RUN_DIR";

/// A two-node lab with one idle pod, quick to deploy.
fn small_topology(dir: &Path, name: &str, pod: &str) -> PathBuf {
    let text = format!(
        r#"name: {name}
cluster:
  nodes: [{{role: control-plane}}, {{role: worker}}]
manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {{name: {pod}}}
    spec:
      containers:
        - {{name: c, image: busybox, command: [sh, -c, "echo hello from {pod}; exec sleep infinity"]}}
"#
    );
    write_topology(dir, name, &text)
}

fn write_topology(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// A lab deployed with its state under a run dir of its own (when `run_dir` is given),
/// destroyed when dropped.
fn deploy(name: String, topology: PathBuf, run_dir: Option<&Path>) -> Lab {
    let lab = Lab::guard(name, topology);
    match run_dir {
        Some(dir) => lab.with_env(&[(RUN_DIR_ENV, dir.to_str().unwrap())]),
        None => lab,
    }
    .deployed(&[])
}

/// What these tests ask of a lab beyond `common::Lab`.
trait LabProbe {
    fn state_dir(&self) -> PathBuf;
    fn supervisor(&self) -> u32;
    /// SIGKILLs the supervisor and waits until it is gone.
    fn kill_supervisor(&self);
    fn wait_ready(&self, pod: &str);
}

impl LabProbe for Lab {
    fn state_dir(&self) -> PathBuf {
        let root = self
            .env
            .iter()
            .find(|(k, _)| k == RUN_DIR_ENV)
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| PathBuf::from("/run/labctl"));
        root.join(&self.name)
    }

    fn supervisor(&self) -> u32 {
        let mut pids = Vec::new();
        eventually(5, || {
            pids = labctl::kernel::procs::supervisors_of(&self.name);
            if pids.len() == 1 {
                Ok(())
            } else {
                Err(format!("supervisors of {}: {pids:?}", self.name))
            }
        });
        pids[0]
    }

    fn kill_supervisor(&self) {
        let pid = self.supervisor();
        kill9(pid);
        eventually(5, || {
            let left = labctl::kernel::procs::supervisors_of(&self.name);
            if left.is_empty() {
                Ok(())
            } else {
                Err(format!("supervisor still there: {left:?}"))
            }
        });
    }

    fn wait_ready(&self, pod: &str) {
        eventually(15, || {
            let row = self.pod_row(pod);
            if row.get(1).map(String::as_str) == Some("1/1") && row.get(2).map(String::as_str) == Some("Running") {
                Ok(())
            } else {
                Err(format!("{pod} not ready: {row:?}"))
            }
        });
    }
}

fn kill9(pid: u32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
}

/// Whether a process runs (a zombie waiting for init to reap it does not).
fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state != "Z" && state != "X")
}

fn failed_with(out: &Output, words: &str) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "succeeded: {}\n{err}", stdout(out));
    assert!(err.contains(words), "expected {words:?} in:\n{err}");
    err
}

// ---- item 1: a lab name is a lab name, everywhere ----

/// A command line and the variables it runs with.
type Attempt<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);

#[test]
fn destroy_never_deletes_a_directory_a_bad_name_points_to() {
    require_root!();
    let dir = scratch("badname");
    let run_dir = dir.join("run");
    let victim = dir.join("victim");
    for d in [&victim, &run_dir.join("keep")] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("precious"), "data").unwrap();
    }
    let env = [(RUN_DIR_ENV, run_dir.to_str().unwrap())];
    let evil_topology = write_topology(
        &dir,
        "evil",
        "name: ../victim\ncluster:\n  nodes: [{role: control-plane}]\n",
    );
    let evil = evil_topology.to_str().unwrap();
    let attempts: Vec<Attempt> = vec![
        (vec!["destroy", victim.to_str().unwrap()], vec![]),
        (vec!["destroy", "../victim"], vec![]),
        (vec!["destroy", "-t", evil], vec![]),
        (vec!["destroy", ""], vec![]),
        (vec!["destroy", "."], vec![]),
        (vec!["destroy"], vec![("LABCTL_LAB", "../victim")]),
        (vec!["repair", "../victim"], vec![]),
        (vec!["get", "pods", "--lab", "../victim"], vec![]),
        (vec!["get", "pods"], vec![("LABCTL_LAB", "")]),
        (vec!["exec", "--lab", "..", "x", "--", "true"], vec![]),
    ];
    for (args, extra) in attempts {
        let mut all_env = env.to_vec();
        all_env.extend(extra.iter().copied());
        let out = labctl_env(&args, &all_env);
        let err = failed_with(&out, "invalid lab name");
        assert!(!err.contains("Destroyed"), "{args:?}: {err}");
        assert!(
            victim.join("precious").exists(),
            "{args:?} deleted {}",
            victim.display()
        );
        assert!(run_dir.join("keep/precious").exists(), "{args:?} deleted the run dir");
    }
    // `supervise` with such a name touches nothing either
    let out = labctl_env(&["supervise", "../victim"], &env);
    failed_with(&out, "invalid lab name");
    assert!(victim.join("precious").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- item 3: one teardown from the state and the lab's name ----

/// Deploys a small lab, breaks its saved state with `damage`, destroys it: nothing
/// of it is left, and the same lab deploys again.
fn destroy_after(tag: &str, damage: impl Fn(&Path)) {
    let name = lab_name(tag);
    let topology = small_topology(&scratch(tag), &name, "web");
    let lab = deploy(name.clone(), topology, None);
    // Namespaces of a lab whose name starts with this one's: never this lab's.
    let bystanders = [
        Netns::create(format!("{name}-b-worker")),
        Netns::create(format!("{name}-b.fabric")),
    ];
    lab.wait_ready("web");
    let pod_netns = format!("{name}.default.web");
    let processes = labctl::kernel::procs::in_netns(std::slice::from_ref(&pod_netns));
    assert!(!processes.is_empty(), "the pod runs a container");
    let supervisor = lab.supervisor();

    damage(&lab.state_dir());
    let out = lab.run(&["destroy", &name]);
    assert!(out.status.success(), "destroy failed: {}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("Destroyed lab {name}")),
        "{}",
        stderr(&out)
    );

    let mine: Vec<String> = netns_of(&name)
        .into_iter()
        .filter(|n| !bystanders.iter().any(|b| b.name() == n))
        .collect();
    assert_eq!(mine, Vec::<String>::new(), "namespaces left");
    for b in &bystanders {
        assert!(labctl::kernel::netns::exists(b.name()), "{} was removed", b.name());
    }
    for pid in processes.iter().copied().chain([supervisor]) {
        assert!(!alive(pid), "process {pid} left");
    }
    assert!(!lab.state_dir().exists(), "state left");
    assert!(
        !Path::new("/etc/netns").join(&pod_netns).exists(),
        "/etc/netns entry left"
    );

    // the lab deploys again, and is destroyed again
    ok(lab.run(&["deploy", lab.topology.to_str().unwrap()]));
    lab.wait_ready("web");
}

#[test]
fn destroy_with_a_corrupt_state_removes_every_trace() {
    require_root!();
    destroy_after("corrupt", |dir| {
        std::fs::write(dir.join("state.json"), "{ not json").unwrap()
    });
}

#[test]
fn destroy_with_a_corrupt_state_and_no_pid_file_stops_the_supervisor() {
    require_root!();
    destroy_after("nopid", |dir| {
        std::fs::write(dir.join("state.json"), "").unwrap();
        std::fs::remove_file(dir.join("supervisor.pid")).unwrap();
    });
}

#[test]
fn destroy_by_name_removes_namespaces_left_without_state() {
    require_root!();
    let name = lab_name("nostate");
    let leftovers = [
        Netns::create(format!("{name}-control-plane")),
        Netns::create(format!("{name}-worker2")),
        Netns::create(format!("{name}.default.web")),
    ];
    let bystander = Netns::create(format!("{name}-b-worker"));
    let etc = Path::new("/etc/netns").join(format!("{name}.default.gone"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("resolv.conf"), "nameserver 10.96.0.10\n").unwrap();

    let out = labctl(&["destroy", &name]);
    assert!(out.status.success(), "{}", stderr(&out));
    for ns in &leftovers {
        assert!(!labctl::kernel::netns::exists(ns.name()), "{} left", ns.name());
    }
    assert!(!etc.exists(), "{} left", etc.display());
    assert!(
        labctl::kernel::netns::exists(bystander.name()),
        "another lab's namespace was removed"
    );
    assert!(!Path::new("/run/labctl").join(&name).exists());
}

// ---- item 5: recovery ----

#[test]
fn pods_of_a_lab_whose_supervisor_died_are_unknown() {
    require_root!();
    let name = lab_name("unknown");
    let lab = deploy(name.clone(), small_topology(&scratch("unknown"), &name, "web"), None);
    lab.wait_ready("web");
    lab.kill_supervisor();
    let row = lab.pod_row("web");
    assert_eq!(row[1..3], ["0/1", "Unknown"], "{row:?}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(lab.run(&["get", "pods", "--lab", &name, "web", "-o", "json"]))).unwrap();
    assert_eq!(json["status"]["phase"], "Unknown", "{json}");
    let inspect = ok(lab.run(&["inspect", "--lab", &name]));
    let pod_line = inspect.lines().find(|l| l.contains(" web ")).unwrap_or_default();
    assert!(pod_line.contains("unknown"), "{inspect}");
    // verify does not pass over pods it cannot see
    failed_with(&lab.run(&["verify", "--lab", &name]), &format!("labctl repair {name}"));
}

#[test]
fn deploy_fails_listing_the_pods_not_ready_when_wait_runs_out() {
    require_root!();
    let name = lab_name("notready");
    let text = format!(
        r#"name: {name}
cluster:
  nodes: [{{role: control-plane}}, {{role: worker}}]
manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {{name: never-ready}}
    spec:
      containers:
        - name: c
          image: busybox
          command: [sleep, infinity]
          readinessProbe:
            exec: {{command: ["false"]}}
            periodSeconds: 1
  - apiVersion: v1
    kind: Pod
    metadata: {{name: fine}}
    spec:
      containers:
        - {{name: c, image: busybox, command: [sleep, infinity]}}
"#
    );
    let topology = write_topology(&scratch("notready"), &name, &text);
    let lab = Lab::guard(name.clone(), topology);
    let started = std::time::Instant::now();
    let out = lab.run(&["deploy", "--wait", "2", lab.topology.to_str().unwrap()]);
    let err = failed_with(&out, "not Ready after 2s");
    assert!(err.contains("default/never-ready"), "{err}");
    assert!(!err.contains("default/fine"), "{err}");
    assert!(err.contains("left running"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    // the lab is kept for the user to look at
    let row = lab.pod_row("never-ready");
    assert_eq!(row[1], "0/1", "{row:?}");
}

/// A container whose server runs in the background: were it left behind when its
/// supervisor is killed, it would hold the port of the restarted container.
const ORPHANING_POD: &str = r#"
  - apiVersion: v1
    kind: Pod
    metadata: {name: web}
    spec:
      containers:
        - name: c
          image: busybox
          command: [sh, -c, "python3 -m http.server 9000 & wait"]
          ports: [{containerPort: 9000}]
          readinessProbe:
            tcpSocket: {port: 9000}
            periodSeconds: 1
"#;

#[test]
fn nothing_a_dead_supervisors_containers_started_blocks_repair() {
    require_root!();
    let name = lab_name("orphans");
    let text = format!(
        "name: {name}\ncluster:\n  nodes: [{{role: control-plane}}, {{role: worker}}]\nmanifests:{ORPHANING_POD}"
    );
    let lab = deploy(name.clone(), write_topology(&scratch("orphans"), &name, &text), None);
    lab.wait_ready("web");
    lab.kill_supervisor();
    let pod_netns = vec![format!("{name}.default.web")];
    // the container is PID 1 of its PID namespace and dies with the supervisor
    // (PR_SET_PDEATHSIG): the kernel kills its background server with it
    eventually(5, || match labctl::kernel::procs::in_netns(&pod_netns) {
        left if left.is_empty() => Ok(()),
        left => Err(format!("processes left in the pod: {left:?}")),
    });

    ok(labctl(&["repair", &name]));
    lab.wait_ready("web");
    // the restarted server got its port: it keeps running, no restart, no bind error
    std::thread::sleep(Duration::from_secs(2));
    let row = lab.pod_row("web");
    assert_eq!(row[1..4], ["1/1", "Running", "0"], "{row:?}");
    let logs = stdout(&labctl(&["logs", "--lab", &name, "web"]));
    assert!(!logs.contains("Address already in use"), "{logs}");
}

#[test]
fn repair_refuses_a_lab_that_was_never_fully_deployed() {
    require_root!();
    let name = lab_name("halfbuilt");
    let lab = deploy(name.clone(), small_topology(&scratch("halfbuilt"), &name, "web"), None);
    lab.kill_supervisor();
    let netns_before = netns_of(&name);

    // a deploy killed half-way leaves the phase at "deploying"
    std::fs::write(lab.state_dir().join("phase"), "deploying").unwrap();
    let out = labctl(&["repair", &name]);
    failed_with(&out, "never fully deployed");
    assert!(
        stderr(&out).contains(&format!("labctl destroy {name}")),
        "{}",
        stderr(&out)
    );
    assert!(
        labctl::kernel::procs::supervisors_of(&name).is_empty(),
        "repair started a supervisor"
    );

    // or the phase says running but namespaces are missing
    std::fs::write(lab.state_dir().join("phase"), "running").unwrap();
    let pod_netns = format!("{name}.default.web");
    assert!(
        Command::new("ip")
            .args(["netns", "delete", &pod_netns])
            .status()
            .unwrap()
            .success()
    );
    let out = labctl(&["repair", &name]);
    let err = failed_with(&out, "missing 1 of its network namespaces");
    assert!(err.contains(&pod_netns), "{err}");
    assert!(
        labctl::kernel::procs::supervisors_of(&name).is_empty(),
        "repair started a supervisor"
    );
    let expected: Vec<String> = netns_before.into_iter().filter(|n| *n != pod_netns).collect();
    assert_eq!(netns_of(&name), expected, "repair changed namespaces");
}

// ---- item 6: permissions ----

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o7777
}

#[test]
fn what_labctl_creates_has_fixed_modes_whatever_the_umask() {
    require_root!();
    let name = lab_name("umask");
    let dir = scratch("umask");
    let run_dir = dir.join("run");
    let topology = small_topology(&dir, &name, "web");
    let lab = Lab::guard(name.clone(), topology).with_env(&[(RUN_DIR_ENV, run_dir.to_str().unwrap())]);
    let out = Command::new("sh")
        .args([
            "-c",
            "umask 000; exec \"$0\" deploy \"$1\"",
            env!("CARGO_BIN_EXE_labctl"),
        ])
        .arg(&lab.topology)
        .env(RUN_DIR_ENV, &run_dir)
        .env("LABCTL_DNS_UPSTREAMS", "")
        .output()
        .unwrap();
    ok(out);
    lab.wait_ready("web");
    let state = lab.state_dir();
    assert_eq!(mode(&run_dir), 0o755, "run dir");
    assert_eq!(mode(&state), 0o700, "lab dir");
    for file in ["lock", "state.json", "phase", "supervisor.pid", "supervisor.log"] {
        assert_eq!(mode(&state.join(file)), 0o600, "{file}");
    }
    let logs = state.join("logs/default/web");
    assert_eq!(mode(&state.join("logs")), 0o700);
    assert_eq!(mode(&logs), 0o700);
    assert_eq!(mode(&logs.join("c.log")), 0o600);
    let etc = Path::new("/etc/netns").join(format!("{name}.default.web"));
    assert_eq!(mode(&etc), 0o755);
    for entry in std::fs::read_dir(&etc).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o644, "{}", path.display());
    }
}

/// Runs labctl as `nobody`.
fn as_nobody(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        env!("CARGO_BIN_EXE_labctl"),
    ])
    .args(args)
    .env("LABCTL_DNS_UPSTREAMS", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn other_users_are_refused_at_once_and_cannot_hold_the_lock() {
    require_root!();
    let name = lab_name("nobody");
    let dir = scratch("nobody");
    let topology = small_topology(&dir, &name, "web");
    // deploy as nobody: one clear line, nothing created
    let out = as_nobody(&["deploy", topology.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim(),
        "error: labctl deploy needs root: it creates network namespaces; run it with sudo"
    );
    assert_eq!(netns_of(&name), Vec::<String>::new());
    assert!(!Path::new("/run/labctl").join(&name).exists());

    let lab = deploy(name.clone(), topology, None);
    lab.wait_ready("web");
    let state_before = std::fs::read(lab.state_dir().join("state.json")).unwrap();
    let netns_before = netns_of(&name);
    for (verb, args) in [
        ("verify", vec!["verify", "--lab", name.as_str()]),
        ("destroy", vec!["destroy", name.as_str()]),
        ("repair", vec!["repair", name.as_str()]),
        ("exec", vec!["exec", "--lab", name.as_str(), "web", "--", "true"]),
        (
            "scale",
            vec!["scale", "--lab", name.as_str(), "deployment/x", "--replicas", "2"],
        ),
        ("delete", vec!["delete", "--lab", name.as_str(), "pod", "web"]),
        ("apply", vec!["apply", "--lab", name.as_str(), "-f", "/dev/null"]),
    ] {
        let out = as_nobody(&args, &[]);
        assert!(!out.status.success(), "{verb}");
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("error: labctl {verb} needs root: ")) && err.trim().ends_with("run it with sudo"),
            "{verb}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{verb}: {err}");
    }
    // so do the read-only verbs: the state is root's
    let out = as_nobody(&["get", "pods", "--lab", &name], &[]);
    failed_with(&out, "labctl get needs root: the labs' state is readable by root only");
    // nobody cannot open (so cannot flock) the lab's lock
    let flock = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "flock", "-n"])
        .arg(lab.state_dir().join("lock"))
        .arg("true")
        .output()
        .unwrap();
    assert!(!flock.status.success(), "nobody locked the lab");
    // nothing changed
    assert_eq!(std::fs::read(lab.state_dir().join("state.json")).unwrap(), state_before);
    assert_eq!(netns_of(&name), netns_before);
    lab.wait_ready("web");
}

// ---- item 7: the current lab ----

#[test]
fn every_command_picks_the_lab_by_one_rule() {
    require_root!();
    let dir = scratch("current");
    let run_dir = dir.join("run");
    let (a, b) = (lab_name("current-a"), lab_name("current-b"));
    let lab_a = deploy(a.clone(), small_topology(&dir, &a, "pod-a"), Some(&run_dir));
    let lab_b = deploy(b.clone(), small_topology(&dir, &b, "pod-b"), Some(&run_dir));
    lab_a.wait_ready("pod-a");
    lab_b.wait_ready("pod-b");

    // two labs, no --lab, no LABCTL_LAB: every command refuses alike, naming both
    for args in [
        vec!["exec", "pod-a", "--", "true"],
        vec!["logs", "pod-a"],
        vec!["get", "pods"],
        vec!["destroy"],
        vec!["repair"],
    ] {
        let out = lab_a.run(&args);
        let err = failed_with(&out, "2 labs are running");
        assert!(
            err.contains(&a) && err.contains(&b) && err.contains("LABCTL_LAB"),
            "{args:?}: {err}"
        );
    }
    // LABCTL_LAB picks one for every command
    let env = [("LABCTL_LAB", a.as_str())];
    assert!(stdout(&lab_a.run_env(&["logs", "pod-a"], &env)).contains("hello from pod-a"));
    ok(lab_a.run_env(&["exec", "pod-a", "--", "true"], &env));
    assert!(ok(lab_a.run_env(&["get", "pods"], &env)).contains("pod-a"));
    // --lab wins over LABCTL_LAB
    assert!(ok(lab_a.run_env(&["get", "pods", "--lab", &b], &env)).contains("pod-b"));
    let out = lab_a.run_env(&["exec", "pod-a", "--", "true"], &[("LABCTL_LAB", b.as_str())]);
    failed_with(&out, "no node or pod \"pod-a\"");
    // with one lab left, it is the current one
    ok(lab_b.run(&["destroy", &b]));
    ok(lab_a.run(&["exec", "pod-a", "--", "true"]));
    assert!(stdout(&lab_a.run(&["logs", "pod-a"])).contains("hello from pod-a"));
}
