//! Nodes: `kubectl get nodes` and the Node object. Nodes are as old as the lab and run
//! the host's kernel.

use serde_json::{Value, json};

use super::{Column, Context, Resource, columns, labels_value, none_if_empty};
use crate::cluster::labels;
use crate::cluster::state::{NodeState, Role};
use crate::output::time::age;

/// The kubelet version nodes report (`VERSION` column, `status.nodeInfo.kubeletVersion`):
/// the Kubernetes version whose behaviour labctl reproduces (kind's `kindest/node:v1.28.0`
/// in the seed lab), with `+labctl` build metadata the way distributions mark theirs
/// (`v1.28.3+k3s1`), so that no one mistakes it for a real kubelet.
pub const KUBELET_VERSION: &str = "v1.28.0+labctl";

/// `OS-IMAGE` of every node (`status.nodeInfo.osImage`).
pub const OS_IMAGE: &str = "labctl netns";

/// `CONTAINER-RUNTIME` of every node: `labctl://<labctl version>`, shaped like
/// `containerd://1.7.1`.
pub fn container_runtime() -> String {
    format!("labctl://{}", env!("CARGO_PKG_VERSION"))
}

/// `kubectl get nodes`: `NAME STATUS ROLES AGE VERSION`; `-o wide` adds `INTERNAL-IP
/// EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME`.
pub struct Nodes;

impl Resource for Nodes {
    type State = NodeState;
    const NAMESPACED: bool = false;

    fn columns(&self) -> Vec<Column> {
        columns(
            &["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            &[
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ],
        )
    }

    fn row(&self, cx: &Context, n: &NodeState) -> Vec<String> {
        vec![
            n.name.clone(),
            "Ready".to_string(),
            roles(n).to_string(),
            age(cx.state.created, cx.now),
            KUBELET_VERSION.to_string(),
            n.ip.to_string(),
            "<none>".to_string(),
            OS_IMAGE.to_string(),
            none_if_empty(cx.kernel.to_string()),
            container_runtime(),
        ]
    }

    /// Labels, pod CIDR, addresses, the Ready condition, nodeInfo.
    fn object(&self, cx: &Context, node: &NodeState) -> Value {
        let created = cx.state.created;
        json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": node.name,
                "labels": labels_value(&labels::node(node)),
                "creationTimestamp": created,
            },
            "spec": {
                "podCIDR": node.pod_block.to_string(),
                "podCIDRs": [node.pod_block.to_string()],
            },
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": node.ip.to_string()},
                    {"type": "Hostname", "address": node.name},
                ],
                "conditions": [{
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": created,
                    "lastTransitionTime": created,
                }],
                "nodeInfo": {
                    "architecture": labels::go_arch(),
                    "containerRuntimeVersion": container_runtime(),
                    "kernelVersion": cx.kernel,
                    "kubeletVersion": KUBELET_VERSION,
                    "kubeProxyVersion": KUBELET_VERSION,
                    "operatingSystem": "linux",
                    "osImage": OS_IMAGE,
                },
            },
        })
    }
}

fn roles(node: &NodeState) -> &'static str {
    match node.role {
        Role::ControlPlane => "control-plane",
        Role::Worker => "<none>",
    }
}
