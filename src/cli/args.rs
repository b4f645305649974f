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

/// `-n NAMESPACE`: where a command's objects are.
#[derive(clap::Args)]
pub struct NamespaceArg {
    /// Namespace of the objects
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    namespace: String,
}

impl NamespaceArg {
    pub fn name(&self) -> &str {
        &self.namespace
    }
}

/// `-n NAMESPACE` or `-A`, for commands that list objects.
#[derive(clap::Args)]
pub struct NamespacesArgs {
    #[command(flatten)]
    namespace: NamespaceArg,
    /// All namespaces
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
}

impl NamespacesArgs {
    /// The namespace asked for (when not all).
    pub fn name(&self) -> &str {
        self.namespace.name()
    }

    pub fn all(&self) -> bool {
        self.all_namespaces
    }
}
