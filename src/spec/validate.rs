//! Checks over the whole parsed topology: names, duplicates, namespaces, selectors,
//! named target ports and the networking plan. Each check returns its errors; all of
//! them run, so that one run reports everything.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;

use super::error::SpecError;
use super::model::{
    At, IntOrString, Labels, Networking, Object, PodSpec, Pos, ServiceObject, Topology, Workload, selects,
};
use super::parse::{DEFAULT_NODE_SUBNET, DEFAULT_POD_SUBNET, DEFAULT_SERVICE_SUBNET};

/// Longest name of a file under /run/netns; a pod's netns is `<lab>.<namespace>.<pod>`.
const MAX_NETNS_NAME: usize = 255;
/// Calico's limits on the IPAM block prefix length.
const MIN_BLOCK_SIZE: u8 = 20;
/// The service subnet must hold .1 (kubernetes) and .10 (kube-dns) with room to spare.
const MAX_SERVICE_PREFIX: u8 = 27;
/// Namespaces every cluster has without declaring them.
const BUILT_IN_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

pub(crate) fn validate(topology: &Topology, named_target_ports: &[(Pos, Pos)]) -> Vec<SpecError> {
    let mut errors = Vec::new();
    errors.extend(check_lab_name(&topology.name));
    errors.extend(check_networking(&topology.networking, topology.nodes.len()));
    for object in &topology.objects {
        errors.extend(check_object_names(&topology.name.value, object));
    }
    errors.extend(check_duplicates(&topology.objects));
    errors.extend(check_namespaces_exist(&topology.objects, &topology.existing_namespaces));
    errors.extend(check_selectors_match_templates(&topology.objects));
    errors.extend(check_named_target_ports(&topology.objects, named_target_ports));
    errors
}

// ---- names ----

const LABEL_SYNTAX: &str =
    "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";

/// Why `name` is not an RFC 1123 DNS label (what Kubernetes requires of most names).
pub(crate) fn dns1123_label_problem(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some(format!("must be no more than 63 characters (it has {})", name.len()));
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.iter().all(|&b| alnum(b) || b == b'-')
        && alnum(bytes[0])
        && alnum(bytes[bytes.len() - 1]);
    (!well_formed).then(|| format!("a DNS-1123 label {LABEL_SYNTAX}"))
}

/// Service names are RFC 1035 labels: also starting with a letter.
fn dns1035_label_problem(name: &str) -> Option<String> {
    if let Some(problem) = dns1123_label_problem(name) {
        return Some(problem);
    }
    let starts_with_letter = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    (!starts_with_letter).then(|| "a DNS-1035 label must start with an alphabetic character".to_string())
}

fn dns1123_subdomain_problem(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some(format!("must be no more than 253 characters (it has {})", name.len()));
    }
    let labels_ok = name.split('.').all(|label| dns1123_label_problem(label).is_none());
    (!labels_ok).then(|| {
        "a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".to_string()
    })
}

/// A valid label close to `name`, to suggest in a hint.
fn label_like(name: &str) -> String {
    let mut label: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    label.truncate(63);
    let label = label.trim_matches('-');
    if label.is_empty() {
        "my-name".to_string()
    } else {
        label.to_string()
    }
}

/// What is wrong with a lab name, if anything: the one rule for lab names, applied
/// to a topology's `name:` here, to every command's lab argument (`--lab`,
/// `LABCTL_LAB`, destroy, repair) and by the store before it builds a path. A lab
/// name prefixes every netns and names a directory under the run dir, so it must
/// be one DNS-1123 label: no '/', no '.', never empty.
pub fn lab_name_problem(name: &str) -> Option<(String, String)> {
    let problem = dns1123_label_problem(name)?;
    let message = format!("invalid lab name {name:?}: {problem}");
    let hint = format!(
        "the lab name prefixes every network namespace (`<lab>-control-plane`); use e.g. \"{}\"",
        label_like(name)
    );
    Some((message, hint))
}

fn check_lab_name(name: &At<String>) -> Option<SpecError> {
    let (message, hint) = lab_name_problem(&name.value)?;
    Some(SpecError::new(&name.pos, message).hint(hint))
}

fn name_error(object: &Object, problem: &str) -> SpecError {
    let name = &object.meta().name;
    let message = format!("{} \"{}\": invalid name: {problem}", object.kind(), name.value);
    let hint = format!("use a lowercase DNS name, e.g. \"{}\"", label_like(&name.value));
    SpecError::new(&name.pos, message).hint(hint)
}

fn check_object_names(lab: &str, object: &Object) -> Vec<SpecError> {
    let name = &object.meta().name.value;
    let problem = match object {
        Object::Pod(_) => dns1123_subdomain_problem(name),
        Object::Service(_) => dns1035_label_problem(name),
        _ => dns1123_label_problem(name),
    };
    let mut errors: Vec<SpecError> = problem.map(|p| name_error(object, &p)).into_iter().collect();
    if let Object::Pod(pod) = object
        && errors.is_empty()
    {
        errors.extend(check_pod_netns_length(lab, &pod.meta.namespace.value, &pod.meta.name));
    }
    if let Object::StatefulSet(set) = object
        && errors.is_empty()
    {
        errors.extend(check_statefulset_pod_names(set));
    }
    if let Some(spec) = pod_spec(object) {
        errors.extend(check_pod_spec_names(object, spec));
    }
    errors
}

/// The StatefulSet controller names its pods `<name>-<ordinal>` and writes that name
/// into each pod's spec.hostname and `statefulset.kubernetes.io/pod-name` label
/// (pkg/controller/statefulset initIdentity), both DNS labels: the API server refuses
/// a longer pod, so the set would never get it. The name alone may be 63 characters.
fn check_statefulset_pod_names(set: &Workload) -> Option<SpecError> {
    let name = &set.meta.name;
    let last = set.replicas.value.checked_sub(1)?;
    let pod = format!("{}-{last}", name.value);
    let problem = dns1123_label_problem(&pod)?;
    let message = format!(
        "StatefulSet \"{}\": its pod \"{pod}\" would be refused: spec.hostname and label statefulset.kubernetes.io/pod-name {problem}",
        name.value
    );
    let room = 63usize.saturating_sub(pod.len() - name.value.len());
    let hint = format!(
        "a StatefulSet's pods are named <name>-<ordinal>: with {} replicas, shorten the name to at most {room} characters",
        set.replicas.value
    );
    Some(SpecError::new(&name.pos, message).hint(hint))
}

fn pod_spec(object: &Object) -> Option<&PodSpec> {
    match object {
        Object::Pod(pod) => Some(&pod.spec),
        Object::Deployment(w) | Object::StatefulSet(w) | Object::DaemonSet(w) => Some(&w.template.spec),
        _ => None,
    }
}

fn check_pod_netns_length(lab: &str, namespace: &str, pod: &At<String>) -> Option<SpecError> {
    let length = lab.len() + namespace.len() + pod.value.len() + 2;
    if length <= MAX_NETNS_NAME {
        return None;
    }
    let message = format!("Pod \"{}\": name too long for its network namespace", pod.value);
    let hint = format!(
        "the pod's netns is named <lab>.<namespace>.<pod> ({length} bytes here) and must fit in {MAX_NETNS_NAME}: shorten the pod name"
    );
    Some(SpecError::new(&pod.pos, message).hint(hint))
}

/// Container names, hostname and subdomain become DNS labels.
fn check_pod_spec_names(object: &Object, spec: &PodSpec) -> Vec<SpecError> {
    let subject = format!("{} {}", object.kind(), object.meta().name.value);
    let containers = spec.init_containers.iter().chain(&spec.containers);
    let mut labels: Vec<(&str, &At<String>)> = containers.map(|c| ("container name", &c.name)).collect();
    labels.extend(spec.hostname.iter().map(|h| ("hostname", h)));
    labels.extend(spec.subdomain.iter().map(|s| ("subdomain", s)));
    labels
        .into_iter()
        .filter_map(|(what, value)| {
            let problem = dns1123_label_problem(&value.value)?;
            let message = format!("{subject}: invalid {what} \"{}\": {problem}", value.value);
            let hint = format!("use e.g. \"{}\"", label_like(&value.value));
            Some(SpecError::new(&value.pos, message).hint(hint))
        })
        .collect()
}

// ---- objects together ----

fn check_duplicates(objects: &[Object]) -> Vec<SpecError> {
    let mut first: BTreeMap<(&str, &str, &str), &Pos> = BTreeMap::new();
    let mut errors = Vec::new();
    for object in objects {
        let meta = object.meta();
        let key = (object.kind(), meta.namespace.value.as_str(), meta.name.value.as_str());
        match first.get(&key) {
            Some(first_pos) => errors.push(duplicate_error(object, first_pos)),
            None => {
                first.insert(key, &meta.name.pos);
            }
        }
    }
    errors
}

fn duplicate_error(object: &Object, first: &Pos) -> SpecError {
    let meta = object.meta();
    let place = match object {
        Object::Namespace(_) => String::new(),
        _ => format!(" in namespace \"{}\"", meta.namespace.value),
    };
    let message = format!("{} \"{}\" already exists{place}", object.kind(), meta.name.value);
    let hint = format!("it is first defined at {first}: rename or remove one of them");
    SpecError::new(&meta.name.pos, message).hint(hint)
}

fn check_namespaces_exist(objects: &[Object], existing: &[String]) -> Vec<SpecError> {
    let declared: BTreeSet<&str> = objects
        .iter()
        .filter(|o| matches!(o, Object::Namespace(_)))
        .map(|o| o.meta().name.value.as_str())
        .chain(BUILT_IN_NAMESPACES)
        .chain(existing.iter().map(String::as_str))
        .collect();
    objects
        .iter()
        .filter(|o| !matches!(o, Object::Namespace(_)))
        .filter(|o| !declared.contains(o.meta().namespace.value.as_str()))
        .map(|object| {
            let namespace = &object.meta().namespace;
            let subject = format!("{} {}", object.kind(), object.meta().name.value);
            let message = format!("{subject}: namespaces \"{}\" not found", namespace.value);
            let hint = format!(
                "add a Namespace object named {0} (`apiVersion: v1`, `kind: Namespace`, `metadata: {{name: {0}}}`)",
                namespace.value
            );
            SpecError::new(&namespace.pos, message).hint(hint)
        })
        .collect()
}

fn workloads(objects: &[Object]) -> impl Iterator<Item = (&'static str, &Workload)> {
    objects.iter().filter_map(|object| match object {
        Object::Deployment(w) | Object::StatefulSet(w) | Object::DaemonSet(w) => Some((object.kind(), w)),
        _ => None,
    })
}

fn check_selectors_match_templates(objects: &[Object]) -> Vec<SpecError> {
    workloads(objects)
        .filter(|(_, w)| !selects(&w.selector.value, &w.template.labels))
        .map(|(kind, w)| {
            let missing: Vec<String> = w
                .selector
                .value
                .iter()
                .filter(|(key, value)| w.template.labels.get(*key) != Some(*value))
                .map(|(key, value)| format!("{key}: {value}"))
                .collect();
            let message = format!(
                "{kind} {}: spec.template.metadata.labels: selector does not match template labels (missing {})",
                w.meta.name.value,
                missing.join(", ")
            );
            let hint = "every label of spec.selector.matchLabels must also be in spec.template.metadata.labels";
            SpecError::new(&w.template.labels_pos, message).hint(hint)
        })
        .collect()
}

// ---- named target ports ----

/// The pods (templates included) a Service selects: their name, for the hint, and spec.
fn selected_pods<'a>(objects: &'a [Object], service: &ServiceObject, selector: &Labels) -> Vec<(String, &'a PodSpec)> {
    let namespace = &service.meta.namespace.value;
    let mut pods = Vec::new();
    for object in objects {
        let (labels, spec) = match object {
            Object::Pod(pod) => (&pod.meta.labels, &pod.spec),
            Object::Deployment(w) | Object::StatefulSet(w) | Object::DaemonSet(w) => {
                (&w.template.labels, &w.template.spec)
            }
            _ => continue,
        };
        if &object.meta().namespace.value == namespace && selects(selector, labels) {
            pods.push((format!("{} {}", object.kind(), object.meta().name.value), spec));
        }
    }
    pods
}

fn check_named_target_ports(objects: &[Object], positions: &[(Pos, Pos)]) -> Vec<SpecError> {
    let mut errors = Vec::new();
    for object in objects {
        let Object::Service(service) = object else {
            continue;
        };
        let Some(selector) = &service.selector else {
            continue;
        };
        let pods = selected_pods(objects, service, selector);
        // A Service that selects nothing is valid: it simply has no endpoints.
        if pods.is_empty() {
            continue;
        }
        for (i, port) in service.ports.iter().enumerate() {
            let IntOrString::Str(name) = &port.target_port else {
                continue;
            };
            let defined = pods.iter().any(|(_, spec)| {
                spec.containers
                    .iter()
                    .flat_map(|c| &c.ports)
                    .any(|p| p.name.as_deref() == Some(name.as_str()) && p.protocol == port.protocol)
            });
            if !defined {
                let pos = positions
                    .iter()
                    .find(|(entry, _)| *entry == port.pos)
                    .map_or(&port.pos, |(_, at)| at);
                errors.push(missing_target_port(
                    service,
                    i,
                    name,
                    port.protocol.as_str(),
                    pos,
                    &pods,
                ));
            }
        }
    }
    errors
}

fn missing_target_port(
    service: &ServiceObject,
    index: usize,
    name: &str,
    protocol: &str,
    pos: &Pos,
    pods: &[(String, &PodSpec)],
) -> SpecError {
    let message = format!(
        "Service {}: spec.ports[{index}].targetPort: no container port named \"{name}\" ({protocol}) in the pods it selects",
        service.meta.name.value
    );
    let owners: Vec<&str> = pods.iter().map(|(owner, _)| owner.as_str()).collect();
    let hint = format!(
        "name a containerPort \"{name}\" in {}, or give targetPort as a number",
        owners.join(", ")
    );
    SpecError::new(pos, message).hint(hint)
}

// ---- networking ----

fn check_networking(net: &Networking, nodes: usize) -> Vec<SpecError> {
    let mut errors = Vec::new();
    let subnets = [
        ("nodeSubnet", &net.node_subnet, DEFAULT_NODE_SUBNET),
        ("podSubnet", &net.pod_subnet, DEFAULT_POD_SUBNET),
        ("serviceSubnet", &net.service_subnet, DEFAULT_SERVICE_SUBNET),
    ];
    for (name, subnet, default) in subnets {
        errors.extend(check_special_purpose(name, subnet, default));
    }
    errors.extend(check_overlaps(net));
    errors.extend(check_node_subnet(&net.node_subnet, nodes));
    errors.extend(check_service_subnet(&net.service_subnet));
    match check_block_size(net) {
        Some(error) => errors.push(error),
        None => errors.extend(check_pod_subnet_holds_nodes(net, nodes)),
    }
    errors.extend(check_dns_domain(&net.dns_domain));
    errors
}

/// Address blocks that cannot number hosts (RFC 6890's special-purpose registry): the
/// kernel refuses them on an interface or gives them another meaning.
const SPECIAL_PURPOSE: [(&str, &str); 5] = [
    (
        "0.0.0.0/8",
        "\"this network\" space (RFC 1122): 0.0.0.0 means any address",
    ),
    ("127.0.0.0/8", "loopback space: each namespace keeps it on its own lo"),
    (
        "169.254.0.0/16",
        "link-local space: pods reach their node through 169.254.1.1, as on Calico",
    ),
    ("224.0.0.0/4", "multicast space"),
    (
        "240.0.0.0/4",
        "reserved space (RFC 1112), with the broadcast address 255.255.255.255",
    ),
];

fn check_special_purpose(name: &str, subnet: &At<Ipv4Net>, default: &str) -> Option<SpecError> {
    let (block, what) = SPECIAL_PURPOSE
        .iter()
        .map(|(block, what)| (block.parse::<Ipv4Net>().expect("a valid block"), what))
        .find(|(block, _)| overlaps(block, &subnet.value))?;
    let relation = if block.contains(&subnet.value) {
        "is in"
    } else {
        "overlaps"
    };
    let message = format!("{name} {} {relation} {block}, {what}", subnet.value);
    let hint =
        format!("use private address space (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), e.g. {default}");
    Some(SpecError::new(&subnet.pos, message).hint(hint))
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The value written last: defaults sit before every written value, so this is the one
/// the user wrote (or, both written, the second one).
fn later<'a>(a: &'a Pos, b: &'a Pos) -> &'a Pos {
    if (b.line, b.col) >= (a.line, a.col) { b } else { a }
}

fn check_overlaps(net: &Networking) -> Vec<SpecError> {
    let subnets = [
        ("nodeSubnet", &net.node_subnet),
        ("podSubnet", &net.pod_subnet),
        ("serviceSubnet", &net.service_subnet),
    ];
    let mut errors = Vec::new();
    for (i, (a_name, a)) in subnets.iter().enumerate() {
        for (b_name, b) in &subnets[i + 1..] {
            if !overlaps(&a.value, &b.value) {
                continue;
            }
            let (name, net, other_name, other) = if later(&a.pos, &b.pos) == &b.pos {
                (b_name, b, a_name, a)
            } else {
                (a_name, a, b_name, b)
            };
            let message = format!("{name} {} overlaps {other_name} {}", net.value, other.value);
            let hint = "nodeSubnet, podSubnet and serviceSubnet must not overlap (defaults: 172.18.0.0/16, 192.168.0.0/16, 10.96.0.0/12)";
            errors.push(SpecError::new(&net.pos, message).hint(hint));
        }
    }
    errors
}

/// Usable host addresses in a subnet (network and broadcast addresses excluded).
fn host_count(net: &Ipv4Net) -> u64 {
    let size = 1u64 << (32 - u32::from(net.prefix_len()));
    size.saturating_sub(2)
}

fn check_node_subnet(subnet: &At<Ipv4Net>, nodes: usize) -> Option<SpecError> {
    let needed = nodes as u64 + 1;
    if subnet.value.prefix_len() <= 30 && host_count(&subnet.value) >= needed {
        return None;
    }
    let message = format!(
        "nodeSubnet {} is too small: it has {} usable addresses and the lab needs {needed} ({nodes} nodes and the gateway)",
        subnet.value,
        host_count(&subnet.value)
    );
    let hint = "use a larger nodeSubnet, e.g. a /24 (kind's default is 172.18.0.0/16)";
    Some(SpecError::new(&subnet.pos, message).hint(hint))
}

fn check_service_subnet(subnet: &At<Ipv4Net>) -> Option<SpecError> {
    if subnet.value.prefix_len() <= MAX_SERVICE_PREFIX {
        return None;
    }
    let message = format!("serviceSubnet {} is too small", subnet.value);
    let hint = format!(
        "use a /{MAX_SERVICE_PREFIX} or larger (the lab takes .1 for the kubernetes Service and .10 for kube-dns), e.g. 10.96.0.0/12"
    );
    Some(SpecError::new(&subnet.pos, message).hint(hint))
}

fn check_block_size(net: &Networking) -> Option<SpecError> {
    let block = net.pod_block_size.value;
    let pod_prefix = net.pod_subnet.value.prefix_len();
    let (message, pos) = if block < MIN_BLOCK_SIZE {
        let message = format!("podBlockSize {block}: Calico blocks are /{MIN_BLOCK_SIZE} to /32");
        (message, &net.pod_block_size.pos)
    } else if block < pod_prefix {
        let message = format!(
            "podBlockSize {block}: a /{block} block does not fit in podSubnet {}",
            net.pod_subnet.value
        );
        (message, later(&net.pod_subnet.pos, &net.pod_block_size.pos))
    } else {
        return None;
    };
    let hint = format!(
        "use a podBlockSize between {} and 32 (Calico's default is 26)",
        MIN_BLOCK_SIZE.max(pod_prefix)
    );
    Some(SpecError::new(pos, message).hint(hint))
}

fn check_pod_subnet_holds_nodes(net: &Networking, nodes: usize) -> Option<SpecError> {
    let block = net.pod_block_size.value;
    let blocks = 1u64 << (block - net.pod_subnet.value.prefix_len());
    if blocks >= nodes as u64 {
        return None;
    }
    let message = format!(
        "podSubnet {} holds {blocks} block(s) of /{block}, but the lab has {nodes} nodes",
        net.pod_subnet.value
    );
    let hint = "each node takes one pod block: use a larger podSubnet (e.g. a /16) or a larger podBlockSize number (smaller blocks)";
    let pos = later(&net.pod_subnet.pos, &net.pod_block_size.pos);
    Some(SpecError::new(pos, message).hint(hint))
}

fn check_dns_domain(domain: &At<String>) -> Option<SpecError> {
    let problem = dns1123_subdomain_problem(&domain.value)?;
    let message = format!("dnsDomain \"{}\" is not a valid DNS name: {problem}", domain.value);
    Some(SpecError::new(&domain.pos, message).hint("use a lowercase domain such as cluster.local"))
}
