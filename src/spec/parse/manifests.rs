//! The `manifests:` list: files of Kubernetes YAML and inline objects, down to one
//! object's kind, apiVersion and metadata.

use std::path::PathBuf;

use saphyr::{Scalar, YamlData};

use super::yaml::{Cx, Fields, Node, is_empty_document, load_documents, read_list, read_string, untag};
use super::{pod, service, source, workload};
use crate::spec::model::{At, Meta, Object};

/// Where manifest files are read from, and how their names are shown.
pub(crate) struct Sources {
    /// The topology file, as the user gave it.
    pub topology_file: String,
    /// The directory relative manifest paths are read from.
    pub read_dir: PathBuf,
    /// The topology file's directory as the user gave it, to name manifest files in messages.
    pub display_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Namespace,
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    Service,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Namespace,
        Kind::Pod,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Service,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Pod => "Pod",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::Service => "Service",
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            Kind::Namespace | Kind::Pod | Kind::Service => "v1",
            Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => "apps/v1",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

pub(crate) fn parse_list(cx: &mut Cx, list: &Node, sources: &Sources, objects: &mut Vec<Object>) {
    for (i, item) in read_list(cx, list, "manifests").into_iter().enumerate() {
        match &untag(item).data {
            YamlData::Value(Scalar::String(path)) => parse_file(cx, item, path, sources, objects),
            YamlData::Mapping(_) => parse_object(cx, item, objects),
            _ => {
                let message = format!("manifests[{i}]: expected a file path or an object");
                let hint = "list manifest files (relative to the topology file) or inline objects with `kind:`";
                cx.error(item, message, hint);
            }
        }
    }
}

fn parse_file(cx: &mut Cx, item: &Node, path: &str, sources: &Sources, objects: &mut Vec<Object>) {
    let shown = sources.display_dir.join(path).display().to_string();
    let text = match source::read_text(&sources.read_dir.join(path), &mut cx.bytes_left) {
        Ok(text) => text,
        Err(error) => {
            let message = format!("cannot read manifest {shown}: {error}");
            let hint = error.hint().map_or_else(
                || {
                    format!(
                        "manifest paths are relative to the topology file's directory ({})",
                        sources.display_dir.display()
                    )
                },
                str::to_string,
            );
            cx.error(item, message, hint);
            return;
        }
    };
    cx.files.push(shown.clone());
    let topology_file = std::mem::replace(&mut cx.file, shown);
    parse_documents(cx, &text, objects);
    cx.file = topology_file;
}

/// Every object of a multi-document manifest text, read as file `cx.file`.
pub(crate) fn parse_documents(cx: &mut Cx, text: &str, objects: &mut Vec<Object>) {
    if let Some(docs) = load_documents(cx, text) {
        for doc in docs.iter().filter(|doc| !is_empty_document(doc)) {
            parse_object(cx, doc, objects);
        }
    }
}

/// One object (or a `kind: List` of them). An object with any error is left out, so that
/// the cross-object checks only see objects that are whole.
fn parse_object(cx: &mut Cx, node: &Node, objects: &mut Vec<Object>) {
    let errors_before = cx.error_count();
    let Some(fields) = Fields::of(cx, node, "") else {
        return;
    };
    let kind_hint = "every object starts with `apiVersion:` and `kind:`, e.g. `apiVersion: v1` and `kind: Pod`";
    let kind_node = fields.required(cx, "kind", kind_hint);
    let api_node = fields.required(cx, "apiVersion", kind_hint);
    let kind_name = kind_node.and_then(|node| read_string(cx, node, "kind"));
    let api_version = api_node.and_then(|node| read_string(cx, node, "apiVersion"));
    let (Some(kind_node), Some(kind_name)) = (kind_node, kind_name) else {
        return;
    };
    if kind_name == "List" {
        return parse_list_object(cx, fields, objects);
    }
    let Some(kind) = known_kind(cx, kind_node, &kind_name) else {
        return;
    };
    if let (Some(api_node), Some(api_version)) = (api_node, api_version) {
        check_api_version(cx, api_node, kind, &api_version);
    }
    cx.subject = Some(kind.name().to_string());
    let meta = parse_meta(cx, &fields, kind);
    let object = parse_kind(cx, &fields, kind, meta);
    fields.finish(cx);
    cx.subject = None;
    if cx.error_count() == errors_before {
        objects.push(object);
    }
}

fn parse_kind(cx: &mut Cx, fields: &Fields, kind: Kind, meta: Meta) -> Object {
    match kind {
        Kind::Namespace => Object::Namespace(meta),
        Kind::Pod => Object::Pod(pod::parse_pod(cx, fields, meta)),
        Kind::Deployment => Object::Deployment(workload::parse_workload(cx, fields, meta, kind)),
        Kind::StatefulSet => Object::StatefulSet(workload::parse_workload(cx, fields, meta, kind)),
        Kind::DaemonSet => Object::DaemonSet(workload::parse_workload(cx, fields, meta, kind)),
        Kind::Service => Object::Service(service::parse_service(cx, fields, meta)),
    }
}

/// `kind: List` is what `kubectl get -o yaml` prints: its `items` are ordinary objects.
fn parse_list_object(cx: &mut Cx, fields: Fields, objects: &mut Vec<Object>) {
    for (_, item) in fields.list(cx, "items") {
        parse_object(cx, item, objects);
    }
    fields.finish(cx);
}

fn known_kind(cx: &mut Cx, node: &Node, name: &str) -> Option<Kind> {
    let kind = Kind::from_name(name);
    if kind.is_none() {
        let supported: Vec<&str> = Kind::ALL.iter().map(|kind| kind.name()).collect();
        let hint = format!("labctl supports {}", supported.join(", "));
        cx.error(node, format!("unknown kind \"{name}\""), hint);
    }
    kind
}

fn check_api_version(cx: &mut Cx, node: &Node, kind: Kind, api_version: &str) {
    if api_version != kind.api_version() {
        let message = format!("no matches for kind \"{}\" in version \"{api_version}\"", kind.name());
        let hint = format!("use `apiVersion: {}`", kind.api_version());
        cx.error(node, message, hint);
    }
}

/// `metadata`; a missing name leaves an empty one behind (the object is dropped anyway).
fn parse_meta(cx: &mut Cx, object: &Fields, kind: Kind) -> Meta {
    let object_pos = object.key_pos(cx, "kind");
    let meta_hint = "add `metadata:` with `name: <name>`";
    let Some(fields) = object
        .required(cx, "metadata", meta_hint)
        .and_then(|node| Fields::of(cx, node, "metadata"))
    else {
        let nameless = At::new(String::new(), object_pos.clone());
        return Meta {
            name: nameless.clone(),
            namespace: nameless,
            labels: Default::default(),
            pos: object_pos,
        };
    };
    let name_node = fields.required(cx, "name", "add `name: <name>` under metadata");
    let name = name_node.and_then(|node| read_string(cx, node, "metadata.name"));
    let name_pos = name_node.map_or_else(|| cx.pos(fields.node()), |node| cx.pos(node));
    let name = At::new(name.unwrap_or_default(), name_pos);
    cx.subject = Some(format!("{} {}", kind.name(), name.value));
    let namespace = match kind {
        // A Namespace is not inside a namespace: `metadata.namespace` stays unread (warned).
        Kind::Namespace => name.clone(),
        _ => fields
            .string_at(cx, "namespace")
            .unwrap_or_else(|| At::new("default".to_string(), name.pos.clone())),
    };
    let labels = fields.labels(cx, "labels");
    fields.finish(cx);
    Meta {
        name,
        namespace,
        labels,
        pos: object_pos,
    }
}
