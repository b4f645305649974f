//! Containers as processes: init containers in order, restarts with back-off and
//! CrashLoopBackOff, readiness probes, the environment kubelet gives, logs.

mod common;

use common::*;

const TOPOLOGY: &str = r#"name: @LAB@
cluster:
  nodes: [{role: control-plane}, {role: worker}]
manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: ordered, labels: {app: ordered}}
    spec:
      initContainers:
        - {name: first, image: busybox, command: [sh, -c, "echo one >> order"]}
        - {name: second, image: busybox, command: [sh, -c, "echo two >> order"]}
      containers:
        - name: main
          image: busybox
          command: [sh, -c, "cat order; echo host=$HOSTNAME k8s=$KUBERNETES_SERVICE_HOST mine=$MY_VAR; exec sleep infinity"]
          env: [{name: MY_VAR, value: hello}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: crasher}
    spec:
      containers:
        - {name: c, image: busybox, command: [sh, -c, "echo run at $(date +%s%N); exit 3"]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: slow, labels: {app: slow}}
    spec:
      containers:
        - name: web
          image: busybox
          command: [sh, -c, "sleep 1.5; exec python3 -m http.server 9000"]
          ports: [{name: web, containerPort: 9000}]
          readinessProbe:
            tcpSocket: {port: web}
            periodSeconds: 1
  - apiVersion: v1
    kind: Service
    metadata: {name: slow}
    spec:
      clusterIP: None
      selector: {app: slow}
      ports: [{port: 9000}]
"#;

#[test]
fn containers_run_like_kubelet_runs_them() {
    require_root!();
    let name = lab_name("rt");
    let dir = scratch("rt");
    let topo = dir.join("rt.yaml");
    std::fs::write(&topo, TOPOLOGY.replace("@LAB@", &name)).unwrap();
    // The crasher is never Ready: don't wait for it.
    ok(labctl(&["deploy", "--wait", "0", topo.to_str().unwrap()]));
    let lab = Lab::guard(name.clone(), topo);

    // init containers ran in order before the main container, which has kubelet's env
    eventually(10, || {
        let logs = stdout(&labctl(&["logs", "--lab", &name, "ordered"]));
        if logs.starts_with("one\ntwo\nhost=ordered k8s=10.96.0.1 mine=hello") {
            Ok(())
        } else {
            Err(logs)
        }
    });
    let env = ok(lab.exec("ordered", &["sh", "-c", "echo $MY_VAR $KUBERNETES_SERVICE_PORT"]));
    assert_eq!(env.trim(), "hello 443");

    // a container that keeps failing is restarted with back-off: CrashLoopBackOff
    eventually(10, || {
        let row = lab.pod_row("crasher");
        let restarts: u32 = row.get(3).and_then(|r| r.parse().ok()).unwrap_or(0);
        if row.get(2).map(String::as_str) == Some("CrashLoopBackOff") && restarts >= 2 {
            Ok(())
        } else {
            Err(format!("{row:?}"))
        }
    });
    let previous = ok(labctl(&["logs", "--lab", &name, "--previous", "crasher"]));
    assert!(previous.starts_with("run at "), "{previous}");

    // readiness follows the probe, and DNS follows readiness
    eventually(10, || {
        let row = lab.pod_row("slow");
        if row.get(1).map(String::as_str) == Some("1/1") {
            Ok(())
        } else {
            Err(format!("{row:?}"))
        }
    });
    let ip = lab.pod_ip("slow");
    let answer = ok(lab.exec("ordered", &["nslookup", "slow.default.svc.cluster.local"]));
    assert!(answer.contains(&ip), "{answer}");
    lab.destroy();
}
