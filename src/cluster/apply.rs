//! `labctl apply -f` / `delete -f` on a running lab: objects added, changed or
//! removed one by one, with the same controllers, scheduler and allocators as at
//! deploy time, so that nothing already running moves.

use std::net::Ipv4Addr;

use anyhow::{Result, bail};

use crate::spec::{ClusterIpSpec, Object, ServiceType};

use super::controllers;
use super::ipam::{self, ClusterIpAllocator};
use super::live::{self, PodChanges};
use super::resolve;
use super::state::{LabState, WorkloadKind};

/// What happened to each object, in kubectl's words (`service/x created`).
pub type Report = Vec<String>;

pub fn apply(state: &mut LabState, objects: &[Object], now: &str) -> Result<(PodChanges, Report)> {
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
                let ip = cluster_ip(state, s, old.as_ref().and_then(|o| o.cluster_ip))?;
                let mut svc = resolve::user_service(&state.name, s, ip, now);
                let verb = match &old {
                    None => "created",
                    Some(o) => {
                        svc.created = o.created.clone();
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

pub fn delete(state: &mut LabState, objects: &[Object]) -> Result<(PodChanges, Report)> {
    let mut changes = PodChanges::default();
    let mut report = Vec::new();
    // Namespaces last: deleting one deletes what is in it.
    let (namespaces, others): (Vec<&Object>, Vec<&Object>) =
        objects.iter().partition(|o| matches!(o, Object::Namespace(_)));
    for o in others.into_iter().chain(namespaces) {
        let m = o.meta();
        let (ns, name) = (m.namespace.value.as_str(), m.name.value.as_str());
        let found = match o {
            Object::Namespace(_) => {
                let before = state.namespaces.len();
                state.namespaces.retain(|n| n != name);
                state.services.retain(|s| s.namespace != name);
                state.workloads.retain(|w| w.namespace != name);
                let (gone, kept): (Vec<_>, Vec<_>) = state.pods.drain(..).partition(|p| p.namespace == name);
                state.pods = kept;
                changes.removed.extend(gone);
                state.namespaces.len() != before
            }
            Object::Service(_) => {
                let before = state.services.len();
                state.services.retain(|s| !(s.namespace == ns && s.name == name));
                state.services.len() != before
            }
            Object::Pod(_) => match live::remove_pod(state, ns, name) {
                Some(p) => {
                    changes.removed.push(p);
                    true
                }
                None => false,
            },
            Object::Deployment(_) | Object::StatefulSet(_) | Object::DaemonSet(_) => {
                let kind = workload_kind(o);
                let gone = live::remove_workload(state, kind, ns, name);
                let found = gone.is_some();
                changes.removed.extend(gone.unwrap_or_default());
                found
            }
        };
        if !found {
            bail!("{} {name:?} not found in namespace {ns:?}", noun(o));
        }
        report.push(format!("{} \"{name}\" deleted", noun(o)));
    }
    Ok((changes, report))
}

/// A new workload gets its pods; a changed one has its pods replaced (labctl
/// recreates rather than rolls); an identical one is left alone.
fn apply_workload(state: &mut LabState, o: &Object, now: &str) -> Result<(&'static str, PodChanges)> {
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

fn cluster_ip(state: &LabState, s: &crate::spec::ServiceObject, keep: Option<Ipv4Addr>) -> Result<Option<Ipv4Addr>> {
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
        ClusterIpSpec::Auto => match keep {
            Some(ip) => Ok(Some(ip)),
            None => alloc
                .allocate(&format!("{}/{}", s.meta.namespace.value, s.meta.name.value))
                .map(Some)
                .ok_or_else(|| anyhow::anyhow!("serviceSubnet {subnet} is full")),
        },
    }
}

fn workload_kind(o: &Object) -> WorkloadKind {
    match o {
        Object::StatefulSet(_) => WorkloadKind::StatefulSet,
        Object::DaemonSet(_) => WorkloadKind::DaemonSet,
        _ => WorkloadKind::Deployment,
    }
}

fn noun(o: &Object) -> &'static str {
    match o {
        Object::Namespace(_) => "namespace",
        Object::Pod(_) => "pod",
        Object::Service(_) => "service",
        Object::Deployment(_) => "deployment.apps",
        Object::StatefulSet(_) => "statefulset.apps",
        Object::DaemonSet(_) => "daemonset.apps",
    }
}
