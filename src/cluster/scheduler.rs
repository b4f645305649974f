//! Deterministic placement: spread each workload's pods over the nodes like the
//! default scheduler's spreading, with ties broken the same way every time.

/// A node as the scheduler sees it.
pub struct Slot {
    pub name: String,
    pub is_control_plane: bool,
    /// How many more pods its IPAM block can hold.
    pub free: usize,
}

/// Where pod `i` goes: the node with the fewest pods of the same group, then the
/// fewest pods overall, workers before the control plane, then node order.
/// `pinned[i]` (spec.nodeName, DaemonSets) is honoured as is. Returns the index of
/// the first pod that fits nowhere as the error.
pub fn schedule(slots: &mut [Slot], groups: &[usize], pinned: &[Option<usize>]) -> Result<Vec<usize>, usize> {
    let mut per_group: std::collections::HashMap<(usize, usize), usize> = Default::default();
    let mut total = vec![0usize; slots.len()];
    let mut placement = Vec::with_capacity(groups.len());
    for (i, &group) in groups.iter().enumerate() {
        let chosen = match pinned[i] {
            Some(node) => (slots[node].free > 0).then_some(node),
            None => (0..slots.len()).filter(|&n| slots[n].free > 0).min_by_key(|&n| {
                (
                    per_group.get(&(group, n)).copied().unwrap_or(0),
                    total[n],
                    slots[n].is_control_plane,
                    n,
                )
            }),
        };
        let node = chosen.ok_or(i)?;
        slots[node].free -= 1;
        total[node] += 1;
        *per_group.entry((group, node)).or_default() += 1;
        placement.push(node);
    }
    Ok(placement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(free: usize) -> Vec<Slot> {
        ["cp", "w1", "w2"]
            .iter()
            .map(|n| Slot {
                name: n.to_string(),
                is_control_plane: *n == "cp",
                free,
            })
            .collect()
    }

    #[test]
    fn three_replicas_spread_over_three_nodes_workers_first() {
        let mut s = slots(10);
        let p = schedule(&mut s, &[0, 0, 0], &[None, None, None]).unwrap();
        assert_eq!(p, vec![1, 2, 0]);
    }

    #[test]
    fn a_second_workload_fills_the_emptiest_nodes() {
        let mut s = slots(10);
        let p = schedule(&mut s, &[0, 0, 1, 1], &[None; 4]).unwrap();
        assert_eq!(p, vec![1, 2, 0, 1]);
    }

    #[test]
    fn pinned_pods_stay_and_count() {
        let mut s = slots(10);
        let p = schedule(&mut s, &[0, 1], &[Some(1), None]).unwrap();
        assert_eq!(p, vec![1, 2]);
    }

    #[test]
    fn full_nodes_are_skipped_and_overflow_is_reported() {
        let mut s = slots(1);
        assert_eq!(schedule(&mut s, &[0, 0, 0, 0], &[None; 4]), Err(3));
        let mut s = slots(1);
        assert_eq!(schedule(&mut s, &[0, 1], &[Some(0), Some(0)]), Err(1));
    }

    #[test]
    fn same_input_same_placement() {
        let a = schedule(&mut slots(5), &[0, 0, 1, 2, 2, 2], &[None; 6]).unwrap();
        let b = schedule(&mut slots(5), &[0, 0, 1, 2, 2, 2], &[None; 6]).unwrap();
        assert_eq!(a, b);
    }
}
