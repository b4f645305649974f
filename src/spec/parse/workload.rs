//! Deployments, StatefulSets and DaemonSets: replicas, selector and pod template.

use super::manifests::Kind;
use super::pod::parse_pod_spec;
use super::yaml::{Cx, Fields, Node, read_int_in, read_labels};
use crate::spec::model::{At, Labels, Meta, PodSpec, PodTemplate, Workload};

/// More pods than this is a typo, not a lab: each pod is a real namespace on this machine.
const MAX_REPLICAS: i64 = 10_000;

const POD_MANAGEMENT_POLICIES: [&str; 2] = ["OrderedReady", "Parallel"];

pub(crate) fn parse_workload(cx: &mut Cx, object: &Fields, meta: Meta, kind: Kind) -> Workload {
    let spec_hint = format!("a {} needs `spec:` with `selector:` and `template:`", kind.name());
    let spec = object
        .required(cx, "spec", spec_hint)
        .and_then(|node| Fields::of(cx, node, "spec"));
    let Some(spec) = spec else {
        return empty_workload(cx, object, meta);
    };
    let workload = Workload {
        replicas: replicas(cx, &spec, kind),
        selector: selector(cx, &spec),
        service_name: service_name(cx, &spec, kind),
        pod_management_policy: pod_management_policy(cx, &spec, kind),
        template: template(cx, &spec),
        meta,
    };
    spec.finish(cx);
    workload
}

/// What is left of a workload without a spec (it is dropped after the error anyway).
fn empty_workload(cx: &Cx, object: &Fields, meta: Meta) -> Workload {
    let pos = cx.pos(object.node());
    Workload {
        meta,
        replicas: At::new(1, pos.clone()),
        selector: At::new(Labels::new(), pos.clone()),
        service_name: None,
        pod_management_policy: None,
        template: PodTemplate {
            labels: Labels::new(),
            labels_pos: pos,
            spec: PodSpec::default(),
        },
    }
}

/// A DaemonSet has no `replicas`: leaving it unread gets it warned about.
fn replicas(cx: &mut Cx, spec: &Fields, kind: Kind) -> At<u32> {
    let pos = spec.value_pos(cx, "replicas");
    if kind == Kind::DaemonSet {
        return At::new(1, pos);
    }
    let replicas = spec
        .get("replicas")
        .and_then(|node| read_int_in(cx, node, &spec.path("replicas"), 0..=MAX_REPLICAS))
        .unwrap_or(1);
    At::new(u32::try_from(replicas).unwrap_or(1), pos)
}

fn selector(cx: &mut Cx, spec: &Fields) -> At<Labels> {
    let hint = "add `selector: {matchLabels: {...}}` with the labels of spec.template.metadata.labels";
    let Some(node) = spec.required(cx, "selector", hint) else {
        return At::new(Labels::new(), spec.value_pos(cx, "selector"));
    };
    let Some(fields) = Fields::of(cx, node, &spec.path("selector")) else {
        return At::new(Labels::new(), cx.pos(node));
    };
    if let Some(expressions) = fields.get("matchExpressions") {
        let message = format!("{} is not supported", fields.path("matchExpressions"));
        cx.error(expressions, message, "use matchLabels");
    } else if fields.get("matchLabels").is_none() {
        let message = format!("{}: empty selector", spec.path("selector"));
        let hint = "write the template's labels under matchLabels: `selector: {matchLabels: {app: web}}`";
        cx.error(node, message, hint);
    }
    let labels = match fields.get("matchLabels") {
        Some(labels) => At::new(read_labels(cx, labels, &fields.path("matchLabels")), cx.pos(labels)),
        None => At::new(Labels::new(), cx.pos(node)),
    };
    fields.finish(cx);
    labels
}

/// Required for a StatefulSet: the headless Service that gives its pods DNS names.
fn service_name(cx: &mut Cx, spec: &Fields, kind: Kind) -> Option<At<String>> {
    if kind != Kind::StatefulSet {
        return None;
    }
    let hint = "name the headless Service that gives the pods their DNS names, e.g. `serviceName: redis-headless`";
    spec.required(cx, "serviceName", hint)?;
    spec.string_at(cx, "serviceName")
}

fn pod_management_policy(cx: &mut Cx, spec: &Fields, kind: Kind) -> Option<String> {
    if kind != Kind::StatefulSet {
        return None;
    }
    let policies = POD_MANAGEMENT_POLICIES.map(|p| (p, p));
    let policy = spec.choice(cx, "podManagementPolicy", &policies, "use OrderedReady or Parallel")?;
    Some(policy.to_string())
}

fn template(cx: &mut Cx, spec: &Fields) -> PodTemplate {
    let hint = "add `template:` with `metadata: {labels: ...}` and the pod `spec:`";
    let template = spec
        .required(cx, "template", hint)
        .and_then(|node| Fields::of(cx, node, &spec.path("template")));
    let Some(template) = template else {
        return PodTemplate {
            labels: Labels::new(),
            labels_pos: spec.value_pos(cx, "template"),
            spec: PodSpec::default(),
        };
    };
    let (labels, labels_pos) = template_labels(cx, &template);
    let spec_hint = "add the pod `spec:` with its `containers:` under template";
    let pod_spec = template
        .required(cx, "spec", spec_hint)
        .map(|node| parse_pod_spec(cx, node, &template.path("spec")))
        .unwrap_or_default();
    template.finish(cx);
    PodTemplate {
        labels,
        labels_pos,
        spec: pod_spec,
    }
}

fn template_labels(cx: &mut Cx, template: &Fields) -> (Labels, crate::spec::model::Pos) {
    let Some(metadata) = template.mapping(cx, "metadata") else {
        return (Labels::new(), cx.pos(template.node()));
    };
    let labels = metadata.labels(cx, "labels");
    let pos = metadata
        .get("labels")
        .map_or_else(|| cx.pos(metadata.node()), |node: &Node| cx.pos(node));
    metadata.finish(cx);
    (labels, pos)
}
