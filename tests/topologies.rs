//! Every topology in topologies/ (the seed labs): deploy under a unique name, `labctl
//! verify` passes, its walkthrough runs, destroy leaves nothing. Needs root.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{Lab, labctl, netns_of, ok, renamed_topology, repo, require_root, scratch, stdout};

fn topologies() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("topologies"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".yaml").map(String::from))
        .collect();
    names.sort();
    names
}

fn deploy_verify_walk_destroy(topology: &str, tag: &str) {
    let start = Instant::now();
    let name = common::lab_name(tag);
    let path = renamed_topology(topology, &scratch(tag), &name);
    let guard = Lab::deploy(name.clone(), path);

    let junit = std::env::temp_dir().join(format!("{name}-junit.xml"));
    let out = labctl(&["verify", "--lab", &name, "--junit", junit.to_str().unwrap()]);
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    assert!(
        out.status.success() && last.ends_with(" passed, 0 failed"),
        "{topology}: verify failed:\n{text}"
    );
    let passed: usize = last.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 20, "{topology}: only {passed} checks");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!("tests=\"{passed}\" skipped=\"0\" failures=\"0\"")),
        "{xml}"
    );
    let _ = std::fs::remove_file(&junit);

    let walk = Command::new(repo().join("scripts/walkthrough.sh"))
        .args(["--lab", &name, topology])
        .env("LABCTL", env!("CARGO_BIN_EXE_labctl"))
        .env("LABCTL_DNS_UPSTREAMS", "")
        .output()
        .unwrap();
    let walk_out = stdout(&walk);
    assert!(
        walk.status.success() && walk_out.contains(&format!("done: {topology}")),
        "{topology}: walkthrough failed:\n{walk_out}\n{}",
        String::from_utf8_lossy(&walk.stderr)
    );
    assert!(
        !walk_out.contains("no lab is running") && !walk_out.contains("error:"),
        "{walk_out}"
    );

    ok(labctl(&["destroy", &name]));
    drop(guard);
    assert_eq!(netns_of(&name), Vec::<String>::new(), "{name} left namespaces");
    assert!(
        !Path::new(&format!("/run/labctl/{name}")).exists(),
        "{name} left its state"
    );
    eprintln!("{topology}: {:.1}s", start.elapsed().as_secs_f64());
}

#[test]
fn every_topology_has_a_walkthrough_and_deploys_verified() {
    require_root!();
    let names = topologies();
    for required in [
        "headless-services",
        "show-hostname",
        "nginx-microk8s",
        "nginx-statefulset",
        "workshop",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "topologies/{required}.yaml missing"
        );
    }
    // Labs are independent: run them side by side.
    std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, topology)| scope.spawn(move || deploy_verify_walk_destroy(topology, &format!("tp{i}"))))
            .collect();
        let failures: Vec<String> = handles
            .into_iter()
            .zip(&names)
            .filter_map(|(h, n)| h.join().err().map(|_| n.clone()))
            .collect();
        assert!(failures.is_empty(), "failed: {failures:?}");
    });
}

#[test]
fn verify_fails_with_a_failing_topology_check() {
    require_root!();
    let name = common::lab_name("vfail");
    let dir = scratch("vfail");
    let path = dir.join("t.yaml");
    std::fs::write(
        &path,
        format!(
            "name: {name}\ncluster:\n  nodes:\n    - role: control-plane\n    - role: worker\nmanifests:\n  - {{apiVersion: v1, kind: Pod, metadata: {{name: tools}}, spec: {{containers: [{{name: t, image: busybox}}]}}}}\nchecks:\n  - name: hostname is tools\n    in: tools\n    command: [hostname]\n    expect: ^tools$\n  - name: must fail\n    in: node/worker\n    command: exit 3\n  - name: exit code 3 expected\n    in: node/worker\n    command: exit 3\n    exitCode: 3\n"
        ),
    )
    .unwrap();
    let _lab = Lab::deploy(name.clone(), path);
    let out = labctl(&["verify", "--lab", &name]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("PASS  hostname is tools\n"), "{text}");
    assert!(text.contains("FAIL  must fail: sh -c 'exit 3' in "), "{text}");
    assert!(text.contains("PASS  exit code 3 expected\n"), "{text}");
    assert!(text.ends_with(" passed, 1 failed\n"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&labctl(&["verify", "--lab", &name, "-o", "json"]))).unwrap();
    assert_eq!(json["failed"], 1);
    let graph = stdout(&labctl(&["graph", "--lab", &name, "-o", "mermaid"]));
    assert!(
        graph.starts_with("flowchart LR\n") && graph.contains("tools"),
        "{graph}"
    );
}
