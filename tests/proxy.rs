//! kube-proxy's rules in deployed labs, with real packets (root). Backends are
//! small python servers started in the backend pods' netns by the tests (and
//! killed by them); every lab has its own `lt-` name and is destroyed at the end.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};

use common::{Lab, lab_name, ok, require_root, scratch, stdout};
use labctl::cluster::LabState;
use labctl::kernel::iptables;
use labctl::store::Store;

/// Answers every HTTP GET (tcp) and every datagram (udp) with the name in argv[1].
/// Exits by itself after 180 s should a test die before killing it.
const SERVER: &str = r#"
import http.server, socket, sys, threading, os
name, tcp, udp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
threading.Timer(180, lambda: os._exit(0)).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(s):
        b = (name + "\n").encode()
        s.send_response(200); s.send_header("Content-Length", str(len(b))); s.end_headers(); s.wfile.write(b)
    def log_message(s, *a): pass
def udp_loop():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", udp))
    while True:
        _, peer = u.recvfrom(512); u.sendto(name.encode(), peer)
threading.Thread(target=udp_loop, daemon=True).start()
http.server.ThreadingHTTPServer(("0.0.0.0", tcp), H).serve_forever()
"#;

/// `python3 -c CLIENT tcp|udp VIP PORT N`: N requests, one new connection (or
/// socket) each, prints one answer per line ("ERR" for a failure).
const CLIENT: &str = r#"
import socket, sys
mode, vip, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for _ in range(n):
    try:
        if mode == "tcp":
            s = socket.create_connection((vip, port), timeout=3)
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                c = s.recv(4096)
                if not c: break
                data += c
            s.close()
            print(data.decode().split("\r\n\r\n", 1)[1].strip())
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
            s.sendto(b"hi", (vip, port)); print(s.recvfrom(512)[0].decode()); s.close()
    except Exception as e:
        print("ERR", e)
"#;

struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn topology(name: &str) -> String {
    format!(
        r#"name: {name}
cluster:
  nodes:
    - role: control-plane
    - role: worker
    - role: worker
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: backend}}
    spec:
      replicas: 3
      selector: {{matchLabels: {{app: backend}}}}
      template:
        metadata: {{labels: {{app: backend}}}}
        spec:
          containers:
            - name: backend
              image: busybox:1.36
              command: ["sleep", "infinity"]
              ports:
                - {{name: http, containerPort: 8080}}
                - {{name: echo, containerPort: 5300, protocol: UDP}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: backend}}
    spec:
      selector: {{app: backend}}
      ports:
        - {{name: http, port: 80, targetPort: http, protocol: TCP}}
        - {{name: echo, port: 53, targetPort: echo, protocol: UDP}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: backend-headless}}
    spec:
      clusterIP: None
      selector: {{app: backend}}
      ports:
        - {{name: http, port: 80, targetPort: http}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: outside}}
    spec:
      type: ExternalName
      externalName: example.com
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {{name: client}}
    spec:
      selector: {{matchLabels: {{app: client}}}}
      template:
        metadata: {{labels: {{app: client}}}}
        spec:
          containers:
            - name: client
              image: busybox:1.36
              command: ["sleep", "infinity"]
"#
    )
}

struct Pod {
    name: String,
    node: String,
    ip: String,
    netns: String,
}

fn pods(lab: &Lab, prefix: &str) -> Vec<Pod> {
    let state = load(lab);
    state
        .pods
        .iter()
        .filter(|p| p.name.starts_with(prefix))
        .map(|p| Pod {
            name: p.name.clone(),
            node: p.node.clone(),
            ip: p.ip.to_string(),
            netns: p.netns.clone(),
        })
        .collect()
}

fn load(lab: &Lab) -> LabState {
    Store::open().load(&lab.name).unwrap()
}

fn vip(lab: &Lab, svc: &str) -> String {
    load(lab)
        .services
        .iter()
        .find(|s| s.name == svc)
        .and_then(|s| s.cluster_ip)
        .unwrap()
        .to_string()
}

fn start_servers(backends: &[Pod]) -> Servers {
    let children = backends
        .iter()
        .map(|b| {
            Command::new("ip")
                .args([
                    "netns", "exec", &b.netns, "python3", "-c", SERVER, &b.name, "8080", "5300",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let servers = Servers(children);
    // Wait until each answers on its own address.
    for b in backends {
        let ready = (0..50).any(|_| {
            let out = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &b.netns,
                    "curl",
                    "-s",
                    "-m",
                    "1",
                    &format!("http://{}:8080/", b.ip),
                ])
                .output()
                .unwrap();
            if stdout(&out).trim() == b.name {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            false
        });
        assert!(ready, "server in {} never answered", b.name);
    }
    servers
}

/// Runs CLIENT in `target` (pod or node) through `labctl exec`; answers per backend.
fn requests(lab: &Lab, target: &str, mode: &str, vip: &str, port: u16, n: usize) -> BTreeMap<String, usize> {
    let out = ok(lab.exec(
        target,
        &["python3", "-c", CLIENT, mode, vip, &port.to_string(), &n.to_string()],
    ));
    let mut counts = BTreeMap::new();
    for line in out.lines() {
        *counts.entry(line.trim().to_string()).or_insert(0) += 1;
    }
    counts
}

/// Waits (up to 60 s) until every node's nat table sends `svc_port_name` (tcp) to
/// `n` endpoints: pods turn ready through the lab's supervisor, which then syncs
/// kube-proxy's rules.
fn wait_for_endpoints(lab: &Lab, svc_port_name: &str, n: usize) {
    let chain = labctl::proxy::names::service_chain(svc_port_name, "tcp");
    let start = std::time::Instant::now();
    loop {
        let nodes = load(lab).nodes;
        let counts: Vec<usize> = nodes
            .iter()
            .map(|node| {
                iptables::save(&node.netns, "nat")
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.starts_with(&format!("-A {chain} ")) && l.contains("-j KUBE-SEP-"))
                    .count()
            })
            .collect();
        if counts.iter().all(|&c| c == n) {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "{svc_port_name}: endpoints per node {counts:?}, want {n}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn deploy(tag: &str) -> Lab {
    let name = lab_name(tag);
    let path = scratch(tag).join(format!("{name}.yaml"));
    std::fs::write(&path, topology(&name)).unwrap();
    Lab::deploy(name, path)
}

#[test]
fn seed_lab_rules_read_as_in_the_issue() {
    require_root!();
    let lab = Lab::seed("px-seed");
    wait_for_endpoints(&lab, "default/nginx-clusterip:http", 2);
    let worker = format!("{}-worker", lab.name);
    let services = ok(lab.exec(&worker, &["iptables", "-t", "nat", "-S", "KUBE-SERVICES"]));
    let nginx: Vec<&str> = services.lines().filter(|l| l.contains("nginx-clusterip")).collect();
    assert_eq!(
        nginx,
        vec![
            "-A KUBE-SERVICES -d 10.96.204.67/32 -p tcp -m comment --comment \"default/nginx-clusterip:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-VS7JYC4FNXA3J2IX"
        ]
    );
    for node in ["control-plane", "worker", "worker2"] {
        let node = format!("{}-{node}", lab.name);
        for table in ["nat", "filter"] {
            let all = ok(lab.exec(&node, &["iptables-save", "-t", table]));
            assert!(!all.contains("headless"), "{node} {table}: {all}");
        }
        let nat = ok(lab.exec(&node, &["iptables", "-t", "nat", "-S"]));
        for jump in [
            "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
            "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
            "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
            "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        ] {
            assert!(nat.lines().any(|l| l == jump), "{node}: no {jump}\n{nat}");
        }
        assert!(
            nat.lines().last().unwrap().contains("KUBE-SVC-"),
            "rules of service chains exist"
        );
    }
    lab.destroy();
}

#[test]
fn clusterip_traffic_end_to_end() {
    require_root!();
    let lab = deploy("px-e2e");
    let backends = pods(&lab, "backend-");
    let clients = pods(&lab, "client-");
    assert_eq!(backends.len(), 3);
    let vip = vip(&lab, "backend");
    wait_for_endpoints(&lab, "default/backend:http", 3);
    let _servers = start_servers(&backends);

    // Headless and ExternalName services: no rules at all.
    for node in load(&lab).nodes {
        let save = iptables::save(&node.netns, "nat").unwrap() + &iptables::save(&node.netns, "filter").unwrap();
        assert!(
            !save.contains("backend-headless") && !save.contains("default/outside"),
            "{save}"
        );
    }

    // Every backend, from a client on its node (same node) and from the others.
    let names: Vec<&str> = backends.iter().map(|b| b.name.as_str()).collect();
    for client in &clients {
        let counts = requests(&lab, &client.name, "tcp", &vip, 80, 300);
        assert!(!counts.contains_key("ERR"), "{client:?}", client = client.name);
        let total: usize = counts.values().sum();
        assert_eq!(total, 300, "{counts:?}");
        for b in &backends {
            let n = counts.get(&b.name).copied().unwrap_or(0);
            assert!(
                (60..=150).contains(&n),
                "{} from {} (node {}, backend node {}): {n}/300 {counts:?}",
                b.name,
                client.name,
                client.node,
                b.node
            );
        }
        assert_eq!(counts.len(), 3, "{counts:?} vs {names:?}");
    }
    assert!(
        clients.iter().any(|c| backends.iter().any(|b| b.node == c.node)),
        "some client shares a node with a backend"
    );

    // Hairpin: a backend reaching its own service also reaches itself.
    let me = &backends[0];
    let counts = requests(&lab, &me.name, "tcp", &vip, 80, 30);
    assert!(counts.contains_key(&me.name), "hairpin: {counts:?}");
    assert!(!counts.contains_key("ERR"), "{counts:?}");

    // UDP through the VIP.
    let counts = requests(&lab, &clients[0].name, "udp", &vip, 53, 30);
    assert!(!counts.keys().any(|k| k.starts_with("ERR")), "{counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 30);

    // From a node.
    let node = format!("{}-worker", lab.name);
    let out = ok(lab.exec(&node, &["curl", "-s", "-m", "3", &format!("http://{vip}/")]));
    assert!(names.contains(&out.trim()), "{out}");

    // Ping of a ClusterIP: lost, silently, as on a cluster.
    let ping = lab.exec(&clients[0].name, &["ping", "-c", "2", "-W", "1", &vip]);
    let text = stdout(&ping);
    assert!(text.contains("100% packet loss"), "{text}");
    assert!(!text.contains("errors"), "{text}");
    drop(_servers);
    lab.destroy();
}

/// kube-proxy's partial sync of the lab from `old` to `new`, as the supervisor runs it.
fn update(old: &LabState, new: &LabState) {
    let (from, to) = (
        labctl::proxy::NodeRules::render(old),
        labctl::proxy::NodeRules::render(new),
    );
    labctl::proxy::sync::update_lab(new, &from, &to).unwrap();
}

fn counters(netns: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", netns, "iptables-save", "-c", "-t", "nat"])
        .output()
        .unwrap();
    stdout(&out)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn endpoint_changes_are_incremental() {
    require_root!();
    let lab = deploy("px-inc");
    let backends = pods(&lab, "backend-");
    let clients = pods(&lab, "client-");
    let vip = vip(&lab, "backend");
    wait_for_endpoints(&lab, "default/backend:http", 3);
    let _servers = start_servers(&backends);
    let node = load(&lab).nodes[1].netns.clone();
    let client = clients
        .iter()
        .find(|c| node.ends_with(&c.node) || c.node == node)
        .unwrap();
    let before = requests(&lab, &client.name, "tcp", &vip, 80, 30);
    assert_eq!(before.len(), 3, "{before:?}");

    // Same state twice: nothing changes, not even a counter.
    let old = load(&lab);
    let snapshot = counters(&node);
    assert!(snapshot.contains("[30:"), "traffic counted: {snapshot}");
    update(&old, &old.clone());
    assert_eq!(counters(&node), snapshot);

    // One backend leaves the service's endpoints.
    let gone: std::net::Ipv4Addr = backends[2].ip.parse().unwrap();
    let mut new = old.clone();
    for slice in new.endpoint_slices.iter_mut().filter(|s| s.service == "backend") {
        slice.endpoints.retain(|e| e.address != gone);
    }
    update(&old, &new);
    let after = counters(&node);
    let stale = labctl::proxy::names::endpoint_chain("default/backend:http", "tcp", &format!("{gone}:8080"));
    assert!(
        snapshot.contains(&stale) && !after.contains(&stale),
        "stale chain deleted"
    );
    // KUBE-SERVICES and the chains of the services that did not change (all but
    // backend's two ports) kept their rules and counters.
    let svc_chain = labctl::proxy::names::service_chain("default/backend:http", "tcp");
    let untouched = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.contains("-A KUBE-SERVICES")
                    || (l.contains("-A KUBE-SVC-") && !l.contains(&svc_chain) && !l.contains("default/backend:"))
            })
            .map(String::from)
            .collect()
    };
    assert_eq!(untouched(&after), untouched(&snapshot));
    let counts = requests(&lab, &client.name, "tcp", &vip, 80, 40);
    assert!(!counts.contains_key(&backends[2].name), "{counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 40, "{counts:?}");

    // No endpoints left: REJECT (connection refused at once), and back.
    let mut empty = new.clone();
    for slice in empty.endpoint_slices.iter_mut().filter(|s| s.service == "backend") {
        slice.endpoints.clear();
    }
    update(&new, &empty);
    let refused = lab.exec(&client.name, &["curl", "-s", "-m", "3", &format!("http://{vip}/")]);
    assert_eq!(refused.status.code(), Some(7), "connection refused by the REJECT");
    update(&empty, &old);
    assert_eq!(requests(&lab, &client.name, "tcp", &vip, 80, 30).len(), 3);
    drop(_servers);
    lab.destroy();
}
