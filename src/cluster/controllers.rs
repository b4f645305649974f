//! What the workload controllers would create: the pods of each Pod, Deployment,
//! StatefulSet and DaemonSet, named as Kubernetes names them, before scheduling.

use crate::spec::{self, Object, PodSpec, Pos, RestartPolicy};

use super::names;
use super::state::{
    ContainerPortState, ContainerState, Labels, OwnerKind, OwnerRef, PodTemplateState, WorkloadKind, WorkloadState,
};

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
    pub restart_policy: RestartPolicy,
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
    for i in 0..w.replicas.value {
        let pod = names::generated_name(&replica_set, &format!("{lab}/{ns}/{replica_set}/{i}"));
        let (labels, owner) = controlled_pod(WorkloadKind::Deployment, name, &w.template.labels, &pod, Some(&hash));
        out.pods.push(intent(
            &pod,
            ns,
            labels,
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
        let (labels, owner) = controlled_pod(WorkloadKind::StatefulSet, name, &w.template.labels, &pod, None);
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
        let (labels, owner) = controlled_pod(WorkloadKind::DaemonSet, name, &w.template.labels, &pod, None);
        let mut p = intent(&pod, ns, labels, Some(owner), &w.template.spec, group, &w.meta.pos);
        p.node = Some(node.clone());
        out.pods.push(p);
    }
    let template = workload_template(w);
    out.workloads
        .push(workload_state(lab, WorkloadKind::DaemonSet, w, None, template));
}

/// The labels and owner a workload's controller gives pod `pod` it creates: the
/// template's labels plus `pod-template-hash` (ReplicaSet), or the StatefulSet
/// controller's `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index`.
pub fn controlled_pod(
    kind: WorkloadKind,
    workload: &str,
    template_labels: &Labels,
    pod: &str,
    template_hash: Option<&str>,
) -> (Labels, OwnerRef) {
    let mut labels = template_labels.clone();
    let owner = match kind {
        WorkloadKind::Deployment => {
            let hash = template_hash.unwrap_or_default();
            labels.insert("pod-template-hash".into(), hash.to_string());
            OwnerRef {
                kind: OwnerKind::ReplicaSet,
                name: format!("{workload}-{hash}"),
            }
        }
        WorkloadKind::StatefulSet => {
            let ordinal = pod
                .strip_prefix(&format!("{workload}-"))
                .and_then(|o| o.parse::<u32>().ok())
                .unwrap_or(0);
            labels.insert("statefulset.kubernetes.io/pod-name".into(), pod.to_string());
            labels.insert("apps.kubernetes.io/pod-index".into(), ordinal.to_string());
            OwnerRef {
                kind: OwnerKind::StatefulSet,
                name: workload.to_string(),
            }
        }
        WorkloadKind::DaemonSet => OwnerRef {
            kind: OwnerKind::DaemonSet,
            name: workload.to_string(),
        },
    };
    (labels, owner)
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
    let pod = pod_template(labels, spec);
    PodIntent {
        name: name.to_string(),
        namespace: namespace.to_string(),
        labels: pod.labels,
        owner,
        spec_hostname: pod.hostname,
        subdomain: pod.subdomain,
        restart_policy: pod.restart_policy,
        enable_service_links: pod.enable_service_links,
        init_containers: pod.init_containers,
        containers: pod.containers,
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

/// A pod spec as the state keeps it, with the Kubernetes defaults filled in.
fn pod_template(labels: Labels, spec: &PodSpec) -> PodTemplateState {
    PodTemplateState {
        labels,
        hostname: spec.hostname.as_ref().map(|h| h.value.clone()),
        subdomain: spec.subdomain.as_ref().map(|s| s.value.clone()),
        restart_policy: spec.restart_policy.unwrap_or_default(),
        enable_service_links: spec.enable_service_links.unwrap_or(true),
        init_containers: spec.init_containers.iter().map(container_state).collect(),
        containers: spec.containers.iter().map(container_state).collect(),
    }
}

fn workload_template(w: &spec::Workload) -> PodTemplateState {
    pod_template(w.template.labels.clone(), &w.template.spec)
}

/// What the pod-template-hash covers: the template's content, not where it was written.
fn template_fingerprint(t: &PodTemplateState) -> String {
    serde_json::to_string(t).unwrap_or_default()
}

fn workload_state(
    lab: &str,
    kind: WorkloadKind,
    w: &spec::Workload,
    template_hash: Option<String>,
    template: PodTemplateState,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_controller_labels_its_pods_its_own_way() {
        let template: Labels = [("app".to_string(), "web".to_string())].into();
        let (labels, owner) = controlled_pod(WorkloadKind::Deployment, "web", &template, "web-abc-xyz", Some("abc"));
        assert_eq!(labels["pod-template-hash"], "abc");
        assert_eq!((owner.kind, owner.name.as_str()), (OwnerKind::ReplicaSet, "web-abc"));

        let (labels, owner) = controlled_pod(WorkloadKind::StatefulSet, "db", &template, "db-2", None);
        assert_eq!(labels["statefulset.kubernetes.io/pod-name"], "db-2");
        assert_eq!(labels["apps.kubernetes.io/pod-index"], "2");
        assert_eq!(owner.kind, OwnerKind::StatefulSet);

        let (labels, owner) = controlled_pod(WorkloadKind::DaemonSet, "agent", &template, "agent-x1", None);
        assert_eq!(labels, template, "a DaemonSet pod carries only its template's labels");
        assert_eq!((owner.kind, owner.name.as_str()), (OwnerKind::DaemonSet, "agent"));
    }
}
