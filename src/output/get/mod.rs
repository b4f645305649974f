//! `labctl get …`: for each resource kind, the Kubernetes object behind `-o yaml|json`
//! and kubectl's table (default and `-o wide` columns), behind one trait, [`Resource`].
//! Those are the two answers an API server gives for a kind: the object, and
//! server-side printing (a `meta.k8s.io/v1` `Table`: column definitions, `-o wide` ones
//! at priority 1, and one row of cells per object).
//!
//! One file per kind: [`pod`], [`node`], [`service`], [`endpointslice`], [`workload`]
//! (Deployments, StatefulSets, DaemonSets). This file renders any of them.
//!
//! Every function is pure and returns the text for stdout. Rows are printed in the order
//! given; the API server lists objects by namespace then name, which [`sort_like_api`]
//! reproduces. An empty table renders as `""`: kubectl then prints [`no_resources`] on
//! stderr, which is the caller's job. `-o yaml|json` of an empty list is a `List` with
//! no items, as kubectl prints it.
//!
//! Object field order does not matter: `-o json` and `-o yaml` both write keys sorted,
//! as kubectl does (it prints unstructured objects, i.e. Go maps).

mod endpointslice;
mod node;
mod pod;
mod service;
mod workload;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::json::to_json;
use super::table::Table;
use super::yaml::to_yaml;
use crate::cluster::state::{EndpointSliceState, LabState, Labels, NodeState, PodState, ServiceState, WorkloadState};

pub use endpointslice::EndpointSlices;
pub use node::{KUBELET_VERSION, Nodes, OS_IMAGE, container_runtime};
pub use pod::Pods;
pub use service::Services;
pub use workload::Workloads;

/// One resource kind as labctl serves it.
pub trait Resource {
    /// The lab-state object one row and one Kubernetes object are made from.
    type State: ApiObject;

    /// Whether objects of this kind live in a namespace (`-A` adds a `NAMESPACE` column).
    const NAMESPACED: bool = true;

    /// kubectl's columns for this kind, `NAMESPACE` excluded.
    fn columns(&self) -> Vec<Column>;

    /// One cell per column of [`Resource::columns`], `-o wide` ones included.
    fn row(&self, cx: &Context, item: &Self::State) -> Vec<String>;

    /// The object as `kubectl get <kind> <name> -o json` shows it.
    fn object(&self, cx: &Context, item: &Self::State) -> Value;
}

/// A column of kubectl's table (`metav1.TableColumnDefinition`): `wide` ones (priority
/// 1) are shown only with `-o wide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub wide: bool,
}

/// The columns `shown`, then the `-o wide` ones.
pub fn columns(shown: &[&'static str], wide: &[&'static str]) -> Vec<Column> {
    let column = |wide| move |&name| Column { name, wide };
    shown
        .iter()
        .map(column(false))
        .chain(wide.iter().map(column(true)))
        .collect()
}

/// What printing needs besides the object: the lab it is in, the time AGE is measured
/// to, and the host's kernel release (`uname -r`), which every node reports.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub state: &'a LabState,
    pub now: Timestamp,
    pub kernel: &'a str,
}

/// Name and namespace of an object (`None` for cluster-scoped kinds).
pub trait ApiObject {
    fn namespace(&self) -> Option<&str>;
    fn name(&self) -> &str;
}

macro_rules! namespaced {
    ($($t:ty),*) => {$(
        impl ApiObject for $t {
            fn namespace(&self) -> Option<&str> {
                Some(&self.namespace)
            }
            fn name(&self) -> &str {
                &self.name
            }
        }
    )*};
}
namespaced!(PodState, ServiceState, EndpointSliceState, WorkloadState);

impl ApiObject for NodeState {
    fn namespace(&self) -> Option<&str> {
        None
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// Sorts like the API server lists (etcd key order): by namespace, then name.
pub fn sort_like_api<T: ApiObject>(items: &mut [&T]) {
    items.sort_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
}

/// kubectl's `-o` values that labctl supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// No `-o`: the default table.
    #[default]
    Table,
    /// `-o wide`: the table with extra columns.
    Wide,
    /// `-o yaml`.
    Yaml,
    /// `-o json`.
    Json,
    /// `-o name`: `pod/redis-0`.
    Name,
}

/// An `-o` value kubectl has no printer for in labctl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to match a printer suitable for the output format {:?}, allowed formats are: json,name,wide,yaml",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `""` (no `-o`) is the table; otherwise kubectl's names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" => Ok(Format::Table),
            "wide" => Ok(Format::Wide),
            "yaml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            "name" => Ok(Format::Name),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// What kubectl prints on stderr when a list is empty: `No resources found in default
/// namespace.` for one namespace, `No resources found` for `-A` and cluster-scoped kinds.
pub fn no_resources(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!("No resources found in {ns} namespace."),
        None => "No resources found".to_string(),
    }
}

/// `items` in `format`: kubectl's table (`NAMESPACE` first with `all_namespaces`), or
/// their objects as a `List` (`-o yaml|json`) or names (`-o name`).
pub fn render<R: Resource>(r: &R, cx: &Context, items: &[&R::State], format: Format, all_namespaces: bool) -> String {
    match format {
        Format::Table | Format::Wide => table(r, cx, items, format == Format::Wide, all_namespaces),
        Format::Name => items.iter().map(|i| object_name(&r.object(cx, i)) + "\n").collect(),
        Format::Yaml | Format::Json => render_value(&objects(r, cx, items, false), format),
    }
}

/// The objects of `items` as a `List`, or the object itself when `single` and there is
/// exactly one (`kubectl get pod redis-0 -o json`).
pub fn objects<R: Resource>(r: &R, cx: &Context, items: &[&R::State], single: bool) -> Value {
    match items {
        [only] if single => r.object(cx, only),
        _ => list(items.iter().map(|i| r.object(cx, i)).collect()),
    }
}

/// kubectl's table of `items`; `""` when there are none.
fn table<R: Resource>(r: &R, cx: &Context, items: &[&R::State], wide: bool, all_namespaces: bool) -> String {
    if items.is_empty() {
        return String::new();
    }
    let columns = r.columns();
    let shown = |cells: Vec<String>| -> Vec<String> {
        cells
            .into_iter()
            .zip(&columns)
            .filter(|(_, c)| wide || !c.wide)
            .map(|(cell, _)| cell)
            .collect()
    };
    let with_namespace = all_namespaces && R::NAMESPACED;
    let mut header = shown(columns.iter().map(|c| c.name.to_string()).collect());
    if with_namespace {
        header.insert(0, "NAMESPACE".to_string());
    }
    let mut t = Table::new(header);
    for item in items {
        let mut row = shown(r.row(cx, item));
        if with_namespace {
            row.insert(0, item.namespace().unwrap_or_default().to_string());
        }
        t.row(row);
    }
    t.render()
}

/// A `List` as kubectl prints several objects.
pub fn list(items: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": items,
        "metadata": {"resourceVersion": ""},
    })
}

/// `-o name` of one object: `<resource>[.<group>]/<name>` (`pod/redis-0`,
/// `endpointslice.discovery.k8s.io/redis-headless-abc12`).
pub fn object_name(v: &Value) -> String {
    let kind = v["kind"].as_str().unwrap_or_default().to_lowercase();
    let group = v["apiVersion"]
        .as_str()
        .and_then(|av| av.rsplit_once('/'))
        .map(|(g, _)| g)
        .unwrap_or_default();
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// Renders an object (or a `List`) as `-o yaml`, `-o json` (4-space indent, like
/// kubectl) or `-o name`. `Table` and `Wide` are not object formats: they render as
/// YAML here; use [`render`] for them.
pub fn render_value(v: &Value, format: Format) -> String {
    match format {
        Format::Json => to_json(v, "    "),
        Format::Yaml | Format::Table | Format::Wide => to_yaml(v),
        Format::Name => match v.get("items").and_then(Value::as_array) {
            Some(items) if v["kind"] == "List" => items.iter().map(|i| object_name(i) + "\n").collect(),
            _ => object_name(v) + "\n",
        },
    }
}

// ---------------------------------------------------------------------------------------
// Cells and fields several kinds share

fn none_if_empty(s: String) -> String {
    if s.is_empty() { "<none>".to_string() } else { s }
}

/// `labels.FormatLabels`: `k=v` sorted by key, comma-joined; `<none>` when empty.
fn format_labels(labels: Option<&Labels>) -> String {
    let joined = labels
        .map(|l| l.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    none_if_empty(joined)
}

/// `metadata` of a namespaced object: name, namespace, uid, creationTimestamp, and its
/// labels unless there are none (`omitempty`).
fn object_meta(name: &str, namespace: &str, uid: &str, created: Timestamp, labels: &Labels) -> Value {
    let mut metadata = json!({
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "creationTimestamp": created,
    });
    if !labels.is_empty() {
        metadata["labels"] = labels_value(labels);
    }
    metadata
}

fn labels_value(labels: &Labels) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}
