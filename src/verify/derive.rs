//! The checks of a lab, as a pure function of its state: every service name resolves as
//! it should (the VIP, or exactly the ready pod IPs), StatefulSet pods' own names, SRV for
//! named ports, PTR for endpoints and VIPs, kube-proxy rules present for ClusterIP services
//! on every node and absent for headless ones, TCP through every ClusterIP port reaching
//! every endpoint, the seeds' ping contrast, pods reaching each other across nodes — then
//! the topology's own `checks:`.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::cluster::images::{Launch, launch};
use crate::cluster::state::{CheckState, EndpointState, LabState, PodState, ServiceState, WorkloadKind};
use crate::spec::{Protocol, ServiceType};

/// Where a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Pod { namespace: String, name: String },
    Node(String),
}

impl Place {
    pub fn describe(&self) -> String {
        match self {
            Place::Pod { namespace, name } if namespace == "default" => name.clone(),
            Place::Pod { namespace, name } => format!("{namespace}/{name}"),
            Place::Node(name) => name.clone(),
        }
    }
}

/// What a step's output (stdout and stderr together) must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Anything (a preparation step).
    Anything,
    /// The non-empty lines, trimmed, are exactly these (in any order).
    Lines(BTreeSet<String>),
    /// `dig +short SRV` lines: exactly these (port, target) pairs, priority and weight aside.
    Srv(BTreeSet<(u16, String)>),
    /// Some line holds every one of these fragments.
    LineWithAll(Vec<String>),
    /// No line holds any of these fragments.
    NoLineWithAny(Vec<String>),
    /// The output holds this text.
    Contains(String),
    /// The output holds one of these texts.
    ContainsAny(Vec<String>),
    /// `conntrack -L` output: the reply sources (the endpoints reached) are exactly these.
    ReplySources(BTreeSet<Ipv4Addr>),
    /// A topology check: output matches the extended regular expression (if any) and the
    /// command exits with the code (if any).
    Custom {
        regex: Option<String>,
        exit_code: Option<i32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub place: Place,
    pub argv: Vec<String>,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    /// dns, kube-proxy, tcp, ping, reach or topology.
    pub group: &'static str,
    pub steps: Vec<Step>,
    /// Set when the check cannot even be run (e.g. a topology check names no pod or node).
    pub problem: Option<String>,
}

/// Connections made through a VIP per endpoint, to see every endpoint picked.
const CONNECTIONS_PER_ENDPOINT: usize = 12;

/// Every check of the lab, derived ones first, then the topology's own.
pub fn derive(lab: &LabState) -> Vec<Check> {
    let client = client(lab);
    let mut checks = Vec::new();
    let services: Vec<&ServiceState> = lab.services.iter().collect();
    for svc in &services {
        checks.extend(dns_checks(lab, &client, svc));
    }
    checks.extend(ptr_checks(lab, &client));
    for svc in &services {
        checks.extend(proxy_checks(lab, svc));
    }
    for svc in &services {
        checks.extend(tcp_checks(lab, &client, svc));
    }
    checks.extend(ping_checks(lab, &client));
    checks.extend(reach_checks(lab));
    checks.extend(lab.checks.iter().map(|c| topology_check(lab, c)));
    checks
}

/// Who asks the questions: a ready toolbox pod (it sees the cluster DNS through its own
/// resolv.conf, like the seeds' multitool/dnsutils pods), else a node asking the kube-dns
/// VIP directly.
#[derive(Debug, Clone)]
struct Client {
    place: Place,
    ip: Ipv4Addr,
    node: String,
    is_pod: bool,
    dns: Option<Ipv4Addr>,
}

fn is_toolbox(pod: &PodState) -> bool {
    pod.containers.first().is_some_and(|c| {
        c.command.is_empty() && matches!(launch(c), Ok(Launch::Process(argv)) if argv == ["sleep", "infinity"])
    })
}

fn client(lab: &LabState) -> Client {
    let toolbox = lab
        .pods
        .iter()
        .filter(|p| p.ready && is_toolbox(p))
        .min_by_key(|p| (p.namespace != "default", p.namespace.clone(), p.name.clone()));
    if let Some(pod) = toolbox {
        return Client {
            place: Place::Pod {
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
            },
            ip: pod.ip,
            node: pod.node.clone(),
            is_pod: true,
            dns: None,
        };
    }
    let node = lab
        .nodes
        .iter()
        .find(|n| n.role == crate::cluster::state::Role::Worker)
        .or(lab.nodes.first());
    let (name, ip) = node.map_or((String::new(), Ipv4Addr::UNSPECIFIED), |n| (n.name.clone(), n.ip));
    Client {
        place: Place::Node(name.clone()),
        ip,
        node: name,
        is_pod: false,
        dns: Some(kube_dns_vip(lab)),
    }
}

fn kube_dns_vip(lab: &LabState) -> Ipv4Addr {
    lab.services
        .iter()
        .find(|s| s.namespace == "kube-system" && s.name == "kube-dns")
        .and_then(|s| s.cluster_ip)
        .unwrap_or(Ipv4Addr::new(10, 96, 0, 10))
}

fn dig(client: &Client, name: &str, qtype: &str) -> Vec<String> {
    let mut argv: Vec<String> = ["dig", "+short", "+time=2", "+tries=2"].map(String::from).to_vec();
    if let Some(server) = client.dns {
        argv.push(format!("@{server}"));
    }
    if qtype == "PTR" {
        argv.extend(["-x".to_string(), name.to_string()]);
    } else {
        argv.extend([name.to_string(), qtype.to_string()]);
    }
    argv
}

fn fqdn(lab: &LabState, svc: &ServiceState) -> String {
    format!("{}.{}.svc.{}", svc.name, svc.namespace, lab.networking.dns_domain)
}

/// The endpoints DNS publishes for `svc`, one per address.
fn published<'a>(lab: &'a LabState, svc: &ServiceState) -> Vec<&'a EndpointState> {
    let mut seen = BTreeSet::new();
    lab.endpoint_slices
        .iter()
        .filter(|s| s.namespace == svc.namespace && s.service == svc.name)
        .flat_map(|s| &s.endpoints)
        .filter(|ep| (ep.ready || svc.publish_not_ready_addresses) && seen.insert(ep.address))
        .collect()
}

fn dashed(ip: Ipv4Addr) -> String {
    ip.to_string().replace('.', "-")
}

fn endpoint_label(ep: &EndpointState) -> String {
    ep.hostname
        .as_ref()
        .map_or_else(|| dashed(ep.address), |h| h.to_ascii_lowercase())
}

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

fn step(client: &Client, argv: Vec<String>, expect: Expect) -> Vec<Step> {
    vec![Step {
        place: client.place.clone(),
        argv,
        expect,
    }]
}

fn check(name: String, group: &'static str, steps: Vec<Step>) -> Check {
    Check {
        name,
        group,
        steps,
        problem: None,
    }
}

fn lines<I: IntoIterator<Item = String>>(items: I) -> Expect {
    Expect::Lines(items.into_iter().collect())
}

fn dns_checks(lab: &LabState, client: &Client, svc: &ServiceState) -> Vec<Check> {
    let name = fqdn(lab, svc);
    let mut checks = Vec::new();
    if svc.service_type == ServiceType::ExternalName {
        if let Some(ext) = &svc.external_name {
            let target = format!("{}.", ext.trim_end_matches('.'));
            checks.push(check(
                format!("dns CNAME {name} → {target}"),
                "dns",
                step(client, dig(client, &name, "CNAME"), lines([target.clone()])),
            ));
        }
        return checks;
    }
    let endpoints = published(lab, svc);
    match svc.cluster_ip {
        Some(vip) => checks.push(check(
            format!("dns A {name} → VIP {vip}"),
            "dns",
            step(client, dig(client, &name, "A"), lines([vip.to_string()])),
        )),
        None => {
            let ips: Vec<String> = endpoints.iter().map(|ep| ep.address.to_string()).collect();
            checks.push(check(
                format!("dns A {name} → the {} ready pod IPs", ips.len()),
                "dns",
                step(client, dig(client, &name, "A"), lines(ips)),
            ));
            for ep in endpoints.iter().filter(|ep| ep.hostname.is_some()) {
                let pod_name = format!("{}.{name}", endpoint_label(ep));
                checks.push(check(
                    format!("dns A {pod_name} → {} ({})", ep.address, ep.pod_name),
                    "dns",
                    step(client, dig(client, &pod_name, "A"), lines([ep.address.to_string()])),
                ));
            }
        }
    }
    for port in svc.ports.iter().filter(|p| p.name.is_some()) {
        let port_name = port.name.as_deref().unwrap_or_default().to_ascii_lowercase();
        let srv_name = format!("_{port_name}._{}.{name}", proto(port.protocol));
        let expected: BTreeSet<(u16, String)> = match svc.cluster_ip {
            Some(_) => [(port.port, format!("{name}."))].into(),
            None => {
                let ep_port = lab
                    .endpoint_slices
                    .iter()
                    .filter(|s| s.namespace == svc.namespace && s.service == svc.name)
                    .flat_map(|s| &s.ports)
                    .find(|p| p.name.as_deref().map(str::to_ascii_lowercase) == Some(port_name.clone()))
                    .map_or(port.port, |p| p.port);
                endpoints
                    .iter()
                    .map(|ep| (ep_port, format!("{}.{name}.", endpoint_label(ep))))
                    .collect()
            }
        };
        checks.push(check(
            format!("dns SRV {srv_name} → {} target(s)", expected.len()),
            "dns",
            step(client, dig(client, &srv_name, "SRV"), Expect::Srv(expected)),
        ));
    }
    checks
}

/// PTR of every VIP (its service) and of every pod that is a published endpoint (one name
/// per service it backs, as CoreDNS answers).
fn ptr_checks(lab: &LabState, client: &Client) -> Vec<Check> {
    let mut checks = Vec::new();
    for svc in &lab.services {
        if let Some(vip) = svc.cluster_ip {
            let name = format!("{}.", fqdn(lab, svc));
            checks.push(check(
                format!("dns PTR {vip} → {name}"),
                "dns",
                step(client, dig(client, &vip.to_string(), "PTR"), lines([name])),
            ));
        }
    }
    for pod in &lab.pods {
        let names: BTreeSet<String> = lab
            .services
            .iter()
            .filter(|svc| svc.service_type != ServiceType::ExternalName)
            .flat_map(|svc| {
                published(lab, svc)
                    .into_iter()
                    .filter(|ep| ep.address == pod.ip)
                    .map(move |ep| format!("{}.{}.", endpoint_label(ep), fqdn(lab, svc)))
            })
            .collect();
        if names.is_empty() {
            continue;
        }
        checks.push(check(
            format!(
                "dns PTR {} → {} ({})",
                pod.ip,
                names.iter().next().cloned().unwrap_or_default(),
                pod.name
            ),
            "dns",
            step(client, dig(client, &pod.ip.to_string(), "PTR"), Expect::Lines(names)),
        ));
    }
    checks
}

fn proxy_checks(lab: &LabState, svc: &ServiceState) -> Vec<Check> {
    let mut checks = Vec::new();
    let key = format!("{}/{}", svc.namespace, svc.name);
    for node in &lab.nodes {
        let place = Place::Node(node.name.clone());
        match svc.cluster_ip {
            Some(vip) => {
                for port in &svc.ports {
                    let shown = match &port.name {
                        Some(name) => format!("{key}:{name}"),
                        None => key.clone(),
                    };
                    let fragments = vec![
                        format!("-d {vip}/32"),
                        format!("-p {}", proto(port.protocol)),
                        format!("--comment \"{shown} cluster IP\""),
                        format!("--dport {}", port.port),
                        "-j KUBE-SVC-".to_string(),
                    ];
                    checks.push(check(
                        format!(
                            "kube-proxy {shown} → KUBE-SERVICES rule for {vip}:{} on {}",
                            port.port, node.name
                        ),
                        "kube-proxy",
                        vec![Step {
                            place: place.clone(),
                            argv: ["iptables", "-t", "nat", "-S", "KUBE-SERVICES"]
                                .map(String::from)
                                .to_vec(),
                            expect: Expect::LineWithAll(fragments),
                        }],
                    ));
                }
            }
            None if svc.is_headless() => checks.push(check(
                format!("kube-proxy {key} (headless) → no nat rules on {}", node.name),
                "kube-proxy",
                vec![Step {
                    place,
                    argv: ["iptables", "-t", "nat", "-S"].map(String::from).to_vec(),
                    expect: Expect::NoLineWithAny(vec![format!("\"{key}:"), format!("\"{key} ")]),
                }],
            )),
            None => {}
        }
    }
    checks
}

/// Only services whose endpoints are the lab's own pods serving the port: the API server
/// behind `default/kubernetes` does not exist, and kube-system's ports are checked by DNS.
fn tcp_checks(lab: &LabState, client: &Client, svc: &ServiceState) -> Vec<Check> {
    let Some(vip) = svc.cluster_ip else {
        return Vec::new();
    };
    if svc.namespace == "kube-system" {
        return Vec::new();
    }
    let endpoints: BTreeSet<Ipv4Addr> = lab
        .endpoint_slices
        .iter()
        .filter(|s| s.namespace == svc.namespace && s.service == svc.name)
        .flat_map(|s| &s.endpoints)
        .filter(|ep| ep.ready && lab.pods.iter().any(|p| p.ip == ep.address))
        .map(|ep| ep.address)
        .collect();
    if endpoints.is_empty() {
        return Vec::new();
    }
    let mut checks = Vec::new();
    for port in svc.ports.iter().filter(|p| p.protocol == Protocol::Tcp) {
        let shown = match &port.name {
            Some(name) => format!("{}/{}:{name}", svc.namespace, svc.name),
            None => format!("{}/{}", svc.namespace, svc.name),
        };
        let expected = if svc.session_affinity_client_ip {
            1
        } else {
            endpoints.len()
        };
        let tries = if svc.session_affinity_client_ip {
            3
        } else {
            CONNECTIONS_PER_ENDPOINT * endpoints.len()
        };
        let conntrack = |op: &str| -> Vec<String> {
            [
                "conntrack",
                op,
                "-p",
                "tcp",
                "--orig-src",
                &client.ip.to_string(),
                "--orig-dst",
                &vip.to_string(),
                "--orig-port-dst",
                &port.port.to_string(),
            ]
            .map(String::from)
            .to_vec()
        };
        let node = Place::Node(client.node.clone());
        let connect = format!(
            "for i in $(seq {tries}); do timeout 2 bash -c '</dev/tcp/{vip}/{}' 2>/dev/null || echo \"connection $i failed\"; done",
            port.port
        );
        let reach = if svc.session_affinity_client_ip {
            Expect::Lines(BTreeSet::new())
        } else {
            Expect::ReplySources(endpoints.clone())
        };
        let mut steps = vec![
            Step {
                place: node.clone(),
                argv: conntrack("-D"),
                expect: Expect::Anything,
            },
            Step {
                place: client.place.clone(),
                argv: vec!["sh".into(), "-c".into(), connect],
                expect: Expect::Lines(BTreeSet::new()),
            },
        ];
        if !svc.session_affinity_client_ip {
            steps.push(Step {
                place: node,
                argv: conntrack("-L"),
                expect: reach,
            });
        }
        checks.push(check(
            format!("tcp {vip}:{} ({shown}) reaches every endpoint ({expected})", port.port),
            "tcp",
            steps,
        ));
    }
    checks
}

/// The seeds' contrast: a ClusterIP name does not answer ping (the VIP answers only its
/// ports), a headless name does — the reply comes from a pod, named by its PTR.
fn ping_checks(lab: &LabState, client: &Client) -> Vec<Check> {
    let mut checks = Vec::new();
    for svc in lab.services.iter().filter(|s| s.namespace != "kube-system") {
        let name = fqdn(lab, svc);
        if let Some(vip) = svc.cluster_ip {
            let target = if client.is_pod { name.clone() } else { vip.to_string() };
            checks.push(check(
                format!("ping {target}: 100% packet loss (the VIP answers only its ports)"),
                "ping",
                step(
                    client,
                    ["ping", "-c", "1", "-W", "1", &target].map(String::from).to_vec(),
                    Expect::Contains("100% packet loss".into()),
                ),
            ));
        } else if svc.is_headless() && client.is_pod {
            let endpoints = published(lab, svc);
            if endpoints.is_empty() {
                continue;
            }
            // ping names the reply by the address's PTR: any of the endpoint's names.
            let replies: Vec<String> = endpoints
                .iter()
                .flat_map(|ep| {
                    lab.services
                        .iter()
                        .filter(|s| s.service_type != ServiceType::ExternalName)
                        .flat_map(move |other| {
                            published(lab, other)
                                .into_iter()
                                .filter(move |e| e.address == ep.address)
                                .map(move |e| {
                                    format!("bytes from {}.{} ({})", endpoint_label(e), fqdn(lab, other), ep.address)
                                })
                        })
                })
                .collect();
            checks.push(check(
                format!("ping {name}: replies from a pod, named by its PTR"),
                "ping",
                step(
                    client,
                    ["ping", "-c", "1", "-W", "2", &name].map(String::from).to_vec(),
                    Expect::ContainsAny(replies),
                ),
            ));
        }
    }
    checks
}

/// One ready pod per node (the lab's own before kube-system's) pings one on every other node.
fn reach_checks(lab: &LabState) -> Vec<Check> {
    let representative = |node: &str| {
        lab.pods
            .iter()
            .filter(|p| p.node == node && p.ready)
            .min_by_key(|p| (p.namespace == "kube-system", p.namespace.clone(), p.name.clone()))
    };
    let reps: Vec<&PodState> = lab.nodes.iter().filter_map(|n| representative(&n.name)).collect();
    let mut checks = Vec::new();
    for from in &reps {
        for to in reps.iter().filter(|to| to.node != from.node) {
            checks.push(check(
                format!(
                    "reach {} ({}) → {} {} ({})",
                    from.name, from.node, to.name, to.ip, to.node
                ),
                "reach",
                vec![Step {
                    place: Place::Pod {
                        namespace: from.namespace.clone(),
                        name: from.name.clone(),
                    },
                    argv: ["ping", "-c", "1", "-W", "2", &to.ip.to_string()]
                        .map(String::from)
                        .to_vec(),
                    expect: Expect::Contains(", 0% packet loss".into()),
                }],
            ));
        }
    }
    checks
}

/// Where a topology check runs: a pod (in its namespace), a node by name, `node/<suffix>`
/// (`node/worker2` is `<lab>-worker2`, so the file works under any lab name), or
/// `<kind>/<name>` of a workload (its first ready pod).
pub fn resolve_target(lab: &LabState, target: &str, namespace: &str) -> Result<Place, String> {
    if let Some(node) = lab.nodes.iter().find(|n| n.name == target) {
        return Ok(Place::Node(node.name.clone()));
    }
    if let Some((kind, name)) = target.split_once('/') {
        let kind = kind.to_ascii_lowercase();
        if kind == "node" {
            let full = format!("{}-{name}", lab.name);
            return lab
                .nodes
                .iter()
                .find(|n| n.name == full)
                .map(|n| Place::Node(n.name.clone()))
                .ok_or_else(|| format!("no node {full}"));
        }
        if kind == "pod" {
            return resolve_target(lab, name, namespace);
        }
        let kind = match kind.as_str() {
            "deployment" | "deploy" | "deployments" => WorkloadKind::Deployment,
            "statefulset" | "sts" | "statefulsets" => WorkloadKind::StatefulSet,
            "daemonset" | "ds" | "daemonsets" => WorkloadKind::DaemonSet,
            other => return Err(format!("unknown kind {other:?} in {target:?}")),
        };
        let mut pods: Vec<&PodState> = lab
            .workload(kind, namespace, name)
            .map(|w| lab.pods_of(w).collect())
            .unwrap_or_default();
        let kind = kind.as_str();
        pods.sort_by_key(|p| (!p.ready, p.name.clone()));
        return pods
            .first()
            .map(|p| Place::Pod {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
            })
            .ok_or_else(|| format!("no pod of {kind} {namespace}/{name}"));
    }
    lab.pod(namespace, target)
        .map(|p| Place::Pod {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
        })
        .ok_or_else(|| format!("no pod {namespace}/{target} and no node {target}"))
}

fn topology_check(lab: &LabState, c: &CheckState) -> Check {
    let place = resolve_target(lab, &c.target, &c.namespace);
    let problem = place.as_ref().err().map(|e| format!("in: {}: {e}", c.target));
    Check {
        name: c.name.clone(),
        group: "topology",
        steps: place
            .map(|place| {
                vec![Step {
                    place,
                    argv: c.command.clone(),
                    expect: Expect::Custom {
                        regex: c.expect.clone(),
                        exit_code: c.exit_code.or(if c.expect.is_none() { Some(0) } else { None }),
                    },
                }]
            })
            .unwrap_or_default(),
        problem,
    }
}

#[cfg(test)]
#[path = "derive_tests.rs"]
mod tests;
