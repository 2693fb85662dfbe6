//! The access index: what each user may do, precomputed from a [`TenantState`] so that a check
//! costs a few hash lookups and a binary search whatever the nesting depth.
//!
//! Each conferring group keeps a closure: the permissions and levels it and its conferring
//! ancestors give (the transitive closure of nesting, Leopard-style). Each active user keeps
//! the merge of their direct groups' closures and their direct roles and grants. A write names
//! what it touched; [`AccessIndex::footprint`] turns that into the groups and users whose
//! entries may change, before and after the write, and [`AccessIndex::refresh`] recomputes just
//! those. [`crate::resolve`] stays the reference the index is tested against.

use crate::conferral::Held;
use crate::id::{GroupId, ResourceId, RoleId, UserId};
use crate::state::TenantState;
use crate::time::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeSet;
use std::hash::Hash;

mod entry;
use entry::{Entries, Parts, UserEntry};

/// What a write changed, by key. Memberships, direct roles and direct grants of a user are the
/// user's; roles, grants, scopes, flags and parents of a group are the group's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// Users whose facts, memberships, direct roles or direct grants changed.
    pub users: BTreeSet<UserId>,
    /// Groups whose membership rows changed wholesale (a rule applied to everyone): their rows
    /// are read again as a whole, and their members before and after are affected.
    pub members: BTreeSet<GroupId>,
    /// Groups whose facts, parents, roles, grants or scopes changed (or that were deleted).
    pub groups: BTreeSet<GroupId>,
    /// Roles whose permissions changed (or that were deleted).
    pub roles: BTreeSet<RoleId>,
    /// Resources or resource types that changed or were deleted.
    pub resources: BTreeSet<ResourceId>,
}

impl Touched {
    /// Adds everything `other` touched.
    pub fn merge(&mut self, other: Touched) {
        self.users.extend(other.users);
        self.members.extend(other.members);
        self.groups.extend(other.groups);
        self.roles.extend(other.roles);
        self.resources.extend(other.resources);
    }
}

/// The groups and users whose index entries a change may affect.
#[derive(Clone, Debug, Default)]
pub struct Footprint {
    groups: BTreeSet<GroupId>,
    users: FxHashSet<UserId>,
}

impl Footprint {
    /// Adds another footprint (the same change seen before and after).
    pub fn merge(&mut self, other: Footprint) {
        self.groups.extend(other.groups);
        self.users.extend(other.users);
    }

    /// How many users it covers.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    /// Every group and user of `state`.
    pub fn everything(state: &TenantState) -> Self {
        Self { groups: state.group_ids().cloned().collect(), users: state.user_ids().cloned().collect() }
    }

    /// The users it covers, in no order.
    pub fn user_ids(&self) -> impl Iterator<Item = &UserId> {
        self.users.iter()
    }

    /// The groups it covers.
    pub fn group_ids(&self) -> impl Iterator<Item = &GroupId> {
        self.groups.iter()
    }
}

/// Why a check was denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// No such user.
    UnknownUser,
    /// The user is suspended.
    Suspended,
    /// No such resource.
    UnknownResource,
    /// The resource's type has no such level.
    UnknownLevel,
    /// Nothing the user holds gives it.
    NotGranted,
}

/// The index's answer to a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// Allowed by this role, assigned to this group (or, `None`, to the user directly).
    ByRole(&'a RoleId, Option<&'a GroupId>),
    /// Allowed by a grant of this rank, from this group or (`None`) directly.
    ByGrant(u8, Option<&'a GroupId>),
    /// Denied.
    Denied(Denial),
    /// The user's entry has passed a membership's expiry: ask the reference resolution.
    Stale,
}

impl Verdict<'_> {
    /// Whether the answer is an allow.
    pub fn allowed(&self) -> bool {
        matches!(self, Self::ByRole(..) | Self::ByGrant(..))
    }
}

#[derive(Debug)]
struct Interner<K> {
    ids: FxHashMap<K, u32>,
    keys: Vec<K>,
}

impl<K> Default for Interner<K> {
    fn default() -> Self {
        Self { ids: FxHashMap::default(), keys: Vec::new() }
    }
}

impl<K: Clone + Eq + Hash> Interner<K> {
    fn intern(&mut self, k: &K) -> u32 {
        if let Some(i) = self.ids.get(k) {
            return *i;
        }
        let i = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.push(k.clone());
        self.ids.insert(k.clone(), i);
        i
    }

    fn key(&self, i: u32) -> Option<&K> {
        self.keys.get(i as usize)
    }
}

/// Users per thread from which a footprint is recomputed on several cores.
const PARALLEL_FROM: usize = 10_000;

/// Grants given directly rather than by a group.
const DIRECT: u32 = u32::MAX;

/// What a group (with its conferring ancestors) gives, or what a user holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Holdings {
    /// (permission, role giving it, group the role is on or DIRECT), sorted by permission,
    /// one row per permission.
    perms: Vec<(u32, u32, u32)>,
    /// (resource, rank, group giving it or DIRECT), sorted by resource, the highest rank.
    levels: Vec<(u32, u8, u32)>,
}

impl Holdings {
    fn normalise(&mut self) {
        self.perms.sort_unstable();
        self.perms.dedup_by_key(|p| p.0);
        // Highest rank first within a resource, then keep the first row of each.
        self.levels.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        self.levels.dedup_by_key(|l| l.0);
    }

    fn extend(&mut self, other: &Holdings) {
        self.perms.extend_from_slice(&other.perms);
        self.levels.extend_from_slice(&other.levels);
    }
}

/// The per-tenant access index.
#[derive(Debug)]
pub struct AccessIndex {
    perms: Interner<String>,
    roles: Interner<RoleId>,
    groups: Interner<GroupId>,
    resources: Interner<ResourceId>,
    closures: FxHashMap<GroupId, Holdings>,
    users: Entries,
    /// Permissions ending in `*` that users hold: (prefix, role, group or DIRECT).
    wildcards: FxHashMap<UserId, Wildcards>,
    /// No entry is stale before this instant (ms); an entry may be stale from then on.
    fresh_until: i64,
}

type Wildcards = Box<[(Box<str>, u32, u32)]>;

impl Default for AccessIndex {
    fn default() -> Self {
        Self {
            perms: Interner::default(),
            roles: Interner::default(),
            groups: Interner::default(),
            resources: Interner::default(),
            closures: FxHashMap::default(),
            users: Entries::default(),
            wildcards: FxHashMap::default(),
            fresh_until: i64::MAX,
        }
    }
}

impl AccessIndex {
    /// Builds the index of a whole tenant as of `now`.
    pub fn build(state: &TenantState, now: Timestamp) -> Self {
        let mut index = Self::default();
        index.refresh(state, &Footprint::everything(state), now);
        index
    }

    /// The entries a change touching `touched` may affect in `state`. Call it on the state
    /// before the change and after, and refresh the union.
    pub fn footprint(state: &TenantState, touched: &Touched) -> Footprint {
        let mut users: FxHashSet<UserId> = touched.users.iter().cloned().collect();
        for g in &touched.members {
            users.extend(state.members_of(g).cloned());
        }
        let mut seeds: Vec<GroupId> = touched.groups.iter().cloned().collect();
        for r in &touched.roles {
            seeds.extend(state.groups_with_role(r).cloned());
            users.extend(state.users_with_role(r).cloned());
        }
        for r in &touched.resources {
            seeds.extend(state.groups_granted(r).cloned());
            users.extend(state.users_granted(r).cloned());
        }
        let mut groups = BTreeSet::new();
        for g in seeds {
            if groups.insert(g.clone()) {
                groups.extend(crate::graph::descendants(state, &g));
            }
        }
        if groups.len() * 4 >= state.group_count() {
            // Most of the graph: every user is cheaper than the union of the members.
            users.extend(state.user_ids().cloned());
        } else {
            for g in &groups {
                for u in state.members_of(g) {
                    if !users.contains(u) {
                        users.insert(u.clone());
                    }
                }
            }
        }
        Footprint { groups, users }
    }

    /// Recomputes the closures of the footprint's groups (ancestors first) and the entries of
    /// its users, from `state` as of `now`. Large footprints are spread over the machine's cores.
    pub fn refresh(&mut self, state: &TenantState, footprint: &Footprint, now: Timestamp) {
        for g in &footprint.groups {
            self.intern_holdings(state, state.roles_of_group(g), state.grants_of_group(g));
            self.groups.intern(g);
        }
        for u in &footprint.users {
            self.intern_holdings(state, state.roles_of_user(u), state.grants_of_user(u));
        }
        let mut depth_memo = FxHashMap::default();
        let mut order: Vec<(usize, &GroupId)> =
            footprint.groups.iter().map(|g| (depth(state, g, &mut depth_memo), g)).collect();
        order.sort();
        for (_, g) in order {
            match self.closure_of(state, g) {
                Some(h) => self.closures.insert(g.clone(), h),
                None => self.closures.remove(g),
            };
        }
        let users: Vec<&UserId> = footprint.users.iter().collect();
        let this = &*self;
        let entries = crate::parallel::map_parts(&users, PARALLEL_FROM, |part| {
            part.iter().map(|u| ((*u).clone(), this.entry_of(state, u, now))).collect::<Vec<_>>()
        });
        for (u, entry) in entries.into_iter().flatten() {
            if let Some((e, _)) = &entry {
                self.fresh_until = self.fresh_until.min(e.valid_until());
            }
            match entry {
                Some((e, w)) if w.is_empty() => {
                    self.users.insert(u.as_str(), e);
                    self.wildcards.remove(&u);
                }
                Some((e, w)) => {
                    self.users.insert(u.as_str(), e);
                    self.wildcards.insert(u, w);
                }
                None => {
                    self.users.remove(u.as_str());
                    self.wildcards.remove(&u);
                }
            }
        }
    }

    /// Gives every permission, role and resource that `roles` and `grants` name an index
    /// number, so that computing holdings only reads.
    fn intern_holdings(
        &mut self,
        state: &TenantState,
        roles: &BTreeSet<RoleId>,
        grants: &std::collections::BTreeMap<ResourceId, u8>,
    ) {
        for r in roles {
            if let Some(facts) = state.role(r) {
                self.roles.intern(r);
                for p in &facts.permissions {
                    if !self.perms.ids.contains_key(p.as_str()) {
                        self.perms.intern(&p.as_str().to_owned());
                    }
                }
            }
        }
        for res in grants.keys() {
            self.resources.intern(res);
        }
    }

    fn own(
        &self,
        state: &TenantState,
        roles: &BTreeSet<RoleId>,
        grants: &std::collections::BTreeMap<ResourceId, u8>,
        source: u32,
    ) -> Holdings {
        let mut h = Holdings::default();
        for r in roles {
            if let (Some(facts), Some(ri)) = (state.role(r), self.roles.ids.get(r)) {
                for p in &facts.permissions {
                    if let Some(pi) = self.perms.ids.get(p.as_str()) {
                        h.perms.push((*pi, *ri, source));
                    }
                }
            }
        }
        for (res, rank) in grants {
            if let (Some(_), Some(xi)) = (state.resource(res), self.resources.ids.get(res)) {
                h.levels.push((*xi, *rank, source));
            }
        }
        h
    }

    fn closure_of(&self, state: &TenantState, g: &GroupId) -> Option<Holdings> {
        if !state.group(g)?.confers() {
            return None;
        }
        let gi = *self.groups.ids.get(g)?;
        let mut h = self.own(state, state.roles_of_group(g), state.grants_of_group(g), gi);
        for p in state.parents(g) {
            if let Some(parent) = self.closures.get(p) {
                h.extend(parent);
            }
        }
        h.normalise();
        Some(h)
    }

    fn entry_of(&self, state: &TenantState, u: &UserId, now: Timestamp) -> Option<(UserEntry, Wildcards)> {
        if !state.user(u)?.active {
            return None;
        }
        let mut h = self.own(state, state.roles_of_user(u), state.grants_of_user(u), DIRECT);
        let mut valid_until: Option<Timestamp> = None;
        let mut direct: BTreeSet<&GroupId> = BTreeSet::new();
        for (g, _, facts) in state.memberships_of(u) {
            if facts.is_live(now) {
                if let Some(t) = facts.expires_at {
                    valid_until = Some(valid_until.map_or(t, |v| v.min(t)));
                }
                direct.insert(g);
            }
        }
        for g in direct {
            if let Some(c) = self.closures.get(g) {
                h.extend(c);
            }
        }
        h.normalise();
        let mut wildcards = Vec::new();
        h.perms.retain(|(p, role, source)| match self.perms.key(*p).and_then(|s| s.strip_suffix('*')) {
            Some(prefix) => {
                wildcards.push((prefix.into(), *role, *source));
                false
            }
            None => true,
        });
        let parts = Parts {
            perms: &h.perms,
            levels: &h.levels,
            wildcards: !wildcards.is_empty(),
            valid_until: valid_until.map_or(i64::MAX, |t| t.millis()),
        };
        Some((UserEntry::new(u.as_str(), &parts), wildcards.into_boxed_slice()))
    }

    fn entry(&self, state: &TenantState, user: &UserId, now: Timestamp) -> Result<&UserEntry, Verdict<'_>> {
        match self.users.get(user.as_str()) {
            Some(e) if now.millis() >= e.valid_until() => Err(Verdict::Stale),
            Some(e) => Ok(e),
            None if state.user(user).is_some() => Err(Verdict::Denied(Denial::Suspended)),
            None => Err(Verdict::Denied(Denial::UnknownUser)),
        }
    }

    /// May `user` do `permission` at `now`?
    pub fn check_permission(
        &self,
        state: &TenantState,
        user: &UserId,
        permission: &str,
        now: Timestamp,
    ) -> Verdict<'_> {
        let entry = match self.entry(state, user, now) {
            Ok(e) => e,
            Err(v) => return v,
        };
        let role = self.perms.ids.get(permission).and_then(|p| entry.perm(*p)).or_else(|| {
            let wildcards = self.wildcards.get(user).filter(|_| entry.has_wildcards())?;
            wildcards.iter().find(|(prefix, ..)| permission.starts_with(&**prefix)).map(|w| (w.1, w.2))
        });
        match role.and_then(|(r, source)| Some((self.roles.key(r)?, source))) {
            Some((r, source)) => Verdict::ByRole(r, self.groups.key(source)),
            None => Verdict::Denied(Denial::NotGranted),
        }
    }

    /// Does `user` hold at least `level` on `resource` at `now`?
    pub fn check_level(
        &self,
        state: &TenantState,
        user: &UserId,
        resource: &ResourceId,
        level: &str,
        now: Timestamp,
    ) -> Verdict<'_> {
        let Some(levels) = state.resource_levels(resource) else { return Verdict::Denied(Denial::UnknownResource) };
        let Some(wanted) = levels.rank(level) else { return Verdict::Denied(Denial::UnknownLevel) };
        let entry = match self.entry(state, user, now) {
            Ok(e) => e,
            Err(v) => return v,
        };
        let held = self.resources.ids.get(resource).and_then(|r| entry.level(*r));
        match held {
            Some((rank, source)) if rank >= wanted => Verdict::ByGrant(rank, self.groups.key(source)),
            _ => Verdict::Denied(Denial::NotGranted),
        }
    }

    /// Recomputes the entries that a membership's expiry has made stale by `now`, so that
    /// every entry says what its user holds at `now` (see [`Self::held`]). Cheap when no
    /// membership has expired since the last call.
    pub fn refresh_expired(&mut self, state: &TenantState, now: Timestamp) {
        if now.millis() < self.fresh_until {
            return;
        }
        let stale: FxHashSet<UserId> = state
            .user_ids()
            .filter(|u| self.users.get(u.as_str()).is_some_and(|e| now.millis() >= e.valid_until()))
            .cloned()
            .collect();
        self.fresh_until = i64::MAX;
        self.refresh(state, &Footprint { groups: BTreeSet::new(), users: stale }, now);
        self.fresh_until = self.users.values().map(UserEntry::valid_until).min().unwrap_or(i64::MAX);
    }

    /// What `user` holds according to their entry: nothing when they have none (unknown or
    /// suspended). An entry past a membership's expiry still counts that membership: call
    /// [`Self::refresh_expired`] first for an answer as of now.
    pub fn held(&self, user: &UserId) -> Held {
        let mut held = Held::default();
        let Some(entry) = self.users.get(user.as_str()) else { return held };
        held.permissions.extend(entry.perm_ids().iter().filter_map(|p| self.perms.key(*p)).cloned());
        if entry.has_wildcards() {
            for (prefix, ..) in self.wildcards.get(user).into_iter().flatten() {
                held.permissions.insert(format!("{prefix}*"));
            }
        }
        for (r, rank) in entry.levels() {
            if let Some(id) = self.resources.key(r) {
                held.levels.insert(id.clone(), rank);
            }
        }
        held
    }

    /// What `group` gives its members, through itself and its conferring ancestors: nothing
    /// when it confers nothing (archived, `applyPrivileges` off, or unknown).
    pub fn group_held(&self, group: &GroupId) -> Held {
        let mut held = Held::default();
        let Some(h) = self.closures.get(group) else { return held };
        held.permissions.extend(h.perms.iter().filter_map(|(p, ..)| self.perms.key(*p)).cloned());
        for (r, rank, _) in &h.levels {
            if let Some(id) = self.resources.key(*r) {
                held.levels.insert(id.clone(), *rank);
            }
        }
        held
    }

    /// Whether `group`, through itself or its conferring ancestors, gives a permission that
    /// governs cohort itself (`cohort:…` or a wildcard reaching it).
    pub fn confers_cohort(&self, group: &GroupId) -> bool {
        self.closures.get(group).is_some_and(|h| {
            h.perms.iter().any(|(p, ..)| self.perms.key(*p).is_some_and(|s| crate::permission::governs_cohort(s)))
        })
    }

    /// How many users have an entry.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }
}

/// Groups on the longest chain from `g` up to a root; missing groups count as roots.
fn depth(state: &TenantState, g: &GroupId, memo: &mut FxHashMap<GroupId, usize>) -> usize {
    if let Some(d) = memo.get(g) {
        return *d;
    }
    memo.insert(g.clone(), 1);
    let d = 1 + state.parents(g).iter().map(|p| depth(state, p, memo)).max().unwrap_or(0);
    memo.insert(g.clone(), d);
    d
}
