use anyhow::Result;
use jiff::Timestamp;

use crate::cluster::labels;
use crate::cluster::state::{Labels, WorkloadKind};
use crate::output::get::{self as printer, ApiObject, Context, Format};
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
        format,
        jsonpath: jsonpath.as_deref(),
    };
    let kernel = if kind == Kind::Nodes {
        kernel_release()
    } else {
        String::new()
    };
    let cx = Context {
        state: &state,
        now: Timestamp::now(),
        kernel: &kernel,
    };
    let Listed { text, found, missing } = list(&cx, kind, &scope)?;
    print!("{text}");
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
    format: Format,
    jsonpath: Option<&'a str>,
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

/// What `get` prints on stdout, how many objects it found, and the names asked for but
/// not found.
struct Listed {
    text: String,
    found: usize,
    missing: Vec<String>,
}

fn list(cx: &Context, kind: Kind, scope: &Scope) -> Result<Listed> {
    let state = cx.state;
    match kind {
        Kind::Pods => show(&printer::Pods, cx, scope, &state.pods, |p| {
            scope.wants(Some(&p.namespace), &p.name, &p.labels)
        }),
        Kind::Nodes => show(&printer::Nodes, cx, scope, &state.nodes, |n| {
            scope.wants(None, &n.name, &labels::node(n))
        }),
        Kind::Services => show(&printer::Services, cx, scope, &state.services, |s| {
            scope.wants(Some(&s.namespace), &s.name, &s.labels)
        }),
        Kind::EndpointSlices => show(&printer::EndpointSlices, cx, scope, &state.endpoint_slices, |e| {
            let labels = labels::endpoint_slice(e, state.service_of(e));
            scope.wants(Some(&e.namespace), &e.name, &labels)
        }),
        Kind::Workloads(wk) => show(&printer::Workloads(wk), cx, scope, &state.workloads, |w| {
            w.kind == wk && scope.wants(Some(&w.namespace), &w.name, &w.labels)
        }),
    }
}

/// The objects of one kind that `scope` wants, sorted as the API server lists them, in
/// the format asked for. A jsonpath template is evaluated on the objects themselves.
fn show<R: printer::Resource>(
    r: &R,
    cx: &Context,
    scope: &Scope,
    all: &[R::State],
    wanted: impl Fn(&R::State) -> bool,
) -> Result<Listed> {
    let mut items: Vec<&R::State> = all.iter().filter(|i| wanted(i)).collect();
    printer::sort_like_api(&mut items);
    let missing = scope.missing(items.iter().map(|i| i.name()));
    let single = scope.names.len() == 1;
    let text = match (scope.jsonpath, scope.format) {
        (Some(template), _) => super::jsonpath::render(template, &printer::objects(r, cx, &items, single))?,
        (None, Format::Yaml | Format::Json) => {
            printer::render_value(&printer::objects(r, cx, &items, single), scope.format)
        }
        (None, format) => printer::render(r, cx, &items, format, scope.all),
    };
    Ok(Listed {
        text,
        found: items.len(),
        missing,
    })
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
