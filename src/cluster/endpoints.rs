//! The EndpointSlice controller: which pods back which service, on which ports.

use crate::spec::{IntOrString, selects};

use super::names;
use super::state::{EndpointPortState, EndpointSliceState, EndpointState, NodeState, PodState, ServiceState};
use crate::spec::ServiceType;

/// Re-derives every EndpointSlice from the lab's services and pods (after pods
/// changed readiness, or were added or removed).
pub fn refresh(state: &mut super::state::LabState) {
    if let Some(cp) = state.nodes.iter().find(|n| n.role == super::state::Role::ControlPlane) {
        state.endpoint_slices = endpoint_slices(&state.name, &state.services, &state.pods, cp);
    }
}

/// One slice per service with a selector (ExternalName services have none); the
/// apiserver's own slice for `default/kubernetes`.
pub fn endpoint_slices(
    lab: &str,
    services: &[ServiceState],
    pods: &[PodState],
    control_plane: &NodeState,
) -> Vec<EndpointSliceState> {
    services
        .iter()
        .filter_map(|svc| {
            if svc.namespace == "default" && svc.name == "kubernetes" {
                return Some(apiserver_slice(svc, control_plane));
            }
            let selector = svc.selector.as_ref()?;
            if svc.service_type == ServiceType::ExternalName {
                return None;
            }
            let backends: Vec<&PodState> = pods
                .iter()
                .filter(|p| p.namespace == svc.namespace && selects(selector, &p.labels))
                .collect();
            Some(EndpointSliceState {
                name: names::generated_name(&svc.name, &format!("{lab}/{}/{}/slice", svc.namespace, svc.name)),
                namespace: svc.namespace.clone(),
                service: svc.name.clone(),
                endpoints: backends.iter().map(|p| endpoint(svc, p)).collect(),
                ports: slice_ports(svc, backends.first().copied()),
            })
        })
        .collect()
}

/// The endpoint controller sets `hostname` only for a pod with spec.hostname whose
/// spec.subdomain names this service (pkg/controller/endpointslice/utils.go
/// podToEndpoint): that is what gives StatefulSet pods their own DNS names.
fn endpoint(svc: &ServiceState, pod: &PodState) -> EndpointState {
    let hostname = match (&pod.spec_hostname, &pod.subdomain) {
        (Some(h), Some(sub)) if *sub == svc.name => Some(h.clone()),
        _ => None,
    };
    EndpointState {
        address: pod.ip,
        ready: pod.ready,
        hostname,
        node_name: pod.node.clone(),
        pod_name: pod.name.clone(),
    }
}

/// Named target ports resolve against the pods' container ports; a name no pod
/// defines leaves that port out of the slice, as Kubernetes does.
fn slice_ports(svc: &ServiceState, sample: Option<&PodState>) -> Vec<EndpointPortState> {
    svc.ports
        .iter()
        .filter_map(|p| {
            let port = match &p.target_port {
                IntOrString::Int(n) => Some(*n),
                IntOrString::Str(name) => sample.and_then(|pod| {
                    pod.containers
                        .iter()
                        .flat_map(|c| &c.ports)
                        .find(|cp| cp.name.as_deref() == Some(name) && cp.protocol == p.protocol)
                        .map(|cp| cp.container_port)
                }),
            }?;
            Some(EndpointPortState {
                name: p.name.clone(),
                port,
                protocol: p.protocol,
            })
        })
        .collect()
}

fn apiserver_slice(svc: &ServiceState, control_plane: &NodeState) -> EndpointSliceState {
    EndpointSliceState {
        name: "kubernetes".into(),
        namespace: svc.namespace.clone(),
        service: svc.name.clone(),
        endpoints: vec![EndpointState {
            address: control_plane.ip,
            ready: true,
            hostname: None,
            node_name: control_plane.name.clone(),
            pod_name: String::new(),
        }],
        ports: svc
            .ports
            .iter()
            .map(|p| EndpointPortState {
                name: p.name.clone(),
                port: match p.target_port {
                    IntOrString::Int(n) => n,
                    IntOrString::Str(_) => p.port,
                },
                protocol: p.protocol,
            })
            .collect(),
    }
}
