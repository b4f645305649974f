//! The rules of one node, rendered exactly as kube-proxy's syncProxyRules writes
//! them (kubernetes/kubernetes pkg/proxy/iptables/proxier.go), for the settings a
//! kind cluster runs with: iptables mode, `Cluster` traffic policies, the
//! ClusterCIDR local-traffic detector (`! -s <podSubnet> -j KUBE-MARK-MASQ`),
//! masquerade bit 14 (mark 0x4000), localhost NodePorts on, nf_conntrack_tcp_be_liberal
//! off, no nfacct counters.
//!
//! kube-proxy walks its service map in Go's random map order; here services are
//! sorted by their port name so the text is deterministic. Only the order of the
//! KUBE-SERVICES lines differs from one kube-proxy sync to the next, never meaning.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::names;
use crate::cluster::LabState;
use crate::cluster::state::EndpointSliceState;
use crate::spec::{Protocol, ServiceType};

pub const KUBE_SERVICES: &str = "KUBE-SERVICES";
pub const KUBE_EXTERNAL_SERVICES: &str = "KUBE-EXTERNAL-SERVICES";
pub const KUBE_FORWARD: &str = "KUBE-FORWARD";
pub const KUBE_NODEPORTS: &str = "KUBE-NODEPORTS";
pub const KUBE_PROXY_FIREWALL: &str = "KUBE-PROXY-FIREWALL";
pub const KUBE_FIREWALL: &str = "KUBE-FIREWALL";
pub const KUBE_POSTROUTING: &str = "KUBE-POSTROUTING";
pub const KUBE_MARK_MASQ: &str = "KUBE-MARK-MASQ";

/// proxier.go `largeClusterEndpointsThreshold`: with more endpoints than this in
/// all, kube-proxy runs in "large cluster mode" and leaves out the per-endpoint
/// comments (appendServiceCommentLocked), which makes the ruleset ~40 % smaller.
pub const LARGE_CLUSTER_ENDPOINTS_THRESHOLD: usize = 1000;

/// The comment of labctl's own rule (not kube-proxy's): traffic to the service
/// subnet that no service rule rewrote is dropped, silently, as a cluster's
/// network drops it (ping of a ClusterIP: 100% loss, no ICMP errors).
pub const UNMATCHED_SERVICE_DROP_COMMENT: &str = "labctl: service subnet traffic no service rule rewrote";

/// The node-wide settings kube-proxy's rules depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    /// kube-proxy's --cluster-cidr: traffic to a ClusterIP from outside it is masqueraded.
    pub cluster_cidr: Ipv4Net,
    /// The service subnet: what labctl's DROP rule covers.
    pub service_cidr: Ipv4Net,
    /// `1 << masqueradeBit`, as written in the rules.
    pub masquerade_mark: String,
    /// `MASQUERADE --random-fully` (kube-proxy adds it when iptables supports it).
    pub random_fully: bool,
}

impl ProxyConfig {
    pub fn for_lab(state: &LabState) -> ProxyConfig {
        ProxyConfig {
            cluster_cidr: state.networking.pod_subnet,
            service_cidr: state.networking.service_subnet,
            masquerade_mark: "0x4000".into(),
            random_fully: true,
        }
    }
}

/// One port of a service with a cluster IP: what kube-proxy's servicePortInfo and
/// its endpoints map hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePort {
    pub namespace: String,
    pub name: String,
    /// The port's name; empty for an unnamed port.
    pub port_name: String,
    pub protocol: Protocol,
    pub cluster_ip: Ipv4Addr,
    pub port: u16,
    /// `sessionAffinity: ClientIP` and its timeout in seconds.
    pub affinity_timeout: Option<u32>,
    /// Ready endpoints, ip and target port.
    pub endpoints: Vec<(Ipv4Addr, u16)>,
}

impl ServicePort {
    /// proxy.ServicePortName.String(): `ns/svc:port`, or `ns/svc` for an unnamed port.
    pub fn name_string(&self) -> String {
        if self.port_name.is_empty() {
            format!("{}/{}", self.namespace, self.name)
        } else {
            format!("{}/{}:{}", self.namespace, self.name, self.port_name)
        }
    }

    pub fn protocol(&self) -> String {
        self.protocol.as_str().to_ascii_lowercase()
    }

    pub fn chain(&self) -> String {
        names::service_chain(&self.name_string(), &self.protocol())
    }

    /// Endpoints as kube-proxy orders them: sorted by their "ip:port" string, deduplicated.
    pub fn sorted_endpoints(&self) -> Vec<String> {
        let mut eps: Vec<String> = self.endpoints.iter().map(|(ip, port)| format!("{ip}:{port}")).collect();
        eps.sort();
        eps.dedup();
        eps
    }
}

/// Every ClusterIP service port of the lab with its ready endpoints. Headless and
/// ExternalName services have no cluster IP and yield nothing.
pub fn service_ports(state: &LabState) -> Vec<ServicePort> {
    let mut slices_of: BTreeMap<(&str, &str), Vec<&EndpointSliceState>> = BTreeMap::new();
    for slice in &state.endpoint_slices {
        slices_of
            .entry((slice.namespace.as_str(), slice.service.as_str()))
            .or_default()
            .push(slice);
    }
    let mut out = Vec::new();
    for svc in &state.services {
        if svc.service_type == ServiceType::ExternalName {
            continue;
        }
        let Some(cluster_ip) = svc.cluster_ip else { continue };
        for port in &svc.ports {
            let mut endpoints = Vec::new();
            let slices = slices_of.get(&(svc.namespace.as_str(), svc.name.as_str()));
            for slice in slices.into_iter().flatten() {
                let Some(target) = slice
                    .ports
                    .iter()
                    .find(|p| p.name == port.name && p.protocol == port.protocol)
                else {
                    continue;
                };
                for ep in &slice.endpoints {
                    if ep.ready || svc.publish_not_ready_addresses {
                        endpoints.push((ep.address, target.port));
                    }
                }
            }
            out.push(ServicePort {
                namespace: svc.namespace.clone(),
                name: svc.name.clone(),
                port_name: port.name.clone().unwrap_or_default(),
                protocol: port.protocol,
                cluster_ip,
                port: port.port,
                affinity_timeout: svc.session_affinity_client_ip.then_some(svc.session_affinity_timeout),
                endpoints,
            });
        }
    }
    out
}

/// A chain and its rules, each a full restore line (`-A CHAIN ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub rules: Vec<String>,
}

/// What one service port contributes: its lines in KUBE-SERVICES (nat when it has
/// endpoints, filter REJECT when it has none) and the nat chains it owns
/// (KUBE-SVC-… first, then one KUBE-SEP-… per endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRules {
    /// `ns/svc:port` + `/protocol`: unique per service port.
    pub key: String,
    pub nat_services: Vec<String>,
    pub filter_services: Vec<String>,
    pub chains: Vec<Chain>,
}

/// A rule kube-proxy ensures in a built-in chain (EnsureRule, not part of its
/// restore input): `table`, the built-in `chain`, and the rule spec after `-A CHAIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpRule {
    pub table: &'static str,
    pub chain: &'static str,
    pub spec: String,
    /// kube-proxy prepends (`-I CHAIN 1`); labctl's DROP is appended.
    pub prepend: bool,
}

/// Everything kube-proxy programs on one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRules {
    pub config: ProxyConfig,
    /// Sorted by key.
    pub services: Vec<ServiceRules>,
}

fn quote(comment: &str) -> String {
    // kube-proxy writes comments with spaces in double quotes, bare otherwise.
    if comment.contains(' ') {
        format!("\"{comment}\"")
    } else {
        comment.to_string()
    }
}

impl NodeRules {
    pub fn render(state: &LabState) -> NodeRules {
        NodeRules::from_ports(ProxyConfig::for_lab(state), &service_ports(state))
    }

    pub fn from_ports(config: ProxyConfig, ports: &[ServicePort]) -> NodeRules {
        let endpoints: Vec<Vec<String>> = ports.iter().map(ServicePort::sorted_endpoints).collect();
        let total_endpoints: usize = endpoints.iter().map(Vec::len).sum();
        let comments = if total_endpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD {
            EndpointComments::Elided
        } else {
            EndpointComments::Written
        };
        let mut services: Vec<ServiceRules> = ports
            .iter()
            .zip(&endpoints)
            .map(|(p, eps)| render_service(&config, p, eps, comments))
            .collect();
        services.sort_by(|a, b| a.key.cmp(&b.key));
        services.dedup_by(|a, b| a.key == b.key);
        NodeRules { config, services }
    }

    /// The nat KUBE-SERVICES chain: every service's lines, then the NodePorts tail.
    pub fn nat_services_chain(&self) -> Chain {
        let mut rules: Vec<String> = self
            .services
            .iter()
            .flat_map(|s| s.nat_services.iter().cloned())
            .collect();
        rules.push(format!(
            "-A {KUBE_SERVICES} -m comment --comment {} -m addrtype --dst-type LOCAL -j {KUBE_NODEPORTS}",
            quote("kubernetes service nodeports; NOTE: this must be the last rule in this chain")
        ));
        Chain {
            name: KUBE_SERVICES.into(),
            rules,
        }
    }

    /// The filter chains, in kube-proxy's order; KUBE-SERVICES holds the REJECTs of
    /// services without endpoints.
    pub fn filter_chains(&self) -> Vec<Chain> {
        let mark = &self.config.masquerade_mark;
        let chain = |name: &str, rules: Vec<String>| Chain {
            name: name.into(),
            rules,
        };
        vec![
            chain(
                KUBE_SERVICES,
                self.services
                    .iter()
                    .flat_map(|s| s.filter_services.iter().cloned())
                    .collect(),
            ),
            chain(KUBE_EXTERNAL_SERVICES, vec![]),
            chain(
                KUBE_FORWARD,
                vec![
                    format!("-A {KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP"),
                    format!(
                        "-A {KUBE_FORWARD} -m comment --comment {} -m mark --mark {mark}/{mark} -j ACCEPT",
                        quote("kubernetes forwarding rules")
                    ),
                    format!(
                        "-A {KUBE_FORWARD} -m comment --comment {} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                        quote("kubernetes forwarding conntrack rule")
                    ),
                ],
            ),
            chain(KUBE_NODEPORTS, vec![]),
            chain(KUBE_PROXY_FIREWALL, vec![]),
            chain(
                KUBE_FIREWALL,
                vec![format!(
                    "-A {KUBE_FIREWALL} -m comment --comment {} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
                    quote("block incoming localnet connections")
                )],
            ),
        ]
    }

    /// The nat chains that are not per service, in kube-proxy's order (KUBE-SERVICES
    /// is filled by `nat_services_chain`).
    pub fn nat_static_chains(&self) -> Vec<Chain> {
        let mark = &self.config.masquerade_mark;
        let masquerade = if self.config.random_fully {
            "MASQUERADE --random-fully"
        } else {
            "MASQUERADE"
        };
        vec![
            Chain {
                name: KUBE_NODEPORTS.into(),
                rules: vec![],
            },
            Chain {
                name: KUBE_POSTROUTING.into(),
                rules: vec![
                    format!("-A {KUBE_POSTROUTING} -m mark ! --mark {mark}/{mark} -j RETURN"),
                    format!("-A {KUBE_POSTROUTING} -j MARK --xor-mark {mark}"),
                    format!(
                        "-A {KUBE_POSTROUTING} -m comment --comment {} -j {masquerade}",
                        quote("kubernetes service traffic requiring SNAT")
                    ),
                ],
            },
            Chain {
                name: KUBE_MARK_MASQ.into(),
                rules: vec![format!("-A {KUBE_MARK_MASQ} -j MARK --or-mark {mark}")],
            },
        ]
    }

    /// The rules kube-proxy ensures in built-in chains (proxier.go iptablesJumpChains
    /// then iptablesKubeletJumpChains, each prepended), then labctl's DROP for
    /// unmatched service-subnet traffic (appended to FORWARD and OUTPUT, so it
    /// comes after kube-proxy's filter KUBE-SERVICES).
    pub fn jump_rules(&self) -> Vec<JumpRule> {
        let new = "-m conntrack --ctstate NEW ";
        let jump = |table, chain, extra: &str, comment: &str, target: &str| JumpRule {
            table,
            chain,
            spec: if comment.is_empty() {
                format!("{extra}-j {target}")
            } else {
                format!("{extra}-m comment --comment {} -j {target}", quote(comment))
            },
            prepend: true,
        };
        let external = "kubernetes externally-visible service portals";
        let portals = "kubernetes service portals";
        let firewall = "kubernetes load balancer firewall";
        let mut rules = vec![
            jump("filter", "INPUT", new, external, KUBE_EXTERNAL_SERVICES),
            jump("filter", "FORWARD", new, external, KUBE_EXTERNAL_SERVICES),
            jump(
                "filter",
                "INPUT",
                "",
                "kubernetes health check service ports",
                KUBE_NODEPORTS,
            ),
            jump("filter", "FORWARD", new, portals, KUBE_SERVICES),
            jump("filter", "OUTPUT", new, portals, KUBE_SERVICES),
            jump("filter", "FORWARD", "", "kubernetes forwarding rules", KUBE_FORWARD),
            jump("filter", "INPUT", new, firewall, KUBE_PROXY_FIREWALL),
            jump("filter", "OUTPUT", new, firewall, KUBE_PROXY_FIREWALL),
            jump("filter", "FORWARD", new, firewall, KUBE_PROXY_FIREWALL),
            jump("nat", "OUTPUT", "", portals, KUBE_SERVICES),
            jump("nat", "PREROUTING", "", portals, KUBE_SERVICES),
            jump(
                "nat",
                "POSTROUTING",
                "",
                "kubernetes postrouting rules",
                KUBE_POSTROUTING,
            ),
            jump("filter", "INPUT", "", "", KUBE_FIREWALL),
            jump("filter", "OUTPUT", "", "", KUBE_FIREWALL),
        ];
        for chain in ["FORWARD", "OUTPUT"] {
            rules.push(JumpRule {
                table: "filter",
                chain,
                spec: format!(
                    "-d {} -m comment --comment {} -j DROP",
                    self.config.service_cidr,
                    quote(UNMATCHED_SERVICE_DROP_COMMENT)
                ),
                prepend: false,
            });
        }
        rules
    }

    /// The full `iptables-restore` input of one kube-proxy sync (filter then nat), in
    /// the order syncProxyRules writes it: chain lines, then rules. Stale chains
    /// (`-X`) and the built-in jump rules are not part of it.
    pub fn restore_text(&self) -> String {
        let mut out = String::new();
        out.push_str("*filter\n");
        let filter = self.filter_chains();
        for c in &filter {
            let _ = writeln!(out, ":{} - [0:0]", c.name);
        }
        for c in &filter {
            for r in &c.rules {
                out.push_str(r);
                out.push('\n');
            }
        }
        out.push_str("COMMIT\n*nat\n");
        let services = self.nat_services_chain();
        let statics = self.nat_static_chains();
        let _ = writeln!(out, ":{KUBE_SERVICES} - [0:0]");
        for c in &statics {
            let _ = writeln!(out, ":{} - [0:0]", c.name);
        }
        for s in &self.services {
            for c in &s.chains {
                let _ = writeln!(out, ":{} - [0:0]", c.name);
            }
        }
        // KUBE-POSTROUTING and KUBE-MARK-MASQ first, then per service its
        // KUBE-SERVICES line and chains, then the NodePorts tail rule.
        for c in &statics {
            for r in &c.rules {
                out.push_str(r);
                out.push('\n');
            }
        }
        for s in &self.services {
            for r in &s.nat_services {
                out.push_str(r);
                out.push('\n');
            }
            for c in &s.chains {
                for r in &c.rules {
                    out.push_str(r);
                    out.push('\n');
                }
            }
        }
        if let Some(tail) = services.rules.last() {
            out.push_str(tail);
            out.push('\n');
        }
        out.push_str("COMMIT\n");
        out
    }

    /// Every nat chain the services own, by name.
    pub fn service_chain_names(&self) -> BTreeMap<&str, &Chain> {
        self.services
            .iter()
            .flat_map(|s| s.chains.iter())
            .map(|c| (c.name.as_str(), c))
            .collect()
    }
}

/// Whether the per-endpoint rules carry kube-proxy's `-m comment` (they do not in
/// large cluster mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndpointComments {
    Written,
    Elided,
}

impl EndpointComments {
    /// appendServiceCommentLocked: `-m comment --comment C ` or nothing.
    fn arg(self, comment: &str) -> String {
        match self {
            EndpointComments::Written => format!("-m comment --comment {} ", quote(comment)),
            EndpointComments::Elided => String::new(),
        }
    }
}

/// One service port's rules (proxier.go syncProxyRules loop body for a ClusterIP
/// service with `Cluster` policies, and writeServiceToEndpointRules).
/// `endpoints` are `sp`'s, as sorted_endpoints orders them.
fn render_service(
    config: &ProxyConfig,
    sp: &ServicePort,
    endpoints: &[String],
    comments: EndpointComments,
) -> ServiceRules {
    let name = sp.name_string();
    let proto = sp.protocol();
    let svc_chain = sp.chain();
    let key = format!("{name}/{proto}");
    let dest = format!("-m {proto} -p {proto} -d {} --dport {}", sp.cluster_ip, sp.port);
    if endpoints.is_empty() {
        return ServiceRules {
            key,
            nat_services: vec![],
            filter_services: vec![format!(
                "-A {KUBE_SERVICES} -m comment --comment {} {dest} -j REJECT",
                quote(&format!("{name} has no endpoints"))
            )],
            chains: vec![],
        };
    }
    let cluster_ip_comment = quote(&format!("{name} cluster IP"));
    let nat_services = vec![format!(
        "-A {KUBE_SERVICES} -m comment --comment {cluster_ip_comment} {dest} -j {svc_chain}"
    )];
    let mut svc_rules = vec![format!(
        "-A {svc_chain} -m comment --comment {cluster_ip_comment} {dest} ! -s {} -j {KUBE_MARK_MASQ}",
        config.cluster_cidr
    )];
    let sep_chains: Vec<String> = endpoints
        .iter()
        .map(|ep| names::endpoint_chain(&name, &proto, ep))
        .collect();
    if let Some(timeout) = sp.affinity_timeout {
        for (ep, sep) in endpoints.iter().zip(&sep_chains) {
            svc_rules.push(format!(
                "-A {svc_chain} {}-m recent --name {sep} --rcheck --seconds {timeout} --reap -j {sep}",
                comments.arg(&format!("{name} -> {ep}"))
            ));
        }
    }
    let n = endpoints.len();
    for (i, (ep, sep)) in endpoints.iter().zip(&sep_chains).enumerate() {
        let statistic = if i < n - 1 {
            format!(
                "-m statistic --mode random --probability {} ",
                names::probability(n - i)
            )
        } else {
            String::new()
        };
        svc_rules.push(format!(
            "-A {svc_chain} {}{statistic}-j {sep}",
            comments.arg(&format!("{name} -> {ep}"))
        ));
    }
    let mut chains = vec![Chain {
        name: svc_chain,
        rules: svc_rules,
    }];
    for (ep, sep) in endpoints.iter().zip(sep_chains) {
        let ip = ep.rsplit_once(':').map_or(ep.as_str(), |(ip, _)| ip);
        let comment = comments.arg(&name);
        let recent = if sp.affinity_timeout.is_some() {
            format!("-m recent --name {sep} --set ")
        } else {
            String::new()
        };
        chains.push(Chain {
            rules: vec![
                format!("-A {sep} {comment}-s {ip} -j {KUBE_MARK_MASQ}"),
                format!("-A {sep} {comment}{recent}-m {proto} -p {proto} -j DNAT --to-destination {ep}"),
            ],
            name: sep,
        });
    }
    ServiceRules {
        key,
        nat_services,
        filter_services: vec![],
        chains,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// (table, chain) → rule lines in order, from an iptables-restore text.
    pub fn by_chain(text: &str) -> BTreeMap<(String, String), Vec<String>> {
        let mut table = String::new();
        let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t.to_string();
            } else if let Some(c) = line.strip_prefix(':') {
                let name = c.split_whitespace().next().unwrap().to_string();
                out.entry((table.clone(), name)).or_default();
            } else if let Some(rest) = line.strip_prefix("-A ") {
                let chain = rest.split_whitespace().next().unwrap().to_string();
                out.entry((table.clone(), chain)).or_default().push(line.to_string());
            }
        }
        out
    }

    pub fn golden_ports() -> (ProxyConfig, Vec<ServicePort>) {
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
            // Unsorted on purpose: kube-proxy orders endpoints by "ip:port".
            endpoints: vec![
                ("10.0.1.3".parse().unwrap(), 80),
                ("10.0.1.1".parse().unwrap(), 80),
                ("10.0.1.2".parse().unwrap(), 80),
            ],
        };
        (config, vec![port])
    }

    #[test]
    fn three_endpoint_service_matches_kube_proxy_golden() {
        let golden = include_str!("../../tests/golden/kube-proxy-internal-traffic-policy-cluster.txt");
        let (config, ports) = golden_ports();
        let ours = NodeRules::from_ports(config, &ports).restore_text();
        assert_eq!(by_chain(&ours), by_chain(golden), "ours:\n{ours}");
    }

    fn seed() -> LabState {
        crate::fixture::resolved::seed_running()
    }

    #[test]
    fn seed_lab_clusterip_rule_and_no_headless_rules() {
        let text = NodeRules::render(&seed()).restore_text();
        let line = "-A KUBE-SERVICES -m comment --comment \"default/nginx-clusterip:http cluster IP\" -m tcp -p tcp -d 10.96.204.67 --dport 80 -j KUBE-SVC-VS7JYC4FNXA3J2IX";
        assert!(text.lines().any(|l| l == line), "{text}");
        assert!(!text.contains("headless"), "{text}");
        assert!(
            text.contains("-j KUBE-SVC-NPX46M4PTMTKRN6Y"),
            "default/kubernetes:https: {text}"
        );
        assert!(
            text.contains("-m udp -p udp -d 10.96.0.10 --dport 53"),
            "kube-dns udp (with endpoints, or its REJECT): {text}"
        );
        assert!(text.contains("-j MASQUERADE --random-fully"));
        assert!(text.contains("! -s 192.168.0.0/16 -j KUBE-MARK-MASQ"));
    }

    #[test]
    fn external_name_and_headless_produce_nothing() {
        let mut state = seed();
        state.services.retain(|s| s.cluster_ip.is_none());
        assert!(!state.services.is_empty());
        let rules = NodeRules::render(&state);
        assert!(rules.services.is_empty());
        let mut ext = state.services[0].clone();
        ext.service_type = crate::spec::ServiceType::ExternalName;
        ext.external_name = Some("example.com".into());
        ext.cluster_ip = None;
        state.services = vec![ext];
        assert!(NodeRules::render(&state).services.is_empty());
    }

    #[test]
    fn no_endpoints_rejects_in_filter() {
        let (config, mut ports) = golden_ports();
        ports[0].endpoints.clear();
        let rules = NodeRules::from_ports(config, &ports);
        let text = rules.restore_text();
        let chains = by_chain(&text);
        assert_eq!(
            chains[&("filter".to_string(), "KUBE-SERVICES".to_string())],
            vec![
                "-A KUBE-SERVICES -m comment --comment \"ns1/svc1 has no endpoints\" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j REJECT"
            ]
        );
        assert!(!text.contains("KUBE-SVC-"));
        assert!(!text.contains("KUBE-SEP-"));
    }

    #[test]
    fn client_ip_affinity_uses_recent() {
        let (config, mut ports) = golden_ports();
        ports[0].affinity_timeout = Some(10800);
        let text = NodeRules::from_ports(config, &ports).restore_text();
        let chains = by_chain(&text);
        let svc = &chains[&("nat".to_string(), "KUBE-SVC-AQI2S6QIMU7PVVRP".to_string())];
        assert_eq!(
            svc[1],
            "-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment \"ns1/svc1 -> 10.0.1.1:80\" -m recent --name KUBE-SEP-3JOIVZTXZZRGORX4 --rcheck --seconds 10800 --reap -j KUBE-SEP-3JOIVZTXZZRGORX4"
        );
        assert_eq!(svc.len(), 1 + 3 + 3);
        let sep = &chains[&("nat".to_string(), "KUBE-SEP-3JOIVZTXZZRGORX4".to_string())];
        assert_eq!(
            sep[1],
            "-A KUBE-SEP-3JOIVZTXZZRGORX4 -m comment --comment ns1/svc1 -m recent --name KUBE-SEP-3JOIVZTXZZRGORX4 --set -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80"
        );
    }

    #[test]
    fn endpoints_sort_as_strings() {
        let (config, mut ports) = golden_ports();
        ports[0].endpoints = vec![("10.0.1.10".parse().unwrap(), 80), ("10.0.1.9".parse().unwrap(), 80)];
        let text = NodeRules::from_ports(config, &ports).restore_text();
        let first = text.find("-> 10.0.1.10:80").unwrap();
        let second = text.find("-> 10.0.1.9:80").unwrap();
        assert!(first < second, "\"10.0.1.10:80\" < \"10.0.1.9:80\" as strings");
    }

    fn many_endpoints(ns: &str, name: &str, port_name: &str, vip: &str, port: u16, ips: Vec<String>) -> ServicePort {
        ServicePort {
            namespace: ns.into(),
            name: name.into(),
            port_name: port_name.into(),
            protocol: Protocol::Tcp,
            cluster_ip: vip.parse().unwrap(),
            port,
            affinity_timeout: None,
            endpoints: ips.iter().map(|ip| (ip.parse().unwrap(), port)).collect(),
        }
    }

    /// (the DNAT line of `endpoint`, DNAT lines, DNAT lines with a comment), as
    /// kube-proxy's countEndpointsAndComments counts them.
    fn dnat_lines(text: &str, endpoint: &str) -> (String, usize, usize) {
        let dnat: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("-A KUBE-SEP-") && l.contains("-j DNAT"))
            .collect();
        let matched = dnat
            .iter()
            .find(|l| l.contains(endpoint))
            .map_or(String::new(), |l| l.to_string());
        (
            matched,
            dnat.len(),
            dnat.iter().filter(|l| l.contains("--comment")).count(),
        )
    }

    /// proxier_test.go TestSyncProxyRulesLargeClusterMode: 2 × 499 endpoints keep
    /// their comments; 3 more cross largeClusterEndpointsThreshold and every
    /// per-endpoint comment goes (a full sync rewrites the older services too).
    #[test]
    fn large_cluster_mode_elides_endpoint_comments_past_1000_endpoints() {
        let (config, _) = golden_ports();
        let half = LARGE_CLUSTER_ENDPOINTS_THRESHOLD / 2 - 1;
        let ips = |net: &str| (0..half).map(|i| format!("{net}.{}.{}", i % 256, i / 256)).collect();
        let mut ports = vec![
            many_endpoints("ns1", "svc1", "p80", "172.30.0.41", 80, ips("10.0")),
            many_endpoints("ns2", "svc2", "p8080", "172.30.0.42", 8080, ips("10.1")),
        ];
        let text = NodeRules::from_ports(config.clone(), &ports).restore_text();
        let (first, endpoints, comments) = dnat_lines(&text, "10.0.0.0:80");
        assert_eq!(
            first,
            "-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80"
        );
        assert_eq!((endpoints, comments), (2 * half, 2 * half));

        let svc3 = ["203.0.113.4", "203.0.113.8", "203.0.113.12"]
            .map(String::from)
            .to_vec();
        ports.push(many_endpoints("ns3", "svc3", "p8081", "172.30.0.43", 8081, svc3));
        let text = NodeRules::from_ports(config, &ports).restore_text();
        let (first, endpoints, comments) = dnat_lines(&text, "203.0.113.4:8081");
        assert_eq!(
            first,
            "-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081"
        );
        assert_eq!((endpoints, comments), (2 * half + 3, 0));
        let (first, _, _) = dnat_lines(&text, "10.0.0.0:80");
        assert_eq!(
            first,
            "-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80"
        );
        // The service-level comments stay: users still find their VIP by name.
        assert!(text.contains("-A KUBE-SERVICES -m comment --comment \"ns3/svc3:p8081 cluster IP\""));
        assert!(!text.contains(" -> "), "no per-endpoint comment in the KUBE-SVC jumps");
        assert!(
            text.lines()
                .any(|l| l.starts_with("-A KUBE-SVC-") && l.contains("cluster IP") && l.ends_with("-j KUBE-MARK-MASQ"))
        );
    }
}
