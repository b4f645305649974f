//! Real-kernel tests of `labctl::kernel` (run as root). Every test uses its
//! own name prefix, so they may run in parallel, and checks that none of its
//! namespaces is left behind.

mod common;

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Instant;

use ipnet::Ipv4Net;
use labctl::kernel::apply::apply;
use labctl::kernel::exec::{ExecOptions, exec_in, output_in};
use labctl::kernel::plan::{NetPlan, NsPlan, RoutePlan, VethPlan};
use labctl::kernel::teardown::teardown;
use labctl::kernel::{links, netlink, netns, sysctl};

use common::{Netns, assert_netns_gone, require_root};

fn prefix(test: &str) -> String {
    format!("kt-{test}-{}", std::process::id())
}

fn names_of(plan: &NetPlan) -> Vec<String> {
    plan.namespaces.iter().map(|ns| ns.name.clone()).collect()
}

fn net(text: &str) -> Ipv4Net {
    text.parse().unwrap()
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

fn plain() -> ExecOptions {
    ExecOptions {
        hostname: None,
        etc_overlay: false,
    }
}

fn stdout_in(netns_name: &str, options: &ExecOptions, words: &[&str]) -> String {
    let output = output_in(netns_name, options, &argv(words)).unwrap();
    assert!(output.status.success(), "{words:?} in {netns_name}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn ping(from_ns: &str, to: Ipv4Addr) -> std::process::Output {
    output_in(from_ns, &plain(), &argv(&["ping", "-c1", "-W1", &to.to_string()])).unwrap()
}

/// A kind-like cluster with Calico-style pod links: a fabric netns with
/// bridge br0, `nodes` node netns (eth0 172.18.0.2+i/16 on br0, default via
/// 172.18.0.1 as on kind), and `pods_per_node` pods per node (eth0 with a
/// /32, default via 169.254.1.1; the node side `cali…` answers by proxy ARP).
/// Node i holds the pod block 192.168.i.0/25. Returns the plan and each
/// pod's (netns, ip).
fn calico_lab(prefix: &str, nodes: usize, pods_per_node: usize) -> (NetPlan, Vec<(String, Ipv4Addr)>) {
    let fabric = format!("{prefix}-fabric");
    let node_name = |i: usize| format!("{prefix}-node{i}");
    let node_ip = |i: usize| Ipv4Addr::new(172, 18, 0, 2 + i as u8);
    let block = |i: usize| Ipv4Net::new(Ipv4Addr::new(192, 168, i as u8, 0), 25).unwrap();
    let scope_link = |dst: Ipv4Net, dev: &str| RoutePlan {
        dst,
        gateway: None,
        dev: Some(dev.into()),
        scope_link: true,
        blackhole: false,
    };
    let via = |dst: Ipv4Net, gateway: Ipv4Addr, dev: &str| RoutePlan {
        dst,
        gateway: Some(gateway),
        dev: Some(dev.into()),
        scope_link: false,
        blackhole: false,
    };

    let mut plan = NetPlan::default();
    let mut fabric_ns = NsPlan {
        name: fabric,
        bridges: vec!["br0".into()],
        ..Default::default()
    };
    let mut pods = Vec::new();
    let mut pod_plans = Vec::new();
    let mut node_plans = Vec::new();
    for i in 0..nodes {
        fabric_ns.veths.push(VethPlan {
            name: format!("n{i}"),
            mac: None,
            master: Some("br0".into()),
            peer_ns: node_name(i),
            peer_name: "eth0".into(),
        });
        let mut node = NsPlan {
            name: node_name(i),
            sysctls: vec![("net/ipv4/ip_forward".into(), "1".into())],
            addresses: vec![("eth0".into(), Ipv4Net::new(node_ip(i), 16).unwrap())],
            routes: vec![via(net("0.0.0.0/0"), Ipv4Addr::new(172, 18, 0, 1), "eth0")],
            ..Default::default()
        };
        for k in (0..nodes).filter(|&k| k != i) {
            node.routes.push(via(block(k), node_ip(k), "eth0"));
        }
        for j in 0..pods_per_node {
            let pod = format!("{prefix}-pod{i}-{j}");
            let cali = format!("cali{:011x}", i * 1000 + j);
            let ip = Ipv4Addr::new(192, 168, i as u8, 1 + j as u8);
            node.veths.push(VethPlan {
                name: cali.clone(),
                mac: Some([0xee; 6]),
                master: None,
                peer_ns: pod.clone(),
                peer_name: "eth0".into(),
            });
            node.sysctls
                .push((format!("net/ipv4/conf/{cali}/proxy_arp"), "1".into()));
            node.sysctls
                .push((format!("net/ipv4/neigh/{cali}/proxy_delay"), "0".into()));
            node.routes.push(scope_link(Ipv4Net::new(ip, 32).unwrap(), &cali));
            pod_plans.push(NsPlan {
                name: pod.clone(),
                addresses: vec![("eth0".into(), Ipv4Net::new(ip, 32).unwrap())],
                routes: vec![
                    scope_link(net("169.254.1.1/32"), "eth0"),
                    via(net("0.0.0.0/0"), Ipv4Addr::new(169, 254, 1, 1), "eth0"),
                ],
                etc_files: vec![("resolv.conf".into(), "nameserver 10.96.0.10\n".into())],
                ..Default::default()
            });
            pods.push((pod, ip));
        }
        node_plans.push(node);
    }
    plan.namespaces.push(fabric_ns);
    plan.namespaces.extend(node_plans);
    plan.namespaces.extend(pod_plans);
    (plan, pods)
}

fn is_nsfs(file: &std::fs::File) -> bool {
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    nix::sys::statfs::fstatfs(file).unwrap().filesystem_type().0 as i64 == NSFS_MAGIC
}

#[test]
fn create_delete_exists_list_are_idempotent() {
    require_root!();
    let name = prefix("netns");
    let names = vec![name.clone()];
    let _cleanup = Netns::guard(&names);

    assert!(!netns::exists(&name));
    netns::create(&name).unwrap();
    assert!(netns::exists(&name));
    assert!(netns::list().contains(&name));
    assert!(is_nsfs(&netns::open(&name).unwrap()));

    let again = netns::create(&name).unwrap_err();
    assert!(format!("{again:#}").contains("File exists"), "{again:#}");
    assert!(netns::exists(&name), "a failed create removed the existing namespace");
    assert!(
        is_nsfs(&netns::open(&name).unwrap()),
        "a failed create unmounted the existing namespace"
    );

    netns::write_etc_files(&name, &[("hosts".into(), "127.0.0.1 localhost\n".into())]).unwrap();
    netns::delete(&name).unwrap();
    netns::delete(&name).unwrap();
    assert!(!netns::exists(&name));
    assert!(netns::open(&name).is_err());
    assert!(netns::create("bad/name").is_err());
    assert!(netns::delete("..").is_err());
    assert_netns_gone(&names);
}

#[test]
fn a_new_netns_has_only_lo_and_its_own_sysctls() {
    require_root!();
    let name = prefix("fresh");
    let names = vec![name.clone()];
    let _cleanup = Netns::guard(&names);
    netns::create(&name).unwrap();
    let netns_file = netns::open(&name).unwrap();

    sysctl::write_in(&netns_file, &[("net/ipv4/ip_forward".into(), "1".into())]).unwrap();
    assert_eq!(
        stdout_in(&name, &plain(), &["cat", "/proc/sys/net/ipv4/ip_forward"]),
        "1\n"
    );
    let links = stdout_in(&name, &plain(), &["ls", "/sys/class/net"]);
    assert!(links.split_whitespace().any(|link| link == "lo"), "{links}");
    assert!(!links.contains("eth0"), "{links}");

    // The same view over a netlink socket opened inside the namespace.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_io().build().unwrap();
    let dumped = runtime.block_on(async {
        let socket = netlink::socket_in(&name).await.unwrap();
        links::dump(&socket).await.unwrap()
    });
    let link_names: Vec<&str> = dumped.iter().map(|link| link.name.as_str()).collect();
    assert_eq!(link_names, ["lo"]);
    assert!(!dumped[0].up, "create leaves lo down, as ip netns add does");
    drop(runtime);

    teardown(&names);
    assert_netns_gone(&names);
}

#[test]
fn calico_pods_on_two_nodes_ping_each_other() {
    require_root!();
    let (plan, pods) = calico_lab(&prefix("ping"), 2, 1);
    let names = names_of(&plan);
    let _cleanup = Netns::guard(&names);
    apply(&plan).unwrap();

    let node0 = &plan.namespaces[1].name;
    let cali = &plan.namespaces[1].veths[0].name;
    assert_eq!(
        stdout_in(node0, &plain(), &["cat", &format!("/sys/class/net/{cali}/address")]),
        "ee:ee:ee:ee:ee:ee\n"
    );
    assert_eq!(
        stdout_in(
            node0,
            &plain(),
            &["cat", &format!("/proc/sys/net/ipv4/conf/{cali}/proxy_arp")]
        ),
        "1\n"
    );
    assert_eq!(
        stdout_in(node0, &plain(), &["cat", "/proc/sys/net/ipv4/ip_forward"]),
        "1\n"
    );
    assert_eq!(
        stdout_in(&pods[0].0, &plain(), &["cat", "/sys/class/net/lo/operstate"]),
        "unknown\n"
    );

    let (pod_a, ip_a) = &pods[0];
    let (pod_b, ip_b) = &pods[1];
    let there = ping(pod_a, *ip_b);
    assert!(there.status.success(), "{}", String::from_utf8_lossy(&there.stdout));
    let back = ping(pod_b, *ip_a);
    assert!(back.status.success(), "{}", String::from_utf8_lossy(&back.stdout));

    assert!(teardown(&names).is_empty());
    assert_netns_gone(&names);
}

#[test]
fn errors_name_the_netns_and_the_object() {
    require_root!();
    let (mut plan, _) = calico_lab(&prefix("error"), 1, 1);
    let pod = plan.namespaces[2].name.clone();
    // The same route twice: the kernel refuses the second one.
    let default = plan.namespaces[2].routes[1].clone();
    plan.namespaces[2].routes.push(default);
    let names = names_of(&plan);
    let _cleanup = Netns::guard(&names);

    let err = apply(&plan).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("netns {pod}: add route 0.0.0.0/0 via 169.254.1.1 dev eth0: File exists (os error 17)")
    );
    assert!(teardown(&names).is_empty());
    assert_netns_gone(&names);
}

#[test]
fn exec_sees_etc_files_hostname_and_exit_code() {
    require_root!();
    let name = prefix("exec");
    let resolv =
        "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n";
    let plan = NetPlan {
        namespaces: vec![NsPlan {
            name: name.clone(),
            etc_files: vec![("resolv.conf".into(), resolv.into())],
            ..Default::default()
        }],
    };
    let names = names_of(&plan);
    let _cleanup = Netns::guard(&names);
    apply(&plan).unwrap();

    let pod = ExecOptions {
        hostname: Some("redis-0".into()),
        etc_overlay: true,
    };
    assert_eq!(stdout_in(&name, &pod, &["cat", "/etc/resolv.conf"]), resolv);
    assert_eq!(stdout_in(&name, &pod, &["hostname"]), "redis-0\n");
    assert_ne!(stdout_in(&name, &plain(), &["cat", "/etc/resolv.conf"]), resolv);
    assert_eq!(exec_in(&name, &pod, &argv(&["sh", "-c", "exit 7"])).unwrap(), 7);
    assert_eq!(
        exec_in(&name, &pod, &argv(&["sh", "-c", "kill -TERM $$"])).unwrap(),
        128 + 15
    );
    // Only the child moved: this process still has the host's hostname.
    assert_ne!(nix::unistd::gethostname().unwrap(), "redis-0");

    assert!(teardown(&names).is_empty());
    assert_netns_gone(&names);
}

/// LABCTL_INJECT_FAILURE is process-wide, so each phase runs in a child
/// process of this test binary (`injected_failure_child`).
#[test]
fn injected_failure_then_teardown_leaves_nothing() {
    require_root!();
    for phase in ["namespaces", "links", "addresses", "routes"] {
        let prefix = prefix(&format!("inject-{phase}"));
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "injected_failure_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("LABCTL_INJECT_FAILURE", phase)
            .env("KT_INJECT_PREFIX", &prefix)
            .output()
            .unwrap();
        let (plan, _) = calico_lab(&prefix, 2, 1);
        let names = names_of(&plan);
        teardown(&names);
        assert!(
            output.status.success(),
            "phase {phase}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
        assert_netns_gone(&names);
    }
}

#[test]
#[ignore = "run by injected_failure_then_teardown_leaves_nothing"]
fn injected_failure_child() {
    require_root!();
    let (Ok(phase), Ok(prefix)) = (
        std::env::var("LABCTL_INJECT_FAILURE"),
        std::env::var("KT_INJECT_PREFIX"),
    ) else {
        return;
    };
    let (plan, _) = calico_lab(&prefix, 2, 1);
    let names = names_of(&plan);
    let err = apply(&plan).unwrap_err();
    assert_eq!(err.to_string(), format!("injected failure after phase {phase}"));
    for name in &names {
        assert!(netns::exists(name), "{name} missing after phase {phase}");
    }
    let errors = teardown(&names);
    assert!(errors.is_empty(), "{errors:?}");
    assert_netns_gone(&names);
}

fn root_netns_snapshot() -> (Vec<String>, String) {
    let dev = std::fs::read_to_string("/proc/net/dev").unwrap();
    let mut links: Vec<String> = dev
        .lines()
        .skip(2)
        .filter_map(|line| Some(line.split(':').next()?.trim().to_owned()))
        .collect();
    links.sort();
    (links, std::fs::read_to_string("/proc/net/route").unwrap())
}

#[test]
fn root_netns_is_untouched() {
    require_root!();
    let before = root_netns_snapshot();
    let (plan, _) = calico_lab(&prefix("root"), 2, 2);
    let names = names_of(&plan);
    let _cleanup = Netns::guard(&names);
    apply(&plan).unwrap();
    assert!(teardown(&names).is_empty());
    assert_eq!(root_netns_snapshot(), before);
    assert_netns_gone(&names);
}

fn bench(nodes: usize, pods_per_node: usize) {
    let (plan, pods) = calico_lab(&prefix(&format!("bench{nodes}x{pods_per_node}")), nodes, pods_per_node);
    let names = names_of(&plan);
    let _cleanup = Netns::guard(&names);
    let routes: usize = plan.namespaces.iter().map(|ns| ns.routes.len()).sum();
    let veths: usize = plan.namespaces.iter().map(|ns| ns.veths.len()).sum();

    let started = Instant::now();
    apply(&plan).unwrap();
    let applied = started.elapsed();
    let (first, _) = &pods[0];
    let (_, last_ip) = pods.last().unwrap();
    let pinged = ping(first, *last_ip);
    assert!(pinged.status.success(), "{}", String::from_utf8_lossy(&pinged.stdout));

    let started = Instant::now();
    let errors = teardown(&names);
    let torn_down = started.elapsed();
    assert!(errors.is_empty(), "{errors:?}");
    println!(
        "{} netns, {veths} veth pairs, {routes} routes: apply {applied:?}, teardown {torn_down:?}",
        names.len()
    );
    assert_netns_gone(&names);
}

#[test]
#[ignore = "benchmark: cargo test --release --test kernel -- --ignored bench --nocapture"]
fn bench_apply_20_netns() {
    require_root!();
    bench(4, 4);
}

#[test]
#[ignore = "benchmark: cargo test --release --test kernel -- --ignored bench --nocapture"]
fn bench_apply_1000_pods_on_10_nodes() {
    require_root!();
    bench(10, 100);
}
