//! What the workload controllers would create: the pods of each Pod, Deployment,
//! StatefulSet and DaemonSet, named as Kubernetes names them, before scheduling.

use crate::spec::{self, Object, PodSpec, Pos};

use super::names;
use super::state::{ContainerPortState, ContainerState, Labels, OwnerRef, WorkloadKind, WorkloadState};

/// A pod the controllers want, not yet placed on a node.
#[derive(Debug, Clone)]
pub struct PodIntent {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    pub owner: Option<OwnerRef>,
    /// spec.hostname as the pod would carry it (StatefulSets set it to the pod name).
    pub spec_hostname: Option<String>,
    pub subdomain: Option<String>,
    pub restart_policy: String,
    pub enable_service_links: bool,
    pub init_containers: Vec<ContainerState>,
    pub containers: Vec<ContainerState>,
    /// spec.nodeName (or the node a DaemonSet pod is bound to), and where it was written.
    pub node: Option<String>,
    pub node_pos: Pos,
    /// Index of the workload (or bare pod) in the topology, for spreading.
    pub group: usize,
    /// Where the object that wants this pod was written.
    pub pos: Pos,
}

pub struct Expansion {
    pub workloads: Vec<WorkloadState>,
    pub pods: Vec<PodIntent>,
}

pub fn expand(lab: &str, objects: &[Object], node_names: &[String]) -> Expansion {
    let mut out = Expansion {
        workloads: Vec::new(),
        pods: Vec::new(),
    };
    for (group, object) in objects.iter().enumerate() {
        match object {
            Object::Pod(p) => out.pods.push(bare_pod(p, group)),
            Object::Deployment(w) => expand_deployment(lab, w, group, &mut out),
            Object::StatefulSet(w) => expand_statefulset(lab, w, group, &mut out),
            Object::DaemonSet(w) => expand_daemonset(lab, w, group, node_names, &mut out),
            Object::Namespace(_) | Object::Service(_) => {}
        }
    }
    out
}

fn bare_pod(p: &spec::PodObject, group: usize) -> PodIntent {
    let meta = &p.meta;
    intent(
        &meta.name.value,
        &meta.namespace.value,
        meta.labels.clone(),
        None,
        &p.spec,
        group,
        &meta.pos,
    )
}

fn expand_deployment(lab: &str, w: &spec::Workload, group: usize, out: &mut Expansion) {
    let (ns, name) = (&w.meta.namespace.value, &w.meta.name.value);
    let template = workload_template(w);
    let hash = names::pod_template_hash(lab, ns, name, &template_fingerprint(&template));
    let replica_set = format!("{name}-{hash}");
    let mut labels = w.template.labels.clone();
    labels.insert("pod-template-hash".into(), hash.clone());
    for i in 0..w.replicas.value {
        let pod = names::generated_name(&replica_set, &format!("{lab}/{ns}/{replica_set}/{i}"));
        let owner = OwnerRef {
            kind: "ReplicaSet".into(),
            name: replica_set.clone(),
        };
        out.pods.push(intent(
            &pod,
            ns,
            labels.clone(),
            Some(owner),
            &w.template.spec,
            group,
            &w.replicas.pos,
        ));
    }
    out.workloads
        .push(workload_state(lab, WorkloadKind::Deployment, w, Some(hash), template));
}

fn expand_statefulset(lab: &str, w: &spec::Workload, group: usize, out: &mut Expansion) {
    let (ns, name) = (&w.meta.namespace.value, &w.meta.name.value);
    let service = w.service_name.as_ref().map(|s| s.value.clone());
    for ordinal in 0..w.replicas.value {
        let pod = format!("{name}-{ordinal}");
        let mut labels = w.template.labels.clone();
        // Labels the StatefulSet controller adds to every pod it creates.
        labels.insert("statefulset.kubernetes.io/pod-name".into(), pod.clone());
        labels.insert("apps.kubernetes.io/pod-index".into(), ordinal.to_string());
        let owner = OwnerRef {
            kind: "StatefulSet".into(),
            name: name.clone(),
        };
        let mut p = intent(&pod, ns, labels, Some(owner), &w.template.spec, group, &w.replicas.pos);
        p.spec_hostname = Some(pod.clone());
        p.subdomain = service.clone();
        out.pods.push(p);
    }
    let template = workload_template(w);
    out.workloads
        .push(workload_state(lab, WorkloadKind::StatefulSet, w, None, template));
}

fn expand_daemonset(lab: &str, w: &spec::Workload, group: usize, nodes: &[String], out: &mut Expansion) {
    let (ns, name) = (&w.meta.namespace.value, &w.meta.name.value);
    for node in nodes {
        let pod = names::generated_name(name, &format!("{lab}/{ns}/{name}/{node}"));
        let owner = OwnerRef {
            kind: "DaemonSet".into(),
            name: name.clone(),
        };
        let mut p = intent(
            &pod,
            ns,
            w.template.labels.clone(),
            Some(owner),
            &w.template.spec,
            group,
            &w.meta.pos,
        );
        p.node = Some(node.clone());
        out.pods.push(p);
    }
    let template = workload_template(w);
    out.workloads
        .push(workload_state(lab, WorkloadKind::DaemonSet, w, None, template));
}

fn intent(
    name: &str,
    namespace: &str,
    labels: Labels,
    owner: Option<OwnerRef>,
    spec: &PodSpec,
    group: usize,
    pos: &Pos,
) -> PodIntent {
    PodIntent {
        name: name.to_string(),
        namespace: namespace.to_string(),
        labels,
        owner,
        spec_hostname: spec.hostname.as_ref().map(|h| h.value.clone()),
        subdomain: spec.subdomain.as_ref().map(|s| s.value.clone()),
        restart_policy: spec.restart_policy.clone().unwrap_or_else(|| "Always".into()),
        enable_service_links: spec.enable_service_links.unwrap_or(true),
        init_containers: spec.init_containers.iter().map(container_state).collect(),
        containers: spec.containers.iter().map(container_state).collect(),
        node: spec.node_name.as_ref().map(|n| n.value.clone()),
        node_pos: spec.node_name.as_ref().map_or_else(|| pos.clone(), |n| n.pos.clone()),
        group,
        pos: pos.clone(),
    }
}

pub fn container_state(c: &spec::Container) -> ContainerState {
    ContainerState {
        name: c.name.value.clone(),
        image: c.image.value.clone(),
        command: c.command.clone(),
        args: c.args.clone(),
        env: c.env.clone(),
        ports: c
            .ports
            .iter()
            .map(|p| ContainerPortState {
                name: p.name.clone(),
                container_port: p.container_port,
                protocol: p.protocol,
            })
            .collect(),
        readiness_probe: c.readiness_probe.clone(),
        working_dir: c.working_dir.clone(),
    }
}

fn workload_template(w: &spec::Workload) -> super::state::PodTemplateState {
    let spec = &w.template.spec;
    super::state::PodTemplateState {
        labels: w.template.labels.clone(),
        hostname: spec.hostname.as_ref().map(|h| h.value.clone()),
        subdomain: spec.subdomain.as_ref().map(|s| s.value.clone()),
        restart_policy: spec.restart_policy.clone().unwrap_or_else(|| "Always".into()),
        enable_service_links: spec.enable_service_links.unwrap_or(true),
        init_containers: spec.init_containers.iter().map(container_state).collect(),
        containers: spec.containers.iter().map(container_state).collect(),
    }
}

/// What the pod-template-hash covers: the template's content, not where it was written.
fn template_fingerprint(t: &super::state::PodTemplateState) -> String {
    serde_json::to_string(t).unwrap_or_default()
}

fn workload_state(
    lab: &str,
    kind: WorkloadKind,
    w: &spec::Workload,
    template_hash: Option<String>,
    template: super::state::PodTemplateState,
) -> WorkloadState {
    let (ns, name) = (&w.meta.namespace.value, &w.meta.name.value);
    WorkloadState {
        kind,
        name: name.clone(),
        namespace: ns.clone(),
        uid: names::uid(&format!("{lab}/{}/{ns}/{name}", kind.as_str())),
        labels: w.meta.labels.clone(),
        replicas: w.replicas.value,
        selector: w.selector.value.clone(),
        service_name: w.service_name.as_ref().map(|s| s.value.clone()),
        template_hash,
        template,
    }
}
