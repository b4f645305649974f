//! Hardening: topology loading. Bad topologies and manifests are refused by the
//! loader every command shares (`validate`, `deploy`, `apply -f`), with a
//! `file:line:col: error:` and a hint, before anything recurses deeply, reads without
//! bound or reaches the kernel; what Kubernetes accepts and fixes up (long hostnames,
//! `enableServiceLinks`) behaves as on a cluster.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::common::*;

/// Runs labctl, killing it if it has not finished within `secs` (a hang is a failure,
/// not a stuck test run).
fn labctl_within(secs: u64, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_labctl"))
        .args(args)
        .env("LABCTL_DNS_UPSTREAMS", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run labctl");
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().expect("wait for labctl").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("reap labctl");
            panic!(
                "labctl {args:?} still running after {secs} s; stderr:\n{}",
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect labctl output")
}

/// `labctl validate FILE` exits 1 (not killed by a signal) and prints `error` at `place`.
#[track_caller]
fn assert_refused(file: &Path, place: &str, message: &str) {
    let out = labctl_within(60, &["validate", file.to_str().unwrap()]);
    assert_refused_with(&out, file, place, message);
}

/// Like [`assert_refused`] for a finished run; a `place` of `LINE:` takes any column.
#[track_caller]
fn assert_refused_with(out: &Output, file: &Path, place: &str, message: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "exit status {}; stderr:\n{err}", out.status);
    let located = match place.strip_suffix(':') {
        Some(line) => format!("{}:{line}:", file.display()),
        None => format!("{}:{place}: error: ", file.display()),
    };
    assert!(
        err.contains(&located) && err.contains(message) && err.contains("hint: "),
        "expected `{located}…{message}` with a hint, got:\n{err}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// One Pod object as a `manifests:` list item, its spec lines given indented by 6.
fn pod_item(name: &str, spec: &str) -> String {
    format!("  - apiVersion: v1\n    kind: Pod\n    metadata: {{name: {name}}}\n    spec:\n{spec}")
}

// ---- nesting ----

#[test]
fn deep_block_and_flow_nesting_is_refused_not_a_stack_overflow() {
    let dir = scratch("topo-nest");
    // 20,000 levels in 40 KB: the first `- ` opens the manifests list (level 2), the
    // 64th nested one is level 65.
    let block = write(
        &dir,
        "block.yaml",
        &format!("name: x\nmanifests:\n  {}a\n", "- ".repeat(20_000)),
    );
    assert_refused(&block, &format!("3:{}", 3 + 2 * 63), "nested more than 64 deep");
    let flow = write(
        &dir,
        "flow.yaml",
        &format!("name: x\nmanifests: {}{}\n", "[".repeat(20_000), "]".repeat(20_000)),
    );
    assert_refused(&flow, "2:", "nested more than 64 deep");
    // In a manifest file, the place is in that file.
    let deep = write(
        &dir,
        "deep.yaml",
        &format!("kind: Pod\nspec: {}\n", "{a: ".repeat(20_000)),
    );
    let topology = write(&dir, "lab.yaml", "name: x\nmanifests:\n  - deep.yaml\n");
    let out = labctl_within(60, &["validate", topology.to_str().unwrap()]);
    assert_refused_with(&out, &deep, "2:", "nested more than 64 deep");
}

// ---- what is read ----

#[test]
fn devices_fifos_and_directories_are_refused_without_reading() {
    require_root!();
    let dir = scratch("topo-files");
    let fifo = dir.join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let topology = write(
        &dir,
        "lab.yaml",
        "name: x\nmanifests:\n  - /dev/zero\n  - fifo.yaml\n  - /tmp\n",
    );
    let out = labctl_within(20, &["validate", topology.to_str().unwrap()]);
    assert_refused_with(
        &out,
        &topology,
        "3:5",
        "cannot read manifest /dev/zero: it is a character device",
    );
    let err = stderr(&out);
    let shown = dir.join("fifo.yaml");
    assert!(
        err.contains(&format!(
            "{}:4:5: error: cannot read manifest {}: it is a FIFO",
            topology.display(),
            shown.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(":5:5: error: cannot read manifest /tmp: it is a directory"),
        "{err}"
    );
    // The topology file itself.
    let out = labctl_within(20, &["validate", fifo.to_str().unwrap()]);
    assert_refused_with(&out, &fifo, "1:1", "cannot read the topology file: it is a FIFO");
    let out = labctl_within(20, &["destroy", "-t", fifo.to_str().unwrap()]);
    assert!(!out.status.success(), "destroy -t of a FIFO succeeded");
    assert!(
        stderr(&out).contains("it is a FIFO, not a regular file"),
        "{}",
        stderr(&out)
    );
    let out = labctl_within(20, &["deploy", "/dev/zero"]);
    assert_refused_with(&out, Path::new("/dev/zero"), "1:1", "it is a character device");
}

#[test]
fn a_manifest_over_16_mib_is_refused() {
    let dir = scratch("topo-size");
    let big = dir.join("big.yaml");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(17 << 20).unwrap();
    let topology = write(&dir, "lab.yaml", "name: x\nmanifests:\n  - big.yaml\n");
    assert_refused(&topology, "3:5", "it is larger than 16 MiB");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- networking ----

#[test]
fn special_purpose_subnets_are_refused_at_their_place() {
    require_root!();
    let dir = scratch("topo-subnets");
    let cases = [
        ("nodeSubnet", "224.0.0.0/16", "is in 224.0.0.0/4, multicast space"),
        ("nodeSubnet", "0.0.0.0/16", "is in 0.0.0.0/8, \"this network\" space"),
        ("nodeSubnet", "127.0.0.0/8", "is in 127.0.0.0/8, loopback space"),
        (
            "podSubnet",
            "169.254.0.0/16",
            "is in 169.254.0.0/16, link-local space: pods reach their node through 169.254.1.1",
        ),
        ("serviceSubnet", "240.0.0.0/12", "is in 240.0.0.0/4, reserved space"),
        ("podSubnet", "0.0.0.0/0", "overlaps 0.0.0.0/8"),
    ];
    for (i, (key, subnet, message)) in cases.into_iter().enumerate() {
        let name = lab_name(&format!("sub{i}"));
        let text = format!("name: {name}\ncluster:\n  networking:\n    {key}: {subnet}\n");
        let topology = write(&dir, &format!("{i}.yaml"), &text);
        let place = format!("4:{}", 7 + key.len());
        let out = labctl_within(60, &["deploy", topology.to_str().unwrap()]);
        assert_refused_with(&out, &topology, &place, &format!("{key} {subnet} {message}"));
        assert!(netns_of(&name).is_empty(), "deploy of {subnet} left namespaces");
    }
}

// ---- what reaches execve ----

#[test]
fn nul_bytes_and_oversized_strings_for_execve_are_refused_at_their_place() {
    let dir = scratch("topo-exec");
    let big = "x".repeat(3 << 20);
    let spec = format!(
        "      containers:\n        - name: c\n          image: busybox\n          command: [\"sh\", \"-c\", \"echo\\0\"]\n          env:\n            - name: \"A\\0\"\n              value: v\n            - name: BIG\n              value: {big}\n"
    );
    let topology = write(
        &dir,
        "lab.yaml",
        &format!("name: x\nmanifests:\n{}", pod_item("p", &spec)),
    );
    let out = labctl_within(60, &["validate", topology.to_str().unwrap()]);
    assert_refused_with(&out, &topology, "10:33", "command[2]: contains a NUL byte");
    let err = stderr(&out);
    assert!(
        err.contains(":12:21: error: Pod p: spec.containers[0].env[0].name: invalid environment variable name"),
        "{err}"
    );
    assert!(
        err.contains(
            ":15:22: error: Pod p: spec.containers[0].env[1].value: 3145733 bytes is more than the kernel passes"
        ),
        "{err}"
    );
}

// ---- names ----

#[test]
fn a_statefulset_whose_pods_cannot_be_named_is_refused() {
    let dir = scratch("topo-sts");
    let name = "s".repeat(63);
    let text = format!(
        "name: x\nmanifests:\n  - apiVersion: apps/v1\n    kind: StatefulSet\n    metadata: {{name: {name}}}\n    spec:\n      serviceName: s\n      replicas: 1\n      selector: {{matchLabels: {{app: s}}}}\n      template:\n        metadata: {{labels: {{app: s}}}}\n        spec:\n          containers: [{{name: c, image: busybox}}]\n"
    );
    let topology = write(&dir, "lab.yaml", &text);
    assert_refused(
        &topology,
        "5:22",
        &format!(
            "its pod \"{name}-0\" would be refused: spec.hostname and label statefulset.kubernetes.io/pod-name must be no more than 63 characters"
        ),
    );
}

#[test]
fn a_long_pod_name_gets_the_hostname_kubelet_cuts_and_apply_reads_no_fifo() {
    require_root!();
    let name = lab_name("topo-host");
    let dir = scratch("topo-host");
    // 73 characters; the first 63 end in '.', which kubelet trims too.
    let pod = format!("{}.{}", "a".repeat(62), "b".repeat(10));
    let spec = "      containers:\n        - name: c\n          image: busybox\n";
    let text = format!("name: {name}\nmanifests:\n{}", pod_item(&pod, spec));
    let lab = Lab::deploy(name, write(&dir, "lab.yaml", &text));
    let hostname = ok(lab.exec(&pod, &["hostname"]));
    assert_eq!(hostname.trim(), "a".repeat(62));
    let env = ok(lab.exec(&pod, &["printenv", "HOSTNAME"]));
    assert_eq!(env.trim(), "a".repeat(62));

    let fifo = dir.join("objects.yaml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = labctl_within(20, &["apply", "--lab", &lab.name, "-f", fifo.to_str().unwrap()]);
    assert!(!out.status.success(), "apply of a FIFO succeeded");
    assert!(stderr(&out).contains("objects.yaml: it is a FIFO"), "{}", stderr(&out));
}

#[test]
fn an_environment_too_big_for_execve_fails_its_container_and_says_why() {
    require_root!();
    let name = lab_name("topo-links");
    let dir = scratch("topo-links");
    // fs/exec.c takes argv and envp up to a quarter of the stack limit, never less than
    // 128 KiB. The supervisor inherits deploy's limit: at 256 KiB, 150 services' links
    // overflow execve where the default 8 MiB limit would take some 5,000 services.
    let mut text = format!("name: {name}\nmanifests:\n");
    for i in 0..150 {
        text.push_str(&format!(
            "  - apiVersion: v1\n    kind: Service\n    metadata: {{name: service-with-a-rather-long-name-{i}}}\n    spec:\n      selector: {{app: nothing}}\n      ports: [{{name: a, port: 81}}, {{name: b, port: 82}}, {{name: c, port: 83}}]\n"
        ));
    }
    let spec = |links: &str| format!("{links}      containers:\n        - name: c\n          image: busybox\n");
    text.push_str(&pod_item("linked", &spec("")));
    text.push_str(&pod_item("unlinked", &spec("      enableServiceLinks: false\n")));
    let topology = write(&dir, "lab.yaml", &text);
    let out = Command::new("prlimit")
        .args([
            "--stack=262144",
            "--",
            env!("CARGO_BIN_EXE_labctl"),
            "deploy",
            "--wait",
            "0",
        ])
        .arg(&topology)
        .env("LABCTL_DNS_UPSTREAMS", "")
        .output()
        .unwrap();
    let lab = Lab::guard(name, topology);
    ok(out);

    eventually(30, || {
        let pods = ok(lab.labctl(&["get", "pods"]));
        let row = |pod: &str| {
            pods.lines()
                .find(|l| l.starts_with(pod))
                .unwrap_or_default()
                .to_string()
        };
        if row("linked").contains("CrashLoopBackOff") && row("unlinked").contains("Running") {
            Ok(())
        } else {
            Err(format!(
                "expected linked CrashLoopBackOff and unlinked Running:\n{pods}"
            ))
        }
    });
    let log = ok(lab.labctl(&["logs", "linked"]));
    assert!(
        log.contains("cannot start container c: argument list too long")
            && log.contains("2700 of the variables are service links")
            && log.contains("set `enableServiceLinks: false` in the pod spec"),
        "{log}"
    );
    // Without links, only the API server's service is announced (kubelet getServiceEnvVarMap).
    let env = ok(lab.exec("unlinked", &["env"]));
    assert!(env.contains("KUBERNETES_SERVICE_HOST=10.96.0.1"), "{env}");
    assert!(!env.contains("SERVICE_WITH_A_RATHER_LONG_NAME"), "{env}");
}

// ---- fuzz ----

/// How long the fuzz may run, and how many inputs it tries at most.
const FUZZ_TIME: Duration = Duration::from_secs(10);
const FUZZ_CASES: usize = 3_000;

/// Text that breaks YAML and labctl's readers in interesting ways.
const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "-",
    ":",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "\n",
    "\n  ",
    "  ",
    "\t",
    "#",
    "&a ",
    "*a",
    "<<: *a",
    "!tag ",
    "!!str ",
    "---\n",
    "...\n",
    "\"",
    "'",
    "|\n",
    ">-\n",
    "? ",
    "%YAML 1.2\n",
    "null",
    "~",
    "true",
    "0x1F",
    "1e9",
    "-1",
    "65536",
    "4294967296",
    "99999999999999999999",
    "0.5",
    "\"\\0\"",
    "\\u0000",
    "é",
    "\u{feff}",
    "\u{0}",
    "/dev/zero",
    "../",
    "kind: List\n",
    "items:",
    "apiVersion: v1\n",
    "kind: Pod\n",
    "kind: Service\n",
    "kind: StatefulSet\n",
    "metadata: {name: x}\n",
    "clusterIP: None",
    "nodeSubnet: 224.0.0.0/4",
    "podSubnet: 0.0.0.0/0",
    "targetPort: http",
    "replicas: 1000",
    "enableServiceLinks: false",
];

/// Keys and values a random document is made of.
const WORDS: &[&str] = &[
    "name",
    "kind",
    "apiVersion",
    "metadata",
    "namespace",
    "labels",
    "spec",
    "selector",
    "matchLabels",
    "template",
    "containers",
    "initContainers",
    "image",
    "command",
    "args",
    "env",
    "value",
    "ports",
    "containerPort",
    "port",
    "targetPort",
    "protocol",
    "replicas",
    "serviceName",
    "clusterIP",
    "type",
    "nodePort",
    "cluster",
    "nodes",
    "role",
    "networking",
    "nodeSubnet",
    "podSubnet",
    "podBlockSize",
    "serviceSubnet",
    "dnsDomain",
    "manifests",
    "checks",
    "in",
    "expect",
    "readinessProbe",
    "httpGet",
    "exec",
    "tcpSocket",
    "hostname",
    "subdomain",
    "v1",
    "apps/v1",
    "Pod",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Namespace",
    "busybox",
    "nginx",
    "redis",
    "TCP",
    "UDP",
    "worker",
    "control-plane",
    "10.96.0.0/12",
    "192.168.0.0/16",
    "None",
    "0",
    "80",
    "-3",
    "lab",
];

/// Every YAML file under topologies/: the shipped labs and their manifests.
fn seed_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo().join("topologies"), &mut files);
    files.sort();
    files
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A few random edits of `text`: deletions, insertions, duplications, re-indents,
/// swapped lines and runaway nesting.
fn mutate(rng: &mut StdRng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=chars.len());
        match rng.random_range(0..7) {
            0 => {
                let end = (at + rng.random_range(1..20)).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                let token = pick(rng, TOKENS);
                chars.splice(at..at, token.chars());
            }
            2 => {
                let end = (at + rng.random_range(1..200)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                let to = rng.random_range(0..=chars.len());
                chars.splice(to..to, copy);
            }
            3 => {
                let line_start = chars[..at].iter().rposition(|&c| c == '\n').map_or(0, |i| i + 1);
                if rng.random_bool(0.5) {
                    chars.splice(line_start..line_start, "  ".chars());
                } else if chars.get(line_start) == Some(&' ') {
                    chars.remove(line_start);
                }
            }
            4 => {
                let mut lines: Vec<String> = chars.iter().collect::<String>().lines().map(str::to_string).collect();
                if lines.len() > 1 {
                    let (a, b) = (rng.random_range(0..lines.len()), rng.random_range(0..lines.len()));
                    lines.swap(a, b);
                }
                chars = lines.join("\n").chars().collect();
            }
            5 => {
                let run = pick(rng, &["- ", "[", "{a: ", "- [", "? "]);
                let nesting = run.repeat(rng.random_range(1..300));
                chars.splice(at..at, nesting.chars());
            }
            _ => {
                if at < chars.len() {
                    chars[at] = pick(
                        rng,
                        &[
                            ':', '-', ' ', '\n', '\t', '"', '\'', '{', '[', ',', '#', '&', '*', '!', '|', '>', '%',
                            '\0', 'é',
                        ],
                    );
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// A random YAML-ish document of lists and mappings.
fn random_document(rng: &mut StdRng) -> String {
    let mut text = String::new();
    let mut indent = 0usize;
    for _ in 0..rng.random_range(1..40) {
        text.push_str(&" ".repeat(indent));
        if rng.random_bool(0.3) {
            text.push_str("- ");
        }
        text.push_str(pick(rng, WORDS));
        match rng.random_range(0..5) {
            0 => {
                text.push_str(":\n");
                indent += 2;
                continue;
            }
            1 => text.push_str(&format!(": {}", pick(rng, WORDS))),
            2 => text.push_str(&format!(": [{}, {}]", pick(rng, WORDS), pick(rng, WORDS))),
            3 => text.push_str(&format!(": {{{}: {}}}", pick(rng, WORDS), pick(rng, WORDS))),
            _ => text.push_str(pick(rng, TOKENS)),
        }
        text.push('\n');
        indent = indent.saturating_sub(2 * rng.random_range(0..2));
    }
    text
}

/// Why an error of `labctl validate` is not placed inside a file it read, if it is not.
fn misplaced(error: &labctl::spec::SpecError, texts: &[(String, String)]) -> Option<String> {
    let pos = &error.pos;
    let text = match texts.iter().find(|(file, _)| *file == pos.file) {
        Some((_, text)) => text.clone(),
        None => std::fs::read_to_string(&pos.file).ok()?,
    };
    let lines = text.split('\n').count();
    let shown = error.to_string();
    let located = shown.starts_with(&format!("{}:{}:{}: error: ", pos.file, pos.line, pos.col));
    let inside = pos.line >= 1 && pos.col >= 1 && pos.line <= lines;
    (!(located && inside)).then(|| format!("{shown} (the file has {lines} lines)"))
}

/// What `labctl validate` does, without the kernel: load, validate, resolve, plan.
fn validate_errors(topology: &Path) -> Vec<labctl::spec::SpecError> {
    let topo = match labctl::spec::load(topology) {
        Ok(topo) => topo,
        Err(errors) => return errors.0,
    };
    match labctl::cluster::resolve(
        &topo,
        &topology.to_string_lossy(),
        "2026-01-01T00:00:00Z".parse().unwrap(),
    ) {
        Ok(state) => {
            labctl::cluster::netplan::plan(&state);
            Vec::new()
        }
        Err(errors) => errors.0,
    }
}

#[test]
fn fuzzed_topologies_and_manifests_never_panic_and_every_error_is_placed() {
    let dir = scratch("topo-fuzz");
    // A copy of topologies/, so that mutated topologies sit next to their manifests.
    let topologies = repo().join("topologies");
    let copy = dir.join("topologies");
    let seeds: Vec<(PathBuf, String)> = seed_files()
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let copied = copy.join(path.strip_prefix(&topologies).unwrap());
            std::fs::create_dir_all(copied.parent().unwrap()).unwrap();
            std::fs::write(&copied, &text).unwrap();
            (copied, text)
        })
        .collect();
    let seed = std::env::var("LABCTL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let mut cases = 0;
    let mut accepted = 0;
    while cases < FUZZ_CASES && started.elapsed() < FUZZ_TIME {
        cases += 1;
        let (seed_path, seed_text) = &seeds[rng.random_range(0..seeds.len())];
        // topologies/*.yaml are topologies, topologies/manifests/** their manifests.
        let is_topology = seed_path.parent() == Some(copy.as_path());
        let text = match rng.random_range(0..4) {
            0 => random_document(&mut rng),
            _ => mutate(&mut rng, seed_text),
        };
        // A topology is read from its own directory, so its manifest paths still resolve;
        // a manifest is listed by a topology in the scratch directory.
        let (topology, texts) = if is_topology {
            let path = seed_path.with_file_name("fuzz.yaml");
            std::fs::write(&path, &text).unwrap();
            (path.clone(), vec![(path.display().to_string(), text.clone())])
        } else {
            let manifest = write(&dir, "m.yaml", &text);
            let topology = write(&dir, "lab.yaml", "name: fuzz\nmanifests:\n  - m.yaml\n");
            let texts = vec![(manifest.display().to_string(), text.clone())];
            (topology, texts)
        };
        let outcome = std::panic::catch_unwind(|| validate_errors(&topology));
        let failure = match outcome {
            Err(_) => Some("labctl panicked".to_string()),
            Ok(errors) if errors.is_empty() => {
                accepted += 1;
                None
            }
            Ok(errors) => {
                let misplaced: Vec<String> = errors.iter().filter_map(|e| misplaced(e, &texts)).collect();
                (!misplaced.is_empty())
                    .then(|| format!("errors without a place in the file:\n{}", misplaced.join("\n")))
            }
        };
        if let Some(failure) = failure {
            let kept = write(&dir, "failing-input.yaml", &text);
            panic!(
                "case {cases} (LABCTL_FUZZ_SEED={seed}), a mutation of {}: {failure}\ninput kept in {}",
                seed_path.display(),
                kept.display()
            );
        }
    }
    eprintln!(
        "fuzz: {cases} inputs ({accepted} accepted) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(cases >= 200, "only {cases} inputs within {FUZZ_TIME:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
