use std::path::{Path, PathBuf};

use super::{load, load_str};
use crate::spec::{
    ClusterIpSpec, IntOrString, NodeRole, Object, ProbeAction, Protocol, ServiceObject, ServiceType, SpecError,
    Topology, Workload,
};

// ---- helpers ----

fn parse(text: &str) -> Topology {
    match load_str("lab.yaml", text, Path::new(".")) {
        Ok(topology) => topology,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

fn errors(text: &str) -> Vec<SpecError> {
    match load_str("lab.yaml", text, Path::new(".")) {
        Ok(_) => panic!("the input was accepted:\n{text}"),
        Err(errors) => errors.0,
    }
}

/// A topology named `lab` whose manifests are `objects`, a YAML list written at column 1.
fn lab(objects: &str) -> String {
    format!("name: lab\nmanifests:\n{objects}")
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// The text is refused with an error at `needle` whose message contains `message`.
fn assert_error_at(text: &str, needle: &str, message: &str) {
    let (line, col) = position_of(text, needle);
    let errors = errors(text);
    let found = errors
        .iter()
        .any(|e| e.pos.line == line && e.pos.col == col && e.message.contains(message) && e.hint.is_some());
    assert!(
        found,
        "no error at {line}:{col} containing {message:?}, got:\n{errors:#?}"
    );
}

/// The text is refused with an error containing `message` (place not checked).
fn assert_error(text: &str, message: &str) {
    let errors = errors(text);
    assert!(
        errors.iter().any(|e| e.message.contains(message) && e.hint.is_some()),
        "no error containing {message:?}, got:\n{errors:#?}"
    );
}

fn object<'a>(topology: &'a Topology, kind: &str, name: &str) -> &'a Object {
    topology
        .objects
        .iter()
        .find(|o| o.kind() == kind && o.meta().name.value == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn workload<'a>(topology: &'a Topology, kind: &str, name: &str) -> &'a Workload {
    match object(topology, kind, name) {
        Object::Deployment(w) | Object::StatefulSet(w) | Object::DaemonSet(w) => w,
        other => panic!("{} is not a workload", other.kind()),
    }
}

fn service<'a>(topology: &'a Topology, name: &str) -> &'a ServiceObject {
    match object(topology, "Service", name) {
        Object::Service(s) => s,
        _ => unreachable!(),
    }
}

/// A fresh directory for manifest files.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labctl-spec-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    dir
}

const DEPLOYMENT: &str = "\
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers:
        - name: nginx
          image: nginx
          ports: [{name: http, containerPort: 80}]
";

// ---- the design's example ----

const EXAMPLE: &str = r#"name: headless-services
cluster:
  nodes:
    - role: control-plane
    - role: worker
    - role: worker
  networking:
    nodeSubnet: 172.18.0.0/16
    podSubnet: 192.168.0.0/16
    podBlockSize: 26
    serviceSubnet: 10.96.0.0/12
    dnsDomain: cluster.local
manifests:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: redis
      labels: {app: redis}
    spec:
      serviceName: redis-headless
      replicas: 3
      selector:
        matchLabels:
          app: redis
      template:
        metadata:
          labels:
            app: redis
        spec:
          containers:
            - name: redis
              image: redis:7-alpine
              command: ["redis-server"]
              args: ["--port", "6379"]
              env:
                - name: MODE
                  value: primary
              ports:
                - name: redis
                  containerPort: 6379
              readinessProbe:
                tcpSocket:
                  port: redis
                periodSeconds: 2
  - apiVersion: v1
    kind: Service
    metadata:
      name: redis-headless
    spec:
      clusterIP: None
      selector:
        app: redis
      ports:
        - name: redis
          port: 6379
          targetPort: redis
  - apiVersion: v1
    kind: Service
    metadata: {name: nginx-clusterip}
    spec:
      selector: {app: web}
      ports:
        - port: 80
          targetPort: http
  - kind: DaemonSet
    apiVersion: apps/v1
    metadata: {name: multitool}
    spec:
      selector: {matchLabels: {app: multitool}}
      template:
        metadata: {labels: {app: multitool}}
        spec:
          containers:
            - name: multitool
              image: wbitt/network-multitool
"#;

#[test]
fn the_example_topology_is_read_whole() {
    let text = format!(
        "{EXAMPLE}{}",
        DEPLOYMENT.replace("\n", "\n  ").replacen("- ", "  - ", 1)
    );
    let topology = parse(&text);
    assert_eq!(topology.name.value, "headless-services");
    let roles: Vec<NodeRole> = topology.nodes.iter().map(|n| n.value).collect();
    assert_eq!(roles, [NodeRole::ControlPlane, NodeRole::Worker, NodeRole::Worker]);
    assert_eq!(topology.networking.pod_block_size.value, 26);
    assert_eq!(topology.networking.service_subnet.value.to_string(), "10.96.0.0/12");
    let kinds: Vec<&str> = topology.objects.iter().map(Object::kind).collect();
    assert_eq!(kinds, ["StatefulSet", "Service", "Service", "DaemonSet", "Deployment"]);

    let redis = workload(&topology, "StatefulSet", "redis");
    assert_eq!(redis.replicas.value, 3);
    assert_eq!(redis.service_name.as_ref().unwrap().value, "redis-headless");
    assert_eq!(redis.meta.namespace.value, "default");
    let container = &redis.template.spec.containers[0];
    assert_eq!(container.command, ["redis-server"]);
    assert_eq!(container.args, ["--port", "6379"]);
    assert_eq!(container.env, [("MODE".to_string(), "primary".to_string())]);
    assert_eq!(container.ports[0].name.as_deref(), Some("redis"));
    let probe = container.readiness_probe.as_ref().unwrap();
    assert_eq!(
        probe.action,
        ProbeAction::TcpSocket {
            port: IntOrString::Str("redis".into())
        }
    );
    assert_eq!(probe.period_seconds, 2);

    let headless = service(&topology, "redis-headless");
    assert_eq!(headless.cluster_ip.value, ClusterIpSpec::Headless);
    assert_eq!(headless.ports[0].target_port, IntOrString::Str("redis".into()));
    assert!(topology.warnings.is_empty(), "{:#?}", topology.warnings);
}

// ---- defaults ----

#[test]
fn a_bare_topology_gets_one_control_plane_and_the_default_networking() {
    let topology = parse("name: tiny\n");
    assert_eq!(topology.nodes.len(), 1);
    assert_eq!(topology.nodes[0].value, NodeRole::ControlPlane);
    let net = &topology.networking;
    assert_eq!(net.node_subnet.value.to_string(), "172.18.0.0/16");
    assert_eq!(net.pod_subnet.value.to_string(), "192.168.0.0/16");
    assert_eq!(net.pod_block_size.value, 26);
    assert_eq!(net.service_subnet.value.to_string(), "10.96.0.0/12");
    assert_eq!(net.dns_domain.value, "cluster.local");
    assert!(topology.objects.is_empty());
}

#[test]
fn omitted_object_fields_take_the_kubernetes_defaults() {
    let text = lab(&format!(
        "{DEPLOYMENT}\
- apiVersion: v1
  kind: Service
  metadata: {{name: web}}
  spec:
    selector: {{app: web}}
    ports: [{{port: 8080}}]
- apiVersion: v1
  kind: Pod
  metadata: {{name: probe}}
  spec:
    containers:
    - name: c
      image: busybox
      readinessProbe: {{httpGet: {{port: 80}}}}
"
    ));
    let topology = parse(&text);
    let web = workload(&topology, "Deployment", "web");
    assert_eq!(web.replicas.value, 1);
    assert_eq!(web.template.spec.containers[0].ports[0].protocol, Protocol::Tcp);
    let svc = service(&topology, "web");
    assert_eq!(svc.service_type, ServiceType::ClusterIP);
    assert_eq!(svc.cluster_ip.value, ClusterIpSpec::Auto);
    assert_eq!(svc.ports[0].target_port, IntOrString::Int(8080));
    assert_eq!(svc.ports[0].protocol, Protocol::Tcp);
    assert!(!svc.session_affinity_client_ip);
    assert_eq!(svc.session_affinity_timeout, 10_800);
    let Object::Pod(pod) = object(&topology, "Pod", "probe") else {
        unreachable!()
    };
    let probe = pod.spec.containers[0].readiness_probe.as_ref().unwrap();
    assert_eq!(
        probe.action,
        ProbeAction::HttpGet {
            path: "/".into(),
            port: IntOrString::Int(80)
        }
    );
    let settings = [
        probe.initial_delay_seconds,
        probe.period_seconds,
        probe.timeout_seconds,
        probe.success_threshold,
        probe.failure_threshold,
    ];
    assert_eq!(settings, [0, 10, 1, 1, 3]);
}

#[test]
fn service_fields_are_read() {
    let text = lab("\
- apiVersion: v1
  kind: Service
  metadata: {name: sticky, namespace: kube-system}
  spec:
    type: NodePort
    clusterIP: 10.96.0.42
    publishNotReadyAddresses: true
    sessionAffinity: ClientIP
    sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
    ports: [{name: dns, port: 53, protocol: UDP, nodePort: 30053}]
- apiVersion: v1
  kind: Service
  metadata: {name: alias}
  spec: {type: ExternalName, externalName: example.com}
");
    let topology = parse(&text);
    let sticky = service(&topology, "sticky");
    assert_eq!(sticky.meta.namespace.value, "kube-system");
    assert_eq!(sticky.service_type, ServiceType::NodePort);
    assert_eq!(
        sticky.cluster_ip.value,
        ClusterIpSpec::Fixed("10.96.0.42".parse().unwrap())
    );
    assert!(sticky.publish_not_ready_addresses && sticky.session_affinity_client_ip);
    assert_eq!(sticky.session_affinity_timeout, 60);
    assert_eq!(sticky.ports[0].protocol, Protocol::Udp);
    assert_eq!(sticky.ports[0].node_port, Some(30053));
    assert!(sticky.selector.is_none());
    let alias = service(&topology, "alias");
    assert_eq!(alias.external_name.as_deref(), Some("example.com"));
}

// ---- positions ----

#[test]
fn values_carry_their_line_and_column() {
    let text = lab(DEPLOYMENT);
    let topology = parse(&text);
    let web = workload(&topology, "Deployment", "web");
    let container = &web.template.spec.containers[0];
    let (line, col) = position_of(&text, "image: nginx");
    assert_eq!(
        (container.image.pos.line, container.image.pos.col),
        (line, col + "image: ".len())
    );
    assert_eq!(
        (web.meta.name.pos.line, web.meta.name.pos.col),
        position_of(&text, "web}")
    );
    assert_eq!((web.meta.pos.line, web.meta.pos.col), position_of(&text, "kind:"));
    assert_eq!((topology.name.pos.line, topology.name.pos.col), (1, 7));
    assert_eq!(web.meta.name.pos.file, "lab.yaml");
}

#[test]
fn manifest_files_are_named_from_the_topology_directory() {
    let dir = temp_dir("files");
    let app = format!(
        "---\n# nothing here\n---\n{}status: {{}}\n",
        DEPLOYMENT.replace("\n  ", "\n").trim_start_matches("- ")
    );
    std::fs::write(dir.join("manifests/app.yaml"), &app).unwrap();
    std::fs::write(
        dir.join("manifests/list.yaml"),
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: tools}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("lab.yaml"),
        "name: lab\nmanifests:\n- manifests/app.yaml\n- manifests/list.yaml\nextra: 1\n",
    )
    .unwrap();
    let topology = load(&dir.join("lab.yaml")).unwrap();
    let web = workload(&topology, "Deployment", "web");
    assert_eq!(
        web.meta.name.pos.file,
        dir.join("manifests/app.yaml").display().to_string()
    );
    assert_eq!(web.meta.pos.line, position_of(&app, "kind").0);
    assert_eq!(topology.file, dir.join("lab.yaml").display().to_string());
    object(&topology, "Namespace", "tools");
    // Warnings come file by file, the topology file first.
    assert_eq!(topology.warnings.len(), 2, "{:#?}", topology.warnings);
    assert!(topology.warnings[0].starts_with(&format!("{}:5:1: warning: field extra", topology.file)));
    let (line, col) = position_of(&app, "status");
    let status = format!("app.yaml:{line}:{col}: warning: Deployment web: field status");
    assert!(topology.warnings[1].contains(&status), "{:#?}", topology.warnings);

    let given = load_str(
        "topologies/lab.yaml",
        "name: lab\nmanifests: [manifests/app.yaml]\n",
        &dir,
    )
    .unwrap();
    assert_eq!(
        workload(&given, "Deployment", "web").meta.name.pos.file,
        "topologies/manifests/app.yaml"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_manifest_file_is_reported_at_its_entry() {
    let text = "name: lab\nmanifests:\n- manifests/nowhere.yaml\n";
    assert_error_at(text, "manifests/nowhere", "cannot read manifest manifests/nowhere.yaml");
}

// ---- warnings ----

#[test]
fn each_ignored_field_gets_one_warning_with_its_place_and_path() {
    let text = lab("\
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, annotations: {a: b}}
  spec:
    strategy: {type: Recreate}
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers:
        - name: nginx
          image: nginx
          resources: {limits: {cpu: 100m}}
          env: [{name: A, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
status: {}
");
    let topology = parse(&text);
    let warnings = &topology.warnings;
    let expected = [
        (
            "resources",
            "Deployment web: field spec.template.spec.containers[0].resources is ignored",
        ),
        ("annotations", "Deployment web: field metadata.annotations is ignored"),
        ("strategy", "field spec.strategy is ignored"),
        (
            "valueFrom",
            "field spec.template.spec.containers[0].env[0].valueFrom is ignored",
        ),
        ("status: {}", "warning: field status is ignored"),
    ];
    for (needle, message) in expected {
        let (line, col) = position_of(&text, needle);
        let prefix = format!("lab.yaml:{line}:{col}: warning: ");
        assert!(
            warnings.iter().any(|w| w.starts_with(&prefix) && w.contains(message)),
            "no warning {prefix}...{message} in {warnings:#?}"
        );
    }
    assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
    let web = workload(&topology, "Deployment", "web");
    assert!(
        web.template.spec.containers[0].env.is_empty(),
        "a valueFrom variable is skipped"
    );
}

#[test]
fn replicas_of_a_daemonset_is_warned_about() {
    let text = lab("\
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    replicas: 2
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: a, image: busybox}]}
");
    let topology = parse(&text);
    assert_eq!(topology.warnings.len(), 1);
    assert!(topology.warnings[0].contains("field spec.replicas is ignored"));
}

// ---- YAML shape and types ----

#[test]
fn malformed_yaml_is_reported_where_the_scanner_stopped() {
    let text = "name: lab\ncluster:\n  nodes:\n   - role: worker\n  - role: control-plane\n";
    let errors = errors(text);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.starts_with("invalid YAML"), "{errors:#?}");
    assert_eq!(errors[0].pos.line, 5);
}

#[test]
fn a_duplicated_key_is_malformed_yaml() {
    assert_error_at("name: lab\nname: other\n", "name: other", "duplicated key");
}

#[test]
fn a_mapping_is_required_where_kubernetes_has_one() {
    let text = lab("- {apiVersion: v1, kind: Namespace, metadata: [tools]}\n");
    assert_error_at(&text, "[tools]", "metadata: expected a mapping");
}

#[test]
fn a_wrong_scalar_type_is_an_error() {
    let text = lab(&DEPLOYMENT.replacen("  spec:\n", "  spec:\n    replicas: three\n", 1));
    assert_error_at(&text, "three", "spec.replicas: expected an integer");
    let quoted_port = lab(&DEPLOYMENT.replace("containerPort: 80", "containerPort: \"80\""));
    assert_error_at(&quoted_port, "\"80\"", "expected an integer");
    let numeric_label = lab(&DEPLOYMENT.replace("{labels: {app: web}}", "{labels: {app: web, v: 1}}"));
    assert_error_at(&numeric_label, "1}}", "expected a string");
}

#[test]
fn replicas_must_be_sensible() {
    for replicas in ["-1", "10001"] {
        let text = lab(&DEPLOYMENT.replacen("  spec:\n", &format!("  spec:\n    replicas: {replicas}\n"), 1));
        assert_error_at(&text, replicas, "out of range");
    }
}

#[test]
fn required_fields_are_reported_missing_at_their_parent() {
    let cases = [
        (
            lab(&DEPLOYMENT.replace("          image: nginx\n", "")),
            "name: nginx",
            "spec.template.spec.containers[0].image",
        ),
        (
            lab(&DEPLOYMENT.replace("metadata: {name: web}", "metadata: {labels: {a: b}}")),
            "{labels: {a: b}}",
            "metadata.name",
        ),
        (
            lab(&DEPLOYMENT.replace("  kind: Deployment\n", "")),
            "apiVersion",
            "kind",
        ),
        (
            lab(&DEPLOYMENT.replace("apiVersion: apps/v1\n  ", "")),
            "kind:",
            "apiVersion",
        ),
        (
            lab(&DEPLOYMENT.replace("    selector: {matchLabels: {app: web}}\n", "")),
            "template:",
            "spec.selector",
        ),
        (
            lab("- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {hostname: p}}\n"),
            "{hostname",
            "spec.containers",
        ),
        (
            lab("- {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {ports: [{name: a}]}}\n"),
            "{name: a}",
            "spec.ports[0].port",
        ),
        ("cluster: {}\n".to_string(), "cluster", "name"),
    ];
    for (text, needle, field) in cases {
        assert_error_at(&text, needle, &format!("missing required field {field}"));
    }
}

#[test]
fn an_empty_container_list_is_an_error() {
    let text = lab("- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: []}}\n");
    assert_error_at(&text, "[]", "spec.containers: must not be empty");
}

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

#[test]
fn subnets_must_be_well_formed_networks() {
    assert_error_at(
        &networking("    podSubnet: 10.0.0.0/33\n"),
        "10.0.0.0/33",
        "prefix length must be ≤ 32",
    );
    let text = networking("    nodeSubnet: 10.0.0.1/16\n");
    assert_error_at(&text, "10.0.0.1/16", "host bits are set");
    assert!(errors(&text)[0].hint.as_ref().unwrap().contains("10.0.0.0/16"));
    assert_error_at(
        &networking("    serviceSubnet: fd00::/108\n"),
        "fd00",
        "IPv6 is not supported",
    );
    assert_error_at(
        &networking("    serviceSubnet: 10.96.0.0\n"),
        "10.96",
        "missing /prefix length",
    );
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
    assert_error_at(
        &networking("    nodeSubnet: 192.168.1.0/24\n"),
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
        assert_error_at(&networking(&format!("    {key}: {subnet}\n")), subnet, message);
    }
    // Overlapping counts as much as lying inside.
    assert_error_at(
        &networking("    nodeSubnet: 160.0.0.0/4\n"),
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
    assert_error_at(
        &networking("    nodeSubnet: 172.18.0.0/30\n"),
        "172.18.0.0/30",
        "nodeSubnet 172.18.0.0/30 is too small",
    );
    parse(&networking("    nodeSubnet: 172.18.0.0/29\n"));
    assert_error_at(
        &networking("    serviceSubnet: 10.96.0.0/28\n"),
        "10.96.0.0/28",
        "serviceSubnet 10.96.0.0/28 is too small",
    );
    assert_error_at(
        &networking("    podSubnet: 10.0.0.0/25\n"),
        "10.0.0.0/25",
        "holds 2 block(s) of /26, but the lab has 3 nodes",
    );
    parse(&networking("    podSubnet: 10.0.0.0/24\n"));
}

#[test]
fn the_pod_block_size_must_fit() {
    assert_error_at(
        &networking("    podBlockSize: 16\n"),
        "16",
        "Calico blocks are /20 to /32",
    );
    let text = networking("    podSubnet: 10.0.0.0/24\n    podBlockSize: 22\n");
    assert_error_at(&text, "22", "does not fit in podSubnet 10.0.0.0/24");
    assert_error_at(&networking("    podBlockSize: 33\n"), "33", "is not a prefix length");
}

#[test]
fn the_dns_domain_must_be_a_dns_name() {
    assert_error_at(
        &networking("    dnsDomain: Cluster_Local\n"),
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
