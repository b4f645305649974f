//! The printers of every kind against the seed lab of `lab-headless-services-containerlab.txt`.

use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::cluster::state::{OwnerKind, PodPhase, WorkloadKind};
use crate::output::fixture::{self, CP, W1, W2};
use crate::output::table::tests::assert_aligned;
use crate::spec::{IntOrString, ServiceType};

// The printers by kind, as the CLI calls them.

fn cx<'a>(state: &'a LabState, kernel: &'static str, now: Timestamp) -> Context<'a> {
    Context { state, now, kernel }
}

fn pods(state: &LabState, items: &[&PodState], all: bool, format: Format, now: Timestamp) -> String {
    render(&Pods, &cx(state, "", now), items, format, all)
}

fn nodes(state: &LabState, format: Format, kernel: &'static str, now: Timestamp) -> String {
    let mut items: Vec<&NodeState> = state.nodes.iter().collect();
    sort_like_api(&mut items);
    render(&Nodes, &cx(state, kernel, now), &items, format, false)
}

fn services(state: &LabState, items: &[&ServiceState], all: bool, format: Format, now: Timestamp) -> String {
    render(&Services, &cx(state, "", now), items, format, all)
}

fn endpointslices(
    state: &LabState,
    items: &[&EndpointSliceState],
    all: bool,
    format: Format,
    now: Timestamp,
) -> String {
    render(&EndpointSlices, &cx(state, "", now), items, format, all)
}

/// What `get` prints for every workload of `kind` in `state`.
fn workloads(state: &LabState, kind: WorkloadKind, all: bool, format: Format) -> String {
    let of_kind: Vec<&WorkloadState> = state.workloads.iter().filter(|w| w.kind == kind).collect();
    render(&Workloads(kind), &cx(state, "", fixture::now()), &of_kind, format, all)
}

fn pod_object(state: &LabState, p: &PodState) -> Value {
    Pods.object(&cx(state, "", fixture::now()), p)
}

fn node_object(state: &LabState, n: &NodeState, kernel: &'static str) -> Value {
    Nodes.object(&cx(state, kernel, fixture::now()), n)
}

fn service_object(s: &ServiceState) -> Value {
    let state = fixture::lab();
    Services.object(&cx(&state, "", fixture::now()), s)
}

fn endpointslice_object(state: &LabState, s: &EndpointSliceState) -> Value {
    EndpointSlices.object(&cx(state, "", fixture::now()), s)
}

fn workload_object(state: &LabState, w: &WorkloadState) -> Value {
    Workloads(w.kind).object(&cx(state, "", fixture::now()), w)
}

fn all_pods(state: &LabState) -> Vec<&PodState> {
    let mut v: Vec<&PodState> = state.pods.iter().collect();
    sort_like_api(&mut v);
    v
}

fn all_services(state: &LabState) -> Vec<&ServiceState> {
    let mut v: Vec<&ServiceState> = state.services.iter().collect();
    sort_like_api(&mut v);
    v
}

fn all_slices(state: &LabState) -> Vec<&EndpointSliceState> {
    let mut v: Vec<&EndpointSliceState> = state.endpoint_slices.iter().collect();
    sort_like_api(&mut v);
    v
}

/// The cells of a table line (columns are separated by 3+ spaces; no cell in these
/// tables contains 3 spaces).
fn cells(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

fn row<'a>(table: &'a str, name: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
        .unwrap_or_else(|| panic!("no row {name} in\n{table}"));
    let _: &'a str = line;
    cells(line)
}

fn yaml_round_trip(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("bad YAML: {e}\n{yaml}"))
}

#[test]
fn format_parses_kubectl_names() {
    assert_eq!("".parse(), Ok(Format::Table));
    assert_eq!("wide".parse(), Ok(Format::Wide));
    assert_eq!("yaml".parse(), Ok(Format::Yaml));
    assert_eq!("json".parse(), Ok(Format::Json));
    assert_eq!("name".parse(), Ok(Format::Name));
    let err = "jsonpath".parse::<Format>().unwrap_err();
    assert!(err.to_string().contains("\"jsonpath\""), "{err}");
}

#[test]
fn pods_table_matches_the_seed() {
    let state = fixture::lab();
    let out = pods(&state, &all_pods(&state), false, Format::Table, fixture::now());
    assert_aligned(&out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(cells(lines[0]), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(lines.len(), 9);
    assert_eq!(row(&out, "redis-0"), ["redis-0", "1/1", "Running", "0", "5m"]);
    // API order: by name.
    let names: Vec<String> = lines[1..].iter().map(|l| cells(l)[0].clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // The seed's line, cell for cell and offset for offset.
    assert_eq!(
        lines[4],
        "nginx-deployment-55d7bb4b86-vg4lt   1/1     Running   0          5m"
    );
}

#[test]
fn pods_wide_adds_ip_node_and_none_columns() {
    let state = fixture::lab();
    let out = pods(&state, &all_pods(&state), false, Format::Wide, fixture::now());
    assert_aligned(&out);
    let header = out.lines().next().unwrap();
    assert!(header.contains("IP"));
    assert!(header.ends_with("NOMINATED NODE   READINESS GATES"), "{header}");
    assert_eq!(
        row(&out, "redis-2"),
        [
            "redis-2",
            "1/1",
            "Running",
            "0",
            "5m",
            "192.168.145.10",
            CP,
            "<none>",
            "<none>"
        ]
    );
    assert_eq!(row(&out, "redis-1")[6], W2);
    // Seed spacing: NODE column padded to the longest node name + 3.
    let line = out.lines().find(|l| l.starts_with("redis-1 ")).unwrap();
    assert!(
        line.contains(&format!("{W2}         <none>           <none>")),
        "{line}"
    );
}

#[test]
fn pods_not_ready_and_restarts() {
    let mut state = fixture::lab();
    state.pods[0].ready = false;
    state.pods[0].phase = PodPhase::Pending;
    state.pods[0].restarts = 3;
    let p = &state.pods[0];
    let out = pods(&state, &[p], false, Format::Table, fixture::now());
    assert_eq!(row(&out, &p.name)[1..4], ["0/1", "Pending", "3"]);
}

#[test]
fn all_namespaces_puts_namespace_first() {
    let mut state = fixture::lab();
    state.pods.push(fixture::coredns_pod());
    let list = all_pods(&state);
    let out = pods(&state, &list, true, Format::Wide, fixture::now());
    assert_aligned(&out);
    assert_eq!(cells(out.lines().next().unwrap())[0..2], ["NAMESPACE", "NAME"]);
    // kube-system sorts after default.
    let last = cells(out.lines().last().unwrap());
    assert_eq!(last[0..2], ["kube-system", "coredns-5d78c9869d-4xkqz"]);
    assert_eq!(row(&out, "redis-0")[0], "default");

    let svcs = all_services(&state);
    let out = services(&state, &svcs, true, Format::Table, fixture::now());
    assert_eq!(cells(out.lines().next().unwrap())[0], "NAMESPACE");
    let slices = all_slices(&state);
    let out = endpointslices(&state, &slices, true, Format::Table, fixture::now());
    assert_eq!(cells(out.lines().next().unwrap())[0], "NAMESPACE");
    assert_aligned(&out);
}

#[test]
fn empty_lists() {
    let state = fixture::lab();
    assert_eq!(pods(&state, &[], false, Format::Table, fixture::now()), "");
    assert_eq!(pods(&state, &[], false, Format::Name, fixture::now()), "");
    let v: Value = serde_json::from_str(&pods(&state, &[], false, Format::Json, fixture::now())).unwrap();
    assert_eq!(v, list(vec![]));
    assert_eq!(
        no_resources(Some("kube-system")),
        "No resources found in kube-system namespace."
    );
    assert_eq!(no_resources(None), "No resources found");
}

#[test]
fn name_format() {
    let state = fixture::lab();
    let out = pods(&state, &all_pods(&state), false, Format::Name, fixture::now());
    assert!(out.lines().all(|l| l.starts_with("pod/")));
    assert!(out.contains("pod/redis-0\n"));
    let out = services(&state, &all_services(&state), false, Format::Name, fixture::now());
    assert_eq!(out.lines().next(), Some("service/kubernetes"));
    let out = endpointslices(&state, &all_slices(&state), false, Format::Name, fixture::now());
    assert!(out.contains("endpointslice.discovery.k8s.io/redis-headless-abc12\n"));
    let out = nodes(&state, Format::Name, "6.8.0", fixture::now());
    assert_eq!(out, format!("node/{CP}\nnode/{W1}\nnode/{W2}\n"));
    let one = render_value(&pod_object(&state, &state.pods[5]), Format::Name);
    assert_eq!(one, "pod/redis-0\n");
}

#[test]
fn nodes_table_and_wide() {
    let state = fixture::lab();
    let out = nodes(&state, Format::Table, "6.8.0-45-generic", fixture::now());
    assert_aligned(&out);
    assert_eq!(row(&out, CP), [CP, "Ready", "control-plane", "10m", KUBELET_VERSION]);
    assert_eq!(row(&out, W1), [W1, "Ready", "<none>", "10m", KUBELET_VERSION]);
    let wide = nodes(&state, Format::Wide, "6.8.0-45-generic", fixture::now());
    assert_aligned(&wide);
    assert_eq!(
        cells(wide.lines().next().unwrap()),
        [
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME"
        ]
    );
    let r = row(&wide, W2);
    assert_eq!(r[5..9], ["172.18.0.4", "<none>", OS_IMAGE, "6.8.0-45-generic"]);
    assert!(r[9].starts_with("labctl://"));
}

#[test]
fn services_table_matches_the_seed() {
    let state = fixture::lab();
    let out = services(&state, &all_services(&state), false, Format::Table, fixture::now());
    assert_aligned(&out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        cells(lines[0]),
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    );
    assert_eq!(
        row(&out, "kubernetes"),
        ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "10m"]
    );
    assert_eq!(
        row(&out, "nginx-clusterip"),
        ["nginx-clusterip", "ClusterIP", "10.96.204.67", "<none>", "80/TCP", "5m"]
    );
    assert_eq!(
        row(&out, "redis-headless"),
        ["redis-headless", "ClusterIP", "None", "<none>", "6379/TCP", "5m"]
    );
    assert_eq!(
        lines[3],
        "nginx-headless    ClusterIP   None           <none>        80/TCP     5m"
    );
}

#[test]
fn services_wide_ports_and_special_types() {
    let mut state = fixture::lab();
    let mut dns = state.services[0].clone();
    dns.name = "kube-dns".to_string();
    dns.namespace = "kube-system".to_string();
    dns.cluster_ip = Some([10, 96, 0, 10].into());
    dns.selector = Some(fixture::labels(&[("k8s-app", "kube-dns")]));
    dns.ports = [
        (53, crate::spec::Protocol::Udp),
        (53, crate::spec::Protocol::Tcp),
        (9153, crate::spec::Protocol::Tcp),
    ]
    .into_iter()
    .map(|(port, protocol)| crate::cluster::state::ServicePortState {
        name: None,
        port,
        target_port: IntOrString::Int(port),
        protocol,
        node_port: None,
    })
    .collect();
    let mut ext = state.services[1].clone();
    ext.name = "search".to_string();
    ext.service_type = ServiceType::ExternalName;
    ext.cluster_ip = None;
    ext.selector = None;
    ext.external_name = Some("example.com".to_string());
    ext.ports.clear();
    let mut np = state.services[1].clone();
    np.name = "web".to_string();
    np.service_type = ServiceType::NodePort;
    np.ports[0].node_port = Some(30080);
    np.selector = Some(fixture::labels(&[("app", "nginx"), ("tier", "web")]));
    state.services.extend([dns, ext, np]);

    let svcs = all_services(&state);
    let out = services(&state, &svcs, true, Format::Wide, fixture::now());
    assert_aligned(&out);
    assert_eq!(cells(out.lines().next().unwrap()).last().unwrap(), "SELECTOR");
    assert_eq!(
        row(&out, "kube-dns")[3..],
        [
            "10.96.0.10",
            "<none>",
            "53/UDP,53/TCP,9153/TCP",
            "10m",
            "k8s-app=kube-dns"
        ]
    );
    assert_eq!(
        row(&out, "search")[2..7],
        ["ExternalName", "<none>", "example.com", "<none>", "5m"]
    );
    assert_eq!(row(&out, "search")[7], "<none>");
    assert_eq!(row(&out, "web")[5], "80:30080/TCP");
    assert_eq!(row(&out, "web")[7], "app=nginx,tier=web");
    assert_eq!(row(&out, "kubernetes")[7], "<none>");

    let ext_obj = service_object(state.services.iter().find(|s| s.name == "search").unwrap());
    assert_eq!(ext_obj["spec"]["externalName"], "example.com");
    assert!(ext_obj["spec"].get("clusterIP").is_none());
    let np_obj = service_object(state.services.iter().find(|s| s.name == "web").unwrap());
    assert_eq!(np_obj["spec"]["ports"][0]["nodePort"], 30080);
    assert_eq!(np_obj["spec"]["externalTrafficPolicy"], "Cluster");
}

#[test]
fn endpointslices_table() {
    let mut state = fixture::lab();
    // A slice with more than 3 endpoints and one with none.
    let mut big = state.endpoint_slices[3].clone();
    big.name = "big-1".to_string();
    big.endpoints.extend(state.endpoint_slices[1].endpoints.clone());
    let mut empty = state.endpoint_slices[3].clone();
    empty.name = "empty-1".to_string();
    empty.endpoints.clear();
    empty.ports.clear();
    state.endpoint_slices.extend([big, empty]);
    let slices = all_slices(&state);
    let out = endpointslices(&state, &slices, false, Format::Table, fixture::now());
    assert_aligned(&out);
    assert_eq!(
        cells(out.lines().next().unwrap()),
        ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    );
    assert_eq!(
        row(&out, "redis-headless-abc12"),
        [
            "redis-headless-abc12",
            "IPv4",
            "6379",
            "192.168.202.195,192.168.156.4,192.168.145.10",
            "5m"
        ]
    );
    assert_eq!(row(&out, "kubernetes")[3..], ["172.18.0.3", "10m"]);
    assert_eq!(
        row(&out, "big-1")[3],
        "192.168.202.195,192.168.156.4,192.168.145.10 + 2 more..."
    );
    assert_eq!(row(&out, "empty-1")[2..4], ["<unset>", "<unset>"]);
}

#[test]
fn list_shape_and_json_indent() {
    let state = fixture::lab();
    let out = pods(&state, &all_pods(&state), false, Format::Json, fixture::now());
    assert!(out.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n"));
    assert!(
        out.ends_with("    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["kind"], "List");
    assert_eq!(v["metadata"], json!({"resourceVersion": ""}));
    assert_eq!(v["items"].as_array().unwrap().len(), 8);
    assert!(v["items"].as_array().unwrap().iter().all(|i| i["kind"] == "Pod"));
}

#[test]
fn yaml_round_trips_to_the_json_output() {
    let state = fixture::lab();
    let now = fixture::now();
    let outputs = [
        (
            pods(&state, &all_pods(&state), false, Format::Yaml, now),
            pods(&state, &all_pods(&state), false, Format::Json, now),
        ),
        (
            nodes(&state, Format::Yaml, "6.8.0", now),
            nodes(&state, Format::Json, "6.8.0", now),
        ),
        (
            services(&state, &all_services(&state), false, Format::Yaml, now),
            services(&state, &all_services(&state), false, Format::Json, now),
        ),
        (
            endpointslices(&state, &all_slices(&state), false, Format::Yaml, now),
            endpointslices(&state, &all_slices(&state), false, Format::Json, now),
        ),
    ];
    for (yaml, json) in outputs {
        let from_json: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(yaml_round_trip(&yaml), from_json, "YAML:\n{yaml}");
        assert!(yaml.starts_with("apiVersion: v1\nitems:\n- "), "{yaml}");
        assert!(yaml.ends_with("kind: List\nmetadata:\n  resourceVersion: \"\"\n"));
    }
}

#[test]
fn single_object_is_not_a_list() {
    let state = fixture::lab();
    let redis0 = state.pod("default", "redis-0").unwrap();
    let yaml = render_value(&pod_object(&state, redis0), Format::Yaml);
    assert!(yaml.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n"), "{yaml}");
    let json = render_value(&pod_object(&state, redis0), Format::Json);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["kind"], "Pod");
    assert_eq!(yaml_round_trip(&yaml), v);
}

#[test]
fn pod_object_fields() {
    let state = fixture::lab();
    let p = pod_object(&state, state.pod("default", "redis-0").unwrap());
    assert_eq!(p["metadata"]["name"], "redis-0");
    assert_eq!(p["metadata"]["namespace"], "default");
    assert_eq!(p["metadata"]["uid"], "uid-pod-redis-0");
    assert_eq!(p["metadata"]["labels"]["app"], "redis");
    assert_eq!(p["metadata"]["creationTimestamp"], fixture::PODS_CREATED);
    assert_eq!(
        p["metadata"]["ownerReferences"],
        json!([{
            "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "redis",
            "uid": "uid-statefulset-redis", "controller": true, "blockOwnerDeletion": true
        }])
    );
    assert!(p["metadata"].get("generateName").is_none());
    assert_eq!(p["spec"]["nodeName"], W1);
    assert_eq!(p["spec"]["hostname"], "redis-0");
    assert_eq!(p["spec"]["subdomain"], "redis-headless");
    let c = &p["spec"]["containers"][0];
    assert_eq!(c["name"], "redis");
    assert_eq!(c["image"], "redis:7.2");
    assert_eq!(c["command"], json!(["sh", "-c"]));
    assert_eq!(c["args"], json!([fixture::REDIS_SCRIPT]));
    assert_eq!(c["env"], json!([{"name": "REDIS_PORT", "value": "6379"}]));
    assert_eq!(
        c["ports"],
        json!([{"containerPort": 6379, "name": "redis", "protocol": "TCP"}])
    );
    assert_eq!(p["spec"]["initContainers"][0]["name"], "wait-for-master");
    let st = &p["status"];
    assert_eq!(st["phase"], "Running");
    assert_eq!(st["podIP"], "192.168.202.195");
    assert_eq!(st["podIPs"], json!([{"ip": "192.168.202.195"}]));
    assert_eq!(st["hostIP"], "172.18.0.2");
    assert_eq!(st["startTime"], fixture::PODS_CREATED);
    let conds: Vec<(&str, &str)> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        conds,
        [
            ("Initialized", "True"),
            ("Ready", "True"),
            ("ContainersReady", "True"),
            ("PodScheduled", "True")
        ]
    );
    // Multi-line args become a literal block; condition statuses are quoted.
    let yaml = render_value(&p, Format::Yaml);
    assert!(
        yaml.contains("  - args:\n    - |\n      if [ \"$(hostname)\" = \"redis-0\" ]; then\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    status: \"True\"\n    type: Ready\n"), "{yaml}");
    assert!(
        yaml.contains("  creationTimestamp: \"2026-11-23T11:19:25Z\"\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  podIP: 192.168.202.195\n"), "{yaml}");

    // Not ready: Ready/ContainersReady False.
    let mut state2 = fixture::lab();
    state2.pods[5].ready = false;
    let p = pod_object(&state2, &state2.pods[5]);
    assert_eq!(p["status"]["conditions"][1]["status"], "False");
    assert_eq!(p["status"]["conditions"][2]["status"], "False");
    assert_eq!(p["status"]["conditions"][3]["status"], "True");
}

#[test]
fn deployment_pods_are_owned_by_their_replicaset() {
    let state = fixture::lab();
    let p = pod_object(
        &state,
        state.pod("default", "nginx-deployment-55d7bb4b86-vg4lt").unwrap(),
    );
    let owner = &p["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "ReplicaSet");
    assert_eq!(owner["apiVersion"], "apps/v1");
    assert_eq!(owner["name"], "nginx-deployment-55d7bb4b86");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["blockOwnerDeletion"], true);
    assert_eq!(p["metadata"]["generateName"], "nginx-deployment-55d7bb4b86-");
    assert!(p["spec"].get("hostname").is_none());
    assert!(p["spec"].get("subdomain").is_none());
    assert_eq!(
        p["spec"]["containers"][0]["readinessProbe"]["httpGet"],
        json!({"path": "/", "port": 80, "scheme": "HTTP"})
    );

    // An owner recorded as the Deployment itself: the ReplicaSet name comes from the
    // template hash, or without the workload in the state, from the pod name.
    let mut state = fixture::lab();
    for p in &mut state.pods {
        if p.name.starts_with("nginx-") {
            p.owner = Some(crate::cluster::state::OwnerRef {
                kind: OwnerKind::Deployment,
                name: "nginx-deployment".to_string(),
            });
        }
    }
    let owner_of = |state: &LabState| {
        let p = pod_object(
            state,
            state.pod("default", "nginx-deployment-55d7bb4b86-xqh9d").unwrap(),
        );
        p["metadata"]["ownerReferences"][0].clone()
    };
    let owner = owner_of(&state);
    assert_eq!(owner["name"], "nginx-deployment-55d7bb4b86");
    assert_eq!(owner["kind"], "ReplicaSet");
    state.workloads.clear();
    let owner = owner_of(&state);
    assert_eq!(owner["name"], "nginx-deployment-55d7bb4b86");
    assert!(owner.get("uid").is_none());

    let ds = pod_object(&state, state.pod("default", "multitool-8h2js").unwrap());
    assert_eq!(ds["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
    assert_eq!(ds["metadata"]["generateName"], "multitool-");
}

#[test]
fn node_objects() {
    let state = fixture::lab();
    let cp = node_object(&state, &state.nodes[0], "6.8.0");
    assert_eq!(cp["kind"], "Node");
    assert_eq!(cp["metadata"]["labels"]["kubernetes.io/hostname"], CP);
    assert_eq!(cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"], "");
    assert_eq!(cp["spec"]["podCIDR"], "192.168.145.0/26");
    assert_eq!(
        cp["status"]["addresses"],
        json!([
            {"type": "InternalIP", "address": "172.18.0.3"},
            {"type": "Hostname", "address": CP}
        ])
    );
    assert_eq!(cp["status"]["conditions"][0]["type"], "Ready");
    assert_eq!(cp["status"]["conditions"][0]["status"], "True");
    assert_eq!(cp["status"]["nodeInfo"]["kernelVersion"], "6.8.0");
    let w = node_object(&state, &state.nodes[1], "6.8.0");
    assert!(
        w["metadata"]["labels"]
            .get("node-role.kubernetes.io/control-plane")
            .is_none()
    );
    let yaml = render_value(&cp, Format::Yaml);
    assert!(
        yaml.contains("    node-role.kubernetes.io/control-plane: \"\"\n"),
        "{yaml}"
    );
}

#[test]
fn service_objects() {
    let state = fixture::lab();
    let find = |n: &str| state.services.iter().find(|s| s.name == n).unwrap();
    let headless = service_object(find("redis-headless"));
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    assert_eq!(headless["spec"]["type"], "ClusterIP");
    assert_eq!(headless["spec"]["selector"], json!({"app": "redis"}));
    assert_eq!(headless["spec"]["sessionAffinity"], "None");
    assert_eq!(
        headless["spec"]["ports"],
        json!([{"name": "redis", "port": 6379, "protocol": "TCP", "targetPort": "redis"}])
    );
    assert!(headless["spec"].get("publishNotReadyAddresses").is_none());
    let vip = service_object(find("nginx-clusterip"));
    assert_eq!(vip["spec"]["clusterIP"], "10.96.204.67");
    assert_eq!(vip["spec"]["ports"][0]["targetPort"], 80);
    let k = service_object(find("kubernetes"));
    assert!(k["spec"].get("selector").is_none());
    assert_eq!(k["metadata"]["labels"]["provider"], "kubernetes");

    let mut pna = find("redis-headless").clone();
    pna.publish_not_ready_addresses = true;
    pna.session_affinity_client_ip = true;
    let v = service_object(&pna);
    assert_eq!(v["spec"]["publishNotReadyAddresses"], true);
    assert_eq!(v["spec"]["sessionAffinity"], "ClientIP");
    assert_eq!(v["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"], 10800);
}

#[test]
fn endpointslice_objects_match_the_seed() {
    let state = fixture::lab();
    let s = endpointslice_object(&state, &state.endpoint_slices[3]);
    assert_eq!(s["apiVersion"], "discovery.k8s.io/v1");
    assert_eq!(s["kind"], "EndpointSlice");
    assert_eq!(s["metadata"]["name"], "redis-headless-abc12");
    assert_eq!(s["metadata"]["labels"]["kubernetes.io/service-name"], "redis-headless");
    assert_eq!(
        s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(s["metadata"]["labels"]["service.kubernetes.io/headless"], "");
    assert_eq!(s["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(s["addressType"], "IPv4");
    assert_eq!(
        s["endpoints"][0],
        json!({
            "addresses": ["192.168.202.195"],
            "conditions": {"ready": true, "serving": true, "terminating": false},
            "hostname": "redis-0",
            "nodeName": W1,
            "targetRef": {"kind": "Pod", "name": "redis-0", "namespace": "default",
                          "uid": "uid-pod-redis-0"},
        })
    );
    assert_eq!(s["ports"], json!([{"name": "redis", "port": 6379, "protocol": "TCP"}]));
    // Deployment endpoints carry no hostname.
    let n = endpointslice_object(&state, &state.endpoint_slices[2]);
    assert!(
        n["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("hostname").is_none())
    );
    // The seed's YAML layout.
    let yaml = render_value(&s, Format::Yaml);
    assert!(
        yaml.contains(
            "endpoints:\n- addresses:\n  - 192.168.202.195\n  conditions:\n    ready: true\n    serving: true\n    terminating: false\n  hostname: redis-0\n  nodeName: headless-services-worker\n  targetRef:\n    kind: Pod\n    name: redis-0\n"
        ),
        "{yaml}"
    );
    assert!(
        yaml.contains("ports:\n- name: redis\n  port: 6379\n  protocol: TCP\n"),
        "{yaml}"
    );
    // An unnamed port is named "".
    let mut unnamed = state.endpoint_slices[1].clone();
    unnamed.ports[0].name = None;
    assert_eq!(endpointslice_object(&state, &unnamed)["ports"][0]["name"], "");
    // The kubernetes slice has no pod behind it.
    let k = endpointslice_object(&state, &state.endpoint_slices[0]);
    assert!(k["endpoints"][0].get("targetRef").is_none());
}

#[test]
fn statefulset_table_matches_the_seed() {
    let state = fixture::lab();
    let out = workloads(&state, WorkloadKind::StatefulSet, false, Format::Table);
    assert_aligned(&out);
    // The seed: `kubectl get statefulset` -> `redis   3/3   5m` (here the lab's age).
    assert_eq!(out, "NAME    READY   AGE\nredis   3/3     10m\n");
    let wide = workloads(&state, WorkloadKind::StatefulSet, true, Format::Wide);
    assert_aligned(&wide);
    assert_eq!(
        row(&wide, "redis"),
        ["default", "redis", "3/3", "10m", "redis", "redis:7.2"]
    );
}

#[test]
fn deployment_and_daemonset_tables() {
    let mut state = fixture::lab();
    state.pods[3].ready = false; // nginx-deployment-55d7bb4b86-vg4lt
    let out = workloads(&state, WorkloadKind::Deployment, false, Format::Wide);
    assert_aligned(&out);
    assert_eq!(
        cells(out.lines().next().unwrap()),
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(
        row(&out, "nginx-deployment"),
        [
            "nginx-deployment",
            "1/2",
            "2",
            "1",
            "10m",
            "nginx",
            "nginx:1.25",
            "app=nginx"
        ]
    );
    let out = workloads(&state, WorkloadKind::DaemonSet, false, Format::Table);
    assert_aligned(&out);
    assert_eq!(
        row(&out, "multitool"),
        ["multitool", "3", "3", "3", "3", "3", "<none>", "10m"]
    );
    let names = workloads(&state, WorkloadKind::DaemonSet, false, Format::Name);
    assert_eq!(names, "daemonset.apps/multitool\n");
}

#[test]
fn workload_objects() {
    let state = fixture::lab();
    let sts = workload_object(&state, &state.workloads[2]);
    assert_eq!(sts["apiVersion"], "apps/v1");
    assert_eq!(sts["kind"], "StatefulSet");
    assert_eq!(sts["spec"]["replicas"], 3);
    assert_eq!(sts["spec"]["serviceName"], "redis-headless");
    assert_eq!(sts["spec"]["selector"], json!({"matchLabels": {"app": "redis"}}));
    assert_eq!(sts["spec"]["template"]["metadata"]["labels"]["app"], "redis");
    assert_eq!(sts["spec"]["template"]["spec"]["containers"][0]["image"], "redis:7.2");
    assert_eq!(sts["status"]["readyReplicas"], 3);
    let ds = workload_object(&state, &state.workloads[0]);
    assert!(ds["spec"].get("replicas").is_none());
    assert_eq!(ds["status"]["numberReady"], 3);
    let yaml = workloads(&state, WorkloadKind::Deployment, false, Format::Yaml);
    let json = workloads(&state, WorkloadKind::Deployment, false, Format::Json);
    assert_eq!(yaml_round_trip(&yaml), serde_json::from_str::<Value>(&json).unwrap());
    assert_eq!(state.pods_of(&state.workloads[1]).count(), 2);
}
