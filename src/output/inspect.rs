//! `labctl inspect` (and the summary at the end of `deploy`): containerlab's
//! `inspect` table and `--format json`.
//!
//! The table is go-pretty's `StyleRounded` as containerlab configures it: box-drawing
//! borders, a line between rows, headers centred, cells left-aligned with one space of
//! padding, multi-line cells (`Kind/Image` is the kind over the image, `IPv4/6 Address`
//! the IPv4 over the — here empty — IPv6). Rows: one per node (kind `k8s-kind`, image
//! `labctl/node`), then one per pod (kind `pod`, image of its first container) with the
//! node it runs on in an extra `Node` column. With several labs a `Lab Name` column comes
//! first, filled on each lab's first row. containerlab prints its header in bold; this
//! renderer writes no terminal escapes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::json::to_json;
use crate::cluster::state::{LabState, NodeState, PodState};

/// `labctl inspect --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InspectFormat {
    #[default]
    Table,
    Json,
}

/// Kind shown for kind-style nodes, as containerlab shows kind clusters.
pub const NODE_KIND: &str = "k8s-kind";
/// Image shown for nodes (there is none: a node is a network namespace).
pub const NODE_IMAGE: &str = "labctl/node";
/// Kind shown for pods.
pub const POD_KIND: &str = "pod";

/// One row of `inspect`, and one element of its JSON (containerlab's `ContainerDetails`
/// field names and order, plus `namespace`, `node` and `netns`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub lab_name: String,
    #[serde(rename = "absLabPath", skip_serializing_if = "String::is_empty")]
    pub abs_lab_path: String,
    pub name: String,
    pub image: String,
    pub kind: String,
    pub state: String,
    /// Address with its prefix length, as containerlab's JSON has it.
    pub ipv4_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub netns: String,
}

impl Entry {
    /// The name shown in the table: pods outside `default` are shown as `<ns>/<pod>`.
    fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) if ns != "default" => format!("{ns}/{}", self.name),
            _ => self.name.clone(),
        }
    }

    fn address(&self) -> &str {
        self.ipv4_address
            .split_once('/')
            .map_or(self.ipv4_address.as_str(), |(ip, _)| ip)
    }
}

fn node_entry(lab: &LabState, n: &NodeState) -> Entry {
    Entry {
        lab_name: lab.name.clone(),
        abs_lab_path: lab.topology_file.clone(),
        name: n.name.clone(),
        image: NODE_IMAGE.to_string(),
        kind: NODE_KIND.to_string(),
        state: "running".to_string(),
        ipv4_address: format!("{}/{}", n.ip, lab.networking.node_subnet.prefix_len()),
        namespace: None,
        node: None,
        netns: n.netns.clone(),
    }
}

fn pod_entry(lab: &LabState, p: &PodState) -> Entry {
    Entry {
        lab_name: lab.name.clone(),
        abs_lab_path: lab.topology_file.clone(),
        name: p.name.clone(),
        image: p.containers.first().map(|c| c.image.clone()).unwrap_or_default(),
        kind: POD_KIND.to_string(),
        state: p.phase.to_string().to_lowercase(),
        ipv4_address: format!("{}/32", p.ip),
        namespace: Some(p.namespace.clone()),
        node: Some(p.node.clone()),
        netns: p.netns.clone(),
    }
}

/// The rows of one lab: nodes by name, then pods by namespace and name.
pub fn entries(lab: &LabState) -> Vec<Entry> {
    let mut nodes: Vec<&NodeState> = lab.nodes.iter().collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut pods: Vec<&PodState> = lab.pods.iter().collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    nodes
        .into_iter()
        .map(|n| node_entry(lab, n))
        .chain(pods.into_iter().map(|p| pod_entry(lab, p)))
        .collect()
}

/// `labctl inspect`: the table, or JSON keyed by lab name (2-space indent, like
/// containerlab). No labs: `""` for the table (the caller says "no labs found"), `{}` in
/// JSON, as containerlab prints.
pub fn render(labs: &[LabState], format: InspectFormat) -> String {
    let refs: Vec<&LabState> = labs.iter().collect();
    render_refs(&refs, format)
}

/// [`render`] over borrowed labs.
pub fn render_refs(labs: &[&LabState], format: InspectFormat) -> String {
    let mut labs: Vec<&LabState> = labs.to_vec();
    labs.sort_by(|a, b| a.name.cmp(&b.name));
    match format {
        InspectFormat::Json => {
            let grouped: BTreeMap<&str, Vec<Entry>> = labs.iter().map(|l| (l.name.as_str(), entries(l))).collect();
            to_json(&grouped, "  ")
        }
        InspectFormat::Table => {
            if labs.is_empty() {
                return String::new();
            }
            let multi = labs.len() > 1;
            let mut header = vec!["Name", "Kind/Image", "Node", "State", "IPv4/6 Address"];
            if multi {
                header.insert(0, "Lab Name");
            }
            let mut rows = Vec::new();
            for lab in labs {
                for (i, e) in entries(lab).into_iter().enumerate() {
                    let mut row = vec![
                        e.display_name(),
                        format!("{}\n{}", e.kind, e.image),
                        e.node.clone().unwrap_or_default(),
                        e.state.clone(),
                        // IPv4 over IPv6 (none in a lab).
                        format!("{}\n", e.address()),
                    ];
                    if multi {
                        row.insert(0, if i == 0 { lab.name.clone() } else { String::new() });
                    }
                    rows.push(row);
                }
            }
            box_table(&header, &rows)
        }
    }
}

/// The table printed at the end of `labctl deploy`: the lab's `inspect` table.
pub fn summary(lab: &LabState) -> String {
    render_refs(&[lab], InspectFormat::Table)
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// go-pretty's `StyleRounded` with `SeparateRows`, headers centred (go-pretty's
/// `AlignCenter`: the odd space goes to the left).
pub fn box_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            for line in cell.split('\n') {
                widths[i] = widths[i].max(width(line));
            }
        }
    }
    let rule = |left: &str, mid: &str, right: &str| {
        let segs: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        format!("{left}{}{right}\n", segs.join(mid))
    };
    let mut out = rule("╭", "┬", "╮");
    let heads: Vec<String> = header
        .iter()
        .zip(&widths)
        .map(|(h, w)| {
            let gap = w - width(h);
            let right = gap / 2;
            format!(" {}{h}{} ", " ".repeat(gap - right), " ".repeat(right))
        })
        .collect();
    out.push_str(&format!("│{}│\n", heads.join("│")));
    for row in rows {
        out.push_str(&rule("├", "┼", "┤"));
        let lines: Vec<Vec<&str>> = (0..cols)
            .map(|i| row.get(i).map_or(vec![""], |c| c.split('\n').collect()))
            .collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1);
        for l in 0..height {
            let cells: Vec<String> = lines
                .iter()
                .zip(&widths)
                .map(|(cell, w)| {
                    let text = cell.get(l).copied().unwrap_or("");
                    format!(" {text}{} ", " ".repeat(w - width(text)))
                })
                .collect();
            out.push_str(&format!("│{}│\n", cells.join("│")));
        }
    }
    out.push_str(&rule("╰", "┴", "╯"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture::{self, CP, W1};
    use serde_json::Value;

    fn assert_box_lines_same_width(out: &str) {
        let widths: Vec<usize> = out.lines().map(width).collect();
        assert!(widths.len() > 3, "{out}");
        assert!(widths.iter().all(|w| *w == widths[0]), "{widths:?}\n{out}");
        let borders_ok = out.lines().all(|l| {
            let first = l.chars().next().unwrap();
            let last = l.chars().last().unwrap();
            matches!((first, last), ('╭', '╮') | ('│', '│') | ('├', '┤') | ('╰', '╯'))
        });
        assert!(borders_ok, "{out}");
    }

    /// The cells of a `│ a │ b │` line, trimmed.
    fn cells(line: &str) -> Vec<&str> {
        let inner = line.trim_start_matches('│').trim_end_matches('│');
        inner.split('│').map(str::trim).collect()
    }

    #[test]
    fn table_in_containerlab_style() {
        let lab = fixture::lab();
        let out = render(std::slice::from_ref(&lab), InspectFormat::Table);
        assert_box_lines_same_width(&out);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("╭──") && lines[0].contains('┬'));
        assert_eq!(
            cells(lines[1]),
            ["Name", "Kind/Image", "Node", "State", "IPv4/6 Address"]
        );
        assert!(lines[2].starts_with("├──") && lines[2].contains('┼'));
        assert!(lines.last().unwrap().starts_with("╰──"));
        // The seed's node row: name, kind over image, state, address.
        assert_eq!(cells(lines[3]), [CP, "k8s-kind", "", "running", "172.18.0.3"]);
        assert_eq!(cells(lines[4]), ["", "labctl/node", "", "", ""]);
        // Column widths: the longest pod name (33), image (23), node name (31), address (15).
        assert_eq!(
            lines[3],
            format!(
                "│ {CP}   │ k8s-kind                │                                 │ running │ 172.18.0.3      │"
            )
        );
        // Top rule, header, then 3 nodes + 8 pods of 2 lines each after a separator, bottom rule.
        assert_eq!(lines.len(), 2 + 11 * 3 + 1);
        // A pod row.
        let i = lines.iter().position(|l| l.starts_with("│ redis-0 ")).unwrap();
        assert_eq!(cells(lines[i]), ["redis-0", "pod", W1, "running", "192.168.202.195"]);
        assert_eq!(cells(lines[i + 1]), ["", "redis:7.2", "", "", ""]);
    }

    #[test]
    fn header_is_centred_like_go_pretty() {
        let out = box_table(&["Name", "State"], &[vec!["abcdefghi".into(), "running".into()]]);
        let header = out.lines().nth(1).unwrap();
        // Name: width 9, gap 5 -> 3 left, 2 right (plus the padding space).
        assert_eq!(header, "│    Name   │  State  │");
        assert_box_lines_same_width(&out);
    }

    #[test]
    fn several_labs_get_a_lab_column() {
        let a = fixture::lab();
        let mut b = fixture::lab();
        b.name = "other".to_string();
        b.pods.truncate(1);
        let out = render(&[b.clone(), a.clone()], InspectFormat::Table);
        assert_box_lines_same_width(&out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(cells(lines[1])[0], "Lab Name");
        // Labs in name order, the name on each lab's first row only.
        let labs: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with('│'))
            .skip(1)
            .map(|l| cells(l)[0])
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(labs, ["headless-services", "other"]);
    }

    #[test]
    fn pods_outside_default_show_their_namespace() {
        let mut lab = fixture::lab();
        lab.pods.push(fixture::coredns_pod());
        let out = summary(&lab);
        assert_box_lines_same_width(&out);
        assert!(out.contains("│ kube-system/coredns-5d78c9869d-4xkqz "), "{out}");
    }

    #[test]
    fn json_keyed_by_lab() {
        let lab = fixture::lab();
        let out = render(std::slice::from_ref(&lab), InspectFormat::Json);
        assert!(out.starts_with("{\n  \"headless-services\": [\n    {\n      \"lab_name\""));
        let v: Value = serde_json::from_str(&out).unwrap();
        let rows = v["headless-services"].as_array().unwrap();
        assert_eq!(rows.len(), 11);
        assert_eq!(rows[0]["name"], CP);
        assert_eq!(rows[0]["kind"], "k8s-kind");
        assert_eq!(rows[0]["image"], "labctl/node");
        assert_eq!(rows[0]["state"], "running");
        assert_eq!(rows[0]["ipv4_address"], "172.18.0.3/16");
        assert_eq!(rows[0]["netns"], CP);
        assert!(rows[0].get("node").is_none());
        let redis0 = rows.iter().find(|r| r["name"] == "redis-0").unwrap();
        assert_eq!(redis0["lab_name"], "headless-services");
        assert_eq!(redis0["node"], W1);
        assert_eq!(redis0["kind"], "pod");
        assert_eq!(redis0["ipv4_address"], "192.168.202.195/32");
        assert_eq!(redis0["netns"], "headless-services.default.redis-0");
        assert_eq!(redis0["namespace"], "default");
        // containerlab's field order.
        let keys: Vec<&str> = out
            .lines()
            .skip(3)
            .take(8)
            .map(|l| l.trim().split('"').nth(1).unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "lab_name",
                "absLabPath",
                "name",
                "image",
                "kind",
                "state",
                "ipv4_address",
                "netns"
            ]
        );
    }

    #[test]
    fn no_labs() {
        assert_eq!(render(&[], InspectFormat::Table), "");
        assert_eq!(render(&[], InspectFormat::Json), "{}\n");
    }
}
