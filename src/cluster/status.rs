//! What the lab's kubelet reports about its pods, kept apart from the desired state
//! (status.json beside state.json) as the API server keeps a pod's `status` apart
//! from its `spec`: a status change rewrites a few bytes per pod and takes no lock,
//! and readers see the desired state with the last reported status on top.

use serde::{Deserialize, Serialize};

use super::endpoints;
use super::state::{LabState, PodPhase};

/// One pod's status, tied to the pod's uid: a report about a pod that has since been
/// replaced under the same name is not applied to its successor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodStatusRecord {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub ready: bool,
    pub phase: PodPhase,
    pub restarts: u32,
}

/// Sets each reported pod's status in `state` and, when any changed, re-derives the
/// EndpointSlices (the EndpointSlice controller follows pod readiness). Returns
/// whether anything changed.
pub fn apply(state: &mut LabState, records: &[PodStatusRecord]) -> bool {
    let by_pod: std::collections::HashMap<(&str, &str), &PodStatusRecord> = records
        .iter()
        .map(|r| ((r.namespace.as_str(), r.name.as_str()), r))
        .collect();
    let mut changed = false;
    for pod in &mut state.pods {
        let Some(r) = by_pod.get(&(pod.namespace.as_str(), pod.name.as_str())) else {
            continue;
        };
        if r.uid != pod.uid || (r.ready, r.phase, r.restarts) == (pod.ready, pod.phase, pod.restarts) {
            continue;
        }
        (pod.ready, pod.phase, pod.restarts) = (r.ready, r.phase, r.restarts);
        changed = true;
    }
    if changed {
        endpoints::refresh(state);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: &LabState, pod: &str, ready: bool) -> PodStatusRecord {
        let p = state.pods.iter().find(|p| p.name == pod).expect("pod");
        PodStatusRecord {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            uid: p.uid.clone(),
            ready,
            phase: if ready { PodPhase::Running } else { PodPhase::Pending },
            restarts: 0,
        }
    }

    fn ready_endpoints(state: &LabState, service: &str) -> usize {
        state
            .endpoint_slices
            .iter()
            .filter(|s| s.service == service)
            .flat_map(|s| &s.endpoints)
            .filter(|e| e.ready)
            .count()
    }

    #[test]
    fn reports_set_readiness_and_endpoints_follow() {
        let mut state = crate::fixture::resolved::seed();
        let before = ready_endpoints(&state, "redis-headless");
        let records: Vec<_> = ["redis-0", "redis-1", "redis-2"]
            .iter()
            .map(|p| record(&state, p, true))
            .collect();
        assert!(apply(&mut state, &records));
        assert_eq!(ready_endpoints(&state, "redis-headless"), 3, "was {before}");
        assert!(!apply(&mut state, &records), "the same report again changes nothing");
    }

    #[test]
    fn a_report_about_a_replaced_pod_is_ignored() {
        let mut state = crate::fixture::resolved::seed();
        let mut stale = record(&state, "redis-0", true);
        stale.uid = "an-earlier-pod".into();
        assert!(!apply(&mut state, &[stale]));
        assert!(!state.pods.iter().find(|p| p.name == "redis-0").unwrap().ready);
    }
}
