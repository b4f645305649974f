//! The labels Kubernetes components put on the objects they create, which `get -l`
//! selects on and `-o yaml` shows.

use super::state::{EndpointSliceState, Labels, NodeState, Role, ServiceState};

/// The labels kubelet (`kubernetes.io/{arch,hostname,os}`) and kubeadm (the
/// control-plane role) put on a node.
pub fn node(node: &NodeState) -> Labels {
    let mut l = Labels::new();
    l.insert("kubernetes.io/arch".into(), go_arch().into());
    l.insert("kubernetes.io/hostname".into(), node.name.clone());
    l.insert("kubernetes.io/os".into(), "linux".into());
    if node.role == Role::ControlPlane {
        l.insert("node-role.kubernetes.io/control-plane".into(), String::new());
    }
    l
}

/// The labels the EndpointSlice controller puts on a slice: its service's labels, then
/// `kubernetes.io/service-name`, `endpointslice.kubernetes.io/managed-by` and, for a
/// headless service, `service.kubernetes.io/headless` (`setEndpointSliceLabels` in
/// `pkg/controller/endpointslice/utils.go`). `service` is None once it is gone.
pub fn endpoint_slice(slice: &EndpointSliceState, service: Option<&ServiceState>) -> Labels {
    let mut l = service.map(|s| s.labels.clone()).unwrap_or_default();
    l.insert("kubernetes.io/service-name".into(), slice.service.clone());
    l.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        "endpointslice-controller.k8s.io".into(),
    );
    if service.is_some_and(ServiceState::is_headless) {
        l.insert("service.kubernetes.io/headless".into(), String::new());
    }
    l
}

/// Go's `runtime.GOARCH` name of the host architecture (nodes run on the host).
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_and_slices_carry_the_labels_kubernetes_gives_them() {
        let lab = crate::fixture::resolved::seed();
        let cp = node(&lab.nodes[0]);
        assert_eq!(cp["node-role.kubernetes.io/control-plane"], "");
        assert_eq!(cp["kubernetes.io/hostname"], lab.nodes[0].name);
        assert!(!node(&lab.nodes[1]).contains_key("node-role.kubernetes.io/control-plane"));

        let headless = lab
            .endpoint_slices
            .iter()
            .find(|s| s.service == "redis-headless")
            .unwrap();
        let l = endpoint_slice(headless, lab.service_of(headless));
        assert_eq!(l["kubernetes.io/service-name"], "redis-headless");
        assert_eq!(l["service.kubernetes.io/headless"], "");
        let vip = lab
            .endpoint_slices
            .iter()
            .find(|s| s.service == "nginx-clusterip")
            .unwrap();
        assert!(!endpoint_slice(vip, lab.service_of(vip)).contains_key("service.kubernetes.io/headless"));
        let gone = endpoint_slice(vip, None);
        assert_eq!(gone.len(), 2, "{gone:?}");
    }
}
