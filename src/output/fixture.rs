//! Test fixture: the seed lab `lab-headless-services-containerlab.txt` as a `LabState`
//! (3 kind nodes, 8 pods, the kubernetes service + 3 lab services, 4 EndpointSlices).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cluster::state::*;
use crate::spec::{IntOrString, Probe, ProbeAction, Protocol, ServiceType};

pub const LAB: &str = "headless-services";
pub const LAB_CREATED: &str = "2026-11-23T11:14:25Z";
pub const PODS_CREATED: &str = "2026-11-23T11:19:25Z";
pub const CP: &str = "headless-services-control-plane";
pub const W1: &str = "headless-services-worker";
pub const W2: &str = "headless-services-worker2";

/// Five minutes after the pods were created, ten after the lab was.
pub fn now() -> SystemTime {
    // 2026-11-23T11:24:25Z
    UNIX_EPOCH + Duration::from_secs(1_795_433_065)
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn node(name: &str, role: Role, ip: [u8; 4], block: &str, port: &str) -> NodeState {
    NodeState {
        name: name.to_string(),
        role,
        ip: ip.into(),
        pod_block: block.parse().unwrap(),
        netns: name.to_string(),
        fabric_port: port.to_string(),
    }
}

fn container(name: &str, image: &str) -> ContainerState {
    ContainerState {
        name: name.to_string(),
        image: image.to_string(),
        command: vec![],
        args: vec![],
        env: vec![],
        ports: vec![],
        readiness_probe: None,
    }
}

fn port(name: &str, p: u16) -> ContainerPortState {
    ContainerPortState {
        name: Some(name.to_string()),
        container_port: p,
        protocol: Protocol::Tcp,
    }
}

pub const REDIS_SCRIPT: &str = "if [ \"$(hostname)\" = \"redis-0\" ]; then\n  exec redis-server --port 6379\nelse\n  exec redis-server --port 6379 --replicaof redis-0.redis-headless.default.svc.cluster.local 6379\nfi\n";

fn multitool() -> ContainerState {
    container("network-multitool", "wbitt/network-multitool")
}

fn nginx() -> ContainerState {
    let mut c = container("nginx", "nginx:1.25");
    c.ports = vec![port("http", 80)];
    c.readiness_probe = Some(Probe {
        action: ProbeAction::HttpGet {
            path: "/".to_string(),
            port: IntOrString::Int(80),
        },
        initial_delay_seconds: 0,
        period_seconds: 10,
        timeout_seconds: 1,
        success_threshold: 1,
        failure_threshold: 3,
        pos: Default::default(),
    });
    c
}

fn redis() -> ContainerState {
    let mut c = container("redis", "redis:7.2");
    c.command = vec!["sh".to_string(), "-c".to_string()];
    c.args = vec![REDIS_SCRIPT.to_string()];
    c.env = vec![("REDIS_PORT".to_string(), "6379".to_string())];
    c.ports = vec![port("redis", 6379)];
    c
}

fn redis_init() -> ContainerState {
    let mut c = container("wait-for-master", "busybox:1.36");
    c.command = vec![
        "sh".to_string(),
        "-c".to_string(),
        "until nslookup redis-0.redis-headless; do sleep 1; done".to_string(),
    ];
    c
}

struct PodSpec<'a> {
    name: &'a str,
    node: &'a str,
    ip: [u8; 4],
    owner: (&'a str, &'a str),
    labels: Labels,
    containers: Vec<ContainerState>,
    init: Vec<ContainerState>,
    subdomain: Option<&'a str>,
    veth: &'a str,
}

fn pod(p: PodSpec<'_>) -> PodState {
    PodState {
        name: p.name.to_string(),
        namespace: "default".to_string(),
        uid: format!("uid-pod-{}", p.name),
        labels: p.labels,
        owner: Some(OwnerRef {
            kind: p.owner.0.to_string(),
            name: p.owner.1.to_string(),
        }),
        node: p.node.to_string(),
        ip: p.ip.into(),
        netns: format!("{LAB}.default.{}", p.name),
        host_veth: p.veth.to_string(),
        hostname: p.name.to_string(),
        spec_hostname: p.subdomain.map(|_| p.name.to_string()),
        subdomain: p.subdomain.map(str::to_string),
        restart_policy: "Always".to_string(),
        enable_service_links: true,
        init_containers: p.init,
        containers: p.containers,
        ready: true,
        phase: "Running".to_string(),
        restarts: 0,
        created: PODS_CREATED.to_string(),
    }
}

fn svc_port(name: Option<&str>, p: u16, target: IntOrString, proto: Protocol) -> ServicePortState {
    ServicePortState {
        name: name.map(str::to_string),
        port: p,
        target_port: target,
        protocol: proto,
        node_port: None,
    }
}

fn service(name: &str, ip: Option<[u8; 4]>, selector: Option<Labels>, ports: Vec<ServicePortState>) -> ServiceState {
    ServiceState {
        name: name.to_string(),
        namespace: "default".to_string(),
        uid: format!("uid-svc-{name}"),
        labels: BTreeMap::new(),
        service_type: ServiceType::ClusterIP,
        cluster_ip: ip.map(Into::into),
        selector,
        ports,
        external_name: None,
        publish_not_ready_addresses: false,
        session_affinity_client_ip: false,
        session_affinity_timeout: 10800,
        created: PODS_CREATED.to_string(),
    }
}

fn endpoint(ip: [u8; 4], node: &str, pod: &str, hostname: bool) -> EndpointState {
    EndpointState {
        address: ip.into(),
        ready: true,
        hostname: hostname.then(|| pod.to_string()),
        node_name: node.to_string(),
        pod_name: pod.to_string(),
    }
}

fn workload(kind: WorkloadKind, name: &str, app: &str, replicas: u32) -> WorkloadState {
    let containers = match app {
        "nginx" => vec![nginx()],
        "redis" => vec![redis()],
        _ => vec![multitool()],
    };
    WorkloadState {
        kind,
        name: name.to_string(),
        namespace: "default".to_string(),
        uid: format!("uid-{}-{name}", kind.as_str().to_lowercase()),
        labels: labels(&[("app", app)]),
        replicas,
        selector: labels(&[("app", app)]),
        service_name: (kind == WorkloadKind::StatefulSet).then(|| "redis-headless".to_string()),
        template_hash: (kind == WorkloadKind::Deployment).then(|| "55d7bb4b86".to_string()),
        template: PodTemplateState {
            labels: labels(&[("app", app)]),
            hostname: None,
            subdomain: None,
            restart_policy: "Always".to_string(),
            enable_service_links: true,
            init_containers: if app == "redis" { vec![redis_init()] } else { vec![] },
            containers,
        },
    }
}

/// The seed lab, deployed at `LAB_CREATED`, pods created at `PODS_CREATED`.
pub fn lab() -> LabState {
    let ds = ("DaemonSet", "multitool");
    let deploy = ("ReplicaSet", "nginx-deployment-55d7bb4b86");
    let sts = ("StatefulSet", "redis");
    let mt = || labels(&[("app", "multitool"), ("controller-revision-hash", "6d5b7c8f9")]);
    let ng = || labels(&[("app", "nginx"), ("pod-template-hash", "55d7bb4b86")]);
    let rd = |n: &str| labels(&[("app", "redis"), ("statefulset.kubernetes.io/pod-name", n)]);
    #[rustfmt::skip]
    let specs = vec![
        PodSpec { name: "multitool-2p4xk", node: W1, ip: [192, 168, 202, 194], owner: ds, labels: mt(), containers: vec![multitool()], init: vec![], subdomain: None, veth: "cali1a2b3c4d5e6" },
        PodSpec { name: "multitool-8h2js", node: CP, ip: [192, 168, 145, 9], owner: ds, labels: mt(), containers: vec![multitool()], init: vec![], subdomain: None, veth: "cali2a2b3c4d5e6" },
        PodSpec { name: "multitool-k9d3f", node: W2, ip: [192, 168, 156, 3], owner: ds, labels: mt(), containers: vec![multitool()], init: vec![], subdomain: None, veth: "cali3a2b3c4d5e6" },
        PodSpec { name: "nginx-deployment-55d7bb4b86-vg4lt", node: W2, ip: [192, 168, 156, 5], owner: deploy, labels: ng(), containers: vec![nginx()], init: vec![], subdomain: None, veth: "cali4a2b3c4d5e6" },
        PodSpec { name: "nginx-deployment-55d7bb4b86-xqh9d", node: W1, ip: [192, 168, 202, 196], owner: deploy, labels: ng(), containers: vec![nginx()], init: vec![], subdomain: None, veth: "cali5a2b3c4d5e6" },
        PodSpec { name: "redis-0", node: W1, ip: [192, 168, 202, 195], owner: sts, labels: rd("redis-0"), containers: vec![redis()], init: vec![redis_init()], subdomain: Some("redis-headless"), veth: "cali6a2b3c4d5e6" },
        PodSpec { name: "redis-1", node: W2, ip: [192, 168, 156, 4], owner: sts, labels: rd("redis-1"), containers: vec![redis()], init: vec![redis_init()], subdomain: Some("redis-headless"), veth: "cali7a2b3c4d5e6" },
        PodSpec { name: "redis-2", node: CP, ip: [192, 168, 145, 10], owner: sts, labels: rd("redis-2"), containers: vec![redis()], init: vec![redis_init()], subdomain: Some("redis-headless"), veth: "cali8a2b3c4d5e6" },
    ];
    let pods = specs.into_iter().map(pod).collect();

    let mut kubernetes = service(
        "kubernetes",
        Some([10, 96, 0, 1]),
        None,
        vec![svc_port(Some("https"), 443, IntOrString::Int(6443), Protocol::Tcp)],
    );
    kubernetes.labels = labels(&[("component", "apiserver"), ("provider", "kubernetes")]);
    kubernetes.created = LAB_CREATED.to_string();
    let http = || vec![svc_port(Some("http"), 80, IntOrString::Int(80), Protocol::Tcp)];
    let services = vec![
        kubernetes,
        service(
            "nginx-clusterip",
            Some([10, 96, 204, 67]),
            Some(labels(&[("app", "nginx")])),
            http(),
        ),
        service("nginx-headless", None, Some(labels(&[("app", "nginx")])), http()),
        service(
            "redis-headless",
            None,
            Some(labels(&[("app", "redis")])),
            vec![svc_port(
                Some("redis"),
                6379,
                IntOrString::Str("redis".to_string()),
                Protocol::Tcp,
            )],
        ),
    ];

    let eport = |name: &str, p: u16| EndpointPortState {
        name: Some(name.to_string()),
        port: p,
        protocol: Protocol::Tcp,
    };
    let nginx_eps = || {
        vec![
            endpoint([192, 168, 156, 5], W2, "nginx-deployment-55d7bb4b86-vg4lt", false),
            endpoint([192, 168, 202, 196], W1, "nginx-deployment-55d7bb4b86-xqh9d", false),
        ]
    };
    let slice = |name: &str, svc: &str, endpoints, ports| EndpointSliceState {
        name: name.to_string(),
        namespace: "default".to_string(),
        service: svc.to_string(),
        endpoints,
        ports,
    };
    let endpoint_slices = vec![
        slice(
            "kubernetes",
            "kubernetes",
            vec![EndpointState {
                address: [172, 18, 0, 3].into(),
                ready: true,
                hostname: None,
                node_name: CP.to_string(),
                pod_name: String::new(),
            }],
            vec![eport("https", 6443)],
        ),
        slice(
            "nginx-clusterip-x7k2p",
            "nginx-clusterip",
            nginx_eps(),
            vec![eport("http", 80)],
        ),
        slice(
            "nginx-headless-xyz89",
            "nginx-headless",
            nginx_eps(),
            vec![eport("http", 80)],
        ),
        slice(
            "redis-headless-abc12",
            "redis-headless",
            vec![
                endpoint([192, 168, 202, 195], W1, "redis-0", true),
                endpoint([192, 168, 156, 4], W2, "redis-1", true),
                endpoint([192, 168, 145, 10], CP, "redis-2", true),
            ],
            vec![eport("redis", 6379)],
        ),
    ];

    LabState {
        name: LAB.to_string(),
        topology_file: "/home/ubuntu/labs/headless-services/topology.yaml".to_string(),
        created: LAB_CREATED.to_string(),
        networking: NetworkingState {
            node_subnet: "172.18.0.0/16".parse().unwrap(),
            pod_subnet: "192.168.0.0/16".parse().unwrap(),
            pod_block_size: 26,
            service_subnet: "10.96.0.0/12".parse().unwrap(),
            dns_domain: "cluster.local".to_string(),
            dns_ttl: 30,
        },
        fabric_netns: format!("{LAB}.fabric"),
        nodes: vec![
            node(CP, Role::ControlPlane, [172, 18, 0, 3], "192.168.145.0/26", "veth-cp"),
            node(W1, Role::Worker, [172, 18, 0, 2], "192.168.202.192/26", "veth-w1"),
            node(W2, Role::Worker, [172, 18, 0, 4], "192.168.156.0/26", "veth-w2"),
        ],
        namespaces: vec!["default".to_string(), "kube-system".to_string()],
        workloads: vec![
            workload(WorkloadKind::DaemonSet, "multitool", "multitool", 3),
            workload(WorkloadKind::Deployment, "nginx-deployment", "nginx", 2),
            workload(WorkloadKind::StatefulSet, "redis", "redis", 3),
        ],
        pods,
        services,
        endpoint_slices,
        checks: Vec::new(),
    }
}

/// A CoreDNS pod in kube-system on the control plane, for `-A` tests.
pub fn coredns_pod() -> PodState {
    let mut c = container("coredns", "registry.k8s.io/coredns/coredns:v1.10.1");
    c.ports = vec![
        ContainerPortState {
            name: Some("dns".to_string()),
            container_port: 53,
            protocol: Protocol::Udp,
        },
        port("dns-tcp", 53),
    ];
    let mut p = pod(PodSpec {
        name: "coredns-5d78c9869d-4xkqz",
        node: CP,
        ip: [192, 168, 145, 2],
        owner: ("ReplicaSet", "coredns-5d78c9869d"),
        labels: labels(&[("k8s-app", "kube-dns"), ("pod-template-hash", "5d78c9869d")]),
        containers: vec![c],
        init: vec![],
        subdomain: None,
        veth: "cali9a2b3c4d5e6",
    });
    p.namespace = "kube-system".to_string();
    p.netns = format!("{LAB}.kube-system.{}", p.name);
    p
}
