//! The rules of nesting: no cycles, bounded depth, parents that exist and are active.

use crate::error::DomainError;
use crate::id::GroupId;
use crate::state::TenantState;
use std::collections::{BTreeSet, HashMap};

/// The default limit on nesting depth, counted in groups along the longest chain.
pub const DEFAULT_MAX_DEPTH: usize = 25;

/// Checks that giving `group` (an existing group, or `None` for one being created) exactly
/// `parents` as parents keeps the graph acyclic and within `max_depth` levels.
pub fn check_parents(
    state: &TenantState,
    group: Option<&GroupId>,
    parents: &BTreeSet<GroupId>,
    max_depth: usize,
) -> Result<(), DomainError> {
    for p in parents {
        let facts =
            state.group(p).ok_or_else(|| DomainError::invalid("parentIds", format!("parent group `{p}` not found")))?;
        let is_new_edge = group.is_none_or(|g| !state.parents(g).contains(p));
        if is_new_edge && !facts.active {
            return Err(DomainError::invalid(
                "parentIds",
                format!("the group {} is archived: an archived group cannot take child groups", facts.name),
            ));
        }
    }
    let Some(group) = group else {
        let up = parents.iter().map(|p| height_up(state, p, &mut HashMap::new())).max().unwrap_or(0);
        return check_depth(up + 1, max_depth);
    };
    let name = |g: &GroupId| state.group(g).map_or_else(|| g.to_string(), |f| f.name.clone());
    for p in parents {
        if p == group {
            return Err(DomainError::conflict("parentIds", format!("{} cannot be its own parent", name(p))));
        }
        if ancestors(state, p).contains(group) {
            return Err(DomainError::conflict(
                "parentIds",
                format!("{} is below {}: making it a parent would create a cycle", name(p), name(group)),
            ));
        }
    }
    let mut memo = HashMap::new();
    let up = parents.iter().map(|p| height_up(state, p, &mut memo)).max().unwrap_or(0);
    let down = height_down(state, group, &mut HashMap::new());
    check_depth(up + down, max_depth)
}

fn check_depth(depth: usize, max_depth: usize) -> Result<(), DomainError> {
    if depth > max_depth {
        Err(DomainError::invalid(
            "parentIds",
            format!("nesting would be {depth} levels deep; the limit is {max_depth}"),
        ))
    } else {
        Ok(())
    }
}

/// Every ancestor of `group` (not including itself).
pub fn ancestors(state: &TenantState, group: &GroupId) -> BTreeSet<GroupId> {
    walk(group, |g| state.parents(g))
}

/// Every descendant of `group` (not including itself).
pub fn descendants(state: &TenantState, group: &GroupId) -> BTreeSet<GroupId> {
    walk(group, |g| state.children(g))
}

fn walk<'a>(start: &GroupId, next: impl Fn(&GroupId) -> &'a BTreeSet<GroupId>) -> BTreeSet<GroupId> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start.clone()];
    while let Some(g) = stack.pop() {
        for n in next(&g) {
            if seen.insert(n.clone()) {
                stack.push(n.clone());
            }
        }
    }
    seen
}

/// Groups on the longest chain from `group` up to a root, counting `group`.
fn height_up(state: &TenantState, group: &GroupId, memo: &mut HashMap<GroupId, usize>) -> usize {
    height(group, memo, &|g| state.parents(g))
}

/// Groups on the longest chain from `group` down to a leaf, counting `group`.
fn height_down(state: &TenantState, group: &GroupId, memo: &mut HashMap<GroupId, usize>) -> usize {
    height(group, memo, &|g| state.children(g))
}

fn height<'a>(
    group: &GroupId,
    memo: &mut HashMap<GroupId, usize>,
    next: &dyn Fn(&GroupId) -> &'a BTreeSet<GroupId>,
) -> usize {
    if let Some(h) = memo.get(group) {
        return *h;
    }
    // Guard against a cycle in stored data: a group on the current path counts as a leaf.
    memo.insert(group.clone(), 1);
    let h = 1 + next(group).iter().map(|n| height(n, memo, next)).max().unwrap_or(0);
    memo.insert(group.clone(), h);
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GroupSource;
    use crate::state::GroupFacts;

    fn gid(n: usize) -> GroupId {
        GroupId::parse(&format!("grp_{n:012}")).unwrap()
    }

    fn chain(len: usize) -> TenantState {
        let mut s = TenantState::default();
        for i in 0..len {
            s.put_group(
                gid(i),
                GroupFacts {
                    name: String::new(),
                    active: true,
                    apply_privileges: true,
                    source: GroupSource::Local,
                    member_types: Default::default(),
                },
            );
            if i > 0 {
                s.set_parents(&gid(i), [gid(i - 1)]);
            }
        }
        s
    }

    #[test]
    fn cycles_are_refused() {
        let s = chain(3);
        let self_loop = check_parents(&s, Some(&gid(0)), &[gid(0)].into(), 25);
        assert!(matches!(self_loop, Err(DomainError::Conflict { .. })));
        let back_edge = check_parents(&s, Some(&gid(0)), &[gid(2)].into(), 25);
        assert!(matches!(back_edge, Err(DomainError::Conflict { .. })));
        assert!(check_parents(&s, Some(&gid(2)), &[gid(0), gid(1)].into(), 25).is_ok());
    }

    #[test]
    fn depth_counts_both_sides_of_the_new_edge() {
        let mut s = chain(3);
        s.put_group(
            gid(10),
            GroupFacts {
                name: String::new(),
                active: true,
                apply_privileges: true,
                source: GroupSource::Local,
                member_types: Default::default(),
            },
        );
        s.put_group(
            gid(11),
            GroupFacts {
                name: String::new(),
                active: true,
                apply_privileges: true,
                source: GroupSource::Local,
                member_types: Default::default(),
            },
        );
        s.set_parents(&gid(11), [gid(10)]);
        // 0 <- 1 <- 2 <- 10 <- 11 is five levels.
        assert!(check_parents(&s, Some(&gid(10)), &[gid(2)].into(), 5).is_ok());
        assert!(matches!(check_parents(&s, Some(&gid(10)), &[gid(2)].into(), 4), Err(DomainError::Invalid { .. })));
        assert!(check_parents(&s, None, &[gid(2)].into(), 4).is_ok());
        assert!(check_parents(&s, None, &[gid(2)].into(), 3).is_err());
    }
}
