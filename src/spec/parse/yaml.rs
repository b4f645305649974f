//! YAML nodes with their positions, the diagnostics sink every parser writes to, and
//! the typed readers they share. A reader that meets a wrong type records an error and
//! returns `None`; callers then fall back to a default and keep going, so that one run
//! reports every mistake in the input.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Display;

use saphyr::{LoadableYamlNode, MarkedYaml, Marker, Scalar, ScanError, YamlData};
use saphyr_parser::{Event, Parser};

use crate::spec::error::SpecError;
use crate::spec::model::{At, IntOrString, Labels, Pos, Protocol};

pub(crate) type Node<'i> = MarkedYaml<'i>;

/// Errors and warnings collected while reading one topology and its manifests.
pub(crate) struct Cx {
    /// The file being read, as it should be shown to the user.
    pub file: String,
    /// Every file read so far, in order.
    pub files: Vec<String>,
    /// `Deployment web` while reading that object; `None` at the topology level.
    pub subject: Option<String>,
    pub errors: Vec<SpecError>,
    /// Each with the place it is about, to sort them.
    pub warnings: Vec<(Pos, String)>,
    /// (position of a Service port entry, position of its `targetPort` name), kept for
    /// the cross-object check that needs to point at the name.
    pub named_target_ports: Vec<(Pos, Pos)>,
    /// What may still be read of manifest files (see `source::MAX_TOTAL_BYTES`).
    pub bytes_left: u64,
}

impl Cx {
    pub fn new(file: &str) -> Self {
        Cx {
            file: file.to_string(),
            files: vec![file.to_string()],
            subject: None,
            errors: Vec::new(),
            warnings: Vec::new(),
            named_target_ports: Vec::new(),
            bytes_left: super::source::MAX_TOTAL_BYTES,
        }
    }

    pub fn pos(&self, node: &Node) -> Pos {
        Pos {
            file: self.file.clone(),
            line: node.span.start.line(),
            // saphyr's columns are 0-based.
            col: node.span.start.col() + 1,
        }
    }

    pub fn error(&mut self, node: &Node, message: impl Display, hint: impl Into<String>) {
        let pos = self.pos(node);
        self.error_at(&pos, message, hint);
    }

    pub fn error_at(&mut self, pos: &Pos, message: impl Display, hint: impl Into<String>) {
        let message = match &self.subject {
            Some(subject) => format!("{subject}: {message}"),
            None => message.to_string(),
        };
        self.errors.push(SpecError::new(pos, message).hint(hint));
    }

    /// Where `marker` is in `text`. The scanner places an error at the end of input on
    /// the line after the last one when the file does not end in a newline: that is the
    /// end of the last line.
    fn marker_pos(&self, text: &str, marker: &Marker) -> Pos {
        let lines = text.split('\n').count();
        let (line, col) = if marker.line() > lines {
            let last = text.rsplit('\n').next().unwrap_or("");
            (lines, last.chars().count() + 1)
        } else {
            // saphyr's columns are 0-based.
            (marker.line(), marker.col() + 1)
        };
        Pos {
            file: self.file.clone(),
            line,
            col,
        }
    }

    pub fn scan_error(&mut self, text: &str, error: &ScanError) {
        let pos = self.marker_pos(text, error.marker());
        let message = format!("invalid YAML: {}", error.info());
        self.error_at(&pos, message, scan_error_hint(error.info()));
    }

    pub fn warn_ignored(&mut self, key: &Node, path: &str) {
        let subject = match &self.subject {
            Some(subject) => format!("{subject}: "),
            None => String::new(),
        };
        let last = path.rsplit('.').next().unwrap_or(path);
        let pos = self.pos(key);
        let warning = format!(
            "{pos}: warning: {subject}field {path} is ignored ({})",
            ignored_reason(last)
        );
        self.warnings.push((pos, warning));
    }

    pub fn error_count(&self) -> usize {
        self.errors.len()
    }
}

fn scan_error_hint(info: &str) -> &'static str {
    if info.contains("duplicated key") {
        "a key may appear only once in a mapping: remove or rename one of them"
    } else if info.contains("tab") {
        "YAML indentation uses spaces, not tabs"
    } else {
        "check the indentation and the quoting on this line and the line before"
    }
}

/// Fields that would change the network if labctl modelled them, so the warning must not
/// claim they are harmless.
const UNSUPPORTED_NETWORK_FIELDS: &[&str] = &[
    "hostNetwork",
    "dnsPolicy",
    "dnsConfig",
    "hostAliases",
    "hostPort",
    "hostIP",
    "externalTrafficPolicy",
    "internalTrafficPolicy",
    "externalIPs",
    "loadBalancerIP",
    "ipFamilies",
    "ipFamilyPolicy",
    "clusterIPs",
];

fn ignored_reason(key: &str) -> &'static str {
    let key = key.split('[').next().unwrap_or(key);
    if UNSUPPORTED_NETWORK_FIELDS.contains(&key) {
        "not supported by labctl"
    } else {
        "no effect on the lab network"
    }
}

/// Loads every document of a YAML stream.
pub(crate) fn load_documents<'i>(cx: &mut Cx, text: &'i str) -> Option<Vec<Node<'i>>> {
    if let Some(marker) = too_deep(text) {
        let pos = cx.marker_pos(text, &marker);
        let message = format!("invalid YAML: lists and mappings nested more than {MAX_NESTING} deep");
        let hint = "a Kubernetes object nests about 10 deep: check for a runaway `- - -` or `[[[`";
        cx.error_at(&pos, message, hint);
        return None;
    }
    match MarkedYaml::load_from_str(text) {
        Ok(docs) => Some(docs),
        Err(error) => {
            cx.scan_error(text, &error);
            None
        }
    }
}

/// The deepest nesting of lists and mappings labctl reads, aliases expanded. saphyr's
/// loader recurses once per level, so a 40 KB file of `- - - …` would overflow the stack.
pub(crate) const MAX_NESTING: usize = 64;

/// One list or mapping being read: the level it is at, the deepest level reached inside
/// it (an alias counts as deep as the node it names) and its anchor, if any.
struct Open {
    level: usize,
    deepest: usize,
    anchor: usize,
}

/// Where the nesting first goes past [`MAX_NESTING`], read from the parser's events
/// (which need no recursion) before anything builds the tree. Errors in the YAML itself
/// are left for the loader to report.
fn too_deep(text: &str) -> Option<Marker> {
    let mut open: Vec<Open> = Vec::new();
    // The height of each anchored node: what an alias to it adds below its own level.
    let mut anchor_heights: BTreeMap<usize, usize> = BTreeMap::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(event) => event,
            // The scanner's own bound on flow nesting (`[[[…`, 255 levels) can come first.
            Err(error) if error.info() == "recursion limit exceeded" => return Some(*error.marker()),
            Err(_) => return None,
        };
        let level = open.len();
        let reached = match event {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push(Open {
                    level: level + 1,
                    deepest: level + 1,
                    anchor,
                });
                level + 1
            }
            Event::Alias(anchor) => level + anchor_heights.get(&anchor).copied().unwrap_or(0),
            Event::SequenceEnd | Event::MappingEnd => {
                let done = open.pop()?;
                if done.anchor != 0 {
                    anchor_heights.insert(done.anchor, done.deepest - done.level + 1);
                }
                done.deepest
            }
            _ => level,
        };
        if reached > MAX_NESTING {
            return Some(span.start);
        }
        if let Some(parent) = open.last_mut() {
            parent.deepest = parent.deepest.max(reached);
        }
    }
    None
}

/// A document that holds nothing (`---` followed by `---`, or only comments).
pub(crate) fn is_empty_document(node: &Node) -> bool {
    matches!(untag(node).data, YamlData::Value(Scalar::Null) | YamlData::BadValue)
}

/// Custom tags (`!foo`) carry no meaning for us: read the node under them.
pub(crate) fn untag<'a, 'i>(mut node: &'a Node<'i>) -> &'a Node<'i> {
    while let YamlData::Tagged(_, inner) = &node.data {
        node = inner;
    }
    node
}

pub(crate) fn is_empty_list(node: &Node) -> bool {
    matches!(&untag(node).data, YamlData::Sequence(items) if items.is_empty())
}

fn is_null(node: &Node) -> bool {
    matches!(untag(node).data, YamlData::Value(Scalar::Null))
}

/// How a node looks to the user, for "expected X, found Y" messages.
fn describe(node: &Node) -> String {
    match &untag(node).data {
        YamlData::Value(Scalar::String(s)) => format!("string \"{s}\""),
        YamlData::Value(Scalar::Integer(i)) => format!("integer {i}"),
        YamlData::Value(Scalar::FloatingPoint(f)) => format!("number {f}"),
        YamlData::Value(Scalar::Boolean(b)) => format!("boolean {b}"),
        YamlData::Value(Scalar::Null) => "nothing".to_string(),
        YamlData::Sequence(_) => "a list".to_string(),
        YamlData::Mapping(_) => "a mapping".to_string(),
        _ => "a value that cannot be read".to_string(),
    }
}

/// The text of a scalar as the user wrote it (near enough for a hint).
fn scalar_text(node: &Node) -> Option<String> {
    match &untag(node).data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn last_key(path: &str) -> &str {
    let key = path.rsplit('.').next().unwrap_or(path);
    key.split('[').next().unwrap_or(key)
}

/// `spec` + `replicas` → `spec.replicas`; an empty parent is the document root.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

pub(crate) fn read_string(cx: &mut Cx, node: &Node, path: &str) -> Option<String> {
    let pick = |scalar: &Scalar| match scalar {
        Scalar::String(s) => Some(s.to_string()),
        _ => None,
    };
    read_scalar(cx, node, path, pick, "a string", || match scalar_text(node) {
        Some(text) => format!("quote it: `{}: \"{text}\"`", last_key(path)),
        None => format!("write `{}: <text>`", last_key(path)),
    })
}

/// The scalar `pick` takes from `node`; null means not written (`None`, no error), and
/// anything else is an error saying what was `expected`, with the hint `hint` gives.
fn read_scalar<T>(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    pick: impl FnOnce(&Scalar) -> Option<T>,
    expected: &str,
    hint: impl FnOnce() -> String,
) -> Option<T> {
    if let YamlData::Value(scalar) = &untag(node).data {
        if let Scalar::Null = scalar {
            return None;
        }
        if let Some(value) = pick(scalar) {
            return Some(value);
        }
    }
    cx.error(
        node,
        format!("{path}: expected {expected}, found {}", describe(node)),
        hint(),
    );
    None
}

/// The kernel's limit on one argv or envp string, its terminating NUL included:
/// MAX_ARG_STRLEN, 32 pages (execve(2)); 4 KiB pages, the smallest Linux has.
pub(crate) const MAX_ARG_STRLEN: usize = 32 * 4096;

/// Why the kernel could not hand `text` to a program as one argument or environment
/// string (`NAME=` is the `prefix` of an environment value).
pub(crate) fn exec_string_problem(prefix: &str, text: &str) -> Option<(String, &'static str)> {
    if text.contains('\0') {
        return Some((
            "contains a NUL byte, which no program can receive: arguments and environment variables are NUL-terminated strings".to_string(),
            "remove the NUL character (a `\\0` escape in a double-quoted string)",
        ));
    }
    let size = prefix.len() + text.len() + 1;
    (size > MAX_ARG_STRLEN).then(|| {
        (
            format!(
                "{size} bytes is more than the kernel passes to a program in one argument or environment variable ({MAX_ARG_STRLEN} bytes with its NUL, MAX_ARG_STRLEN in execve(2))"
            ),
            "put large data in a file that the program reads instead",
        )
    })
}

/// A string that becomes one argument of a program: `command`, `args`, a probe's command.
pub(crate) fn read_exec_string(cx: &mut Cx, node: &Node, path: &str) -> Option<String> {
    let text = read_string(cx, node, path)?;
    if let Some((problem, hint)) = exec_string_problem("", &text) {
        cx.error(node, format!("{path}: {problem}"), hint);
        return None;
    }
    Some(text)
}

/// A list of program arguments, each checked as by [`read_exec_string`].
pub(crate) fn read_exec_strings(cx: &mut Cx, node: &Node, path: &str) -> Vec<String> {
    let items = read_list(cx, node, path);
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| read_exec_string(cx, item, &index(path, i)))
        .collect()
}

pub(crate) fn read_int(cx: &mut Cx, node: &Node, path: &str) -> Option<i64> {
    let pick = |scalar: &Scalar| match scalar {
        Scalar::Integer(i) => Some(*i),
        _ => None,
    };
    read_scalar(cx, node, path, pick, "an integer", || {
        format!("write a whole number without quotes, e.g. `{}: 3`", last_key(path))
    })
}

pub(crate) fn read_bool(cx: &mut Cx, node: &Node, path: &str) -> Option<bool> {
    let pick = |scalar: &Scalar| match scalar {
        Scalar::Boolean(b) => Some(*b),
        _ => None,
    };
    read_scalar(cx, node, path, pick, "true or false", || {
        format!("write `{}: true` or `{}: false`", last_key(path), last_key(path))
    })
}

/// An integer within `range`, e.g. a count of seconds.
pub(crate) fn read_int_in(cx: &mut Cx, node: &Node, path: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    let value = read_int(cx, node, path)?;
    if range.contains(&value) {
        return Some(value);
    }
    let message = format!("{path}: {value} is out of range");
    let hint = format!("use a value between {} and {}", range.start(), range.end());
    cx.error(node, message, hint);
    None
}

pub(crate) fn read_port(cx: &mut Cx, node: &Node, path: &str) -> Option<u16> {
    let value = read_int(cx, node, path)?;
    match u16::try_from(value) {
        Ok(port) if port != 0 => Some(port),
        _ => {
            let message = format!("{path}: port {value} is out of range");
            cx.error(node, message, "ports are numbers between 1 and 65535");
            None
        }
    }
}

/// A port given by number or by the name of a container port (`targetPort`, probes).
pub(crate) fn read_port_or_name(cx: &mut Cx, node: &Node, path: &str) -> Option<IntOrString> {
    if let YamlData::Value(Scalar::String(name)) = &untag(node).data {
        return check_port_name(cx, node, path, name).map(IntOrString::Str);
    }
    read_port(cx, node, path).map(IntOrString::Int)
}

/// Kubernetes' IANA_SVC_NAME: what a container port may be named and referred to by.
pub(crate) fn check_port_name(cx: &mut Cx, node: &Node, path: &str, name: &str) -> Option<String> {
    if let Some(problem) = iana_service_name_problem(name) {
        let hint = if name.parse::<u16>().is_ok() {
            format!("write the port number without quotes: `{}: {name}`", last_key(path))
        } else {
            "a port name has at most 15 lowercase letters, digits and '-', with at least one letter".to_string()
        };
        cx.error(node, format!("{path}: invalid port name \"{name}\": {problem}"), hint);
        return None;
    }
    Some(name.to_string())
}

fn iana_service_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 15 {
        Some("must be 1 to 15 characters long")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("must contain only lowercase letters, digits and '-'")
    } else if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        Some("must contain at least one letter")
    } else if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        Some("must not start or end with '-' nor contain \"--\"")
    } else {
        None
    }
}

pub(crate) fn read_protocol(cx: &mut Cx, node: &Node, path: &str) -> Option<Protocol> {
    let protocols = [("TCP", Protocol::Tcp), ("UDP", Protocol::Udp), ("SCTP", Protocol::Sctp)];
    let hint = "use TCP, UDP or SCTP (in capitals)";
    read_choice(cx, node, path, &protocols, "unsupported protocol", hint)
}

/// A string that must be one of `choices` (each as written, and what it means);
/// another is reported as `<path>: <problem> "<text>"` with `hint`.
pub(crate) fn read_choice<T: Copy>(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    choices: &[(&str, T)],
    problem: &str,
    hint: &str,
) -> Option<T> {
    let text = read_string(cx, node, path)?;
    if let Some(&(_, value)) = choices.iter().find(|(written, _)| *written == text) {
        return Some(value);
    }
    cx.error(node, format!("{path}: {problem} \"{text}\""), hint);
    None
}

/// The items of a list; nothing written means an empty list.
pub(crate) fn read_list<'a, 'i>(cx: &mut Cx, node: &'a Node<'i>, path: &str) -> Vec<&'a Node<'i>> {
    match &untag(node).data {
        YamlData::Sequence(items) => items.iter().collect(),
        YamlData::Value(Scalar::Null) => Vec::new(),
        _ => {
            let message = format!("{path}: expected a list, found {}", describe(node));
            let hint = format!("write `{}:` followed by one `- item` line per entry", last_key(path));
            cx.error(node, message, hint);
            Vec::new()
        }
    }
}

/// A `key: value` mapping of strings, such as labels or a selector.
pub(crate) fn read_labels(cx: &mut Cx, node: &Node, path: &str) -> Labels {
    let Some(fields) = Fields::of(cx, node, path) else {
        return Labels::new();
    };
    let mut labels = Labels::new();
    for entry in &fields.entries {
        entry.used.set(true);
        let path = join(path, entry.key);
        if let Some(value) = read_string(cx, entry.value, &path) {
            labels.insert(entry.key.to_string(), value);
        }
    }
    labels
}

struct Entry<'a, 'i> {
    key: &'a str,
    key_node: &'a Node<'i>,
    value: &'a Node<'i>,
    used: Cell<bool>,
}

/// The fields of one mapping. Reading a field marks it used; `finish` warns about every
/// field nobody read, so that an ignored field can never go unreported.
pub(crate) struct Fields<'a, 'i> {
    node: &'a Node<'i>,
    path: String,
    entries: Vec<Entry<'a, 'i>>,
}

impl<'a, 'i> Fields<'a, 'i> {
    /// The fields of `node`, which must be a mapping (nothing written counts as empty).
    pub fn of(cx: &mut Cx, node: &'a Node<'i>, path: &str) -> Option<Self> {
        let entries = match &untag(node).data {
            YamlData::Mapping(map) => Self::string_keyed(cx, map.iter(), path),
            YamlData::Value(Scalar::Null) => Vec::new(),
            _ => {
                let what = if path.is_empty() { "this object" } else { path };
                let message = format!("{what}: expected a mapping, found {}", describe(node));
                let hint = "write `key: value` lines, indented under their parent";
                cx.error(node, message, hint);
                return None;
            }
        };
        Some(Fields {
            node,
            path: path.to_string(),
            entries,
        })
    }

    fn string_keyed(
        cx: &mut Cx,
        map: impl Iterator<Item = (&'a Node<'i>, &'a Node<'i>)>,
        path: &str,
    ) -> Vec<Entry<'a, 'i>> {
        let mut entries = Vec::new();
        for (key_node, value) in map {
            match &untag(key_node).data {
                YamlData::Value(Scalar::String(key)) => entries.push(Entry {
                    key: key.as_ref(),
                    key_node,
                    value,
                    used: Cell::new(false),
                }),
                _ => {
                    let shown = scalar_text(key_node).unwrap_or_else(|| "?".to_string());
                    cx.warn_ignored(key_node, &join(path, &shown));
                }
            }
        }
        entries
    }

    /// The value of `key`, if written and not empty.
    pub fn get(&self, key: &str) -> Option<&'a Node<'i>> {
        let entry = self.entries.iter().find(|e| e.key == key)?;
        entry.used.set(true);
        (!is_null(entry.value)).then_some(entry.value)
    }

    /// Where `key` itself is written.
    pub fn key_node(&self, key: &str) -> Option<&'a Node<'i>> {
        self.entries.iter().find(|e| e.key == key).map(|e| e.key_node)
    }

    /// Where `key` is written, or where this mapping is when it is not.
    pub fn key_pos(&self, cx: &Cx, key: &str) -> Pos {
        cx.pos(self.key_node(key).unwrap_or(self.node))
    }

    /// Where the value of `key` is, or where this mapping is when it is not written.
    pub fn value_pos(&self, cx: &Cx, key: &str) -> Pos {
        let value = self.entries.iter().find(|e| e.key == key && !is_null(e.value));
        cx.pos(value.map_or(self.node, |e| e.value))
    }

    /// The value of `key`, or an error at this mapping saying it is missing.
    pub fn required(&self, cx: &mut Cx, key: &str, hint: impl Into<String>) -> Option<&'a Node<'i>> {
        let value = self.get(key);
        if value.is_none() {
            let message = format!("missing required field {}", self.path(key));
            cx.error(self.node, message, hint);
        }
        value
    }

    /// The mapping itself, for errors about it as a whole.
    pub fn node(&self) -> &'a Node<'i> {
        self.node
    }

    pub fn own_path(&self) -> &str {
        &self.path
    }

    pub fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn string(&self, cx: &mut Cx, key: &str) -> Option<String> {
        self.get(key).and_then(|node| read_string(cx, node, &self.path(key)))
    }

    pub fn string_at(&self, cx: &mut Cx, key: &str) -> Option<At<String>> {
        let node = self.get(key)?;
        let value = read_string(cx, node, &self.path(key))?;
        Some(At::new(value, cx.pos(node)))
    }

    /// An integer in `range`, or `default` when not written (or wrong, after an error).
    pub fn int_in(&self, cx: &mut Cx, key: &str, range: std::ops::RangeInclusive<i64>, default: i64) -> i64 {
        self.get(key)
            .and_then(|node| read_int_in(cx, node, &self.path(key), range))
            .unwrap_or(default)
    }

    /// The string under `key`, one of `choices` (see [`read_choice`]).
    pub fn choice<T: Copy>(&self, cx: &mut Cx, key: &str, choices: &[(&str, T)], hint: &str) -> Option<T> {
        let node = self.get(key)?;
        read_choice(cx, node, &self.path(key), choices, "unsupported value", hint)
    }

    pub fn bool(&self, cx: &mut Cx, key: &str) -> Option<bool> {
        self.get(key).and_then(|node| read_bool(cx, node, &self.path(key)))
    }

    /// The list under `key` as program arguments (see [`read_exec_string`]).
    pub fn exec_strings(&self, cx: &mut Cx, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(node) => read_exec_strings(cx, node, &self.path(key)),
            None => Vec::new(),
        }
    }

    pub fn labels(&self, cx: &mut Cx, key: &str) -> Labels {
        match self.get(key) {
            Some(node) => read_labels(cx, node, &self.path(key)),
            None => Labels::new(),
        }
    }

    /// The nested mapping under `key`, if written.
    pub fn mapping(&self, cx: &mut Cx, key: &str) -> Option<Fields<'a, 'i>> {
        let node = self.get(key)?;
        Fields::of(cx, node, &self.path(key))
    }

    /// The items of the list under `key`, with their paths.
    pub fn list(&self, cx: &mut Cx, key: &str) -> Vec<(String, &'a Node<'i>)> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        let path = self.path(key);
        let items = read_list(cx, node, &path);
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| (index(&path, i), item))
            .collect()
    }

    /// Warns about every field that was not read.
    pub fn finish(self, cx: &mut Cx) {
        for entry in self.entries.iter().filter(|e| !e.used.get()) {
            cx.warn_ignored(entry.key_node, &join(&self.path, entry.key));
        }
    }
}
