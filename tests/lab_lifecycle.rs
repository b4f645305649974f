//! Deploy, use and destroy real labs (root). Each test has its own lab name.

mod common;

use common::*;

#[test]
fn seed_lab_pods_reach_each_other_across_nodes() {
    require_root!();
    let lab = Lab::seed("seed");
    let pods = lab.pods_json();
    let items = pods["items"].as_array().unwrap();
    let node_of = |pod: &str| {
        items.iter().find(|p| p["metadata"]["name"] == pod).unwrap()["spec"]["nodeName"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // redis-0 and redis-2 are spread over different nodes
    assert_ne!(node_of("redis-0"), node_of("redis-2"));
    let redis2 = lab.pod_ip("redis-2");
    let out = ok(lab.exec("redis-0", &["ping", "-c1", "-W2", &redis2]));
    assert!(out.contains("1 received"), "{out}");
    // a pod reaches a node other than its own
    let worker2 = format!("{}-worker2", lab.name);
    let nodes: serde_json::Value = serde_json::from_str(&ok(lab.labctl(&["get", "nodes", "-o", "json"]))).unwrap();
    let worker2_ip = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["metadata"]["name"] == worker2.as_str())
        .unwrap()["status"]["addresses"][0]["address"]
        .as_str()
        .unwrap()
        .to_string();
    let out = ok(lab.exec("redis-0", &["ping", "-c1", "-W2", &worker2_ip]));
    assert!(out.contains("1 received"), "{out}");
    lab.destroy();
}

#[test]
fn nodes_are_named_like_kind_and_pods_are_visible_to_ip_netns() {
    require_root!();
    let lab = Lab::seed("names");
    let ns = netns_of(&lab.name);
    for node in ["control-plane", "worker", "worker2"] {
        assert!(ns.contains(&format!("{}-{node}", lab.name)), "{ns:?}");
    }
    let pod_ns = format!("{}.default.redis-0", lab.name);
    assert!(ns.contains(&pod_ns), "{ns:?}");
    // `ip netns exec` bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &pod_ns, "cat", "/etc/resolv.conf"])
        .output()
        .unwrap();
    let resolv = String::from_utf8_lossy(&out.stdout);
    assert!(resolv.contains("nameserver 10.96.0.10"), "{resolv}");
    assert!(
        resolv.contains("search default.svc.cluster.local svc.cluster.local cluster.local"),
        "{resolv}"
    );
    // labctl exec sees the same files and the pod's hostname
    let hosts = ok(lab.exec("redis-0", &["cat", "/etc/hosts"]));
    assert!(
        hosts.contains("redis-0.redis-headless.default.svc.cluster.local\tredis-0"),
        "{hosts}"
    );
    assert_eq!(ok(lab.exec("redis-0", &["hostname"])).trim(), "redis-0");
    // a node runs commands too
    let routes = ok(lab.exec(&format!("{}-worker", lab.name), &["ip", "route"]));
    assert!(routes.contains("default via 172.18.0.1 dev eth0"), "{routes}");
    lab.destroy();
}

#[test]
fn exec_returns_the_exit_code_of_the_command() {
    require_root!();
    let lab = Lab::seed("exit");
    let out = lab.exec("redis-1", &["sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    lab.destroy();
}

#[test]
fn a_running_lab_name_is_refused_and_destroy_is_idempotent() {
    require_root!();
    let lab = Lab::seed("twice");
    let again = labctl(&["deploy", lab.topology.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already running"), "{}", stderr(&again));
    lab.destroy();
    let out = labctl(&["destroy", &lab.name]);
    assert!(out.status.success(), "second destroy: {}", stderr(&out));
}

#[test]
fn destroy_works_from_saved_state_after_the_topology_file_is_gone() {
    require_root!();
    let lab = Lab::seed("gone");
    std::fs::remove_file(&lab.topology).unwrap();
    lab.destroy();
}

#[test]
fn destroy_by_topology_file() {
    require_root!();
    let lab = Lab::seed("byfile");
    ok(labctl(&["destroy", "-t", lab.topology.to_str().unwrap()]));
    assert!(netns_of(&lab.name).is_empty());
}

#[test]
fn a_deploy_that_fails_half_way_leaves_nothing_behind() {
    require_root!();
    for phase in ["namespaces", "links", "addresses", "routes"] {
        let name = lab_name(&format!("fail-{phase}"));
        let topo = seed_topology(&scratch(&format!("fail-{phase}")), &name);
        let out = labctl_env(&["deploy", topo.to_str().unwrap()], &[("LABCTL_INJECT_FAILURE", phase)]);
        assert!(!out.status.success(), "deploy with failure after {phase} succeeded");
        assert!(stderr(&out).contains("injected failure"), "{}", stderr(&out));
        assert_eq!(netns_of(&name), Vec::<String>::new(), "after failure in {phase}");
        assert!(!std::path::Path::new("/run/labctl").join(&name).exists());
        assert!(
            !std::path::Path::new("/etc/netns")
                .join(format!("{name}.default.redis-0"))
                .exists()
        );
    }
}

#[test]
fn two_labs_with_identical_subnets_do_not_interfere() {
    require_root!();
    let a = Lab::seed("twin-a");
    let b = Lab::seed("twin-b");
    // same addresses in both labs
    assert_eq!(a.pod_ip("redis-2"), b.pod_ip("redis-2"));
    let ip = a.pod_ip("redis-2");
    // each lab's pod answers within its own lab
    ok(a.exec("redis-0", &["ping", "-c1", "-W2", &ip]));
    ok(b.exec("redis-0", &["ping", "-c1", "-W2", &ip]));
    // removing one lab leaves the other working
    a.destroy();
    let out = ok(b.exec("redis-0", &["ping", "-c1", "-W2", &ip]));
    assert!(out.contains("1 received"), "{out}");
    b.destroy();
}

#[test]
fn destroy_all_removes_every_lab_of_its_state_directory() {
    require_root!();
    // A private state directory, so that --all sees only this test's labs.
    let run_dir = scratch("all-state");
    let env = [("LABCTL_RUN_DIR", run_dir.to_str().unwrap())];
    let names = [lab_name("all-a"), lab_name("all-b")];
    for name in &names {
        let topo = seed_topology(&scratch(name), name);
        ok(labctl_env(&["deploy", topo.to_str().unwrap()], &env));
    }
    let inspect = ok(labctl_env(&["inspect", "-f", "json"], &env));
    for name in &names {
        assert!(inspect.contains(name.as_str()), "{inspect}");
        assert!(!netns_of(name).is_empty());
    }
    ok(labctl_env(&["destroy", "--all"], &env));
    for name in &names {
        assert_eq!(netns_of(name), Vec::<String>::new());
    }
    assert!(!run_dir.exists() || std::fs::read_dir(&run_dir).unwrap().next().is_none());
}

#[test]
fn a_namespace_that_exists_already_is_never_taken_over() {
    require_root!();
    let name = lab_name("clash");
    let topo = seed_topology(&scratch("clash"), &name);
    let foreign = format!("{name}-worker");
    labctl::kernel::netns::create(&foreign).unwrap();
    let out = labctl(&["deploy", topo.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    // the foreign namespace is left alone and the lab created nothing
    assert_eq!(netns_of(&name), vec![foreign.clone()]);
    labctl::kernel::netns::delete(&foreign).unwrap();
}

/// Processes whose command line is `labctl supervise <lab>`, not counting the
/// supervisor's own children between fork and exec (they carry its command line).
fn supervisors_of(lab: &str) -> Vec<u32> {
    let is_supervisor = |pid: u32| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        args.windows(2).any(|w| w[0] == b"supervise" && w[1] == lab.as_bytes())
    };
    let parent = |pid: u32| -> u32 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| is_supervisor(pid) && !is_supervisor(parent(pid)))
        .collect()
}

#[test]
fn the_supervisor_outlives_deploy_and_is_stopped_by_destroy() {
    require_root!();
    let lab = Lab::seed("super");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut pids = supervisors_of(&lab.name);
    while pids.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        pids = supervisors_of(&lab.name);
    }
    assert_eq!(pids.len(), 1, "one supervisor after deploy: {pids:?}");
    lab.destroy();
    assert_eq!(
        supervisors_of(&lab.name),
        Vec::<u32>::new(),
        "no process of the lab after destroy"
    );
}

#[test]
fn a_lab_whose_supervisor_died_is_reported_degraded_and_repaired_in_place() {
    require_root!();
    let lab = Lab::seed("repair");
    let pid = supervisors_of(&lab.name)[0];
    // its containers die with it (PR_SET_PDEATHSIG)
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !supervisors_of(&lab.name).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let netns_before = netns_of(&lab.name);
    let get = lab.labctl(&["get", "pods"]);
    assert!(stderr(&get).contains("degraded"), "{}", stderr(&get));
    let out = ok(labctl(&["repair", &lab.name]));
    assert!(out.contains("supervisor restarted"), "{out}");
    assert_eq!(supervisors_of(&lab.name).len(), 1);
    assert_eq!(netns_of(&lab.name), netns_before, "namespaces were not rebuilt");
    // redis answers again behind its DNS name
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let out = lab.exec("redis-1", &["redis-cli", "-h", "redis-0.redis-headless", "ping"]);
        if stdout(&out).trim() == "PONG" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "redis-0 did not come back: {}",
            stdout(&out)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    lab.destroy();
}
