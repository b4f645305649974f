//! Pods like containers: a private root filesystem per pod, each container in a PID
//! namespace of its own, nothing left when the supervisor is killed, image toolsets.

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::*;

const TOPOLOGY: &str = r#"name: @LAB@
cluster:
  nodes: [{role: control-plane}, {role: worker}]
manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: tools}
    spec:
      containers:
        - {name: main, image: busybox, command: [sh, -c, "pwd; exec sleep 1111"]}
        - {name: side, image: busybox, command: [sleep, "1112"]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: other}
    spec:
      containers:
        - {name: c, image: busybox, command: [sh, -c, "setsid sleep 3333 >/dev/null 2>&1 & exec sleep 2222"]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: dnsutils}
    spec:
      containers:
        - {name: c, image: tutum/dnsutils, workingDir: /srv/app, command: [sh, -c, "pwd; exec sleep infinity"]}
"#;

fn deploy(tag: &str) -> Lab {
    let name = lab_name(tag);
    let topology = scratch(tag).join(format!("{tag}.yaml"));
    std::fs::write(&topology, TOPOLOGY.replace("@LAB@", &name)).unwrap();
    Lab::deploy(name, topology)
}

/// `sh -c SCRIPT` in `pod`; its stdout.
fn sh(lab: &Lab, pod: &str, script: &str) -> String {
    ok(lab.exec(pod, &["sh", "-c", script]))
}

#[test]
fn ps_in_a_pod_lists_only_its_containers_processes() {
    require_root!();
    let lab = deploy("ctps");
    let ps = sh(&lab, "tools", "ps -o pid,args");
    let commands: Vec<&str> = ps.lines().skip(1).map(|l| l.trim_start()).collect();
    assert_eq!(commands.len(), 2, "only the container and ps itself:\n{ps}");
    assert!(commands[0].starts_with("1 sleep 1111"), "the container is PID 1:\n{ps}");
    assert!(commands[1].ends_with("ps -o pid,args"), "{ps}");
    // the pod's other container and other pods have PID namespaces of their own
    for elsewhere in ["sleep 1112", "sleep 2222", "sleep 3333", "supervise"] {
        assert!(!ps.contains(elsewhere), "{elsewhere} seen from the pod:\n{ps}");
    }
}

/// Pids of every process whose network namespace is one of lab `lab`'s.
fn processes_in(lab: &str) -> Vec<String> {
    let namespaces: BTreeSet<(u64, u64)> = netns_of(lab)
        .iter()
        .filter_map(|name| std::fs::metadata(Path::new("/run/netns").join(name)).ok())
        .map(|m| (m.dev(), m.ino()))
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.parse::<u32>().is_ok())
        .filter(|pid| {
            std::fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| namespaces.contains(&(m.dev(), m.ino())))
        })
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " "))
        })
        .collect()
}

#[test]
fn nothing_of_a_pod_outlives_a_killed_supervisor() {
    require_root!();
    let lab = deploy("ctkill");
    // `sleep 3333` is a descendant of a container that left its process group and session
    assert!(
        processes_in(&lab.name).iter().any(|p| p.contains("sleep 3333")),
        "{:?}",
        processes_in(&lab.name)
    );
    let pid = std::fs::read_to_string(format!("/run/labctl/{}/supervisor.pid", lab.name)).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid.trim().parse().unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    eventually(5, || match processes_in(&lab.name) {
        left if left.is_empty() => Ok(()),
        left => Err(format!("left in the lab's namespaces: {left:?}")),
    });
}

#[test]
fn a_pods_writes_stay_in_the_pod() {
    require_root!();
    let lab = deploy("ctfs");
    let tag = lab.name.clone();
    let paths = [
        format!("/etc/{tag}"),
        format!("/root/{tag}"),
        format!("/usr/local/{tag}"),
    ];
    let write: Vec<String> = paths.iter().map(|p| format!("echo written > {p}")).collect();
    sh(&lab, "tools", &write.join(" && "));
    let leaked: Vec<&String> = paths.iter().filter(|p| Path::new(p).exists()).collect();
    for p in &leaked {
        let _ = std::fs::remove_file(p);
    }
    assert!(leaked.is_empty(), "a pod's writes reached the host: {leaked:?}");
    // the next exec in the same pod sees them, another pod does not
    let read: Vec<String> = paths.iter().map(|p| format!("cat {p}")).collect();
    assert_eq!(sh(&lab, "tools", &read.join(" && ")), "written\n".repeat(3));
    let other = lab.exec("other", &["cat", &paths[0]]);
    assert!(!other.status.success(), "{}", stdout(&other));
    // the pod's root is an overlay of its own with the pod's /etc files on top
    assert_eq!(sh(&lab, "tools", "cat /etc/hostname"), "tools\n");
    let mounts = sh(&lab, "tools", "cat /proc/mounts");
    assert!(mounts.lines().any(|l| l.starts_with("overlay / overlay ")), "{mounts}");
}

#[test]
fn a_pod_starts_at_slash_or_its_working_dir() {
    require_root!();
    let lab = deploy("ctpwd");
    let logs = |pod: &str, container: &str| stdout(&lab.labctl(&["logs", pod, "-c", container]));
    eventually(5, || match logs("tools", "main") {
        out if out == "/\n" => Ok(()),
        out => Err(format!("container started in {out:?}")),
    });
    assert_eq!(sh(&lab, "tools", "pwd"), "/\n");
    assert_eq!(logs("dnsutils", "c"), "/srv/app\n");
    assert_eq!(sh(&lab, "dnsutils", "pwd"), "/srv/app\n");
}

#[test]
fn each_image_sees_its_own_tools_first() {
    require_root!();
    let lab = deploy("cttools");
    let banner = sh(&lab, "tools", "nslookup --help 2>&1 | head -1");
    assert!(
        banner.starts_with("BusyBox v"),
        "nslookup in a busybox pod is busybox's: {banner}"
    );
    // busybox prints the server as ADDRESS:PORT, BIND's nslookup as ADDRESS#PORT
    let busybox = sh(&lab, "tools", "nslookup kubernetes.default.svc.cluster.local || true");
    assert!(busybox.contains("Address:\t10.96.0.10:53"), "{busybox}");
    let bind = sh(&lab, "dnsutils", "nslookup kubernetes.default.svc.cluster.local");
    assert!(bind.contains("Address:\t10.96.0.10#53"), "{bind}");
    assert_eq!(
        ok(lab.exec("dnsutils", &["dig", "+short", "+search", "kubernetes.default"])),
        "10.96.0.1\n"
    );
}

#[test]
fn destroy_leaves_no_mount_behind() {
    require_root!();
    // Other tests' labs come and go meanwhile: only their /run/netns handles may differ.
    let host_mounts = || -> BTreeSet<String> {
        let out = std::process::Command::new("findmnt")
            .args(["-rn", "-o", "TARGET,SOURCE,FSTYPE"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("/run/netns/"))
            .map(str::to_string)
            .collect()
    };
    let before = host_mounts();
    let lab = deploy("ctmnt");
    let during = host_mounts();
    assert_eq!(during, before, "the pods' mounts are in the host's mount table");
    lab.destroy();
    assert_eq!(host_mounts(), before);
    let all = String::from_utf8_lossy(
        &std::process::Command::new("findmnt")
            .arg("-rn")
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(!all.contains(&lab.name), "{all}");
}
