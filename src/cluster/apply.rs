//! `labctl apply -f` / `delete -f` on a running lab: objects added, changed or
//! removed one by one, with the same controllers, scheduler and allocators as at
//! deploy time, so that nothing already running moves.

use std::net::Ipv4Addr;

use anyhow::{Result, bail};
use jiff::Timestamp;

use crate::spec::{ClusterIpSpec, Object, ServiceType};

use super::controllers;
use super::ipam::{self, ClusterIpAllocator};
use super::live::{self, PodChanges};
use super::resolve;
use super::state::{LabState, ServiceState, WorkloadKind};

/// What happened to each object, in kubectl's words (`service/x created`).
pub type Report = Vec<String>;

pub fn apply(state: &mut LabState, objects: &[Object], now: Timestamp) -> Result<(PodChanges, Report)> {
    resolve::check_images(objects)?;
    let mut changes = PodChanges::default();
    let mut report = Vec::new();
    for o in objects {
        let m = o.meta();
        let (ns, name) = (m.namespace.value.clone(), m.name.value.clone());
        let line = match o {
            Object::Namespace(_) => {
                if state.namespaces.contains(&name) {
                    format!("namespace/{name} unchanged")
                } else {
                    state.namespaces.push(name.clone());
                    format!("namespace/{name} created")
                }
            }
            Object::Service(s) => {
                let existing = state.services.iter().position(|x| x.namespace == ns && x.name == name);
                let old = existing.map(|i| state.services.remove(i));
                let ip = match &old {
                    Some(old) if keeps_cluster_ip(old, s) => kept_cluster_ip(old, s)?,
                    _ => cluster_ip(state, s)?,
                };
                let mut svc = resolve::user_service(&state.name, s, ip, now);
                let verb = match &old {
                    None => "created",
                    Some(o) => {
                        svc.created = o.created;
                        if *o == svc { "unchanged" } else { "configured" }
                    }
                };
                state.services.push(svc);
                format!("service/{name} {verb}")
            }
            Object::Pod(_) | Object::Deployment(_) | Object::StatefulSet(_) | Object::DaemonSet(_) => {
                let (verb, more) = apply_workload(state, o, now)?;
                changes.added.extend(more.added);
                changes.removed.extend(more.removed);
                format!("{}/{name} {verb}", noun(o))
            }
        };
        report.push(line);
    }
    Ok((changes, report))
}

/// What `delete` names: a kind of object, its namespace and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Namespace,
    Pod,
    Service,
    Workload(WorkloadKind),
}

impl Kind {
    /// kubectl's name for the kind in `deleted` lines (`deployment.apps "x" deleted`).
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Namespace => "namespace",
            Kind::Pod => "pod",
            Kind::Service => "service",
            Kind::Workload(WorkloadKind::Deployment) => "deployment.apps",
            Kind::Workload(WorkloadKind::StatefulSet) => "statefulset.apps",
            Kind::Workload(WorkloadKind::DaemonSet) => "daemonset.apps",
        }
    }

    /// The resource's plural, as the API server names it in errors (`services "x" not found`).
    fn resource(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Pod => "pods",
            Kind::Service => "services",
            Kind::Workload(WorkloadKind::Deployment) => "deployments.apps",
            Kind::Workload(WorkloadKind::StatefulSet) => "statefulsets.apps",
            Kind::Workload(WorkloadKind::DaemonSet) => "daemonsets.apps",
        }
    }

    fn of(o: &Object) -> Kind {
        match o {
            Object::Namespace(_) => Kind::Namespace,
            Object::Pod(_) => Kind::Pod,
            Object::Service(_) => Kind::Service,
            Object::Deployment(_) => Kind::Workload(WorkloadKind::Deployment),
            Object::StatefulSet(_) => Kind::Workload(WorkloadKind::StatefulSet),
            Object::DaemonSet(_) => Kind::Workload(WorkloadKind::DaemonSet),
        }
    }
}

impl ObjectRef {
    pub fn of(o: &Object) -> ObjectRef {
        let m = o.meta();
        ObjectRef {
            kind: Kind::of(o),
            namespace: m.namespace.value.clone(),
            name: m.name.value.clone(),
        }
    }
}

/// Namespaces the API server never deletes (the namespace lifecycle admission
/// plugin's immortal namespaces).
const IMMORTAL_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

pub fn delete(state: &mut LabState, objects: &[ObjectRef]) -> Result<(PodChanges, Report)> {
    let mut changes = PodChanges::default();
    let mut report = Vec::new();
    // Namespaces last: deleting one deletes what is in it.
    let (namespaces, others): (Vec<&ObjectRef>, Vec<&ObjectRef>) =
        objects.iter().partition(|o| o.kind == Kind::Namespace);
    for o in others.into_iter().chain(namespaces) {
        let (ns, name) = (o.namespace.as_str(), o.name.as_str());
        let found = match o.kind {
            Kind::Namespace => {
                if IMMORTAL_NAMESPACES.contains(&name) {
                    bail!("namespaces {name:?} is forbidden: this namespace may not be deleted");
                }
                let before = state.namespaces.len();
                state.namespaces.retain(|n| n != name);
                state.services.retain(|s| s.namespace != name);
                state.workloads.retain(|w| w.namespace != name);
                let (gone, kept): (Vec<_>, Vec<_>) = state.pods.drain(..).partition(|p| p.namespace == name);
                state.pods = kept;
                changes.removed.extend(gone);
                state.namespaces.len() != before
            }
            Kind::Service => {
                let before = state.services.len();
                state.services.retain(|s| !(s.namespace == ns && s.name == name));
                state.services.len() != before
            }
            Kind::Pod => match live::remove_pod(state, ns, name) {
                Some(p) => {
                    changes.removed.push(p);
                    true
                }
                None => false,
            },
            Kind::Workload(kind) => {
                let gone = live::remove_workload(state, kind, ns, name);
                let found = gone.is_some();
                changes.removed.extend(gone.unwrap_or_default());
                found
            }
        };
        if !found {
            if o.kind == Kind::Namespace {
                bail!("{} {name:?} not found", o.kind.resource());
            }
            bail!("{} {name:?} not found in namespace {ns:?}", o.kind.resource());
        }
        report.push(format!("{} \"{name}\" deleted", o.kind.noun()));
    }
    Ok((changes, report))
}

/// A new workload gets its pods; a changed one has its pods replaced (labctl
/// recreates rather than rolls); an identical one is left alone.
fn apply_workload(state: &mut LabState, o: &Object, now: Timestamp) -> Result<(&'static str, PodChanges)> {
    let nodes: Vec<String> = state.nodes.iter().map(|n| n.name.clone()).collect();
    let expansion = controllers::expand(&state.name, std::slice::from_ref(o), &nodes);
    let m = o.meta();
    let (ns, name) = (m.namespace.value.as_str(), m.name.value.as_str());
    let mut changes = PodChanges::default();
    if let Object::Pod(_) = o {
        let intent = &expansion.pods[0];
        if let Some(existing) = state.pod(ns, name) {
            let same = existing.containers == intent.containers && existing.labels == intent.labels;
            if same {
                return Ok(("unchanged", changes));
            }
            bail!(
                "pod {name:?} exists and pods cannot be changed in place; delete it first (`labctl delete pod {name}`)"
            );
        }
        let pod = live::new_bare_pod(state, intent, now)?;
        state.pods.push(pod.clone());
        changes.added.push(pod);
        return Ok(("created", changes));
    }
    let w = expansion
        .workloads
        .into_iter()
        .next()
        .expect("a workload expands to itself");
    let existing = state
        .workloads
        .iter()
        .find(|x| x.kind == w.kind && x.namespace == ns && x.name == name)
        .cloned();
    let verb = match existing {
        Some(old) if old.template == w.template && old.replicas == w.replicas && old.selector == w.selector => {
            return Ok(("unchanged", changes));
        }
        Some(old) if old.template == w.template && old.selector == w.selector => {
            let more = live::scale(state, w.kind, ns, name, w.replicas, now)?;
            return Ok(("configured", more));
        }
        Some(_) => {
            changes
                .removed
                .extend(live::remove_workload(state, w.kind, ns, name).unwrap_or_default());
            "configured"
        }
        None => "created",
    };
    state.workloads.push(w.clone());
    let more = live::reconcile_workload(state, &w, now)?;
    changes.added.extend(more.added);
    changes.removed.extend(more.removed);
    Ok((verb, changes))
}

/// A service keeps its cluster IP (or its `None`) through updates unless it turns
/// into or out of an ExternalName (apiserver: validateUpgradeDowngradeClusterIPs in
/// pkg/apis/core/validation).
fn keeps_cluster_ip(old: &ServiceState, new: &crate::spec::ServiceObject) -> bool {
    old.service_type != ServiceType::ExternalName && new.service_type != ServiceType::ExternalName
}

/// The old cluster IP when the update leaves it out (as the registry fills it in)
/// or repeats it; any other value is refused as the API server refuses it.
fn kept_cluster_ip(old: &ServiceState, new: &crate::spec::ServiceObject) -> Result<Option<Ipv4Addr>> {
    let shown = |ip: Option<Ipv4Addr>| ip.map_or_else(|| "None".to_string(), |ip| ip.to_string());
    let asked = match &new.cluster_ip.value {
        ClusterIpSpec::Auto => return Ok(old.cluster_ip),
        ClusterIpSpec::Headless => None,
        ClusterIpSpec::Fixed(ip) => Some(*ip),
    };
    if asked != old.cluster_ip {
        bail!(
            "{}: The Service {:?} is invalid: spec.clusterIPs[0]: Invalid value: []string{{{:?}}}: may not change once set (it is {}; delete the service and create it again to change it)",
            new.cluster_ip.pos,
            old.name,
            shown(asked),
            shown(old.cluster_ip)
        );
    }
    Ok(old.cluster_ip)
}

fn cluster_ip(state: &LabState, s: &crate::spec::ServiceObject) -> Result<Option<Ipv4Addr>> {
    if s.service_type == ServiceType::ExternalName {
        return Ok(None);
    }
    let subnet = state.networking.service_subnet;
    let mut alloc = ClusterIpAllocator::new(subnet);
    for ip in state.services.iter().filter_map(|x| x.cluster_ip) {
        alloc.reserve(ip);
    }
    match &s.cluster_ip.value {
        ClusterIpSpec::Headless => Ok(None),
        ClusterIpSpec::Fixed(ip) => {
            if !ipam::is_allocatable_cluster_ip(subnet, *ip) {
                bail!(
                    "{}: clusterIP {ip} is not an allocatable address of serviceSubnet {subnet}",
                    s.cluster_ip.pos
                );
            }
            if !alloc.reserve(*ip) {
                bail!("{}: clusterIP {ip} is already allocated", s.cluster_ip.pos);
            }
            Ok(Some(*ip))
        }
        ClusterIpSpec::Auto => alloc
            .allocate(&format!("{}/{}", s.meta.namespace.value, s.meta.name.value))
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("serviceSubnet {subnet} is full")),
    }
}

fn noun(o: &Object) -> &'static str {
    Kind::of(o).noun()
}
