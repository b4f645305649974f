//! The cluster DNS server against the real `dig` (run as root). Each test
//! runs a server inside a netns of its own (`dt-*`, lo up, sockets bound on
//! 127.0.0.1:53 from a thread that entered it) and runs `dig` there. Upstream
//! traffic never leaves the machine: the fake upstream is another instance of
//! the server on 127.0.0.1 in the root netns, and the SERVFAIL case points at
//! an unused loopback port.

mod common;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use labctl::cluster::state::LabState;
use labctl::dns::server::{ServerConfig, ServerHandle, SharedZone, bind_sockets, bind_sockets_in_netns};
use labctl::dns::{DEFAULT_TTL, Zone};
use labctl::fixture::{self, add, endpoint, external_name, service};
use labctl::kernel::exec::output_in;
use labctl::kernel::netns;
use labctl::spec::Protocol;

use common::{Netns, a_answers, query_bytes, require_root};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A netns with lo up and a DNS server on 127.0.0.1:53 inside it; both go
/// away on drop, even when the test panics.
struct Lab {
    ns: Netns,
    server: Option<ServerHandle>,
}

impl Lab {
    /// A fresh netns `dt-<pid>-<tag><n>` with lo up, no server yet.
    fn netns(tag: &str) -> Lab {
        let ns = Netns::create(format!(
            "dt-{}-{tag}{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let up = output_in(
            ns.name(),
            &Default::default(),
            &args(&["ip", "link", "set", "lo", "up"]),
        )
        .expect("lo up");
        assert!(up.status.success(), "{up:?}");
        Lab { ns, server: None }
    }

    fn start(state: &LabState, upstreams: Vec<SocketAddr>) -> Lab {
        let mut lab = Lab::netns("");
        let sockets = bind_sockets_in_netns(lab.ns.name(), "127.0.0.1:53".parse().unwrap(), 2).expect("bind in netns");
        let mut config = ServerConfig::new(sockets);
        config.upstreams = upstreams;
        lab.server = Some(ServerHandle::spawn(config, SharedZone::from_state(state, DEFAULT_TTL)).expect("spawn"));
        lab
    }

    fn server(&self) -> &ServerHandle {
        self.server.as_ref().unwrap()
    }

    /// Runs `dig @127.0.0.1 <args>` inside the netns; returns stdout.
    fn dig(&self, dig_args: &[&str]) -> String {
        let mut argv = vec!["dig", "@127.0.0.1", "+time=3", "+tries=1"];
        argv.extend_from_slice(dig_args);
        let out = output_in(self.ns.name(), &Default::default(), &args(&argv)).expect("run dig");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A UDP client socket created inside the netns.
    fn client(&self) -> UdpSocket {
        let handle = netns::open(self.ns.name()).unwrap();
        std::thread::spawn(move || {
            nix::sched::setns(handle.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.connect("127.0.0.1:53").unwrap();
            socket.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            socket
        })
        .join()
        .unwrap()
    }
}

/// The server stops before its netns goes (the `ns` field drops after this).
impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.shutdown();
        }
    }
}

fn args(argv: &[&str]) -> Vec<String> {
    argv.iter().map(|s| s.to_string()).collect()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// The lines of one dig section (`;; ANSWER SECTION:` …) without comments.
fn section(out: &str, name: &str) -> Vec<String> {
    let header = format!(";; {name} SECTION:");
    out.lines()
        .skip_while(|l| !l.starts_with(&header))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn status(out: &str) -> String {
    out.lines()
        .find_map(|l| l.split("status: ").nth(1))
        .map(|s| s.split(',').next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no status in dig output:\n{out}"))
}

fn flags(out: &str) -> Vec<String> {
    out.lines()
        .find_map(|l| l.strip_prefix(";; flags: "))
        .map(|s| {
            s.split(';')
                .next()
                .unwrap()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_else(|| panic!("no flags in dig output:\n{out}"))
}

fn lab_state() -> LabState {
    let mut lab = fixture::seed_lab();
    add(
        &mut lab,
        external_name("default", "search", "www.default.svc.example.com"),
        vec![],
        &[],
    );
    add(
        &mut lab,
        service("default", "starting", None, &[("http", 80, Protocol::Tcp)]),
        vec![endpoint(ip("192.168.1.20"), false, None, "starting-1")],
        &[("http", 8080, Protocol::Tcp)],
    );
    fixture::big_headless(&mut lab, "big", 100, true);
    lab
}

#[test]
fn a_records_for_cluster_ip_headless_and_statefulset_pods() {
    require_root!();
    let lab = Lab::start(&lab_state(), vec![]);
    let out = lab.dig(&["nginx-clusterip.default.svc.cluster.local"]);
    assert_eq!(status(&out), "NOERROR");
    assert!(flags(&out).contains(&"aa".to_string()), "{out}");
    assert_eq!(
        section(&out, "ANSWER"),
        vec!["nginx-clusterip.default.svc.cluster.local. 30 IN A 10.96.204.67"]
    );
    // Rotated per query (CoreDNS's loadbalance): compared as sets.
    let out = lab.dig(&["nginx-headless.default.svc.cluster.local"]);
    assert_eq!(
        sorted(section(&out, "ANSWER")),
        vec![
            "nginx-headless.default.svc.cluster.local. 30 IN A 192.168.156.5",
            "nginx-headless.default.svc.cluster.local. 30 IN A 192.168.202.196",
        ]
    );
    let out = lab.dig(&["+short", "redis-0.redis-headless.default.svc.cluster.local"]);
    assert_eq!(out.trim(), "192.168.202.195");
    // Over TCP as well.
    let out = lab.dig(&["+tcp", "+short", "redis-headless.default.svc.cluster.local"]);
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn srv_with_glue() {
    require_root!();
    let lab = Lab::start(&lab_state(), vec![]);
    let out = lab.dig(&["SRV", "_redis._tcp.redis-headless.default.svc.cluster.local"]);
    assert_eq!(
        section(&out, "ANSWER"),
        vec![
            "_redis._tcp.redis-headless.default.svc.cluster.local. 30 IN SRV 0 33 6379 redis-0.redis-headless.default.svc.cluster.local.",
            "_redis._tcp.redis-headless.default.svc.cluster.local. 30 IN SRV 0 33 6379 redis-1.redis-headless.default.svc.cluster.local.",
            "_redis._tcp.redis-headless.default.svc.cluster.local. 30 IN SRV 0 33 6379 redis-2.redis-headless.default.svc.cluster.local.",
        ]
    );
    // The glue is rotated per query (CoreDNS's loadbalance), the SRV records are not.
    assert_eq!(
        sorted(section(&out, "ADDITIONAL")),
        vec![
            "redis-0.redis-headless.default.svc.cluster.local. 30 IN A 192.168.202.195",
            "redis-1.redis-headless.default.svc.cluster.local. 30 IN A 192.168.156.4",
            "redis-2.redis-headless.default.svc.cluster.local. 30 IN A 192.168.145.10",
        ]
    );
}

#[test]
fn ptr_for_vip_and_endpoint() {
    require_root!();
    let lab = Lab::start(&lab_state(), vec![]);
    assert_eq!(
        lab.dig(&["+short", "-x", "10.96.204.67"]).trim(),
        "nginx-clusterip.default.svc.cluster.local."
    );
    assert_eq!(
        lab.dig(&["+short", "-x", "192.168.202.195"]).trim(),
        "redis-0.redis-headless.default.svc.cluster.local."
    );
}

#[test]
fn nxdomain_and_nodata_carry_the_soa() {
    require_root!();
    let lab = Lab::start(&lab_state(), vec![]);
    for name in [
        "nope.default.svc.cluster.local",
        "nginx-clusterip.default.svc.cluster.local.default.svc.cluster.local",
        "starting.default.svc.cluster.local",
    ] {
        let out = lab.dig(&[name]);
        assert_eq!(status(&out), "NXDOMAIN", "{out}");
        assert!(flags(&out).contains(&"aa".to_string()), "{out}");
        let authority = section(&out, "AUTHORITY");
        assert_eq!(authority.len(), 1, "{out}");
        assert!(
            authority[0].starts_with("cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. "),
            "{out}"
        );
    }
    for (qtype, name) in [
        ("AAAA", "nginx-clusterip.default.svc.cluster.local"),
        ("A", "svc.cluster.local"),
        ("A", "default.svc.cluster.local"),
    ] {
        let out = lab.dig(&[qtype, name]);
        assert_eq!(status(&out), "NOERROR", "{out}");
        assert!(section(&out, "ANSWER").is_empty(), "{out}");
        assert_eq!(section(&out, "AUTHORITY").len(), 1, "{out}");
    }
    let out = lab.dig(&["TXT", "+short", "dns-version.cluster.local"]);
    assert_eq!(out.trim(), "\"1.1.0\"");
}

#[test]
fn case_is_matched_loosely_and_preserved() {
    require_root!();
    let lab = Lab::start(&lab_state(), vec![]);
    let out = lab.dig(&["NGINX-ClusterIP.Default.SVC.cluster.LOCAL"]);
    assert_eq!(
        section(&out, "ANSWER"),
        vec!["NGINX-ClusterIP.Default.SVC.cluster.LOCAL. 30 IN A 10.96.204.67"]
    );
}

#[test]
fn large_answers_truncate_over_udp_and_complete_over_tcp() {
    require_root!();
    let lab = Lab::start(&lab_state(), vec![]);
    let name = "big.default.svc.cluster.local";
    // Without EDNS: 512 bytes at most, TC set.
    let out = lab.dig(&["+ignore", "+noedns", name]);
    assert!(flags(&out).contains(&"tc".to_string()), "{out}");
    assert!(out.contains("MSG SIZE  rcvd: ") && msg_size(&out) <= 512, "{out}");
    // With EDNS: the advertised size.
    let out = lab.dig(&["+ignore", "+bufsize=1232", name]);
    assert!(flags(&out).contains(&"tc".to_string()), "{out}");
    assert!(msg_size(&out) <= 1232, "{out}");
    // dig retries over TCP and gets every record.
    let out = lab.dig(&[name]);
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
    assert_eq!(section(&out, "ANSWER").len(), 100, "{out}");
    let out = lab.dig(&["+noedns", "SRV", &format!("_http._tcp.{name}")]);
    assert_eq!(section(&out, "ANSWER").len(), 100, "{out}");
    assert_eq!(section(&out, "ADDITIONAL").len(), 100, "{out}");
    // A large enough buffer takes it all over UDP.
    let out = lab.dig(&["+bufsize=4096", "+ignore", name]);
    assert!(!flags(&out).contains(&"tc".to_string()), "{out}");
    assert_eq!(section(&out, "ANSWER").len(), 100, "{out}");
}

fn msg_size(out: &str) -> usize {
    out.lines()
        .find_map(|l| l.strip_prefix(";; MSG SIZE  rcvd: "))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no MSG SIZE in:\n{out}"))
}

#[test]
fn live_updates_apply_at_once_without_dropping_queries() {
    require_root!();
    let mut state = lab_state();
    let lab = Lab::start(&state, vec![]);
    let client = lab.client();
    let mut buf = [0u8; 4096];
    let ask = |id: u16, buf: &mut [u8]| -> Message {
        client
            .send(&query_bytes(id, "late.default.svc.cluster.local."))
            .unwrap();
        let len = client.recv(buf).expect("reply");
        Message::from_vec(&buf[..len]).unwrap()
    };
    assert_eq!(ask(1, &mut buf).metadata.response_code, ResponseCode::NXDomain);

    // Hammer the server from another client while the state changes.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer_client = lab.client();
    let hammer_stop = stop.clone();
    let answered = Arc::new(Mutex::new((0usize, 0usize)));
    let hammer_count = answered.clone();
    let hammer = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut id = 0u16;
        while !hammer_stop.load(Ordering::Relaxed) {
            id = id.wrapping_add(1);
            hammer_client
                .send(&query_bytes(id, "nginx-headless.default.svc.cluster.local."))
                .unwrap();
            let mut counts = hammer_count.lock().unwrap();
            counts.0 += 1;
            if let Ok(len) = hammer_client.recv(&mut buf)
                && Message::from_vec(&buf[..len])
                    .map(|m| m.metadata.id == id)
                    .unwrap_or(false)
            {
                counts.1 += 1;
            }
        }
    });

    for round in 0..20u16 {
        let vip = Ipv4Addr::new(10, 96, 50, round as u8 + 1);
        state.services.retain(|s| s.name != "late");
        add(
            &mut state,
            service("default", "late", Some(vip), &[("http", 80, Protocol::Tcp)]),
            vec![],
            &[],
        );
        let start = Instant::now();
        lab.server().update(&state);
        let reply = ask(100 + round, &mut buf);
        let elapsed = start.elapsed();
        assert_eq!(a_answers(&reply), vec![vip], "round {round}");
        assert!(elapsed < Duration::from_millis(100), "update took {elapsed:?}");
    }
    // Readiness changes too: the headless service loses a pod.
    for slice in &mut state.endpoint_slices {
        if slice.service == "nginx-headless" {
            slice.endpoints[0].ready = false;
        }
    }
    lab.server().update(&state);
    let out = lab.dig(&["+short", "nginx-headless.default.svc.cluster.local"]);
    assert_eq!(out.trim(), "192.168.202.196");

    stop.store(true, Ordering::Relaxed);
    hammer.join().unwrap();
    let (sent, answered) = *answered.lock().unwrap();
    assert!(sent > 20, "hammer sent only {sent}");
    assert_eq!(sent, answered, "queries dropped during updates");
}

/// The fake upstream: another instance of the server in the root netns on
/// 127.0.0.1, authoritative for `example.com`.
fn fake_upstream() -> (ServerHandle, SocketAddr) {
    let mut upstream = fixture::seed_lab();
    upstream.networking.dns_domain = "example.com".to_string();
    add(
        &mut upstream,
        service("default", "www", Some(ip("10.1.2.3")), &[("http", 80, Protocol::Tcp)]),
        vec![],
        &[],
    );
    fixture::big_headless(&mut upstream, "big", 100, true);
    let sockets = bind_sockets("127.0.0.1:0".parse().unwrap(), 1).unwrap();
    let addr = sockets.udp[0].local_addr().unwrap();
    let mut config = ServerConfig::new(sockets);
    config.upstreams = vec![];
    let handle = ServerHandle::spawn(config, SharedZone::new(Zone::from_state(&upstream, 60))).unwrap();
    (handle, addr)
}

/// A loopback port nothing listens on (bound, then released).
fn unused_port() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap()
}

#[test]
fn names_outside_the_zone_are_forwarded() {
    require_root!();
    let (upstream, addr) = fake_upstream();
    // A dead upstream first: the next one is tried within the budget.
    let lab = Lab::start(&lab_state(), vec![unused_port(), addr]);
    let start = Instant::now();
    let out = lab.dig(&["www.default.svc.example.com"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert_eq!(
        section(&out, "ANSWER"),
        vec!["www.default.svc.example.com. 60 IN A 10.1.2.3"]
    );
    assert!(
        !flags(&out).contains(&"aa".to_string()),
        "forwarded answers are not ours: {out}"
    );
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    // Upstream NXDOMAIN passes through.
    let out = lab.dig(&["nope.default.svc.example.com"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    // ExternalName: CNAME, and its target resolved upstream.
    let out = lab.dig(&["search.default.svc.cluster.local"]);
    assert_eq!(
        section(&out, "ANSWER"),
        vec![
            "search.default.svc.cluster.local. 30 IN CNAME www.default.svc.example.com.",
            "www.default.svc.example.com. 60 IN A 10.1.2.3",
        ],
        "{out}"
    );
    // Over TCP.
    let out = lab.dig(&["+tcp", "+short", "www.default.svc.example.com"]);
    assert_eq!(out.trim(), "10.1.2.3");
    // An upstream answer too big for UDP: TC passed on over UDP, asked
    // again over TCP for a client that asked over TCP.
    let out = lab.dig(&["+ignore", "+bufsize=1232", "big.default.svc.example.com"]);
    assert!(flags(&out).contains(&"tc".to_string()), "{out}");
    let out = lab.dig(&["+tcp", "big.default.svc.example.com"]);
    assert!(!flags(&out).contains(&"tc".to_string()), "{out}");
    assert_eq!(section(&out, "ANSWER").len(), 100, "{out}");
    drop(lab);
    upstream.shutdown().unwrap();
}

#[test]
fn unreachable_upstreams_give_a_fast_servfail() {
    require_root!();
    let lab = Lab::start(&lab_state(), vec![unused_port()]);
    let start = Instant::now();
    let out = lab.dig(&["+time=5", "www.example.com"]);
    let elapsed = start.elapsed();
    assert_eq!(status(&out), "SERVFAIL", "{out}");
    assert!(elapsed < Duration::from_millis(2500), "SERVFAIL took {elapsed:?}");
    // Cluster names are unaffected.
    let out = lab.dig(&["+short", "nginx-clusterip.default.svc.cluster.local"]);
    assert_eq!(out.trim(), "10.96.204.67");
}

#[test]
fn hickory_udp_path_behaves_the_same() {
    require_root!();
    // fast_udp off: hickory's Server handles UDP through the RequestHandler.
    let mut lab = Lab::netns("h");
    let sockets = bind_sockets_in_netns(lab.ns.name(), "127.0.0.1:53".parse().unwrap(), 1).unwrap();
    let mut config = ServerConfig::new(sockets);
    config.upstreams = vec![];
    config.fast_udp = false;
    lab.server = Some(ServerHandle::spawn(config, SharedZone::from_state(&lab_state(), DEFAULT_TTL)).unwrap());
    let out = lab.dig(&["NGINX-ClusterIP.default.svc.cluster.local"]);
    assert_eq!(
        section(&out, "ANSWER"),
        vec!["NGINX-ClusterIP.default.svc.cluster.local. 30 IN A 10.96.204.67"]
    );
    assert!(flags(&out).contains(&"aa".to_string()), "{out}");
    let out = lab.dig(&["+ignore", "+noedns", "big.default.svc.cluster.local"]);
    assert!(flags(&out).contains(&"tc".to_string()), "{out}");
    assert!(msg_size(&out) <= 512, "{out}");
    let out = lab.dig(&["big.default.svc.cluster.local"]);
    assert_eq!(section(&out, "ANSWER").len(), 100, "{out}");
    let out = lab.dig(&["nope.default.svc.cluster.local"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    let out = lab.dig(&["www.example.com"]);
    assert_eq!(status(&out), "SERVFAIL", "{out}");
}
