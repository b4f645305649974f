//! From rules to `iptables-restore --noflush` inputs: a full sync (kube-proxy's full
//! sync, split into transactions small enough for iptables-nft) and an incremental
//! update between two renderings (kube-proxy's partial sync).
//!
//! Why batches: iptables-nft's cost per transaction grows faster than linearly with
//! the chains it declares (here 10,000 services × 3 endpoints, 40,000 chains, in one
//! restore took minutes; 1,000 chains per restore ≈ 70 ms each). So a full sync
//! first writes the per-service chains in batches of whole services — not yet
//! referenced by KUBE-SERVICES, or replacing a service's chains with a consistent
//! new set — and then one last transaction per table writes KUBE-SERVICES and the
//! other top-level chains, deletes stale chains and ensures the jump rules. Each
//! service is consistent at every step; the switch to the new service set is
//! atomic. A lab small enough for one batch gets a single restore.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::names;
use super::rules::{KUBE_MARK_MASQ, KUBE_SERVICES, NodeRules, ServiceRules};

/// Chains declared per restore transaction in a full sync.
pub const CHAINS_PER_BATCH: usize = 1000;

/// What `iptables-save` shows of one table: its chain names and rule lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Existing {
    pub chains: BTreeSet<String>,
    pub rules: Vec<String>,
}

impl Existing {
    pub fn parse(save: &str) -> Existing {
        let mut e = Existing::default();
        for line in save.lines() {
            if let Some(rest) = line.strip_prefix(':') {
                if let Some(name) = rest.split_whitespace().next() {
                    e.chains.insert(name.to_string());
                }
            } else if line.starts_with("-A ") {
                e.rules.push(line.to_string());
            }
        }
        e
    }

    /// Whether a rule with this chain, target and (if any) comment is present;
    /// iptables prints matches in its own order, so compare those three only.
    fn has_jump(&self, chain: &str, spec: &str) -> bool {
        let target = spec.rsplit_once("-j ").map_or(spec, |(_, t)| t);
        let comment = spec
            .split_once("--comment ")
            .map(|(_, rest)| rest.rsplit_once(" -j ").map_or(rest, |(c, _)| c));
        let prefix = format!("-A {chain} ");
        self.rules.iter().any(|r| {
            r.starts_with(&prefix)
                && r.ends_with(&format!("-j {target}"))
                && comment.is_none_or(|c| r.contains(&format!("--comment {c}")))
                && (comment.is_some() || !r.contains("--comment"))
        })
    }
}

fn push_chain_decl(out: &mut String, name: &str) {
    let _ = writeln!(out, ":{name} - [0:0]");
}

fn push_rules(out: &mut String, rules: &[String]) {
    for r in rules {
        out.push_str(r);
        out.push('\n');
    }
}

fn jump_lines(rules: &NodeRules, table: &str, existing: &Existing) -> String {
    let mut out = String::new();
    for j in rules.jump_rules().iter().filter(|j| j.table == table) {
        if existing.has_jump(j.chain, &j.spec) {
            continue;
        }
        if j.prepend {
            let _ = writeln!(out, "-I {} 1 {}", j.chain, j.spec);
        } else {
            let _ = writeln!(out, "-A {} {}", j.chain, j.spec);
        }
    }
    out
}

/// Per-service chain batches: restore inputs of whole services, each declaring
/// (and so flushing) about `chains_per_batch` chains with their rules.
pub fn service_batches(services: &[ServiceRules], chains_per_batch: usize) -> Vec<String> {
    let mut batches = Vec::new();
    let mut decls = String::new();
    let mut body = String::new();
    let mut count = 0;
    for s in services {
        for c in &s.chains {
            push_chain_decl(&mut decls, &c.name);
            push_rules(&mut body, &c.rules);
        }
        count += s.chains.len();
        if count >= chains_per_batch {
            batches.push(format!("*nat\n{decls}{body}COMMIT\n"));
            decls.clear();
            body.clear();
            count = 0;
        }
    }
    if count > 0 {
        batches.push(format!("*nat\n{decls}{body}COMMIT\n"));
    }
    batches
}

/// The final transaction of a full sync: filter table, then nat's top-level chains,
/// stale service chains deleted, jump rules ensured. With `with_services`, the
/// service chains are in it too (a single-restore sync).
fn top_level(rules: &NodeRules, filter: &Existing, nat: &Existing, with_services: bool) -> String {
    let mut out = String::from("*filter\n");
    let filter_chains = rules.filter_chains();
    for c in &filter_chains {
        push_chain_decl(&mut out, &c.name);
    }
    for c in &filter_chains {
        push_rules(&mut out, &c.rules);
    }
    out.push_str(&jump_lines(rules, "filter", filter));
    out.push_str("COMMIT\n*nat\n");
    let services = rules.nat_services_chain();
    let statics = rules.nat_static_chains();
    push_chain_decl(&mut out, KUBE_SERVICES);
    for c in &statics {
        push_chain_decl(&mut out, &c.name);
    }
    let wanted = rules.service_chain_names();
    if with_services {
        for name in wanted.keys() {
            push_chain_decl(&mut out, name);
        }
    }
    let stale: Vec<&String> = nat
        .chains
        .iter()
        .filter(|c| names::is_service_chain(c) && !wanted.contains_key(c.as_str()))
        .collect();
    for c in &stale {
        push_chain_decl(&mut out, c);
    }
    for c in &statics {
        push_rules(&mut out, &c.rules);
    }
    if with_services {
        for s in &rules.services {
            for c in &s.chains {
                push_rules(&mut out, &c.rules);
            }
        }
    }
    push_rules(&mut out, &services.rules);
    for c in &stale {
        let _ = writeln!(out, "-X {c}");
    }
    out.push_str(&jump_lines(rules, "nat", nat));
    out.push_str("COMMIT\n");
    out
}

/// The restore inputs of a full sync, in order, given what the node's tables hold now.
pub fn full_sync(rules: &NodeRules, filter: &Existing, nat: &Existing, chains_per_batch: usize) -> Vec<String> {
    let chains: usize = rules.services.iter().map(|s| s.chains.len()).sum();
    if chains <= chains_per_batch {
        return vec![top_level(rules, filter, nat, true)];
    }
    let mut inputs = service_batches(&rules.services, chains_per_batch);
    // The service chains jump to KUBE-MARK-MASQ: the first batch creates it when
    // the node has none yet (declaring it later would flush it for a moment).
    if !nat.chains.contains(KUBE_MARK_MASQ)
        && let Some(first) = inputs.first_mut()
        && let Some(mark) = rules.nat_static_chains().into_iter().find(|c| c.name == KUBE_MARK_MASQ)
    {
        let mut head = String::from("*nat\n");
        push_chain_decl(&mut head, KUBE_MARK_MASQ);
        push_rules(&mut head, &mark.rules);
        *first = first.replacen("*nat\n", &head, 1);
    }
    inputs.push(top_level(rules, filter, nat, false));
    inputs
}

/// kube-proxy's partial sync between two renderings of the same node: the chains
/// of services whose rules changed are rewritten, chains no longer wanted are
/// flushed and deleted, and KUBE-SERVICES gets the lines that changed (deleted
/// and inserted rule by rule rather than flushed and rewritten: same resulting
/// chain, but at 10,000 services a rewrite of KUBE-SERVICES alone costs ~0.7 s on
/// iptables-nft). `None` when nothing changed: no restore, counters untouched.
pub fn update(old: &NodeRules, new: &NodeRules) -> Option<String> {
    let mut filter = String::new();
    if old.filter_chains() != new.filter_chains() {
        for c in new.filter_chains() {
            push_chain_decl(&mut filter, &c.name);
            push_rules(&mut filter, &c.rules);
        }
    }
    let mut nat_decls = String::new();
    let mut nat_rules = String::new();
    if old.nat_static_chains() != new.nat_static_chains() {
        for c in new.nat_static_chains() {
            push_chain_decl(&mut nat_decls, &c.name);
            push_rules(&mut nat_rules, &c.rules);
        }
    }
    // Only services whose rules differ are looked at: a chain name hashes its
    // service's name (names.rs), so a chain never moves from one service to another.
    let old_services: BTreeMap<&str, &ServiceRules> = old.services.iter().map(|s| (s.key.as_str(), s)).collect();
    let new_keys: BTreeSet<&str> = new.services.iter().map(|s| s.key.as_str()).collect();
    let mut stale: Vec<&str> = Vec::new();
    let (mut deleted_lines, mut inserted_lines): (Vec<&String>, Vec<&String>) = (Vec::new(), Vec::new());
    for s in &new.services {
        let o = old_services.get(s.key.as_str()).copied();
        if o == Some(s) {
            continue;
        }
        let (old_chains, old_lines) = o.map_or((&[][..], &[][..]), |o| (&o.chains[..], &o.nat_services[..]));
        if old_chains != s.chains {
            for c in &s.chains {
                push_chain_decl(&mut nat_decls, &c.name);
                push_rules(&mut nat_rules, &c.rules);
            }
            let kept: BTreeSet<&str> = s.chains.iter().map(|c| c.name.as_str()).collect();
            stale.extend(
                old_chains
                    .iter()
                    .map(|c| c.name.as_str())
                    .filter(|name| !kept.contains(name)),
            );
        }
        deleted_lines.extend(old_lines.iter().filter(|l| !s.nat_services.contains(l)));
        inserted_lines.extend(s.nat_services.iter().filter(|l| !old_lines.contains(l)));
    }
    for o in old.services.iter().filter(|o| !new_keys.contains(o.key.as_str())) {
        stale.extend(o.chains.iter().map(|c| c.name.as_str()));
        deleted_lines.extend(o.nat_services.iter());
    }
    stale.sort_unstable();
    for c in &stale {
        push_chain_decl(&mut nat_decls, c);
    }
    // KUBE-SERVICES, nat: deletions first (they may reference stale chains), then
    // insertions at the top, last line first so that they keep their order (the
    // NodePorts rule stays last). Order among the other lines carries no meaning in
    // KUBE-SERVICES: each matches one distinct VIP:port.
    let mut services_edits = String::new();
    for line in deleted_lines {
        let _ = writeln!(services_edits, "-D{}", &line[2..]);
    }
    for line in inserted_lines.iter().rev() {
        let rest = &line[3..];
        let (chain, spec) = rest.split_once(' ').unwrap_or((rest, ""));
        let _ = writeln!(services_edits, "-I {chain} 1 {spec}");
    }
    let mut nat = format!("{nat_decls}{services_edits}{nat_rules}");
    for c in &stale {
        let _ = writeln!(nat, "-X {c}");
    }
    if filter.is_empty() && nat.is_empty() {
        return None;
    }
    let mut out = String::new();
    if !filter.is_empty() {
        let _ = write!(out, "*filter\n{filter}COMMIT\n");
    }
    if !nat.is_empty() {
        let _ = write!(out, "*nat\n{nat}COMMIT\n");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::rules::tests::golden_ports;

    fn rules_with(eps: &[&str]) -> NodeRules {
        let (config, mut ports) = golden_ports();
        ports[0].endpoints = eps.iter().map(|e| (e.parse().unwrap(), 80)).collect();
        let mut other = ports[0].clone();
        other.name = "svc2".into();
        other.cluster_ip = "172.30.1.2".parse().unwrap();
        other.endpoints = vec![("10.0.2.1".parse().unwrap(), 8080)];
        ports.push(other);
        NodeRules::from_ports(config, &ports)
    }

    #[test]
    fn identical_rules_need_no_restore() {
        let a = rules_with(&["10.0.1.1", "10.0.1.2"]);
        assert_eq!(update(&a, &a.clone()), None);
    }

    #[test]
    fn endpoint_change_rewrites_only_that_service() {
        let old = rules_with(&["10.0.1.1", "10.0.1.2", "10.0.1.3"]);
        let new = rules_with(&["10.0.1.1", "10.0.1.2", "10.0.1.4"]);
        let input = update(&old, &new).unwrap();
        assert!(!input.contains("*filter"), "{input}");
        assert!(input.contains(":KUBE-SVC-AQI2S6QIMU7PVVRP - [0:0]"));
        assert!(!input.contains("svc2"), "other service untouched: {input}");
        // The VIP line is unchanged: KUBE-SERVICES is not touched.
        assert!(!input.contains("KUBE-SERVICES"), "{input}");
        let stale = names::endpoint_chain("ns1/svc1", "tcp", "10.0.1.3:80");
        assert!(input.contains(&format!(":{stale} - [0:0]")));
        assert!(input.trim_end().ends_with(&format!("-X {stale}\nCOMMIT")), "{input}");
    }

    #[test]
    fn losing_all_endpoints_moves_the_service_to_a_reject() {
        let old = rules_with(&["10.0.1.1"]);
        let new = rules_with(&[]);
        let input = update(&old, &new).unwrap();
        assert!(input.contains("*filter\n"), "{input}");
        assert!(input.contains("has no endpoints\" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j REJECT"));
        assert!(
            input.contains("-D KUBE-SERVICES -m comment --comment \"ns1/svc1 cluster IP\""),
            "{input}"
        );
        assert!(input.contains("-X KUBE-SVC-AQI2S6QIMU7PVVRP"));
        let back = update(&new, &old).unwrap();
        assert!(
            back.contains("-I KUBE-SERVICES 1 -m comment --comment \"ns1/svc1 cluster IP\""),
            "{back}"
        );
    }

    #[test]
    fn a_service_replaced_by_another_swaps_its_chains_and_its_line() {
        let old = rules_with(&["10.0.1.1"]);
        let mut new = old.clone();
        let (config, mut ports) = golden_ports();
        ports[0].name = "svc3".into();
        ports[0].cluster_ip = "172.30.1.3".parse().unwrap();
        new.services.retain(|s| !s.key.starts_with("ns1/svc1/"));
        new.services.extend(NodeRules::from_ports(config, &ports).services);
        new.services.sort_by(|a, b| a.key.cmp(&b.key));
        let input = update(&old, &new).unwrap();
        let gone = names::service_chain("ns1/svc1", "tcp");
        let came = names::service_chain("ns1/svc3", "tcp");
        assert!(input.contains(&format!("-X {gone}\n")), "{input}");
        assert!(input.contains(&format!(":{came} - [0:0]\n")), "{input}");
        let delete = input
            .find("-D KUBE-SERVICES -m comment --comment \"ns1/svc1 cluster IP\"")
            .unwrap();
        let insert = input
            .find("-I KUBE-SERVICES 1 -m comment --comment \"ns1/svc3 cluster IP\"")
            .unwrap();
        assert!(delete < insert, "deletions come first: {input}");
        assert!(!input.contains("svc2"), "the other service is untouched: {input}");
        assert_eq!(update(&new, &new.clone()), None);
    }

    #[test]
    fn full_sync_batches_whole_services_and_deletes_stale_chains() {
        let rules = rules_with(&["10.0.1.1", "10.0.1.2", "10.0.1.3"]);
        let nat = Existing::parse(
            "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SEP-OLDOLDOLDOLDOLDO - [0:0]\n:OTHER - [0:0]\nCOMMIT\n",
        );
        let single = full_sync(&rules, &Existing::default(), &nat, 1000);
        assert_eq!(single.len(), 1);
        let text = &single[0];
        assert!(text.contains("-X KUBE-SEP-OLDOLDOLDOLDOLDO"));
        assert!(!text.contains("OTHER"), "chains not kube-proxy's stay");
        assert!(text.contains("-I PREROUTING 1 -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
        assert!(text.contains("-A FORWARD -d 172.30.0.0/16 -m comment --comment"));
        // svc1 has 4 chains, svc2 2: with 3 per batch each service is its own batch.
        let batched = full_sync(&rules, &Existing::default(), &nat, 3);
        assert_eq!(batched.len(), 3);
        assert!(batched[0].contains("KUBE-SVC-AQI2S6QIMU7PVVRP") && !batched[0].contains("KUBE-SERVICES"));
        assert!(batched[0].starts_with("*nat\n:KUBE-MARK-MASQ - [0:0]\n-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n"));
        assert!(!batched[1].contains("KUBE-MARK-MASQ - [0:0]"));
        assert!(batched[2].contains(":KUBE-SERVICES - [0:0]") && !batched[2].contains(":KUBE-SVC-"));
    }

    #[test]
    fn jumps_already_present_are_not_added_again() {
        let rules = rules_with(&["10.0.1.1"]);
        let nat = Existing::parse(
            "*nat\n-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\nCOMMIT\n",
        );
        let text = &full_sync(&rules, &Existing::default(), &nat, 1000)[0];
        let nat_part = text.split("*nat").nth(1).unwrap();
        assert!(!nat_part.contains("-I "), "{nat_part}");
        let filter = Existing::parse("*filter\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n");
        let text = &full_sync(&rules, &filter, &nat, 1000)[0];
        assert!(!text.contains("-I INPUT 1 -j KUBE-FIREWALL"));
        assert!(text.contains("-I OUTPUT 1 -j KUBE-FIREWALL"));
    }
}
