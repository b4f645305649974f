//! Deployments, StatefulSets and DaemonSets: `kubectl get <kind>` and their objects.
//! Counts come from the pods the workload owns. Workloads are as old as the lab (the
//! state keeps no creation time for them).

use serde_json::{Value, json};

use super::pod::container_value;
use super::{Column, Context, Resource, columns, format_labels, labels_value, object_meta};
use crate::cluster::state::{LabState, WorkloadKind, WorkloadState};
use crate::output::time::age;

/// `kubectl get deployments|statefulsets|daemonsets` for workloads of one kind:
/// - Deployment: `NAME READY UP-TO-DATE AVAILABLE AGE`, wide adds `CONTAINERS IMAGES SELECTOR`;
/// - StatefulSet: `NAME READY AGE`, wide adds `CONTAINERS IMAGES`;
/// - DaemonSet: `NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE`, wide
///   adds `CONTAINERS IMAGES SELECTOR`.
pub struct Workloads(pub WorkloadKind);

impl Resource for Workloads {
    type State = WorkloadState;

    fn columns(&self) -> Vec<Column> {
        let shown: &[&str] = match self.0 {
            WorkloadKind::Deployment => &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            WorkloadKind::StatefulSet => &["NAME", "READY", "AGE"],
            WorkloadKind::DaemonSet => &[
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
        match self.0 {
            WorkloadKind::StatefulSet => columns(shown, &["CONTAINERS", "IMAGES"]),
            _ => columns(shown, &["CONTAINERS", "IMAGES", "SELECTOR"]),
        }
    }

    fn row(&self, cx: &Context, w: &WorkloadState) -> Vec<String> {
        let (current, ready) = counts(cx.state, w);
        let age = age(cx.state.created, cx.now);
        let mut row = vec![w.name.clone()];
        match self.0 {
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
        let names: Vec<&str> = w.template.containers.iter().map(|c| c.name.as_str()).collect();
        let images: Vec<&str> = w.template.containers.iter().map(|c| c.image.as_str()).collect();
        row.extend([names.join(","), images.join(",")]);
        if self.0 != WorkloadKind::StatefulSet {
            row.push(format_labels(Some(&w.selector)));
        }
        row
    }

    fn object(&self, cx: &Context, w: &WorkloadState) -> Value {
        workload_object(cx.state, w)
    }
}

/// (pods the workload owns, how many of them are ready)
fn counts(state: &LabState, w: &WorkloadState) -> (usize, usize) {
    state.pods_of(w).fold((0, 0), |(current, ready), p| {
        (current + 1, ready + usize::from(p.ready))
    })
}

fn insert_nonzero(v: &mut Value, key: &str, value: usize) {
    if value > 0 {
        v[key] = value.into();
    }
}

/// A Deployment, StatefulSet or DaemonSet as `kubectl get <kind> <name> -o json` shows
/// it: metadata, spec (replicas, selector, serviceName, pod template) and a status
/// counted from the pods it owns.
fn workload_object(state: &LabState, w: &WorkloadState) -> Value {
    let mut metadata = object_meta(&w.name, &w.namespace, &w.uid, state.created, &w.labels);
    metadata["generation"] = 1.into();
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

    let (current, ready) = counts(state, w);
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
