//! Changing a running lab (apply, delete, scale) as one transaction: the state
//! changed under the lab's lock, the kernel made to match (removed pods'
//! namespaces gone, added pods wired), then the state saved for the supervisor
//! to act on. Pods that cannot be wired are taken out again, so that state and
//! kernel agree.

use anyhow::Result;

use crate::cluster::LabState;
use crate::cluster::apply::{self, Kind, ObjectRef, Report};
use crate::cluster::endpoints;
use crate::cluster::live::{self, PodChanges};
use crate::cluster::netplan;
use crate::cluster::state::WorkloadKind;
use crate::kernel;
use crate::spec::Object;
use crate::store::Store;

/// `kubectl apply`: creates or changes `objects` in lab `lab`.
pub fn apply(store: &Store, lab: &str, objects: &[Object]) -> Result<Report> {
    let now = crate::clock::now();
    report_of(store, lab, |state| apply::apply(state, objects, now))
}

/// `kubectl delete -f`: removes `objects` from lab `lab`, all in one change.
pub fn delete_objects(store: &Store, lab: &str, objects: &[ObjectRef]) -> Result<Report> {
    report_of(store, lab, |state| apply::delete(state, objects))
}

/// `kubectl delete TYPE NAME`: removes one object; a deleted pod of a workload is
/// replaced by its controller.
pub fn delete(store: &Store, lab: &str, target: &ObjectRef) -> Result<Report> {
    if target.kind != Kind::Pod {
        return delete_objects(store, lab, std::slice::from_ref(target));
    }
    let now = crate::clock::now();
    change_lab(store, lab, |state| {
        live::delete_pod(state, &target.namespace, &target.name, now)
    })?;
    Ok(vec![format!("pod \"{}\" deleted", target.name)])
}

/// `kubectl scale`: sets a Deployment's or StatefulSet's replicas.
pub fn scale(store: &Store, lab: &str, kind: WorkloadKind, namespace: &str, name: &str, replicas: u32) -> Result<()> {
    let now = crate::clock::now();
    change_lab(store, lab, |state| {
        live::scale(state, kind, namespace, name, replicas, now)
    })?;
    Ok(())
}

/// A change that reports what it did, one line per object (kubectl's lines).
fn report_of(
    store: &Store,
    lab: &str,
    change: impl FnOnce(&mut LabState) -> Result<(PodChanges, Report)>,
) -> Result<Report> {
    let mut report = Vec::new();
    change_lab(store, lab, |state| {
        let (changes, lines) = change(state)?;
        report = lines;
        Ok(changes)
    })?;
    Ok(report)
}

/// Runs `change` on lab `lab`'s state under its lock and makes the kernel match.
pub fn change_lab(
    store: &Store,
    lab: &str,
    change: impl FnOnce(&mut LabState) -> Result<PodChanges>,
) -> Result<(LabState, PodChanges)> {
    if !store.exists(lab) {
        anyhow::bail!("lab {lab:?} is not running");
    }
    let lock = store.lock(lab)?;
    let mut state = store.load(lab)?;
    let changes = change(&mut state)?;
    all_or_error(remove_pods(&changes.removed))?;
    let added: Vec<_> = changes.added.iter().collect();
    if !added.is_empty()
        && let Err(e) = kernel::apply::apply(&netplan::added_pods(&state, &added))
    {
        // The new pods go again, with their namespaces.
        let leftovers = remove_pods(&changes.added);
        // The removed pods are gone from the kernel already: save that, without the
        // pods that could not be wired, so that state and kernel agree.
        let netns: Vec<&str> = added.iter().map(|p| p.netns.as_str()).collect();
        state.pods.retain(|p| !netns.contains(&p.netns.as_str()));
        endpoints::refresh(&mut state);
        store.save(&state, &lock)?;
        return Err(with_rollback_errors(e, leftovers));
    }
    endpoints::refresh(&mut state);
    store.save(&state, &lock)?;
    Ok((state, changes))
}

/// A removed pod's processes are killed and its netns removed; the kernel takes its
/// veth pair with it. (Deleting the node-side veths one by one first costs ≈20 ms each
/// in `synchronize_net`; a pod that comes back under the same name takes its veth name
/// over, see `kernel::links::add_veth`.) Best effort: every error is returned.
fn remove_pods(removed: &[crate::cluster::state::PodState]) -> Vec<anyhow::Error> {
    let netns: Vec<String> = removed.iter().map(|p| p.netns.clone()).collect();
    kernel::procs::kill_all_in(&netns);
    kernel::teardown::teardown(&netns)
}

/// Every error of a best-effort teardown as one error (the only one as it is).
fn all_or_error(mut errors: Vec<anyhow::Error>) -> Result<()> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        n => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {e:#}")).collect();
            anyhow::bail!("{n} errors while removing pods:\n{}", lines.join("\n"))
        }
    }
}

/// The error that stopped a change, with what its rollback could not undo.
fn with_rollback_errors(error: anyhow::Error, leftovers: Vec<anyhow::Error>) -> anyhow::Error {
    if leftovers.is_empty() {
        return error;
    }
    let mut msg = format!("{error:#}");
    for l in leftovers {
        msg.push_str(&format!("\nrollback error: {l:#}"));
    }
    anyhow::anyhow!(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_teardown_error_is_reported() {
        assert!(all_or_error(Vec::new()).is_ok());
        let one = all_or_error(vec![anyhow::anyhow!("netns a: busy")]).unwrap_err();
        assert_eq!(format!("{one:#}"), "netns a: busy");
        let errors = vec![
            anyhow::anyhow!("netns a: busy"),
            anyhow::anyhow!("delete link calib: gone").context("netns node"),
        ];
        let all = format!("{:#}", all_or_error(errors).unwrap_err());
        assert_eq!(
            all,
            "2 errors while removing pods:\n  netns a: busy\n  netns node: delete link calib: gone"
        );
    }

    #[test]
    fn a_rollback_names_what_it_could_not_undo() {
        let plain = with_rollback_errors(anyhow::anyhow!("wire pod x"), Vec::new());
        assert_eq!(format!("{plain:#}"), "wire pod x");
        let e = with_rollback_errors(
            anyhow::anyhow!("wire pod x"),
            vec![anyhow::anyhow!("netns x: busy"), anyhow::anyhow!("netns y: busy")],
        );
        assert_eq!(
            format!("{e:#}"),
            "wire pod x\nrollback error: netns x: busy\nrollback error: netns y: busy"
        );
    }
}
