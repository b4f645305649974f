use std::time::SystemTime;

use anyhow::Result;
use serde_json::Value;

use crate::cluster::state::{LabState, Labels, NodeState, Role, WorkloadKind};
use crate::output::get::{self as printer, Format};
use crate::store::Store;

use super::args::ListArgs;
use super::resource::{self, Named, Resource};
use super::selector::Selector;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scope: ListArgs,
    /// Label selector, e.g. app=nginx,tier!=db
    #[arg(short = 'l', long = "selector")]
    selector: Option<String>,
    /// Output format: wide, yaml, json or name
    #[arg(short = 'o', long = "output", default_value = "")]
    output: String,
    /// Resource type (pods, nodes, services, endpointslices, deployments, statefulsets,
    /// daemonsets), optionally TYPE/NAME
    resource: String,
    /// Object names
    names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pods,
    Nodes,
    Services,
    EndpointSlices,
    Workloads(WorkloadKind),
}

impl Kind {
    fn of(resource: Resource) -> Option<Kind> {
        Some(match resource {
            Resource::Pod => Kind::Pods,
            Resource::Node => Kind::Nodes,
            Resource::Service => Kind::Services,
            Resource::EndpointSlice => Kind::EndpointSlices,
            Resource::Workload(kind) => Kind::Workloads(kind),
            Resource::Namespace => return None,
        })
    }
}

pub fn run(args: Args) -> Result<i32> {
    let jsonpath = super::jsonpath::template(&args.output);
    let format: Format = if jsonpath.is_some() {
        Format::Json
    } else {
        args.output.parse()?
    };
    let named = resource::parse("get", Kind::of, &args.resource, &args.names)?;
    let Named { kind, names } = resource::one_type("get", named)?;
    let selector = Selector::parse(args.selector.as_deref().unwrap_or(""))?;
    let state = args.scope.lab().select(&Store::open())?;
    let scope = Scope {
        namespace: args.scope.namespace(),
        all: args.scope.all_namespaces(),
        names: &names,
        selector: &selector,
    };
    let (text, found, missing) = render(&state, kind, &scope, format);
    match &jsonpath {
        Some(t) => print!("{}", super::jsonpath::render(t, &serde_json::from_str(&text)?)?),
        None => print!("{text}"),
    }
    for name in &missing {
        eprintln!(
            "Error from server (NotFound): {} {name:?} not found",
            resource_noun(kind)
        );
    }
    if found == 0 && missing.is_empty() {
        let ns = (!args.scope.all_namespaces() && kind != Kind::Nodes).then_some(args.scope.namespace());
        if matches!(format, Format::Table | Format::Wide | Format::Name) {
            eprintln!("{}", printer::no_resources(ns));
        }
    }
    Ok(if missing.is_empty() { 0 } else { 1 })
}

struct Scope<'a> {
    namespace: &'a str,
    all: bool,
    names: &'a [String],
    selector: &'a Selector,
}

impl Scope<'_> {
    fn wants(&self, namespace: Option<&str>, name: &str, labels: &Labels) -> bool {
        let in_ns = self.all || namespace.is_none_or(|ns| ns == self.namespace);
        let named = self.names.is_empty() || self.names.iter().any(|n| n == name);
        in_ns && named && self.selector.matches(labels)
    }

    fn missing<'b>(&self, found: impl Iterator<Item = &'b str>) -> Vec<String> {
        let found: Vec<&str> = found.collect();
        self.names
            .iter()
            .filter(|n| !found.contains(&n.as_str()))
            .cloned()
            .collect()
    }
}

fn resource_noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Pods => "pods",
        Kind::Nodes => "nodes",
        Kind::Services => "services",
        Kind::EndpointSlices => "endpointslices.discovery.k8s.io",
        Kind::Workloads(WorkloadKind::Deployment) => "deployments.apps",
        Kind::Workloads(WorkloadKind::StatefulSet) => "statefulsets.apps",
        Kind::Workloads(WorkloadKind::DaemonSet) => "daemonsets.apps",
    }
}

/// (text for stdout, objects found, names asked for but not found)
fn render(state: &LabState, kind: Kind, scope: &Scope, format: Format) -> (String, usize, Vec<String>) {
    let now = SystemTime::now();
    let single = scope.names.len() == 1 && matches!(format, Format::Yaml | Format::Json);
    let one = |objects: Vec<Value>| -> String {
        match objects.as_slice() {
            [only] if single => printer::render_value(only, format),
            _ => printer::render_value(&printer::list(objects), format),
        }
    };
    match kind {
        Kind::Pods => {
            let mut pods: Vec<_> = state
                .pods
                .iter()
                .filter(|p| scope.wants(Some(&p.namespace), &p.name, &p.labels))
                .collect();
            printer::sort_like_api(&mut pods);
            let missing = scope.missing(pods.iter().map(|p| p.name.as_str()));
            let text = match format {
                Format::Yaml | Format::Json => one(pods.iter().map(|p| printer::pod_object(state, p)).collect()),
                _ => printer::pods(state, &pods, scope.all, format, now),
            };
            (text, pods.len(), missing)
        }
        Kind::Nodes => {
            let kernel = kernel_release();
            let nodes: Vec<&NodeState> = state
                .nodes
                .iter()
                .filter(|n| scope.wants(None, &n.name, &node_labels(n)))
                .collect();
            let missing = scope.missing(nodes.iter().map(|n| n.name.as_str()));
            let text = match format {
                Format::Yaml | Format::Json => {
                    one(nodes.iter().map(|n| printer::node_object(state, n, &kernel)).collect())
                }
                _ => {
                    let mut subset = state.clone();
                    subset.nodes = nodes.iter().map(|n| (*n).clone()).collect();
                    printer::nodes(&subset, format, &kernel, now)
                }
            };
            (text, nodes.len(), missing)
        }
        Kind::Services => {
            let mut svcs: Vec<_> = state
                .services
                .iter()
                .filter(|s| scope.wants(Some(&s.namespace), &s.name, &s.labels))
                .collect();
            printer::sort_like_api(&mut svcs);
            let missing = scope.missing(svcs.iter().map(|s| s.name.as_str()));
            let text = match format {
                Format::Yaml | Format::Json => one(svcs.iter().map(|s| printer::service_object(s)).collect()),
                _ => printer::services(state, &svcs, scope.all, format, now),
            };
            (text, svcs.len(), missing)
        }
        Kind::EndpointSlices => {
            let mut slices: Vec<_> = state
                .endpoint_slices
                .iter()
                .filter(|e| scope.wants(Some(&e.namespace), &e.name, &slice_labels(&e.service)))
                .collect();
            printer::sort_like_api(&mut slices);
            let missing = scope.missing(slices.iter().map(|e| e.name.as_str()));
            let text = match format {
                Format::Yaml | Format::Json => {
                    one(slices.iter().map(|e| printer::endpointslice_object(state, e)).collect())
                }
                _ => printer::endpointslices(state, &slices, scope.all, format, now),
            };
            (text, slices.len(), missing)
        }
        Kind::Workloads(wk) => {
            let mut items: Vec<_> = state
                .workloads
                .iter()
                .filter(|w| w.kind == wk && scope.wants(Some(&w.namespace), &w.name, &w.labels))
                .collect();
            printer::sort_like_api(&mut items);
            let missing = scope.missing(items.iter().map(|w| w.name.as_str()));
            let text = match format {
                Format::Yaml | Format::Json => one(items.iter().map(|w| printer::workload_object(state, w)).collect()),
                _ => printer::workloads(state, wk, &items, scope.all, format, now),
            };
            (text, items.len(), missing)
        }
    }
}

/// The labels kubelet and kubeadm put on a node.
fn node_labels(n: &NodeState) -> Labels {
    let mut l = Labels::new();
    l.insert("kubernetes.io/hostname".into(), n.name.clone());
    l.insert("kubernetes.io/os".into(), "linux".into());
    if n.role == Role::ControlPlane {
        l.insert("node-role.kubernetes.io/control-plane".into(), String::new());
    }
    l
}

/// The labels the EndpointSlice controller puts on a slice.
fn slice_labels(service: &str) -> Labels {
    let mut l = Labels::new();
    l.insert("kubernetes.io/service-name".into(), service.to_string());
    l.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        "endpointslice-controller.k8s.io".into(),
    );
    l
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
