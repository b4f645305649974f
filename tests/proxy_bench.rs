//! kube-proxy rule programming benchmark (root; ignored by default). Run it with
//! `scripts/bench-proxy.sh`. Everything happens in scratch netns of its own
//! (`lt-pxbench-*`), removed at the end.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use labctl::kernel::iptables::{self, Iptables};
use labctl::proxy::plan;
use labctl::proxy::rules::{NodeRules, ProxyConfig, ServicePort};
use labctl::proxy::sync;
use labctl::spec::Protocol;

struct Scratch(String);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let name = format!("lt-pxbench-{tag}-{}", std::process::id());
        if labctl::kernel::netns::exists(&name) {
            let _ = Command::new("ip").args(["netns", "delete", &name]).status();
        }
        assert!(
            Command::new("ip")
                .args(["netns", "add", &name])
                .status()
                .unwrap()
                .success()
        );
        Scratch(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if labctl::kernel::netns::exists(&self.0) {
            let _ = Command::new("ip").args(["netns", "delete", &self.0]).status();
        }
    }
}

fn port(i: usize, endpoints: [u32; 3]) -> ServicePort {
    let vip = u32::from(Ipv4Addr::new(10, 96, 0, 0)) + 100 + i as u32;
    ServicePort {
        namespace: format!("ns{}", i % 50),
        name: format!("svc{i}"),
        port_name: "p80".into(),
        protocol: Protocol::Tcp,
        cluster_ip: Ipv4Addr::from(vip),
        port: 80,
        affinity_timeout: None,
        endpoints: endpoints
            .iter()
            .map(|e| (Ipv4Addr::from(u32::from(Ipv4Addr::new(192, 168, 0, 0)) + e), 8080))
            .collect(),
    }
}

fn ports(n: usize) -> Vec<ServicePort> {
    (0..n)
        .map(|i| {
            let e = (i * 3) as u32;
            port(i, [e, e + 1, e + 2])
        })
        .collect()
}

fn config() -> ProxyConfig {
    ProxyConfig {
        cluster_cidr: "192.168.0.0/16".parse().unwrap(),
        service_cidr: "10.96.0.0/12".parse().unwrap(),
        masquerade_mark: "0x4000".into(),
        random_fully: true,
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn rule_count(ns: &str, bin: Iptables) -> usize {
    iptables::save_with(bin, ns, "nat")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("-A "))
        .count()
}

/// Every chain creation and rule as one `iptables` command each, in dependency order.
fn naive_commands(rules: &NodeRules) -> Vec<Vec<String>> {
    let text = plan::full_sync(rules, &Default::default(), &Default::default(), usize::MAX).remove(0);
    let mut table = "filter";
    let mut cmds = Vec::new();
    let mut rules_after = Vec::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = if t == "nat" { "nat" } else { "filter" };
        } else if let Some(c) = line.strip_prefix(':') {
            let name = c.split_whitespace().next().unwrap();
            cmds.push(vec!["-t".into(), table.into(), "-N".into(), name.into()]);
        } else if line.starts_with("-A ") || line.starts_with("-I ") {
            let mut argv = vec!["-t".to_string(), table.to_string()];
            argv.extend(shell_words(line));
            rules_after.push(argv);
        }
    }
    cmds.extend(rules_after);
    cmds
}

/// Splits a restore line into words, honouring double quotes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn run_naive(ns: &str, cmds: &[Vec<String>]) -> Duration {
    let start = Instant::now();
    for c in cmds {
        let argv: Vec<&str> = c.iter().map(String::as_str).collect();
        iptables::run_with(iptables::DEFAULT, ns, &argv).unwrap();
    }
    start.elapsed()
}

#[test]
#[ignore = "benchmark: run scripts/bench-proxy.sh as root"]
fn bench_proxy_programming() {
    let sizes: Vec<usize> = std::env::var("PROXY_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let single_max: usize = std::env::var("PROXY_BENCH_SINGLE_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let sample = 300;
    println!(
        "| services × 3 endpoints | nat rules | labctl (batched restores, nft) | single full restore, nft | single full restore, legacy | naive: one `iptables` per rule (nft) |"
    );
    println!("|---|---|---|---|---|---|");
    for &n in &sizes {
        let rules = NodeRules::from_ports(config(), &ports(n));

        let ns = Scratch::new("batched");
        let t = Instant::now();
        let stats = sync::full_sync_node(&ns.0, &rules).unwrap();
        let batched = t.elapsed();
        let nat_rules = rule_count(&ns.0, iptables::DEFAULT);
        drop(ns);

        let single = if n <= single_max {
            let ns = Scratch::new("single");
            let t = Instant::now();
            sync::full_sync_node_with(iptables::DEFAULT, &ns.0, &rules, usize::MAX).unwrap();
            secs(t.elapsed())
        } else {
            "not run".into()
        };

        let ns = Scratch::new("legacy");
        let t = Instant::now();
        sync::full_sync_node_with(iptables::LEGACY, &ns.0, &rules, usize::MAX).unwrap();
        let legacy = t.elapsed();
        assert_eq!(rule_count(&ns.0, iptables::LEGACY), nat_rules);
        drop(ns);

        // Naive: all commands when few, else a sample at the start (empty table) and
        // at the end (full table), extrapolated linearly over all commands.
        let cmds = naive_commands(&rules);
        let naive = if cmds.len() <= 2000 {
            let ns = Scratch::new("naive");
            format!("{} ({} processes)", secs(run_naive(&ns.0, &cmds)), cmds.len())
        } else {
            let ns = Scratch::new("naive");
            let head = run_naive(&ns.0, &cmds[..sample]);
            drop(ns);
            let ns = Scratch::new("naive-full");
            sync::full_sync_node(&ns.0, &rules).unwrap();
            iptables::run_with(iptables::DEFAULT, &ns.0, &["-t", "nat", "-N", "BENCH-TAIL"]).unwrap();
            let tail_cmds: Vec<Vec<String>> = (0..sample)
                .map(|i| {
                    shell_words(&format!(
                        "-t nat -A KUBE-SERVICES -d 10.111.0.{} -p tcp --dport 80 -j BENCH-TAIL",
                        i % 250
                    ))
                })
                .collect();
            let tail = run_naive(&ns.0, &tail_cmds);
            let per_head = head.as_secs_f64() / sample as f64;
            let per_tail = tail.as_secs_f64() / sample as f64;
            let total = cmds.len() as f64 * (per_head + per_tail) / 2.0;
            format!(
                "≈{total:.0} s extrapolated ({} processes; {:.1} ms each on an empty table, {:.1} ms on the full one; {sample} each measured)",
                cmds.len(),
                per_head * 1000.0,
                per_tail * 1000.0
            )
        };
        println!(
            "| {n} | {nat_rules} | {} ({} restores) | {single} | {} | {naive} |",
            secs(batched),
            stats.restores,
            secs(legacy)
        );
        assert!(nat_rules > n * 10);
    }

    // One service changed at the largest size: an endpoint replaced.
    let n = *sizes.iter().max().unwrap();
    let base = ports(n);
    let rules = NodeRules::from_ports(config(), &base);
    let mut changed_ports = base.clone();
    let e = (n * 3 + 7) as u32;
    changed_ports[n / 2] = port(n / 2, [e, e + 1, (n / 2 * 3) as u32]);
    let changed = NodeRules::from_ports(config(), &changed_ports);
    println!();
    println!("One service changed at {n} services (one endpoint replaced), median of 5:");
    for (label, bin) in [("nft", iptables::DEFAULT), ("legacy", iptables::LEGACY)] {
        let ns = Scratch::new(&format!("change-{label}"));
        sync::full_sync_node_with(
            bin,
            &ns.0,
            &rules,
            if label == "nft" {
                plan::CHAINS_PER_BATCH
            } else {
                usize::MAX
            },
        )
        .unwrap();
        let mut ours = Vec::new();
        let mut kube_proxy_style = Vec::new();
        let mut floor = Vec::new();
        iptables::run_with(bin, &ns.0, &["-t", "nat", "-N", "BENCH-FLOOR"]).unwrap();
        for round in 0..5 {
            let (from, to) = if round % 2 == 0 {
                (&rules, &changed)
            } else {
                (&changed, &rules)
            };
            let input = plan::update(from, to).unwrap();
            let t = Instant::now();
            iptables::restore_with(bin, &ns.0, &input).unwrap();
            ours.push(t.elapsed());
            // kube-proxy's own partial sync: the service's chains and all of
            // KUBE-SERVICES flushed and rewritten.
            let (from, to) = (to, from);
            let mut kp = plan::update(from, to).unwrap().replace("COMMIT\n", "");
            kp.push_str(":KUBE-SERVICES - [0:0]\n");
            for r in to.nat_services_chain().rules {
                kp.push_str(&r);
                kp.push('\n');
            }
            kp.push_str("COMMIT\n");
            let t = Instant::now();
            iptables::restore_with(bin, &ns.0, &kp).unwrap();
            kube_proxy_style.push(t.elapsed());
            let t = Instant::now();
            iptables::restore_with(bin, &ns.0, "*nat\n-A BENCH-FLOOR -j RETURN\nCOMMIT\n").unwrap();
            floor.push(t.elapsed());
        }
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        println!(
            "- {label}: labctl partial sync {}; kube-proxy-style partial sync (KUBE-SERVICES rewritten too) {}; floor, a restore appending one rule anywhere in that table {}",
            ms(median(&mut ours)),
            ms(median(&mut kube_proxy_style)),
            ms(median(&mut floor))
        );
    }
}
