//! The lab-wide services the supervisor keeps in step with the lab state:
//! the cluster DNS server in each CoreDNS pod, and kube-proxy's rules in each node.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::cluster::LabState;
use crate::dns::server::{ServerConfig, ServerHandle, SharedZone, bind_sockets_in_netns};
use crate::proxy::{self, NodeRules};

use super::supervisor::LabService;
use crate::cluster::images::{Launch, launch};

/// Unset: forward names outside the cluster zone to the host's resolv.conf
/// nameservers. Set: a comma-separated list of `ip:port` upstreams; empty means no
/// forwarding at all (such names get SERVFAIL). Tests set it empty so that no query
/// ever leaves the machine.
pub const UPSTREAMS_ENV: &str = "LABCTL_DNS_UPSTREAMS";

/// One DNS server per CoreDNS pod, all answering from one zone.
pub struct ClusterDns {
    zone: Option<SharedZone>,
    servers: BTreeMap<String, ServerHandle>,
}

impl ClusterDns {
    pub fn new() -> ClusterDns {
        ClusterDns {
            zone: None,
            servers: BTreeMap::new(),
        }
    }
}

impl Default for ClusterDns {
    fn default() -> Self {
        Self::new()
    }
}

impl LabService for ClusterDns {
    fn update(&mut self, state: &LabState) {
        let zone = self
            .zone
            .get_or_insert_with(|| SharedZone::from_state(state, state.networking.dns_ttl));
        zone.update(state);
        let dns_pods: Vec<_> = state
            .pods
            .iter()
            .filter(|p| p.containers.iter().any(|c| launch(c) == Ok(Launch::ClusterDns)))
            .collect();
        let gone: Vec<String> = self
            .servers
            .keys()
            .filter(|uid| !dns_pods.iter().any(|p| &&p.uid == uid))
            .cloned()
            .collect();
        for uid in gone {
            if let Some(server) = self.servers.remove(&uid) {
                let _ = server.shutdown();
            }
        }
        for pod in dns_pods {
            if self.servers.contains_key(&pod.uid) {
                continue;
            }
            let addr = SocketAddr::from(([0, 0, 0, 0], 53));
            let started = bind_sockets_in_netns(&pod.netns, addr, 2)
                .map_err(anyhow::Error::from)
                .and_then(|sockets| {
                    let mut config = ServerConfig::new(sockets);
                    if let Ok(list) = std::env::var(UPSTREAMS_ENV) {
                        config.upstreams = list.split(',').filter_map(|s| s.trim().parse().ok()).collect();
                    }
                    config.worker_threads = 1;
                    ServerHandle::spawn(config, zone.clone())
                });
            match started {
                Ok(server) => {
                    self.servers.insert(pod.uid.clone(), server);
                }
                Err(e) => eprintln!("supervisor: DNS in pod {}/{}: {e:#}", pod.namespace, pod.name),
            }
        }
    }
}

/// kube-proxy: rewrites only what changed since the rules it last applied
/// (partial sync).
pub struct KubeProxy {
    last: Option<NodeRules>,
}

impl KubeProxy {
    pub fn new() -> KubeProxy {
        KubeProxy { last: None }
    }
}

impl Default for KubeProxy {
    fn default() -> Self {
        Self::new()
    }
}

impl LabService for KubeProxy {
    fn update(&mut self, state: &LabState) {
        let rules = NodeRules::render(state);
        let result = match &self.last {
            None => proxy::sync::sync_lab(state, &rules),
            Some(old) => proxy::sync::update_lab(state, old, &rules),
        };
        match result {
            Ok(()) => self.last = Some(rules),
            Err(e) => {
                eprintln!("supervisor: kube-proxy sync: {e:#}");
                self.last = None; // full sync next time
            }
        }
    }
}
