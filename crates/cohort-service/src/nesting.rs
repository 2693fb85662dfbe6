//! Where a group sits in the nesting, in names, from the live view: every path from a top
//! group down to it, and its child groups; and how many child groups groups have (a leaf has
//! none), for lists and the tree.

use super::authz::Guard;
use super::{Ctx, Services};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::GroupId;
use cohort_core::permission::CohortPermission as P;
use cohort_core::state::TenantState;

/// Most paths from the top told for one group (a group with many parents, each with many, has
/// more paths than a page can read).
pub const MAX_PATHS: usize = 20;

/// Most child groups listed for one group; the rest are counted.
pub const MAX_CHILDREN: usize = 100;

/// A group as the nesting names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRef {
    /// The group.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// False when archived.
    pub active: bool,
    /// How many child groups it has.
    pub children: usize,
}

/// Where a group sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nesting {
    /// Each path from a top group down to the group's parent, top first, by name; none for a
    /// top group.
    pub paths: Vec<Vec<GroupRef>>,
    /// Whether there are more paths than [`MAX_PATHS`].
    pub more_paths: bool,
    /// Its child groups by name, at most [`MAX_CHILDREN`].
    pub children: Vec<GroupRef>,
    /// How many child groups it has.
    pub child_count: usize,
}

fn group_ref(state: &TenantState, id: &GroupId) -> GroupRef {
    let facts = state.group(id);
    GroupRef {
        id: id.clone(),
        name: facts.map(|f| f.name.clone()).unwrap_or_default(),
        active: facts.is_some_and(|f| f.active),
        children: state.children(id).len(),
    }
}

/// Walks up from `at` (whose path from it down to the group is `below`, nearest first),
/// adding each path that reaches a top group to `out`, until there are more than `MAX_PATHS`.
fn paths_up(state: &TenantState, at: &GroupId, below: &mut Vec<GroupId>, out: &mut Vec<Vec<GroupId>>) {
    let parents = state.parents(at);
    if parents.is_empty() {
        out.push(below.iter().rev().cloned().collect());
        return;
    }
    for p in parents {
        if out.len() > MAX_PATHS {
            return;
        }
        // INVARIANT: the nesting has no cycle; should one appear, it is not followed.
        if below.contains(p) {
            continue;
        }
        below.push(p.clone());
        paths_up(state, p, below, out);
        below.pop();
    }
}

impl Services {
    /// Where `group` sits: its paths from the top and its child groups. Needs
    /// `cohort:groups.read` (a manager of the group alone is not told the names around it).
    pub async fn nesting(&self, ctx: &Ctx, group: &GroupId) -> ServiceResult<Nesting> {
        let live = self.live(ctx.tenant()).await?;
        let state = &live.state;
        if state.group(group).is_none() {
            return Err(ServiceError::NotFound(format!("group `{group}`")));
        }
        Guard::new(ctx, &live, self.now()).require(P::GroupsRead)?;
        let mut found = Vec::new();
        paths_up(state, group, &mut Vec::new(), &mut found);
        let more_paths = found.len() > MAX_PATHS;
        found.truncate(MAX_PATHS);
        let mut paths: Vec<Vec<GroupRef>> =
            found.iter().filter(|p| !p.is_empty()).map(|p| p.iter().map(|g| group_ref(state, g)).collect()).collect();
        paths.sort_by(|a, b| {
            let names = |p: &Vec<GroupRef>| p.iter().map(|g| g.name.to_lowercase()).collect::<Vec<_>>();
            names(a).cmp(&names(b))
        });
        let kids = state.children(group);
        let mut children: Vec<GroupRef> = kids.iter().map(|g| group_ref(state, g)).collect();
        children.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
        children.truncate(MAX_CHILDREN);
        Ok(Nesting { paths, more_paths, children, child_count: kids.len() })
    }

    /// How many groups one level of the tree holds: the child groups of `parent`, or the top
    /// groups. Needs `cohort:groups.read`.
    pub async fn level_size(&self, ctx: &Ctx, parent: Option<&GroupId>) -> ServiceResult<usize> {
        let live = self.live(ctx.tenant()).await?;
        let state = &live.state;
        if let Some(p) = parent
            && state.group(p).is_none()
        {
            return Err(ServiceError::NotFound(format!("group `{p}`")));
        }
        Guard::new(ctx, &live, self.now()).require(P::GroupsRead)?;
        Ok(match parent {
            Some(p) => state.children(p).len(),
            None => state.group_ids().filter(|g| state.parents(g).is_empty()).count(),
        })
    }

    /// How many child groups each of `groups` has (0 for one that is gone); needs
    /// `cohort:groups.read` or to manage every group asked about.
    pub async fn child_counts(&self, ctx: &Ctx, groups: &[GroupId]) -> ServiceResult<Vec<usize>> {
        let live = self.live(ctx.tenant()).await?;
        let guard = Guard::new(ctx, &live, self.now());
        if !guard.can(P::GroupsRead) && !groups.iter().all(|g| guard.manages(g)) {
            guard.require(P::GroupsRead)?;
        }
        Ok(groups.iter().map(|g| live.state.children(g).len()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cohort_core::state::GroupFacts;

    fn id(n: usize) -> GroupId {
        GroupId::parse(&format!("grp_{n:012}")).unwrap()
    }

    fn facts(name: String) -> GroupFacts {
        let (active, apply_privileges, source) = (true, true, cohort_core::model::GroupSource::Local);
        GroupFacts { name, active, apply_privileges, source, member_types: Default::default() }
    }

    #[test]
    fn every_path_from_the_top_is_found_and_their_number_bounded() {
        let mut state = TenantState::default();
        // A diamond: 1 and 2 are top groups, 3 is under both, 4 under 3.
        for n in 1..=4 {
            state.put_group(id(n), facts(format!("G{n}")));
        }
        state.set_parents(&id(3), [id(1), id(2)]);
        state.set_parents(&id(4), [id(3)]);
        let mut out = Vec::new();
        paths_up(&state, &id(4), &mut Vec::new(), &mut out);
        assert_eq!(out, vec![vec![id(1), id(3)], vec![id(2), id(3)]]);
        let mut top = Vec::new();
        paths_up(&state, &id(1), &mut Vec::new(), &mut top);
        assert_eq!(top, vec![Vec::<GroupId>::new()], "a top group has the empty path");
        // Ten levels of two parents each: 1,024 paths, of which one more than the bound is walked.
        let mut state = TenantState::default();
        for level in 0..=10 {
            for side in 0..2 {
                let g = id(level * 2 + side);
                state.put_group(g.clone(), facts(format!("L{level}{side}")));
                if level > 0 {
                    state.set_parents(&g, [id(level * 2 - 2), id(level * 2 - 1)]);
                }
            }
        }
        let mut out = Vec::new();
        paths_up(&state, &id(20), &mut Vec::new(), &mut out);
        assert_eq!(out.len(), MAX_PATHS + 1);
    }
}
