//! Parser tests, second half: names, ports, networking, limits and reporting (the
//! first half, with the shared helpers, is parse_tests.rs).

use std::path::Path;

use super::tests::*;
use super::{load, load_str};
use crate::spec::Object;

// ---- kinds and names ----

#[test]
fn an_unknown_kind_lists_the_supported_ones() {
    let text = lab("- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n");
    assert_error_at(&text, "ConfigMap", "unknown kind \"ConfigMap\"");
    let hint = errors(&text)[0].hint.clone().unwrap();
    assert!(hint.contains("StatefulSet") && hint.contains("Namespace"), "{hint}");
}

#[test]
fn a_known_kind_in_the_wrong_api_version_hints_the_right_one() {
    let text = lab(&DEPLOYMENT.replace("apiVersion: apps/v1", "apiVersion: v1"));
    assert_error_at(&text, "v1", "no matches for kind \"Deployment\" in version \"v1\"");
    assert_eq!(errors(&text)[0].hint.as_deref(), Some("use `apiVersion: apps/v1`"));
}

#[test]
fn the_lab_name_must_be_a_dns_label() {
    assert_error_at("name: Head_Less\n", "Head_Less", "invalid lab name");
    let long = format!("name: {}\n", "a".repeat(64));
    assert_error_at(&long, "aaa", "no more than 63 characters");
    parse(&format!("name: {}\n", "a".repeat(63)));
}

#[test]
fn object_names_follow_kubernetes_rules() {
    let long = "w".repeat(64);
    assert_error_at(
        &lab(&DEPLOYMENT.replace("name: web}", &format!("name: {long}}}"))),
        &long,
        "no more than 63",
    );
    assert_error_at(
        &lab(&DEPLOYMENT.replace("name: web}", "name: Web}")),
        "Web}",
        "invalid name",
    );
    let service = "- {apiVersion: v1, kind: Service, metadata: {name: 1st}, spec: {clusterIP: None}}\n";
    assert_error_at(&lab(service), "1st", "DNS-1035");
    let dotted_pod =
        "- {apiVersion: v1, kind: Pod, metadata: {name: a.b}, spec: {containers: [{name: c, image: i}]}}\n";
    parse(&lab(dotted_pod));
    let bad_container = dotted_pod.replace("name: c,", "name: C_1,");
    assert_error_at(&lab(&bad_container), "C_1", "invalid container name");
}

#[test]
fn a_pod_netns_name_must_fit_the_kernel_limit() {
    let name = ["p".repeat(63), "o".repeat(63), "d".repeat(63)].join(".");
    let text = format!(
        "name: {}\nmanifests:\n- {{apiVersion: v1, kind: Pod, metadata: {{name: {name}}}, spec: {{containers: [{{name: c, image: i}}]}}}}\n",
        "l".repeat(63)
    );
    assert_error_at(&text, &name, "name too long for its network namespace");
}

#[test]
fn a_second_object_with_the_same_kind_namespace_and_name_is_refused() {
    let text = lab(&format!(
        "{DEPLOYMENT}{}",
        DEPLOYMENT.replace("name: web}", "name: web }")
    ));
    let errors = errors(&text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let second = text.rfind("web }").unwrap();
    assert!(errors[0].message.contains("Deployment \"web\" already exists"));
    assert_eq!(errors[0].pos.line, text[..second].matches('\n').count() + 1);
    let (line, col) = position_of(&text, "web}");
    assert!(
        errors[0]
            .hint
            .as_ref()
            .unwrap()
            .contains(&format!("lab.yaml:{line}:{col}"))
    );
    // Same name, other namespace or other kind: fine.
    parse(&lab(&format!(
        "{DEPLOYMENT}{}- {{apiVersion: v1, kind: Namespace, metadata: {{name: web}}}}\n",
        DEPLOYMENT.replace("name: web}", "name: web, namespace: web}")
    )));
}

#[test]
fn selector_and_template_labels_must_agree() {
    let text = lab(&DEPLOYMENT.replace("{labels: {app: web}}", "{labels: {app: webapp}}"));
    assert_error_at(&text, "{app: webapp}", "selector does not match template labels");
    let extra = lab(&DEPLOYMENT.replace("{labels: {app: web}}", "{labels: {app: web, tier: front}}"));
    parse(&extra);
}

#[test]
fn match_expressions_are_refused_with_a_hint() {
    let text = lab(&DEPLOYMENT.replace(
        "{matchLabels: {app: web}}",
        "{matchExpressions: [{key: app, operator: In, values: [web]}]}",
    ));
    assert_error_at(&text, "[{key", "matchExpressions is not supported");
    assert!(
        errors(&text)
            .iter()
            .any(|e| e.hint.as_deref() == Some("use matchLabels"))
    );
}

#[test]
fn a_statefulset_needs_its_service_name() {
    let text = lab(&DEPLOYMENT.replace("kind: Deployment", "kind: StatefulSet"));
    assert_error_at(&text, "selector:", "missing required field spec.serviceName");
    parse(&lab(&DEPLOYMENT
        .replace("kind: Deployment", "kind: StatefulSet")
        .replacen("  spec:\n", "  spec:\n    serviceName: web\n", 1)));
}

#[test]
fn a_named_target_port_must_exist_in_the_selected_pods() {
    let service = |target: &str| {
        format!(
            "- apiVersion: v1\n  kind: Service\n  metadata: {{name: web}}\n  spec:\n    selector: {{app: web}}\n    ports: [{{port: 80, targetPort: {target}}}]\n"
        )
    };
    let text = lab(&format!("{DEPLOYMENT}{}", service("htttp")));
    assert_error_at(&text, "htttp", "no container port named \"htttp\"");
    parse(&lab(&format!("{DEPLOYMENT}{}", service("http"))));
    // Selecting nothing is valid, whatever the name.
    parse(&lab(&service("anything")));
}

#[test]
fn a_target_port_name_must_match_the_protocol_too() {
    let service = "- {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: http, protocol: UDP}]}}\n";
    assert_error_at(&lab(&format!("{DEPLOYMENT}{service}")), "http, protocol", "(UDP)");
}

#[test]
fn an_undeclared_namespace_is_not_found() {
    let text = lab(&DEPLOYMENT.replace("name: web}", "name: web, namespace: shop}"));
    assert_error_at(&text, "shop", "namespaces \"shop\" not found");
    let declared = format!(
        "- {{apiVersion: v1, kind: Namespace, metadata: {{name: shop}}}}\n{}",
        DEPLOYMENT.replace("name: web}", "name: web, namespace: shop}")
    );
    parse(&lab(&declared));
    parse(&lab(
        &DEPLOYMENT.replace("name: web}", "name: web, namespace: kube-system}")
    ));
}

// ---- ports and services ----

#[test]
fn ports_must_be_in_range_and_protocols_known() {
    assert_error_at(
        &lab(&DEPLOYMENT.replace("containerPort: 80", "containerPort: 70000")),
        "70000",
        "port 70000 is out of range",
    );
    assert_error_at(
        &lab(&DEPLOYMENT.replace("containerPort: 80", "containerPort: 0")),
        "0}",
        "out of range",
    );
    let tcp = DEPLOYMENT.replace("containerPort: 80", "containerPort: 80, protocol: tcp");
    assert_error_at(&lab(&tcp), "tcp", "unsupported protocol \"tcp\"");
}

#[test]
fn a_value_outside_its_closed_set_is_refused_at_its_place() {
    let pod = |spec: &str| {
        format!(
            "- {{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{{spec}, containers: [{{name: c, image: i}}]}}}}\n"
        )
    };
    let service = |spec: &str| {
        format!("- {{apiVersion: v1, kind: Service, metadata: {{name: s}}, spec: {{{spec}, ports: [{{port: 1}}]}}}}\n")
    };
    let sts = DEPLOYMENT.replace("kind: Deployment", "kind: StatefulSet").replacen(
        "  spec:\n",
        "  spec:\n    serviceName: web\n    podManagementPolicy: Random\n",
        1,
    );
    let cases = [
        (
            pod("restartPolicy: Sometimes"),
            "Sometimes",
            "spec.restartPolicy: unsupported value \"Sometimes\"",
            "use Always, OnFailure or Never",
        ),
        (
            pod("enableServiceLinks: \"no\""),
            "\"no\"",
            "spec.enableServiceLinks: expected true or false, found string \"no\"",
            "write `enableServiceLinks: true` or `enableServiceLinks: false`",
        ),
        (
            sts,
            "Random",
            "spec.podManagementPolicy: unsupported value \"Random\"",
            "use OrderedReady or Parallel",
        ),
        (
            service("type: Headless"),
            "Headless",
            "spec.type: unsupported value \"Headless\"",
            "use ClusterIP, NodePort, LoadBalancer or ExternalName",
        ),
        (
            service("sessionAffinity: Sticky"),
            "Sticky",
            "spec.sessionAffinity: unsupported value \"Sticky\"",
            "use ClientIP or None",
        ),
    ];
    for (objects, needle, message, hint) in cases {
        let text = lab(&objects);
        assert_error_at(&text, needle, message);
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].hint.as_deref(), Some(hint));
    }
}

#[test]
fn service_ports_must_be_named_when_there_are_several_and_unique() {
    let unnamed =
        "- {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{name: a, port: 80}, {port: 81}]}}\n";
    assert_error_at(&lab(unnamed), "{port: 81}", "must name each of them");
    let twice = "- {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{name: a, port: 80}, {name: a, port: 81}]}}\n";
    let text = lab(twice);
    let second = text.rfind("a, port: 81").unwrap();
    let errors = errors(&text);
    assert!(
        errors.iter().any(|e| e.message.contains("duplicate port name \"a\"")
            && e.pos.col == second - text[..second].rfind('\n').unwrap()),
        "{errors:#?}"
    );
}

#[test]
fn services_need_what_their_type_requires() {
    let external = "- {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: ExternalName}}\n";
    assert_error_at(
        &lab(external),
        "ExternalName}",
        "Required value for a Service of type ExternalName",
    );
    let no_ports = "- {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {selector: {app: a}}}\n";
    assert_error_at(&lab(no_ports), "{selector", "spec.ports: Required value");
    parse(&lab(&no_ports.replace("{selector", "{clusterIP: None, selector")));
    let bad_ip =
        "- {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {clusterIP: 10.96.0.300, ports: [{port: 1}]}}\n";
    assert_error_at(&lab(bad_ip), "10.96.0.300", "is not an IPv4 address");
}

// ---- nodes and networking ----

#[test]
fn exactly_one_control_plane_node() {
    let two = "name: lab\ncluster:\n  nodes:\n  - role: control-plane\n  - role: control-plane\n";
    let second = two.rfind("control-plane").unwrap();
    let errors = errors(two);
    assert_eq!(
        (errors[0].pos.line, errors[0].message.as_str()),
        (5, "more than one control-plane node")
    );
    assert_eq!(errors[0].pos.col, second - two[..second].rfind('\n').unwrap());
    assert_error(
        "name: lab\ncluster:\n  nodes:\n  - role: worker\n",
        "needs one control-plane node",
    );
    assert_error_at(
        "name: lab\ncluster:\n  nodes:\n  - role: master\n",
        "master",
        "unknown node role",
    );
}

fn networking(fields: &str) -> String {
    format!(
        "name: lab\ncluster:\n  nodes: [{{role: control-plane}}, {{role: worker}}, {{role: worker}}]\n  networking:\n{fields}"
    )
}

/// A three-node lab with these networking `fields` is refused with an error at `needle`
/// whose message contains `message`.
fn assert_networking_error(fields: &str, needle: &str, message: &str) {
    assert_error_at(&networking(fields), needle, message);
}

#[test]
fn subnets_must_be_well_formed_networks() {
    assert_networking_error(
        "    podSubnet: 10.0.0.0/33\n",
        "10.0.0.0/33",
        "prefix length must be ≤ 32",
    );
    let text = networking("    nodeSubnet: 10.0.0.1/16\n");
    assert_error_at(&text, "10.0.0.1/16", "host bits are set");
    assert!(errors(&text)[0].hint.as_ref().unwrap().contains("10.0.0.0/16"));
    assert_networking_error("    serviceSubnet: fd00::/108\n", "fd00", "IPv6 is not supported");
    assert_networking_error("    serviceSubnet: 10.96.0.0\n", "10.96", "missing /prefix length");
}

#[test]
fn subnets_must_not_overlap() {
    let text = networking("    podSubnet: 10.0.0.0/16\n    serviceSubnet: 10.0.128.0/20\n");
    assert_error_at(
        &text,
        "10.0.128.0/20",
        "serviceSubnet 10.0.128.0/20 overlaps podSubnet 10.0.0.0/16",
    );
    // Against a default, the written value is the one pointed at.
    assert_networking_error(
        "    nodeSubnet: 192.168.1.0/24\n",
        "192.168.1.0/24",
        "overlaps podSubnet",
    );
}

#[test]
fn subnets_must_not_be_special_purpose_space() {
    for (key, subnet, message) in [
        ("nodeSubnet", "224.0.0.0/16", "multicast space"),
        ("nodeSubnet", "0.0.0.0/16", "\"this network\" space"),
        ("podSubnet", "127.0.0.0/16", "loopback space"),
        ("podSubnet", "169.254.0.0/16", "link-local space"),
        ("serviceSubnet", "255.255.255.0/28", "reserved space"),
    ] {
        assert_networking_error(&format!("    {key}: {subnet}\n"), subnet, message);
    }
    // Overlapping counts as much as lying inside.
    assert_networking_error(
        "    nodeSubnet: 160.0.0.0/4\n",
        "160.0.0.0/4",
        "nodeSubnet 160.0.0.0/4 overlaps 169.254.0.0/16",
    );
}

#[test]
fn nesting_is_bounded_aliases_included() {
    // The first `- ` opens the manifests list (level 2): the 64th is level 65.
    let deep = format!("name: lab\nmanifests:\n  {}x\n", "- ".repeat(64));
    let found = errors(&deep);
    assert!(found[0].message.contains("nested more than 64 deep"), "{found:#?}");
    assert_eq!((found[0].pos.line, found[0].pos.col), (3, 3 + 2 * 63));
    let fine = format!("name: lab\nmanifests:\n  {}x\n", "- ".repeat(63));
    assert!(!errors(&fine)[0].message.contains("nested"));
    // An alias counts as deep as the node it names.
    let aliased = format!(
        "name: lab\na: &deep {}{}\nmanifests: {}*deep{}\n",
        "[".repeat(40),
        "]".repeat(40),
        "[".repeat(30),
        "]".repeat(30)
    );
    assert_error_at(&aliased, "*deep", "nested more than 64 deep");
}

#[test]
fn a_scan_error_at_the_end_of_input_is_placed_at_the_end_of_the_last_line() {
    let found = errors("name: lab\nmanifests:\n- a: b\n  c");
    assert_eq!((found[0].pos.line, found[0].pos.col), (4, 4), "{found:#?}");
}

#[test]
fn strings_for_execve_hold_no_nul_and_fit_max_arg_strlen() {
    let pod = |container: &str| {
        lab(&format!(
            "- {{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{containers: [{{name: c, image: busybox, {container}}}]}}}}\n"
        ))
    };
    assert_error_at(&pod("args: [\"a\\0b\"]"), "\"a\\0b\"", "args[0]: contains a NUL byte");
    assert_error_at(
        &pod("env: [{name: \"A=B\", value: v}]"),
        "\"A=B\"",
        "invalid environment variable name",
    );
    // `N=`, the value and the NUL: 128 KiB fit, one byte more does not.
    let env = |size: usize| pod(&format!("env: [{{name: N, value: {}}}]", "v".repeat(size - 3)));
    let limit = super::yaml::MAX_ARG_STRLEN;
    assert!(load_str("lab.yaml", &env(limit), Path::new(".")).is_ok());
    let refused = load_str("lab.yaml", &env(limit + 1), Path::new(".")).unwrap_err();
    assert_eq!(refused.0.len(), 1);
    assert!(
        refused.0[0]
            .message
            .contains("131073 bytes is more than the kernel passes"),
        "{}",
        refused.0[0].message
    );
}

#[test]
fn a_statefulset_pod_name_must_be_a_dns_label() {
    let set = |name: &str, replicas: u32| {
        lab(&format!(
            "- {{apiVersion: apps/v1, kind: StatefulSet, metadata: {{name: {name}}}, spec: {{serviceName: s, replicas: {replicas}, selector: {{matchLabels: {{a: b}}}}, template: {{metadata: {{labels: {{a: b}}}}, spec: {{containers: [{{name: c, image: busybox}}]}}}}}}}}\n"
        ))
    };
    let name = "s".repeat(61);
    parse(&set(&name, 10));
    assert_error_at(&set(&name, 11), &name, "its pod \"sss");
    assert!(
        errors(&set(&name, 11))[0]
            .hint
            .as_ref()
            .unwrap()
            .contains("at most 60 characters")
    );
    parse(&set(&"s".repeat(63), 0));
}

#[test]
fn subnets_must_be_large_enough() {
    assert_networking_error(
        "    nodeSubnet: 172.18.0.0/30\n",
        "172.18.0.0/30",
        "nodeSubnet 172.18.0.0/30 is too small",
    );
    parse(&networking("    nodeSubnet: 172.18.0.0/29\n"));
    assert_networking_error(
        "    serviceSubnet: 10.96.0.0/28\n",
        "10.96.0.0/28",
        "serviceSubnet 10.96.0.0/28 is too small",
    );
    assert_networking_error(
        "    podSubnet: 10.0.0.0/25\n",
        "10.0.0.0/25",
        "holds 2 block(s) of /26, but the lab has 3 nodes",
    );
    parse(&networking("    podSubnet: 10.0.0.0/24\n"));
}

#[test]
fn the_pod_block_size_must_fit() {
    assert_networking_error("    podBlockSize: 16\n", "16", "Calico blocks are /20 to /32");
    let text = networking("    podSubnet: 10.0.0.0/24\n    podBlockSize: 22\n");
    assert_error_at(&text, "22", "does not fit in podSubnet 10.0.0.0/24");
    assert_networking_error("    podBlockSize: 33\n", "33", "is not a prefix length");
}

#[test]
fn the_dns_domain_must_be_a_dns_name() {
    assert_networking_error(
        "    dnsDomain: Cluster_Local\n",
        "Cluster_Local",
        "not a valid DNS name",
    );
}

#[test]
fn unknown_top_level_keys_are_warned_about() {
    let topology = parse("name: lab\nkind: Cluster\n");
    assert_eq!(
        topology.warnings,
        ["lab.yaml:2:1: warning: field kind is ignored (no effect on the lab network)"]
    );
}

// ---- reporting ----

#[test]
fn every_error_is_reported_in_reading_order() {
    let text = networking("    podSubnet: 10.0.0.0/33\n")
        + "manifests:\n"
        + &DEPLOYMENT
            .replace("          image: nginx\n", "")
            .replacen("  spec:\n", "  spec:\n    replicas: many\n", 1)
        + "- {apiVersion: v1, kind: Widget, metadata: {name: w}}\n";
    let errors = errors(&text);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(
        errors
            .windows(2)
            .all(|w| (w[0].pos.line, w[0].pos.col) <= (w[1].pos.line, w[1].pos.col))
    );
    let (line, col) = position_of(&text, "10.0.0.0/33");
    let shown = errors[0].to_string();
    assert!(shown.starts_with(&format!("lab.yaml:{line}:{col}: error: ")), "{shown}");
    assert!(shown.contains("\n  hint: "), "{shown}");
}

#[test]
fn the_shipped_topologies_load_without_errors_or_warnings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for path in entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let topology = load(&path).unwrap_or_else(|errors| panic!("{}:\n{errors}", path.display()));
        assert!(topology.warnings.is_empty(), "{:#?}", topology.warnings);
        assert!(!topology.objects.is_empty(), "{}", path.display());
    }
}

#[test]
fn a_working_dir_is_read_and_must_be_absolute() {
    let text = lab(
        "  - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: busybox, workingDir: /srv/app}]}}\n",
    );
    let topology = parse(&text);
    let Object::Pod(pod) = object(&topology, "Pod", "p") else {
        panic!("not a pod")
    };
    assert_eq!(pod.spec.containers[0].working_dir.as_deref(), Some("/srv/app"));
    let relative = text.replace("/srv/app", "srv/app");
    assert_error_at(&relative, "srv/app", "is not an absolute path");
}
