//! The objects every kind cluster has before the user applies anything: CoreDNS
//! (Deployment `kube-system/coredns`, 2 replicas, on the control plane) behind the
//! kube-dns Service. Written as manifests, so that the controllers treat them like
//! the user's.

use crate::spec::{At, Container, ContainerPort, Labels, Meta, Object, PodSpec, PodTemplate, Pos, Protocol, Workload};

pub const COREDNS_IMAGE: &str = "registry.k8s.io/coredns/coredns:v1.10.1";
pub const DNS_APP_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

pub fn objects(control_plane: &str) -> Vec<Object> {
    vec![coredns(control_plane)]
}

fn coredns(control_plane: &str) -> Object {
    let pos = Pos {
        file: "<built-in kube-system/coredns>".into(),
        line: 1,
        col: 1,
    };
    let at = |s: &str| At::new(s.to_string(), pos.clone());
    let labels: Labels = [(DNS_APP_LABEL.0.to_string(), DNS_APP_LABEL.1.to_string())].into();
    let port = |name: &str, number: u16, protocol: Protocol| ContainerPort {
        name: Some(name.into()),
        container_port: number,
        protocol,
        pos: pos.clone(),
    };
    let container = Container {
        name: at("coredns"),
        image: at(COREDNS_IMAGE),
        command: Vec::new(),
        args: vec!["-conf".into(), "/etc/coredns/Corefile".into()],
        env: Vec::new(),
        ports: vec![
            port("dns", 53, Protocol::Udp),
            port("dns-tcp", 53, Protocol::Tcp),
            port("metrics", 9153, Protocol::Tcp),
        ],
        readiness_probe: None,
        working_dir: None,
        pos: pos.clone(),
    };
    Object::Deployment(Workload {
        meta: Meta {
            name: at("coredns"),
            namespace: at("kube-system"),
            labels: labels.clone(),
            pos: pos.clone(),
        },
        replicas: At::new(2, pos.clone()),
        selector: At::new(labels.clone(), pos.clone()),
        service_name: None,
        pod_management_policy: None,
        template: PodTemplate {
            labels,
            labels_pos: pos.clone(),
            spec: PodSpec {
                node_name: Some(at(control_plane)),
                containers: vec![container],
                ..Default::default()
            },
        },
    })
}
