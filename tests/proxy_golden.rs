//! kube-proxy's own expected rules (proxier_test.go, tests/golden/) and labctl's
//! rendering of the same service, both restored with the host's `iptables-restore`
//! into scratch netns and compared as `iptables -S` prints them (root).

mod common;

use std::collections::BTreeMap;

use common::{Netns, require_root};
use labctl::kernel::{iptables, netns};
use labctl::proxy::NodeRules;
use labctl::proxy::rules::{ProxyConfig, ServicePort};
use labctl::spec::Protocol;

/// `iptables -S` of a table, chains grouped (kube-proxy's chain order carries no meaning;
/// the rule order within a chain does).
fn normalised(ns: &str, table: &str) -> BTreeMap<String, Vec<String>> {
    let out = iptables::run_with(iptables::DEFAULT, ns, &["-t", table, "-S"]).unwrap();
    let mut chains: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let mut words = line.split_whitespace();
        let (Some(_), Some(chain)) = (words.next(), words.next()) else {
            continue;
        };
        chains.entry(chain.to_string()).or_default().push(line.to_string());
    }
    chains
}

#[test]
fn three_endpoint_service_equals_kube_proxy_after_iptables() {
    require_root!();
    let pid = std::process::id();
    let (a, b) = (format!("lt-pxg-kp-{pid}"), format!("lt-pxg-us-{pid}"));
    let guards = (Netns::create(a.clone()), Netns::create(b.clone()));

    let golden = include_str!("golden/kube-proxy-internal-traffic-policy-cluster.txt");
    iptables::restore(&a, golden).unwrap();
    let config = ProxyConfig {
        cluster_cidr: "10.0.0.0/8".parse().unwrap(),
        service_cidr: "172.30.0.0/16".parse().unwrap(),
        masquerade_mark: "0x4000".into(),
        random_fully: false,
    };
    let port = ServicePort {
        namespace: "ns1".into(),
        name: "svc1".into(),
        port_name: String::new(),
        protocol: Protocol::Tcp,
        cluster_ip: "172.30.1.1".parse().unwrap(),
        port: 80,
        affinity_timeout: None,
        endpoints: ["10.0.1.2", "10.0.1.3", "10.0.1.1"]
            .iter()
            .map(|ip| (ip.parse().unwrap(), 80))
            .collect(),
    };
    let ours = NodeRules::from_ports(config, &[port]).restore_text();
    iptables::restore(&b, &ours).unwrap();

    for table in ["nat", "filter"] {
        let (theirs, mine) = (normalised(&a, table), normalised(&b, table));
        assert_eq!(mine, theirs, "table {table}");
    }
    // The normalisation quirks NOTES.md lists, seen for real.
    let nat = normalised(&b, "nat");
    let svc = &nat["KUBE-SVC-AQI2S6QIMU7PVVRP"];
    assert!(svc.iter().any(|r| r.contains("--probability 0.33333333349")), "{svc:?}");
    assert!(nat["KUBE-SEP-3JOIVZTXZZRGORX4"][1].starts_with("-A KUBE-SEP-3JOIVZTXZZRGORX4 -s 10.0.1.1/32"));
    drop(guards);
    assert!(!netns::exists(&a) && !netns::exists(&b));
}

/// Past kube-proxy's largeClusterEndpointsThreshold (1000 endpoints) the per-endpoint
/// rules lose their comments, as `iptables -S` shows them on a node; the
/// service-level "cluster IP" comments stay.
#[test]
fn large_cluster_mode_rules_read_back_without_endpoint_comments() {
    require_root!();
    let ns = format!("lt-pxg-large-{}", std::process::id());
    let guard = Netns::create(ns.clone());
    let config = ProxyConfig {
        cluster_cidr: "10.0.0.0/8".parse().unwrap(),
        service_cidr: "172.30.0.0/16".parse().unwrap(),
        masquerade_mark: "0x4000".into(),
        random_fully: false,
    };
    let port = |name: &str, vip: &str, port: u16, ips: Vec<String>| ServicePort {
        namespace: name.replace("svc", "ns"),
        name: name.into(),
        port_name: format!("p{port}"),
        protocol: Protocol::Tcp,
        cluster_ip: vip.parse().unwrap(),
        port,
        affinity_timeout: None,
        endpoints: ips.iter().map(|ip| (ip.parse().unwrap(), port)).collect(),
    };
    let many = |net: &str| (0..499).map(|i| format!("{net}.{}.{}", i % 256, i / 256)).collect();
    let ports = [
        port("svc1", "172.30.0.41", 80, many("10.0")),
        port("svc2", "172.30.0.42", 8080, many("10.1")),
        port(
            "svc3",
            "172.30.0.43",
            8081,
            ["203.0.113.4", "203.0.113.8", "203.0.113.12"]
                .map(String::from)
                .to_vec(),
        ),
    ];
    iptables::restore(&ns, &NodeRules::from_ports(config, &ports).restore_text()).unwrap();

    let nat = normalised(&ns, "nat");
    // Chain names from proxier_test.go TestSyncProxyRulesLargeClusterMode.
    assert_eq!(
        nat["KUBE-SEP-RUVVH7YV3PHQBDOS"],
        vec![
            "-N KUBE-SEP-RUVVH7YV3PHQBDOS",
            "-A KUBE-SEP-RUVVH7YV3PHQBDOS -s 203.0.113.4/32 -j KUBE-MARK-MASQ",
            "-A KUBE-SEP-RUVVH7YV3PHQBDOS -p tcp -m tcp -j DNAT --to-destination 203.0.113.4:8081",
        ]
    );
    assert_eq!(
        nat["KUBE-SEP-DKGQUZGBKLTPAR56"][2],
        "-A KUBE-SEP-DKGQUZGBKLTPAR56 -p tcp -m tcp -j DNAT --to-destination 10.0.0.0:80"
    );
    let seps = nat.iter().filter(|(c, _)| c.starts_with("KUBE-SEP-")).count();
    assert_eq!(seps, 499 + 499 + 3, "1001 endpoints: one past the threshold");
    for (chain, rules) in nat
        .iter()
        .filter(|(c, _)| c.starts_with("KUBE-SVC-") || c.starts_with("KUBE-SEP-"))
    {
        for r in rules {
            assert!(
                !r.contains("--comment") || r.contains("cluster IP\""),
                "{chain}: only the cluster IP comment stays: {r}"
            );
        }
    }
    assert!(
        nat["KUBE-SERVICES"]
            .iter()
            .any(|r| r.contains("--comment \"ns3/svc3:p8081 cluster IP\""))
    );
    drop(guard);
    assert!(!netns::exists(&ns));
}
