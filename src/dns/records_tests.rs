//! One test per rule of the Kubernetes DNS spec 1.1.0 (+ CoreDNS choices),
//! over the seed lab's services plus a few made for the rules.

use std::net::Ipv4Addr;

use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::*;
use crate::fixture::{self, add, endpoint, external_name, service};
use crate::spec::Protocol;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn lab() -> LabState {
    let mut lab = fixture::seed_lab();
    let tcp = Protocol::Tcp;
    // A ClusterIP service with no endpoints at all.
    add(
        &mut lab,
        service("default", "lonely", Some(ip("10.96.10.10")), &[("http", 80, tcp)]),
        vec![],
        &[("http", 8080, tcp)],
    );
    // Headless with only not-ready endpoints.
    add(
        &mut lab,
        service("default", "starting", None, &[("http", 80, tcp)]),
        vec![endpoint(ip("192.168.1.20"), false, None, "starting-1")],
        &[("http", 8080, tcp)],
    );
    // The same, with publishNotReadyAddresses.
    let mut publish = service("default", "published", None, &[("http", 80, tcp)]);
    publish.publish_not_ready_addresses = true;
    add(
        &mut lab,
        publish,
        vec![
            endpoint(ip("192.168.1.30"), false, Some("web-0"), "web-0"),
            endpoint(ip("192.168.1.31"), true, Some("web-1"), "web-1"),
        ],
        &[("http", 8080, tcp)],
    );
    // Headless with one ready and one not-ready endpoint.
    add(
        &mut lab,
        service("default", "mixed", None, &[("http", 80, tcp)]),
        vec![
            endpoint(ip("192.168.1.40"), true, None, "mixed-a"),
            endpoint(ip("192.168.1.41"), false, None, "mixed-b"),
        ],
        &[("http", 8080, tcp)],
    );
    add(
        &mut lab,
        external_name("default", "search", "www.example.com"),
        vec![],
        &[],
    );
    add(
        &mut lab,
        external_name("default", "alias", "nginx-clusterip.default.svc.cluster.local"),
        vec![],
        &[],
    );
    lab.namespaces.push("empty-ns".to_string());
    lab
}

fn zone() -> Zone {
    Zone::from_state(&lab(), DEFAULT_TTL)
}

fn ask(zone: &Zone, name: &str, qtype: RecordType) -> Response {
    answer(zone, &Query::query(Name::from_ascii(name).unwrap(), qtype)).unwrap_response()
}

fn a_of(records: &[Record]) -> Vec<Ipv4Addr> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

fn srv_of(records: &[Record]) -> Vec<(u16, u16, u16, String)> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(s) => Some((s.priority, s.weight, s.port, s.target.to_ascii())),
            _ => None,
        })
        .collect()
}

fn assert_nodata(r: &Response) {
    assert_eq!(r.rcode, ResponseCode::NoError, "{r:?}");
    assert!(r.answers.is_empty(), "{r:?}");
    assert_soa(r);
}

fn assert_nxdomain(r: &Response) {
    assert_eq!(r.rcode, ResponseCode::NXDomain, "{r:?}");
    assert!(r.answers.is_empty(), "{r:?}");
    assert_soa(r);
}

fn assert_soa(r: &Response) {
    assert_eq!(r.authority.len(), 1, "{r:?}");
    let RData::SOA(soa) = &r.authority[0].data else {
        panic!("authority is not a SOA: {r:?}")
    };
    assert_eq!(soa.mname.to_ascii(), "ns.dns.cluster.local.");
    assert_eq!(soa.rname.to_ascii(), "hostmaster.cluster.local.");
}

#[test]
fn cluster_ip_service_answers_its_vip() {
    let r = ask(&zone(), "nginx-clusterip.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.rcode, ResponseCode::NoError);
    assert_eq!(a_of(&r.answers), vec![ip("10.96.204.67")]);
    assert_eq!(r.answers[0].ttl, 30);
    assert_eq!(
        r.answers[0].name.to_ascii(),
        "nginx-clusterip.default.svc.cluster.local."
    );
}

#[test]
fn cluster_ip_service_without_endpoints_still_answers_its_vip() {
    let r = ask(&zone(), "lonely.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("10.96.10.10")]);
}

#[test]
fn headless_service_answers_one_a_per_ready_endpoint() {
    let z = zone();
    let r = ask(&z, "nginx-headless.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("192.168.156.5"), ip("192.168.202.196")]);
    let r = ask(&z, "mixed.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("192.168.1.40")]);
}

#[test]
fn headless_service_without_ready_endpoints_is_nxdomain() {
    let r = ask(&zone(), "starting.default.svc.cluster.local.", RecordType::A);
    assert_nxdomain(&r);
    let r = ask(
        &zone(),
        "_http._tcp.starting.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_nxdomain(&r);
}

#[test]
fn publish_not_ready_addresses_includes_not_ready_endpoints() {
    let z = zone();
    let r = ask(&z, "published.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("192.168.1.30"), ip("192.168.1.31")]);
    let r = ask(&z, "web-0.published.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("192.168.1.30")]);
}

#[test]
fn endpoint_with_hostname_has_its_own_name() {
    let r = ask(
        &zone(),
        "redis-0.redis-headless.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(a_of(&r.answers), vec![ip("192.168.202.195")]);
}

#[test]
fn endpoint_without_hostname_is_named_by_its_dashed_ip() {
    let z = zone();
    let r = ask(
        &z,
        "192-168-156-5.nginx-headless.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(a_of(&r.answers), vec![ip("192.168.156.5")]);
    // CoreDNS also names the endpoints of ClusterIP services.
    let r = ask(
        &z,
        "192-168-156-5.nginx-clusterip.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(a_of(&r.answers), vec![ip("192.168.156.5")]);
    // Not-ready endpoints have no name; a hostname endpoint has no dashed one.
    assert_nxdomain(&ask(&z, "192-168-1-41.mixed.default.svc.cluster.local.", RecordType::A));
    assert_nxdomain(&ask(
        &z,
        "192-168-202-195.redis-headless.default.svc.cluster.local.",
        RecordType::A,
    ));
    assert_nxdomain(&ask(
        &z,
        "redis-9.redis-headless.default.svc.cluster.local.",
        RecordType::A,
    ));
}

#[test]
fn headless_srv_has_one_record_per_endpoint_with_glue() {
    let r = ask(
        &zone(),
        "_redis._tcp.redis-headless.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(
        srv_of(&r.answers),
        vec![
            (
                0,
                33,
                6379,
                "redis-0.redis-headless.default.svc.cluster.local.".to_string()
            ),
            (
                0,
                33,
                6379,
                "redis-1.redis-headless.default.svc.cluster.local.".to_string()
            ),
            (
                0,
                33,
                6379,
                "redis-2.redis-headless.default.svc.cluster.local.".to_string()
            ),
        ]
    );
    let glue: Vec<(String, Ipv4Addr)> = r
        .additional
        .iter()
        .map(|rec| (rec.name.to_ascii(), a_of(std::slice::from_ref(rec))[0]))
        .collect();
    assert_eq!(
        glue,
        vec![
            (
                "redis-0.redis-headless.default.svc.cluster.local.".to_string(),
                ip("192.168.202.195")
            ),
            (
                "redis-1.redis-headless.default.svc.cluster.local.".to_string(),
                ip("192.168.156.4")
            ),
            (
                "redis-2.redis-headless.default.svc.cluster.local.".to_string(),
                ip("192.168.145.10")
            ),
        ]
    );
}

#[test]
fn headless_srv_targets_dashed_names_and_endpoint_ports() {
    let r = ask(
        &zone(),
        "_http._tcp.nginx-headless.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(
        srv_of(&r.answers),
        vec![
            (
                0,
                50,
                80,
                "192-168-156-5.nginx-headless.default.svc.cluster.local.".to_string()
            ),
            (
                0,
                50,
                80,
                "192-168-202-196.nginx-headless.default.svc.cluster.local.".to_string()
            ),
        ]
    );
    assert_eq!(a_of(&r.additional), vec![ip("192.168.156.5"), ip("192.168.202.196")]);
}

#[test]
fn cluster_ip_srv_targets_the_service_name() {
    let r = ask(
        &zone(),
        "_http._tcp.nginx-clusterip.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(
        srv_of(&r.answers),
        vec![(0, 100, 80, "nginx-clusterip.default.svc.cluster.local.".to_string())]
    );
    assert_eq!(a_of(&r.additional), vec![ip("10.96.204.67")]);
    // Service port numbers, per port name and protocol.
    let r = ask(
        &zone(),
        "_dns._udp.kube-dns.kube-system.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(
        srv_of(&r.answers),
        vec![(0, 100, 53, "kube-dns.kube-system.svc.cluster.local.".to_string())]
    );
    assert_nxdomain(&ask(
        &zone(),
        "_dns._tcp.kube-dns.kube-system.svc.cluster.local.",
        RecordType::SRV,
    ));
    assert_nxdomain(&ask(
        &zone(),
        "_nope._tcp.nginx-clusterip.default.svc.cluster.local.",
        RecordType::SRV,
    ));
    // A at an SRV name: it exists, without A.
    assert_nodata(&ask(
        &zone(),
        "_http._tcp.nginx-clusterip.default.svc.cluster.local.",
        RecordType::A,
    ));
}

#[test]
fn srv_at_the_service_name_lists_every_port() {
    let r = ask(&zone(), "kube-dns.kube-system.svc.cluster.local.", RecordType::SRV);
    let ports: Vec<u16> = srv_of(&r.answers).iter().map(|s| s.2).collect();
    assert_eq!(ports, vec![53, 53, 9153]);
    assert!(srv_of(&r.answers).iter().all(|s| s.1 == 33));
}

#[test]
fn ptr_for_service_vip() {
    let r = ask(&zone(), "67.204.96.10.in-addr.arpa.", RecordType::PTR);
    let targets: Vec<String> = r
        .answers
        .iter()
        .map(|rec| match &rec.data {
            RData::PTR(p) => p.0.to_ascii(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(targets, vec!["nginx-clusterip.default.svc.cluster.local."]);
}

#[test]
fn ptr_for_endpoint_names_each_service_endpoint() {
    let ptrs = |name: &str| -> Vec<String> {
        ask(&zone(), name, RecordType::PTR)
            .answers
            .iter()
            .map(|rec| match &rec.data {
                RData::PTR(p) => p.0.to_ascii(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(
        ptrs("195.202.168.192.in-addr.arpa."),
        vec!["redis-0.redis-headless.default.svc.cluster.local."]
    );
    assert_eq!(
        ptrs("5.156.168.192.in-addr.arpa."),
        vec![
            "192-168-156-5.nginx-clusterip.default.svc.cluster.local.",
            "192-168-156-5.nginx-headless.default.svc.cluster.local.",
        ]
    );
    // A reverse name of an address the cluster does not know falls through.
    let unknown = Query::query(Name::from_ascii("8.8.8.8.in-addr.arpa.").unwrap(), RecordType::PTR);
    assert_eq!(answer(&zone(), &unknown), Answer::Forward);
    // Known address, other type: NODATA.
    let r = ask(&zone(), "67.204.96.10.in-addr.arpa.", RecordType::A);
    assert!(r.is_nodata());
}

#[test]
fn external_name_is_a_cname() {
    let z = zone();
    let r = ask(&z, "search.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.rcode, ResponseCode::NoError);
    assert_eq!(r.answers.len(), 1);
    let RData::CNAME(target) = &r.answers[0].data else {
        panic!("{r:?}")
    };
    assert_eq!(target.0.to_ascii(), "www.example.com.");
    assert_eq!(r.chase, Some(Name::from_ascii("www.example.com.").unwrap()));
    let r = ask(&z, "search.default.svc.cluster.local.", RecordType::CNAME);
    assert_eq!(r.answers.len(), 1);
    assert_eq!(r.chase, None);
    // A target inside the zone is followed at once.
    let r = ask(&z, "alias.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.answers.len(), 2);
    assert_eq!(a_of(&r.answers), vec![ip("10.96.204.67")]);
    assert_eq!(r.chase, None);
}

#[test]
fn dns_version_txt() {
    let r = ask(&zone(), "dns-version.cluster.local.", RecordType::TXT);
    let RData::TXT(txt) = &r.answers[0].data else {
        panic!("{r:?}")
    };
    assert_eq!(txt.to_string(), "1.1.0");
    assert_nodata(&ask(&zone(), "dns-version.cluster.local.", RecordType::A));
}

#[test]
fn soa_and_ns_at_the_apex() {
    let z = zone().with_serial(42);
    let r = ask(&z, "cluster.local.", RecordType::SOA);
    let RData::SOA(soa) = &r.answers[0].data else {
        panic!("{r:?}")
    };
    assert_eq!(soa.mname.to_ascii(), "ns.dns.cluster.local.");
    assert_eq!(soa.rname.to_ascii(), "hostmaster.cluster.local.");
    assert_eq!(
        (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum),
        (42, 7200, 1800, 86400, 30)
    );
    let r = ask(&z, "cluster.local.", RecordType::NS);
    let RData::NS(ns) = &r.answers[0].data else {
        panic!("{r:?}")
    };
    assert_eq!(ns.0.to_ascii(), "ns.dns.cluster.local.");
    assert_eq!(a_of(&r.additional), vec![ip("10.96.0.10")]);
    let r = ask(&z, "ns.dns.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("10.96.0.10")]);
    assert_nodata(&ask(&z, "cluster.local.", RecordType::A));
}

#[test]
fn aaaa_of_an_ipv4_service_is_nodata() {
    let z = zone();
    assert_nodata(&ask(&z, "nginx-clusterip.default.svc.cluster.local.", RecordType::AAAA));
    assert_nodata(&ask(&z, "nginx-headless.default.svc.cluster.local.", RecordType::AAAA));
    assert_nodata(&ask(
        &z,
        "redis-0.redis-headless.default.svc.cluster.local.",
        RecordType::AAAA,
    ));
}

#[test]
fn svc_and_namespace_names_are_nodata() {
    let z = zone();
    assert_nodata(&ask(&z, "svc.cluster.local.", RecordType::A));
    assert_nodata(&ask(&z, "default.svc.cluster.local.", RecordType::A));
    assert_nodata(&ask(&z, "empty-ns.svc.cluster.local.", RecordType::A));
    assert_nodata(&ask(&z, "pod.cluster.local.", RecordType::A));
    assert_nodata(&ask(&z, "default.pod.cluster.local.", RecordType::A));
}

#[test]
fn names_that_do_not_exist_are_nxdomain_with_soa() {
    let z = zone();
    assert_nxdomain(&ask(&z, "nope.default.svc.cluster.local.", RecordType::A));
    assert_nxdomain(&ask(&z, "no-such-ns.svc.cluster.local.", RecordType::A));
    assert_nxdomain(&ask(&z, "nginx-clusterip.no-such-ns.svc.cluster.local.", RecordType::A));
    assert_nxdomain(&ask(&z, "foo.cluster.local.", RecordType::A));
    // What a search path generates: `<name>.<search domain>` misses.
    assert_nxdomain(&ask(
        &z,
        "nginx-clusterip.default.svc.cluster.local.default.svc.cluster.local.",
        RecordType::A,
    ));
    assert_nxdomain(&ask(&z, "www.example.com.cluster.local.", RecordType::AAAA));
}

#[test]
fn matching_is_case_insensitive_and_keeps_the_query_case() {
    let r = ask(&zone(), "NGINX-ClusterIP.Default.SVC.Cluster.Local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("10.96.204.67")]);
    assert_eq!(
        r.answers[0].name.to_ascii(),
        "NGINX-ClusterIP.Default.SVC.Cluster.Local."
    );
    let r = ask(
        &zone(),
        "_REDIS._TCP.Redis-Headless.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(r.answers.len(), 3);
    assert_eq!(
        r.answers[0].name.to_ascii(),
        "_REDIS._TCP.Redis-Headless.default.svc.cluster.local."
    );
}

#[test]
fn ttl_is_configurable() {
    let z = Zone::from_state(&lab(), 5);
    let r = ask(&z, "nginx-clusterip.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.answers[0].ttl, 5);
    let r = ask(&z, "nope.default.svc.cluster.local.", RecordType::A);
    assert_eq!(r.authority[0].ttl, 5);
}

#[test]
fn pod_names_answer_their_dashed_ip_in_existing_namespaces() {
    let z = zone();
    let r = ask(&z, "192-168-156-5.default.pod.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("192.168.156.5")]);
    // `pods insecure`: no pod needs that address.
    let r = ask(&z, "10-1-2-3.default.pod.cluster.local.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("10.1.2.3")]);
    assert_nodata(&ask(&z, "10-1-2-3.default.pod.cluster.local.", RecordType::AAAA));
    assert_nxdomain(&ask(&z, "10-1-2-3.no-such-ns.pod.cluster.local.", RecordType::A));
    assert_nxdomain(&ask(&z, "10-1-2-300.default.pod.cluster.local.", RecordType::A));
    assert_nxdomain(&ask(&z, "web.default.pod.cluster.local.", RecordType::A));
}

#[test]
fn names_outside_the_zone_are_forwarded() {
    for name in ["www.example.com.", "cluster.local.example.com.", "local."] {
        let q = Query::query(Name::from_ascii(name).unwrap(), RecordType::A);
        assert_eq!(answer(&zone(), &q), Answer::Forward, "{name}");
    }
}

#[test]
fn other_cluster_domains_are_honoured() {
    let mut state = lab();
    state.networking.dns_domain = "Lab.Example".to_string();
    let z = Zone::from_state(&state, DEFAULT_TTL);
    let r = ask(&z, "nginx-clusterip.default.svc.lab.example.", RecordType::A);
    assert_eq!(a_of(&r.answers), vec![ip("10.96.204.67")]);
    let q = Query::query(
        Name::from_ascii("nginx-clusterip.default.svc.cluster.local.").unwrap(),
        RecordType::A,
    );
    assert_eq!(answer(&z, &q), Answer::Forward);
}

#[test]
fn zone_records_list_every_name_for_peer_servers() {
    let z = zone();
    let names: Vec<String> = z.records().iter().map(|r| r.name.to_ascii()).collect();
    assert!(names.contains(&"redis-1.redis-headless.default.svc.cluster.local.".to_string()));
    assert!(names.contains(&"_redis._tcp.redis-headless.default.svc.cluster.local.".to_string()));
    assert_eq!(z.records()[0].record_type(), RecordType::SOA);
    assert!(
        z.reverse_records()
            .iter()
            .any(|r| r.name.to_ascii() == "67.204.96.10.in-addr.arpa.")
    );
}

#[test]
fn reverse_names_of_private_space_never_leave_the_lab() {
    // RFC 6303: an unknown pod-range, private or link-local address is NXDOMAIN here.
    for name in [
        "99.99.168.192.in-addr.arpa.",
        "53.255.255.10.in-addr.arpa.",
        "1.1.254.169.in-addr.arpa.",
    ] {
        let r = ask(&zone(), name, RecordType::PTR);
        assert_nxdomain(&r);
    }
    // a public address is still the upstream's to answer
    let public = Query::query(Name::from_ascii("8.8.8.8.in-addr.arpa.").unwrap(), RecordType::PTR);
    assert_eq!(answer(&zone(), &public), Answer::Forward);
}
