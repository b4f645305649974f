//! Server side of `scripts/bench-dns.sh` (`dns_bench --bench`, run by the script as root);
//! without `--bench` (as `cargo test --all-targets` runs it) it only checks the zone file.
//!
//! `serve_for_bench` reads `DNS_BENCH_NETNS`, `DNS_BENCH_ADDR`,
//! `DNS_BENCH_ZONEFILE`, `DNS_BENCH_SECONDS` and `DNS_BENCH_UDP_SOCKETS`,
//! writes the zone as an RFC 1035 zone file (for knot) from the same `Zone`
//! the server answers from, then serves it inside the netns.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::time::Duration;

use hickory_proto::rr::RData;
use labctl::cluster::state::LabState;
use labctl::dns::server::{ServerConfig, ServerHandle, SharedZone, bind_sockets_in_netns};
use labctl::dns::{DEFAULT_TTL, Zone};
use labctl::fixture::{self, add, service};
use labctl::spec::Protocol;

/// The seed lab plus a headless `web` with 10 pods and 100 filler services.
fn bench_state() -> LabState {
    let mut lab = fixture::seed_lab();
    fixture::big_headless(&mut lab, "web", 10, false);
    for i in 0..100u8 {
        add(
            &mut lab,
            service(
                "default",
                &format!("svc-{i}"),
                Some(std::net::Ipv4Addr::new(10, 96, 100, i + 1)),
                &[("http", 80, Protocol::Tcp)],
            ),
            vec![],
            &[],
        );
    }
    lab
}

/// The zone as a zone file: A, SRV, CNAME, TXT, SOA, NS (plus the PTRs in a
/// second file, `<path>.rev`, unused by the benchmark).
fn zone_file(zone: &Zone) -> String {
    let mut out = format!("$ORIGIN {}\n", zone.origin());
    for record in zone.records() {
        let data = match &record.data {
            RData::TXT(txt) => format!("\"{txt}\""),
            other => other.to_string(),
        };
        writeln!(
            out,
            "{} {} IN {} {}",
            record.name,
            record.ttl,
            record.record_type(),
            data
        )
        .unwrap();
    }
    out
}

fn main() {
    zone_file_has_every_bench_name();
    if benchmarking() && common::root() {
        serve_for_bench();
    }
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench targets without it.
fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn serve_for_bench() {
    let env = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_string());
    let netns = env("DNS_BENCH_NETNS", "bd-srv");
    let addr = env("DNS_BENCH_ADDR", "10.77.0.1:53").parse().unwrap();
    let seconds: u64 = env("DNS_BENCH_SECONDS", "120").parse().unwrap();
    let udp_sockets: usize = env("DNS_BENCH_UDP_SOCKETS", "2").parse().unwrap();
    let fast_udp = env("DNS_BENCH_FAST_UDP", "1") == "1";
    let zone = Zone::from_state(&bench_state(), DEFAULT_TTL);
    if let Ok(path) = std::env::var("DNS_BENCH_ZONEFILE") {
        std::fs::write(&path, zone_file(&zone)).unwrap();
    }
    let sockets = bind_sockets_in_netns(&netns, addr, udp_sockets).unwrap();
    let mut config = ServerConfig::new(sockets);
    config.upstreams = vec![];
    config.fast_udp = fast_udp;
    let server = ServerHandle::spawn(config, SharedZone::new(zone)).unwrap();
    eprintln!("serving on {addr} in {netns} for {seconds} s (fast_udp={fast_udp}, {udp_sockets} UDP sockets)");
    let stop_file = std::env::var("DNS_BENCH_STOPFILE").ok();
    for _ in 0..seconds * 10 {
        if stop_file.as_deref().is_some_and(|p| std::path::Path::new(p).exists()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    server.shutdown().unwrap();
}

fn zone_file_has_every_bench_name() {
    let text = zone_file(&Zone::from_state(&bench_state(), DEFAULT_TTL));
    assert!(text.starts_with("$ORIGIN cluster.local.\n"));
    assert!(
        text.contains("nginx-clusterip.default.svc.cluster.local. 30 IN A 10.96.204.67\n"),
        "{text}"
    );
    assert_eq!(
        text.matches("\nweb.default.svc.cluster.local. 30 IN A ").count(),
        10,
        "{text}"
    );
    assert!(
        text.contains("dns-version.cluster.local. 30 IN TXT \"1.1.0\"\n"),
        "{text}"
    );
}
