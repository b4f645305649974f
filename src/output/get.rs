//! `labctl get …`: kubectl's tables (`-o wide` included), `-o name`, and the
//! Kubernetes-shaped objects behind `-o yaml|json`.
//!
//! Every function is pure and returns the text for stdout. Rows are printed in the order
//! given; the API server lists objects by namespace then name, which [`sort_like_api`]
//! reproduces. An empty table renders as `""`: kubectl then prints
//! [`no_resources`] on stderr, which is the caller's job. `-o yaml|json` of an empty list
//! is a `List` with no items, as kubectl prints it.
//!
//! Object field order does not matter: `-o json` and `-o yaml` both write keys sorted,
//! as kubectl does (it prints unstructured objects, i.e. Go maps).

use jiff::Timestamp;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use super::json::to_json;
use super::table::Table;
use super::time::age;
use super::yaml::to_yaml;
use crate::cluster::state::{
    ContainerState, EndpointSliceState, LabState, Labels, NodeState, OwnerKind, PodPhase, PodState, Role, ServiceState,
    WorkloadKind, WorkloadState,
};
use crate::spec::{IntOrString, Probe, ProbeAction, ServiceType};

/// The kubelet version nodes report (`VERSION` column, `status.nodeInfo.kubeletVersion`):
/// the Kubernetes version whose behaviour labctl reproduces (kind's `kindest/node:v1.28.0`
/// in the seed lab), with `+labctl` build metadata the way distributions mark theirs
/// (`v1.28.3+k3s1`), so that no one mistakes it for a real kubelet.
pub const KUBELET_VERSION: &str = "v1.28.0+labctl";

/// `OS-IMAGE` of every node (`status.nodeInfo.osImage`).
pub const OS_IMAGE: &str = "labctl netns";

/// `CONTAINER-RUNTIME` of every node: `labctl://<labctl version>`, shaped like
/// `containerd://1.7.1`.
pub fn container_runtime() -> String {
    format!("labctl://{}", env!("CARGO_PKG_VERSION"))
}

/// kubectl's `-o` values that labctl supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// No `-o`: the default table.
    #[default]
    Table,
    /// `-o wide`: the table with extra columns.
    Wide,
    /// `-o yaml`.
    Yaml,
    /// `-o json`.
    Json,
    /// `-o name`: `pod/redis-0`.
    Name,
}

/// An `-o` value kubectl has no printer for in labctl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to match a printer suitable for the output format {:?}, allowed formats are: json,name,wide,yaml",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `""` (no `-o`) is the table; otherwise kubectl's names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" => Ok(Format::Table),
            "wide" => Ok(Format::Wide),
            "yaml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            "name" => Ok(Format::Name),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// What kubectl prints on stderr when a list is empty: `No resources found in default
/// namespace.` for one namespace, `No resources found` for `-A` and cluster-scoped kinds.
pub fn no_resources(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!("No resources found in {ns} namespace."),
        None => "No resources found".to_string(),
    }
}

/// Objects that live in a namespace.
pub trait Namespaced {
    fn namespace(&self) -> &str;
    fn name(&self) -> &str;
}

macro_rules! namespaced {
    ($($t:ty),*) => {$(
        impl Namespaced for $t {
            fn namespace(&self) -> &str {
                &self.namespace
            }
            fn name(&self) -> &str {
                &self.name
            }
        }
    )*};
}
namespaced!(PodState, ServiceState, EndpointSliceState, WorkloadState);

/// Sorts like the API server lists (etcd key order): by namespace, then name.
pub fn sort_like_api<T: Namespaced>(items: &mut [&T]) {
    items.sort_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
}

// ---------------------------------------------------------------------------------------
// Shared pieces

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "<none>".to_string() } else { s }
}

/// `labels.FormatLabels`: `k=v` sorted by key, comma-joined; `<none>` when empty.
fn format_labels(labels: Option<&Labels>) -> String {
    let joined = labels
        .map(|l| l.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    none_if_empty(joined)
}

fn labels_value(labels: &Labels) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A `List` as kubectl prints several objects.
pub fn list(items: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": items,
        "metadata": {"resourceVersion": ""},
    })
}

/// `-o name` of one object: `<resource>[.<group>]/<name>` (`pod/redis-0`,
/// `endpointslice.discovery.k8s.io/redis-headless-abc12`).
pub fn object_name(v: &Value) -> String {
    let kind = v["kind"].as_str().unwrap_or_default().to_lowercase();
    let group = v["apiVersion"]
        .as_str()
        .and_then(|av| av.rsplit_once('/'))
        .map(|(g, _)| g)
        .unwrap_or_default();
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// Renders an object (or a `List`) as `-o yaml`, `-o json` (4-space indent, like
/// kubectl) or `-o name`. `Table` and `Wide` are not object formats: they render as
/// YAML here; use the table functions ([`pods`], …) for them.
pub fn render_value(v: &Value, format: Format) -> String {
    match format {
        Format::Json => to_json(v, "    "),
        Format::Yaml | Format::Table | Format::Wide => to_yaml(v),
        Format::Name => match v.get("items").and_then(Value::as_array) {
            Some(items) if v["kind"] == "List" => items.iter().map(|i| object_name(i) + "\n").collect(),
            _ => object_name(v) + "\n",
        },
    }
}

fn render_objects(items: Vec<Value>, format: Format) -> String {
    match format {
        Format::Name => items.iter().map(|i| object_name(i) + "\n").collect(),
        _ => render_value(&list(items), format),
    }
}

fn table_or_empty(table: Table) -> String {
    if table.is_empty() {
        String::new()
    } else {
        table.render()
    }
}

// ---------------------------------------------------------------------------------------
// Pods

/// `kubectl get pods`: `NAME READY STATUS RESTARTS AGE`, `-o wide` adds `IP NODE
/// NOMINATED NODE READINESS GATES`, `-A` puts `NAMESPACE` first. READY counts the app
/// containers (all of them when the pod is ready, none otherwise); STATUS is the phase.
pub fn pods(state: &LabState, pods: &[&PodState], all_namespaces: bool, format: Format, now: Timestamp) -> String {
    match format {
        Format::Table | Format::Wide => {
            let wide = format == Format::Wide;
            let mut header = vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
            if wide {
                header.extend(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
            }
            if all_namespaces {
                header.insert(0, "NAMESPACE");
            }
            let mut t = Table::new(header);
            for p in pods {
                let total = p.containers.len();
                let ready = if p.ready { total } else { 0 };
                let mut row = vec![
                    p.name.clone(),
                    format!("{ready}/{total}"),
                    p.phase.to_string(),
                    p.restarts.to_string(),
                    age(p.created, now),
                ];
                if wide {
                    row.extend([
                        p.ip.to_string(),
                        none_if_empty(p.node.clone()),
                        "<none>".to_string(),
                        "<none>".to_string(),
                    ]);
                }
                if all_namespaces {
                    row.insert(0, p.namespace.clone());
                }
                t.row(row);
            }
            table_or_empty(t)
        }
        _ => render_objects(pods.iter().map(|p| pod_object(state, p)).collect(), format),
    }
}

/// The ReplicaSet a Deployment pod belongs to: `<deployment>-<pod-template-hash>`, from
/// the workload's template hash, else the pod name without its last `-xxxxx`.
fn replicaset_name(state: &LabState, pod: &PodState, deployment: &str) -> String {
    state
        .workloads
        .iter()
        .find(|w| w.kind == WorkloadKind::Deployment && w.name == deployment && w.namespace == pod.namespace)
        .and_then(|w| w.template_hash.as_ref())
        .map(|hash| format!("{deployment}-{hash}"))
        .or_else(|| pod.name.rsplit_once('-').map(|(rs, _)| rs.to_string()))
        .unwrap_or_else(|| deployment.to_string())
}

fn workload_uid(state: &LabState, kind: OwnerKind, name: &str, namespace: &str) -> Option<String> {
    state
        .workloads
        .iter()
        .find(|w| OwnerKind::from(w.kind) == kind && w.name == name && w.namespace == namespace)
        .map(|w| w.uid.clone())
}

/// `(ownerReference, generateName)` of an owned pod. Deployment pods are owned by their
/// ReplicaSet, which is not in the lab state: its reference has no `uid`.
fn pod_owner(state: &LabState, pod: &PodState) -> Option<(Value, Option<String>)> {
    let owner = pod.owner.as_ref()?;
    let (kind, name) = match owner.kind {
        OwnerKind::Deployment => (OwnerKind::ReplicaSet, replicaset_name(state, pod, &owner.name)),
        kind => (kind, owner.name.clone()),
    };
    let mut r = json!({
        "apiVersion": kind.api_version(),
        "kind": kind.as_str(),
        "name": name,
        "controller": true,
        "blockOwnerDeletion": true,
    });
    if let Some(uid) = workload_uid(state, owner.kind, &owner.name, &pod.namespace) {
        r["uid"] = uid.into();
    }
    let generate_name = match kind {
        OwnerKind::ReplicaSet | OwnerKind::DaemonSet => Some(format!("{name}-")),
        OwnerKind::Deployment | OwnerKind::StatefulSet => None,
    };
    Some((r, generate_name))
}

fn int_or_string(v: &IntOrString) -> Value {
    match v {
        IntOrString::Int(i) => json!(i),
        IntOrString::Str(s) => json!(s),
    }
}

fn probe_value(p: &Probe) -> Value {
    let mut v = json!({
        "periodSeconds": p.period_seconds,
        "timeoutSeconds": p.timeout_seconds,
        "successThreshold": p.success_threshold,
        "failureThreshold": p.failure_threshold,
    });
    if p.initial_delay_seconds > 0 {
        v["initialDelaySeconds"] = p.initial_delay_seconds.into();
    }
    match &p.action {
        ProbeAction::Exec { command } => v["exec"] = json!({ "command": command }),
        ProbeAction::TcpSocket { port } => v["tcpSocket"] = json!({ "port": int_or_string(port) }),
        ProbeAction::HttpGet { path, port } => {
            v["httpGet"] = json!({"path": path, "port": int_or_string(port), "scheme": "HTTP"})
        }
    }
    v
}

fn container_value(c: &ContainerState) -> Value {
    let mut v = json!({"name": c.name, "image": c.image});
    if !c.command.is_empty() {
        v["command"] = json!(c.command);
    }
    if !c.args.is_empty() {
        v["args"] = json!(c.args);
    }
    if !c.env.is_empty() {
        v["env"] = c
            .env
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
    }
    if !c.ports.is_empty() {
        v["ports"] = c
            .ports
            .iter()
            .map(|p| {
                let mut port = json!({
                    "containerPort": p.container_port,
                    "protocol": p.protocol.as_str(),
                });
                if let Some(name) = &p.name {
                    port["name"] = name.clone().into();
                }
                port
            })
            .collect();
    }
    if let Some(probe) = &c.readiness_probe {
        v["readinessProbe"] = probe_value(probe);
    }
    v
}

fn container_status(pod: &PodState, c: &ContainerState, restarts: u32) -> Value {
    let state = match pod.phase {
        PodPhase::Running => json!({"running": {"startedAt": pod.created}}),
        PodPhase::Pending => json!({"waiting": {"reason": "ContainerCreating"}}),
        _ => json!({}),
    };
    json!({
        "name": c.name,
        "image": c.image,
        "ready": pod.ready,
        "restartCount": restarts,
        "started": pod.phase == PodPhase::Running,
        "state": state,
    })
}

fn condition(kind: &str, ok: bool, since: Timestamp) -> Value {
    json!({
        "type": kind,
        "status": if ok { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": since,
    })
}

/// A Pod as `kubectl get pod <name> -o json` shows it. The lab keeps one restart count
/// per pod: it is reported on the first container.
pub fn pod_object(state: &LabState, pod: &PodState) -> Value {
    let mut metadata = json!({
        "name": pod.name,
        "namespace": pod.namespace,
        "uid": pod.uid,
        "creationTimestamp": pod.created,
    });
    if !pod.labels.is_empty() {
        metadata["labels"] = labels_value(&pod.labels);
    }
    if let Some((owner, generate_name)) = pod_owner(state, pod) {
        metadata["ownerReferences"] = json!([owner]);
        if let Some(g) = generate_name {
            metadata["generateName"] = g.into();
        }
    }

    let mut spec = json!({
        "containers": pod.containers.iter().map(container_value).collect::<Vec<_>>(),
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": pod.restart_policy.as_str(),
    });
    if !pod.node.is_empty() {
        spec["nodeName"] = pod.node.clone().into();
    }
    if !pod.init_containers.is_empty() {
        spec["initContainers"] = pod.init_containers.iter().map(container_value).collect();
    }
    // spec.hostname as written (StatefulSet pods get theirs from the controller). States
    // saved before `spec_hostname` existed: StatefulSet pods, or a hostname that is not
    // the pod name, had one.
    let is_sts = pod.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::StatefulSet);
    let hostname = pod
        .spec_hostname
        .clone()
        .or_else(|| (is_sts || pod.hostname != pod.name).then(|| pod.hostname.clone()));
    if let Some(h) = hostname {
        spec["hostname"] = h.into();
    }
    if let Some(sub) = &pod.subdomain {
        spec["subdomain"] = sub.clone().into();
    }

    let initialized = pod.phase != PodPhase::Pending || pod.init_containers.is_empty();
    let mut status = json!({
        "phase": pod.phase.to_string(),
        "podIP": pod.ip.to_string(),
        "podIPs": [{"ip": pod.ip.to_string()}],
        "qosClass": "BestEffort",
        "startTime": pod.created,
        "conditions": [
            condition("Initialized", initialized, pod.created),
            condition("Ready", pod.ready, pod.created),
            condition("ContainersReady", pod.ready, pod.created),
            condition("PodScheduled", !pod.node.is_empty(), pod.created),
        ],
        "containerStatuses": pod.containers.iter().enumerate()
            .map(|(i, c)| container_status(pod, c, if i == 0 { pod.restarts } else { 0 }))
            .collect::<Vec<_>>(),
    });
    if let Some(node) = state.node(&pod.node) {
        status["hostIP"] = node.ip.to_string().into();
    }

    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    })
}

// ---------------------------------------------------------------------------------------
// Nodes

fn node_roles(node: &NodeState) -> &'static str {
    match node.role {
        Role::ControlPlane => "control-plane",
        Role::Worker => "<none>",
    }
}

/// `kubectl get nodes`: `NAME STATUS ROLES AGE VERSION`; `-o wide` adds `INTERNAL-IP
/// EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME`, `kernel` being the host's
/// kernel release (`uname -r`; every node shares the host kernel). Nodes are listed by
/// name and are as old as the lab.
pub fn nodes(state: &LabState, format: Format, kernel: &str, now: Timestamp) -> String {
    let mut nodes: Vec<&NodeState> = state.nodes.iter().collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    match format {
        Format::Table | Format::Wide => {
            let wide = format == Format::Wide;
            let mut header = vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION"];
            if wide {
                header.extend([
                    "INTERNAL-IP",
                    "EXTERNAL-IP",
                    "OS-IMAGE",
                    "KERNEL-VERSION",
                    "CONTAINER-RUNTIME",
                ]);
            }
            let mut t = Table::new(header);
            for n in nodes {
                let mut row = vec![
                    n.name.clone(),
                    "Ready".to_string(),
                    node_roles(n).to_string(),
                    age(state.created, now),
                    KUBELET_VERSION.to_string(),
                ];
                if wide {
                    row.extend([
                        n.ip.to_string(),
                        "<none>".to_string(),
                        OS_IMAGE.to_string(),
                        none_if_empty(kernel.to_string()),
                        container_runtime(),
                    ]);
                }
                t.row(row);
            }
            table_or_empty(t)
        }
        _ => render_objects(
            nodes.into_iter().map(|n| node_object(state, n, kernel)).collect(),
            format,
        ),
    }
}

/// Go's `runtime.GOARCH` name of the host architecture.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// A Node as `kubectl get node <name> -o json` shows it (labels, pod CIDR, addresses,
/// the Ready condition, nodeInfo).
pub fn node_object(state: &LabState, node: &NodeState, kernel: &str) -> Value {
    let mut labels = json!({
        "kubernetes.io/arch": go_arch(),
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
    });
    if node.role == Role::ControlPlane {
        labels["node-role.kubernetes.io/control-plane"] = "".into();
    }
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": labels,
            "creationTimestamp": state.created,
        },
        "spec": {
            "podCIDR": node.pod_block.to_string(),
            "podCIDRs": [node.pod_block.to_string()],
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node.ip.to_string()},
                {"type": "Hostname", "address": node.name},
            ],
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": state.created,
                "lastTransitionTime": state.created,
            }],
            "nodeInfo": {
                "architecture": go_arch(),
                "containerRuntimeVersion": container_runtime(),
                "kernelVersion": kernel,
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "osImage": OS_IMAGE,
            },
        },
    })
}

// ---------------------------------------------------------------------------------------
// Services

fn service_type_str(t: ServiceType) -> &'static str {
    match t {
        ServiceType::ClusterIP => "ClusterIP",
        ServiceType::NodePort => "NodePort",
        ServiceType::LoadBalancer => "LoadBalancer",
        ServiceType::ExternalName => "ExternalName",
    }
}

/// `spec.clusterIP` as the API shows it: the VIP, `None` for headless, absent for
/// ExternalName.
fn cluster_ip(svc: &ServiceState) -> Option<String> {
    match (svc.service_type, svc.cluster_ip) {
        (ServiceType::ExternalName, _) => None,
        (_, Some(ip)) => Some(ip.to_string()),
        (_, None) => Some("None".to_string()),
    }
}

/// kubectl's `getServiceExternalIP` (no external IPs or load-balancer status in a lab).
fn external_ip(svc: &ServiceState) -> String {
    match svc.service_type {
        ServiceType::ClusterIP | ServiceType::NodePort => "<none>".to_string(),
        ServiceType::LoadBalancer => "<pending>".to_string(),
        ServiceType::ExternalName => svc.external_name.clone().unwrap_or_default(),
    }
}

/// kubectl's `makePortString`: `80/TCP`, `80:30080/TCP`, comma-joined.
fn port_string(svc: &ServiceState) -> String {
    let ports: Vec<String> = svc
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(np) => format!("{}:{np}/{}", p.port, p.protocol.as_str()),
            None => format!("{}/{}", p.port, p.protocol.as_str()),
        })
        .collect();
    none_if_empty(ports.join(","))
}

/// `kubectl get services`: `NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE`, `-o wide`
/// adds `SELECTOR`, `-A` puts `NAMESPACE` first.
pub fn services(
    _state: &LabState,
    svcs: &[&ServiceState],
    all_namespaces: bool,
    format: Format,
    now: Timestamp,
) -> String {
    match format {
        Format::Table | Format::Wide => {
            let wide = format == Format::Wide;
            let mut header = vec!["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"];
            if wide {
                header.push("SELECTOR");
            }
            if all_namespaces {
                header.insert(0, "NAMESPACE");
            }
            let mut t = Table::new(header);
            for s in svcs {
                let mut row = vec![
                    s.name.clone(),
                    service_type_str(s.service_type).to_string(),
                    cluster_ip(s).unwrap_or_else(|| "<none>".to_string()),
                    external_ip(s),
                    port_string(s),
                    age(s.created, now),
                ];
                if wide {
                    row.push(format_labels(s.selector.as_ref()));
                }
                if all_namespaces {
                    row.insert(0, s.namespace.clone());
                }
                t.row(row);
            }
            table_or_empty(t)
        }
        _ => render_objects(svcs.iter().map(|s| service_object(s)).collect(), format),
    }
}

/// A Service as `kubectl get service <name> -o json` shows it.
pub fn service_object(svc: &ServiceState) -> Value {
    let mut metadata = json!({
        "name": svc.name,
        "namespace": svc.namespace,
        "uid": svc.uid,
        "creationTimestamp": svc.created,
    });
    if !svc.labels.is_empty() {
        metadata["labels"] = labels_value(&svc.labels);
    }
    let mut spec = Map::new();
    spec.insert("type".into(), service_type_str(svc.service_type).into());
    spec.insert(
        "sessionAffinity".into(),
        if svc.session_affinity_client_ip {
            "ClientIP"
        } else {
            "None"
        }
        .into(),
    );
    if svc.session_affinity_client_ip {
        spec.insert(
            "sessionAffinityConfig".into(),
            json!({"clientIP": {"timeoutSeconds": svc.session_affinity_timeout}}),
        );
    }
    if let Some(ip) = cluster_ip(svc) {
        spec.insert("clusterIP".into(), ip.clone().into());
        spec.insert("clusterIPs".into(), json!([ip]));
        spec.insert("internalTrafficPolicy".into(), "Cluster".into());
        spec.insert("ipFamilies".into(), json!(["IPv4"]));
        spec.insert("ipFamilyPolicy".into(), "SingleStack".into());
    }
    if let Some(name) = &svc.external_name {
        spec.insert("externalName".into(), name.clone().into());
    }
    if matches!(svc.service_type, ServiceType::NodePort | ServiceType::LoadBalancer) {
        spec.insert("externalTrafficPolicy".into(), "Cluster".into());
    }
    if svc.service_type == ServiceType::LoadBalancer {
        spec.insert("allocateLoadBalancerNodePorts".into(), true.into());
    }
    if !svc.ports.is_empty() {
        let ports = svc
            .ports
            .iter()
            .map(|p| {
                let mut v = json!({
                    "port": p.port,
                    "protocol": p.protocol.as_str(),
                    "targetPort": int_or_string(&p.target_port),
                });
                if let Some(name) = &p.name {
                    v["name"] = name.clone().into();
                }
                if let Some(np) = p.node_port {
                    v["nodePort"] = np.into();
                }
                v
            })
            .collect();
        spec.insert("ports".into(), Value::Array(ports));
    }
    if let Some(sel) = &svc.selector
        && !sel.is_empty()
    {
        spec.insert("selector".into(), labels_value(sel));
    }
    if svc.publish_not_ready_addresses {
        spec.insert("publishNotReadyAddresses".into(), true.into());
    }
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": spec,
        "status": {"loadBalancer": {}},
    })
}

// ---------------------------------------------------------------------------------------
// EndpointSlices

fn slice_service<'a>(state: &'a LabState, slice: &EndpointSliceState) -> Option<&'a ServiceState> {
    state
        .services
        .iter()
        .find(|s| s.namespace == slice.namespace && s.name == slice.service)
}

/// A slice is as old as its service (the lab, if the service is gone).
fn slice_created(state: &LabState, slice: &EndpointSliceState) -> Timestamp {
    slice_service(state, slice).map_or(state.created, |s| s.created)
}

/// kubectl's `listWithMoreString`: at most 3 items, then ` + N more...`; `<unset>` when
/// empty.
fn list_with_more(items: Vec<String>, count: usize) -> String {
    const MAX: usize = 3;
    let more = count > MAX;
    let shown: Vec<String> = items.into_iter().take(MAX).collect();
    let ret = shown.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else if ret.is_empty() {
        "<unset>".to_string()
    } else {
        ret
    }
}

/// `kubectl get endpointslices`: `NAME ADDRESSTYPE PORTS ENDPOINTS AGE` (`-o wide` adds
/// nothing), `-A` puts `NAMESPACE` first.
pub fn endpointslices(
    state: &LabState,
    slices: &[&EndpointSliceState],
    all_namespaces: bool,
    format: Format,
    now: Timestamp,
) -> String {
    match format {
        Format::Table | Format::Wide => {
            let mut header = vec!["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"];
            if all_namespaces {
                header.insert(0, "NAMESPACE");
            }
            let mut t = Table::new(header);
            for s in slices {
                let ports: Vec<String> = s.ports.iter().map(|p| p.port.to_string()).collect();
                let n_ports = ports.len();
                let addrs: Vec<String> = s.endpoints.iter().map(|e| e.address.to_string()).collect();
                let n_addrs = addrs.len();
                let mut row = vec![
                    s.name.clone(),
                    "IPv4".to_string(),
                    list_with_more(ports, n_ports),
                    list_with_more(addrs, n_addrs),
                    age(slice_created(state, s), now),
                ];
                if all_namespaces {
                    row.insert(0, s.namespace.clone());
                }
                t.row(row);
            }
            table_or_empty(t)
        }
        _ => render_objects(slices.iter().map(|s| endpointslice_object(state, s)).collect(), format),
    }
}

/// An EndpointSlice as `kubectl get endpointslice <name> -o json` shows it: labels
/// `kubernetes.io/service-name`, `endpointslice.kubernetes.io/managed-by` (plus the
/// service's labels and `service.kubernetes.io/headless` as the controller adds them),
/// owned by its Service; endpoints with conditions, `hostname` only when set, `nodeName`
/// and a `targetRef` to the pod; ports named `""` when the service port has no name.
pub fn endpointslice_object(state: &LabState, slice: &EndpointSliceState) -> Value {
    let svc = slice_service(state, slice);
    let mut labels = svc.map(|s| labels_value(&s.labels)).unwrap_or_else(|| json!({}));
    labels["kubernetes.io/service-name"] = slice.service.clone().into();
    labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io".into();
    if svc.is_some_and(ServiceState::is_headless) {
        labels["service.kubernetes.io/headless"] = "".into();
    }
    let mut metadata = json!({
        "name": slice.name,
        "namespace": slice.namespace,
        "generateName": format!("{}-", slice.service),
        "labels": labels,
        "creationTimestamp": slice_created(state, slice),
    });
    if let Some(s) = svc {
        metadata["ownerReferences"] = json!([{
            "apiVersion": "v1",
            "kind": "Service",
            "name": s.name,
            "uid": s.uid,
            "controller": true,
            "blockOwnerDeletion": true,
        }]);
    }
    let endpoints: Vec<Value> = slice
        .endpoints
        .iter()
        .map(|e| {
            let mut v = json!({
                "addresses": [e.address.to_string()],
                "conditions": {"ready": e.ready, "serving": e.ready, "terminating": false},
            });
            if !e.node_name.is_empty() {
                v["nodeName"] = e.node_name.clone().into();
            }
            if let Some(h) = &e.hostname {
                v["hostname"] = h.clone().into();
            }
            if !e.pod_name.is_empty() {
                let mut target = json!({
                    "kind": "Pod",
                    "name": e.pod_name,
                    "namespace": slice.namespace,
                });
                if let Some(p) = state.pod(&slice.namespace, &e.pod_name) {
                    target["uid"] = p.uid.clone().into();
                }
                v["targetRef"] = target;
            }
            v
        })
        .collect();
    let ports: Vec<Value> = slice
        .ports
        .iter()
        .map(|p| {
            json!({
                "name": p.name.clone().unwrap_or_default(),
                "port": p.port,
                "protocol": p.protocol.as_str(),
            })
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": metadata,
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    })
}

// ---------------------------------------------------------------------------------------
// Workloads (Deployments, StatefulSets, DaemonSets)

/// `kubectl get deployments|statefulsets|daemonsets` for workloads of one `kind` (items
/// of other kinds are skipped):
/// - Deployment: `NAME READY UP-TO-DATE AVAILABLE AGE`, wide adds `CONTAINERS IMAGES SELECTOR`;
/// - StatefulSet: `NAME READY AGE`, wide adds `CONTAINERS IMAGES`;
/// - DaemonSet: `NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE`, wide
///   adds `CONTAINERS IMAGES SELECTOR`.
///
/// Counts come from the pods the workload owns. Workloads are as old as the lab (the
/// state keeps no creation time for them).
pub fn workloads(
    state: &LabState,
    kind: WorkloadKind,
    items: &[&WorkloadState],
    all_namespaces: bool,
    format: Format,
    now: Timestamp,
) -> String {
    let items: Vec<&WorkloadState> = items.iter().copied().filter(|w| w.kind == kind).collect();
    match format {
        Format::Table | Format::Wide => {
            let wide = format == Format::Wide;
            let mut header: Vec<&str> = match kind {
                WorkloadKind::Deployment => vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                WorkloadKind::StatefulSet => vec!["NAME", "READY", "AGE"],
                WorkloadKind::DaemonSet => vec![
                    "NAME",
                    "DESIRED",
                    "CURRENT",
                    "READY",
                    "UP-TO-DATE",
                    "AVAILABLE",
                    "NODE SELECTOR",
                    "AGE",
                ],
            };
            if wide {
                header.extend(["CONTAINERS", "IMAGES"]);
                if kind != WorkloadKind::StatefulSet {
                    header.push("SELECTOR");
                }
            }
            if all_namespaces {
                header.insert(0, "NAMESPACE");
            }
            let mut t = Table::new(header);
            for w in items {
                let pods: Vec<&PodState> = state.pods_of(w).collect();
                let (current, ready) = (pods.len(), pods.iter().filter(|p| p.ready).count());
                let age = age(state.created, now);
                let mut row = vec![w.name.clone()];
                match kind {
                    WorkloadKind::Deployment => row.extend([
                        format!("{ready}/{}", w.replicas),
                        current.to_string(),
                        ready.to_string(),
                        age,
                    ]),
                    WorkloadKind::StatefulSet => row.extend([format!("{ready}/{}", w.replicas), age]),
                    WorkloadKind::DaemonSet => row.extend([
                        current.to_string(),
                        current.to_string(),
                        ready.to_string(),
                        current.to_string(),
                        ready.to_string(),
                        "<none>".to_string(),
                        age,
                    ]),
                }
                if wide {
                    let names: Vec<&str> = w.template.containers.iter().map(|c| c.name.as_str()).collect();
                    let images: Vec<&str> = w.template.containers.iter().map(|c| c.image.as_str()).collect();
                    row.extend([names.join(","), images.join(",")]);
                    if kind != WorkloadKind::StatefulSet {
                        row.push(format_labels(Some(&w.selector)));
                    }
                }
                if all_namespaces {
                    row.insert(0, w.namespace.clone());
                }
                t.row(row);
            }
            table_or_empty(t)
        }
        _ => render_objects(items.iter().map(|w| workload_object(state, w)).collect(), format),
    }
}

/// Inserts `value` under `key` unless it is 0 (Go's `omitempty` on an int32).
fn insert_nonzero(v: &mut Value, key: &str, value: usize) {
    if value > 0 {
        v[key] = value.into();
    }
}

/// A Deployment, StatefulSet or DaemonSet as `kubectl get <kind> <name> -o json` shows
/// it: metadata, spec (replicas, selector, serviceName, pod template) and a status
/// counted from the pods it owns.
pub fn workload_object(state: &LabState, w: &WorkloadState) -> Value {
    let mut metadata = json!({
        "name": w.name,
        "namespace": w.namespace,
        "uid": w.uid,
        "generation": 1,
        "creationTimestamp": state.created,
    });
    if !w.labels.is_empty() {
        metadata["labels"] = labels_value(&w.labels);
    }
    let t = &w.template;
    let mut pod_spec = json!({
        "containers": t.containers.iter().map(container_value).collect::<Vec<_>>(),
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": t.restart_policy.as_str(),
    });
    if !t.init_containers.is_empty() {
        pod_spec["initContainers"] = t.init_containers.iter().map(container_value).collect();
    }
    if let Some(h) = &t.hostname {
        pod_spec["hostname"] = h.clone().into();
    }
    if let Some(s) = &t.subdomain {
        pod_spec["subdomain"] = s.clone().into();
    }
    let mut template_meta = json!({});
    if !t.labels.is_empty() {
        template_meta["labels"] = labels_value(&t.labels);
    }
    let mut spec = json!({
        "selector": {"matchLabels": labels_value(&w.selector)},
        "template": {"metadata": template_meta, "spec": pod_spec},
    });
    if w.kind != WorkloadKind::DaemonSet {
        spec["replicas"] = w.replicas.into();
    }
    if let Some(svc) = &w.service_name {
        spec["serviceName"] = svc.clone().into();
    }

    let pods: Vec<&PodState> = state.pods_of(w).collect();
    let (current, ready) = (pods.len(), pods.iter().filter(|p| p.ready).count());
    let mut status = json!({"observedGeneration": 1});
    match w.kind {
        WorkloadKind::Deployment => {
            for key in ["replicas", "updatedReplicas"] {
                insert_nonzero(&mut status, key, current);
            }
            for key in ["readyReplicas", "availableReplicas"] {
                insert_nonzero(&mut status, key, ready);
            }
        }
        WorkloadKind::StatefulSet => {
            status["replicas"] = current.into();
            status["availableReplicas"] = ready.into();
            for key in ["currentReplicas", "updatedReplicas"] {
                insert_nonzero(&mut status, key, current);
            }
            insert_nonzero(&mut status, "readyReplicas", ready);
        }
        WorkloadKind::DaemonSet => {
            status["currentNumberScheduled"] = current.into();
            status["desiredNumberScheduled"] = current.into();
            status["numberMisscheduled"] = 0.into();
            status["numberReady"] = ready.into();
            insert_nonzero(&mut status, "updatedNumberScheduled", current);
            insert_nonzero(&mut status, "numberAvailable", ready);
        }
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": w.kind.as_str(),
        "metadata": metadata,
        "spec": spec,
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture::{self, CP, W1, W2};
    use crate::output::table::tests::assert_aligned;

    fn all_pods(state: &LabState) -> Vec<&PodState> {
        let mut v: Vec<&PodState> = state.pods.iter().collect();
        sort_like_api(&mut v);
        v
    }

    fn all_services(state: &LabState) -> Vec<&ServiceState> {
        let mut v: Vec<&ServiceState> = state.services.iter().collect();
        sort_like_api(&mut v);
        v
    }

    fn all_slices(state: &LabState) -> Vec<&EndpointSliceState> {
        let mut v: Vec<&EndpointSliceState> = state.endpoint_slices.iter().collect();
        sort_like_api(&mut v);
        v
    }

    /// The cells of a table line (columns are separated by 3+ spaces; no cell in these
    /// tables contains 3 spaces).
    fn cells(line: &str) -> Vec<String> {
        line.split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn row<'a>(table: &'a str, name: &str) -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("no row {name} in\n{table}"));
        let _: &'a str = line;
        cells(line)
    }

    fn yaml_round_trip(yaml: &str) -> Value {
        serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("bad YAML: {e}\n{yaml}"))
    }

    #[test]
    fn format_parses_kubectl_names() {
        assert_eq!("".parse(), Ok(Format::Table));
        assert_eq!("wide".parse(), Ok(Format::Wide));
        assert_eq!("yaml".parse(), Ok(Format::Yaml));
        assert_eq!("json".parse(), Ok(Format::Json));
        assert_eq!("name".parse(), Ok(Format::Name));
        let err = "jsonpath".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("\"jsonpath\""), "{err}");
    }

    #[test]
    fn pods_table_matches_the_seed() {
        let state = fixture::lab();
        let out = pods(&state, &all_pods(&state), false, Format::Table, fixture::now());
        assert_aligned(&out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(cells(lines[0]), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        assert_eq!(lines.len(), 9);
        assert_eq!(row(&out, "redis-0"), ["redis-0", "1/1", "Running", "0", "5m"]);
        // API order: by name.
        let names: Vec<String> = lines[1..].iter().map(|l| cells(l)[0].clone()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        // The seed's line, cell for cell and offset for offset.
        assert_eq!(
            lines[4],
            "nginx-deployment-55d7bb4b86-vg4lt   1/1     Running   0          5m"
        );
    }

    #[test]
    fn pods_wide_adds_ip_node_and_none_columns() {
        let state = fixture::lab();
        let out = pods(&state, &all_pods(&state), false, Format::Wide, fixture::now());
        assert_aligned(&out);
        let header = out.lines().next().unwrap();
        assert!(header.contains("IP"));
        assert!(header.ends_with("NOMINATED NODE   READINESS GATES"), "{header}");
        assert_eq!(
            row(&out, "redis-2"),
            [
                "redis-2",
                "1/1",
                "Running",
                "0",
                "5m",
                "192.168.145.10",
                CP,
                "<none>",
                "<none>"
            ]
        );
        assert_eq!(row(&out, "redis-1")[6], W2);
        // Seed spacing: NODE column padded to the longest node name + 3.
        let line = out.lines().find(|l| l.starts_with("redis-1 ")).unwrap();
        assert!(
            line.contains(&format!("{W2}         <none>           <none>")),
            "{line}"
        );
    }

    #[test]
    fn pods_not_ready_and_restarts() {
        let mut state = fixture::lab();
        state.pods[0].ready = false;
        state.pods[0].phase = PodPhase::Pending;
        state.pods[0].restarts = 3;
        let p = &state.pods[0];
        let out = pods(&state, &[p], false, Format::Table, fixture::now());
        assert_eq!(row(&out, &p.name)[1..4], ["0/1", "Pending", "3"]);
    }

    #[test]
    fn all_namespaces_puts_namespace_first() {
        let mut state = fixture::lab();
        state.pods.push(fixture::coredns_pod());
        let list = all_pods(&state);
        let out = pods(&state, &list, true, Format::Wide, fixture::now());
        assert_aligned(&out);
        assert_eq!(cells(out.lines().next().unwrap())[0..2], ["NAMESPACE", "NAME"]);
        // kube-system sorts after default.
        let last = cells(out.lines().last().unwrap());
        assert_eq!(last[0..2], ["kube-system", "coredns-5d78c9869d-4xkqz"]);
        assert_eq!(row(&out, "redis-0")[0], "default");

        let svcs = all_services(&state);
        let out = services(&state, &svcs, true, Format::Table, fixture::now());
        assert_eq!(cells(out.lines().next().unwrap())[0], "NAMESPACE");
        let slices = all_slices(&state);
        let out = endpointslices(&state, &slices, true, Format::Table, fixture::now());
        assert_eq!(cells(out.lines().next().unwrap())[0], "NAMESPACE");
        assert_aligned(&out);
    }

    #[test]
    fn empty_lists() {
        let state = fixture::lab();
        assert_eq!(pods(&state, &[], false, Format::Table, fixture::now()), "");
        assert_eq!(pods(&state, &[], false, Format::Name, fixture::now()), "");
        let v: Value = serde_json::from_str(&pods(&state, &[], false, Format::Json, fixture::now())).unwrap();
        assert_eq!(v, list(vec![]));
        assert_eq!(
            no_resources(Some("kube-system")),
            "No resources found in kube-system namespace."
        );
        assert_eq!(no_resources(None), "No resources found");
    }

    #[test]
    fn name_format() {
        let state = fixture::lab();
        let out = pods(&state, &all_pods(&state), false, Format::Name, fixture::now());
        assert!(out.lines().all(|l| l.starts_with("pod/")));
        assert!(out.contains("pod/redis-0\n"));
        let out = services(&state, &all_services(&state), false, Format::Name, fixture::now());
        assert_eq!(out.lines().next(), Some("service/kubernetes"));
        let out = endpointslices(&state, &all_slices(&state), false, Format::Name, fixture::now());
        assert!(out.contains("endpointslice.discovery.k8s.io/redis-headless-abc12\n"));
        let out = nodes(&state, Format::Name, "6.8.0", fixture::now());
        assert_eq!(out, format!("node/{CP}\nnode/{W1}\nnode/{W2}\n"));
        let one = render_value(&pod_object(&state, &state.pods[5]), Format::Name);
        assert_eq!(one, "pod/redis-0\n");
    }

    #[test]
    fn nodes_table_and_wide() {
        let state = fixture::lab();
        let out = nodes(&state, Format::Table, "6.8.0-45-generic", fixture::now());
        assert_aligned(&out);
        assert_eq!(row(&out, CP), [CP, "Ready", "control-plane", "10m", KUBELET_VERSION]);
        assert_eq!(row(&out, W1), [W1, "Ready", "<none>", "10m", KUBELET_VERSION]);
        let wide = nodes(&state, Format::Wide, "6.8.0-45-generic", fixture::now());
        assert_aligned(&wide);
        assert_eq!(
            cells(wide.lines().next().unwrap()),
            [
                "NAME",
                "STATUS",
                "ROLES",
                "AGE",
                "VERSION",
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME"
            ]
        );
        let r = row(&wide, W2);
        assert_eq!(r[5..9], ["172.18.0.4", "<none>", OS_IMAGE, "6.8.0-45-generic"]);
        assert!(r[9].starts_with("labctl://"));
    }

    #[test]
    fn services_table_matches_the_seed() {
        let state = fixture::lab();
        let out = services(&state, &all_services(&state), false, Format::Table, fixture::now());
        assert_aligned(&out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            cells(lines[0]),
            ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
        );
        assert_eq!(
            row(&out, "kubernetes"),
            ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "10m"]
        );
        assert_eq!(
            row(&out, "nginx-clusterip"),
            ["nginx-clusterip", "ClusterIP", "10.96.204.67", "<none>", "80/TCP", "5m"]
        );
        assert_eq!(
            row(&out, "redis-headless"),
            ["redis-headless", "ClusterIP", "None", "<none>", "6379/TCP", "5m"]
        );
        assert_eq!(
            lines[3],
            "nginx-headless    ClusterIP   None           <none>        80/TCP     5m"
        );
    }

    #[test]
    fn services_wide_ports_and_special_types() {
        let mut state = fixture::lab();
        let mut dns = state.services[0].clone();
        dns.name = "kube-dns".to_string();
        dns.namespace = "kube-system".to_string();
        dns.cluster_ip = Some([10, 96, 0, 10].into());
        dns.selector = Some(fixture::labels(&[("k8s-app", "kube-dns")]));
        dns.ports = [
            (53, crate::spec::Protocol::Udp),
            (53, crate::spec::Protocol::Tcp),
            (9153, crate::spec::Protocol::Tcp),
        ]
        .into_iter()
        .map(|(port, protocol)| crate::cluster::state::ServicePortState {
            name: None,
            port,
            target_port: IntOrString::Int(port),
            protocol,
            node_port: None,
        })
        .collect();
        let mut ext = state.services[1].clone();
        ext.name = "search".to_string();
        ext.service_type = ServiceType::ExternalName;
        ext.cluster_ip = None;
        ext.selector = None;
        ext.external_name = Some("example.com".to_string());
        ext.ports.clear();
        let mut np = state.services[1].clone();
        np.name = "web".to_string();
        np.service_type = ServiceType::NodePort;
        np.ports[0].node_port = Some(30080);
        np.selector = Some(fixture::labels(&[("app", "nginx"), ("tier", "web")]));
        state.services.extend([dns, ext, np]);

        let svcs = all_services(&state);
        let out = services(&state, &svcs, true, Format::Wide, fixture::now());
        assert_aligned(&out);
        assert_eq!(cells(out.lines().next().unwrap()).last().unwrap(), "SELECTOR");
        assert_eq!(
            row(&out, "kube-dns")[3..],
            [
                "10.96.0.10",
                "<none>",
                "53/UDP,53/TCP,9153/TCP",
                "10m",
                "k8s-app=kube-dns"
            ]
        );
        assert_eq!(
            row(&out, "search")[2..7],
            ["ExternalName", "<none>", "example.com", "<none>", "5m"]
        );
        assert_eq!(row(&out, "search")[7], "<none>");
        assert_eq!(row(&out, "web")[5], "80:30080/TCP");
        assert_eq!(row(&out, "web")[7], "app=nginx,tier=web");
        assert_eq!(row(&out, "kubernetes")[7], "<none>");

        let ext_obj = service_object(state.services.iter().find(|s| s.name == "search").unwrap());
        assert_eq!(ext_obj["spec"]["externalName"], "example.com");
        assert!(ext_obj["spec"].get("clusterIP").is_none());
        let np_obj = service_object(state.services.iter().find(|s| s.name == "web").unwrap());
        assert_eq!(np_obj["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(np_obj["spec"]["externalTrafficPolicy"], "Cluster");
    }

    #[test]
    fn endpointslices_table() {
        let mut state = fixture::lab();
        // A slice with more than 3 endpoints and one with none.
        let mut big = state.endpoint_slices[3].clone();
        big.name = "big-1".to_string();
        big.endpoints.extend(state.endpoint_slices[1].endpoints.clone());
        let mut empty = state.endpoint_slices[3].clone();
        empty.name = "empty-1".to_string();
        empty.endpoints.clear();
        empty.ports.clear();
        state.endpoint_slices.extend([big, empty]);
        let slices = all_slices(&state);
        let out = endpointslices(&state, &slices, false, Format::Table, fixture::now());
        assert_aligned(&out);
        assert_eq!(
            cells(out.lines().next().unwrap()),
            ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
        );
        assert_eq!(
            row(&out, "redis-headless-abc12"),
            [
                "redis-headless-abc12",
                "IPv4",
                "6379",
                "192.168.202.195,192.168.156.4,192.168.145.10",
                "5m"
            ]
        );
        assert_eq!(row(&out, "kubernetes")[3..], ["172.18.0.3", "10m"]);
        assert_eq!(
            row(&out, "big-1")[3],
            "192.168.202.195,192.168.156.4,192.168.145.10 + 2 more..."
        );
        assert_eq!(row(&out, "empty-1")[2..4], ["<unset>", "<unset>"]);
    }

    #[test]
    fn list_shape_and_json_indent() {
        let state = fixture::lab();
        let out = pods(&state, &all_pods(&state), false, Format::Json, fixture::now());
        assert!(out.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n"));
        assert!(
            out.ends_with(
                "    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"
            )
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["kind"], "List");
        assert_eq!(v["metadata"], json!({"resourceVersion": ""}));
        assert_eq!(v["items"].as_array().unwrap().len(), 8);
        assert!(v["items"].as_array().unwrap().iter().all(|i| i["kind"] == "Pod"));
    }

    #[test]
    fn yaml_round_trips_to_the_json_output() {
        let state = fixture::lab();
        let now = fixture::now();
        let outputs = [
            (
                pods(&state, &all_pods(&state), false, Format::Yaml, now),
                pods(&state, &all_pods(&state), false, Format::Json, now),
            ),
            (
                nodes(&state, Format::Yaml, "6.8.0", now),
                nodes(&state, Format::Json, "6.8.0", now),
            ),
            (
                services(&state, &all_services(&state), false, Format::Yaml, now),
                services(&state, &all_services(&state), false, Format::Json, now),
            ),
            (
                endpointslices(&state, &all_slices(&state), false, Format::Yaml, now),
                endpointslices(&state, &all_slices(&state), false, Format::Json, now),
            ),
        ];
        for (yaml, json) in outputs {
            let from_json: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(yaml_round_trip(&yaml), from_json, "YAML:\n{yaml}");
            assert!(yaml.starts_with("apiVersion: v1\nitems:\n- "), "{yaml}");
            assert!(yaml.ends_with("kind: List\nmetadata:\n  resourceVersion: \"\"\n"));
        }
    }

    #[test]
    fn single_object_is_not_a_list() {
        let state = fixture::lab();
        let redis0 = state.pod("default", "redis-0").unwrap();
        let yaml = render_value(&pod_object(&state, redis0), Format::Yaml);
        assert!(yaml.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n"), "{yaml}");
        let json = render_value(&pod_object(&state, redis0), Format::Json);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["kind"], "Pod");
        assert_eq!(yaml_round_trip(&yaml), v);
    }

    #[test]
    fn pod_object_fields() {
        let state = fixture::lab();
        let p = pod_object(&state, state.pod("default", "redis-0").unwrap());
        assert_eq!(p["metadata"]["name"], "redis-0");
        assert_eq!(p["metadata"]["namespace"], "default");
        assert_eq!(p["metadata"]["uid"], "uid-pod-redis-0");
        assert_eq!(p["metadata"]["labels"]["app"], "redis");
        assert_eq!(p["metadata"]["creationTimestamp"], fixture::PODS_CREATED);
        assert_eq!(
            p["metadata"]["ownerReferences"],
            json!([{
                "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "redis",
                "uid": "uid-statefulset-redis", "controller": true, "blockOwnerDeletion": true
            }])
        );
        assert!(p["metadata"].get("generateName").is_none());
        assert_eq!(p["spec"]["nodeName"], W1);
        assert_eq!(p["spec"]["hostname"], "redis-0");
        assert_eq!(p["spec"]["subdomain"], "redis-headless");
        let c = &p["spec"]["containers"][0];
        assert_eq!(c["name"], "redis");
        assert_eq!(c["image"], "redis:7.2");
        assert_eq!(c["command"], json!(["sh", "-c"]));
        assert_eq!(c["args"], json!([fixture::REDIS_SCRIPT]));
        assert_eq!(c["env"], json!([{"name": "REDIS_PORT", "value": "6379"}]));
        assert_eq!(
            c["ports"],
            json!([{"containerPort": 6379, "name": "redis", "protocol": "TCP"}])
        );
        assert_eq!(p["spec"]["initContainers"][0]["name"], "wait-for-master");
        let st = &p["status"];
        assert_eq!(st["phase"], "Running");
        assert_eq!(st["podIP"], "192.168.202.195");
        assert_eq!(st["podIPs"], json!([{"ip": "192.168.202.195"}]));
        assert_eq!(st["hostIP"], "172.18.0.2");
        assert_eq!(st["startTime"], fixture::PODS_CREATED);
        let conds: Vec<(&str, &str)> = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["type"].as_str().unwrap(), c["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            conds,
            [
                ("Initialized", "True"),
                ("Ready", "True"),
                ("ContainersReady", "True"),
                ("PodScheduled", "True")
            ]
        );
        // Multi-line args become a literal block; condition statuses are quoted.
        let yaml = render_value(&p, Format::Yaml);
        assert!(
            yaml.contains("  - args:\n    - |\n      if [ \"$(hostname)\" = \"redis-0\" ]; then\n"),
            "{yaml}"
        );
        assert!(yaml.contains("    status: \"True\"\n    type: Ready\n"), "{yaml}");
        assert!(
            yaml.contains("  creationTimestamp: \"2026-11-23T11:19:25Z\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  podIP: 192.168.202.195\n"), "{yaml}");

        // Not ready: Ready/ContainersReady False.
        let mut state2 = fixture::lab();
        state2.pods[5].ready = false;
        let p = pod_object(&state2, &state2.pods[5]);
        assert_eq!(p["status"]["conditions"][1]["status"], "False");
        assert_eq!(p["status"]["conditions"][2]["status"], "False");
        assert_eq!(p["status"]["conditions"][3]["status"], "True");
    }

    #[test]
    fn deployment_pods_are_owned_by_their_replicaset() {
        let state = fixture::lab();
        let p = pod_object(
            &state,
            state.pod("default", "nginx-deployment-55d7bb4b86-vg4lt").unwrap(),
        );
        let owner = &p["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ReplicaSet");
        assert_eq!(owner["apiVersion"], "apps/v1");
        assert_eq!(owner["name"], "nginx-deployment-55d7bb4b86");
        assert_eq!(owner["controller"], true);
        assert_eq!(owner["blockOwnerDeletion"], true);
        assert_eq!(p["metadata"]["generateName"], "nginx-deployment-55d7bb4b86-");
        assert!(p["spec"].get("hostname").is_none());
        assert!(p["spec"].get("subdomain").is_none());
        assert_eq!(
            p["spec"]["containers"][0]["readinessProbe"]["httpGet"],
            json!({"path": "/", "port": 80, "scheme": "HTTP"})
        );

        // An owner recorded as the Deployment itself: the ReplicaSet name comes from the
        // template hash, or without the workload in the state, from the pod name.
        let mut state = fixture::lab();
        for p in &mut state.pods {
            if p.name.starts_with("nginx-") {
                p.owner = Some(crate::cluster::state::OwnerRef {
                    kind: OwnerKind::Deployment,
                    name: "nginx-deployment".to_string(),
                });
            }
        }
        let p = pod_object(
            &state,
            state.pod("default", "nginx-deployment-55d7bb4b86-xqh9d").unwrap(),
        );
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["name"],
            "nginx-deployment-55d7bb4b86"
        );
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        state.workloads.clear();
        let p = pod_object(
            &state,
            state.pod("default", "nginx-deployment-55d7bb4b86-xqh9d").unwrap(),
        );
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["name"],
            "nginx-deployment-55d7bb4b86"
        );
        assert!(p["metadata"]["ownerReferences"][0].get("uid").is_none());

        let ds = pod_object(&state, state.pod("default", "multitool-8h2js").unwrap());
        assert_eq!(ds["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
        assert_eq!(ds["metadata"]["generateName"], "multitool-");
    }

    #[test]
    fn node_objects() {
        let state = fixture::lab();
        let cp = node_object(&state, &state.nodes[0], "6.8.0");
        assert_eq!(cp["kind"], "Node");
        assert_eq!(cp["metadata"]["labels"]["kubernetes.io/hostname"], CP);
        assert_eq!(cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"], "");
        assert_eq!(cp["spec"]["podCIDR"], "192.168.145.0/26");
        assert_eq!(
            cp["status"]["addresses"],
            json!([
                {"type": "InternalIP", "address": "172.18.0.3"},
                {"type": "Hostname", "address": CP}
            ])
        );
        assert_eq!(cp["status"]["conditions"][0]["type"], "Ready");
        assert_eq!(cp["status"]["conditions"][0]["status"], "True");
        assert_eq!(cp["status"]["nodeInfo"]["kernelVersion"], "6.8.0");
        let w = node_object(&state, &state.nodes[1], "6.8.0");
        assert!(
            w["metadata"]["labels"]
                .get("node-role.kubernetes.io/control-plane")
                .is_none()
        );
        let yaml = render_value(&cp, Format::Yaml);
        assert!(
            yaml.contains("    node-role.kubernetes.io/control-plane: \"\"\n"),
            "{yaml}"
        );
    }

    #[test]
    fn service_objects() {
        let state = fixture::lab();
        let find = |n: &str| state.services.iter().find(|s| s.name == n).unwrap();
        let headless = service_object(find("redis-headless"));
        assert_eq!(headless["spec"]["clusterIP"], "None");
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(headless["spec"]["type"], "ClusterIP");
        assert_eq!(headless["spec"]["selector"], json!({"app": "redis"}));
        assert_eq!(headless["spec"]["sessionAffinity"], "None");
        assert_eq!(
            headless["spec"]["ports"],
            json!([{"name": "redis", "port": 6379, "protocol": "TCP", "targetPort": "redis"}])
        );
        assert!(headless["spec"].get("publishNotReadyAddresses").is_none());
        let vip = service_object(find("nginx-clusterip"));
        assert_eq!(vip["spec"]["clusterIP"], "10.96.204.67");
        assert_eq!(vip["spec"]["ports"][0]["targetPort"], 80);
        let k = service_object(find("kubernetes"));
        assert!(k["spec"].get("selector").is_none());
        assert_eq!(k["metadata"]["labels"]["provider"], "kubernetes");

        let mut pna = find("redis-headless").clone();
        pna.publish_not_ready_addresses = true;
        pna.session_affinity_client_ip = true;
        let v = service_object(&pna);
        assert_eq!(v["spec"]["publishNotReadyAddresses"], true);
        assert_eq!(v["spec"]["sessionAffinity"], "ClientIP");
        assert_eq!(v["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"], 10800);
    }

    #[test]
    fn endpointslice_objects_match_the_seed() {
        let state = fixture::lab();
        let s = endpointslice_object(&state, &state.endpoint_slices[3]);
        assert_eq!(s["apiVersion"], "discovery.k8s.io/v1");
        assert_eq!(s["kind"], "EndpointSlice");
        assert_eq!(s["metadata"]["name"], "redis-headless-abc12");
        assert_eq!(s["metadata"]["labels"]["kubernetes.io/service-name"], "redis-headless");
        assert_eq!(
            s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
            "endpointslice-controller.k8s.io"
        );
        assert_eq!(s["metadata"]["labels"]["service.kubernetes.io/headless"], "");
        assert_eq!(s["metadata"]["ownerReferences"][0]["kind"], "Service");
        assert_eq!(s["addressType"], "IPv4");
        assert_eq!(
            s["endpoints"][0],
            json!({
                "addresses": ["192.168.202.195"],
                "conditions": {"ready": true, "serving": true, "terminating": false},
                "hostname": "redis-0",
                "nodeName": W1,
                "targetRef": {"kind": "Pod", "name": "redis-0", "namespace": "default",
                              "uid": "uid-pod-redis-0"},
            })
        );
        assert_eq!(s["ports"], json!([{"name": "redis", "port": 6379, "protocol": "TCP"}]));
        // Deployment endpoints carry no hostname.
        let n = endpointslice_object(&state, &state.endpoint_slices[2]);
        assert!(
            n["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e.get("hostname").is_none())
        );
        // The seed's YAML layout.
        let yaml = render_value(&s, Format::Yaml);
        assert!(
            yaml.contains(
                "endpoints:\n- addresses:\n  - 192.168.202.195\n  conditions:\n    ready: true\n    serving: true\n    terminating: false\n  hostname: redis-0\n  nodeName: headless-services-worker\n  targetRef:\n    kind: Pod\n    name: redis-0\n"
            ),
            "{yaml}"
        );
        assert!(
            yaml.contains("ports:\n- name: redis\n  port: 6379\n  protocol: TCP\n"),
            "{yaml}"
        );
        // An unnamed port is named "".
        let mut unnamed = state.endpoint_slices[1].clone();
        unnamed.ports[0].name = None;
        assert_eq!(endpointslice_object(&state, &unnamed)["ports"][0]["name"], "");
        // The kubernetes slice has no pod behind it.
        let k = endpointslice_object(&state, &state.endpoint_slices[0]);
        assert!(k["endpoints"][0].get("targetRef").is_none());
    }

    #[test]
    fn statefulset_table_matches_the_seed() {
        let state = fixture::lab();
        let all: Vec<&WorkloadState> = state.workloads.iter().collect();
        let out = workloads(
            &state,
            WorkloadKind::StatefulSet,
            &all,
            false,
            Format::Table,
            fixture::now(),
        );
        assert_aligned(&out);
        // The seed: `kubectl get statefulset` -> `redis   3/3   5m` (here the lab's age).
        assert_eq!(out, "NAME    READY   AGE\nredis   3/3     10m\n");
        let wide = workloads(
            &state,
            WorkloadKind::StatefulSet,
            &all,
            true,
            Format::Wide,
            fixture::now(),
        );
        assert_aligned(&wide);
        assert_eq!(
            row(&wide, "redis"),
            ["default", "redis", "3/3", "10m", "redis", "redis:7.2"]
        );
    }

    #[test]
    fn deployment_and_daemonset_tables() {
        let mut state = fixture::lab();
        state.pods[3].ready = false; // nginx-deployment-55d7bb4b86-vg4lt
        let all: Vec<&WorkloadState> = state.workloads.iter().collect();
        let out = workloads(
            &state,
            WorkloadKind::Deployment,
            &all,
            false,
            Format::Wide,
            fixture::now(),
        );
        assert_aligned(&out);
        assert_eq!(
            cells(out.lines().next().unwrap()),
            [
                "NAME",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "AGE",
                "CONTAINERS",
                "IMAGES",
                "SELECTOR"
            ]
        );
        assert_eq!(
            row(&out, "nginx-deployment"),
            [
                "nginx-deployment",
                "1/2",
                "2",
                "1",
                "10m",
                "nginx",
                "nginx:1.25",
                "app=nginx"
            ]
        );
        let out = workloads(
            &state,
            WorkloadKind::DaemonSet,
            &all,
            false,
            Format::Table,
            fixture::now(),
        );
        assert_aligned(&out);
        assert_eq!(
            row(&out, "multitool"),
            ["multitool", "3", "3", "3", "3", "3", "<none>", "10m"]
        );
        let names = workloads(
            &state,
            WorkloadKind::DaemonSet,
            &all,
            false,
            Format::Name,
            fixture::now(),
        );
        assert_eq!(names, "daemonset.apps/multitool\n");
    }

    #[test]
    fn workload_objects() {
        let state = fixture::lab();
        let sts = workload_object(&state, &state.workloads[2]);
        assert_eq!(sts["apiVersion"], "apps/v1");
        assert_eq!(sts["kind"], "StatefulSet");
        assert_eq!(sts["spec"]["replicas"], 3);
        assert_eq!(sts["spec"]["serviceName"], "redis-headless");
        assert_eq!(sts["spec"]["selector"], json!({"matchLabels": {"app": "redis"}}));
        assert_eq!(sts["spec"]["template"]["metadata"]["labels"]["app"], "redis");
        assert_eq!(sts["spec"]["template"]["spec"]["containers"][0]["image"], "redis:7.2");
        assert_eq!(sts["status"]["readyReplicas"], 3);
        let ds = workload_object(&state, &state.workloads[0]);
        assert!(ds["spec"].get("replicas").is_none());
        assert_eq!(ds["status"]["numberReady"], 3);
        let all: Vec<&WorkloadState> = state.workloads.iter().collect();
        let yaml = workloads(
            &state,
            WorkloadKind::Deployment,
            &all,
            false,
            Format::Yaml,
            fixture::now(),
        );
        let json = workloads(
            &state,
            WorkloadKind::Deployment,
            &all,
            false,
            Format::Json,
            fixture::now(),
        );
        assert_eq!(yaml_round_trip(&yaml), serde_json::from_str::<Value>(&json).unwrap());
        assert_eq!(state.pods_of(&state.workloads[1]).count(), 2);
    }
}
