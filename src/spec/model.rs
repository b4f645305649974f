//! Typed topology and manifest objects as written by the user, each carrying the
//! position it came from so that later semantic checks can point at it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// A place in a source file, 1-based like every editor and compiler.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pos {
    pub file: String,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> At<T> {
    pub fn new(value: T, pos: Pos) -> Self {
        At { value, pos }
    }
}

pub type Labels = BTreeMap<String, String>;

/// Whether `labels` satisfy an equality-based selector (`matchLabels`, a Service's
/// `selector`): every key of the selector is there with its value (apimachinery
/// `labels.SelectorFromSet`). An empty selector selects everything.
pub fn selects(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(key, value)| labels.get(key) == Some(value))
}

#[derive(Debug, Clone)]
pub struct Topology {
    /// The topology file itself (as given on the command line).
    pub file: String,
    pub name: At<String>,
    pub nodes: Vec<At<NodeRole>>,
    pub networking: Networking,
    pub objects: Vec<Object>,
    /// The topology's own `checks:`, run by `labctl verify` after the derived ones.
    pub checks: Vec<CheckSpec>,
    /// One line per ignored field, already formatted as `file:line:col: warning: ...`.
    pub warnings: Vec<String>,
    /// Namespaces that exist already (a running lab's, for `labctl apply -f`):
    /// objects may live in them without declaring them.
    pub existing_namespaces: Vec<String>,
}

/// One entry of the topology's `checks:` list: a command run in a pod or node, with the
/// output (regular expression) and/or exit code it must give.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    pub name: At<String>,
    /// A pod, a node, `node/<suffix>` (`node/worker2`) or `<kind>/<name>` of a workload.
    pub target: At<String>,
    /// Namespace of the pod or workload; "default" when not written.
    pub namespace: String,
    /// A string is run with `sh -c`.
    pub command: Vec<String>,
    /// Extended regular expression (POSIX ERE, as `grep -E`) the output must match.
    pub expect: Option<String>,
    /// Exit code the command must end with; 0 when neither this nor `expect` is written.
    pub exit_code: Option<i32>,
    /// Where the entry starts.
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    ControlPlane,
    Worker,
}

#[derive(Debug, Clone)]
pub struct Networking {
    pub node_subnet: At<Ipv4Net>,
    pub pod_subnet: At<Ipv4Net>,
    pub pod_block_size: At<u8>,
    pub service_subnet: At<Ipv4Net>,
    pub dns_domain: At<String>,
    /// TTL of the cluster DNS records (CoreDNS `ttl`, 30 by default).
    pub dns_ttl: At<u32>,
}

#[derive(Debug, Clone)]
pub enum Object {
    Namespace(Meta),
    Pod(PodObject),
    Deployment(Workload),
    StatefulSet(Workload),
    DaemonSet(Workload),
    Service(ServiceObject),
}

impl Object {
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Namespace(_) => "Namespace",
            Object::Pod(_) => "Pod",
            Object::Deployment(_) => "Deployment",
            Object::StatefulSet(_) => "StatefulSet",
            Object::DaemonSet(_) => "DaemonSet",
            Object::Service(_) => "Service",
        }
    }

    pub fn meta(&self) -> &Meta {
        match self {
            Object::Namespace(m) => m,
            Object::Pod(p) => &p.meta,
            Object::Deployment(w) | Object::StatefulSet(w) | Object::DaemonSet(w) => &w.meta,
            Object::Service(s) => &s.meta,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Meta {
    pub name: At<String>,
    /// "default" when not written; for a Namespace object, its own name.
    pub namespace: At<String>,
    pub labels: Labels,
    /// Where the object starts (its `kind:` line).
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct PodObject {
    pub meta: Meta,
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Default)]
pub struct PodSpec {
    pub hostname: Option<At<String>>,
    pub subdomain: Option<At<String>>,
    pub node_name: Option<At<String>>,
    pub restart_policy: Option<RestartPolicy>,
    /// spec.enableServiceLinks as written (Kubernetes defaults it to true).
    pub enable_service_links: Option<bool>,
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub name: At<String>,
    pub image: At<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Only `value:` entries; `valueFrom` is accepted with a warning and skipped.
    pub env: Vec<(String, String)>,
    pub ports: Vec<ContainerPort>,
    pub readiness_probe: Option<Probe>,
    /// `workingDir`: an absolute path inside the pod's root.
    pub working_dir: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub container_port: u16,
    pub protocol: Protocol,
    pub pos: Pos,
}

/// `spec.restartPolicy` of a pod (Always when not written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum RestartPolicy {
    #[default]
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub const ALL: [RestartPolicy; 3] = [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(u16),
    Str(String),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProbeAction {
    Exec { command: Vec<String> },
    TcpSocket { port: IntOrString },
    HttpGet { path: String, port: IntOrString },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub action: ProbeAction,
    pub initial_delay_seconds: u32,
    pub period_seconds: u32,
    pub timeout_seconds: u32,
    pub success_threshold: u32,
    pub failure_threshold: u32,
    #[serde(skip)]
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct PodTemplate {
    pub labels: Labels,
    /// Where `template.metadata.labels` is (or the template, if it has no labels).
    pub labels_pos: Pos,
    pub spec: PodSpec,
}

/// Deployment, StatefulSet or DaemonSet.
#[derive(Debug, Clone)]
pub struct Workload {
    pub meta: Meta,
    /// 1 when not written; ignored for DaemonSets.
    pub replicas: At<u32>,
    /// `spec.selector.matchLabels`.
    pub selector: At<Labels>,
    /// StatefulSet `spec.serviceName`.
    pub service_name: Option<At<String>>,
    /// StatefulSet `spec.podManagementPolicy` (OrderedReady when not written).
    pub pod_management_policy: Option<String>,
    pub template: PodTemplate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalName,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterIpSpec {
    /// Not written (or ""): allocate one from serviceSubnet.
    Auto,
    /// `clusterIP: None`: headless.
    Headless,
    Fixed(Ipv4Addr),
}

#[derive(Debug, Clone)]
pub struct ServicePortSpec {
    pub name: Option<String>,
    pub port: u16,
    /// Defaults to `port` when not written.
    pub target_port: IntOrString,
    pub protocol: Protocol,
    pub node_port: Option<u16>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct ServiceObject {
    pub meta: Meta,
    pub service_type: ServiceType,
    pub cluster_ip: At<ClusterIpSpec>,
    /// None when the service has no selector (its endpoints are managed by hand).
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePortSpec>,
    pub external_name: Option<String>,
    pub publish_not_ready_addresses: bool,
    pub session_affinity_client_ip: bool,
    /// `sessionAffinityConfig.clientIP.timeoutSeconds`, 10800 by default.
    pub session_affinity_timeout: u32,
}
