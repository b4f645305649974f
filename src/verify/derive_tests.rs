use super::*;
use crate::cluster::state::LabState;

/// The main seed lab, resolved from its topology file, every pod ready, plus topology checks.
fn seed() -> LabState {
    let mut lab = crate::fixture::resolved::seed_running();
    lab.checks = vec![
        CheckState {
            name: "redis-0 is the master".into(),
            target: "daemonset/multitool".into(),
            namespace: "default".into(),
            command: vec![
                "redis-cli".into(),
                "-h".into(),
                "redis-0.redis-headless".into(),
                "INFO".into(),
            ],
            expect: Some("role:master".into()),
            exit_code: None,
        },
        CheckState {
            name: "on a node".into(),
            target: "node/worker2".into(),
            namespace: "default".into(),
            command: vec!["true".into()],
            expect: None,
            exit_code: None,
        },
        CheckState {
            name: "nowhere".into(),
            target: "deployment/nope".into(),
            namespace: "default".into(),
            command: vec!["true".into()],
            expect: None,
            exit_code: None,
        },
    ];
    lab
}

fn named<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name:?} in:\n{}", names(checks)))
}

fn names(checks: &[Check]) -> String {
    checks.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join("\n")
}

fn pod_ip(lab: &LabState, name: &str) -> String {
    lab.pods.iter().find(|p| p.name == name).unwrap().ip.to_string()
}

#[test]
fn the_client_is_a_toolbox_pod_asking_through_its_resolv_conf() {
    let lab = seed();
    let checks = derive(&lab);
    let c = named(
        &checks,
        "dns A nginx-clusterip.default.svc.cluster.local → VIP 10.96.204.67",
    );
    let Place::Pod { name, .. } = &c.steps[0].place else {
        panic!("{c:?}")
    };
    assert!(name.starts_with("multitool-"), "{name}");
    assert_eq!(
        c.steps[0].argv,
        [
            "dig",
            "+short",
            "+time=2",
            "+tries=2",
            "nginx-clusterip.default.svc.cluster.local",
            "A"
        ]
    );
    assert_eq!(c.steps[0].expect, Expect::Lines(["10.96.204.67".to_string()].into()));
}

#[test]
fn without_a_toolbox_pod_a_node_asks_the_kube_dns_vip() {
    let mut lab = seed();
    lab.pods.retain(|p| !p.name.starts_with("multitool-"));
    lab.checks.clear();
    let checks = derive(&lab);
    let c = named(
        &checks,
        "dns A nginx-clusterip.default.svc.cluster.local → VIP 10.96.204.67",
    );
    assert_eq!(c.steps[0].place, Place::Node("headless-services-worker".into()));
    assert!(c.steps[0].argv.contains(&"@10.96.0.10".to_string()));
    // No names to ping from a node: the VIP by address only, no headless ping.
    assert!(
        checks
            .iter()
            .any(|c| c.name == "ping 10.96.204.67: 100% packet loss (the VIP answers only its ports)")
    );
    assert!(!checks.iter().any(|c| c.name.starts_with("ping nginx-headless")));
}

#[test]
fn headless_names_answer_exactly_the_ready_pod_ips_and_statefulset_pods_their_own() {
    let mut lab = seed();
    let redis: BTreeSet<String> = ["redis-0", "redis-1", "redis-2"]
        .iter()
        .map(|p| pod_ip(&lab, p))
        .collect();
    let checks = derive(&lab);
    let c = named(
        &checks,
        "dns A redis-headless.default.svc.cluster.local → the 3 ready pod IPs",
    );
    assert_eq!(c.steps[0].expect, Expect::Lines(redis));
    let c = named(
        &checks,
        &format!(
            "dns A redis-1.redis-headless.default.svc.cluster.local → {} (redis-1)",
            pod_ip(&lab, "redis-1")
        ),
    );
    assert_eq!(c.steps[0].expect, Expect::Lines([pod_ip(&lab, "redis-1")].into()));
    // Deployment pods have no names of their own.
    assert!(
        !checks
            .iter()
            .any(|c| c.name.starts_with("dns A ") && c.name.contains(".nginx-headless.default.svc.cluster.local →"))
    );
    // A pod that is not ready is not published.
    let ip1: Ipv4Addr = pod_ip(&lab, "redis-1").parse().unwrap();
    for ep in lab.endpoint_slices.iter_mut().flat_map(|s| &mut s.endpoints) {
        if ep.address == ip1 {
            ep.ready = false;
        }
    }
    let checks = derive(&lab);
    named(
        &checks,
        "dns A redis-headless.default.svc.cluster.local → the 2 ready pod IPs",
    );
}

#[test]
fn srv_for_named_ports() {
    let lab = seed();
    let checks = derive(&lab);
    let c = named(
        &checks,
        "dns SRV _http._tcp.nginx-clusterip.default.svc.cluster.local → 1 target(s)",
    );
    assert_eq!(
        c.steps[0].expect,
        Expect::Srv([(80, "nginx-clusterip.default.svc.cluster.local.".to_string())].into())
    );
    let c = named(
        &checks,
        "dns SRV _redis._tcp.redis-headless.default.svc.cluster.local → 3 target(s)",
    );
    let Expect::Srv(want) = &c.steps[0].expect else {
        panic!()
    };
    assert!(want.contains(&(6379, "redis-0.redis-headless.default.svc.cluster.local.".to_string())));
    let c = named(
        &checks,
        "dns SRV _http._tcp.nginx-headless.default.svc.cluster.local → 2 target(s)",
    );
    let Expect::Srv(want) = &c.steps[0].expect else {
        panic!()
    };
    let ip = pod_ip(
        &lab,
        lab.pods
            .iter()
            .find(|p| p.name.starts_with("nginx-"))
            .unwrap()
            .name
            .as_str(),
    );
    assert!(want.contains(&(
        80,
        format!("{}.nginx-headless.default.svc.cluster.local.", ip.replace('.', "-"))
    )));
}

#[test]
fn ptr_for_vips_and_for_each_service_a_pod_backs() {
    let lab = seed();
    let checks = derive(&lab);
    let c = named(
        &checks,
        "dns PTR 10.96.204.67 → nginx-clusterip.default.svc.cluster.local.",
    );
    assert_eq!(c.steps[0].argv[4..], ["-x".to_string(), "10.96.204.67".to_string()]);
    let nginx = lab.pods.iter().find(|p| p.name.starts_with("nginx-")).unwrap();
    let dashed = nginx.ip.to_string().replace('.', "-");
    let c = checks
        .iter()
        .find(|c| c.name.starts_with(&format!("dns PTR {} ", nginx.ip)))
        .unwrap();
    assert_eq!(
        c.steps[0].expect,
        Expect::Lines(
            [
                format!("{dashed}.nginx-clusterip.default.svc.cluster.local."),
                format!("{dashed}.nginx-headless.default.svc.cluster.local."),
            ]
            .into()
        )
    );
    // multitool pods back no service: no PTR check.
    let tool = lab.pods.iter().find(|p| p.name.starts_with("multitool-")).unwrap();
    assert!(
        !checks
            .iter()
            .any(|c| c.name.starts_with(&format!("dns PTR {} ", tool.ip)))
    );
}

#[test]
fn kube_proxy_rules_present_for_clusterip_on_every_node_absent_for_headless() {
    let lab = seed();
    let checks = derive(&lab);
    for node in [
        "headless-services-control-plane",
        "headless-services-worker",
        "headless-services-worker2",
    ] {
        let c = named(
            &checks,
            &format!("kube-proxy default/nginx-clusterip:http → KUBE-SERVICES rule for 10.96.204.67:80 on {node}"),
        );
        assert_eq!(c.steps[0].place, Place::Node(node.into()));
        let Expect::LineWithAll(fragments) = &c.steps[0].expect else {
            panic!()
        };
        assert!(fragments.contains(&"--comment \"default/nginx-clusterip:http cluster IP\"".to_string()));
        let c = named(
            &checks,
            &format!("kube-proxy default/redis-headless (headless) → no nat rules on {node}"),
        );
        assert_eq!(c.steps[0].argv, ["iptables", "-t", "nat", "-S"]);
    }
    assert_eq!(
        checks.iter().filter(|c| c.group == "kube-proxy").count(),
        3 * (1 + 1 + 3 + 2)
    );
}

#[test]
fn tcp_through_the_vip_must_reach_every_endpoint() {
    let lab = seed();
    let checks = derive(&lab);
    let c = named(
        &checks,
        "tcp 10.96.204.67:80 (default/nginx-clusterip:http) reaches every endpoint (2)",
    );
    assert_eq!(c.steps.len(), 3);
    let Place::Pod { name, .. } = &c.steps[1].place else {
        panic!()
    };
    let client = lab.pods.iter().find(|p| &p.name == name).unwrap();
    // conntrack is read where the DNAT happens: the client's node.
    assert_eq!(c.steps[2].place, Place::Node(client.node.clone()));
    let nginx: BTreeSet<Ipv4Addr> = lab
        .pods
        .iter()
        .filter(|p| p.name.starts_with("nginx-"))
        .map(|p| p.ip)
        .collect();
    assert_eq!(c.steps[2].expect, Expect::ReplySources(nginx));
    // No API server behind default/kubernetes; kube-system is checked through DNS.
    assert_eq!(
        checks.iter().filter(|c| c.group == "tcp").count(),
        1,
        "{}",
        names(&checks)
    );
}

#[test]
fn ping_contrast_and_cross_node_reach() {
    let lab = seed();
    let checks = derive(&lab);
    let c = named(
        &checks,
        "ping nginx-clusterip.default.svc.cluster.local: 100% packet loss (the VIP answers only its ports)",
    );
    assert_eq!(c.steps[0].expect, Expect::Contains("100% packet loss".into()));
    let c = named(
        &checks,
        "ping redis-headless.default.svc.cluster.local: replies from a pod, named by its PTR",
    );
    let Expect::ContainsAny(replies) = &c.steps[0].expect else {
        panic!()
    };
    let ip0 = pod_ip(&lab, "redis-0");
    assert!(replies.contains(&format!(
        "bytes from redis-0.redis-headless.default.svc.cluster.local ({ip0})"
    )));
    // 3 nodes: each node's representative pings one pod on each of the 2 others.
    assert_eq!(checks.iter().filter(|c| c.group == "reach").count(), 6);
}

#[test]
fn topology_checks_run_where_they_say() {
    let lab = seed();
    let checks = derive(&lab);
    let c = named(&checks, "redis-0 is the master");
    let Place::Pod { name, .. } = &c.steps[0].place else {
        panic!()
    };
    assert!(name.starts_with("multitool-"));
    assert_eq!(
        c.steps[0].expect,
        Expect::Custom {
            regex: Some("role:master".into()),
            exit_code: None
        }
    );
    let c = named(&checks, "on a node");
    assert_eq!(c.steps[0].place, Place::Node("headless-services-worker2".into()));
    assert_eq!(
        c.steps[0].expect,
        Expect::Custom {
            regex: None,
            exit_code: Some(0)
        }
    );
    let c = named(&checks, "nowhere");
    assert_eq!(
        c.problem.as_deref(),
        Some("in: deployment/nope: no pod of Deployment default/nope")
    );
    // They come last, in the topology's order.
    let last: Vec<&str> = checks[checks.len() - 3..].iter().map(|c| c.name.as_str()).collect();
    assert_eq!(last, ["redis-0 is the master", "on a node", "nowhere"]);
}

#[test]
fn deployment_targets_resolve_through_the_replicaset() {
    let lab = seed();
    let place = resolve_target(&lab, "deployment/nginx-deployment", "default").unwrap();
    let Place::Pod { name, .. } = place else { panic!() };
    assert!(name.starts_with("nginx-deployment-"));
    assert_eq!(
        resolve_target(&lab, "redis-2", "default").unwrap(),
        Place::Pod {
            namespace: "default".into(),
            name: "redis-2".into()
        }
    );
    assert!(resolve_target(&lab, "redis-2", "workshop").is_err());
}
