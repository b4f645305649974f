//! Deterministic names: kind's node names, Kubernetes' generated pod names,
//! Calico's host-side veth names, and the lab's netns names.

use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

/// kind names the first control-plane `<cluster>-control-plane` and workers
/// `<cluster>-worker`, `<cluster>-worker2`, ... (kind pkg/cluster/internal/create/actions/config).
pub fn node_name(lab: &str, worker_index: Option<usize>) -> String {
    match worker_index {
        None => format!("{lab}-control-plane"),
        Some(0) => format!("{lab}-worker"),
        Some(i) => format!("{lab}-worker{}", i + 1),
    }
}

/// Lab names, namespaces and pod names never contain '.', but a pod name may, so
/// `<lab>.<namespace>.<pod>` is unambiguous and never collides with a node name.
pub fn pod_netns(lab: &str, namespace: &str, pod: &str) -> String {
    format!("{lab}.{namespace}.{pod}")
}

pub fn fabric_netns(lab: &str) -> String {
    format!("{lab}.fabric")
}

/// Whether a netns name is one lab `lab` makes, read from the name alone (for a
/// teardown without state): a node, `<lab>-control-plane[N]` or `<lab>-worker[N]`
/// exactly, or a pod or the fabric, `<lab>.<anything>`. Lab names hold no '.', so
/// lab `a` never claims lab `a-b`'s namespaces (`a-b-worker`, `a-b.fabric`).
pub fn is_lab_netns(lab: &str, netns: &str) -> bool {
    let Some(rest) = netns.strip_prefix(lab) else {
        return false;
    };
    if let Some(inside) = rest.strip_prefix('.') {
        return !inside.is_empty();
    }
    let Some(node) = rest.strip_prefix('-') else {
        return false;
    };
    ["control-plane", "worker"].iter().any(|role| {
        node.strip_prefix(role)
            .is_some_and(|n| n.is_empty() || (n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0')))
    })
}

/// The longest hostname: 64 bytes with the NUL (sethostname(2), HOST_NAME_MAX).
const MAX_HOSTNAME: usize = 63;

/// The hostname kubelet gives a pod: spec.hostname, else the pod name, cut to 63
/// characters and then of any trailing '-' or '.' (pkg/kubelet/kubelet_pods.go
/// `truncatePodHostnameIfNeeded`). Pod names are ASCII, so the cut is on a character.
pub fn pod_hostname(pod: &str, spec_hostname: Option<&str>) -> String {
    let hostname = spec_hostname.unwrap_or(pod);
    if hostname.len() <= MAX_HOSTNAME {
        return hostname.to_string();
    }
    let cut = hostname.get(..MAX_HOSTNAME).unwrap_or(hostname);
    cut.trim_end_matches(['-', '.']).to_string()
}

/// The longest StatefulSet pod name: the StatefulSet controller also writes it into the
/// pod's spec.hostname and `statefulset.kubernetes.io/pod-name` label, both DNS labels.
pub const MAX_STATEFULSET_POD_NAME: usize = 63;

/// Calico names the host side of a pod's veth `cali` + the first 11 hex digits of
/// a hash of the workload id (libcalico-go `VethNameForWorkload`), 15 bytes: the
/// kernel's IFNAMSIZ limit. Calico hashes with SHA-1; SHA-256 serves the same purpose.
pub fn host_veth(namespace: &str, pod: &str) -> String {
    let digest = Sha256::digest(format!("{namespace}.{pod}").as_bytes());
    format!("cali{}", &HEXLOWER.encode(&digest)[..11])
}

/// The alphabet of apimachinery's `rand.SafeEncodeString`: no vowels and no
/// characters that look alike, so generated names never spell words.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `n` characters of the safe alphabet derived from `seed`: what Kubernetes makes
/// randomly (pod name suffixes, pod-template-hash), made reproducible.
pub fn safe_string(seed: &str, n: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    digest
        .iter()
        .take(n)
        .map(|b| SAFE_ALPHABET[*b as usize % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// The ReplicaSet's `pod-template-hash` label: 10 safe characters, as a Deployment
/// controller computes from the pod template (here: from what identifies it).
pub fn pod_template_hash(lab: &str, namespace: &str, deployment: &str, template: &str) -> String {
    safe_string(&format!("{lab}/{namespace}/{deployment}/{template}"), 10)
}

/// `<prefix>-<5 safe chars>`, the `generateName` form used for ReplicaSet and
/// DaemonSet pods and for EndpointSlices.
pub fn generated_name(prefix: &str, seed: &str) -> String {
    format!("{prefix}-{}", safe_string(seed, 5))
}

/// A UUID-shaped, stable uid for an object.
pub fn uid(seed: &str) -> String {
    let hex = HEXLOWER.encode(&Sha256::digest(seed.as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_hostnames_are_cut_as_kubelet_cuts_them() {
        assert_eq!(pod_hostname("web-0", None), "web-0");
        assert_eq!(pod_hostname("web-0", Some("web")), "web");
        // The first 63 characters end in '.' or '-': those go too.
        let long = format!("{}.{}", "a".repeat(62), "b".repeat(20));
        assert_eq!(pod_hostname(&long, None), "a".repeat(62));
        let long = format!("{}--{}", "a".repeat(61), "b".repeat(20));
        assert_eq!(pod_hostname(&long, None), "a".repeat(61));
        assert_eq!(pod_hostname(&"c".repeat(80), None), "c".repeat(63));
    }

    #[test]
    fn node_names_follow_kind() {
        assert_eq!(node_name("lab", None), "lab-control-plane");
        assert_eq!(node_name("lab", Some(0)), "lab-worker");
        assert_eq!(node_name("lab", Some(1)), "lab-worker2");
        assert_eq!(node_name("lab", Some(9)), "lab-worker10");
    }

    #[test]
    fn a_lab_claims_its_own_namespace_names_only() {
        for mine in [
            "a-control-plane",
            "a-worker",
            "a-worker2",
            "a-worker10",
            "a.fabric",
            "a.default.web-0",
        ] {
            assert!(is_lab_netns("a", mine), "{mine}");
        }
        let others = [
            "a",
            "a.",
            "a-b-worker",
            "a-b.fabric",
            "a-b-control-plane",
            "ab-worker",
            "a-worker-x",
            "a-worker02",
            "a-workers",
            "a-control-plane-2",
            "b-worker",
            "a-b.default.web-0",
        ];
        for other in others {
            assert!(!is_lab_netns("a", other), "{other}");
        }
        for i in [None, Some(0), Some(1), Some(9)] {
            assert!(is_lab_netns("a", &node_name("a", i)));
        }
    }

    #[test]
    fn host_veth_fits_ifnamsiz_and_differs_per_pod() {
        let a = host_veth("default", "redis-0");
        let b = host_veth("default", "redis-1");
        assert_eq!(a.len(), 15);
        assert!(a.starts_with("cali"));
        assert_ne!(a, b);
        assert_eq!(a, host_veth("default", "redis-0"));
    }

    #[test]
    fn safe_strings_use_only_the_safe_alphabet() {
        let s = safe_string("x", 32);
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|c| SAFE_ALPHABET.contains(&c)));
        assert_ne!(safe_string("x", 5), safe_string("y", 5));
    }

    #[test]
    fn uid_is_uuid_shaped() {
        let u = uid("default/redis-0");
        assert_eq!(u.len(), 36);
        assert_eq!(u.matches('-').count(), 4);
    }
}
