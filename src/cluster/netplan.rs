//! LabState → NetPlan: the Calico-style wiring of DESIGN.md as plain data.
//!
//! fabric netns: bridge `br0` (the fabric gateway address), one port per node;
//! node netns: `eth0` on the fabric, ip_forward, a `/32` route and proxy ARP per
//!   pod veth (`cali…`), routes to the other nodes' blocks via their addresses;
//! pod netns: `eth0` with the pod IP/32, default route via 169.254.1.1.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::kernel::plan::{NetPlan, NsPlan, RoutePlan, VethPlan};

use super::ipam;
use super::podfiles;
use super::state::{LabState, NodeState, PodState};

pub const FABRIC_BRIDGE: &str = "br0";
/// Calico's fixed next hop for pods: link-local, answered by proxy ARP on the
/// host side of the veth (Calico docs, "Why does my container have a route to 169.254.1.1?").
pub const POD_GATEWAY: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);
/// Calico gives every host-side veth this MAC: the host answers for the gateway anyway.
pub const HOST_VETH_MAC: [u8; 6] = [0xee; 6];

pub fn plan(state: &LabState) -> NetPlan {
    let mut namespaces = vec![fabric(state)];
    namespaces.extend(state.nodes.iter().map(|n| node(state, n)));
    namespaces.extend(state.pods.iter().map(|p| pod(state, p)));
    NetPlan { namespaces }
}

/// What a running lab needs for pods added later (scale, a recreated pod): their
/// own namespaces, and on their nodes (which exist) only the new veths, proxy-ARP
/// sysctls and /32 routes.
pub fn added_pods(state: &LabState, pods: &[&PodState]) -> NetPlan {
    let mut namespaces: Vec<NsPlan> = pods.iter().map(|p| pod(state, p)).collect();
    for node in &state.nodes {
        let mine: Vec<&PodState> = pods.iter().copied().filter(|p| p.node == node.name).collect();
        if mine.is_empty() {
            continue;
        }
        namespaces.push(NsPlan {
            name: node.netns.clone(),
            existing: true,
            veths: mine.iter().map(|p| pod_veth(p)).collect(),
            sysctls: mine.iter().flat_map(|p| pod_sysctls(p)).collect(),
            routes: mine.iter().map(|p| pod_route(p)).collect(),
            ..Default::default()
        });
    }
    NetPlan { namespaces }
}

fn pod_veth(p: &PodState) -> VethPlan {
    VethPlan {
        name: p.host_veth.clone(),
        mac: Some(HOST_VETH_MAC),
        master: None,
        peer_ns: p.netns.clone(),
        peer_name: "eth0".into(),
    }
}

fn pod_sysctls(p: &PodState) -> [(String, String); 2] {
    [
        (format!("net/ipv4/conf/{}/proxy_arp", p.host_veth), "1".into()),
        // Without this the kernel delays proxy ARP replies by up to 0.8 s (proxy_delay, ip-sysctl.rst).
        (format!("net/ipv4/neigh/{}/proxy_delay", p.host_veth), "0".into()),
    ]
}

fn pod_route(p: &PodState) -> RoutePlan {
    RoutePlan {
        dst: host_route(p.ip),
        gateway: None,
        dev: Some(p.host_veth.clone()),
        scope_link: true,
        blackhole: false,
    }
}

fn fabric(state: &LabState) -> NsPlan {
    let subnet = state.networking.node_subnet;
    NsPlan {
        name: state.fabric_netns.clone(),
        bridges: vec![FABRIC_BRIDGE.into()],
        veths: state
            .nodes
            .iter()
            .map(|n| VethPlan {
                name: n.fabric_port.clone(),
                mac: None,
                master: Some(FABRIC_BRIDGE.into()),
                peer_ns: n.netns.clone(),
                peer_name: "eth0".into(),
            })
            .collect(),
        addresses: vec![(FABRIC_BRIDGE.into(), with_prefix(ipam::fabric_gateway(subnet), subnet))],
        ..Default::default()
    }
}

fn node(state: &LabState, node: &NodeState) -> NsPlan {
    let subnet = state.networking.node_subnet;
    let pods: Vec<&PodState> = state.pods.iter().filter(|p| p.node == node.name).collect();
    let mut sysctls = vec![("net/ipv4/ip_forward".to_string(), "1".to_string())];
    sysctls.extend(pods.iter().flat_map(|p| pod_sysctls(p)));
    let mut routes: Vec<RoutePlan> = pods.iter().map(|p| pod_route(p)).collect();
    routes.extend(state.nodes.iter().filter(|o| o.name != node.name).map(|o| RoutePlan {
        dst: o.pod_block,
        gateway: Some(o.ip),
        dev: Some("eth0".into()),
        scope_link: false,
        blackhole: false,
    }));
    // Calico blackholes its own block so unassigned addresses never leave the node.
    routes.push(RoutePlan {
        dst: node.pod_block,
        gateway: None,
        dev: None,
        scope_link: false,
        blackhole: true,
    });
    // Like a kind node's default route via the docker network's gateway; proxy ARP
    // for 169.254.1.1 also needs a route that leaves by another interface.
    routes.push(RoutePlan {
        dst: Ipv4Net::default(),
        gateway: Some(ipam::fabric_gateway(subnet)),
        dev: Some("eth0".into()),
        scope_link: false,
        blackhole: false,
    });
    NsPlan {
        name: node.netns.clone(),
        veths: pods.iter().map(|p| pod_veth(p)).collect(),
        sysctls,
        addresses: vec![("eth0".into(), with_prefix(node.ip, subnet))],
        routes,
        ..Default::default()
    }
}

fn pod(state: &LabState, pod: &PodState) -> NsPlan {
    NsPlan {
        name: pod.netns.clone(),
        addresses: vec![("eth0".into(), host_route(pod.ip))],
        routes: vec![
            RoutePlan {
                dst: host_route(POD_GATEWAY),
                gateway: None,
                dev: Some("eth0".into()),
                scope_link: true,
                blackhole: false,
            },
            RoutePlan {
                dst: Ipv4Net::default(),
                gateway: Some(POD_GATEWAY),
                dev: Some("eth0".into()),
                scope_link: false,
                blackhole: false,
            },
        ],
        etc_files: vec![
            ("resolv.conf".into(), podfiles::resolv_conf(pod, &state.networking)),
            ("hosts".into(), podfiles::hosts(pod, &state.networking)),
            ("hostname".into(), podfiles::hostname(pod)),
        ],
        ..Default::default()
    }
}

fn host_route(ip: Ipv4Addr) -> Ipv4Net {
    Ipv4Net::new(ip, 32).expect("32 is a valid prefix")
}

fn with_prefix(ip: Ipv4Addr, subnet: Ipv4Net) -> Ipv4Net {
    Ipv4Net::new(ip, subnet.prefix_len()).expect("prefix comes from a valid subnet")
}
