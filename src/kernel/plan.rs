//! The kernel objects a lab needs, as plain data. Built by pure code
//! (`cluster::netplan`), applied by `kernel::apply`, removed by `kernel::teardown`.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetPlan {
    /// Created in this order; removed in reverse.
    pub namespaces: Vec<NsPlan>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NsPlan {
    /// Name under /run/netns.
    pub name: String,
    /// The namespace exists already (a running lab's node): only add to it.
    #[serde(default)]
    pub existing: bool,
    /// Bridges created in this netns.
    pub bridges: Vec<String>,
    /// veth pairs whose local end is created in this netns; the peer is created
    /// directly inside `peer_ns` (which appears earlier or later in the plan).
    pub veths: Vec<VethPlan>,
    /// Written under /proc/sys from a thread inside this netns, after every link
    /// of the plan exists (so per-interface keys work), e.g.
    /// ("net/ipv4/conf/cali1234/proxy_arp", "1").
    pub sysctls: Vec<(String, String)>,
    /// (interface name, address/prefix).
    pub addresses: Vec<(String, Ipv4Net)>,
    /// Added in order, after every link of every netns is up.
    pub routes: Vec<RoutePlan>,
    /// Files written to /etc/netns/<name>/ (file name, contents): `ip netns exec`
    /// bind-mounts them over /etc/<file name>.
    pub etc_files: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VethPlan {
    pub name: String,
    pub mac: Option<[u8; 6]>,
    /// Enslave the local end to this bridge (in the same netns).
    pub master: Option<String>,
    pub peer_ns: String,
    pub peer_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutePlan {
    pub dst: Ipv4Net,
    pub gateway: Option<Ipv4Addr>,
    pub dev: Option<String>,
    /// `scope link` (a directly connected destination).
    pub scope_link: bool,
    /// `blackhole` type; gateway and dev are then None.
    pub blackhole: bool,
}
