//! Lab states for DNS tests (unit and integration): built by hand so that
//! they only depend on the state model, not on the resolver.

use std::net::Ipv4Addr;

use crate::cluster::state::*;
use crate::spec::{IntOrString, Protocol, ServiceType};

pub const CREATED: &str = "2026-01-01T00:00:00Z";

/// A lab with no objects but the namespaces every cluster has.
pub fn empty_lab(name: &str) -> LabState {
    LabState {
        name: name.to_string(),
        topology_file: format!("/tmp/{name}.yaml"),
        created: CREATED.to_string(),
        networking: NetworkingState {
            node_subnet: "172.18.0.0/16".parse().expect("valid"),
            pod_subnet: "192.168.0.0/16".parse().expect("valid"),
            pod_block_size: 26,
            service_subnet: "10.96.0.0/12".parse().expect("valid"),
            dns_domain: "cluster.local".to_string(),
            dns_ttl: 30,
        },
        fabric_netns: format!("{name}-fabric"),
        nodes: Vec::new(),
        namespaces: ["default", "kube-node-lease", "kube-public", "kube-system"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        workloads: Vec::new(),
        pods: Vec::new(),
        services: Vec::new(),
        endpoint_slices: Vec::new(),
        checks: Vec::new(),
    }
}

/// `(name, port, protocol)`; an empty name is an unnamed port.
pub type Port<'a> = (&'a str, u16, Protocol);

pub fn service(namespace: &str, name: &str, cluster_ip: Option<Ipv4Addr>, ports: &[Port]) -> ServiceState {
    ServiceState {
        name: name.to_string(),
        namespace: namespace.to_string(),
        uid: format!("uid-{namespace}-{name}"),
        labels: Labels::new(),
        service_type: ServiceType::ClusterIP,
        cluster_ip,
        selector: Some(Labels::new()),
        ports: ports
            .iter()
            .map(|(n, port, protocol)| ServicePortState {
                name: (!n.is_empty()).then(|| n.to_string()),
                port: *port,
                target_port: IntOrString::Int(*port),
                protocol: *protocol,
                node_port: None,
            })
            .collect(),
        external_name: None,
        publish_not_ready_addresses: false,
        session_affinity_client_ip: false,
        session_affinity_timeout: 10800,
        created: CREATED.to_string(),
    }
}

pub fn external_name(namespace: &str, name: &str, target: &str) -> ServiceState {
    let mut svc = service(namespace, name, None, &[]);
    svc.service_type = ServiceType::ExternalName;
    svc.selector = None;
    svc.external_name = Some(target.to_string());
    svc
}

pub fn endpoint(address: Ipv4Addr, ready: bool, hostname: Option<&str>, pod: &str) -> EndpointState {
    EndpointState {
        address,
        ready,
        hostname: hostname.map(str::to_string),
        node_name: "node".to_string(),
        pod_name: pod.to_string(),
    }
}

/// The slice of `svc`, with ports named and numbered as `ports` (the
/// endpoint side: target ports).
pub fn slice(svc: &ServiceState, endpoints: Vec<EndpointState>, ports: &[Port]) -> EndpointSliceState {
    EndpointSliceState {
        name: format!("{}-abcde", svc.name),
        namespace: svc.namespace.clone(),
        service: svc.name.clone(),
        endpoints,
        ports: ports
            .iter()
            .map(|(n, port, protocol)| EndpointPortState {
                name: (!n.is_empty()).then(|| n.to_string()),
                port: *port,
                protocol: *protocol,
            })
            .collect(),
    }
}

pub fn pod(namespace: &str, name: &str, ip: Ipv4Addr) -> PodState {
    PodState {
        name: name.to_string(),
        namespace: namespace.to_string(),
        uid: format!("uid-{namespace}-{name}"),
        labels: Labels::new(),
        owner: None,
        node: "node".to_string(),
        ip,
        netns: format!("lab.{namespace}.{name}"),
        host_veth: "cali0123456789a".to_string(),
        hostname: name.to_string(),
        spec_hostname: None,
        subdomain: None,
        restart_policy: "Always".to_string(),
        enable_service_links: true,
        init_containers: Vec::new(),
        containers: Vec::new(),
        ready: true,
        phase: "Running".to_string(),
        restarts: 0,
        created: CREATED.to_string(),
    }
}

/// Adds a service with its slice (and a pod per endpoint).
pub fn add(state: &mut LabState, svc: ServiceState, endpoints: Vec<EndpointState>, target_ports: &[Port]) {
    for ep in &endpoints {
        if state.pod(&svc.namespace, &ep.pod_name).is_none() {
            let mut p = pod(&svc.namespace, &ep.pod_name, ep.address);
            p.ready = ep.ready;
            state.pods.push(p);
        }
    }
    if svc.service_type != ServiceType::ExternalName {
        state.endpoint_slices.push(slice(&svc, endpoints, target_ports));
    }
    if !state.namespaces.contains(&svc.namespace) {
        state.namespaces.push(svc.namespace.clone());
    }
    state.services.push(svc);
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("valid address")
}

/// The main seed lab's services as CoreDNS sees them: `kubernetes`,
/// `kube-dns`, `nginx-clusterip` (10.96.204.67), `nginx-headless` (2 pods),
/// `redis-headless` (StatefulSet redis-0..2 with hostnames, port `redis`).
pub fn seed_lab() -> LabState {
    let tcp = Protocol::Tcp;
    let udp = Protocol::Udp;
    let mut lab = empty_lab("headless-services");
    add(
        &mut lab,
        service("default", "kubernetes", Some(ip("10.96.0.1")), &[("https", 443, tcp)]),
        vec![endpoint(ip("172.18.0.2"), true, None, "kube-apiserver")],
        &[("https", 6443, tcp)],
    );
    add(
        &mut lab,
        service(
            "kube-system",
            "kube-dns",
            Some(ip("10.96.0.10")),
            &[("dns", 53, udp), ("dns-tcp", 53, tcp), ("metrics", 9153, tcp)],
        ),
        vec![
            endpoint(ip("192.168.145.2"), true, None, "coredns-5d78c9869d-abcde"),
            endpoint(ip("192.168.145.3"), true, None, "coredns-5d78c9869d-fghij"),
        ],
        &[("dns", 53, udp), ("dns-tcp", 53, tcp), ("metrics", 9153, tcp)],
    );
    let nginx_eps = || {
        vec![
            endpoint(ip("192.168.156.5"), true, None, "nginx-deployment-55d7bb4b86-vg4lt"),
            endpoint(ip("192.168.202.196"), true, None, "nginx-deployment-55d7bb4b86-x7k2p"),
        ]
    };
    add(
        &mut lab,
        service(
            "default",
            "nginx-clusterip",
            Some(ip("10.96.204.67")),
            &[("http", 80, tcp)],
        ),
        nginx_eps(),
        &[("http", 80, tcp)],
    );
    add(
        &mut lab,
        service("default", "nginx-headless", None, &[("http", 80, tcp)]),
        nginx_eps(),
        &[("http", 80, tcp)],
    );
    add(
        &mut lab,
        service("default", "redis-headless", None, &[("redis", 6379, tcp)]),
        vec![
            endpoint(ip("192.168.202.195"), true, Some("redis-0"), "redis-0"),
            endpoint(ip("192.168.156.4"), true, Some("redis-1"), "redis-1"),
            endpoint(ip("192.168.145.10"), true, Some("redis-2"), "redis-2"),
        ],
        &[("redis", 6379, tcp)],
    );
    lab
}

/// A headless service `default/big` with `n` ready pods 10.244.x.y, named
/// `big-<i>` with hostnames (StatefulSet style) when `hostnames`.
pub fn big_headless(lab: &mut LabState, name: &str, n: usize, hostnames: bool) {
    let eps = (0..n)
        .map(|i| {
            let addr = Ipv4Addr::new(10, 244, (i / 250) as u8, (i % 250 + 1) as u8);
            let pod = format!("{name}-{i}");
            endpoint(addr, true, hostnames.then_some(pod.as_str()), &pod)
        })
        .collect();
    add(
        lab,
        service("default", name, None, &[("http", 80, Protocol::Tcp)]),
        eps,
        &[("http", 8080, Protocol::Tcp)],
    );
}
