//! Hardening: what a student types from the seeds works as on a cluster (issue 10, item 7).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::*;

/// `labctl ARGS` with `input` on its standard input.
fn labctl_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_labctl"))
        .args(args)
        .env("LABCTL_DNS_UPSTREAMS", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run labctl");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The service's CLUSTER-IP column, None when the service does not exist.
fn cluster_ip(lab: &Lab, service: &str) -> Option<String> {
    let out = lab.labctl(&["get", "services", service, "-o", "jsonpath={.spec.clusterIP}"]);
    out.status.success().then(|| stdout(&out).trim().to_string())
}

const WEB: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: nginx
  ports:
    - port: 8080
      targetPort: 80
";

#[test]
fn the_microk8s_seed_lab_takes_kubectl_verbs() {
    require_root!();
    let name = lab_name("fid");
    let topology = renamed_topology("nginx-microk8s", &scratch("fid"), &name);
    let lab = Lab::deploy(name.clone(), topology.clone());

    // The seed's `nslookup nginx` answers the ClusterIP service's VIP, not pods.
    let vip = cluster_ip(&lab, "nginx").expect("service nginx");
    assert!(vip.starts_with("10."), "nginx is not a ClusterIP service: {vip}");
    // busybox's nslookup, as in the seed: it also asks the other search domains and
    // exits 1 for their NXDOMAIN answers.
    let answer = stdout(&lab.exec("busybox", &["nslookup", "nginx"]));
    assert!(answer.contains(&format!("Address: {vip}")), "{answer}");
    assert_eq!(answer.matches("Name:").count(), 1, "{answer}");

    // `kubectl apply -f -`: the manifest comes on standard input.
    let out = labctl_stdin(&["apply", "--lab", &name, "-f", "-"], WEB);
    assert_eq!(ok(out), "service/web created\n");
    let web_ip = cluster_ip(&lab, "web").expect("service web");
    eventually(5, || {
        let out = lab.exec("busybox", &["curl", "-s", "--max-time", "2", "http://web:8080/"]);
        let body = stdout(&out);
        body.starts_with("nginx-")
            .then_some(())
            .ok_or(format!("curl web:8080: {body}"))
    });

    // A ClusterIP service cannot become headless: the API server refuses, nothing changes.
    let headless = WEB.replace("spec:\n", "spec:\n  clusterIP: None\n");
    let out = labctl_stdin(&["apply", "--lab", &name, "-f", "-"], &headless);
    assert!(!out.status.success(), "clusterIP None over a ClusterIP was accepted");
    assert!(stderr(&out).contains("may not change once set"), "{}", stderr(&out));
    assert_eq!(cluster_ip(&lab, "web").as_deref(), Some(web_ip.as_str()));

    // `kubectl delete service NAME`.
    assert_eq!(
        ok(lab.labctl(&["delete", "service", "web"])),
        "service \"web\" deleted\n"
    );
    assert_eq!(cluster_ip(&lab, "web"), None);
    eventually(5, || {
        let out = lab.exec("busybox", &["nslookup", "web"]);
        (!stdout(&out).contains("Name:"))
            .then_some(())
            .ok_or(format!("web still resolves: {}", stdout(&out)))
    });
    let out = lab.labctl(&["delete", "svc", "web"]);
    assert!(
        !out.status.success() && stderr(&out).contains("not found"),
        "{}",
        stderr(&out)
    );

    // A shell in a pod or node starts at `/`, not in the caller's directory.
    for target in ["busybox", &format!("{name}-worker")] {
        let out = Command::new(env!("CARGO_BIN_EXE_labctl"))
            .args(["exec", "--lab", &name, target, "--", "pwd"])
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        assert_eq!(ok(out), "/\n", "exec {target} pwd");
    }

    // `containerlab inspect -t TOPOLOGY`: the lab that file describes.
    let table = ok(labctl(&["inspect", "-t", topology.to_str().unwrap()]));
    assert!(table.contains(&format!("{name}-worker2")), "{table}");
}
