//! Services: type, cluster IP, selector, ports and session affinity.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::yaml::{Cx, Fields, Node, is_empty_list, read_port, read_port_or_name, read_protocol};
use crate::spec::model::{
    At, ClusterIpSpec, IntOrString, Labels, Meta, Pos, Protocol, ServiceObject, ServicePortSpec, ServiceType,
};
use crate::spec::validate::dns1123_label_problem;

/// `sessionAffinityConfig.clientIP.timeoutSeconds` when not written, and its maximum.
const DEFAULT_AFFINITY_TIMEOUT: i64 = 10_800;
const MAX_AFFINITY_TIMEOUT: i64 = 86_400;

pub(crate) fn parse_service(cx: &mut Cx, object: &Fields, meta: Meta) -> ServiceObject {
    let spec = object
        .required(cx, "spec", "a Service needs `spec:` with its `ports:` and `selector:`")
        .and_then(|node| Fields::of(cx, node, "spec"));
    let Some(spec) = spec else {
        return empty_service(meta);
    };
    let service_type = service_type(cx, &spec);
    let cluster_ip = cluster_ip(cx, &spec);
    let ports = ports(cx, &spec);
    let service = ServiceObject {
        meta,
        service_type,
        selector: selector(cx, &spec),
        external_name: spec.string(cx, "externalName"),
        publish_not_ready_addresses: spec.bool(cx, "publishNotReadyAddresses").unwrap_or(false),
        session_affinity_client_ip: session_affinity(cx, &spec),
        session_affinity_timeout: affinity_timeout(cx, &spec),
        cluster_ip,
        ports,
    };
    check_type_requirements(cx, &spec, &service);
    spec.finish(cx);
    service
}

/// An empty selector is no selector, as in Kubernetes: the endpoints are managed by hand.
fn selector(cx: &mut Cx, spec: &Fields) -> Option<Labels> {
    let selector = spec.labels(cx, "selector");
    (!selector.is_empty()).then_some(selector)
}

fn empty_service(meta: Meta) -> ServiceObject {
    ServiceObject {
        cluster_ip: At::new(ClusterIpSpec::Auto, meta.pos.clone()),
        meta,
        service_type: ServiceType::ClusterIP,
        selector: None,
        ports: Vec::new(),
        external_name: None,
        publish_not_ready_addresses: false,
        session_affinity_client_ip: false,
        session_affinity_timeout: DEFAULT_AFFINITY_TIMEOUT as u32,
    }
}

fn service_type(cx: &mut Cx, spec: &Fields) -> ServiceType {
    let types = [
        ("ClusterIP", ServiceType::ClusterIP),
        ("NodePort", ServiceType::NodePort),
        ("LoadBalancer", ServiceType::LoadBalancer),
        ("ExternalName", ServiceType::ExternalName),
    ];
    let hint = "use ClusterIP, NodePort, LoadBalancer or ExternalName";
    spec.choice(cx, "type", &types, hint).unwrap_or(ServiceType::ClusterIP)
}

fn cluster_ip(cx: &mut Cx, spec: &Fields) -> At<ClusterIpSpec> {
    let pos = spec.value_pos(cx, "clusterIP");
    let Some(written) = spec.string(cx, "clusterIP") else {
        return At::new(ClusterIpSpec::Auto, pos);
    };
    let value = match written.as_str() {
        "" => ClusterIpSpec::Auto,
        "None" => ClusterIpSpec::Headless,
        address => match address.parse::<Ipv4Addr>() {
            Ok(ip) => ClusterIpSpec::Fixed(ip),
            Err(_) => {
                let message = format!("{}: \"{address}\" is not an IPv4 address", spec.path("clusterIP"));
                let hint = "write an IPv4 address from serviceSubnet, `None` for a headless Service, or leave it out";
                cx.error_at(&pos, message, hint);
                ClusterIpSpec::Auto
            }
        },
    };
    At::new(value, pos)
}

fn ports(cx: &mut Cx, spec: &Fields) -> Vec<ServicePortSpec> {
    let items = spec.list(cx, "ports");
    let several = items.len() > 1;
    let mut names: BTreeMap<String, Pos> = BTreeMap::new();
    let mut ports = Vec::new();
    for (path, item) in items {
        let Some(fields) = Fields::of(cx, item, &path) else {
            continue;
        };
        let name = port_name(cx, &fields, several, &mut names);
        if let Some(port) = service_port(cx, &fields, name) {
            ports.push(port);
        }
        fields.finish(cx);
    }
    ports
}

/// A port's name: optional alone, required and unique when the Service has several.
fn port_name(cx: &mut Cx, fields: &Fields, several: bool, seen: &mut BTreeMap<String, Pos>) -> Option<String> {
    let Some(name) = fields.string_at(cx, "name") else {
        if several && fields.get("name").is_none() {
            let message = format!(
                "{}: a Service with more than one port must name each of them",
                fields.own_path()
            );
            cx.error(
                fields.node(),
                message,
                "add `name: <name>` to every port, e.g. `name: http`",
            );
        }
        return None;
    };
    if let Some(problem) = dns1123_label_problem(&name.value) {
        let message = format!(
            "{}: invalid port name \"{}\": {problem}",
            fields.path("name"),
            name.value
        );
        cx.error_at(
            &name.pos,
            message,
            "a Service port name is a lowercase DNS label, e.g. `http`",
        );
    } else if let Some(first) = seen.get(&name.value) {
        let message = format!("{}: duplicate port name \"{}\"", fields.path("name"), name.value);
        cx.error_at(
            &name.pos,
            message,
            format!("the name is already used at {first}; give each port its own name"),
        );
    } else {
        seen.insert(name.value.clone(), name.pos.clone());
    }
    Some(name.value)
}

fn service_port(cx: &mut Cx, fields: &Fields, name: Option<String>) -> Option<ServicePortSpec> {
    let port = fields
        .required(cx, "port", "add `port: <number>`, the port the Service listens on")
        .and_then(|node| read_port(cx, node, &fields.path("port")));
    let target_port = fields.get("targetPort").and_then(|node| target_port(cx, fields, node));
    let protocol = fields
        .get("protocol")
        .and_then(|node| read_protocol(cx, node, &fields.path("protocol")));
    let node_port = fields
        .get("nodePort")
        .and_then(|node| read_port(cx, node, &fields.path("nodePort")));
    let port = port?;
    Some(ServicePortSpec {
        name,
        port,
        target_port: target_port.unwrap_or(IntOrString::Int(port)),
        protocol: protocol.unwrap_or(Protocol::Tcp),
        node_port,
        pos: cx.pos(fields.node()),
    })
}

/// Remembers where a named target port is written, for the check that needs the pods.
fn target_port(cx: &mut Cx, fields: &Fields, node: &Node) -> Option<IntOrString> {
    let target = read_port_or_name(cx, node, &fields.path("targetPort"))?;
    if let IntOrString::Str(_) = target {
        let entry = (cx.pos(fields.node()), cx.pos(node));
        cx.named_target_ports.push(entry);
    }
    Some(target)
}

fn session_affinity(cx: &mut Cx, spec: &Fields) -> bool {
    let affinities = [("ClientIP", true), ("None", false)];
    spec.choice(cx, "sessionAffinity", &affinities, "use ClientIP or None")
        .unwrap_or(false)
}

fn affinity_timeout(cx: &mut Cx, spec: &Fields) -> u32 {
    let timeout = spec
        .mapping(cx, "sessionAffinityConfig")
        .and_then(|config| {
            let client_ip = config.mapping(cx, "clientIP");
            config.finish(cx);
            client_ip
        })
        .map(|client_ip| {
            let timeout = client_ip.int_in(cx, "timeoutSeconds", 1..=MAX_AFFINITY_TIMEOUT, DEFAULT_AFFINITY_TIMEOUT);
            client_ip.finish(cx);
            timeout
        })
        .unwrap_or(DEFAULT_AFFINITY_TIMEOUT);
    u32::try_from(timeout).unwrap_or(DEFAULT_AFFINITY_TIMEOUT as u32)
}

/// What Kubernetes requires of each type: a name for ExternalName, ports for a Service
/// that gets a virtual IP (a headless one may have none: it is only DNS).
fn check_type_requirements(cx: &mut Cx, spec: &Fields, service: &ServiceObject) {
    if service.service_type == ServiceType::ExternalName {
        if service.external_name.is_none() {
            let message = format!(
                "{}: Required value for a Service of type ExternalName",
                spec.path("externalName")
            );
            let hint = "add `externalName: <DNS name>`, the name the Service is an alias of";
            cx.error_at(&spec.value_pos(cx, "type"), message, hint);
        }
        return;
    }
    let no_ports_written = spec.get("ports").is_none_or(is_empty_list);
    if no_ports_written && service.cluster_ip.value != ClusterIpSpec::Headless {
        let message = format!("{}: Required value", spec.path("ports"));
        let hint =
            "add `ports:` with at least one `- port: <number>`, or make the Service headless with `clusterIP: None`";
        cx.error(spec.node(), message, hint);
    }
}
