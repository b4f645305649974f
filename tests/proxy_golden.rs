//! kube-proxy's own expected rules (proxier_test.go, tests/golden/) and labctl's
//! rendering of the same service, both restored with the host's `iptables-restore`
//! into scratch netns and compared as `iptables -S` prints them (root).

use std::collections::BTreeMap;
use std::process::Command;

use labctl::kernel::{iptables, netns};
use labctl::proxy::NodeRules;
use labctl::proxy::rules::{ProxyConfig, ServicePort};
use labctl::spec::Protocol;

struct ScratchNetns(Vec<String>);

impl Drop for ScratchNetns {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("ip").args(["netns", "delete", n]).status();
        }
    }
}

fn add_netns(name: &str) {
    let st = Command::new("ip").args(["netns", "add", name]).status().unwrap();
    assert!(st.success(), "ip netns add {name}");
}

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
    let pid = std::process::id();
    let (a, b) = (format!("lt-pxg-kp-{pid}"), format!("lt-pxg-us-{pid}"));
    let _guard = ScratchNetns(vec![a.clone(), b.clone()]);
    add_netns(&a);
    add_netns(&b);

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
    drop(_guard);
    assert!(!netns::exists(&a) && !netns::exists(&b));
}
