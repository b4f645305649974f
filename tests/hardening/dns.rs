//! Hardening: the cluster DNS server (issue 10, items 2 and 7).
//!
//! Each test deploys a small lab of its own (one headless Deployment of two
//! pods, two toolbox pods to ask from) and talks to the cluster DNS from inside
//! a pod's netns, over the kube-dns VIP or straight to a CoreDNS pod. Names
//! outside the cluster go to an upstream the test binds itself on 127.0.0.1
//! (reads and drops), never to a real resolver.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use labctl::dns::server::{ServerConfig, ServerHandle, SharedZone, bind_sockets_in_netns};
use labctl::fixture;

use crate::common::*;

const KUBE_DNS: &str = "10.96.0.10:53";
const CLUSTER_NAME: &str = "kubernetes.default.svc.cluster.local.";
const HEADLESS_NAME: &str = "web-headless.default.svc.cluster.local";

fn topology(name: &str) -> String {
    format!(
        r#"name: {name}
cluster:
  nodes:
    - role: control-plane
    - role: worker
manifests:
  - kind: Deployment
    apiVersion: apps/v1
    metadata: {{name: web}}
    spec:
      replicas: 2
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers: [{{name: web, image: nginx, ports: [{{containerPort: 80}}]}}]
  - kind: Service
    apiVersion: v1
    metadata: {{name: web-headless}}
    spec:
      clusterIP: None
      selector: {{app: web}}
      ports: [{{name: http, port: 80}}]
  - kind: Pod
    apiVersion: v1
    metadata: {{name: client}}
    spec:
      containers: [{{name: client, image: tutum/dnsutils}}]
  - kind: Pod
    apiVersion: v1
    metadata: {{name: client2}}
    spec:
      containers: [{{name: client2, image: tutum/dnsutils}}]
"#
    )
}

fn write_topology(tag: &str) -> (String, std::path::PathBuf) {
    let name = lab_name(tag);
    let path = scratch(tag).join(format!("{name}.yaml"));
    std::fs::write(&path, topology(&name)).unwrap();
    (name, path)
}

/// Deploys with `env` on top of the test helpers' (no upstreams by default).
fn deploy_with(tag: &str, env: &[(&str, &str)]) -> Lab {
    let (name, path) = write_topology(tag);
    let out = labctl_env(&["deploy", "--wait", "60", path.to_str().unwrap()], env);
    let lab = Lab::guard(name, path);
    ok(out);
    lab
}

/// The netns of pod `default/<pod>` of `lab`.
fn pod_netns(lab: &Lab, pod: &str) -> String {
    format!("{}.default.{pod}", lab.name)
}

/// Runs `make` on a thread that entered `netns`; sockets it creates stay there.
fn in_netns<T: Send + 'static>(netns: &str, make: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::fs::File::open(format!("/run/netns/{netns}")).unwrap();
    std::thread::spawn(move || {
        nix::sched::setns(handle.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        make()
    })
    .join()
    .unwrap()
}

fn supervisor_pid(lab: &Lab) -> u32 {
    std::fs::read_to_string(format!("/run/labctl/{}/supervisor.pid", lab.name))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A `/proc/<pid>/status` field in kB (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} for pid {pid}"))
}

/// utime + stime of a process, in clock ticks (proc(5), fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn open_files_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[3].to_string(), words[4].to_string())
}

fn coredns_ips(lab: &Lab) -> Vec<String> {
    lab.pods_json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["namespace"] == "kube-system")
        .filter(|p| p["metadata"]["name"].as_str().unwrap().starts_with("coredns-"))
        .map(|p| p["status"]["podIP"].as_str().unwrap().to_string())
        .collect()
}

/// `dig <args>` in pod `client`; stdout.
fn dig(lab: &Lab, args: &[&str]) -> String {
    let mut cmd = vec!["dig", "+time=2", "+tries=1"];
    cmd.extend_from_slice(args);
    let out = lab.exec("client", &cmd);
    format!("{}{}", stdout(&out), stderr(&out))
}

#[test]
fn idle_tcp_connections_do_not_take_tcp_dns_down() {
    require_root!();
    // The supervisor inherits a soft limit of 1,024 open files from deploy, as
    // from a login shell.
    let (name, path) = write_topology("dns-tcp");
    let out = Command::new("prlimit")
        .args([
            "--nofile=1024:",
            "--",
            env!("CARGO_BIN_EXE_labctl"),
            "deploy",
            "--wait",
            "60",
        ])
        .arg(&path)
        .env("LABCTL_DNS_UPSTREAMS", "")
        .output()
        .unwrap();
    let lab = Lab::guard(name, path);
    ok(out);

    let server: SocketAddr = format!("{}:53", coredns_ips(&lab)[0]).parse().unwrap();
    let idle: Vec<TcpStream> = in_netns(&pod_netns(&lab, "client"), move || {
        (0..1100)
            .filter_map(|_| TcpStream::connect_timeout(&server, Duration::from_secs(1)).ok())
            .collect()
    });
    assert!(idle.len() >= 1000, "only {} connections opened", idle.len());

    // A new TCP client is still answered, straight and through the VIP.
    for at in [server.ip().to_string(), "10.96.0.10".to_string()] {
        let out = dig(&lab, &[&format!("@{at}"), "+tcp", "+short", CLUSTER_NAME]);
        assert_eq!(out.trim(), "10.96.0.1", "dig +tcp @{at}: {out}");
    }
    // The server keeps at most its cap of connections: the idlest were closed.
    std::thread::sleep(Duration::from_millis(300));
    let open = idle
        .iter()
        .filter(|s| {
            s.set_nonblocking(true).unwrap();
            let mut stream: &TcpStream = s;
            matches!(stream.read(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .count();
    assert!(
        open <= labctl::dns::MAX_TCP_CONNECTIONS,
        "{open} idle connections still open, cap {}",
        labctl::dns::MAX_TCP_CONNECTIONS
    );
    drop(idle);
    let (soft, hard) = open_files_limits(supervisor_pid(&lab));
    assert_eq!(
        soft, hard,
        "the supervisor raises its open-file limit to the hard limit"
    );
    lab.destroy();
}

/// An upstream on 127.0.0.1 that reads every question and never answers.
struct SilentUpstream {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    /// Source port and query ID of the first questions.
    first: Arc<Mutex<Vec<(u16, u16)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentUpstream {
    fn start() -> SilentUpstream {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let addr = socket.local_addr().unwrap();
        let (received, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let first = Arc::new(Mutex::new(Vec::new()));
        let (count, done, seen) = (received.clone(), stop.clone(), first.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !done.load(Ordering::Relaxed) {
                if let Ok((len, src)) = socket.recv_from(&mut buf) {
                    count.fetch_add(1, Ordering::Relaxed);
                    let mut seen = seen.lock().unwrap();
                    if len >= 2 && seen.len() < 100 {
                        seen.push((src.port(), u16::from_be_bytes([buf[0], buf[1]])));
                    }
                }
            }
        });
        SilentUpstream {
            addr,
            received,
            first,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SilentUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends `count` questions for distinct names outside the cluster to the
/// kube-dns VIP from pod `pod`, `rate` per second; replies are not read.
fn flood(lab: &Lab, pod: &str, tag: u32, count: u32, rate: u32) -> std::thread::JoinHandle<()> {
    let handle = std::fs::File::open(format!("/run/netns/{}", pod_netns(lab, pod))).unwrap();
    std::thread::spawn(move || {
        nix::sched::setns(handle.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        socket.connect(KUBE_DNS).unwrap();
        let start = Instant::now();
        for n in 0..count {
            let due = start + Duration::from_secs_f64(f64::from(n) / f64::from(rate));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let _ = socket.send(&query_bytes(n as u16, &format!("q{n}.f{tag}.flood.example.")));
        }
    })
}

/// Asks `name` over UDP from `netns` until answered or `deadline`.
fn ask_until(netns: &str, name: &'static str, deadline: Instant) -> Option<Message> {
    in_netns(netns, move || {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        socket.connect(KUBE_DNS).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let mut buf = [0u8; 4096];
        let mut id = 0u16;
        while Instant::now() < deadline {
            id += 1;
            socket.send(&query_bytes(id, name)).unwrap();
            while let Ok(len) = socket.recv(&mut buf) {
                match Message::from_vec(&buf[..len]) {
                    Ok(reply) if reply.metadata.id == id => return Some(reply),
                    _ => continue,
                }
            }
        }
        None
    })
}

#[test]
fn a_flood_of_outside_names_leaves_cluster_dns_answering() {
    require_root!();
    let upstream = SilentUpstream::start();
    let lab = deploy_with("dns-flood", &[("LABCTL_DNS_UPSTREAMS", &upstream.addr.to_string())]);
    let pid = supervisor_pid(&lab);

    // ~40,000 questions a second for 3 s from two pods, an upstream that never answers.
    let floods = [
        flood(&lab, "client", 1, 60_000, 20_000),
        flood(&lab, "client2", 2, 60_000, 20_000),
    ];
    for f in floods {
        f.join().unwrap();
    }
    let flood_end = Instant::now();
    let rss_after_flood = status_kb(pid, "VmRSS");

    let reply = ask_until(
        &pod_netns(&lab, "client"),
        CLUSTER_NAME,
        flood_end + Duration::from_secs(1),
    )
    .expect("no answer for a cluster name within 1 s of the flood's end");
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_answers(&reply), vec![Ipv4Addr::new(10, 96, 0, 1)]);
    assert!(upstream.received.load(Ordering::Relaxed) > 0, "nothing was forwarded");

    // The user's view: dig over UDP and TCP.
    let out = dig(&lab, &["+short", CLUSTER_NAME]);
    assert_eq!(out.trim(), "10.96.0.1", "{out}");
    let out = dig(&lab, &["+tcp", "+short", CLUSTER_NAME]);
    assert_eq!(out.trim(), "10.96.0.1", "{out}");

    // The instance settles: no core kept busy, memory bounded.
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let busy = cpu_ticks(pid) - ticks;
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).unwrap().unwrap() as u64;
    assert!(
        busy < per_second / 2,
        "supervisor used {busy} ticks in 1 s after the flood"
    );
    let rss = status_kb(pid, "VmRSS").max(rss_after_flood);
    eprintln!(
        "flood: {} questions reached the upstream, supervisor RSS {rss} kB, {busy} ticks/s after",
        upstream.received.load(Ordering::Relaxed)
    );
    assert!(rss < 100 * 1024, "supervisor RSS {rss} kB after the flood");
    lab.destroy();
}

#[test]
fn headless_answers_rotate_per_query() {
    require_root!();
    let lab = deploy_with("dns-rr", &[]);
    eventually(10, || {
        let out = dig(&lab, &["+short", HEADLESS_NAME]);
        (out.lines().count() == 2).then_some(()).ok_or(out)
    });
    for transport in ["+notcp", "+tcp"] {
        let mut orders = BTreeSet::new();
        for _ in 0..12 {
            let out = dig(&lab, &[transport, "+short", HEADLESS_NAME]);
            let order: Vec<String> = out.lines().map(str::to_string).collect();
            assert_eq!(order.len(), 2, "{transport}: {out}");
            orders.insert(order);
        }
        let sets: BTreeSet<BTreeSet<&String>> = orders.iter().map(|o| o.iter().collect()).collect();
        assert_eq!(sets.len(), 1, "{transport}: the same two pods every time: {orders:?}");
        assert!(orders.len() > 1, "{transport}: 12 digs gave one order: {orders:?}");
    }
    lab.destroy();
}

#[test]
fn forwarded_questions_are_unpredictable_and_bounded() {
    require_root!();
    let upstream = SilentUpstream::start();
    let ns = Netns::create(lab_name("dns-fwd"));
    let lo = Command::new("ip")
        .args(["-n", ns.name(), "link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(lo.success());
    let sockets = bind_sockets_in_netns(ns.name(), "127.0.0.1:53".parse().unwrap(), 1).unwrap();
    let mut config = ServerConfig::new(sockets);
    config.upstreams = vec![upstream.addr];
    config.upstream_timeout = Duration::from_secs(3);
    config.max_pending_forwards = 4;
    let zone = SharedZone::from_state(&fixture::seed_lab(), labctl::dns::DEFAULT_TTL);
    let server = ServerHandle::spawn(config, zone).unwrap();

    let (full, cluster) = in_netns(ns.name(), || {
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect("127.0.0.1:53").unwrap();
        client.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        for n in 0..4u16 {
            client.send(&query_bytes(n, &format!("q{n}.outside.example."))).unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
        let ask = |id: u16, name: &str| {
            let start = Instant::now();
            client.send(&query_bytes(id, name)).unwrap();
            let mut buf = [0u8; 4096];
            loop {
                let len = client.recv(&mut buf).expect("a reply");
                let reply = Message::from_vec(&buf[..len]).unwrap();
                if reply.metadata.id == id {
                    return (reply.metadata.response_code, start.elapsed());
                }
            }
        };
        (ask(100, "one.more.example."), ask(101, CLUSTER_NAME))
    });
    // Four questions wait for the silent upstream; the fifth finds no slot.
    assert_eq!(full.0, ResponseCode::ServFail);
    assert!(full.1 < Duration::from_millis(500), "SERVFAIL took {:?}", full.1);
    assert_eq!(cluster.0, ResponseCode::NoError);

    let first = upstream.first.lock().unwrap().clone();
    assert_eq!(first.len(), 4, "questions that reached the upstream: {first:?}");
    let ports: BTreeSet<u16> = first.iter().map(|(port, _)| *port).collect();
    assert_eq!(ports.len(), 4, "one source port per question: {first:?}");
    let ids: Vec<u16> = first.iter().map(|(_, id)| *id).collect();
    assert!(
        !ids.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
        "sequential query IDs: {ids:?}"
    );
    drop(server);
}
