//! `iptables::restore_committed`, the restore that returns once the kernel has
//! committed (root): what it wrote is live when it returns, and a bad input is
//! still an error that says what is wrong.

mod common;

use common::{Netns, require_root};
use labctl::kernel::{iptables, netns};

fn scratch(tag: &str) -> Netns {
    Netns::create(format!("lt-ipc-{tag}-{}", std::process::id()))
}

fn rules(ns: &str, table: &str, chain: &str) -> Vec<String> {
    iptables::run_with(iptables::DEFAULT, ns, &["-t", table, "-S", chain])
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn what_it_wrote_is_live_when_it_returns() {
    require_root!();
    let ns = scratch("live");
    // Two tables: two transactions, both committed before it returns.
    iptables::restore_committed(
        ns.name(),
        "*filter\n:LT-F - [0:0]\n-A LT-F -s 198.51.100.1/32 -j RETURN\nCOMMIT\n*nat\n:LT-N - [0:0]\n-A LT-N -d 198.51.100.2/32 -j RETURN\nCOMMIT\n",
    )
    .unwrap();
    assert_eq!(
        rules(ns.name(), "filter", "LT-F"),
        ["-N LT-F", "-A LT-F -s 198.51.100.1/32 -j RETURN"]
    );
    assert_eq!(
        rules(ns.name(), "nat", "LT-N"),
        ["-N LT-N", "-A LT-N -d 198.51.100.2/32 -j RETURN"]
    );
    // A transaction that deletes rules (the case whose process exits late).
    for round in 3..6 {
        iptables::restore_committed(
            ns.name(),
            &format!("*nat\n:LT-N - [0:0]\n-A LT-N -d 198.51.100.{round}/32 -j RETURN\nCOMMIT\n"),
        )
        .unwrap();
        assert_eq!(
            rules(ns.name(), "nat", "LT-N"),
            [
                "-N LT-N".to_string(),
                format!("-A LT-N -d 198.51.100.{round}/32 -j RETURN")
            ]
        );
    }
    let name = ns.name().to_string();
    drop(ns);
    assert!(!netns::exists(&name));
}

#[test]
fn a_bad_line_is_an_error_and_changes_nothing() {
    require_root!();
    let ns = scratch("bad");
    let err = iptables::restore_committed(ns.name(), "*nat\n:LT-N - [0:0]\n-A LT-N -j LT-NOPE\nCOMMIT\n").unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("Chain 'LT-NOPE' does not exist"), "{text}");
    let nat = iptables::save(ns.name(), "nat").unwrap();
    assert!(!nat.contains("LT-N"), "{nat}");
    // The first table committed, the second failed: an error all the same.
    let err = iptables::restore_committed(
        ns.name(),
        "*filter\n:LT-F - [0:0]\nCOMMIT\n*nat\n-A LT-MISSING -j RETURN\nCOMMIT\n",
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("failed"), "{err:#}");
    let name = ns.name().to_string();
    drop(ns);
    assert!(!netns::exists(&name));
}
