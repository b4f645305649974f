//! The environment kubelet gives a container (pkg/kubelet/envvars/envvars.go):
//! the manifest's env, HOSTNAME, and Docker-links-style variables for every service
//! with a ClusterIP in the pod's namespace (unless the pod sets `enableServiceLinks:
//! false`) plus `default/kubernetes`.

use crate::cluster::state::{ContainerState, LabState, PodState, ServiceState};

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn container_env(state: &LabState, pod: &PodState, c: &ContainerState) -> Vec<(String, String)> {
    let mut env = vec![
        ("PATH".to_string(), container_path(&c.image)),
        ("HOME".to_string(), "/root".to_string()),
        ("HOSTNAME".to_string(), pod.hostname.clone()),
    ];
    let services = state
        .services
        .iter()
        .filter(|s| s.cluster_ip.is_some() && is_linked(s, pod));
    for s in services {
        env.extend(service_env(s));
    }
    // The manifest's own values win over generated ones (kubelet appends them last).
    for (k, v) in &c.env {
        env.retain(|(key, _)| key != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

/// The default PATH, after the image's toolset (`cluster::images`) if it has one.
pub fn container_path(image: &str) -> String {
    match crate::cluster::images::toolset(image) {
        Some(toolset) => format!(
            "{}/{}:{DEFAULT_PATH}",
            crate::kernel::pod_root::TOOLS_IN_POD,
            toolset.name
        ),
        None => DEFAULT_PATH.to_string(),
    }
}

/// kubelet's getServiceEnvVarMap (pkg/kubelet/kubelet_pods.go): the API server's own
/// service always, the other services of the pod's namespace only with service links.
fn is_linked(s: &ServiceState, pod: &PodState) -> bool {
    is_api_server(s) || is_link(s, pod)
}

fn is_api_server(s: &ServiceState) -> bool {
    s.namespace == "default" && s.name == "kubernetes"
}

/// A service announced only because of `enableServiceLinks` (true by default).
fn is_link(s: &ServiceState, pod: &PodState) -> bool {
    pod.enable_service_links && s.namespace == pod.namespace && !is_api_server(s)
}

/// What `argv` and `env` take of execve(2)'s budget: each string with its NUL, and a
/// pointer to it (fs/exec.c counts the strings against a quarter of the stack limit).
pub fn exec_size(argv: &[String], env: &[(String, String)]) -> usize {
    let pointer = std::mem::size_of::<usize>();
    let args: usize = argv.iter().map(|a| a.len() + 1 + pointer).sum();
    let vars: usize = env.iter().map(|(k, v)| k.len() + v.len() + 2 + pointer).sum();
    args + vars
}

/// How many variables of a container's environment `enableServiceLinks: false` would
/// leave out (`<SVC>_SERVICE_HOST` and the rest, for the services of its namespace).
pub fn service_link_count(state: &LabState, pod: &PodState) -> usize {
    state
        .services
        .iter()
        .filter(|s| s.cluster_ip.is_some() && is_link(s, pod))
        .map(|s| service_env(s).len())
        .sum()
}

/// FOO_SERVICE_HOST, FOO_SERVICE_PORT[_NAME], FOO_PORT, FOO_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR].
fn service_env(s: &ServiceState) -> Vec<(String, String)> {
    let Some(ip) = s.cluster_ip else {
        return Vec::new();
    };
    let name = s.name.to_ascii_uppercase().replace('-', "_");
    let mut env = vec![(format!("{name}_SERVICE_HOST"), ip.to_string())];
    let Some(first) = s.ports.first() else {
        return env;
    };
    env.push((format!("{name}_SERVICE_PORT"), first.port.to_string()));
    for p in &s.ports {
        if let Some(port_name) = &p.name {
            let key = port_name.to_ascii_uppercase().replace('-', "_");
            env.push((format!("{name}_SERVICE_PORT_{key}"), p.port.to_string()));
        }
    }
    let proto = |p: &crate::cluster::state::ServicePortState| p.protocol.as_str().to_ascii_lowercase();
    env.push((
        format!("{name}_PORT"),
        format!("{}://{ip}:{}", proto(first), first.port),
    ));
    for p in &s.ports {
        let prefix = format!("{name}_PORT_{}_{}", p.port, p.protocol.as_str());
        env.push((prefix.clone(), format!("{}://{ip}:{}", proto(p), p.port)));
        env.push((format!("{prefix}_PROTO"), proto(p)));
        env.push((format!("{prefix}_PORT"), p.port.to_string()));
        env.push((format!("{prefix}_ADDR"), ip.to_string()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> LabState {
        crate::fixture::resolved::seed()
    }

    fn get<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn services_of_the_namespace_and_kubernetes_are_announced() {
        let s = seed();
        let pod = s.pod("default", "redis-0").unwrap();
        let env = container_env(&s, pod, &pod.containers[0]);
        assert_eq!(get(&env, "HOSTNAME"), Some("redis-0"));
        assert_eq!(get(&env, "KUBERNETES_SERVICE_HOST"), Some("10.96.0.1"));
        assert_eq!(get(&env, "KUBERNETES_SERVICE_PORT"), Some("443"));
        assert_eq!(get(&env, "KUBERNETES_SERVICE_PORT_HTTPS"), Some("443"));
        assert_eq!(get(&env, "KUBERNETES_PORT"), Some("tcp://10.96.0.1:443"));
        assert_eq!(get(&env, "NGINX_CLUSTERIP_SERVICE_HOST"), Some("10.96.204.67"));
        assert_eq!(get(&env, "NGINX_CLUSTERIP_PORT_80_TCP_ADDR"), Some("10.96.204.67"));
        // headless services have no VIP to announce; kube-dns lives in another namespace
        assert_eq!(get(&env, "NGINX_HEADLESS_SERVICE_HOST"), None);
        assert_eq!(get(&env, "KUBE_DNS_SERVICE_HOST"), None);
    }

    #[test]
    fn without_service_links_only_the_api_server_is_announced() {
        let mut s = seed();
        let pod = s.pods.iter_mut().find(|p| p.name == "redis-0").unwrap();
        pod.enable_service_links = false;
        let pod = s.pod("default", "redis-0").unwrap();
        let env = container_env(&s, pod, &pod.containers[0]);
        assert_eq!(get(&env, "KUBERNETES_SERVICE_HOST"), Some("10.96.0.1"));
        assert_eq!(get(&env, "NGINX_CLUSTERIP_SERVICE_HOST"), None);
        assert_eq!(get(&env, "NGINX_CLUSTERIP_PORT"), None);
    }

    #[test]
    fn the_manifest_env_wins() {
        let s = seed();
        let pod = s.pod("default", "redis-0").unwrap();
        let mut c = pod.containers[0].clone();
        c.env.push(("HOSTNAME".into(), "custom".into()));
        assert_eq!(get(&container_env(&s, pod, &c), "HOSTNAME"), Some("custom"));
    }
}
