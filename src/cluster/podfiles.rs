//! The files kubelet writes for a pod: /etc/resolv.conf, /etc/hosts, /etc/hostname.

use super::ipam;
use super::state::{NetworkingState, PodState};

/// dnsPolicy ClusterFirst (pkg/kubelet/network/dns/dns.go): the cluster DNS
/// service, the namespace's search path, ndots:5.
pub fn resolv_conf(pod: &PodState, net: &NetworkingState) -> String {
    let zone = &net.dns_domain;
    format!(
        "search {ns}.svc.{zone} svc.{zone} {zone}\nnameserver {dns}\noptions ndots:5\n",
        ns = pod.namespace,
        dns = ipam::dns_service_ip(net.service_subnet)
    )
}

/// kubelet's managedHostsFileContent (pkg/kubelet/kubelet_pods.go): the fixed
/// header, then the pod's own line — with its FQDN when it has a subdomain.
pub fn hosts(pod: &PodState, net: &NetworkingState) -> String {
    let mut s = String::from(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n",
    );
    match &pod.subdomain {
        Some(sub) => s.push_str(&format!(
            "{}\t{}.{}.{}.svc.{}\t{}\n",
            pod.ip, pod.hostname, sub, pod.namespace, net.dns_domain, pod.hostname
        )),
        None => s.push_str(&format!("{}\t{}\n", pod.ip, pod.hostname)),
    }
    s
}

pub fn hostname(pod: &PodState) -> String {
    format!("{}\n", pod.hostname)
}
