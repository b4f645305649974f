//! The topology file itself: lab name, kind-style node list, networking, manifest list.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use saphyr::{Scalar, YamlData};

use super::manifests::{self, Sources};

use super::yaml::{
    Cx, Fields, Node, index, is_empty_document, load_documents, read_choice, read_exec_string, read_exec_strings,
    read_int, read_int_in, read_list, read_string, untag,
};
use crate::spec::model::{At, CheckSpec, Networking, NodeRole, Object, Pos, Topology};

pub(crate) const DEFAULT_NODE_SUBNET: &str = "172.18.0.0/16";
pub(crate) const DEFAULT_POD_SUBNET: &str = "192.168.0.0/16";
const DEFAULT_POD_BLOCK_SIZE: u8 = 26;
pub(crate) const DEFAULT_SERVICE_SUBNET: &str = "10.96.0.0/12";
const DEFAULT_DNS_DOMAIN: &str = "cluster.local";
const DEFAULT_DNS_TTL: u32 = 30;

/// Reads the topology text and every manifest it names; `None` when it cannot even be
/// read as a topology (the reason is in `cx`).
pub(crate) fn parse(cx: &mut Cx, text: &str, sources: &Sources) -> Option<Topology> {
    let docs = load_documents(cx, text)?;
    let mut docs = docs.iter().filter(|doc| !is_empty_document(doc));
    let Some(root) = docs.next() else {
        let pos = Pos {
            file: cx.file.clone(),
            line: 1,
            col: 1,
        };
        cx.error_at(&pos, "the topology file is empty", "start it with `name: <lab name>`");
        return None;
    };
    if let Some(extra) = docs.next() {
        let hint = "put Kubernetes objects in a manifest file, or inline under `manifests:`";
        cx.error(extra, "the topology file must hold a single YAML document", hint);
    }
    parse_root(cx, root, sources)
}

fn parse_root(cx: &mut Cx, root: &Node, sources: &Sources) -> Option<Topology> {
    let fields = Fields::of(cx, root, "")?;
    let name = lab_name(cx, &fields);
    let cluster = fields.mapping(cx, "cluster");
    let default_pos = cluster
        .as_ref()
        .and_then(|c| c.key_node("networking"))
        .or_else(|| fields.key_node("cluster"))
        .map_or_else(|| cx.pos(root), |node| cx.pos(node));
    let (nodes, networking) = match cluster {
        Some(cluster) => parse_cluster(cx, cluster, &default_pos),
        None => (
            vec![At::new(NodeRole::ControlPlane, default_pos.clone())],
            default_networking(&default_pos),
        ),
    };
    let mut objects: Vec<Object> = Vec::new();
    if let Some(list) = fields.get("manifests") {
        manifests::parse_list(cx, list, sources, &mut objects);
    }
    let checks = parse_checks(cx, &fields);
    fields.finish(cx);
    Some(Topology {
        file: sources.topology_file.clone(),
        name,
        nodes,
        networking,
        objects,
        checks,
        warnings: Vec::new(),
        existing_namespaces: Vec::new(),
    })
}

fn lab_name(cx: &mut Cx, fields: &Fields) -> At<String> {
    let hint = "add `name: <lab name>`: it prefixes every namespace of the lab, like kind's cluster name";
    let node = fields.required(cx, "name", hint);
    let value = node.and_then(|node| read_string(cx, node, "name"));
    let pos = node.map_or_else(|| cx.pos(fields.node()), |node| cx.pos(node));
    At::new(value.unwrap_or_default(), pos)
}

fn parse_cluster(cx: &mut Cx, cluster: Fields, default_pos: &Pos) -> (Vec<At<NodeRole>>, Networking) {
    let nodes = match cluster.get("nodes") {
        Some(list) => parse_nodes(cx, list),
        None => vec![At::new(NodeRole::ControlPlane, default_pos.clone())],
    };
    let mut networking = default_networking(default_pos);
    if let Some(fields) = cluster.mapping(cx, "networking") {
        read_networking(cx, &fields, &mut networking);
        fields.finish(cx);
    }
    cluster.finish(cx);
    (nodes, networking)
}

fn parse_nodes(cx: &mut Cx, list: &Node) -> Vec<At<NodeRole>> {
    let items = read_list(cx, list, "cluster.nodes");
    let written = items.len();
    let nodes: Vec<At<NodeRole>> = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| parse_node(cx, item, &index("cluster.nodes", i)))
        .collect();
    // A node whose role could not be read may be the control plane: don't guess.
    if nodes.len() == written {
        check_one_control_plane(cx, list, &nodes);
    }
    nodes
}

fn parse_node(cx: &mut Cx, item: &Node, path: &str) -> Option<At<NodeRole>> {
    let fields = Fields::of(cx, item, path)?;
    let role_node = fields.required(cx, "role", "write `role: control-plane` or `role: worker`");
    let role = role_node.and_then(|node| read_role(cx, node, &fields.path("role")));
    fields.finish(cx);
    Some(At::new(role?, cx.pos(role_node?)))
}

fn read_role(cx: &mut Cx, node: &Node, path: &str) -> Option<NodeRole> {
    let roles = [("control-plane", NodeRole::ControlPlane), ("worker", NodeRole::Worker)];
    let hint = "a node's role is control-plane or worker";
    read_choice(cx, node, path, &roles, "unknown node role", hint)
}

fn check_one_control_plane(cx: &mut Cx, list: &Node, nodes: &[At<NodeRole>]) {
    let mut control_planes = nodes.iter().filter(|n| n.value == NodeRole::ControlPlane);
    if control_planes.next().is_none() {
        let hint = "add `- role: control-plane` as the first node";
        cx.error(list, "cluster.nodes: the lab needs one control-plane node", hint);
    }
    for extra in control_planes {
        let hint = "labctl supports exactly one control-plane node: make this one `role: worker`";
        cx.error_at(&extra.pos, "more than one control-plane node", hint);
    }
}

/// The kind/Calico defaults. They point at `default_pos` (before any value the user
/// wrote), so that a conflict is reported at the value the user wrote.
fn default_networking(default_pos: &Pos) -> Networking {
    let at = |value| At::new(value, default_pos.clone());
    Networking {
        node_subnet: at(DEFAULT_NODE_SUBNET.parse().unwrap()),
        pod_subnet: at(DEFAULT_POD_SUBNET.parse().unwrap()),
        pod_block_size: At::new(DEFAULT_POD_BLOCK_SIZE, default_pos.clone()),
        service_subnet: at(DEFAULT_SERVICE_SUBNET.parse().unwrap()),
        dns_domain: At::new(DEFAULT_DNS_DOMAIN.to_string(), default_pos.clone()),
        dns_ttl: At::new(DEFAULT_DNS_TTL, default_pos.clone()),
    }
}

fn read_networking(cx: &mut Cx, fields: &Fields, networking: &mut Networking) {
    let subnets = [
        ("nodeSubnet", &mut networking.node_subnet),
        ("podSubnet", &mut networking.pod_subnet),
        ("serviceSubnet", &mut networking.service_subnet),
    ];
    for (key, slot) in subnets {
        if let Some(node) = fields.get(key)
            && let Some(net) = read_subnet(cx, node, &fields.path(key))
        {
            *slot = At::new(net, cx.pos(node));
        }
    }
    if let Some(node) = fields.get("podBlockSize")
        && let Some(size) = read_block_size(cx, node, &fields.path("podBlockSize"))
    {
        networking.pod_block_size = At::new(size, cx.pos(node));
    }
    if let Some(node) = fields.get("dnsDomain")
        && let Some(domain) = read_string(cx, node, &fields.path("dnsDomain"))
    {
        networking.dns_domain = At::new(domain, cx.pos(node));
    }
    // CoreDNS's kubernetes plugin accepts a ttl of 0..=3600 seconds.
    if let Some(node) = fields.get("dnsTTL")
        && let Some(ttl) = read_int_in(cx, node, &fields.path("dnsTTL"), 0..=3600)
    {
        networking.dns_ttl = At::new(ttl as u32, cx.pos(node));
    }
}

fn read_block_size(cx: &mut Cx, node: &Node, path: &str) -> Option<u8> {
    let size = read_int(cx, node, path)?;
    match u8::try_from(size) {
        Ok(size) if size <= 32 => Some(size),
        _ => {
            let message = format!("{path}: {size} is not a prefix length");
            cx.error(
                node,
                message,
                "podBlockSize is the prefix length of each node's pod block, 20 to 32 (Calico's default is 26)",
            );
            None
        }
    }
}

/// An IPv4 network in CIDR notation whose host bits are all zero.
fn read_subnet(cx: &mut Cx, node: &Node, path: &str) -> Option<Ipv4Net> {
    let text = read_string(cx, node, path)?;
    match parse_cidr(&text) {
        Ok(net) if net.trunc() == net => Some(net),
        Ok(net) => {
            let message = format!("{path} {text}: host bits are set");
            let hint = format!("the network is written with its host bits at zero: {}", net.trunc());
            cx.error(node, message, hint);
            None
        }
        Err((problem, hint)) => {
            cx.error(node, format!("{path} {text}: {problem}"), hint);
            None
        }
    }
}

fn parse_cidr(text: &str) -> Result<Ipv4Net, (String, String)> {
    let example = "write an IPv4 network as address/prefix, e.g. 10.0.0.0/16";
    let Some((address, prefix)) = text.split_once('/') else {
        return Err(("missing /prefix length".to_string(), example.to_string()));
    };
    if address.contains(':') {
        return Err(("IPv6 is not supported".to_string(), example.to_string()));
    }
    let address: Ipv4Addr = address
        .parse()
        .map_err(|_| (format!("\"{address}\" is not an IPv4 address"), example.to_string()))?;
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| (format!("\"{prefix}\" is not a prefix length"), example.to_string()))?;
    Ipv4Net::new(address, prefix).map_err(|_| {
        (
            "prefix length must be ≤ 32".to_string(),
            "an IPv4 prefix length is 0 to 32".to_string(),
        )
    })
}

/// The topology's own `checks:` for `labctl verify`.
fn parse_checks(cx: &mut Cx, fields: &Fields) -> Vec<CheckSpec> {
    let mut checks: Vec<CheckSpec> = Vec::new();
    for (path, item) in fields.list(cx, "checks") {
        let Some(check) = parse_check(cx, item, &path) else {
            continue;
        };
        if let Some(first) = checks.iter().find(|c| c.name.value == check.name.value) {
            let message = format!(
                "{path}: a check named \"{}\" is already defined at {}",
                check.name.value, first.pos
            );
            cx.error_at(&check.name.pos, message, "give every check its own name");
            continue;
        }
        checks.push(check);
    }
    checks
}

fn parse_check(cx: &mut Cx, item: &Node, path: &str) -> Option<CheckSpec> {
    let fields = Fields::of(cx, item, path)?;
    let errors = cx.error_count();
    let name = fields.required(cx, "name", "add `name: <what the check shows>`");
    let name = name.and_then(|node| read_string(cx, node, &fields.path("name")).map(|s| At::new(s, cx.pos(node))));
    let target_hint =
        "add `in: <pod>`, `in: <node>`, `in: node/worker` or `in: deployment/<name>`: where the command runs";
    let target = fields.required(cx, "in", target_hint);
    let target = target.and_then(|node| read_string(cx, node, &fields.path("in")).map(|s| At::new(s, cx.pos(node))));
    let namespace = fields.string(cx, "namespace").unwrap_or_else(|| "default".to_string());
    let command_node = fields.required(
        cx,
        "command",
        "add `command: [program, args...]` or `command: <shell line>`",
    );
    let command = command_node.and_then(|node| read_command(cx, node, &fields.path("command")));
    let expect = fields
        .get("expect")
        .and_then(|node| read_string(cx, node, &fields.path("expect")));
    let exit_code = fields
        .get("exitCode")
        .and_then(|node| read_int_in(cx, node, &fields.path("exitCode"), 0..=255));
    if let Some(target) = &target
        && target.value.is_empty()
    {
        cx.error_at(&target.pos, format!("{}: empty target", fields.path("in")), target_hint);
    }
    if let (Some(node), Some(command)) = (command_node, &command)
        && command.is_empty()
    {
        cx.error(
            node,
            format!("{}: empty command", fields.path("command")),
            "write the program to run and its arguments",
        );
    }
    let pos = cx.pos(item);
    fields.finish(cx);
    if cx.error_count() > errors {
        return None;
    }
    Some(CheckSpec {
        name: name?,
        target: target?,
        namespace,
        command: command?,
        expect,
        exit_code: exit_code.map(|c| c as i32),
        pos,
    })
}

/// A list of strings is the argv; a single string is a shell line, run with `sh -c`.
/// `None` after an error in it.
fn read_command(cx: &mut Cx, node: &Node, path: &str) -> Option<Vec<String>> {
    let errors = cx.error_count();
    let command = match &untag(node).data {
        YamlData::Value(Scalar::String(_)) => {
            let line = read_exec_string(cx, node, path)?;
            vec!["sh".to_string(), "-c".to_string(), line]
        }
        _ => read_exec_strings(cx, node, path),
    };
    (cx.error_count() == errors).then_some(command)
}
