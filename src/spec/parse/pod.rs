//! Pods and pod specs: containers, their ports, environment and readiness probe.

use super::yaml::{
    Cx, Fields, Node, check_port_name, exec_string_problem, is_empty_list, read_port, read_port_or_name, read_protocol,
    read_string,
};
use crate::spec::model::{
    At, Container, ContainerPort, Meta, PodObject, PodSpec, Probe, ProbeAction, Protocol, RestartPolicy,
};

pub(crate) fn parse_pod(cx: &mut Cx, object: &Fields, meta: Meta) -> PodObject {
    let spec = object
        .required(cx, "spec", "a Pod needs `spec:` with its `containers:`")
        .map(|node| parse_pod_spec(cx, node, "spec"))
        .unwrap_or_default();
    PodObject { meta, spec }
}

pub(crate) fn parse_pod_spec(cx: &mut Cx, node: &Node, path: &str) -> PodSpec {
    let Some(fields) = Fields::of(cx, node, path) else {
        return PodSpec::default();
    };
    check_has_containers(cx, &fields);
    let spec = PodSpec {
        hostname: fields.string_at(cx, "hostname"),
        subdomain: fields.string_at(cx, "subdomain"),
        node_name: fields.string_at(cx, "nodeName"),
        restart_policy: restart_policy(cx, &fields),
        enable_service_links: fields.bool(cx, "enableServiceLinks"),
        init_containers: containers(cx, &fields, "initContainers"),
        containers: containers(cx, &fields, "containers"),
    };
    fields.finish(cx);
    spec
}

fn check_has_containers(cx: &mut Cx, fields: &Fields) {
    let hint = "add `containers:` with at least one `- name: ... image: ...` entry";
    if let Some(list) = fields.required(cx, "containers", hint)
        && is_empty_list(list)
    {
        cx.error(list, format!("{}: must not be empty", fields.path("containers")), hint);
    }
}

fn restart_policy(cx: &mut Cx, fields: &Fields) -> Option<RestartPolicy> {
    let policies = RestartPolicy::ALL.map(|p| (p.as_str(), p));
    fields.choice(cx, "restartPolicy", &policies, "use Always, OnFailure or Never")
}

fn containers(cx: &mut Cx, fields: &Fields, key: &str) -> Vec<Container> {
    fields
        .list(cx, key)
        .into_iter()
        .filter_map(|(path, item)| parse_container(cx, item, &path))
        .collect()
}

fn parse_container(cx: &mut Cx, node: &Node, path: &str) -> Option<Container> {
    let fields = Fields::of(cx, node, path)?;
    let pos = cx.pos(node);
    let name = required_string(cx, &fields, "name", "name the container: `name: <name>`");
    let image = required_string(
        cx,
        &fields,
        "image",
        "add `image: <image>`; it picks the container's behaviour in the lab",
    );
    let container = Container {
        name,
        image,
        command: fields.exec_strings(cx, "command"),
        args: fields.exec_strings(cx, "args"),
        env: env(cx, &fields),
        ports: ports(cx, &fields),
        readiness_probe: fields
            .get("readinessProbe")
            .and_then(|probe| parse_probe(cx, probe, &fields.path("readinessProbe"))),
        working_dir: working_dir(cx, &fields),
        pos,
    };
    fields.finish(cx);
    Some(container)
}

/// `workingDir`, which container runtimes require absolute (runc: "cwd must be an absolute path").
fn working_dir(cx: &mut Cx, fields: &Fields) -> Option<String> {
    let dir = fields.string_at(cx, "workingDir")?;
    if !dir.value.starts_with('/') || dir.value.contains('\0') {
        let message = format!("{}: {:?} is not an absolute path", fields.path("workingDir"), dir.value);
        cx.error_at(
            &dir.pos,
            message,
            "write the directory from the root, e.g. `workingDir: /app`",
        );
        return None;
    }
    Some(dir.value)
}

/// A required string field; empty with the mapping's position when missing (after an error).
fn required_string(cx: &mut Cx, fields: &Fields, key: &str, hint: &str) -> At<String> {
    let value = fields
        .required(cx, key, hint)
        .and_then(|node| read_string(cx, node, &fields.path(key)));
    At::new(value.unwrap_or_default(), fields.value_pos(cx, key))
}

/// `value:` entries; a `valueFrom:` entry is left unread, so it is warned about and skipped.
fn env(cx: &mut Cx, fields: &Fields) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (path, item) in fields.list(cx, "env") {
        let Some(var) = Fields::of(cx, item, &path) else {
            continue;
        };
        let name = var
            .required(cx, "name", "add `name: <VARIABLE>`")
            .and_then(|node| read_env_name(cx, node, &var.path("name")));
        let from_elsewhere = var.key_node("valueFrom").is_some() && var.key_node("value").is_none();
        let value = var.string(cx, "value").unwrap_or_default();
        if let Some(name) = &name
            && let Some((problem, hint)) = exec_string_problem(&format!("{name}="), &value)
        {
            let at = var.get("value").unwrap_or(var.node());
            cx.error(at, format!("{}: {problem}", var.path("value")), hint);
        } else if let (Some(name), false) = (name, from_elsewhere) {
            env.push((name, value));
        }
        var.finish(cx);
    }
    env
}

/// Kubernetes' IsRelaxedEnvVarName (apimachinery validation.go): printable ASCII
/// other than '='; a NUL could not reach the program at all.
fn read_env_name(cx: &mut Cx, node: &Node, path: &str) -> Option<String> {
    let name = read_string(cx, node, path)?;
    let printable = |c: char| c.is_ascii_graphic() || c == ' ';
    if !name.is_empty() && name.chars().all(|c| printable(c) && c != '=') {
        return Some(name);
    }
    let message = format!(
        "{path}: invalid environment variable name {name:?}: a valid environment variable name must consist only of printable ASCII characters other than '='"
    );
    cx.error(node, message, "use letters, digits and '_', e.g. `name: MY_VARIABLE`");
    None
}

fn ports(cx: &mut Cx, fields: &Fields) -> Vec<ContainerPort> {
    fields
        .list(cx, "ports")
        .into_iter()
        .filter_map(|(path, item)| parse_container_port(cx, item, &path))
        .collect()
}

fn parse_container_port(cx: &mut Cx, node: &Node, path: &str) -> Option<ContainerPort> {
    let fields = Fields::of(cx, node, path)?;
    let port = fields
        .required(cx, "containerPort", "add `containerPort: <number>`")
        .and_then(|node| read_port(cx, node, &fields.path("containerPort")));
    let name = fields.get("name").and_then(|name_node| {
        let name = read_string(cx, name_node, &fields.path("name"))?;
        check_port_name(cx, name_node, &fields.path("name"), &name)
    });
    let protocol = fields
        .get("protocol")
        .and_then(|node| read_protocol(cx, node, &fields.path("protocol")));
    fields.finish(cx);
    Some(ContainerPort {
        name,
        container_port: port?,
        protocol: protocol.unwrap_or(Protocol::Tcp),
        pos: cx.pos(node),
    })
}

const HANDLERS: [&str; 3] = ["exec", "tcpSocket", "httpGet"];

fn parse_probe(cx: &mut Cx, node: &Node, path: &str) -> Option<Probe> {
    let fields = Fields::of(cx, node, path)?;
    let action = probe_action(cx, &fields);
    let probe = Probe {
        action: action.unwrap_or(ProbeAction::Exec { command: Vec::new() }),
        initial_delay_seconds: seconds(cx, &fields, "initialDelaySeconds", 0, 0),
        period_seconds: seconds(cx, &fields, "periodSeconds", 1, 10),
        timeout_seconds: seconds(cx, &fields, "timeoutSeconds", 1, 1),
        success_threshold: seconds(cx, &fields, "successThreshold", 1, 1),
        failure_threshold: seconds(cx, &fields, "failureThreshold", 1, 3),
        pos: cx.pos(node),
    };
    fields.finish(cx);
    Some(probe)
}

/// A probe setting (a duration or a count), at least `min`.
fn seconds(cx: &mut Cx, fields: &Fields, key: &str, min: i64, default: u32) -> u32 {
    let value = fields.int_in(cx, key, min..=i64::from(i32::MAX), i64::from(default));
    u32::try_from(value).unwrap_or(default)
}

/// Exactly one of `exec`, `tcpSocket` or `httpGet` (`grpc` is left unread, hence warned).
fn probe_action(cx: &mut Cx, fields: &Fields) -> Option<ProbeAction> {
    let written: Vec<&str> = HANDLERS.into_iter().filter(|h| fields.get(h).is_some()).collect();
    match written.as_slice() {
        [] => {
            let message = format!("{}: the probe has no handler", fields.own_path());
            cx.error(
                fields.node(),
                message,
                "give the probe one of exec, tcpSocket or httpGet",
            );
            None
        }
        [handler] => {
            let handler_fields = fields.mapping(cx, handler)?;
            let action = read_action(cx, handler, &handler_fields);
            handler_fields.finish(cx);
            action
        }
        [_, second, ..] => {
            let message = format!("{}: may not specify more than one handler", fields.path(second));
            cx.error(
                fields.get(second)?,
                message,
                "keep only one of exec, tcpSocket and httpGet",
            );
            None
        }
    }
}

fn read_action(cx: &mut Cx, handler: &str, fields: &Fields) -> Option<ProbeAction> {
    let port = |cx: &mut Cx| {
        fields
            .required(cx, "port", "add `port:` with a number or a container port name")
            .and_then(|node| read_port_or_name(cx, node, &fields.path("port")))
    };
    match handler {
        "exec" => {
            fields.required(cx, "command", "add `command: [...]`, the program to run")?;
            Some(ProbeAction::Exec {
                command: fields.exec_strings(cx, "command"),
            })
        }
        "tcpSocket" => Some(ProbeAction::TcpSocket { port: port(cx)? }),
        _ => {
            let path = fields.string(cx, "path").unwrap_or_else(|| "/".to_string());
            Some(ProbeAction::HttpGet { path, port: port(cx)? })
        }
    }
}
