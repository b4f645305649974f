//! Effects: network namespaces, rtnetlink, sysctls, processes inside namespaces.

pub mod addresses;
pub mod apply;
pub mod enter;
pub mod error;
pub mod exec;
pub mod iptables;
pub mod links;
pub mod netlink;
pub mod netns;
pub mod nft_commits;
pub mod plan;
pub mod pod_root;
pub mod procs;
pub mod routes;
pub mod sysctl;
pub mod teardown;
pub mod threads;
