//! Pure: IPAM, scheduling, controllers and EndpointSlices over the parsed topology.

pub mod apply;
pub mod controllers;
pub mod endpoints;
pub mod images;
pub mod ipam;
pub mod labels;
pub mod live;
pub mod names;
pub mod netplan;
pub mod podfiles;
pub mod resolve;
pub mod scheduler;
pub mod state;
pub mod system;

pub use resolve::resolve;
pub use state::LabState;

#[cfg(test)]
mod tests;

/// The main seed lab (topologies/headless-services.yaml) resolved, for unit tests.
#[cfg(test)]
pub(crate) fn seed_for_tests() -> LabState {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/headless-services.yaml");
    let topo = crate::spec::load(&path).expect("seed topology parses");
    resolve(&topo, "seed.yaml", "2026-01-01T00:00:00Z".parse().unwrap()).expect("seed topology resolves")
}

/// Names of the pods whose name starts with `prefix`, in state order, for unit tests.
#[cfg(test)]
pub(crate) fn pod_names_for_tests(state: &LabState, prefix: &str) -> Vec<String> {
    state
        .pods
        .iter()
        .filter(|p| p.name.starts_with(prefix))
        .map(|p| p.name.clone())
        .collect()
}
