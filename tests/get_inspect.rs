//! `labctl get` and `labctl inspect` on a deployed lab, as a user reads them.

mod common;

use common::*;

#[test]
fn get_pods_wide_has_kubectl_columns_and_selectors_filter() {
    require_root!();
    let lab = Lab::seed("get");
    let wide = ok(lab.labctl(&["get", "pods", "-o", "wide"]));
    let header = wide.lines().next().unwrap();
    for col in [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ] {
        assert!(header.contains(col), "{header}");
    }
    // every row's IP column starts where the header's does
    let ip_at = header.find(" IP ").unwrap() + 1;
    for row in wide.lines().skip(1) {
        assert!(row[ip_at..].starts_with("192.168."), "{row}");
    }
    // default namespace only: 8 seed pods, coredns is in kube-system
    assert_eq!(wide.lines().count(), 1 + 8, "{wide}");
    let redis = ok(lab.labctl(&["get", "pods", "-l", "app=redis", "-o", "name"]));
    assert_eq!(
        redis.lines().collect::<Vec<_>>(),
        ["pod/redis-0", "pod/redis-1", "pod/redis-2"]
    );
    let system = ok(lab.labctl(&["get", "pods", "-n", "kube-system"]));
    assert_eq!(
        system.lines().filter(|l| l.starts_with("coredns-")).count(),
        2,
        "{system}"
    );
    let all = ok(lab.labctl(&["get", "pods", "-A"]));
    assert!(all.starts_with("NAMESPACE"), "{all}");
    assert_eq!(all.lines().count(), 1 + 10);
    // a single object by name prints the object itself
    let pod: serde_json::Value =
        serde_json::from_str(&ok(lab.labctl(&["get", "pod", "redis-0", "-o", "json"]))).unwrap();
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(pod["spec"]["hostname"], "redis-0");
    assert_eq!(pod["spec"]["subdomain"], "redis-headless");
    let missing = lab.labctl(&["get", "pod", "nope"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("NotFound"), "{}", stderr(&missing));
    lab.destroy();
}

#[test]
fn get_yaml_is_a_kubernetes_list_and_services_show_headless_as_none() {
    require_root!();
    let lab = Lab::seed("getyaml");
    let yaml = ok(lab.labctl(&["get", "pods", "-o", "yaml"]));
    assert!(yaml.starts_with("apiVersion: v1\nitems:\n"), "{yaml}");
    assert!(yaml.contains("kind: List"), "{yaml}");
    assert!(yaml.contains("podIP: 192.168."), "{yaml}");
    assert!(yaml.contains("nodeName: "), "{yaml}");
    assert!(yaml.contains("type: Ready"), "{yaml}");
    let svc = ok(lab.labctl(&["get", "services"]));
    let headless = svc.lines().find(|l| l.starts_with("nginx-headless ")).unwrap();
    assert!(headless.split_whitespace().nth(2) == Some("None"), "{headless}");
    let clusterip = svc.lines().find(|l| l.starts_with("nginx-clusterip ")).unwrap();
    assert!(clusterip.contains("10.96.204.67"), "{clusterip}");
    let nodes = ok(lab.labctl(&["get", "nodes"]));
    assert!(nodes.contains(&format!("{}-control-plane", lab.name)), "{nodes}");
    assert!(nodes.contains("control-plane"), "{nodes}");
    lab.destroy();
}

#[test]
fn inspect_shows_nodes_and_pods_in_a_box_table_and_json() {
    require_root!();
    let lab = Lab::seed("inspect");
    let table = ok(labctl(&["inspect", "--lab", &lab.name]));
    assert!(table.starts_with('╭'), "{table}");
    assert!(table.contains(&format!("{}-worker2", lab.name)), "{table}");
    assert!(table.contains("redis-0"), "{table}");
    let widths: Vec<usize> = table.lines().map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "ragged table:\n{table}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(labctl(&["inspect", "--lab", &lab.name, "-f", "json"]))).unwrap();
    let entries = json[&lab.name].as_array().unwrap();
    assert_eq!(entries.len(), 3 + 10);
    lab.destroy();
}

#[test]
fn describe_service_lists_ready_endpoints_like_kubectl() {
    require_root!();
    let lab = Lab::seed("describe");
    let text = ok(lab.labctl(&["describe", "service", "nginx-headless"]));
    assert!(text.contains("\nIP:                None\n"), "{text}");
    assert!(text.contains("\nSelector:          app=nginx\n"), "{text}");
    let pods: serde_json::Value =
        serde_json::from_str(&ok(lab.labctl(&["get", "pods", "-l", "app=nginx", "-o", "json"]))).unwrap();
    let mut endpoints: Vec<String> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}:80", p["status"]["podIP"].as_str().unwrap()))
        .collect();
    endpoints.sort();
    assert!(
        text.contains(&format!("\nEndpoints:         {}\n", endpoints.join(","))),
        "{text}"
    );
    let pod = ok(lab.labctl(&["describe", "pod", "redis-0"]));
    assert!(pod.starts_with("Name:             redis-0\n"), "{pod}");
    assert!(pod.contains("Controlled By:  StatefulSet/redis"), "{pod}");
    assert!(pod.contains("Readiness:"), "{pod}");
    lab.destroy();
}
