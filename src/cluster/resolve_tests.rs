//! Resolve + plan over whole topologies, without root.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::cluster::state::{LabState, Role};
use crate::cluster::{netplan, resolve};

const NOW: &str = "2026-11-23T11:00:00Z";

fn seed() -> LabState {
    crate::fixture::resolved::seed()
}

fn lab(yaml: &str) -> Result<LabState, crate::spec::SpecErrors> {
    let topo = crate::spec::load_str("t.yaml", yaml, Path::new("."))?;
    resolve(&topo, "t.yaml", NOW.parse().unwrap())
}

fn pods_of(state: &LabState, prefix: &str) -> Vec<String> {
    crate::fixture::resolved::pod_names(state, prefix)
}

#[test]
fn seed_nodes_are_named_and_addressed_like_kind_with_calico_blocks() {
    let s = seed();
    let names: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "headless-services-control-plane",
            "headless-services-worker",
            "headless-services-worker2"
        ]
    );
    assert_eq!(s.nodes[0].role, Role::ControlPlane);
    let ips: Vec<Ipv4Addr> = s.nodes.iter().map(|n| n.ip).collect();
    assert_eq!(
        ips,
        [
            Ipv4Addr::new(172, 18, 0, 2),
            Ipv4Addr::new(172, 18, 0, 3),
            Ipv4Addr::new(172, 18, 0, 4)
        ]
    );
    for (i, a) in s.nodes.iter().enumerate() {
        assert_eq!(a.pod_block.prefix_len(), 26);
        assert!(s.networking.pod_subnet.contains(&a.pod_block));
        for b in &s.nodes[i + 1..] {
            assert!(!a.pod_block.contains(&b.pod_block.network()));
        }
    }
}

#[test]
fn seed_controllers_name_pods_like_kubernetes() {
    let s = seed();
    assert_eq!(pods_of(&s, "redis-"), ["redis-0", "redis-1", "redis-2"]);
    for p in s.pods.iter().filter(|p| p.name.starts_with("redis-")) {
        assert_eq!(p.hostname, p.name);
        assert_eq!(p.subdomain.as_deref(), Some("redis-headless"));
    }
    let nginx = pods_of(&s, "nginx-deployment-");
    assert_eq!(nginx.len(), 2);
    for name in &nginx {
        let parts: Vec<&str> = name.rsplitn(3, '-').collect();
        assert_eq!(parts[0].len(), 5, "{name}");
        assert_eq!(parts[1].len(), 10, "{name}");
        assert_eq!(parts[2], "nginx-deployment");
        let pod = s.pods.iter().find(|p| &p.name == name).unwrap();
        assert_eq!(pod.labels["pod-template-hash"], parts[1]);
    }
    let multitool: Vec<_> = s.pods.iter().filter(|p| p.name.starts_with("multitool-")).collect();
    assert_eq!(multitool.len(), 3);
    let mut nodes: Vec<&str> = multitool.iter().map(|p| p.node.as_str()).collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 3, "one multitool pod per node");
}

#[test]
fn replicas_spread_over_nodes_and_addresses_come_from_the_node_block() {
    let s = seed();
    let mut redis_nodes: Vec<&str> = s
        .pods
        .iter()
        .filter(|p| p.name.starts_with("redis-"))
        .map(|p| p.node.as_str())
        .collect();
    redis_nodes.sort();
    redis_nodes.dedup();
    assert_eq!(redis_nodes.len(), 3);
    let mut ips: Vec<Ipv4Addr> = s.pods.iter().map(|p| p.ip).collect();
    for p in &s.pods {
        assert!(
            s.node(&p.node).unwrap().pod_block.contains(&p.ip),
            "{} {}",
            p.name,
            p.ip
        );
    }
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), s.pods.len(), "pod IPs are unique");
}

#[test]
fn the_same_topology_always_gives_the_same_lab() {
    assert_eq!(seed(), seed());
}

#[test]
fn well_known_and_fixed_cluster_ips() {
    let s = seed();
    let ip = |ns: &str, name: &str| {
        s.services
            .iter()
            .find(|x| x.namespace == ns && x.name == name)
            .unwrap()
            .cluster_ip
    };
    assert_eq!(ip("default", "kubernetes"), Some(Ipv4Addr::new(10, 96, 0, 1)));
    assert_eq!(ip("kube-system", "kube-dns"), Some(Ipv4Addr::new(10, 96, 0, 10)));
    assert_eq!(ip("default", "nginx-clusterip"), Some(Ipv4Addr::new(10, 96, 204, 67)));
    assert_eq!(ip("default", "nginx-headless"), None);
    assert_eq!(ip("default", "redis-headless"), None);
}

#[test]
fn endpoint_slices_carry_hostnames_only_for_statefulset_pods() {
    let s = seed();
    let slice = |svc: &str| s.endpoint_slices.iter().find(|e| e.service == svc).unwrap();
    let redis = slice("redis-headless");
    assert_eq!(redis.endpoints.len(), 3);
    for e in &redis.endpoints {
        assert_eq!(e.hostname.as_deref(), Some(e.pod_name.as_str()));
    }
    assert_eq!(redis.ports[0].port, 6379, "named targetPort resolved");
    let nginx = slice("nginx-headless");
    assert_eq!(nginx.endpoints.len(), 2);
    assert!(nginx.endpoints.iter().all(|e| e.hostname.is_none()));
    assert_eq!(slice("kubernetes").endpoints[0].address, s.nodes[0].ip);
}

const BASE: &str = "name: t\ncluster:\n  nodes:\n    - role: control-plane\n    - role: worker\n";

#[test]
fn a_service_selecting_nothing_is_valid_and_has_no_endpoints() {
    let yaml = format!(
        "{BASE}manifests:\n  - apiVersion: v1\n    kind: Service\n    metadata: {{name: lonely}}\n    spec:\n      selector: {{app: nobody}}\n      ports: [{{port: 80}}]\n"
    );
    let s = lab(&yaml).unwrap();
    let slice = s.endpoint_slices.iter().find(|e| e.service == "lonely").unwrap();
    assert!(slice.endpoints.is_empty());
    assert!(
        s.services
            .iter()
            .find(|x| x.name == "lonely")
            .unwrap()
            .cluster_ip
            .is_some()
    );
}

fn service(name: &str, ip: &str) -> String {
    format!(
        "  - apiVersion: v1\n    kind: Service\n    metadata: {{name: {name}}}\n    spec:\n      clusterIP: {ip}\n      ports: [{{port: 80}}]\n"
    )
}

#[test]
fn conflicting_fixed_cluster_ips_are_rejected_at_the_second() {
    let yaml = format!(
        "{BASE}manifests:\n{}{}",
        service("a", "10.96.5.5"),
        service("b", "10.96.5.5")
    );
    let err = lab(&yaml).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("already allocated to service default/a"), "{text}");
    assert!(text.starts_with("t.yaml:"), "{text}");
    assert_eq!(err.0[0].pos.line, 17, "{text}");
}

#[test]
fn fixed_cluster_ip_taken_by_kube_dns_or_outside_the_range_is_rejected() {
    let yaml = format!(
        "{BASE}manifests:\n{}{}",
        service("a", "10.96.0.10"),
        service("b", "10.200.0.1")
    );
    let err = lab(&yaml).unwrap_err().to_string();
    assert!(
        err.contains("already allocated to service kube-system/kube-dns"),
        "{err}"
    );
    assert!(
        err.contains("not an allocatable address of serviceSubnet 10.96.0.0/12"),
        "{err}"
    );
}

#[test]
fn more_pods_than_the_blocks_hold_is_rejected_with_a_hint() {
    // two /30 blocks: 3 pod addresses each
    let yaml = format!(
        "{BASE}  networking: {{podSubnet: 10.200.0.0/24, podBlockSize: 30}}\nmanifests:\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {{name: big}}\n    spec:\n      replicas: 7\n      selector: {{matchLabels: {{app: big}}}}\n      template:\n        metadata: {{labels: {{app: big}}}}\n        spec: {{containers: [{{name: c, image: busybox}}]}}\n"
    );
    let err = lab(&yaml).unwrap_err().to_string();
    assert!(err.contains("does not fit"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn plan_wires_every_pod_and_names_fit_the_kernel() {
    let s = seed();
    let plan = netplan::plan(&s);
    assert_eq!(plan.namespaces.len(), 1 + s.nodes.len() + s.pods.len());
    for ns in &plan.namespaces {
        for v in &ns.veths {
            assert!(v.name.len() <= 15 && v.peer_name.len() <= 15, "{}", v.name);
        }
    }
    let worker = plan.namespaces.iter().find(|n| n.name == s.nodes[1].netns).unwrap();
    // a route to every other node's block, via that node
    for other in s.nodes.iter().filter(|n| n.name != s.nodes[1].name) {
        assert!(
            worker
                .routes
                .iter()
                .any(|r| r.dst == other.pod_block && r.gateway == Some(other.ip))
        );
    }
    // a /32 route and proxy ARP for each local pod
    for p in s.pods.iter().filter(|p| p.node == s.nodes[1].name) {
        assert!(
            worker
                .routes
                .iter()
                .any(|r| r.dst.addr() == p.ip && r.dev.as_deref() == Some(p.host_veth.as_str()))
        );
        assert!(
            worker
                .sysctls
                .contains(&(format!("net/ipv4/conf/{}/proxy_arp", p.host_veth), "1".into()))
        );
    }
    let pod = plan.namespaces.iter().find(|n| n.name == s.pods[0].netns).unwrap();
    assert_eq!(pod.routes.last().unwrap().gateway, Some(netplan::POD_GATEWAY));
    assert!(
        pod.etc_files
            .iter()
            .any(|(f, c)| f == "resolv.conf" && c.contains("nameserver 10.96.0.10"))
    );
}

#[test]
fn coredns_runs_on_the_control_plane_behind_kube_dns() {
    let s = seed();
    let coredns: Vec<_> = s.pods.iter().filter(|p| p.namespace == "kube-system").collect();
    assert_eq!(coredns.len(), 2);
    for p in &coredns {
        assert!(p.name.starts_with("coredns-"), "{}", p.name);
        assert_eq!(p.node, s.nodes[0].name);
    }
    let slice = s.endpoint_slices.iter().find(|e| e.service == "kube-dns").unwrap();
    let mut addresses: Vec<_> = slice.endpoints.iter().map(|e| e.address).collect();
    addresses.sort();
    let mut expected: Vec<_> = coredns.iter().map(|p| p.ip).collect();
    expected.sort();
    assert_eq!(addresses, expected);
    assert!(
        slice
            .ports
            .iter()
            .any(|p| p.name.as_deref() == Some("dns") && p.port == 53)
    );
}

#[test]
fn a_user_object_may_not_take_a_system_name() {
    let yaml = format!(
        "{BASE}manifests:\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {{name: coredns, namespace: kube-system}}\n    spec:\n      selector: {{matchLabels: {{app: x}}}}\n      template:\n        metadata: {{labels: {{app: x}}}}\n        spec: {{containers: [{{name: c, image: busybox}}]}}\n"
    );
    let err = lab(&yaml).unwrap_err().to_string();
    assert!(
        err.contains("Deployment kube-system/coredns is created by the cluster itself"),
        "{err}"
    );
}

#[test]
fn the_dns_ttl_is_30_unless_the_topology_says_otherwise() {
    assert_eq!(seed().networking.dns_ttl, 30);
    let s = lab(&format!("{BASE}  networking: {{dnsTTL: 5}}\n")).unwrap();
    assert_eq!(s.networking.dns_ttl, 5);
    let err = lab(&format!("{BASE}  networking: {{dnsTTL: 7200}}\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("dnsTTL"), "{err}");
}
