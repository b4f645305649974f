//! The resolved lab: every object with its final name, address and placement.
//! This is what the store saves and what every other layer derives from.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::spec::{IntOrString, Probe, Protocol, RestartPolicy, ServiceType};

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabState {
    pub name: String,
    /// Absolute path of the topology file it was deployed from.
    pub topology_file: String,
    pub created: Timestamp,
    pub networking: NetworkingState,
    /// The lab-private netns holding the fabric bridge.
    pub fabric_netns: String,
    pub nodes: Vec<NodeState>,
    pub namespaces: Vec<String>,
    pub workloads: Vec<WorkloadState>,
    pub pods: Vec<PodState>,
    pub services: Vec<ServiceState>,
    pub endpoint_slices: Vec<EndpointSliceState>,
    /// The topology's own `checks:` (run by `labctl verify`).
    #[serde(default)]
    pub checks: Vec<CheckState>,
}

/// A topology `checks:` entry as written (see `spec::CheckSpec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckState {
    pub name: String,
    /// A pod, a node, `node/<suffix>` or `<kind>/<name>` of a workload.
    pub target: String,
    pub namespace: String,
    pub command: Vec<String>,
    pub expect: Option<String>,
    pub exit_code: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkingState {
    pub node_subnet: Ipv4Net,
    pub pod_subnet: Ipv4Net,
    pub pod_block_size: u8,
    pub service_subnet: Ipv4Net,
    pub dns_domain: String,
    #[serde(default = "default_dns_ttl")]
    pub dns_ttl: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ControlPlane,
    Worker,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeState {
    /// kind's name: `<lab>-control-plane`, `<lab>-worker`, `<lab>-worker2`, ...
    pub name: String,
    pub role: Role,
    /// Address on the fabric (eth0).
    pub ip: Ipv4Addr,
    /// The Calico-style IPAM block this node's pods take their addresses from.
    pub pod_block: Ipv4Net,
    /// Network namespace name (same as the node name).
    pub netns: String,
    /// Name of the fabric-side veth end in the fabric netns.
    pub fabric_port: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadState {
    pub kind: WorkloadKind,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: Labels,
    pub replicas: u32,
    pub selector: Labels,
    pub service_name: Option<String>,
    /// Deployments: the pod-template-hash of the current ReplicaSet.
    pub template_hash: Option<String>,
    pub template: PodTemplateState,
}

impl WorkloadState {
    /// Whether the workload controls `pod`: same namespace and an owner reference to it.
    /// Deployment pods are owned by the ReplicaSet `<deployment>-<pod-template-hash>`
    /// (the Deployment controller's naming, `deployment/util.go`); lab states written
    /// before ReplicaSets were modelled name the Deployment itself, or keep no template
    /// hash, in which case any `<deployment>-<hash>` ReplicaSet is this Deployment's.
    pub fn owns(&self, pod: &PodState) -> bool {
        let Some(owner) = pod.owner.as_ref().filter(|_| pod.namespace == self.namespace) else {
            return false;
        };
        if owner.kind == OwnerKind::from(self.kind) {
            return owner.name == self.name;
        }
        self.kind == WorkloadKind::Deployment
            && owner.kind == OwnerKind::ReplicaSet
            && match &self.template_hash {
                Some(hash) => {
                    owner
                        .name
                        .strip_prefix(self.name.as_str())
                        .and_then(|r| r.strip_prefix('-'))
                        == Some(hash)
                }
                None => owner
                    .name
                    .rsplit_once('-')
                    .is_some_and(|(deployment, _)| deployment == self.name),
            }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateState {
    pub labels: Labels,
    pub hostname: Option<String>,
    pub subdomain: Option<String>,
    pub restart_policy: RestartPolicy,
    /// spec.enableServiceLinks: whether containers get `<SVC>_SERVICE_HOST`-style variables.
    /// Saved only when false, so that templates (and their pod-template-hash) stay as before.
    #[serde(default = "service_links_default", skip_serializing_if = "is_true")]
    pub enable_service_links: bool,
    pub init_containers: Vec<ContainerState>,
    pub containers: Vec<ContainerState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub ports: Vec<ContainerPortState>,
    pub readiness_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPortState {
    pub name: Option<String>,
    pub container_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerRef {
    pub kind: OwnerKind,
    pub name: String,
}

/// The kind of a pod's controller. Deployment pods are owned by their ReplicaSet (lab
/// states written before ReplicaSets were modelled name the Deployment itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerKind {
    ReplicaSet,
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::ReplicaSet => "ReplicaSet",
            OwnerKind::Deployment => "Deployment",
            OwnerKind::StatefulSet => "StatefulSet",
            OwnerKind::DaemonSet => "DaemonSet",
        }
    }

    /// Every controller kind labctl models is in the `apps` group.
    pub fn api_version(self) -> &'static str {
        "apps/v1"
    }
}

impl From<WorkloadKind> for OwnerKind {
    fn from(kind: WorkloadKind) -> Self {
        match kind {
            WorkloadKind::Deployment => OwnerKind::Deployment,
            WorkloadKind::StatefulSet => OwnerKind::StatefulSet,
            WorkloadKind::DaemonSet => OwnerKind::DaemonSet,
        }
    }
}

/// What the lab's kubelet reports for a pod, which is what kubectl prints in STATUS: the
/// phase, or the reason of the container holding the pod back (kubectl's `printPod`).
/// Saved as that text (`Running`, `Init:0/1`, `CrashLoopBackOff`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PodPhase {
    /// Not started yet (a StatefulSet pod waits for its predecessor).
    #[default]
    Pending,
    /// `Init:<done>/<total>`: init containers still running.
    Init {
        done: usize,
        total: usize,
    },
    /// `Init:Error`: an init container failed under restartPolicy Never.
    InitError,
    /// `Init:CrashLoopBackOff`: an init container failed and waits to restart.
    InitCrashLoopBackOff,
    /// An app container is starting.
    ContainerCreating,
    Running,
    /// Every container exited 0 and is not restarted.
    Completed,
    /// A container failed and waits to restart.
    CrashLoopBackOff,
    /// A container failed and is not restarted.
    Error,
    /// The supervisor that runs the pods is gone: nothing knows their state.
    Unknown,
}

impl PodPhase {
    /// Whether the pod has not got past its init containers (describe's `Status:
    /// Pending`, condition `Initialized` False).
    pub fn is_initializing(self) -> bool {
        matches!(
            self,
            PodPhase::Pending | PodPhase::Init { .. } | PodPhase::InitError | PodPhase::InitCrashLoopBackOff
        )
    }
}

impl fmt::Display for PodPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            PodPhase::Pending => "Pending",
            PodPhase::Init { done, total } => return write!(f, "Init:{done}/{total}"),
            PodPhase::InitError => "Init:Error",
            PodPhase::InitCrashLoopBackOff => "Init:CrashLoopBackOff",
            PodPhase::ContainerCreating => "ContainerCreating",
            PodPhase::Running => "Running",
            PodPhase::Completed => "Completed",
            PodPhase::CrashLoopBackOff => "CrashLoopBackOff",
            PodPhase::Error => "Error",
            PodPhase::Unknown => "Unknown",
        };
        f.write_str(text)
    }
}

impl FromStr for PodPhase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "Pending" => PodPhase::Pending,
            "Init:Error" => PodPhase::InitError,
            "Init:CrashLoopBackOff" => PodPhase::InitCrashLoopBackOff,
            "ContainerCreating" => PodPhase::ContainerCreating,
            "Running" => PodPhase::Running,
            "Completed" => PodPhase::Completed,
            "CrashLoopBackOff" => PodPhase::CrashLoopBackOff,
            "Error" => PodPhase::Error,
            "Unknown" => PodPhase::Unknown,
            _ => {
                let counts = s.strip_prefix("Init:").and_then(|c| c.split_once('/'));
                match counts.and_then(|(d, t)| Some((d.parse().ok()?, t.parse().ok()?))) {
                    Some((done, total)) => PodPhase::Init { done, total },
                    None => return Err(format!("unknown pod phase {s:?}")),
                }
            }
        })
    }
}

impl Serialize for PodPhase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PodPhase {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodState {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: Labels,
    pub owner: Option<OwnerRef>,
    pub node: String,
    pub ip: Ipv4Addr,
    /// Network namespace name: `<lab>.<namespace>.<pod>`.
    pub netns: String,
    /// Node-side veth end, `cali` + 11 hex chars as Calico names it.
    pub host_veth: String,
    /// The pod's hostname (spec.hostname, else the pod name).
    pub hostname: String,
    /// spec.hostname as written (StatefulSet pods: the pod name); None when the
    /// hostname merely defaults to the pod name. Endpoints carry only this one.
    #[serde(default)]
    pub spec_hostname: Option<String>,
    pub subdomain: Option<String>,
    pub restart_policy: RestartPolicy,
    /// spec.enableServiceLinks: whether containers get `<SVC>_SERVICE_HOST`-style variables.
    /// Saved only when false, so that templates (and their pod-template-hash) stay as before.
    #[serde(default = "service_links_default", skip_serializing_if = "is_true")]
    pub enable_service_links: bool,
    pub init_containers: Vec<ContainerState>,
    pub containers: Vec<ContainerState>,
    pub ready: bool,
    pub phase: PodPhase,
    pub restarts: u32,
    pub created: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePortState {
    pub name: Option<String>,
    pub port: u16,
    pub target_port: IntOrString,
    pub protocol: Protocol,
    pub node_port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: Labels,
    pub service_type: ServiceType,
    /// None for headless and ExternalName services.
    pub cluster_ip: Option<Ipv4Addr>,
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePortState>,
    pub external_name: Option<String>,
    pub publish_not_ready_addresses: bool,
    pub session_affinity_client_ip: bool,
    pub session_affinity_timeout: u32,
    pub created: Timestamp,
}

impl ServiceState {
    pub fn is_headless(&self) -> bool {
        self.service_type != ServiceType::ExternalName && self.cluster_ip.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSliceState {
    pub name: String,
    pub namespace: String,
    pub service: String,
    pub endpoints: Vec<EndpointState>,
    pub ports: Vec<EndpointPortState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointState {
    pub address: Ipv4Addr,
    pub ready: bool,
    pub hostname: Option<String>,
    pub node_name: String,
    pub pod_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPortState {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

impl LabState {
    pub fn node(&self, name: &str) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<&PodState> {
        self.pods.iter().find(|p| p.namespace == namespace && p.name == name)
    }

    pub fn workload(&self, kind: WorkloadKind, namespace: &str, name: &str) -> Option<&WorkloadState> {
        self.workloads
            .iter()
            .find(|w| w.kind == kind && w.namespace == namespace && w.name == name)
    }

    /// The Service an EndpointSlice belongs to.
    pub fn service_of(&self, slice: &EndpointSliceState) -> Option<&ServiceState> {
        self.services
            .iter()
            .find(|s| s.namespace == slice.namespace && s.name == slice.service)
    }

    /// The pods `w` owns (see [`WorkloadState::owns`]), in state order.
    pub fn pods_of<'a>(&'a self, w: &'a WorkloadState) -> impl Iterator<Item = &'a PodState> + 'a {
        self.pods.iter().filter(move |p| w.owns(p))
    }

    /// The workload that owns `pod`, if any.
    pub fn owner_of(&self, pod: &PodState) -> Option<&WorkloadState> {
        self.workloads.iter().find(|w| w.owns(pod))
    }

    /// Every netns the lab owns, in creation order (fabric, nodes, pods).
    pub fn all_netns(&self) -> Vec<String> {
        let mut names = vec![self.fabric_netns.clone()];
        names.extend(self.nodes.iter().map(|n| n.netns.clone()));
        names.extend(self.pods.iter().map(|p| p.netns.clone()));
        names
    }
}

fn default_dns_ttl() -> u32 {
    30
}

/// Kubernetes' default for spec.enableServiceLinks (and what states saved before it had).
fn service_links_default() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state.json written before the state was typed reads back and writes out the
    /// same bytes (the store writes with `to_vec_pretty`).
    #[test]
    fn saved_state_round_trips_byte_for_byte() {
        let saved = include_str!("../../tests/golden/state-issue10.json");
        let state: LabState = serde_json::from_str(saved).expect("the saved state parses");
        let phases: Vec<PodPhase> = state.pods.iter().map(|p| p.phase).collect();
        assert!(phases.contains(&PodPhase::Init { done: 0, total: 1 }), "{phases:?}");
        assert!(phases.contains(&PodPhase::Unknown), "{phases:?}");
        assert_eq!(state.pods[5].owner.as_ref().unwrap().kind, OwnerKind::Deployment);
        assert_eq!(state.pods[7].restart_policy, RestartPolicy::Never);
        let written = serde_json::to_vec_pretty(&state).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), saved);
    }

    fn names<'a>(pods: impl Iterator<Item = &'a PodState>) -> Vec<&'a str> {
        pods.map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn workloads_own_their_pods_deployments_through_their_replicaset() {
        let mut lab = crate::fixture::resolved::seed();
        let deploy = lab
            .workload(WorkloadKind::Deployment, "default", "nginx-deployment")
            .unwrap()
            .clone();
        let sts = lab
            .workload(WorkloadKind::StatefulSet, "default", "redis")
            .unwrap()
            .clone();
        let ds = lab
            .workload(WorkloadKind::DaemonSet, "default", "multitool")
            .unwrap()
            .clone();
        assert_eq!(
            names(lab.pods_of(&deploy)),
            ["nginx-deployment-mhcgjsqjgm-95qjp", "nginx-deployment-mhcgjsqjgm-c8pnb"]
        );
        assert_eq!(names(lab.pods_of(&sts)), ["redis-0", "redis-1", "redis-2"]);
        assert_eq!(lab.pods_of(&ds).count(), lab.nodes.len());
        let redis0 = lab.pod("default", "redis-0").unwrap();
        assert_eq!(lab.owner_of(redis0).map(|w| w.name.as_str()), Some("redis"));

        // The same owner in another namespace is another workload's.
        let mut elsewhere = redis0.clone();
        elsewhere.namespace = "other".into();
        assert!(!sts.owns(&elsewhere));
        // A ReplicaSet of an older template is not the current one.
        let mut stale = lab.pods_of(&deploy).next().unwrap().clone();
        stale.owner.as_mut().unwrap().name = "nginx-deployment-0ld0ld0ld".into();
        assert!(!deploy.owns(&stale));

        // Older states: the Deployment itself as owner, or no template hash kept.
        for p in &mut lab.pods {
            if p.name.starts_with("nginx-deployment-") && p.name.ends_with("95qjp") {
                p.owner = Some(OwnerRef {
                    kind: OwnerKind::Deployment,
                    name: "nginx-deployment".into(),
                });
            }
        }
        assert_eq!(lab.pods_of(&deploy).count(), 2);
        let mut no_hash = deploy.clone();
        no_hash.template_hash = None;
        assert_eq!(lab.pods_of(&no_hash).count(), 2);
        no_hash.name = "nginx".into();
        assert_eq!(lab.pods_of(&no_hash).count(), 0);
    }

    #[test]
    fn pod_phase_text_is_kubectl_status() {
        for text in [
            "Pending",
            "Init:0/2",
            "Init:Error",
            "Init:CrashLoopBackOff",
            "ContainerCreating",
            "Running",
            "Completed",
            "CrashLoopBackOff",
            "Error",
            "Unknown",
        ] {
            let phase: PodPhase = text.parse().unwrap();
            assert_eq!(phase.to_string(), text);
        }
        for bad in ["", "running", "Init:1", "Init:a/2", "Succeeded"] {
            assert!(bad.parse::<PodPhase>().is_err(), "{bad:?}");
        }
        assert!("Init:1/2".parse::<PodPhase>().unwrap().is_initializing());
        assert!(!PodPhase::Running.is_initializing());
    }
}
