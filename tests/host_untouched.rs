//! The host's root network namespace is exactly the same after deploy + destroy.
//! (Its own test binary: cargo runs test binaries one at a time, so nothing else
//! deploys while the snapshots are taken.)

mod common;

use std::process::Command;

use common::*;

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Links, addresses, routes, rules, iptables and nftables of the root netns,
/// without counters (they move with unrelated host traffic).
fn snapshot() -> String {
    let iptables = run("iptables-save", &[])
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(" [").next().unwrap_or(l).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    [
        run("ip", &["-o", "link", "show"]),
        run("ip", &["-o", "addr", "show"]),
        run("ip", &["route", "show", "table", "all"]),
        run("ip", &["-6", "route", "show", "table", "all"]),
        run("ip", &["rule", "show"]),
        iptables,
        run("nft", &["list", "ruleset"]),
        run("sysctl", &["net.ipv4.ip_forward"]),
    ]
    .join("\n----\n")
}

#[test]
fn root_netns_is_unchanged_by_deploy_and_destroy() {
    require_root!();
    let before = snapshot();
    let lab = Lab::seed("host");
    let during = snapshot();
    lab.destroy();
    let after = snapshot();
    assert_eq!(before, during, "deploy changed the root netns");
    assert_eq!(before, after, "destroy left the root netns changed");
}
