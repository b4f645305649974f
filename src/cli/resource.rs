//! kubectl's resource words (`pods`, `po`, `deployments.apps`, any case) and its
//! two ways to name objects on the command line: `TYPE [NAME…]` and
//! `TYPE/NAME…`, for every verb that takes them.

use anyhow::{Result, bail};

use crate::cluster::state::WorkloadKind;

/// A resource type labctl knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Pod,
    Node,
    Service,
    EndpointSlice,
    Workload(WorkloadKind),
    Namespace,
}

/// How kubectl spells a resource type.
struct Spelling {
    resource: Resource,
    singular: &'static str,
    plural: &'static str,
    /// kubectl's short names (`kubectl api-resources`, SHORTNAMES column).
    short: &'static str,
    /// The API group; `plural.group` and `singular.group` name the type too.
    group: &'static str,
}

const fn spelling(
    resource: Resource,
    singular: &'static str,
    plural: &'static str,
    short: &'static str,
    group: &'static str,
) -> Spelling {
    Spelling {
        resource,
        singular,
        plural,
        short,
        group,
    }
}

/// In the order labctl lists them.
const SPELLINGS: [Spelling; 8] = [
    spelling(Resource::Pod, "pod", "pods", "po", ""),
    spelling(Resource::Node, "node", "nodes", "no", ""),
    spelling(Resource::Service, "service", "services", "svc", ""),
    spelling(
        Resource::EndpointSlice,
        "endpointslice",
        "endpointslices",
        "",
        "discovery.k8s.io",
    ),
    spelling(
        Resource::Workload(WorkloadKind::Deployment),
        "deployment",
        "deployments",
        "deploy",
        "apps",
    ),
    spelling(
        Resource::Workload(WorkloadKind::StatefulSet),
        "statefulset",
        "statefulsets",
        "sts",
        "apps",
    ),
    spelling(
        Resource::Workload(WorkloadKind::DaemonSet),
        "daemonset",
        "daemonsets",
        "ds",
        "apps",
    ),
    spelling(Resource::Namespace, "namespace", "namespaces", "ns", ""),
];

impl Spelling {
    fn names(&self, word: &str) -> bool {
        let word = word.to_ascii_lowercase();
        let bare = match word.strip_suffix(self.group).and_then(|w| w.strip_suffix('.')) {
            Some(bare) if !self.group.is_empty() => bare,
            _ => word.as_str(),
        };
        bare == self.singular || bare == self.plural || (!self.short.is_empty() && word == self.short)
    }
}

impl Resource {
    /// The resource type a kubectl word names, if labctl knows it.
    pub fn from_word(word: &str) -> Option<Resource> {
        SPELLINGS.iter().find(|s| s.names(word)).map(|s| s.resource)
    }

    fn plural(self) -> &'static str {
        SPELLINGS.iter().find(|s| s.resource == self).map_or("", |s| s.plural)
    }
}

/// Objects of one type a command names; no names means all of them.
#[derive(Debug, PartialEq, Eq)]
pub struct Named<K> {
    pub kind: K,
    pub names: Vec<String>,
}

/// Reads a verb's positional words as kubectl does: `TYPE [NAME…]`, or
/// `TYPE/NAME…` where each word has its own type (consecutive words of one type
/// come back together). `accepts` maps the types the verb handles to its own
/// kinds; any other type is an error that lists those it handles.
pub fn parse<K: Copy + PartialEq>(
    verb: &str,
    accepts: impl Fn(Resource) -> Option<K>,
    first: &str,
    rest: &[String],
) -> Result<Vec<Named<K>>> {
    let kind_of = |word: &str| -> Result<K> {
        let known = Resource::from_word(word);
        if let Some(kind) = known.and_then(&accepts) {
            return Ok(kind);
        }
        let handled: Vec<&str> = SPELLINGS
            .iter()
            .filter(|s| accepts(s.resource).is_some())
            .map(|s| s.plural)
            .collect();
        let hint = format!("hint: labctl {verb} knows {}", handled.join(", "));
        match known {
            Some(resource) => bail!("labctl {verb} does not support {}\n  {hint}", resource.plural()),
            None => bail!("the server doesn't have a resource type {word:?}\n  {hint}"),
        }
    };
    if !first.contains('/') {
        return Ok(vec![Named {
            kind: kind_of(first)?,
            names: rest.to_vec(),
        }]);
    }
    let mut named: Vec<Named<K>> = Vec::new();
    for word in std::iter::once(first).chain(rest.iter().map(String::as_str)) {
        let Some((kind, name)) = word.split_once('/').filter(|(_, name)| !name.is_empty()) else {
            bail!(
                "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form"
            );
        };
        let kind = kind_of(kind)?;
        match named.last_mut() {
            Some(last) if last.kind == kind => last.names.push(name.to_string()),
            _ => named.push(Named {
                kind,
                names: vec![name.to_string()],
            }),
        }
    }
    Ok(named)
}

/// For verbs that take one object of one type (logs takes a pod): `NAME` or
/// `TYPE/NAME`.
pub fn one_name(verb: &str, resource: Resource, word: &str) -> Result<String> {
    if !word.contains('/') {
        return Ok(word.to_string());
    }
    let named = parse(verb, |r| (r == resource).then_some(()), word, &[])?;
    Ok(each(named).remove(0).1)
}

/// For verbs that show one type at a time (get, describe): the only type named.
pub fn one_type<K: PartialEq>(verb: &str, mut named: Vec<Named<K>>) -> Result<Named<K>> {
    let mut first = named.remove(0);
    for other in named {
        if other.kind != first.kind {
            bail!("labctl {verb} shows one resource type at a time");
        }
        first.names.extend(other.names);
    }
    Ok(first)
}

/// Every object named, each with its type (for verbs that act on each: delete).
pub fn each<K: Copy>(named: Vec<Named<K>>) -> Vec<(K, String)> {
    named
        .into_iter()
        .flat_map(|n| n.names.into_iter().map(move |name| (n.kind, name)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    fn any(r: Resource) -> Option<Resource> {
        Some(r)
    }

    #[test]
    fn kubectl_names_short_names_and_groups() {
        let deployment = Some(Resource::Workload(WorkloadKind::Deployment));
        for word in [
            "deploy",
            "deployment",
            "Deployments",
            "deployments.apps",
            "deployment.apps",
        ] {
            assert_eq!(Resource::from_word(word), deployment, "{word}");
        }
        assert_eq!(Resource::from_word("po"), Some(Resource::Pod));
        assert_eq!(Resource::from_word("no"), Some(Resource::Node));
        assert_eq!(Resource::from_word("svc"), Some(Resource::Service));
        assert_eq!(Resource::from_word("ns"), Some(Resource::Namespace));
        assert_eq!(
            Resource::from_word("sts"),
            Some(Resource::Workload(WorkloadKind::StatefulSet))
        );
        assert_eq!(
            Resource::from_word("ds"),
            Some(Resource::Workload(WorkloadKind::DaemonSet))
        );
        assert_eq!(
            Resource::from_word("endpointslices.discovery.k8s.io"),
            Some(Resource::EndpointSlice)
        );
        assert_eq!(Resource::from_word("pods.apps"), None);
        assert_eq!(Resource::from_word("ingress"), None);
    }

    #[test]
    fn type_then_names() {
        let named = parse("get", any, "svc", &words(&["a", "b"])).unwrap();
        assert_eq!(
            named,
            vec![Named {
                kind: Resource::Service,
                names: words(&["a", "b"])
            }]
        );
        let all = parse("get", any, "pods", &[]).unwrap();
        assert!(all[0].names.is_empty());
    }

    #[test]
    fn type_slash_name_words_each_with_its_type() {
        let named = parse("delete", any, "deploy/x", &words(&["deploy/y", "sts/z"])).unwrap();
        assert_eq!(
            each(named),
            vec![
                (Resource::Workload(WorkloadKind::Deployment), "x".to_string()),
                (Resource::Workload(WorkloadKind::Deployment), "y".to_string()),
                (Resource::Workload(WorkloadKind::StatefulSet), "z".to_string()),
            ]
        );
        let mixed = parse("delete", any, "svc/a", &words(&["b"])).unwrap_err();
        assert!(
            mixed.to_string().contains("no need to specify a resource type"),
            "{mixed}"
        );
    }

    #[test]
    fn a_type_the_verb_does_not_handle_is_refused_with_those_it_does() {
        let pods_and_services = |r| matches!(r, Resource::Pod | Resource::Service).then_some(r);
        let unknown = parse("describe", pods_and_services, "ingress", &[]).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "the server doesn't have a resource type \"ingress\"\n  hint: labctl describe knows pods, services"
        );
        let other = parse("describe", pods_and_services, "deploy/x", &[]).unwrap_err();
        assert_eq!(
            other.to_string(),
            "labctl describe does not support deployments\n  hint: labctl describe knows pods, services"
        );
    }

    #[test]
    fn one_name_with_or_without_its_type() {
        assert_eq!(one_name("logs", Resource::Pod, "web-0").unwrap(), "web-0");
        assert_eq!(one_name("logs", Resource::Pod, "pod/web-0").unwrap(), "web-0");
        assert_eq!(one_name("logs", Resource::Pod, "po/web-0").unwrap(), "web-0");
        assert!(one_name("logs", Resource::Pod, "svc/web").is_err());
    }

    #[test]
    fn one_type_at_a_time() {
        let same = parse("get", any, "po/a", &words(&["pod/b"])).unwrap();
        assert_eq!(one_type("get", same).unwrap().names, words(&["a", "b"]));
        let two = parse("get", any, "po/a", &words(&["svc/b"])).unwrap();
        assert!(one_type("get", two).is_err());
    }
}
