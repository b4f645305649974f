//! A running lab reacts like a cluster: scaling adds DNS answers, a deleted
//! StatefulSet pod returns under its name with a new address that DNS follows.

mod common;

use common::*;

fn multitool(lab: &Lab) -> String {
    let names = ok(lab.labctl(&["get", "pods", "-l", "app=multitool", "-o", "name"]));
    names.lines().next().unwrap().trim_start_matches("pod/").to_string()
}

fn dig_short(lab: &Lab, from: &str, name: &str) -> Vec<String> {
    let mut ips: Vec<String> = stdout(&lab.exec(from, &["dig", "+search", "+short", name]))
        .lines()
        .map(str::to_string)
        .collect();
    ips.sort();
    ips
}

fn ips_of(lab: &Lab, selector: &str) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&ok(lab.labctl(&["get", "pods", "-l", selector, "-o", "json"]))).unwrap();
    let mut ips: Vec<String> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
        .map(|p| p["status"]["podIP"].as_str().unwrap().to_string())
        .collect();
    ips.sort();
    ips
}

#[test]
fn scaling_a_deployment_adds_a_dns_answer_and_deleting_a_pod_brings_it_back() {
    require_root!();
    let lab = Lab::seed("live");
    let client = multitool(&lab);
    assert_eq!(dig_short(&lab, &client, "nginx-headless").len(), 2);

    let out = ok(lab.labctl(&["scale", "deployment/nginx-deployment", "--replicas=3"]));
    assert_eq!(out.trim(), "deployment.apps/nginx-deployment scaled");
    eventually(10, || {
        let ready = ips_of(&lab, "app=nginx");
        let answered = dig_short(&lab, &client, "nginx-headless");
        if ready.len() == 3 && answered == ready {
            Ok(())
        } else {
            Err(format!("ready {ready:?}, dig {answered:?}"))
        }
    });

    // and back down: 3 → 1 removes the other answers
    ok(lab.labctl(&["scale", "deployment/nginx-deployment", "--replicas=1"]));
    eventually(10, || {
        let ready = ips_of(&lab, "app=nginx");
        let answered = dig_short(&lab, &client, "nginx-headless");
        if ready.len() == 1 && answered == ready {
            Ok(())
        } else {
            Err(format!("ready {ready:?}, dig {answered:?}"))
        }
    });

    let old_ip = lab.pod_ip("redis-1");
    let out = ok(lab.labctl(&["delete", "pod", "redis-1"]));
    assert_eq!(out.trim(), "pod \"redis-1\" deleted");
    eventually(15, || {
        let ip = lab.pod_ip("redis-1");
        let answered = dig_short(&lab, &client, "redis-1.redis-headless");
        let ready = ips_of(&lab, "statefulset.kubernetes.io/pod-name=redis-1");
        if ip != old_ip && answered == vec![ip.clone()] && ready == vec![ip.clone()] {
            Ok(())
        } else {
            Err(format!(
                "redis-1 was {old_ip}, now {ip}, ready {ready:?}, dig {answered:?}"
            ))
        }
    });
    // the replacement is a replica of redis-0 again
    eventually(15, || {
        let info = stdout(&lab.exec(
            &client,
            &["redis-cli", "-h", "redis-1.redis-headless", "INFO", "replication"],
        ));
        if info.contains("role:slave") && info.contains("master_link_status:up") {
            Ok(())
        } else {
            Err(info)
        }
    });
    lab.destroy();
}

#[test]
fn scaling_a_statefulset_down_removes_the_highest_ordinal_and_its_namespace() {
    require_root!();
    let lab = Lab::seed("scale-sts");
    ok(lab.labctl(&["scale", "statefulset", "redis", "--replicas", "2"]));
    let names = ok(lab.labctl(&["get", "pods", "-l", "app=redis", "-o", "name"]));
    assert_eq!(names.lines().collect::<Vec<_>>(), ["pod/redis-0", "pod/redis-1"]);
    assert!(!netns_of(&lab.name).contains(&format!("{}.default.redis-2", lab.name)));
    let client = multitool(&lab);
    eventually(10, || {
        let answered = dig_short(&lab, &client, "redis-headless");
        if answered.len() == 2 {
            Ok(())
        } else {
            Err(format!("{answered:?}"))
        }
    });
    lab.destroy();
}

#[test]
fn apply_and_delete_a_manifest_file_in_a_running_lab() {
    require_root!();
    let lab = Lab::seed("apply");
    let file = repo().join("tests/manifests/extra-echo.yaml");
    let file = file.to_str().unwrap();
    let out = ok(lab.labctl(&["apply", "-f", file]));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "namespace/extra created",
            "deployment.apps/echo created",
            "service/echo created"
        ]
    );
    let again = ok(lab.labctl(&["apply", "-f", file]));
    assert!(again.lines().all(|l| l.ends_with(" unchanged")), "{again}");
    let client = multitool(&lab);
    eventually(10, || {
        let answer = stdout(&lab.exec(&client, &["curl", "-s", "-m", "2", "echo.extra"]));
        if answer.starts_with("echo-") {
            Ok(())
        } else {
            Err(format!("curl echo.extra: {answer:?}"))
        }
    });
    let out = ok(lab.labctl(&["delete", "-f", file]));
    assert!(out.contains("namespace \"extra\" deleted"), "{out}");
    assert!(!netns_of(&lab.name).iter().any(|n| n.contains(".extra.")));
    eventually(5, || {
        let answer = stdout(&lab.exec(&client, &["dig", "+short", "echo.extra.svc.cluster.local"]));
        if answer.trim().is_empty() {
            Ok(())
        } else {
            Err(format!("still resolves: {answer}"))
        }
    });
    lab.destroy();
}

#[test]
fn a_scale_that_fails_half_way_leaves_no_namespace_and_a_consistent_lab() {
    require_root!();
    let lab = Lab::seed("scale-fail");
    let before = netns_of(&lab.name);
    let out = labctl_env(
        &[
            "scale",
            "--lab",
            &lab.name,
            "deployment/nginx-deployment",
            "--replicas=4",
        ],
        &[("LABCTL_INJECT_FAILURE", "routes")],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("injected failure"), "{}", stderr(&out));
    assert_eq!(netns_of(&lab.name), before, "the new pods' namespaces were removed");
    let names = ok(lab.labctl(&["get", "pods", "-l", "app=nginx", "-o", "name"]));
    assert_eq!(names.lines().count(), 2, "{names}");
    // and the lab still scales afterwards
    ok(lab.labctl(&["scale", "deployment/nginx-deployment", "--replicas=3"]));
    let names = ok(lab.labctl(&["get", "pods", "-l", "app=nginx", "-o", "name"]));
    assert_eq!(names.lines().count(), 3, "{names}");
    lab.destroy();
}
