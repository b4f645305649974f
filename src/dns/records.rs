//! Cluster DNS answers as a pure function of the lab state: the Kubernetes
//! DNS-Based Service Discovery specification 1.1.0 (kubernetes/dns
//! `docs/specification.md`), and CoreDNS's `kubernetes` plugin where the spec
//! leaves a choice (kind's Corefile: `kubernetes cluster.local in-addr.arpa
//! ip6.arpa { pods insecure; fallthrough in-addr.arpa ip6.arpa }`).
//!
//! [`Zone::from_state`] indexes a [`LabState`] once; [`answer`] looks one
//! question up in the index. Names are matched case-insensitively; records
//! owned by the question name carry the question's spelling.
//!
//! Under `<zone>` (cluster.local):
//!
//! | name | answers |
//! |---|---|
//! | `<zone>` | SOA, NS `ns.dns.<zone>` (glue: the kube-dns VIP) |
//! | `dns-version.<zone>` | TXT "1.1.0" |
//! | `ns.dns.<zone>` | A: the `kube-system/kube-dns` VIP |
//! | `<svc>.<ns>.svc.<zone>` | ClusterIP: A VIP (endpoints or not); headless: A per ready endpoint, NXDOMAIN when none; ExternalName: CNAME; SRV: every port (CoreDNS) |
//! | `<ep>.<svc>.<ns>.svc.<zone>` | A of the ready endpoint whose hostname (else dashed IP) is `<ep>` |
//! | `_<port>._<proto>.<svc>.<ns>.svc.<zone>` | SRV per named port (headless: per endpoint), A glue in additional |
//! | `<a-b-c-d>.<ns>.pod.<zone>` | A a.b.c.d for an existing namespace (`pods insecure`) |
//! | `svc`, `pod`, `dns`, `<ns>.svc`, `<ns>.pod` | exist without data: NODATA |
//!
//! `d.c.b.a.in-addr.arpa`: PTR for a service VIP (`<svc>.<ns>.svc.<zone>`) or a
//! ready endpoint (`<ep>.<svc>.<ns>.svc.<zone>`, one per service); any other
//! address is not ours ([`Answer::Forward`], CoreDNS's `fallthrough`), like
//! every name outside the zone.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::Ipv4Addr;

use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::cluster::state::{EndpointState, LabState, ServiceState};
use crate::spec::ServiceType;

/// CoreDNS's default TTL, and kind's.
pub const DEFAULT_TTL: u32 = 30;
/// Answer of `dns-version.<zone>` TXT.
pub const SPEC_VERSION: &str = "1.1.0";
/// How many CNAMEs inside the zone an answer follows.
const MAX_CNAME_CHAIN: usize = 8;

/// The service whose VIP answers `ns.dns.<zone>`.
const KUBE_DNS: (&str, &str) = ("kube-system", "kube-dns");

/// What the server does with one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The cluster zone answers (AA set).
    Authoritative(Response),
    /// Not ours: forward to the upstream nameservers.
    Forward,
}

impl Answer {
    /// The authoritative response; panics on [`Answer::Forward`] (tests).
    pub fn unwrap_response(self) -> Response {
        match self {
            Answer::Authoritative(response) => response,
            Answer::Forward => panic!("expected an authoritative answer, got Forward"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// NoError or NXDomain.
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    /// The SOA for NODATA and NXDOMAIN.
    pub authority: Vec<Record>,
    /// A glue for SRV targets and the NS.
    pub additional: Vec<Record>,
    /// The answer ends in a CNAME whose target is outside the zone: the server
    /// may resolve that target upstream and append its records (CoreDNS does).
    pub chase: Option<Name>,
}

impl Response {
    fn new() -> Self {
        Response {
            rcode: ResponseCode::NoError,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            chase: None,
        }
    }

    pub fn is_nodata(&self) -> bool {
        self.rcode == ResponseCode::NoError && self.answers.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Srv {
    weight: u16,
    port: u16,
    target: Name,
}

/// Everything one owner name has. A node that exists with no data of the
/// asked type gives NODATA; a missing node gives NXDOMAIN.
#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    a: Vec<Ipv4Addr>,
    srv: Vec<Srv>,
    cname: Option<Name>,
    txt: Option<String>,
}

/// The cluster zone, indexed for lookups.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Lowercase, no trailing dot: `cluster.local`.
    domain: String,
    origin: Name,
    ttl: u32,
    serial: u32,
    /// Keyed by the lowercase name relative to the zone without the trailing
    /// dot (`""` is the apex, `nginx.default.svc` a service).
    nodes: HashMap<String, Node>,
    namespaces: HashSet<String>,
    reverse: HashMap<Ipv4Addr, Vec<Name>>,
    soa: Record,
    reverse_soa: Record,
}

impl Zone {
    /// Indexes the lab's services, endpoints and namespaces; `ttl` is every
    /// record's TTL and the SOA minimum. The SOA serial is 1: see
    /// [`Zone::with_serial`].
    pub fn from_state(state: &LabState, ttl: u32) -> Zone {
        let domain = state.networking.dns_domain.trim_end_matches('.').to_ascii_lowercase();
        let origin = fqdn(&domain).unwrap_or_else(|| Name::from_ascii("cluster.local.").expect("valid name"));
        let mut zone = Zone {
            soa: soa_record(origin.clone(), &origin, ttl, 1),
            reverse_soa: soa_record(Name::from_ascii("in-addr.arpa.").expect("valid name"), &origin, ttl, 1),
            domain,
            origin,
            ttl,
            serial: 1,
            nodes: HashMap::new(),
            namespaces: HashSet::new(),
            reverse: HashMap::new(),
        };
        for name in ["", "svc", "pod", "dns"] {
            zone.nodes.insert(name.to_string(), Node::default());
        }
        zone.nodes.insert(
            "dns-version".to_string(),
            Node {
                txt: Some(SPEC_VERSION.to_string()),
                ..Node::default()
            },
        );
        let namespaces: BTreeSet<&str> = state
            .namespaces
            .iter()
            .map(String::as_str)
            .chain(state.services.iter().map(|s| s.namespace.as_str()))
            .chain(state.pods.iter().map(|p| p.namespace.as_str()))
            .collect();
        for ns in namespaces {
            let ns = ns.to_ascii_lowercase();
            zone.nodes.insert(format!("{ns}.svc"), Node::default());
            zone.nodes.insert(format!("{ns}.pod"), Node::default());
            zone.namespaces.insert(ns);
        }
        // Service VIPs first: a VIP's PTR names its service only.
        for svc in &state.services {
            if let Some(vip) = svc.cluster_ip.filter(|_| svc.service_type != ServiceType::ExternalName) {
                let name = zone.service_name(svc);
                zone.reverse.entry(vip).or_insert_with(|| vec![name]);
            }
        }
        for svc in &state.services {
            zone.add_service(state, svc);
        }
        if let Some(kube_dns) = state
            .services
            .iter()
            .find(|s| (s.namespace.as_str(), s.name.as_str()) == KUBE_DNS)
            .and_then(|s| s.cluster_ip)
        {
            zone.nodes.insert(
                "ns.dns".to_string(),
                Node {
                    a: vec![kube_dns],
                    ..Node::default()
                },
            );
        }
        zone
    }

    /// The same zone with another SOA serial (the server counts updates).
    pub fn with_serial(mut self, serial: u32) -> Zone {
        self.serial = serial;
        self.soa = soa_record(self.origin.clone(), &self.origin, self.ttl, serial);
        self.reverse_soa = soa_record(self.reverse_soa.name.clone(), &self.origin, self.ttl, serial);
        self
    }

    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// `cluster.local.`
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// Every owner name of the zone with its records (A, SRV, CNAME, TXT, and
    /// SOA/NS at the apex), sorted by name: for zone files of peer servers.
    /// Synthesised pod names (`a-b-c-d.<ns>.pod`) and PTRs are not included.
    pub fn records(&self) -> Vec<Record> {
        let mut keys: Vec<&String> = self.nodes.keys().collect();
        keys.sort();
        let mut out = vec![self.soa.clone(), self.ns_record(self.origin.clone())];
        for key in keys {
            let node = &self.nodes[key];
            let Some(owner) = self.absolute(key) else { continue };
            out.extend(self.node_records(node, &owner, RecordType::ANY));
        }
        out
    }

    /// PTR records of service VIPs and endpoints, sorted by address.
    pub fn reverse_records(&self) -> Vec<Record> {
        let mut ips: Vec<&Ipv4Addr> = self.reverse.keys().collect();
        ips.sort();
        ips.into_iter()
            .flat_map(|ip| {
                let owner = reverse_name(*ip);
                self.reverse[ip]
                    .iter()
                    .map(move |target| Record::from_rdata(owner.clone(), self.ttl, RData::PTR(PTR(target.clone()))))
            })
            .collect()
    }

    fn absolute(&self, relative: &str) -> Option<Name> {
        if relative.is_empty() {
            Some(self.origin.clone())
        } else {
            fqdn(&format!("{relative}.{}", self.domain))
        }
    }

    fn service_name(&self, svc: &ServiceState) -> Name {
        self.absolute(&service_key(svc)).unwrap_or_else(|| self.origin.clone())
    }

    fn add_service(&mut self, state: &LabState, svc: &ServiceState) {
        let key = service_key(svc);
        let Some(base) = self.absolute(&key) else { return };
        if svc.service_type == ServiceType::ExternalName {
            if let Some(target) = svc.external_name.as_deref().and_then(fqdn) {
                self.nodes.insert(
                    key,
                    Node {
                        cname: Some(target),
                        ..Node::default()
                    },
                );
            }
            return;
        }
        // Ready endpoints (all of them with publishNotReadyAddresses), first
        // address wins across slices; with the slices' ports.
        let mut seen = HashSet::new();
        let mut endpoints: Vec<&EndpointState> = Vec::new();
        let mut ep_ports = Vec::new();
        for slice in state
            .endpoint_slices
            .iter()
            .filter(|s| s.namespace == svc.namespace && s.service == svc.name)
        {
            for ep in &slice.endpoints {
                if (ep.ready || svc.publish_not_ready_addresses) && seen.insert(ep.address) {
                    endpoints.push(ep);
                }
            }
            for port in &slice.ports {
                if !ep_ports.contains(port) {
                    ep_ports.push(port.clone());
                }
            }
        }
        let ep_label = |ep: &EndpointState| match &ep.hostname {
            Some(h) => h.to_ascii_lowercase(),
            None => dashed(ep.address),
        };
        // `<ep>.<svc>.<ns>.svc`: CoreDNS answers these for every service with
        // endpoints, headless or not.
        for ep in &endpoints {
            let ep_key = format!("{}.{key}", ep_label(ep));
            let Some(ep_name) = self.absolute(&ep_key) else {
                continue;
            };
            self.nodes.entry(ep_key).or_default().a.push(ep.address);
            let ptrs = self.reverse.entry(ep.address).or_default();
            if !ptrs.contains(&ep_name) {
                ptrs.push(ep_name);
            }
        }
        let mut all_srv = Vec::new();
        let mut srv_keys = vec![key.clone()];
        match svc.cluster_ip {
            Some(vip) => {
                let mut node = Node {
                    a: vec![vip],
                    ..Node::default()
                };
                for port in &svc.ports {
                    let srv = Srv {
                        weight: 100,
                        port: port.port,
                        target: base.clone(),
                    };
                    if let Some(name) = &port.name {
                        let srv_key = format!("_{}._{}.{key}", name.to_ascii_lowercase(), proto(port.protocol));
                        self.nodes.entry(srv_key.clone()).or_default().srv.push(srv.clone());
                        srv_keys.push(srv_key);
                    }
                    all_srv.push(srv);
                }
                node.srv = all_srv;
                self.nodes.insert(key.clone(), node);
            }
            None => {
                if endpoints.is_empty() {
                    // NXDOMAIN, as CoreDNS answers a headless service with no
                    // ready endpoint.
                    return;
                }
                let mut node = Node {
                    a: endpoints.iter().map(|ep| ep.address).collect(),
                    ..Node::default()
                };
                for port in &ep_ports {
                    let per_port: Vec<Srv> = endpoints
                        .iter()
                        .filter_map(|ep| {
                            Some(Srv {
                                weight: 100,
                                port: port.port,
                                target: self.absolute(&format!("{}.{key}", ep_label(ep)))?,
                            })
                        })
                        .collect();
                    if let Some(name) = &port.name {
                        let srv_key = format!("_{}._{}.{key}", name.to_ascii_lowercase(), proto(port.protocol));
                        self.nodes
                            .entry(srv_key.clone())
                            .or_default()
                            .srv
                            .extend(per_port.iter().cloned());
                        srv_keys.push(srv_key);
                    }
                    all_srv.extend(per_port);
                }
                node.srv = all_srv;
                self.nodes.insert(key.clone(), node);
            }
        }
        // CoreDNS's SRV weights: 100 shared among the records of one answer.
        for srv_key in srv_keys {
            if let Some(node) = self.nodes.get_mut(&srv_key).filter(|n| !n.srv.is_empty()) {
                let weight = (100 / node.srv.len()).max(1) as u16;
                for srv in &mut node.srv {
                    srv.weight = weight;
                }
            }
        }
    }

    fn ns_record(&self, owner: Name) -> Record {
        Record::from_rdata(owner, self.ttl, RData::NS(NS(self.ns_name())))
    }

    fn ns_name(&self) -> Name {
        self.absolute("ns.dns").unwrap_or_else(|| self.origin.clone())
    }

    fn node_records(&self, node: &Node, owner: &Name, qtype: RecordType) -> Vec<Record> {
        let any = qtype == RecordType::ANY;
        let mut out = Vec::new();
        let record = |data: RData| Record::from_rdata(owner.clone(), self.ttl, data);
        if let Some(target) = &node.cname {
            out.push(record(RData::CNAME(CNAME(target.clone()))));
            return out;
        }
        if any || qtype == RecordType::A {
            out.extend(node.a.iter().map(|ip| record(RData::A(A(*ip)))));
        }
        if any || qtype == RecordType::SRV {
            out.extend(
                node.srv
                    .iter()
                    .map(|s| record(RData::SRV(SRV::new(0, s.weight, s.port, s.target.clone())))),
            );
        }
        if any || qtype == RecordType::TXT {
            out.extend(node.txt.iter().map(|t| record(RData::TXT(TXT::new(vec![t.clone()])))));
        }
        out
    }

    /// A records of in-zone names, for the additional section.
    fn glue(&self, target: &Name) -> Vec<Record> {
        let lower = target.to_ascii().to_ascii_lowercase();
        match self.relative(lower.trim_end_matches('.')) {
            Some(key) => match self.nodes.get(key) {
                Some(node) => node
                    .a
                    .iter()
                    .map(|ip| Record::from_rdata(target.clone(), self.ttl, RData::A(A(*ip))))
                    .collect(),
                None => Vec::new(),
            },
            None => Vec::new(),
        }
    }

    /// The name relative to the zone (`""` for the apex), if inside it.
    fn relative<'a>(&self, lower: &'a str) -> Option<&'a str> {
        if lower == self.domain {
            return Some("");
        }
        let prefix = lower.strip_suffix(self.domain.as_str())?;
        prefix.strip_suffix('.')
    }

    /// `<a-b-c-d>.<ns>.pod` of an existing namespace (CoreDNS `pods insecure`:
    /// the address comes from the name, no pod needs to have it).
    fn pod_node(&self, key: &str) -> Option<Node> {
        let mut labels = key.split('.');
        let (Some(ip), Some(ns), Some("pod"), None) = (labels.next(), labels.next(), labels.next(), labels.next())
        else {
            return None;
        };
        if !self.namespaces.contains(ns) || ip.matches('-').count() != 3 {
            return None;
        }
        let ip: Ipv4Addr = ip.replace('-', ".").parse().ok()?;
        Some(Node {
            a: vec![ip],
            ..Node::default()
        })
    }

    fn lookup(&self, name: &Name, qtype: RecordType, response: &mut Response, depth: usize) -> Option<()> {
        let lower = name.to_ascii().to_ascii_lowercase();
        let lower = lower.trim_end_matches('.');
        let key = self.relative(lower)?;
        let synthesized;
        let node = match self.nodes.get(key) {
            Some(node) => node,
            None => match self.pod_node(key) {
                Some(node) => {
                    synthesized = node;
                    &synthesized
                }
                None => {
                    response.rcode = ResponseCode::NXDomain;
                    response.authority.push(self.soa.clone());
                    return Some(());
                }
            },
        };
        let mut answers = self.node_records(node, name, qtype);
        if key.is_empty() {
            if matches!(qtype, RecordType::SOA | RecordType::ANY) {
                let mut soa = self.soa.clone();
                soa.name = name.clone();
                answers.push(soa);
            }
            if matches!(qtype, RecordType::NS | RecordType::ANY) {
                answers.push(self.ns_record(name.clone()));
                response.additional.extend(self.glue(&self.ns_name()));
            }
        }
        if qtype == RecordType::SRV || qtype == RecordType::ANY {
            let mut glue_seen = HashSet::new();
            for srv in &node.srv {
                if glue_seen.insert(&srv.target) {
                    response.additional.extend(self.glue(&srv.target));
                }
            }
        }
        let is_empty = answers.is_empty();
        response.answers.extend(answers);
        if let (Some(target), false) = (&node.cname, qtype == RecordType::CNAME) {
            let target_lower = target.to_ascii().to_ascii_lowercase();
            if self.relative(target_lower.trim_end_matches('.')).is_some() {
                if depth < MAX_CNAME_CHAIN {
                    // The target's own NXDOMAIN/NODATA carry over, as CoreDNS's do.
                    self.lookup(target, qtype, response, depth + 1);
                }
            } else {
                response.chase = Some(target.clone());
            }
            return Some(());
        }
        if is_empty {
            response.authority.push(self.soa.clone());
        }
        Some(())
    }

    fn lookup_reverse(&self, name: &Name, lower: &str, qtype: RecordType) -> Answer {
        let Some(ip) = parse_reverse(lower) else {
            return Answer::Forward;
        };
        let Some(targets) = self.reverse.get(&ip) else {
            if is_locally_served(ip) {
                // RFC 6303: reverse names of private and link-local space are
                // answered locally (NXDOMAIN), never sent to the host's resolvers.
                let mut response = Response::new();
                response.rcode = ResponseCode::NXDomain;
                response.authority.push(self.reverse_soa.clone());
                return Answer::Authoritative(response);
            }
            return Answer::Forward;
        };
        let mut response = Response::new();
        if matches!(qtype, RecordType::PTR | RecordType::ANY) {
            response.answers.extend(
                targets
                    .iter()
                    .map(|t| Record::from_rdata(name.clone(), self.ttl, RData::PTR(PTR(t.clone())))),
            );
        } else {
            response.authority.push(self.reverse_soa.clone());
        }
        Answer::Authoritative(response)
    }
}

/// Answers one question from the zone.
pub fn answer(zone: &Zone, query: &Query) -> Answer {
    let name = query.name();
    let qtype = query.query_type();
    let lower = name.to_ascii().to_ascii_lowercase();
    let lower = lower.trim_end_matches('.');
    if lower.ends_with(".in-addr.arpa") {
        return zone.lookup_reverse(name, lower, qtype);
    }
    let mut response = Response::new();
    match zone.lookup(name, qtype, &mut response, 0) {
        Some(()) => Answer::Authoritative(response),
        None => Answer::Forward,
    }
}

fn service_key(svc: &ServiceState) -> String {
    format!(
        "{}.{}.svc",
        svc.name.to_ascii_lowercase(),
        svc.namespace.to_ascii_lowercase()
    )
}

fn proto(protocol: crate::spec::Protocol) -> String {
    protocol.as_str().to_ascii_lowercase()
}

/// `192-168-1-5`: the name of an endpoint without a hostname.
pub fn dashed(ip: Ipv4Addr) -> String {
    ip.to_string().replace('.', "-")
}

fn fqdn(name: &str) -> Option<Name> {
    let mut name = Name::from_ascii(name.trim_end_matches('.')).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// `5.1.168.192.in-addr.arpa.`
pub fn reverse_name(ip: Ipv4Addr) -> Name {
    let [a, b, c, d] = ip.octets();
    fqdn(&format!("{d}.{c}.{b}.{a}.in-addr.arpa")).expect("valid reverse name")
}

/// The IPv4 zones RFC 6303 section 4 says every resolver serves itself: this
/// network (0/8), loopback (127/8), private space (10/8, 172.16/12, 192.168/16),
/// link-local (169.254/16) — every lab address is in one of them by default.
fn is_locally_served(ip: Ipv4Addr) -> bool {
    ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.octets()[0] == 0
}

fn parse_reverse(lower: &str) -> Option<Ipv4Addr> {
    let labels = lower.strip_suffix(".in-addr.arpa")?;
    let mut octets = [0u8; 4];
    let mut parts = labels.split('.');
    for slot in octets.iter_mut().rev() {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part.starts_with('0')) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// CoreDNS's SOA: `ns.dns.<zone> hostmaster.<zone> <serial> 7200 1800 86400 <ttl>`.
fn soa_record(owner: Name, origin: &Name, ttl: u32, serial: u32) -> Record {
    let mname = Name::from_ascii("ns.dns")
        .expect("valid")
        .append_domain(origin)
        .unwrap_or_else(|_| origin.clone());
    let rname = Name::from_ascii("hostmaster")
        .expect("valid")
        .append_domain(origin)
        .unwrap_or_else(|_| origin.clone());
    Record::from_rdata(
        owner,
        ttl,
        RData::SOA(SOA::new(mname, rname, serial, 7200, 1800, 86400, ttl)),
    )
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
