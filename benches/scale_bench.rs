//! Benchmark (root; `cargo bench --bench scale_bench`, run by `scripts/bench-scale.sh`):
//! time from `labctl scale --replicas=N` to the new endpoints answered by DNS and
//! programmed in a node's rules, for N = 3, 30, 300; the supervisor's memory with
//! 1000 pods. Prints Markdown rows for BENCHMARKS.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;

fn topology(name: &str, workers: usize, replicas: usize) -> String {
    let mut t = format!("name: {name}\ncluster:\n  nodes:\n    - role: control-plane\n");
    for _ in 0..workers {
        t.push_str("    - role: worker\n");
    }
    t.push_str(&format!(
        r#"  networking: {{podBlockSize: 24}}
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: load}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: load}}}}
      template:
        metadata: {{labels: {{app: load}}}}
        spec:
          containers: [{{name: box, image: busybox}}]
  - apiVersion: v1
    kind: Service
    metadata: {{name: load}}
    spec:
      selector: {{app: load}}
      ports: [{{name: http, port: 80}}]
  - apiVersion: v1
    kind: Service
    metadata: {{name: load-h}}
    spec:
      clusterIP: None
      selector: {{app: load}}
      ports: [{{name: http, port: 80}}]
  - apiVersion: v1
    kind: Pod
    metadata: {{name: client}}
    spec:
      containers: [{{name: box, image: busybox}}]
"#
    ));
    t
}

fn state(lab: &str) -> labctl::cluster::LabState {
    labctl::store::Store::open().load(lab).unwrap()
}

fn ready_load_pods(lab: &str) -> usize {
    state(lab)
        .pods
        .iter()
        .filter(|p| p.labels.get("app").map(String::as_str) == Some("load") && p.ready)
        .count()
}

fn dns_answers(lab: &Lab) -> usize {
    stdout(&lab.exec("client", &["dig", "+short", "+tcp", "load-h.default.svc.cluster.local"]))
        .lines()
        .count()
}

fn rule_endpoints(lab: &Lab, node: &str) -> usize {
    let chain = labctl::proxy::names::service_chain("default/load:http", "tcp");
    let save = stdout(&lab.exec(node, &["iptables-save", "-t", "nat"]));
    save.lines()
        .filter(|l| l.starts_with(&format!("-A {chain} ")) && l.contains("-j KUBE-SEP-"))
        .count()
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Instant {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
    Instant::now()
}

fn main() {
    if benchmarking() && common::root() {
        bench_scale_to_dns_and_rules();
        bench_supervisor_memory_with_1000_pods();
    }
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench targets without it.
fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn bench_scale_to_dns_and_rules() {
    let name = lab_name("bscale");
    let topo = scratch("bscale").join("t.yaml");
    std::fs::write(&topo, topology(&name, 4, 1)).unwrap();
    let lab = Lab::deploy(name.clone(), topo);
    let node = format!("{name}-worker");
    println!("| N new pods | scale → pods Ready | Ready → DNS answers all | Ready → rules in node | scale → both |");
    println!("|---|---|---|---|---|");
    for n in [3usize, 30, 300] {
        let t0 = Instant::now();
        ok(lab.labctl(&["scale", "deployment/load", &format!("--replicas={}", n + 1)]));
        let ready = wait_until(Duration::from_secs(120), || ready_load_pods(&name) == n + 1);
        let dns = wait_until(Duration::from_secs(60), || dns_answers(&lab) == n + 1);
        let rules = wait_until(Duration::from_secs(60), || rule_endpoints(&lab, &node) == n + 1);
        let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_millis();
        println!(
            "| {n} | {} ms | {} ms | {} ms | {} ms |",
            ms(t0, ready),
            ms(ready, dns),
            ms(ready, rules),
            ms(t0, dns.max(rules))
        );
        ok(lab.labctl(&["scale", "deployment/load", "--replicas=1"]));
        wait_until(Duration::from_secs(60), || dns_answers(&lab) == 1);
    }
    lab.destroy();
}

fn bench_supervisor_memory_with_1000_pods() {
    let name = lab_name("bmem");
    let topo = scratch("bmem").join("t.yaml");
    std::fs::write(&topo, topology(&name, 9, 1000)).unwrap();
    let t0 = Instant::now();
    let lab = Lab::deploy(name.clone(), topo);
    let deployed = t0.elapsed();
    let pid = std::fs::read_to_string(format!("/run/labctl/{name}/supervisor.pid")).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap().to_string();
    println!(
        "| 1001 pods on 10 nodes, all Ready | deploy incl. readiness {:.1} s | supervisor {rss} |",
        deployed.as_secs_f64()
    );
    lab.destroy();
}
