//! Controllers of a running lab: what scale and pod deletion change in the lab
//! state. Pure: the caller applies the returned pod changes to the kernel.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use anyhow::{Result, bail};
use jiff::Timestamp;

use super::ipam;
use super::names;
use super::state::{LabState, PodPhase, PodState, Role, WorkloadKind, WorkloadState};

/// Pods a change created and removed (by value: removed ones are gone from the state).
#[derive(Debug, Default)]
pub struct PodChanges {
    pub added: Vec<PodState>,
    pub removed: Vec<PodState>,
}

/// Sets a Deployment's or StatefulSet's replicas and reconciles its pods:
/// StatefulSets add the next ordinals and remove from the highest (OrderedReady),
/// Deployments add new pods and remove the newest.
pub fn scale(
    state: &mut LabState,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    replicas: u32,
    now: Timestamp,
) -> Result<PodChanges> {
    if kind == WorkloadKind::DaemonSet {
        bail!("daemonsets cannot be scaled: they run one pod per node");
    }
    let last_pod = format!("{name}-{}", replicas.saturating_sub(1));
    if kind == WorkloadKind::StatefulSet && replicas > 0 && last_pod.len() > names::MAX_STATEFULSET_POD_NAME {
        bail!(
            "statefulset {name}: pod {last_pod} would be refused: its name is also its hostname and its statefulset.kubernetes.io/pod-name label, at most {} characters; scale to fewer replicas",
            names::MAX_STATEFULSET_POD_NAME
        );
    }
    let Some(w) = state
        .workloads
        .iter_mut()
        .find(|w| w.kind == kind && w.namespace == ns && w.name == name)
    else {
        bail!(
            "{}.apps {name:?} not found in namespace {ns:?}",
            kind.as_str().to_ascii_lowercase() + "s"
        );
    };
    w.replicas = replicas;
    let w = w.clone();
    reconcile(state, &w, now)
}

/// Deletes a pod; its controller, if any, creates a replacement at once (a
/// StatefulSet pod comes back under the same name, with a new address).
pub fn delete_pod(state: &mut LabState, ns: &str, name: &str, now: Timestamp) -> Result<PodChanges> {
    let Some(index) = state.pods.iter().position(|p| p.namespace == ns && p.name == name) else {
        bail!("pods {name:?} not found in namespace {ns:?}");
    };
    let pod = state.pods.remove(index);
    let owner = state.owner_of(&pod).cloned();
    let mut changes = PodChanges {
        added: Vec::new(),
        removed: vec![pod],
    };
    if let Some(w) = owner {
        let more = reconcile(state, &w, now)?;
        changes.added.extend(more.added);
        changes.removed.extend(more.removed);
    }
    Ok(changes)
}

/// Removes a pod without asking its controller (a bare pod, or `delete -f`).
pub fn remove_pod(state: &mut LabState, ns: &str, name: &str) -> Option<PodState> {
    let index = state.pods.iter().position(|p| p.namespace == ns && p.name == name)?;
    Some(state.pods.remove(index))
}

/// Removes a workload and every pod it owns.
pub fn remove_workload(state: &mut LabState, kind: WorkloadKind, ns: &str, name: &str) -> Option<Vec<PodState>> {
    let index = state
        .workloads
        .iter()
        .position(|w| w.kind == kind && w.namespace == ns && w.name == name)?;
    let w = state.workloads.remove(index);
    let (gone, kept): (Vec<PodState>, Vec<PodState>) = state.pods.drain(..).partition(|p| w.owns(p));
    state.pods = kept;
    Some(gone)
}

/// Brings a workload that is in the state to its replica count.
pub fn reconcile_workload(state: &mut LabState, w: &WorkloadState, now: Timestamp) -> Result<PodChanges> {
    reconcile(state, w, now)
}

/// A bare Pod added to a running lab: on its nodeName, else on the emptiest node.
pub fn new_bare_pod(state: &LabState, intent: &super::controllers::PodIntent, now: Timestamp) -> Result<PodState> {
    let n = match &intent.node {
        Some(node) => state
            .nodes
            .iter()
            .position(|x| &x.name == node)
            .ok_or_else(|| anyhow::anyhow!("pod {}: nodeName {node} is not a node of this lab", intent.name))?,
        None => (0..state.nodes.len())
            .filter(|&n| free_ips(state, n) > 0)
            .min_by_key(|&n| {
                let count = state.pods.iter().filter(|p| p.node == state.nodes[n].name).count();
                (count, state.nodes[n].role == Role::ControlPlane, n)
            })
            .ok_or_else(|| anyhow::anyhow!("every node's pod block is full"))?,
    };
    let node = &state.nodes[n];
    let ip = next_ip(state, n)?;
    let name = &intent.name;
    let ns = &intent.namespace;
    Ok(PodState {
        name: name.clone(),
        namespace: ns.clone(),
        uid: names::uid(&format!("{}/Pod/{ns}/{name}/{now}/{}", state.name, state.pods.len())),
        labels: intent.labels.clone(),
        owner: None,
        node: node.name.clone(),
        ip,
        netns: names::pod_netns(&state.name, ns, name),
        host_veth: names::host_veth(ns, name),
        hostname: names::pod_hostname(name, intent.spec_hostname.as_deref()),
        spec_hostname: intent.spec_hostname.clone(),
        subdomain: intent.subdomain.clone(),
        restart_policy: intent.restart_policy,
        enable_service_links: intent.enable_service_links,
        init_containers: intent.init_containers.clone(),
        containers: intent.containers.clone(),
        ready: false,
        phase: PodPhase::Pending,
        restarts: 0,
        created: now,
    })
}

/// Brings the workload's pods to its replica count.
fn reconcile(state: &mut LabState, w: &WorkloadState, now: Timestamp) -> Result<PodChanges> {
    let mut changes = PodChanges::default();
    if w.kind == WorkloadKind::DaemonSet {
        for n in 0..state.nodes.len() {
            let node = state.nodes[n].name.clone();
            let has = (0..state.pods.len()).any(|i| pod_of(state, i, w) && state.pods[i].node == node);
            if !has {
                let name = next_pod_name(state, w);
                let pod = new_pod(state, w, &name, Some(n), now)?;
                state.pods.push(pod.clone());
                changes.added.push(pod);
            }
        }
        return Ok(changes);
    }
    let mine: Vec<usize> = (0..state.pods.len()).filter(|&i| pod_of(state, i, w)).collect();
    let have = mine.len() as u32;
    if have > w.replicas {
        let mut victims: Vec<usize> = mine;
        match w.kind {
            // highest ordinal first
            WorkloadKind::StatefulSet => {
                victims.sort_by_key(|&i| std::cmp::Reverse(ordinal(&state.pods[i].name, &w.name)))
            }
            // newest first (pods are appended as they are created)
            _ => victims.reverse(),
        }
        let mut doomed: Vec<usize> = victims.into_iter().take((have - w.replicas) as usize).collect();
        doomed.sort_unstable_by(|a, b| b.cmp(a));
        for i in doomed {
            changes.removed.push(state.pods.remove(i));
        }
    }
    while (state
        .pods
        .iter()
        .enumerate()
        .filter(|(i, _)| pod_of(state, *i, w))
        .count() as u32)
        < w.replicas
    {
        let name = next_pod_name(state, w);
        let pod = new_pod(state, w, &name, None, now)?;
        state.pods.push(pod.clone());
        changes.added.push(pod);
    }
    Ok(changes)
}

fn pod_of(state: &LabState, i: usize, w: &WorkloadState) -> bool {
    w.owns(&state.pods[i])
}

fn ordinal(pod: &str, sts: &str) -> u32 {
    pod.strip_prefix(&format!("{sts}-"))
        .and_then(|o| o.parse().ok())
        .unwrap_or(0)
}

fn next_pod_name(state: &LabState, w: &WorkloadState) -> String {
    let taken = |n: &str| state.pods.iter().any(|p| p.namespace == w.namespace && p.name == n);
    match w.kind {
        WorkloadKind::StatefulSet => (0..)
            .map(|i| format!("{}-{i}", w.name))
            .find(|n| !taken(n))
            .expect("unbounded"),
        WorkloadKind::DaemonSet => (0..)
            .map(|i| {
                names::generated_name(
                    &w.name,
                    &format!(
                        "{}/{}/{}/live/{}/{i}",
                        state.name,
                        w.namespace,
                        w.name,
                        state.pods.len()
                    ),
                )
            })
            .find(|n| !taken(n))
            .expect("unbounded"),
        WorkloadKind::Deployment => {
            let rs = format!("{}-{}", w.name, w.template_hash.clone().unwrap_or_default());
            (0..)
                .map(|i| {
                    names::generated_name(
                        &rs,
                        &format!("{}/{}/{rs}/live/{}/{i}", state.name, w.namespace, state.pods.len()),
                    )
                })
                .find(|n| !taken(n))
                .expect("unbounded")
        }
    }
}

fn new_pod(state: &LabState, w: &WorkloadState, name: &str, node: Option<usize>, now: Timestamp) -> Result<PodState> {
    let node_index = match node {
        Some(n) => n,
        None => pick_node(state, w)?,
    };
    let node = &state.nodes[node_index];
    let ip = next_ip(state, node_index)?;
    let t = &w.template;
    let (labels, owner) =
        super::controllers::controlled_pod(w.kind, &w.name, &t.labels, name, w.template_hash.as_deref());
    let (spec_hostname, subdomain) = match w.kind {
        WorkloadKind::StatefulSet => (Some(name.to_string()), w.service_name.clone()),
        _ => (t.hostname.clone(), t.subdomain.clone()),
    };
    Ok(PodState {
        name: name.to_string(),
        namespace: w.namespace.clone(),
        uid: names::uid(&format!(
            "{}/Pod/{}/{name}/{now}/{}",
            state.name,
            w.namespace,
            state.pods.len()
        )),
        labels,
        owner: Some(owner),
        node: node.name.clone(),
        ip,
        netns: names::pod_netns(&state.name, &w.namespace, name),
        host_veth: names::host_veth(&w.namespace, name),
        hostname: names::pod_hostname(name, spec_hostname.as_deref()),
        spec_hostname,
        subdomain,
        restart_policy: t.restart_policy,
        enable_service_links: t.enable_service_links,
        init_containers: t.init_containers.clone(),
        containers: t.containers.clone(),
        ready: false,
        phase: PodPhase::Pending,
        restarts: 0,
        created: now,
    })
}

/// Like the scheduler at deploy time: fewest pods of this workload, then fewest
/// pods, workers before the control plane.
fn pick_node(state: &LabState, w: &WorkloadState) -> Result<usize> {
    (0..state.nodes.len())
        .filter(|&n| free_ips(state, n) > 0)
        .min_by_key(|&n| {
            let node = &state.nodes[n].name;
            let on_node = state.pods.iter().filter(|p| &p.node == node);
            let same = on_node.clone().filter(|p| w.owns(p)).count();
            (same, on_node.count(), state.nodes[n].role == Role::ControlPlane, n)
        })
        .ok_or_else(|| anyhow::anyhow!("every node's pod block is full"))
}

fn used_ips(state: &LabState, n: usize) -> BTreeSet<Ipv4Addr> {
    state
        .pods
        .iter()
        .filter(|p| p.node == state.nodes[n].name)
        .map(|p| p.ip)
        .collect()
}

fn free_ips(state: &LabState, n: usize) -> usize {
    ipam::pod_capacity(state.nodes[n].pod_block).saturating_sub(used_ips(state, n).len())
}

/// The first free address after the highest one in use (wrapping), so that a
/// recreated pod gets a new address as it would from Calico's IPAM.
fn next_ip(state: &LabState, n: usize) -> Result<Ipv4Addr> {
    let block = state.nodes[n].pod_block;
    let used = used_ips(state, n);
    let capacity = ipam::pod_capacity(block);
    let last = (0..capacity)
        .rev()
        .find(|&i| ipam::pod_ip(block, i).is_some_and(|ip| used.contains(&ip)));
    let start = last.map_or(0, |i| i + 1);
    (0..capacity)
        .map(|k| (start + k) % capacity)
        .filter_map(|i| ipam::pod_ip(block, i))
        .find(|ip| !used.contains(ip))
        .ok_or_else(|| anyhow::anyhow!("node {}'s pod block {block} is full", state.nodes[n].name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An hour after the seed lab was deployed.
    fn t() -> Timestamp {
        "2026-01-01T01:00:00Z".parse().unwrap()
    }

    fn seed() -> LabState {
        crate::fixture::resolved::seed()
    }

    fn names_of(state: &LabState, prefix: &str) -> Vec<String> {
        crate::fixture::resolved::pod_names(state, prefix)
    }

    #[test]
    fn scaling_a_deployment_up_adds_pods_with_fresh_names_and_addresses() {
        let mut s = seed();
        let before: BTreeSet<Ipv4Addr> = s.pods.iter().map(|p| p.ip).collect();
        let c = scale(&mut s, WorkloadKind::Deployment, "default", "nginx-deployment", 3, t()).unwrap();
        assert_eq!(c.added.len(), 1);
        assert!(c.removed.is_empty());
        let p = &c.added[0];
        assert!(p.name.starts_with("nginx-deployment-"));
        assert!(!before.contains(&p.ip));
        assert_eq!(names_of(&s, "nginx-deployment-").len(), 3);
        assert_eq!(
            s.workloads
                .iter()
                .find(|w| w.name == "nginx-deployment")
                .unwrap()
                .replicas,
            3
        );
        assert_eq!(
            p.labels["pod-template-hash"],
            s.pods.iter().find(|x| x.name.starts_with("nginx-d")).unwrap().labels["pod-template-hash"]
        );
    }

    #[test]
    fn statefulsets_scale_by_ordinal() {
        let mut s = seed();
        let c = scale(&mut s, WorkloadKind::StatefulSet, "default", "redis", 4, t()).unwrap();
        assert_eq!(c.added[0].name, "redis-3");
        assert_eq!(c.added[0].subdomain.as_deref(), Some("redis-headless"));
        let c = scale(&mut s, WorkloadKind::StatefulSet, "default", "redis", 2, t()).unwrap();
        let mut gone: Vec<_> = c.removed.iter().map(|p| p.name.as_str()).collect();
        gone.sort();
        assert_eq!(gone, ["redis-2", "redis-3"]);
        assert_eq!(names_of(&s, "redis-"), ["redis-0", "redis-1"]);
    }

    #[test]
    fn a_statefulset_is_not_scaled_past_pod_names_that_fit_a_hostname() {
        let mut s = seed();
        let long = "r".repeat(61);
        s.workloads.iter_mut().find(|w| w.name == "redis").unwrap().name = long.clone();
        let error = scale(&mut s, WorkloadKind::StatefulSet, "default", &long, 11, t()).unwrap_err();
        assert!(
            error.to_string().contains(&format!("pod {long}-10 would be refused")),
            "{error}"
        );
        let set = s.workloads.iter().find(|w| w.name == long).unwrap();
        assert_eq!(set.replicas, 3, "the refused scale changed nothing");
    }

    #[test]
    fn a_deleted_statefulset_pod_comes_back_with_its_name_and_a_new_address() {
        let mut s = seed();
        let old = s.pod("default", "redis-1").unwrap().clone();
        let c = delete_pod(&mut s, "default", "redis-1", t() + jiff::SignedDuration::from_mins(1)).unwrap();
        assert_eq!(c.removed[0].uid, old.uid);
        let new = s.pod("default", "redis-1").unwrap();
        assert_ne!(new.uid, old.uid);
        assert_ne!(new.ip, old.ip);
        assert_eq!(new.hostname, "redis-1");
    }

    #[test]
    fn a_deleted_bare_pod_stays_deleted_and_unknown_ones_are_errors() {
        let mut s = seed();
        let n = s.pods.len();
        let mt = names_of(&s, "multitool-")[0].clone();
        let c = delete_pod(&mut s, "default", &mt, t()).unwrap();
        // DaemonSet pods are recreated too (one per node)
        assert_eq!(c.added.len(), 1);
        assert_eq!(s.pods.len(), n);
        assert!(delete_pod(&mut s, "default", "nope", t()).is_err());
        assert!(scale(&mut s, WorkloadKind::Deployment, "default", "nope", 1, t()).is_err());
    }
}
