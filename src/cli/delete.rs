use anyhow::{Result, bail};

use crate::cluster::apply::{Kind, ObjectRef};
use crate::store::Store;

use super::args::NamespaceArgs;
use super::resource::{self, Resource};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scope: NamespaceArgs,
    /// Delete the objects of this manifest file (`-`: standard input)
    #[arg(short = 'f', long = "filename", conflicts_with = "resource")]
    file: Option<std::path::PathBuf>,
    /// pod, service, deployment, statefulset, daemonset or namespace (or TYPE/NAME)
    #[arg(required_unless_present = "file")]
    resource: Option<String>,
    names: Vec<String>,
}

/// `labctl delete TYPE NAME…` / `TYPE/NAME…` / `-f FILE`, like kubectl delete. A
/// deleted pod of a workload is replaced by its controller.
pub fn run(args: Args) -> Result<i32> {
    if let Some(file) = &args.file {
        return super::apply::delete(args.scope.lab.name(), file);
    }
    let targets = targets(
        args.resource.as_deref().unwrap_or_default(),
        &args.names,
        args.scope.namespace(),
    )?;
    let store = Store::open();
    let lab = args.scope.lab.select(&store)?.name;
    for target in targets {
        super::apply::print_lines(crate::lab::live::delete(&store, &lab, &target)?);
    }
    Ok(0)
}

/// kubectl's two spellings: `TYPE NAME…` and `TYPE/NAME…` (kinds may differ then).
fn targets(resource: &str, names: &[String], namespace: &str) -> Result<Vec<ObjectRef>> {
    let named = resource::parse("delete", deletable, resource, names)?;
    if named.iter().any(|n| n.names.is_empty()) {
        bail!("resource(s) were provided, but no name was specified");
    }
    Ok(resource::each(named)
        .into_iter()
        .map(|(kind, name)| ObjectRef {
            kind,
            namespace: if kind == Kind::Namespace { &name } else { namespace }.to_string(),
            name,
        })
        .collect())
}

fn deletable(resource: Resource) -> Option<Kind> {
    Some(match resource {
        Resource::Namespace => Kind::Namespace,
        Resource::Pod => Kind::Pod,
        Resource::Service => Kind::Service,
        Resource::Workload(kind) => Kind::Workload(kind),
        Resource::Node | Resource::EndpointSlice => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::state::WorkloadKind;

    #[test]
    fn kubectl_spellings_of_targets() {
        let names = vec!["a".to_string(), "b".to_string()];
        let t = targets("svc", &names, "web").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[1].kind, t[1].namespace.as_str(), t[1].name.as_str()),
            (Kind::Service, "web", "b")
        );
        let t = targets("deploy/x", &["sts/y".to_string()], "default").unwrap();
        assert_eq!(t[0].kind, Kind::Workload(WorkloadKind::Deployment));
        assert_eq!(t[1].kind, Kind::Workload(WorkloadKind::StatefulSet));
        let t = targets("ns", &["team".to_string()], "default").unwrap();
        assert_eq!(t[0].namespace, "team");
        assert!(targets("svc", &[], "default").is_err());
        assert!(targets("ingress", &names, "default").is_err());
        assert!(targets("nodes", &names, "default").is_err());
        assert!(targets("svc/a", &["b".to_string()], "default").is_err());
    }
}
