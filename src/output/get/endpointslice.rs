//! EndpointSlices: `kubectl get endpointslices` and the EndpointSlice object. A slice is
//! as old as its service (the lab, if the service is gone).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Column, Context, Resource, columns, labels_value};
use crate::cluster::labels;
use crate::cluster::state::{EndpointSliceState, LabState};
use crate::output::time::age;

/// `kubectl get endpointslices`: `NAME ADDRESSTYPE PORTS ENDPOINTS AGE` (`-o wide` adds
/// nothing).
pub struct EndpointSlices;

impl Resource for EndpointSlices {
    type State = EndpointSliceState;

    fn columns(&self) -> Vec<Column> {
        columns(&["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], &[])
    }

    fn row(&self, cx: &Context, s: &EndpointSliceState) -> Vec<String> {
        let ports: Vec<String> = s.ports.iter().map(|p| p.port.to_string()).collect();
        let addrs: Vec<String> = s.endpoints.iter().map(|e| e.address.to_string()).collect();
        vec![
            s.name.clone(),
            "IPv4".to_string(),
            list_with_more(ports),
            list_with_more(addrs),
            age(created(cx.state, s), cx.now),
        ]
    }

    fn object(&self, cx: &Context, s: &EndpointSliceState) -> Value {
        endpointslice_object(cx.state, s)
    }
}

fn created(state: &LabState, slice: &EndpointSliceState) -> Timestamp {
    state.service_of(slice).map_or(state.created, |s| s.created)
}

/// kubectl's `listWithMoreString`: at most 3 items, then ` + N more...`; `<unset>` when
/// empty.
fn list_with_more(items: Vec<String>) -> String {
    const MAX: usize = 3;
    let count = items.len();
    let ret = items.into_iter().take(MAX).collect::<Vec<_>>().join(",");
    if count > MAX {
        format!("{ret} + {} more...", count - MAX)
    } else if ret.is_empty() {
        "<unset>".to_string()
    } else {
        ret
    }
}

/// An EndpointSlice as `kubectl get endpointslice <name> -o json` shows it: the labels
/// the controller gives it, owned by its Service; endpoints with conditions, `hostname`
/// only when set, `nodeName` and a `targetRef` to the pod; ports named `""` when the
/// service port has no name.
fn endpointslice_object(state: &LabState, slice: &EndpointSliceState) -> Value {
    let svc = state.service_of(slice);
    let mut metadata = json!({
        "name": slice.name,
        "namespace": slice.namespace,
        "generateName": format!("{}-", slice.service),
        "labels": labels_value(&labels::endpoint_slice(slice, svc)),
        "creationTimestamp": created(state, slice),
    });
    if let Some(s) = svc {
        metadata["ownerReferences"] = json!([{
            "apiVersion": "v1",
            "kind": "Service",
            "name": s.name,
            "uid": s.uid,
            "controller": true,
            "blockOwnerDeletion": true,
        }]);
    }
    let endpoints: Vec<Value> = slice
        .endpoints
        .iter()
        .map(|e| {
            let mut v = json!({
                "addresses": [e.address.to_string()],
                "conditions": {"ready": e.ready, "serving": e.ready, "terminating": false},
            });
            if !e.node_name.is_empty() {
                v["nodeName"] = e.node_name.clone().into();
            }
            if let Some(h) = &e.hostname {
                v["hostname"] = h.clone().into();
            }
            if !e.pod_name.is_empty() {
                let mut target = json!({
                    "kind": "Pod",
                    "name": e.pod_name,
                    "namespace": slice.namespace,
                });
                if let Some(p) = state.pod(&slice.namespace, &e.pod_name) {
                    target["uid"] = p.uid.clone().into();
                }
                v["targetRef"] = target;
            }
            v
        })
        .collect();
    let ports: Vec<Value> = slice
        .ports
        .iter()
        .map(|p| {
            json!({
                "name": p.name.clone().unwrap_or_default(),
                "port": p.port,
                "protocol": p.protocol.as_str(),
            })
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": metadata,
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    })
}
