//! Manifests for a running lab (`kubectl apply -f` YAML), read with the same
//! parser and checks as a topology's manifests, in the context of the lab: its
//! nodes, subnets and namespaces.

use crate::cluster::LabState;
use crate::cluster::state::Role;
use crate::spec::{self, SpecErrors, Topology};

/// Parses and checks manifest `text` (`file` names it in messages) for lab `lab`;
/// the objects and the warnings are in the returned topology.
pub fn parse(lab: &LabState, file: &str, text: &str) -> Result<Topology, SpecErrors> {
    spec::load_manifests(file, text, as_topology(lab, file))
}

/// What the manifests are checked against: the running lab as a topology.
fn as_topology(lab: &LabState, file: &str) -> spec::Topology {
    let pos = spec::Pos {
        file: file.to_string(),
        line: 1,
        col: 1,
    };
    let at = |value| spec::At::new(value, pos.clone());
    let net = &lab.networking;
    spec::Topology {
        file: file.to_string(),
        name: at(lab.name.clone()),
        nodes: lab
            .nodes
            .iter()
            .map(|n| {
                spec::At::new(
                    match n.role {
                        Role::ControlPlane => spec::NodeRole::ControlPlane,
                        Role::Worker => spec::NodeRole::Worker,
                    },
                    pos.clone(),
                )
            })
            .collect(),
        networking: spec::Networking {
            node_subnet: spec::At::new(net.node_subnet, pos.clone()),
            pod_subnet: spec::At::new(net.pod_subnet, pos.clone()),
            pod_block_size: spec::At::new(net.pod_block_size, pos.clone()),
            service_subnet: spec::At::new(net.service_subnet, pos.clone()),
            dns_domain: spec::At::new(net.dns_domain.clone(), pos.clone()),
            dns_ttl: spec::At::new(net.dns_ttl, pos.clone()),
        },
        objects: Vec::new(),
        checks: Vec::new(),
        warnings: Vec::new(),
        existing_namespaces: lab.namespaces.clone(),
    }
}
