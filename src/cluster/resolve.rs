//! Topology → LabState: nodes, pods placed and addressed, services with ClusterIPs,
//! EndpointSlices. Pure; errors point at the user's input.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::spec::{
    self, ClusterIpSpec, IntOrString, NodeRole, Object, Protocol, ServiceType, SpecError, SpecErrors, Topology,
};

use super::controllers::{self, PodIntent};
use super::endpoints;
use super::ipam::{self, ClusterIpAllocator};
use super::names;
use super::scheduler::{self, Slot};
use super::state::*;
use super::system;

/// The namespaces every cluster has.
const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

pub fn resolve(topo: &Topology, topology_file: &str, now: Timestamp) -> Result<LabState, SpecErrors> {
    let lab = topo.name.value.as_str();
    let networking = networking_state(&topo.networking);
    let nodes = nodes(topo, &networking)?;
    let control_plane = nodes
        .iter()
        .find(|n| n.role == Role::ControlPlane)
        .expect("the spec layer guarantees one control-plane node");
    check_images(&topo.objects)?;
    let objects = with_system_objects(&topo.objects, &control_plane.name)?;
    let expansion = controllers::expand(lab, &objects, &nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>());
    let pods = place_pods(lab, &expansion.pods, &nodes, now)?;
    let services = services(lab, topo, &networking, now)?;
    let endpoint_slices = endpoints::endpoint_slices(lab, &services, &pods, control_plane);
    Ok(LabState {
        name: lab.to_string(),
        topology_file: topology_file.to_string(),
        created: now,
        networking,
        fabric_netns: names::fabric_netns(lab),
        nodes,
        namespaces: namespaces(&topo.objects),
        workloads: expansion.workloads,
        pods,
        services,
        endpoint_slices,
        checks: topo.checks.iter().map(check_state).collect(),
    })
}

fn check_state(c: &spec::CheckSpec) -> CheckState {
    CheckState {
        name: c.name.value.clone(),
        target: c.target.value.clone(),
        namespace: c.namespace.clone(),
        command: c.command.clone(),
        expect: c.expect.clone(),
        exit_code: c.exit_code,
    }
}

/// Images are not pulled: each container needs a command or an image labctl knows.
pub(crate) fn check_images(objects: &[Object]) -> Result<(), SpecErrors> {
    let errors: Vec<SpecError> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Pod(p) => Some(&p.spec),
            Object::Deployment(w) | Object::StatefulSet(w) | Object::DaemonSet(w) => Some(&w.template.spec),
            _ => None,
        })
        .flat_map(|spec| spec.init_containers.iter().chain(&spec.containers))
        .filter_map(|c| {
            super::images::launch(&controllers::container_state(c))
                .err()
                .map(|why| {
                    SpecError::new(&c.image.pos, why).hint(
                        "add a `command:` that runs a host binary, or use an image with a built-in behaviour \
                     (nginx/hostname/echo: HTTP server; redis: redis-server; busybox/multitool/dnsutils: idle toolbox)",
                    )
                })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SpecErrors(errors))
    }
}

/// The cluster's own objects first (kind creates them before anything is applied),
/// then the user's; a user object may not take a system object's name.
fn with_system_objects(user: &[Object], control_plane: &str) -> Result<Vec<Object>, SpecErrors> {
    let system = system::objects(control_plane);
    let errors: Vec<SpecError> = user
        .iter()
        .filter(|u| {
            system.iter().any(|s| {
                s.kind() == u.kind()
                    && s.meta().namespace.value == u.meta().namespace.value
                    && s.meta().name.value == u.meta().name.value
            })
        })
        .map(|u| {
            let m = u.meta();
            SpecError::new(
                &m.name.pos,
                format!(
                    "{} {}/{} is created by the cluster itself",
                    u.kind(),
                    m.namespace.value,
                    m.name.value
                ),
            )
            .hint("choose another name")
        })
        .collect();
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    Ok(system.into_iter().chain(user.iter().cloned()).collect())
}

fn networking_state(n: &spec::Networking) -> NetworkingState {
    NetworkingState {
        node_subnet: n.node_subnet.value,
        pod_subnet: n.pod_subnet.value,
        pod_block_size: n.pod_block_size.value,
        service_subnet: n.service_subnet.value,
        dns_domain: n.dns_domain.value.clone(),
        dns_ttl: n.dns_ttl.value,
    }
}

/// Control plane first, then workers, named and numbered as kind does.
fn nodes(topo: &Topology, net: &NetworkingState) -> Result<Vec<NodeState>, SpecErrors> {
    let lab = &topo.name.value;
    let control_planes = topo.nodes.iter().filter(|n| n.value == NodeRole::ControlPlane);
    let workers = topo.nodes.iter().filter(|n| n.value == NodeRole::Worker);
    let ordered = control_planes
        .map(|n| (n, None))
        .chain(workers.enumerate().map(|(i, n)| (n, Some(i))));
    let mut out = Vec::new();
    for (index, (node, worker_index)) in ordered.enumerate() {
        let name = names::node_name(lab, worker_index);
        let ip = ipam::node_ip(net.node_subnet, index).ok_or_else(|| {
            SpecError::new(
                &topo.networking.node_subnet.pos,
                format!("nodeSubnet {} has no address left for node {name}", net.node_subnet),
            )
            .hint("use a larger nodeSubnet (a smaller prefix length)")
        })?;
        let pod_block = ipam::pod_block(net.pod_subnet, net.pod_block_size, index).ok_or_else(|| {
            SpecError::new(
                &topo.networking.pod_subnet.pos,
                format!(
                    "podSubnet {} has no /{} block left for node {name}",
                    net.pod_subnet, net.pod_block_size
                ),
            )
            .hint("use a larger podSubnet or a larger podBlockSize number (smaller blocks)")
        })?;
        out.push(NodeState {
            role: match node.value {
                NodeRole::ControlPlane => Role::ControlPlane,
                NodeRole::Worker => Role::Worker,
            },
            netns: name.clone(),
            fabric_port: format!("node{index}"),
            name,
            ip,
            pod_block,
        });
    }
    Ok(out)
}

fn namespaces(objects: &[Object]) -> Vec<String> {
    let mut all: Vec<String> = SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect();
    for o in objects {
        if let Object::Namespace(m) = o
            && !all.contains(&m.name.value)
        {
            all.push(m.name.value.clone());
        }
    }
    all
}

fn place_pods(
    lab: &str,
    intents: &[PodIntent],
    nodes: &[NodeState],
    now: Timestamp,
) -> Result<Vec<PodState>, SpecErrors> {
    let mut pinned = Vec::with_capacity(intents.len());
    let mut errors = Vec::new();
    for p in intents {
        match &p.node {
            None => pinned.push(None),
            Some(name) => match nodes.iter().position(|n| &n.name == name) {
                Some(i) => pinned.push(Some(i)),
                None => {
                    errors.push(
                        SpecError::new(
                            &p.node_pos,
                            format!("pod {}: nodeName {name} is not a node of this lab", p.name),
                        )
                        .hint(format!(
                            "nodes are: {}",
                            nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
                        )),
                    );
                    pinned.push(None);
                }
            },
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let mut slots: Vec<Slot> = nodes
        .iter()
        .map(|n| Slot {
            name: n.name.clone(),
            is_control_plane: n.role == Role::ControlPlane,
            free: ipam::pod_capacity(n.pod_block),
        })
        .collect();
    let groups: Vec<usize> = intents.iter().map(|p| p.group).collect();
    let placement = scheduler::schedule(&mut slots, &groups, &pinned).map_err(|i| {
        let p = &intents[i];
        let capacity = ipam::pod_capacity(nodes[0].pod_block);
        SpecError::new(
            &p.pos,
            format!(
                "pod {} does not fit: every node's /{} block ({capacity} pod addresses) is full",
                p.name,
                nodes[0].pod_block.prefix_len()
            ),
        )
        .hint("lower podBlockSize (e.g. 24 holds 255 pods per node), add worker nodes, or reduce replicas")
    })?;
    let mut next_ip = vec![0usize; nodes.len()];
    Ok(intents
        .iter()
        .zip(placement)
        .map(|(p, n)| {
            let node = &nodes[n];
            let ip = ipam::pod_ip(node.pod_block, next_ip[n]).expect("the scheduler respects capacity");
            next_ip[n] += 1;
            pod_state(lab, p, node, ip, now)
        })
        .collect())
}

fn pod_state(lab: &str, p: &PodIntent, node: &NodeState, ip: std::net::Ipv4Addr, now: Timestamp) -> PodState {
    PodState {
        uid: names::uid(&format!("{lab}/Pod/{}/{}", p.namespace, p.name)),
        netns: names::pod_netns(lab, &p.namespace, &p.name),
        host_veth: names::host_veth(&p.namespace, &p.name),
        hostname: names::pod_hostname(&p.name, p.spec_hostname.as_deref()),
        spec_hostname: p.spec_hostname.clone(),
        subdomain: p.subdomain.clone(),
        name: p.name.clone(),
        namespace: p.namespace.clone(),
        labels: p.labels.clone(),
        owner: p.owner.clone(),
        node: node.name.clone(),
        ip,
        restart_policy: p.restart_policy,
        enable_service_links: p.enable_service_links,
        init_containers: p.init_containers.clone(),
        containers: p.containers.clone(),
        // Nothing runs until the supervisor's kubelet starts it and reports back.
        ready: false,
        phase: PodPhase::Pending,
        restarts: 0,
        created: now,
    }
}

fn services(
    lab: &str,
    topo: &Topology,
    net: &NetworkingState,
    now: Timestamp,
) -> Result<Vec<ServiceState>, SpecErrors> {
    let user: Vec<&spec::ServiceObject> = topo
        .objects
        .iter()
        .filter_map(|o| match o {
            Object::Service(s) => Some(s),
            _ => None,
        })
        .collect();
    let mut errors = Vec::new();
    let mut alloc = ClusterIpAllocator::new(net.service_subnet);
    let mut owners: BTreeMap<std::net::Ipv4Addr, String> = BTreeMap::new();
    let mut out = builtin_services(lab, net, now);
    for b in &out {
        let ip = b.cluster_ip.expect("built-in services have ClusterIPs");
        alloc.reserve(ip);
        owners.insert(ip, format!("{}/{}", b.namespace, b.name));
    }
    for s in &user {
        if out
            .iter()
            .any(|b| b.namespace == s.meta.namespace.value && b.name == s.meta.name.value)
        {
            errors.push(
                SpecError::new(
                    &s.meta.name.pos,
                    format!(
                        "service {}/{} is created by the cluster itself",
                        s.meta.namespace.value, s.meta.name.value
                    ),
                )
                .hint("choose another name"),
            );
        }
        if let ClusterIpSpec::Fixed(ip) = s.cluster_ip.value {
            let key = format!("{}/{}", s.meta.namespace.value, s.meta.name.value);
            if !ipam::is_allocatable_cluster_ip(net.service_subnet, ip) {
                errors.push(
                    SpecError::new(
                        &s.cluster_ip.pos,
                        format!(
                            "clusterIP {ip} is not an allocatable address of serviceSubnet {}",
                            net.service_subnet
                        ),
                    )
                    .hint(format!(
                        "pick an address inside {}, or leave clusterIP out to get one",
                        net.service_subnet
                    )),
                );
            } else if !alloc.reserve(ip) {
                errors.push(
                    SpecError::new(
                        &s.cluster_ip.pos,
                        format!("clusterIP {ip} is already allocated to service {}", owners[&ip]),
                    )
                    .hint("pick another address, or leave clusterIP out to get a free one"),
                );
            } else {
                owners.insert(ip, key);
            }
        }
    }
    for s in &user {
        let key = format!("{}/{}", s.meta.namespace.value, s.meta.name.value);
        let cluster_ip = match (s.service_type, &s.cluster_ip.value) {
            (ServiceType::ExternalName, _) | (_, ClusterIpSpec::Headless) => None,
            (_, ClusterIpSpec::Fixed(ip)) => Some(*ip),
            (_, ClusterIpSpec::Auto) => match alloc.allocate(&key) {
                Some(ip) => Some(ip),
                None => {
                    errors.push(
                        SpecError::new(
                            &s.meta.pos,
                            format!(
                                "serviceSubnet {} has no ClusterIP left for service {key}",
                                net.service_subnet
                            ),
                        )
                        .hint("use a larger serviceSubnet"),
                    );
                    None
                }
            },
        };
        out.push(user_service(lab, s, cluster_ip, now));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SpecErrors(errors))
    }
}

pub(crate) fn user_service(
    lab: &str,
    s: &spec::ServiceObject,
    cluster_ip: Option<std::net::Ipv4Addr>,
    now: Timestamp,
) -> ServiceState {
    ServiceState {
        name: s.meta.name.value.clone(),
        namespace: s.meta.namespace.value.clone(),
        uid: names::uid(&format!(
            "{lab}/Service/{}/{}",
            s.meta.namespace.value, s.meta.name.value
        )),
        labels: s.meta.labels.clone(),
        service_type: s.service_type,
        cluster_ip,
        selector: s.selector.clone(),
        ports: s
            .ports
            .iter()
            .map(|p| ServicePortState {
                name: p.name.clone(),
                port: p.port,
                target_port: p.target_port.clone(),
                protocol: p.protocol,
                node_port: p.node_port,
            })
            .collect(),
        external_name: s.external_name.clone(),
        publish_not_ready_addresses: s.publish_not_ready_addresses,
        session_affinity_client_ip: s.session_affinity_client_ip,
        session_affinity_timeout: s.session_affinity_timeout,
        created: now,
    }
}

/// `default/kubernetes` (the apiserver, first address of the range) and
/// `kube-system/kube-dns` (kubeadm's tenth address), as every kind cluster has them.
fn builtin_services(lab: &str, net: &NetworkingState, now: Timestamp) -> Vec<ServiceState> {
    let port = |name: &str, port: u16, target: u16, protocol: Protocol| ServicePortState {
        name: Some(name.into()),
        port,
        target_port: IntOrString::Int(target),
        protocol,
        node_port: None,
    };
    let labels = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Labels>()
    };
    let service = |namespace: &str, name: &str, labels: Labels, cluster_ip, selector, ports| ServiceState {
        name: name.into(),
        namespace: namespace.into(),
        uid: names::uid(&format!("{lab}/Service/{namespace}/{name}")),
        labels,
        service_type: ServiceType::ClusterIP,
        cluster_ip: Some(cluster_ip),
        selector,
        ports,
        external_name: None,
        publish_not_ready_addresses: false,
        session_affinity_client_ip: false,
        session_affinity_timeout: 10800,
        created: now,
    };
    vec![
        service(
            "default",
            "kubernetes",
            labels(&[("component", "apiserver"), ("provider", "kubernetes")]),
            ipam::kubernetes_service_ip(net.service_subnet),
            None,
            vec![port("https", 443, 6443, Protocol::Tcp)],
        ),
        service(
            "kube-system",
            "kube-dns",
            labels(&[("k8s-app", "kube-dns"), ("kubernetes.io/name", "CoreDNS")]),
            ipam::dns_service_ip(net.service_subnet),
            Some(labels(&[("k8s-app", "kube-dns")])),
            vec![
                port("dns", 53, 53, Protocol::Udp),
                port("dns-tcp", 53, 53, Protocol::Tcp),
                port("metrics", 9153, 9153, Protocol::Tcp),
            ],
        ),
    ]
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
