//! Resolution: what a user may do, and why. The reference implementation that any faster
//! index must agree with.

use crate::id::{GroupId, ResourceId, RoleId, UserId};
use crate::index::Touched;
use crate::model::MembershipSource;
use crate::permission::Permission;
use crate::state::TenantState;
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many paths are reported for one group; every group is still found.
pub const MAX_PATHS_PER_GROUP: usize = 8;

/// A chain of groups from one the user is directly in up to an inherited one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupPath {
    /// `[direct group, its parent, ..., the group reached]`.
    pub chain: Vec<GroupId>,
    /// The sources of the user's live rows in the direct group.
    pub sources: Vec<MembershipSource>,
}

/// Where something the user has comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// Assigned to the user directly.
    Direct,
    /// Given by a group reached along this path.
    Group(GroupPath),
}

/// A group the user is effectively in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveGroup {
    /// The group.
    pub group: GroupId,
    /// Whether the user has a live row in the group itself.
    pub direct: bool,
    /// Paths that reach it (capped at [`MAX_PATHS_PER_GROUP`]).
    pub paths: Vec<GroupPath>,
}

/// A role the user effectively holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveRole {
    /// The role.
    pub role: RoleId,
    /// Where it comes from.
    pub via: Vec<Via>,
}

/// A permission the user effectively holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectivePermission {
    /// The permission.
    pub permission: Permission,
    /// The roles that give it.
    pub roles: Vec<RoleId>,
}

/// The level a user effectively holds on a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveLevel {
    /// The resource.
    pub resource: ResourceId,
    /// The most permissive rank held (0 = the type's least permissive level).
    pub rank: u8,
    /// Every grant that contributes, with its rank.
    pub via: Vec<(u8, Via)>,
}

/// One value of a data scope and the effective groups that give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeValue {
    /// The value.
    pub value: String,
    /// Groups that set it.
    pub groups: Vec<GroupId>,
}

/// A data scope key and the union of its values over effective groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveScope {
    /// The key, e.g. `country`.
    pub key: String,
    /// Its values.
    pub values: Vec<ScopeValue>,
}

/// Everything a user may do at one instant, with provenance.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Access {
    /// Effective groups, sorted by id.
    pub groups: Vec<EffectiveGroup>,
    /// Effective roles, sorted by id.
    pub roles: Vec<EffectiveRole>,
    /// Effective permissions, sorted.
    pub permissions: Vec<EffectivePermission>,
    /// Effective levels on resources, sorted by resource.
    pub levels: Vec<EffectiveLevel>,
    /// Effective data scopes, sorted by key; keys no group sets are absent.
    pub scopes: Vec<EffectiveScope>,
}

impl Access {
    /// The role, and how it is held, that gives `wanted`.
    pub fn grant_for(&self, wanted: &str) -> Option<(&EffectiveRole, &Permission)> {
        let perm = self.permissions.iter().find(|p| p.permission.covers(wanted))?;
        let role = perm.roles.first()?;
        let held = self.roles.iter().find(|r| &r.role == role)?;
        Some((held, &perm.permission))
    }
}

/// The effective groups of a user at `now`: live rows in conferring groups, then every
/// conferring ancestor reached through conferring groups. A suspended or unknown user has none.
pub fn effective_groups(state: &TenantState, user: &UserId, now: Timestamp) -> Vec<EffectiveGroup> {
    if !state.user(user).is_some_and(|u| u.active) {
        return Vec::new();
    }
    let mut direct: BTreeMap<&GroupId, Vec<MembershipSource>> = BTreeMap::new();
    for (g, source, facts) in state.memberships_of(user) {
        if facts.is_live(now) && state.group(g).is_some_and(|f| f.confers()) {
            direct.entry(g).or_default().push(source);
        }
    }
    let mut found: BTreeMap<GroupId, Vec<GroupPath>> = BTreeMap::new();
    for (g, sources) in &direct {
        let mut chain = vec![(*g).clone()];
        climb(state, &mut chain, sources, &mut found);
    }
    found
        .into_iter()
        .map(|(group, mut paths)| {
            paths.sort();
            EffectiveGroup { direct: direct.contains_key(&group), group, paths }
        })
        .collect()
}

fn climb(
    state: &TenantState,
    chain: &mut Vec<GroupId>,
    sources: &[MembershipSource],
    found: &mut BTreeMap<GroupId, Vec<GroupPath>>,
) {
    let Some(here) = chain.last().cloned() else { return };
    let paths = found.entry(here.clone()).or_default();
    if paths.len() >= MAX_PATHS_PER_GROUP {
        // Every ancestor already has at least as many paths through this group.
        return;
    }
    paths.push(GroupPath { chain: chain.clone(), sources: sources.to_vec() });
    for parent in state.parents(&here) {
        if chain.contains(parent) || !state.group(parent).is_some_and(|f| f.confers()) {
            continue;
        }
        chain.push(parent.clone());
        climb(state, chain, sources, found);
        chain.pop();
    }
}

/// Everything a user may do at `now`, with provenance.
pub fn resolve(state: &TenantState, user: &UserId, now: Timestamp) -> Access {
    if !state.user(user).is_some_and(|u| u.active) {
        return Access::default();
    }
    let groups = effective_groups(state, user, now);
    let mut roles: BTreeMap<RoleId, Vec<Via>> = BTreeMap::new();
    for r in state.roles_of_user(user) {
        if state.role(r).is_some() {
            roles.entry(r.clone()).or_default().push(Via::Direct);
        }
    }
    for g in &groups {
        for r in state.roles_of_group(&g.group) {
            if state.role(r).is_some() {
                let via = roles.entry(r.clone()).or_default();
                via.extend(g.paths.iter().cloned().map(Via::Group));
            }
        }
    }
    let mut permissions: BTreeMap<Permission, BTreeSet<RoleId>> = BTreeMap::new();
    for r in roles.keys() {
        if let Some(facts) = state.role(r) {
            for p in &facts.permissions {
                permissions.entry(p.clone()).or_default().insert(r.clone());
            }
        }
    }
    let mut levels: BTreeMap<ResourceId, Vec<(u8, Via)>> = BTreeMap::new();
    for (r, rank) in state.grants_of_user(user) {
        if state.resource(r).is_some() {
            levels.entry(r.clone()).or_default().push((*rank, Via::Direct));
        }
    }
    let mut scopes: BTreeMap<String, BTreeMap<String, BTreeSet<GroupId>>> = BTreeMap::new();
    for g in &groups {
        for (r, rank) in state.grants_of_group(&g.group) {
            if state.resource(r).is_some() {
                let via = levels.entry(r.clone()).or_default();
                via.extend(g.paths.iter().cloned().map(|p| (*rank, Via::Group(p))));
            }
        }
        if let Some(s) = state.scopes_of(&g.group) {
            for (k, values) in s.as_map() {
                for v in values {
                    scopes.entry(k.clone()).or_default().entry(v.clone()).or_default().insert(g.group.clone());
                }
            }
        }
    }
    Access {
        levels: levels
            .into_iter()
            .map(|(resource, mut via)| {
                via.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
                EffectiveLevel { rank: via.first().map(|v| v.0).unwrap_or(0), resource, via }
            })
            .collect(),
        scopes: scopes
            .into_iter()
            .map(|(key, values)| EffectiveScope {
                key,
                values: values
                    .into_iter()
                    .map(|(value, groups)| ScopeValue { value, groups: groups.into_iter().collect() })
                    .collect(),
            })
            .collect(),
        groups,
        roles: roles
            .into_iter()
            .map(|(role, mut via)| {
                via.sort();
                EffectiveRole { role, via }
            })
            .collect(),
        permissions: permissions
            .into_iter()
            .map(|(permission, roles)| EffectivePermission { permission, roles: roles.into_iter().collect() })
            .collect(),
    }
}

/// A user who is effectively in a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveMember {
    /// The user.
    pub user: UserId,
    /// Whether the user has a live row in the group itself.
    pub direct: bool,
    /// The groups (this one or its descendants) the user is directly in that lead here.
    pub through: Vec<GroupId>,
}

/// `group` and every group below it that confers, when `group` itself confers.
fn conferring_reach(state: &TenantState, group: &GroupId) -> BTreeSet<GroupId> {
    let mut reach = BTreeSet::new();
    if state.group(group).is_some_and(|f| f.confers()) {
        reach_below(state, group, &mut reach);
    }
    reach
}

/// Adds `group` and the groups below it that confer (through groups that confer) to `reach`.
fn reach_below(state: &TenantState, group: &GroupId, reach: &mut BTreeSet<GroupId>) {
    if !reach.insert(group.clone()) {
        return;
    }
    let mut stack = vec![group.clone()];
    while let Some(g) = stack.pop() {
        for child in state.children(&g) {
            if state.group(child).is_some_and(|f| f.confers()) && reach.insert(child.clone()) {
                stack.push(child.clone());
            }
        }
    }
}

/// How many users a change to what `touched` names gives or takes access from, at `now`: the
/// users it names (suspended or not: unsuspending one reaches them), the active live members
/// of its groups (whether or not they confer today: unarchiving one reaches them) and of the
/// conferring groups below them, and the active users who hold its roles or levels on its
/// resources, directly or through a group. What a person is told before confirming such a
/// change.
pub fn users_reached(state: &TenantState, touched: &Touched, now: Timestamp) -> usize {
    let active = |u: &&UserId| state.user(u).is_some_and(|f| f.active);
    let mut users: rustc_hash::FxHashSet<&UserId> = touched.users.iter().filter(|u| state.user(u).is_some()).collect();
    let mut reach = BTreeSet::new();
    for g in &touched.groups {
        reach_below(state, g, &mut reach);
    }
    for r in &touched.roles {
        users.extend(state.users_with_role(r).filter(active));
        for g in state.groups_with_role(r).filter(|g| state.group(g).is_some_and(|f| f.confers())) {
            reach_below(state, g, &mut reach);
        }
    }
    for r in &touched.resources {
        users.extend(state.users_granted(r).filter(active));
        for g in state.groups_granted(r).filter(|g| state.group(g).is_some_and(|f| f.confers())) {
            reach_below(state, g, &mut reach);
        }
    }
    for g in &reach {
        users.extend(live_members(state, g, now));
    }
    users.len()
}

/// The active users with a live row in `g` at `now`.
fn live_members<'a>(state: &'a TenantState, g: &'a GroupId, now: Timestamp) -> impl Iterator<Item = &'a UserId> + 'a {
    state
        .members_of(g)
        .filter(move |u| state.user(u).is_some_and(|f| f.active) && state.rows(g, u).any(|(_, f)| f.is_live(now)))
}

/// Every user effectively in `group` at `now`, sorted by user id.
pub fn effective_members(state: &TenantState, group: &GroupId, now: Timestamp) -> Vec<EffectiveMember> {
    let mut out: BTreeMap<UserId, BTreeSet<GroupId>> = BTreeMap::new();
    for g in &conferring_reach(state, group) {
        for u in live_members(state, g, now) {
            out.entry(u.clone()).or_default().insert(g.clone());
        }
    }
    out.into_iter()
        .map(|(user, through)| EffectiveMember {
            direct: through.contains(group),
            user,
            through: through.into_iter().collect(),
        })
        .collect()
}

/// How many users [`effective_members`] finds: `(in the group itself, only through groups
/// below it)`, without listing them.
pub fn effective_member_counts(state: &TenantState, group: &GroupId, now: Timestamp) -> (usize, usize) {
    let reach = conferring_reach(state, group);
    if reach.is_empty() {
        return (0, 0);
    }
    let direct: rustc_hash::FxHashSet<&UserId> = live_members(state, group, now).collect();
    let mut inherited: rustc_hash::FxHashSet<&UserId> = rustc_hash::FxHashSet::default();
    for g in reach.iter().filter(|g| *g != group) {
        inherited.extend(live_members(state, g, now).filter(|u| !direct.contains(u)));
    }
    (direct.len(), inherited.len())
}

/// The answer to "may this user do X?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Allowed or not; anything unknown is not.
    pub allowed: bool,
    /// Why, in words an admin can follow.
    pub reason: String,
}

/// Decides whether `user` holds `permission` at `now`. Deny by default.
pub fn check_permission(state: &TenantState, user: &UserId, permission: &str, now: Timestamp) -> Decision {
    let deny = |reason: String| Decision { allowed: false, reason };
    let Some(facts) = state.user(user) else { return deny(format!("user `{user}` not found")) };
    if !facts.active {
        return deny(format!("user `{user}` is suspended"));
    }
    let access = resolve(state, user, now);
    match access.grant_for(permission) {
        Some((role, held)) => {
            let name = state.role(&role.role).map(|r| r.name.as_str()).unwrap_or_default();
            let via = role.via.first().map(|v| describe_via(state, v)).unwrap_or_default();
            Decision { allowed: true, reason: format!("`{held}` from role `{name}` ({}) {via}", role.role) }
        }
        None => deny(format!("no effective role grants `{permission}`")),
    }
}

/// Decides whether `user` holds at least `level` on `resource` at `now`. Deny by default:
/// an unknown user, resource or level is a denial.
pub fn check_level(state: &TenantState, user: &UserId, resource: &ResourceId, level: &str, now: Timestamp) -> Decision {
    let deny = |reason: String| Decision { allowed: false, reason };
    let Some(facts) = state.user(user) else { return deny(format!("user `{user}` not found")) };
    if !facts.active {
        return deny(format!("user `{user}` is suspended"));
    }
    let Some(levels) = state.resource_levels(resource) else { return deny(format!("resource `{resource}` not found")) };
    let Some(wanted) = levels.rank(level) else {
        return deny(format!("`{level}` is not a level of resource `{resource}`"));
    };
    let access = resolve(state, user, now);
    let held = access.levels.iter().find(|l| &l.resource == resource);
    match held.and_then(|l| l.via.first().filter(|(rank, _)| *rank >= wanted)) {
        Some((rank, via)) => {
            let name = levels.as_slice().get(usize::from(*rank)).map(|l| l.as_str()).unwrap_or_default();
            Decision { allowed: true, reason: format!("`{name}` on `{resource}` granted {}", describe_via(state, via)) }
        }
        None => deny(format!("no grant gives `{level}` on `{resource}`")),
    }
}

/// Renders a provenance as `assigned directly` or `via group France (grp_…) ← EMEA (grp_…)
/// (manual)`, with the names `state` holds.
pub fn describe_via(state: &TenantState, via: &Via) -> String {
    match via {
        Via::Direct => "assigned directly".to_owned(),
        Via::Group(path) => describe_path(state, path),
    }
}

/// Renders a path as `via group France (grp_…) ← EMEA (grp_…) (manual)`: the group that
/// confers first, back to the one the user is in, then how the user is in it.
pub fn describe_path(state: &TenantState, path: &GroupPath) -> String {
    let mut out = String::with_capacity(32 + 40 * path.chain.len());
    write_path(&mut out, state, path);
    out
}

/// Appends [`describe_path`]'s words to `out`.
pub fn write_path(out: &mut String, state: &TenantState, path: &GroupPath) {
    use std::fmt::Write;
    out.push_str("via group ");
    for (i, g) in path.chain.iter().rev().enumerate() {
        if i > 0 {
            out.push_str(" ← ");
        }
        // Writing to a `String` cannot fail.
        let _ = match state.group(g) {
            Some(f) => write!(out, "{} ({g})", f.name),
            None => write!(out, "{g}"),
        };
    }
    out.push_str(" (");
    for (i, s) in path.sources.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(s.as_str());
    }
    out.push(')');
}

/// The shortest path by which `user` is in `group` at `now`: from a group they are in by a
/// live row, up through groups that confer, to `group`. Only the user's own groups and their
/// ancestors are visited, so it costs what the user's memberships cost, not the tenant's size.
/// Ties go to the direct group first in id order, then to parents in id order.
pub fn path_to(state: &TenantState, user: &UserId, group: &GroupId, now: Timestamp) -> Option<GroupPath> {
    let confers = |g: &GroupId| state.group(g).is_some_and(|f| f.confers());
    // The user's rows come sorted by group: each group the user is in by a live row, once.
    let mut direct: Vec<&GroupId> = Vec::new();
    for (g, _, facts) in state.memberships_of(user) {
        if facts.is_live(now) && direct.last() != Some(&g) && confers(g) {
            direct.push(g);
        }
    }
    let sources = |first: &GroupId| state.rows(first, user).filter(|(_, f)| f.is_live(now)).map(|(s, _)| s).collect();
    if direct.contains(&group) {
        return Some(GroupPath { chain: vec![group.clone()], sources: sources(group) });
    }
    // Breadth first, so the first path to reach `group` is a shortest one. Each node keeps the
    // index of the node it was reached from, so no path is copied along the way.
    let mut nodes: Vec<(&GroupId, usize)> = direct.iter().map(|g| (*g, usize::MAX)).collect();
    let mut seen: rustc_hash::FxHashSet<&GroupId> = direct.iter().copied().collect();
    let mut next = 0;
    while let Some(&(here, _)) = nodes.get(next) {
        if here == group {
            let mut chain = Vec::new();
            let mut at = next;
            while let Some(&(g, from)) = nodes.get(at) {
                chain.push(g.clone());
                at = from;
            }
            chain.reverse();
            let sources = sources(chain.first()?);
            return Some(GroupPath { chain, sources });
        }
        for parent in state.parents(here) {
            if confers(parent) && seen.insert(parent) {
                nodes.push((parent, next));
            }
        }
        next += 1;
    }
    None
}
