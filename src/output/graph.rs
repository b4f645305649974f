//! `labctl graph`: a lab's nodes, the pods on each node and the pods each service selects,
//! as Graphviz DOT or a Mermaid flowchart. Pure.

use crate::cluster::state::{LabState, NodeState, PodState, ServiceState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

/// Identifiers both languages accept: letters, digits and `_`.
fn id(prefix: &str, text: &str) -> String {
    let body: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{body}")
}

fn pod_id(p: &PodState) -> String {
    id("pod", &format!("{}_{}", p.namespace, p.name))
}

fn svc_id(s: &ServiceState) -> String {
    id("svc", &format!("{}_{}", s.namespace, s.name))
}

fn shown_name(namespace: &str, name: &str) -> String {
    if namespace == "default" {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

fn svc_label(s: &ServiceState) -> String {
    let kind = match s.cluster_ip {
        Some(ip) => ip.to_string(),
        None if s.is_headless() => "headless".to_string(),
        None => "ExternalName".to_string(),
    };
    let ports: Vec<String> = s
        .ports
        .iter()
        .map(|p| format!("{}/{}", p.port, p.protocol.as_str()))
        .collect();
    format!("svc {}\\n{kind} {}", shown_name(&s.namespace, &s.name), ports.join(","))
}

/// The pods a service sends to: those in its EndpointSlices (ready or not).
fn selected<'a>(lab: &'a LabState, s: &ServiceState) -> Vec<&'a PodState> {
    let mut pods: Vec<&PodState> = lab
        .endpoint_slices
        .iter()
        .filter(|es| es.namespace == s.namespace && es.service == s.name)
        .flat_map(|es| &es.endpoints)
        .filter_map(|ep| lab.pod(&s.namespace, &ep.pod_name))
        .collect();
    pods.dedup_by(|a, b| a.name == b.name);
    pods
}

pub fn render(lab: &LabState, format: GraphFormat) -> String {
    let mut out = format.header(lab);
    for (i, node) in lab.nodes.iter().enumerate() {
        out.push_str(&format.node_start(i, node));
        for p in lab.pods.iter().filter(|p| p.node == node.name) {
            out.push_str(&format.pod(p));
        }
        out.push_str(format.node_end());
    }
    for s in &lab.services {
        out.push_str(&format.service(s));
        for p in selected(lab, s) {
            out.push_str(&format.edge(s, p));
        }
    }
    out.push_str(format.footer());
    out
}

/// How each language writes each part of the drawing.
impl GraphFormat {
    fn header(self, lab: &LabState) -> String {
        match self {
            GraphFormat::Dot => format!(
                "digraph \"{}\" {{\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n",
                lab.name
            ),
            GraphFormat::Mermaid => "flowchart LR\n".to_string(),
        }
    }

    fn node_start(self, i: usize, node: &NodeState) -> String {
        match self {
            GraphFormat::Dot => format!(
                "  subgraph cluster_{i} {{\n    label=\"{}\\n{} {}\";\n    style=rounded;\n",
                node.name, node.ip, node.pod_block
            ),
            GraphFormat::Mermaid => format!("  subgraph {}[\"{} {}\"]\n", id("node", &node.name), node.name, node.ip),
        }
    }

    fn pod(self, p: &PodState) -> String {
        let (id, name) = (pod_id(p), shown_name(&p.namespace, &p.name));
        match self {
            GraphFormat::Dot => format!("    {id} [shape=box, label=\"{name}\\n{}\"];\n", p.ip),
            GraphFormat::Mermaid => format!("    {id}[\"{name}<br/>{}\"]\n", p.ip),
        }
    }

    fn node_end(self) -> &'static str {
        match self {
            GraphFormat::Dot => "  }\n",
            GraphFormat::Mermaid => "  end\n",
        }
    }

    fn service(self, s: &ServiceState) -> String {
        match self {
            GraphFormat::Dot => {
                let style = if s.is_headless() { ", style=dashed" } else { "" };
                format!("  {} [shape=ellipse{style}, label=\"{}\"];\n", svc_id(s), svc_label(s))
            }
            GraphFormat::Mermaid => {
                let label = svc_label(s).replace("\\n", "<br/>");
                format!("  {}([\"{label}\"])\n", svc_id(s))
            }
        }
    }

    /// A service's arrow to a pod it sends to (dotted in Mermaid for a headless one).
    fn edge(self, s: &ServiceState, p: &PodState) -> String {
        match self {
            GraphFormat::Dot => format!("  {} -> {};\n", svc_id(s), pod_id(p)),
            GraphFormat::Mermaid => {
                let arrow = if s.is_headless() { "-.->" } else { "-->" };
                format!("  {} {arrow} {}\n", svc_id(s), pod_id(p))
            }
        }
    }

    fn footer(self) -> &'static str {
        match self {
            GraphFormat::Dot => "}\n",
            GraphFormat::Mermaid => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture;

    #[test]
    fn dot_draws_nodes_pods_and_selections() {
        let lab = fixture::lab();
        let out = render(&lab, GraphFormat::Dot);
        assert!(out.starts_with("digraph \"headless-services\" {\n"), "{out}");
        assert!(out.ends_with("}\n"));
        assert_eq!(out.matches("subgraph cluster_").count(), lab.nodes.len());
        // Every pod drawn once, inside its node.
        for p in &lab.pods {
            assert_eq!(
                out.matches(&format!("    {} [shape=box", pod_id(p))).count(),
                1,
                "{}",
                p.name
            );
        }
        assert!(
            out.contains(
                "svc_default_nginx_clusterip [shape=ellipse, label=\"svc nginx-clusterip\\n10.96.204.67 80/TCP\"];"
            ),
            "{out}"
        );
        assert!(
            out.contains("svc_default_redis_headless [shape=ellipse, style=dashed,"),
            "{out}"
        );
        assert!(
            out.contains("  svc_default_redis_headless -> pod_default_redis_0;\n"),
            "{out}"
        );
    }

    #[test]
    fn mermaid_draws_the_same_edges() {
        let lab = fixture::lab();
        let dot = render(&lab, GraphFormat::Dot);
        let mermaid = render(&lab, GraphFormat::Mermaid);
        assert!(mermaid.starts_with("flowchart LR\n"));
        assert_eq!(
            dot.matches(" -> ").count(),
            mermaid.matches("-->").count() + mermaid.matches("-.->").count()
        );
        assert!(
            mermaid.contains("  svc_default_redis_headless -.-> pod_default_redis_0\n"),
            "{mermaid}"
        );
        assert_eq!(
            mermaid.matches("  subgraph ").count(),
            mermaid.matches("  end\n").count()
        );
    }
}
