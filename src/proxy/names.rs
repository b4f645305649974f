//! kube-proxy's chain names: a prefix and the first 16 characters of
//! base32(sha256(...)) (proxier.go portProtoHash / servicePortEndpointChainName).

use data_encoding::BASE32;
use sha2::{Digest, Sha256};

fn hash16(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    let mut encoded = BASE32.encode(&digest);
    encoded.truncate(16);
    encoded
}

/// `KUBE-SVC-…` for a service port name (`ns/svc:port`, or `ns/svc` when the port
/// has no name) and its lowercase protocol.
pub fn service_chain(service_port_name: &str, protocol: &str) -> String {
    format!("KUBE-SVC-{}", hash16(&format!("{service_port_name}{protocol}")))
}

/// `KUBE-SEP-…` for one endpoint (`ip:port`) of a service port.
pub fn endpoint_chain(service_port_name: &str, protocol: &str, endpoint: &str) -> String {
    format!(
        "KUBE-SEP-{}",
        hash16(&format!("{service_port_name}{protocol}{endpoint}"))
    )
}

/// Chains kube-proxy owns per service (proxier.go isServiceChainName): stale ones
/// are deleted on sync.
pub fn is_service_chain(name: &str) -> bool {
    ["KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-FW-", "KUBE-EXT-"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// `%0.10f` of 1/n, as proxier.go computeProbability writes it.
pub fn probability(n: usize) -> String {
    format!("{:.10}", 1.0 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_kube_proxy_hashes() {
        assert_eq!(
            service_chain("default/kubernetes:https", "tcp"),
            "KUBE-SVC-NPX46M4PTMTKRN6Y"
        );
        assert_eq!(
            service_chain("default/nginx-clusterip:http", "tcp"),
            "KUBE-SVC-VS7JYC4FNXA3J2IX"
        );
        assert_eq!(service_chain("ns1/svc1:p80", "tcp"), "KUBE-SVC-XPGD46QRK7WJZT7O");
        assert_eq!(
            endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80"),
            "KUBE-SEP-SXIVWICOYRO3J4NJ"
        );
        // proxier_test.go TestInternalTrafficPolicyE2E: an unnamed port.
        assert_eq!(service_chain("ns1/svc1", "tcp"), "KUBE-SVC-AQI2S6QIMU7PVVRP");
        assert_eq!(
            endpoint_chain("ns1/svc1", "tcp", "10.0.1.1:80"),
            "KUBE-SEP-3JOIVZTXZZRGORX4"
        );
    }

    #[test]
    fn probabilities_as_kube_proxy_prints_them() {
        assert_eq!(probability(3), "0.3333333333");
        assert_eq!(probability(2), "0.5000000000");
        assert_eq!(probability(7), "0.1428571429");
    }

    #[test]
    fn service_chain_prefixes() {
        assert!(is_service_chain("KUBE-SEP-SXIVWICOYRO3J4NJ"));
        assert!(!is_service_chain("KUBE-SERVICES"));
        assert!(!is_service_chain("KUBE-MARK-MASQ"));
    }
}
