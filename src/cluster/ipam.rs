//! Address management: node addresses on the fabric, Calico-style per-node pod
//! blocks, pod addresses inside a block, and ClusterIPs.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// The fabric's gateway, like the docker network's `.1` that kind nodes route through.
pub fn fabric_gateway(node_subnet: Ipv4Net) -> Ipv4Addr {
    nth_host(node_subnet, 1)
}

/// Node `i` (in topology order) gets `.2 + i`, as docker hands out addresses after the gateway.
pub fn node_ip(node_subnet: Ipv4Net, index: usize) -> Option<Ipv4Addr> {
    let offset = 2 + index as u32;
    (offset < host_span(node_subnet) - 1).then(|| nth_host(node_subnet, offset))
}

/// Node `i`'s IPAM block: the i-th `/block_size` of the pod subnet. Calico hands
/// blocks out at random; consecutive blocks keep the lab reproducible.
pub fn pod_block(pod_subnet: Ipv4Net, block_size: u8, index: usize) -> Option<Ipv4Net> {
    pod_subnet.subnets(block_size).ok()?.nth(index)
}

/// Pod addresses of a block: Calico uses every address of a block except the
/// first, which it gives the node's tunnel interface.
pub fn pod_capacity(block: Ipv4Net) -> usize {
    host_span(block) as usize - 1
}

pub fn pod_ip(block: Ipv4Net, index: usize) -> Option<Ipv4Addr> {
    (index < pod_capacity(block)).then(|| nth_host(block, 1 + index as u32))
}

/// The apiserver gives `kubernetes` the first address of the service range and
/// kubeadm gives `kube-dns` the tenth.
pub fn kubernetes_service_ip(service_subnet: Ipv4Net) -> Ipv4Addr {
    nth_host(service_subnet, 1)
}

pub fn dns_service_ip(service_subnet: Ipv4Net) -> Ipv4Addr {
    nth_host(service_subnet, 10)
}

/// Whether an address can be a ClusterIP: inside the range and neither its network
/// nor its broadcast address (the apiserver's allocator excludes both).
pub fn is_allocatable_cluster_ip(service_subnet: Ipv4Net, ip: Ipv4Addr) -> bool {
    service_subnet.contains(&ip) && ip != service_subnet.network() && ip != service_subnet.broadcast()
}

/// Hands out ClusterIPs: fixed ones are reserved first, then each automatic one
/// starts at a point derived from the service's name and probes upward, so adding
/// one service never moves another's address.
pub struct ClusterIpAllocator {
    subnet: Ipv4Net,
    used: BTreeSet<Ipv4Addr>,
}

impl ClusterIpAllocator {
    pub fn new(subnet: Ipv4Net) -> Self {
        ClusterIpAllocator {
            subnet,
            used: BTreeSet::new(),
        }
    }

    /// Reserves `ip`; false if it is taken already.
    pub fn reserve(&mut self, ip: Ipv4Addr) -> bool {
        self.used.insert(ip)
    }

    pub fn allocate(&mut self, key: &str) -> Option<Ipv4Addr> {
        let span = host_span(self.subnet);
        let usable = span.saturating_sub(2);
        if usable == 0 {
            return None;
        }
        let start = fnv1a(key) % usable;
        (0..usable)
            .map(|step| nth_host(self.subnet, 1 + (start + step) % usable))
            .find(|ip| !self.used.contains(ip))
            .inspect(|ip| {
                self.used.insert(*ip);
            })
    }
}

fn host_span(net: Ipv4Net) -> u32 {
    1u32.checked_shl(32 - net.prefix_len() as u32).unwrap_or(0).max(1)
}

fn nth_host(net: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()).wrapping_add(n))
}

fn fnv1a(s: &str) -> u32 {
    s.bytes()
        .fold(0x811c9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x01000193))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn nodes_follow_the_gateway() {
        let n = net("172.18.0.0/16");
        assert_eq!(fabric_gateway(n), Ipv4Addr::new(172, 18, 0, 1));
        assert_eq!(node_ip(n, 0), Some(Ipv4Addr::new(172, 18, 0, 2)));
        assert_eq!(node_ip(n, 2), Some(Ipv4Addr::new(172, 18, 0, 4)));
        // a /30 has .1 (gateway) and .2 only
        assert_eq!(node_ip(net("10.0.0.0/30"), 0), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(node_ip(net("10.0.0.0/30"), 1), None);
    }

    #[test]
    fn blocks_are_consecutive_and_disjoint() {
        let p = net("192.168.0.0/16");
        let b0 = pod_block(p, 26, 0).unwrap();
        let b1 = pod_block(p, 26, 1).unwrap();
        assert_eq!(b0, net("192.168.0.0/26"));
        assert_eq!(b1, net("192.168.0.64/26"));
        assert_eq!(pod_block(net("10.0.0.0/25"), 26, 2), None);
    }

    #[test]
    fn pod_ips_skip_the_block_address() {
        let b = net("192.168.0.64/26");
        assert_eq!(pod_capacity(b), 63);
        assert_eq!(pod_ip(b, 0), Some(Ipv4Addr::new(192, 168, 0, 65)));
        assert_eq!(pod_ip(b, 62), Some(Ipv4Addr::new(192, 168, 0, 127)));
        assert_eq!(pod_ip(b, 63), None);
    }

    #[test]
    fn well_known_service_ips() {
        let s = net("10.96.0.0/12");
        assert_eq!(kubernetes_service_ip(s), Ipv4Addr::new(10, 96, 0, 1));
        assert_eq!(dns_service_ip(s), Ipv4Addr::new(10, 96, 0, 10));
        assert!(!is_allocatable_cluster_ip(s, Ipv4Addr::new(10, 96, 0, 0)));
        assert!(!is_allocatable_cluster_ip(s, Ipv4Addr::new(10, 112, 0, 1)));
        assert!(is_allocatable_cluster_ip(s, Ipv4Addr::new(10, 96, 204, 67)));
    }

    #[test]
    fn allocator_is_stable_and_never_repeats() {
        let s = net("10.96.0.0/28");
        let mut a = ClusterIpAllocator::new(s);
        let mut b = ClusterIpAllocator::new(s);
        assert_eq!(a.allocate("default/x"), b.allocate("default/x"));
        let mut all = BTreeSet::new();
        let mut c = ClusterIpAllocator::new(s);
        for i in 0..14 {
            let ip = c.allocate(&format!("svc{i}")).unwrap();
            assert!(is_allocatable_cluster_ip(s, ip));
            assert!(all.insert(ip));
        }
        assert_eq!(c.allocate("one-too-many"), None);
    }

    #[test]
    fn reserved_addresses_are_skipped() {
        let s = net("10.96.0.0/30");
        let mut a = ClusterIpAllocator::new(s);
        assert!(a.reserve(Ipv4Addr::new(10, 96, 0, 1)));
        assert!(!a.reserve(Ipv4Addr::new(10, 96, 0, 1)));
        assert_eq!(a.allocate("x"), Some(Ipv4Addr::new(10, 96, 0, 2)));
    }
}
