//! kube-proxy rule programming benchmark (root; `cargo bench --bench proxy_bench`, run by
//! `scripts/bench-proxy.sh`). Everything happens in scratch netns of its own
//! (`lt-pxbench-*`), removed at the end.

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::Netns;
use labctl::kernel::iptables::{self, Iptables};
use labctl::proxy::plan;
use labctl::proxy::rules::{NodeRules, ProxyConfig, ServicePort};
use labctl::proxy::sync;
use labctl::spec::Protocol;

fn scratch(tag: &str) -> Netns {
    Netns::create(format!("lt-pxbench-{tag}-{}", std::process::id()))
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

/// Waits (at most a minute) until both cores are nearly idle: deleting a netns
/// that holds 100,000 rules leaves the kernel freeing them for seconds afterwards
/// (cleanup_net runs from a workqueue), which would be timed with the next variant.
fn wait_for_quiet() {
    fn busy_and_total() -> (u64, u64) {
        let stat = std::fs::read_to_string("/proc/stat").unwrap();
        let cpu: Vec<u64> = stat
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        let idle = cpu[3] + cpu[4];
        (cpu.iter().sum::<u64>() - idle, cpu.iter().sum())
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let (busy0, total0) = busy_and_total();
        std::thread::sleep(Duration::from_millis(300));
        let (busy1, total1) = busy_and_total();
        if (busy1 - busy0) * 10 < (total1 - total0).max(1) {
            return;
        }
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

fn main() {
    if benchmarking() && common::root() {
        bench_proxy_programming();
    }
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench targets without it.
fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

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

        wait_for_quiet();
        let ns = scratch("batched");
        let t = Instant::now();
        let stats = sync::full_sync_node(ns.name(), &rules).unwrap();
        let batched = t.elapsed();
        let nat_rules = rule_count(ns.name(), iptables::DEFAULT);
        drop(ns);

        let single = if n <= single_max {
            wait_for_quiet();
            let ns = scratch("single");
            let t = Instant::now();
            sync::full_sync_node_with(iptables::DEFAULT, ns.name(), &rules, usize::MAX).unwrap();
            secs(t.elapsed())
        } else {
            "not run".into()
        };

        wait_for_quiet();
        let ns = scratch("legacy");
        let t = Instant::now();
        sync::full_sync_node_with(iptables::LEGACY, ns.name(), &rules, usize::MAX).unwrap();
        let legacy = t.elapsed();
        assert_eq!(rule_count(ns.name(), iptables::LEGACY), nat_rules);
        drop(ns);

        // Naive: all commands when few, else a sample at the start (empty table) and
        // at the end (full table), extrapolated linearly over all commands.
        let cmds = naive_commands(&rules);
        let naive = if cmds.len() <= 2000 {
            let ns = scratch("naive");
            format!("{} ({} processes)", secs(run_naive(ns.name(), &cmds)), cmds.len())
        } else {
            let ns = scratch("naive");
            let head = run_naive(ns.name(), &cmds[..sample]);
            drop(ns);
            let ns = scratch("naive-full");
            sync::full_sync_node(ns.name(), &rules).unwrap();
            iptables::run_with(iptables::DEFAULT, ns.name(), &["-t", "nat", "-N", "BENCH-TAIL"]).unwrap();
            let tail_cmds: Vec<Vec<String>> = (0..sample)
                .map(|i| {
                    shell_words(&format!(
                        "-t nat -A KUBE-SERVICES -d 10.111.0.{} -p tcp --dport 80 -j BENCH-TAIL",
                        i % 250
                    ))
                })
                .collect();
            let tail = run_naive(ns.name(), &tail_cmds);
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

    println!();
    println!("One service changed (one endpoint replaced), median of {CHANGE_ROUNDS}, nft:");
    println!();
    println!(
        "| services | endpoints | labctl partial sync | kube-proxy partial sync (KUBE-SERVICES rewritten) | restore of a rule without verdict (no validation) | restore of one `-j RETURN` (kernel validates the table) | same, OUTPUT's jump to KUBE-SERVICES removed |"
    );
    println!("|---|---|---|---|---|---|---|");
    let change_sizes: Vec<usize> = std::env::var("PROXY_BENCH_CHANGE_SIZES")
        .unwrap_or_else(|_| "1000,2000,3000,5000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    for &n in &change_sizes {
        let row = change_at(n, iptables::DEFAULT);
        println!(
            "| {n} | {} | {} | {} | {} | {} | {} |",
            n * 3,
            ms(row.ours),
            ms(row.kube_proxy),
            ms(row.no_verdict),
            ms(row.verdict),
            row.verdict_one_base_chain.map_or("not run".into(), ms)
        );
    }
    let n = *change_sizes.iter().max().unwrap();
    let row = change_at(n, iptables::LEGACY);
    println!();
    println!(
        "legacy at {n}: labctl partial sync {}; kube-proxy partial sync {}; one `-j RETURN` {}",
        ms(row.ours),
        ms(row.kube_proxy),
        ms(row.verdict)
    );
}

const CHANGE_ROUNDS: usize = 7;

/// Medians of one-service changes and of single-rule restores into a node holding
/// `n` services × 3 endpoints.
struct ChangeRow {
    ours: Duration,
    kube_proxy: Duration,
    no_verdict: Duration,
    verdict: Duration,
    /// nft only: the same with OUTPUT's jump to KUBE-SERVICES removed.
    verdict_one_base_chain: Option<Duration>,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times one restore. It starts after a pause: a restore whose transaction deleted
/// rules leaves their freeing to a work item that first waits for an RCU grace
/// period, and the next restore to close its netlink socket waits for that work
/// (nft_rcv_nl_event → nf_tables_trans_destroy_flush_work); without the pause each
/// measurement would pay for the one before.
fn timed(work: impl FnOnce()) -> Duration {
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    work();
    t.elapsed()
}

fn timed_restore(bin: Iptables, ns: &str, input: &str) -> Duration {
    timed(|| iptables::restore_with(bin, ns, input).unwrap())
}

fn change_at(n: usize, bin: Iptables) -> ChangeRow {
    let base = ports(n);
    let rules = NodeRules::from_ports(config(), &base);
    let mut changed_ports = base.clone();
    let e = (n * 3 + 7) as u32;
    changed_ports[n / 2] = port(n / 2, [e, e + 1, (n / 2 * 3) as u32]);
    let changed = NodeRules::from_ports(config(), &changed_ports);
    let ns = scratch(&format!("change-{n}"));
    let batch = if bin == iptables::LEGACY {
        usize::MAX
    } else {
        plan::CHAINS_PER_BATCH
    };
    sync::full_sync_node_with(bin, ns.name(), &rules, batch).unwrap();
    iptables::run_with(bin, ns.name(), &["-t", "nat", "-N", "BENCH-FLOOR"]).unwrap();
    wait_for_quiet();
    let (mut ours, mut kube_proxy, mut no_verdict, mut verdict) = (vec![], vec![], vec![], vec![]);
    for round in 0..CHANGE_ROUNDS {
        let (from, to) = if round % 2 == 0 {
            (&rules, &changed)
        } else {
            (&changed, &rules)
        };
        // labctl's own path on nft: returns once the kernel committed
        // (kernel::nft_commits); legacy has no nf_tables notifications.
        ours.push(if bin == iptables::DEFAULT {
            timed(|| {
                sync::update_node(ns.name(), from, to).unwrap();
            })
        } else {
            timed_restore(bin, ns.name(), &plan::update(from, to).unwrap())
        });
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
        kube_proxy.push(timed_restore(bin, ns.name(), &kp));
        // A rule with no verdict and no xt target sets no NFT_VALIDATE_NEED
        // (nf_tables_newrule): the commit skips the table walk.
        no_verdict.push(timed_restore(
            bin,
            ns.name(),
            "*nat\n-A BENCH-FLOOR -d 198.51.100.1/32\nCOMMIT\n",
        ));
        // Any verdict does: nf_tables_validate walks every chain reachable from
        // each base chain (nft_table_validate → nft_chain_validate).
        verdict.push(timed_restore(
            bin,
            ns.name(),
            "*nat\n-A BENCH-FLOOR -j RETURN\nCOMMIT\n",
        ));
    }
    let portals = [
        "-t",
        "nat",
        "-D",
        "OUTPUT",
        "-m",
        "comment",
        "--comment",
        "kubernetes service portals",
        "-j",
        "KUBE-SERVICES",
    ];
    let verdict_one_base_chain = (bin == iptables::DEFAULT).then(|| {
        iptables::run_with(bin, ns.name(), &portals).unwrap();
        median(
            (0..CHANGE_ROUNDS)
                .map(|_| timed_restore(bin, ns.name(), "*nat\n-A BENCH-FLOOR -j RETURN\nCOMMIT\n"))
                .collect(),
        )
    });
    ChangeRow {
        ours: median(ours),
        kube_proxy: median(kube_proxy),
        no_verdict: median(no_verdict),
        verdict: median(verdict),
        verdict_one_base_chain,
    }
}
