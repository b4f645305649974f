//! Pods: `kubectl get pods` and the Pod object.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Column, Context, Resource, columns, none_if_empty, object_meta};
use crate::cluster::state::{ContainerState, LabState, OwnerKind, PodPhase, PodState, WorkloadKind};
use crate::output::time::age;
use crate::spec::{IntOrString, Probe, ProbeAction};

/// `kubectl get pods`: `NAME READY STATUS RESTARTS AGE`, `-o wide` adds `IP NODE
/// NOMINATED NODE READINESS GATES`. READY counts the app containers (all of them when
/// the pod is ready, none otherwise); STATUS is the phase.
pub struct Pods;

impl Resource for Pods {
    type State = PodState;

    fn columns(&self) -> Vec<Column> {
        columns(
            &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        )
    }

    fn row(&self, cx: &Context, p: &PodState) -> Vec<String> {
        let total = p.containers.len();
        let ready = if p.ready { total } else { 0 };
        vec![
            p.name.clone(),
            format!("{ready}/{total}"),
            p.phase.to_string(),
            p.restarts.to_string(),
            age(p.created, cx.now),
            p.ip.to_string(),
            none_if_empty(p.node.clone()),
            "<none>".to_string(),
            "<none>".to_string(),
        ]
    }

    fn object(&self, cx: &Context, p: &PodState) -> Value {
        pod_object(cx.state, p)
    }
}

/// The ReplicaSet a Deployment pod belongs to: `<deployment>-<pod-template-hash>`, from
/// the workload's template hash, else the pod name without its last `-xxxxx`.
fn replicaset_name(state: &LabState, pod: &PodState, deployment: &str) -> String {
    state
        .workload(WorkloadKind::Deployment, &pod.namespace, deployment)
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

pub(super) fn int_or_string(v: &IntOrString) -> Value {
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

pub(super) fn container_value(c: &ContainerState) -> Value {
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
fn pod_object(state: &LabState, pod: &PodState) -> Value {
    let mut metadata = object_meta(&pod.name, &pod.namespace, &pod.uid, pod.created, &pod.labels);
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
