//! Services: `kubectl get services` and the Service object.

use serde_json::{Map, Value, json};

use super::pod::int_or_string;
use super::{Column, Context, Resource, columns, format_labels, labels_value, none_if_empty, object_meta};
use crate::cluster::state::ServiceState;
use crate::output::time::age;
use crate::spec::ServiceType;

/// `kubectl get services`: `NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE`, `-o wide`
/// adds `SELECTOR`.
pub struct Services;

impl Resource for Services {
    type State = ServiceState;

    fn columns(&self) -> Vec<Column> {
        columns(
            &["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
            &["SELECTOR"],
        )
    }

    fn row(&self, cx: &Context, s: &ServiceState) -> Vec<String> {
        vec![
            s.name.clone(),
            service_type_str(s.service_type).to_string(),
            cluster_ip(s).unwrap_or_else(|| "<none>".to_string()),
            external_ip(s),
            port_string(s),
            age(s.created, cx.now),
            format_labels(s.selector.as_ref()),
        ]
    }

    fn object(&self, _cx: &Context, s: &ServiceState) -> Value {
        service_object(s)
    }
}

fn service_type_str(t: ServiceType) -> &'static str {
    match t {
        ServiceType::ClusterIP => "ClusterIP",
        ServiceType::NodePort => "NodePort",
        ServiceType::LoadBalancer => "LoadBalancer",
        ServiceType::ExternalName => "ExternalName",
    }
}

/// `spec.clusterIP` as the API shows it: the VIP, `None` for headless, absent for
/// ExternalName.
fn cluster_ip(svc: &ServiceState) -> Option<String> {
    match (svc.service_type, svc.cluster_ip) {
        (ServiceType::ExternalName, _) => None,
        (_, Some(ip)) => Some(ip.to_string()),
        (_, None) => Some("None".to_string()),
    }
}

/// kubectl's `getServiceExternalIP` (no external IPs or load-balancer status in a lab).
fn external_ip(svc: &ServiceState) -> String {
    match svc.service_type {
        ServiceType::ClusterIP | ServiceType::NodePort => "<none>".to_string(),
        ServiceType::LoadBalancer => "<pending>".to_string(),
        ServiceType::ExternalName => svc.external_name.clone().unwrap_or_default(),
    }
}

/// kubectl's `makePortString`: `80/TCP`, `80:30080/TCP`, comma-joined.
fn port_string(svc: &ServiceState) -> String {
    let ports: Vec<String> = svc
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(np) => format!("{}:{np}/{}", p.port, p.protocol.as_str()),
            None => format!("{}/{}", p.port, p.protocol.as_str()),
        })
        .collect();
    none_if_empty(ports.join(","))
}

/// A Service as `kubectl get service <name> -o json` shows it.
fn service_object(svc: &ServiceState) -> Value {
    let metadata = object_meta(&svc.name, &svc.namespace, &svc.uid, svc.created, &svc.labels);
    let mut spec = Map::new();
    spec.insert("type".into(), service_type_str(svc.service_type).into());
    spec.insert(
        "sessionAffinity".into(),
        if svc.session_affinity_client_ip {
            "ClientIP"
        } else {
            "None"
        }
        .into(),
    );
    if svc.session_affinity_client_ip {
        spec.insert(
            "sessionAffinityConfig".into(),
            json!({"clientIP": {"timeoutSeconds": svc.session_affinity_timeout}}),
        );
    }
    if let Some(ip) = cluster_ip(svc) {
        spec.insert("clusterIP".into(), ip.clone().into());
        spec.insert("clusterIPs".into(), json!([ip]));
        spec.insert("internalTrafficPolicy".into(), "Cluster".into());
        spec.insert("ipFamilies".into(), json!(["IPv4"]));
        spec.insert("ipFamilyPolicy".into(), "SingleStack".into());
    }
    if let Some(name) = &svc.external_name {
        spec.insert("externalName".into(), name.clone().into());
    }
    if matches!(svc.service_type, ServiceType::NodePort | ServiceType::LoadBalancer) {
        spec.insert("externalTrafficPolicy".into(), "Cluster".into());
    }
    if svc.service_type == ServiceType::LoadBalancer {
        spec.insert("allocateLoadBalancerNodePorts".into(), true.into());
    }
    if !svc.ports.is_empty() {
        let ports = svc
            .ports
            .iter()
            .map(|p| {
                let mut v = json!({
                    "port": p.port,
                    "protocol": p.protocol.as_str(),
                    "targetPort": int_or_string(&p.target_port),
                });
                if let Some(name) = &p.name {
                    v["name"] = name.clone().into();
                }
                if let Some(np) = p.node_port {
                    v["nodePort"] = np.into();
                }
                v
            })
            .collect();
        spec.insert("ports".into(), Value::Array(ports));
    }
    if let Some(sel) = &svc.selector
        && !sel.is_empty()
    {
        spec.insert("selector".into(), labels_value(sel));
    }
    if svc.publish_not_ready_addresses {
        spec.insert("publishNotReadyAddresses".into(), true.into());
    }
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": spec,
        "status": {"loadBalancer": {}},
    })
}
