use std::path::{Path, PathBuf};

use super::{load, load_str};
use crate::spec::{
    ClusterIpSpec, IntOrString, NodeRole, Object, ProbeAction, Protocol, ServiceObject, ServiceType, SpecError,
    Topology, Workload,
};

// ---- helpers ----

pub(super) fn parse(text: &str) -> Topology {
    match load_str("lab.yaml", text, Path::new(".")) {
        Ok(topology) => topology,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

pub(super) fn errors(text: &str) -> Vec<SpecError> {
    match load_str("lab.yaml", text, Path::new(".")) {
        Ok(_) => panic!("the input was accepted:\n{text}"),
        Err(errors) => errors.0,
    }
}

/// A topology named `lab` whose manifests are `objects`, a YAML list written at column 1.
pub(super) fn lab(objects: &str) -> String {
    format!("name: lab\nmanifests:\n{objects}")
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
pub(super) fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// The text is refused with an error at `needle` whose message contains `message`.
pub(super) fn assert_error_at(text: &str, needle: &str, message: &str) {
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
pub(super) fn assert_error(text: &str, message: &str) {
    let errors = errors(text);
    assert!(
        errors.iter().any(|e| e.message.contains(message) && e.hint.is_some()),
        "no error containing {message:?}, got:\n{errors:#?}"
    );
}

pub(super) fn object<'a>(topology: &'a Topology, kind: &str, name: &str) -> &'a Object {
    topology
        .objects
        .iter()
        .find(|o| o.kind() == kind && o.meta().name.value == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

pub(super) fn workload<'a>(topology: &'a Topology, kind: &str, name: &str) -> &'a Workload {
    match object(topology, kind, name) {
        Object::Deployment(w) | Object::StatefulSet(w) | Object::DaemonSet(w) => w,
        other => panic!("{} is not a workload", other.kind()),
    }
}

pub(super) fn service<'a>(topology: &'a Topology, name: &str) -> &'a ServiceObject {
    match object(topology, "Service", name) {
        Object::Service(s) => s,
        _ => unreachable!(),
    }
}

/// A fresh directory for manifest files.
pub(super) fn temp_dir(test: &str) -> PathBuf {
    let dir = crate::fixture::scratch_path(&format!("spec-{test}"));
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    dir
}

pub(super) const DEPLOYMENT: &str = "\
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

pub(super) const EXAMPLE: &str = r#"name: headless-services
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
    // DEPLOYMENT with one text replaced: (text, replacement, where the error is, the field).
    let edits = [
        (
            "          image: nginx\n",
            "",
            "name: nginx",
            "spec.template.spec.containers[0].image",
        ),
        (
            "metadata: {name: web}",
            "metadata: {labels: {a: b}}",
            "{labels: {a: b}}",
            "metadata.name",
        ),
        ("  kind: Deployment\n", "", "apiVersion", "kind"),
        ("apiVersion: apps/v1\n  ", "", "kind:", "apiVersion"),
        (
            "    selector: {matchLabels: {app: web}}\n",
            "",
            "template:",
            "spec.selector",
        ),
    ];
    let edited = edits.map(|(text, with, needle, field)| (lab(&DEPLOYMENT.replace(text, with)), needle, field));
    let others = [
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
    for (text, needle, field) in edited.into_iter().chain(others) {
        assert_error_at(&text, needle, &format!("missing required field {field}"));
    }
}

#[test]
fn an_empty_container_list_is_an_error() {
    let text = lab("- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: []}}\n");
    assert_error_at(&text, "[]", "spec.containers: must not be empty");
}
