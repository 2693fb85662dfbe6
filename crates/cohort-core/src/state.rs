//! The access-relevant facts of one tenant, held in memory: who is active, how groups nest,
//! who is in which group, which roles go where. Resolution and the graph rules read it; the
//! store fills it; every write keeps it in step.

use crate::id::{GroupId, ResourceId, RoleId, UserId};
use crate::model::{GroupSource, MemberRole, MembershipSource, Subject};
use crate::name::{Levels, MemberTypes, Scopes, UserType};
use crate::permission::Permission;
use crate::time::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};

/// Why a group refuses a user as a member: it admits only other user types.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAdmitted(pub String);

/// What resolution needs to know of a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFacts {
    /// False when suspended: no effective access at all.
    pub active: bool,
    /// What kind of user, for the groups that admit only some kinds.
    pub user_type: UserType,
}

/// What resolution needs to know of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupFacts {
    /// The group's name, for explanations.
    pub name: String,
    /// False when archived.
    pub active: bool,
    /// False when the group confers nothing.
    pub apply_privileges: bool,
    /// Who owns the group.
    pub source: GroupSource,
    /// The user types it admits (empty: every type).
    pub member_types: MemberTypes,
}

impl GroupFacts {
    /// Whether the group passes anything on to its members and the members of its children:
    /// an archived or `applyPrivileges: false` group confers nothing, and nothing flows through it.
    pub fn confers(&self) -> bool {
        self.active && self.apply_privileges
    }
}

/// What resolution needs to know of one membership row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberFacts {
    /// Member or manager.
    pub role: MemberRole,
    /// When the row stops conferring access.
    pub expires_at: Option<Timestamp>,
}

impl MemberFacts {
    /// Whether the row confers access at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// What resolution needs to know of a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleFacts {
    /// The role's name, for explanations.
    pub name: String,
    /// Its permissions.
    pub permissions: Vec<Permission>,
}

/// What resolution needs to know of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceFacts {
    /// Its type's name.
    pub type_name: String,
    /// Its name, for explanations.
    pub name: String,
}

/// One tenant's access facts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantState {
    users: FxHashMap<UserId, UserFacts>,
    groups: FxHashMap<GroupId, GroupFacts>,
    parents: FxHashMap<GroupId, BTreeSet<GroupId>>,
    children: FxHashMap<GroupId, BTreeSet<GroupId>>,
    memberships: FxHashMap<UserId, BTreeMap<(GroupId, MembershipSource), MemberFacts>>,
    members: FxHashMap<GroupId, FxHashSet<UserId>>,
    roles: FxHashMap<RoleId, RoleFacts>,
    user_roles: FxHashMap<UserId, BTreeSet<RoleId>>,
    group_roles: FxHashMap<GroupId, BTreeSet<RoleId>>,
    resource_types: FxHashMap<String, Levels>,
    resources: FxHashMap<ResourceId, ResourceFacts>,
    user_grants: FxHashMap<UserId, BTreeMap<ResourceId, u8>>,
    group_grants: FxHashMap<GroupId, BTreeMap<ResourceId, u8>>,
    group_scopes: FxHashMap<GroupId, Scopes>,
}

static EMPTY_GROUPS: BTreeSet<GroupId> = BTreeSet::new();
static EMPTY_ROLES: BTreeSet<RoleId> = BTreeSet::new();
static EMPTY_GRANTS: BTreeMap<ResourceId, u8> = BTreeMap::new();

impl TenantState {
    /// Adds or replaces a user.
    pub fn put_user(&mut self, id: UserId, facts: UserFacts) {
        self.users.insert(id, facts);
    }

    /// Removes a user with their memberships and direct roles.
    pub fn remove_user(&mut self, id: &UserId) {
        self.users.remove(id);
        if let Some(rows) = self.memberships.remove(id) {
            for (group, _) in rows.keys() {
                if let Some(set) = self.members.get_mut(group) {
                    set.remove(id);
                }
            }
        }
        self.user_roles.remove(id);
        self.user_grants.remove(id);
    }

    /// Adds or replaces a group's facts (not its parents).
    pub fn put_group(&mut self, id: GroupId, facts: GroupFacts) {
        self.groups.insert(id, facts);
    }

    /// Replaces a group's parents.
    pub fn set_parents(&mut self, id: &GroupId, parents: impl IntoIterator<Item = GroupId>) {
        let new: BTreeSet<GroupId> = parents.into_iter().collect();
        let old = self.parents.remove(id).unwrap_or_default();
        for p in old.difference(&new) {
            if let Some(set) = self.children.get_mut(p) {
                set.remove(id);
            }
        }
        for p in &new {
            self.children.entry(p.clone()).or_default().insert(id.clone());
        }
        if !new.is_empty() {
            self.parents.insert(id.clone(), new);
        }
    }

    /// Removes a group with its memberships, role assignments and nesting edges.
    pub fn remove_group(&mut self, id: &GroupId) {
        self.set_parents(id, []);
        if let Some(kids) = self.children.remove(id) {
            for kid in kids {
                if let Some(set) = self.parents.get_mut(&kid) {
                    set.remove(id);
                    if set.is_empty() {
                        self.parents.remove(&kid);
                    }
                }
            }
        }
        if let Some(users) = self.members.remove(id) {
            for u in users {
                if let Some(rows) = self.memberships.get_mut(&u) {
                    rows.retain(|(g, _), _| g != id);
                }
            }
        }
        self.group_roles.remove(id);
        self.group_grants.remove(id);
        self.group_scopes.remove(id);
        self.groups.remove(id);
    }

    /// Adds or replaces one membership row.
    pub fn put_membership(&mut self, group: &GroupId, user: &UserId, source: MembershipSource, facts: MemberFacts) {
        match self.memberships.get_mut(user) {
            Some(rows) => {
                rows.insert((group.clone(), source), facts);
            }
            None => {
                self.memberships.insert(user.clone(), BTreeMap::from([((group.clone(), source), facts)]));
            }
        }
        self.add_member(group, user);
    }

    fn add_member(&mut self, group: &GroupId, user: &UserId) {
        match self.members.get_mut(group) {
            Some(set) => {
                set.insert(user.clone());
            }
            None => {
                self.members.insert(group.clone(), FxHashSet::from_iter([user.clone()]));
            }
        }
    }

    /// Removes one membership row.
    pub fn remove_membership(&mut self, group: &GroupId, user: &UserId, source: MembershipSource) {
        let Some(rows) = self.memberships.get_mut(user) else { return };
        rows.remove(&(group.clone(), source));
        if !rows.keys().any(|(g, _)| g == group)
            && let Some(set) = self.members.get_mut(group)
        {
            set.remove(user);
        }
    }

    /// Adds or replaces a role.
    pub fn put_role(&mut self, id: RoleId, facts: RoleFacts) {
        self.roles.insert(id, facts);
    }

    /// Removes a role and every assignment of it.
    pub fn remove_role(&mut self, id: &RoleId) {
        self.roles.remove(id);
        for set in self.user_roles.values_mut().chain(self.group_roles.values_mut()) {
            set.remove(id);
        }
    }

    /// Assigns a role to a user or a group.
    pub fn assign(&mut self, subject: &Subject, role: &RoleId) {
        match subject {
            Subject::User(u) => self.user_roles.entry(u.clone()).or_default().insert(role.clone()),
            Subject::Group(g) => self.group_roles.entry(g.clone()).or_default().insert(role.clone()),
        };
    }

    /// Removes a role assignment.
    pub fn unassign(&mut self, subject: &Subject, role: &RoleId) {
        match subject {
            Subject::User(u) => self.user_roles.get_mut(u).map(|s| s.remove(role)),
            Subject::Group(g) => self.group_roles.get_mut(g).map(|s| s.remove(role)),
        };
    }

    /// Adds or replaces a resource type.
    pub fn put_resource_type(&mut self, name: &str, levels: Levels) {
        self.resource_types.insert(name.to_owned(), levels);
    }

    /// Removes a resource type (callers remove its resources first).
    pub fn remove_resource_type(&mut self, name: &str) {
        self.resource_types.remove(name);
    }

    /// Adds or replaces a resource.
    pub fn put_resource(&mut self, id: ResourceId, facts: ResourceFacts) {
        self.resources.insert(id, facts);
    }

    /// Removes a resource and every grant on it.
    pub fn remove_resource(&mut self, id: &ResourceId) {
        self.resources.remove(id);
        for grants in self.user_grants.values_mut().chain(self.group_grants.values_mut()) {
            grants.remove(id);
        }
    }

    /// Gives `subject` the level of rank `rank` on a resource, replacing any it had.
    pub fn grant(&mut self, subject: &Subject, resource: &ResourceId, rank: u8) {
        match subject {
            Subject::User(u) => self.user_grants.entry(u.clone()).or_default().insert(resource.clone(), rank),
            Subject::Group(g) => self.group_grants.entry(g.clone()).or_default().insert(resource.clone(), rank),
        };
    }

    /// Removes `subject`'s grant on a resource.
    pub fn revoke(&mut self, subject: &Subject, resource: &ResourceId) {
        match subject {
            Subject::User(u) => self.user_grants.get_mut(u).map(|g| g.remove(resource)),
            Subject::Group(g) => self.group_grants.get_mut(g).map(|gr| gr.remove(resource)),
        };
    }

    /// Replaces a group's data scopes.
    pub fn set_scopes(&mut self, group: &GroupId, scopes: Scopes) {
        if scopes.as_map().is_empty() {
            self.group_scopes.remove(group);
        } else {
            self.group_scopes.insert(group.clone(), scopes);
        }
    }

    /// The levels of a resource type.
    pub fn levels_of(&self, type_name: &str) -> Option<&Levels> {
        self.resource_types.get(type_name)
    }

    /// A resource's facts.
    pub fn resource(&self, id: &ResourceId) -> Option<&ResourceFacts> {
        self.resources.get(id)
    }

    /// The levels of a resource's type.
    pub fn resource_levels(&self, id: &ResourceId) -> Option<&Levels> {
        self.resources.get(id).and_then(|r| self.resource_types.get(&r.type_name))
    }

    /// Grants held directly by a user, by resource, as ranks.
    pub fn grants_of_user(&self, user: &UserId) -> &BTreeMap<ResourceId, u8> {
        self.user_grants.get(user).unwrap_or(&EMPTY_GRANTS)
    }

    /// Grants held by a group, by resource, as ranks.
    pub fn grants_of_group(&self, group: &GroupId) -> &BTreeMap<ResourceId, u8> {
        self.group_grants.get(group).unwrap_or(&EMPTY_GRANTS)
    }

    /// A group's data scopes.
    pub fn scopes_of(&self, group: &GroupId) -> Option<&Scopes> {
        self.group_scopes.get(group)
    }

    /// Groups that hold a role.
    pub fn groups_with_role(&self, role: &RoleId) -> impl Iterator<Item = &GroupId> {
        self.group_roles.iter().filter(move |(_, roles)| roles.contains(role)).map(|(g, _)| g)
    }

    /// Users that hold a role directly.
    pub fn users_with_role(&self, role: &RoleId) -> impl Iterator<Item = &UserId> {
        self.user_roles.iter().filter(move |(_, roles)| roles.contains(role)).map(|(u, _)| u)
    }

    /// Groups with a grant on a resource.
    pub fn groups_granted(&self, resource: &ResourceId) -> impl Iterator<Item = &GroupId> {
        self.group_grants.iter().filter(move |(_, g)| g.contains_key(resource)).map(|(g, _)| g)
    }

    /// Users with a direct grant on a resource.
    pub fn users_granted(&self, resource: &ResourceId) -> impl Iterator<Item = &UserId> {
        self.user_grants.iter().filter(move |(_, g)| g.contains_key(resource)).map(|(u, _)| u)
    }

    /// How many groups there are.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Every user id.
    pub fn user_ids(&self) -> impl Iterator<Item = &UserId> {
        self.users.keys()
    }

    /// Replaces every membership row of a user.
    pub fn replace_memberships_of(&mut self, user: &UserId, rows: Vec<(GroupId, MembershipSource, MemberFacts)>) {
        if let Some(old) = self.memberships.remove(user) {
            for (g, _) in old.keys() {
                if let Some(set) = self.members.get_mut(g) {
                    set.remove(user);
                }
            }
        }
        for (g, ..) in &rows {
            self.add_member(g, user);
        }
        if !rows.is_empty() {
            self.memberships
                .insert(user.clone(), rows.into_iter().map(|(g, source, facts)| ((g, source), facts)).collect());
        }
    }

    /// Replaces every membership row of a group.
    pub fn replace_members_of(&mut self, group: &GroupId, rows: Vec<(UserId, MembershipSource, MemberFacts)>) {
        for u in self.members.remove(group).unwrap_or_default() {
            if let Some(old) = self.memberships.get_mut(&u) {
                old.retain(|(g, _), _| g != group);
                if old.is_empty() {
                    self.memberships.remove(&u);
                }
            }
        }
        for (u, source, facts) in rows {
            self.put_membership(group, &u, source, facts);
        }
    }

    /// Replaces the roles assigned to a user or a group.
    pub fn replace_roles(&mut self, subject: &Subject, roles: BTreeSet<RoleId>) {
        match subject {
            Subject::User(u) => self.user_roles.insert(u.clone(), roles),
            Subject::Group(g) => self.group_roles.insert(g.clone(), roles),
        };
    }

    /// Replaces the grants of a user or a group.
    pub fn replace_grants(&mut self, subject: &Subject, grants: BTreeMap<ResourceId, u8>) {
        match subject {
            Subject::User(u) => self.user_grants.insert(u.clone(), grants),
            Subject::Group(g) => self.group_grants.insert(g.clone(), grants),
        };
    }

    /// The same facts with empty collections dropped, so two states holding the same facts
    /// compare equal however they were built.
    pub fn canonical(&self) -> TenantState {
        let mut s = self.clone();
        s.parents.retain(|_, v| !v.is_empty());
        s.children.retain(|_, v| !v.is_empty());
        s.memberships.retain(|_, v| !v.is_empty());
        s.members.retain(|_, v| !v.is_empty());
        s.user_roles.retain(|_, v| !v.is_empty());
        s.group_roles.retain(|_, v| !v.is_empty());
        s.user_grants.retain(|_, v| !v.is_empty());
        s.group_grants.retain(|_, v| !v.is_empty());
        s
    }

    /// A user's facts.
    pub fn user(&self, id: &UserId) -> Option<&UserFacts> {
        self.users.get(id)
    }

    /// A group's facts.
    pub fn group(&self, id: &GroupId) -> Option<&GroupFacts> {
        self.groups.get(id)
    }

    /// Whether `group` admits a user of type `user_type` as a member (a group that does not
    /// exist is not refused here: whether it exists is the caller's to decide).
    pub fn admits(&self, group: &GroupId, user_type: &UserType) -> Result<(), NotAdmitted> {
        match self.groups.get(group) {
            Some(g) if !g.member_types.admits(user_type) => Err(NotAdmitted(format!(
                "group `{}` ({group}) admits only users of type {}; this user is of type `{user_type}`",
                g.name,
                g.member_types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
            ))),
            _ => Ok(()),
        }
    }

    /// Whether `group` admits user `user` (see [`Self::admits`]); an unknown user is admitted.
    pub fn admits_user(&self, group: &GroupId, user: &UserId) -> Result<(), NotAdmitted> {
        match self.users.get(user) {
            Some(u) => self.admits(group, &u.user_type),
            None => Ok(()),
        }
    }

    /// The first membership row, among those of `users` and of the members of `groups`, whose
    /// group does not admit its user's type: the group, the user and why.
    pub fn first_refused_member<'a>(
        &self,
        users: impl IntoIterator<Item = &'a UserId>,
        groups: impl IntoIterator<Item = &'a GroupId>,
    ) -> Option<NotAdmitted> {
        for u in users {
            for (g, _, _) in self.memberships_of(u) {
                if let Err(e) = self.admits_user(g, u) {
                    return Some(e);
                }
            }
        }
        for g in groups {
            if self.groups.get(g).is_some_and(|f| !f.member_types.is_any()) {
                for u in self.members_of(g) {
                    if let Err(e) = self.admits_user(g, u) {
                        return Some(e);
                    }
                }
            }
        }
        None
    }

    /// Every group id.
    pub fn group_ids(&self) -> impl Iterator<Item = &GroupId> {
        self.groups.keys()
    }

    /// A group's parents.
    pub fn parents(&self, id: &GroupId) -> &BTreeSet<GroupId> {
        self.parents.get(id).unwrap_or(&EMPTY_GROUPS)
    }

    /// A group's children.
    pub fn children(&self, id: &GroupId) -> &BTreeSet<GroupId> {
        self.children.get(id).unwrap_or(&EMPTY_GROUPS)
    }

    /// A user's membership rows, by group and source.
    pub fn memberships_of(&self, user: &UserId) -> impl Iterator<Item = (&GroupId, MembershipSource, &MemberFacts)> {
        self.memberships.get(user).into_iter().flat_map(|rows| rows.iter().map(|((g, s), f)| (g, *s, f)))
    }

    /// The rows of one user in one group.
    pub fn rows(&self, group: &GroupId, user: &UserId) -> impl Iterator<Item = (MembershipSource, &MemberFacts)> {
        // Rows are keyed by group, then source: the group's rows are one range of the user's.
        let (first, last) = (MembershipSource::Manual, MembershipSource::Import);
        debug_assert!(MembershipSource::ALL.iter().all(|s| (first..=last).contains(s)));
        let range = (group.clone(), first)..=(group.clone(), last);
        self.memberships
            .get(user)
            .into_iter()
            .flat_map(move |rows| rows.range(range.clone()).map(|((_, s), f)| (*s, f)))
    }

    /// Users with at least one row in a group, in no particular order.
    pub fn members_of(&self, group: &GroupId) -> impl Iterator<Item = &UserId> {
        self.members.get(group).into_iter().flatten()
    }

    /// A role's facts.
    pub fn role(&self, id: &RoleId) -> Option<&RoleFacts> {
        self.roles.get(id)
    }

    /// Roles assigned directly to a user.
    pub fn roles_of_user(&self, user: &UserId) -> &BTreeSet<RoleId> {
        self.user_roles.get(user).unwrap_or(&EMPTY_ROLES)
    }

    /// Roles assigned to a group.
    pub fn roles_of_group(&self, group: &GroupId) -> &BTreeSet<RoleId> {
        self.group_roles.get(group).unwrap_or(&EMPTY_ROLES)
    }
}
