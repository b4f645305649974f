//! `kubectl describe pod|service` layout: `Key:` columns padded like kubectl's
//! tabwriter, nested sections indented by two spaces.

use std::fmt::Write;

use crate::cluster::state::{ContainerState, LabState, Labels, PodPhase, PodState, ServiceState};
use crate::spec::{IntOrString, ProbeAction, ServiceType};

/// One `Key:  value` line with the value at column `width`.
fn field(out: &mut String, indent: usize, key: &str, value: &str, width: usize) {
    let label = format!("{}{key}:", " ".repeat(indent));
    let _ = writeln!(out, "{label:<width$}{value}");
}

/// Multi-value fields (labels) continue under the first value.
fn labels_field(out: &mut String, key: &str, labels: &Labels, width: usize) {
    if labels.is_empty() {
        field(out, 0, key, "<none>", width);
        return;
    }
    for (i, (k, v)) in labels.iter().enumerate() {
        let value = format!("{k}={v}");
        if i == 0 {
            field(out, 0, key, &value, width);
        } else {
            let _ = writeln!(out, "{}{value}", " ".repeat(width));
        }
    }
}

fn selector_text(selector: &Option<Labels>) -> String {
    match selector {
        Some(s) if !s.is_empty() => s.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
        _ => "<none>".into(),
    }
}

pub fn service(state: &LabState, svc: &ServiceState) -> String {
    const W: usize = 19;
    let mut out = String::new();
    field(&mut out, 0, "Name", &svc.name, W);
    field(&mut out, 0, "Namespace", &svc.namespace, W);
    labels_field(&mut out, "Labels", &svc.labels, W);
    field(&mut out, 0, "Annotations", "<none>", W);
    field(&mut out, 0, "Selector", &selector_text(&svc.selector), W);
    let kind = match svc.service_type {
        ServiceType::ClusterIP => "ClusterIP",
        ServiceType::NodePort => "NodePort",
        ServiceType::LoadBalancer => "LoadBalancer",
        ServiceType::ExternalName => "ExternalName",
    };
    field(&mut out, 0, "Type", kind, W);
    if svc.service_type == ServiceType::ExternalName {
        field(
            &mut out,
            0,
            "External Name",
            svc.external_name.as_deref().unwrap_or(""),
            W,
        );
    } else {
        field(&mut out, 0, "IP Family Policy", "SingleStack", W);
        field(&mut out, 0, "IP Families", "IPv4", W);
        let ip = svc.cluster_ip.map_or("None".to_string(), |ip| ip.to_string());
        field(&mut out, 0, "IP", &ip, W);
        field(&mut out, 0, "IPs", &ip, W);
    }
    let slice = state
        .endpoint_slices
        .iter()
        .find(|e| e.namespace == svc.namespace && e.service == svc.name);
    for p in &svc.ports {
        let name = p.name.clone().unwrap_or_else(|| "<unset>".into());
        field(
            &mut out,
            0,
            "Port",
            &format!("{name}  {}/{}", p.port, p.protocol.as_str()),
            W,
        );
        let target = match &p.target_port {
            IntOrString::Int(n) => format!("{n}/{}", p.protocol.as_str()),
            IntOrString::Str(s) => format!("{s}/{}", p.protocol.as_str()),
        };
        field(&mut out, 0, "TargetPort", &target, W);
        if let Some(np) = p.node_port {
            field(
                &mut out,
                0,
                "NodePort",
                &format!("{name}  {np}/{}", p.protocol.as_str()),
                W,
            );
        }
        let endpoints = slice.map(|s| {
            let port = s.ports.iter().find(|ep| ep.name == p.name).map(|ep| ep.port);
            let mut addrs: Vec<String> = s
                .endpoints
                .iter()
                .filter(|e| e.ready || svc.publish_not_ready_addresses)
                .filter_map(|e| port.map(|port| format!("{}:{port}", e.address)))
                .collect();
            addrs.sort();
            addrs.join(",")
        });
        let shown = match endpoints {
            Some(e) if !e.is_empty() => e,
            _ => "<none>".into(),
        };
        field(&mut out, 0, "Endpoints", &shown, W);
    }
    field(
        &mut out,
        0,
        "Session Affinity",
        if svc.session_affinity_client_ip {
            "ClientIP"
        } else {
            "None"
        },
        W,
    );
    field(&mut out, 0, "Events", "<none>", W);
    out
}

pub fn pod(state: &LabState, pod: &PodState) -> String {
    const W: usize = 18;
    let mut out = String::new();
    let node_ip = state.node(&pod.node).map(|n| n.ip.to_string()).unwrap_or_default();
    field(&mut out, 0, "Name", &pod.name, W);
    field(&mut out, 0, "Namespace", &pod.namespace, W);
    field(&mut out, 0, "Priority", "0", W);
    field(&mut out, 0, "Service Account", "default", W);
    field(&mut out, 0, "Node", &format!("{}/{node_ip}", pod.node), W);
    field(&mut out, 0, "Start Time", &pod.created.to_string(), W);
    labels_field(&mut out, "Labels", &pod.labels, W);
    field(&mut out, 0, "Annotations", "<none>", W);
    let phase = if pod.phase.is_initializing() {
        "Pending"
    } else {
        "Running"
    };
    field(&mut out, 0, "Status", phase, W);
    field(&mut out, 0, "IP", &pod.ip.to_string(), W);
    let _ = writeln!(out, "IPs:");
    let _ = writeln!(out, "  IP:  {}", pod.ip);
    if let Some(owner) = &pod.owner {
        field(
            &mut out,
            0,
            "Controlled By",
            &format!("{}/{}", owner.kind.as_str(), owner.name),
            16,
        );
    }
    if !pod.init_containers.is_empty() {
        let _ = writeln!(out, "Init Containers:");
        for c in &pod.init_containers {
            container(&mut out, c, None, pod);
        }
    }
    let _ = writeln!(out, "Containers:");
    for c in &pod.containers {
        container(&mut out, c, Some(pod.ready), pod);
    }
    let _ = writeln!(out, "Conditions:");
    let _ = writeln!(out, "  Type              Status");
    let initialized = !pod.phase.is_initializing();
    for (t, ok) in [
        ("Initialized", initialized),
        ("Ready", pod.ready),
        ("ContainersReady", pod.ready),
        ("PodScheduled", true),
    ] {
        let _ = writeln!(out, "  {t:<18}{}", if ok { "True" } else { "False" });
    }
    field(&mut out, 0, "QoS Class", "BestEffort", 29);
    field(&mut out, 0, "Node-Selectors", "<none>", 29);
    field(&mut out, 0, "Tolerations", "<none>", 29);
    field(&mut out, 0, "Events", "<none>", 29);
    out
}

fn container(out: &mut String, c: &ContainerState, ready: Option<bool>, pod: &PodState) {
    const W: usize = 20;
    let _ = writeln!(out, "  {}:", c.name);
    field(out, 4, "Image", &c.image, W);
    match c.ports.first() {
        Some(p) => field(
            out,
            4,
            "Port",
            &format!("{}/{}", p.container_port, p.protocol.as_str()),
            W,
        ),
        None => field(out, 4, "Port", "<none>", W),
    }
    if !c.command.is_empty() {
        let _ = writeln!(out, "    Command:");
        for part in &c.command {
            let _ = writeln!(out, "      {}", part.replace('\n', "\n      "));
        }
    }
    if !c.args.is_empty() {
        let _ = writeln!(out, "    Args:");
        for part in &c.args {
            let _ = writeln!(out, "      {part}");
        }
    }
    let (state, is_ready) = match ready {
        Some(r) => (
            if pod.phase == PodPhase::Running {
                "Running"
            } else {
                "Waiting"
            },
            r,
        ),
        None => ("Terminated", true),
    };
    field(out, 4, "State", state, W);
    field(out, 4, "Ready", if is_ready { "True" } else { "False" }, W);
    field(out, 4, "Restart Count", &pod.restarts.to_string(), W);
    if let Some(p) = &c.readiness_probe {
        let action = match &p.action {
            ProbeAction::Exec { command } => format!("exec [{}]", command.join(" ")),
            ProbeAction::TcpSocket { port } => format!("tcp-socket :{}", port_text(port)),
            ProbeAction::HttpGet { path, port } => format!("http-get http://:{}{path}", port_text(port)),
        };
        let text = format!(
            "{action} delay={}s timeout={}s period={}s #success={} #failure={}",
            p.initial_delay_seconds, p.timeout_seconds, p.period_seconds, p.success_threshold, p.failure_threshold
        );
        field(out, 4, "Readiness", &text, W);
    }
    if c.env.is_empty() {
        field(out, 4, "Environment", "<none>", W);
    } else {
        let _ = writeln!(out, "    Environment:");
        for (k, v) in &c.env {
            let _ = writeln!(out, "      {k}:  {v}");
        }
    }
}

fn port_text(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::Str(s) => s.clone(),
    }
}
