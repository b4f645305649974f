//! The resolved lab: every object with its final name, address and placement.
//! This is what the store saves and what every other layer derives from.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::spec::{IntOrString, Probe, Protocol, ServiceType};

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabState {
    pub name: String,
    /// Absolute path of the topology file it was deployed from.
    pub topology_file: String,
    /// RFC 3339, UTC.
    pub created: String,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateState {
    pub labels: Labels,
    pub hostname: Option<String>,
    pub subdomain: Option<String>,
    pub restart_policy: String,
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
    pub kind: String,
    pub name: String,
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
    pub restart_policy: String,
    /// spec.enableServiceLinks: whether containers get `<SVC>_SERVICE_HOST`-style variables.
    /// Saved only when false, so that templates (and their pod-template-hash) stay as before.
    #[serde(default = "service_links_default", skip_serializing_if = "is_true")]
    pub enable_service_links: bool,
    pub init_containers: Vec<ContainerState>,
    pub containers: Vec<ContainerState>,
    pub ready: bool,
    pub phase: String,
    pub restarts: u32,
    /// RFC 3339, UTC.
    pub created: String,
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
    pub created: String,
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
