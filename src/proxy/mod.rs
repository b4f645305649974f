//! kube-proxy, iptables mode: the rules every node gets, as a pure function of the
//! lab state (`rules`), the chain names it hashes (`names`), the restore inputs that
//! program them fully or incrementally (`plan`), and the thin glue that applies
//! those inputs inside each node's netns (`sync`).
//!
//! Layout, names and comments follow kubernetes/kubernetes
//! `pkg/proxy/iptables/proxier.go` (syncProxyRules, writeServiceToEndpointRules).

pub mod names;
pub mod plan;
pub mod rules;
pub mod sync;

pub use rules::{NodeRules, ProxyConfig, ServicePort};
