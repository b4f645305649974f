//! Arguments several verbs share, flattened into each verb's own.

use anyhow::Result;

use crate::cluster::LabState;
use crate::store::Store;

/// `--lab NAME`: the lab a command acts on.
#[derive(clap::Args)]
pub struct LabArg {
    /// Lab (optional when exactly one runs or LABCTL_LAB names one)
    #[arg(long)]
    lab: Option<String>,
}

impl LabArg {
    pub fn name(&self) -> Option<&str> {
        self.lab.as_deref()
    }

    /// The lab meant, as the read commands show it (`labs::select`).
    pub fn select(&self, store: &Store) -> Result<LabState> {
        super::labs::select(store, self.name())
    }
}

/// `--lab` and `-n NAMESPACE`: where the objects a command names are.
#[derive(clap::Args)]
pub struct NamespaceArgs {
    #[command(flatten)]
    pub lab: LabArg,
    /// Namespace of the objects
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    namespace: String,
}

impl NamespaceArgs {
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
}

/// `--lab`, and `-n NAMESPACE` or `-A`: for commands that list objects.
#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    scope: NamespaceArgs,
    /// All namespaces
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
}

impl ListArgs {
    pub fn lab(&self) -> &LabArg {
        &self.scope.lab
    }

    /// The namespace asked for (when not all).
    pub fn namespace(&self) -> &str {
        self.scope.namespace()
    }

    pub fn all_namespaces(&self) -> bool {
        self.all_namespaces
    }
}
