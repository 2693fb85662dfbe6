//! The access-relevant facts of one tenant, held in memory: who is active, how groups nest,
//! who is in which group, which roles go where. Resolution and the graph rules read it; the
//! store fills it; every write keeps it in step.

use crate::id::{GroupId, RoleId, UserId};
use crate::model::{GroupSource, MemberRole, MembershipSource, Subject};
use crate::permission::Permission;
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What resolution needs to know of a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFacts {
    /// False when suspended: no effective access at all.
    pub active: bool,
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

/// One tenant's access facts.
#[derive(Clone, Debug, Default)]
pub struct TenantState {
    users: HashMap<UserId, UserFacts>,
    groups: HashMap<GroupId, GroupFacts>,
    parents: HashMap<GroupId, BTreeSet<GroupId>>,
    children: HashMap<GroupId, BTreeSet<GroupId>>,
    memberships: HashMap<UserId, BTreeMap<(GroupId, MembershipSource), MemberFacts>>,
    members: HashMap<GroupId, BTreeSet<UserId>>,
    roles: HashMap<RoleId, RoleFacts>,
    user_roles: HashMap<UserId, BTreeSet<RoleId>>,
    group_roles: HashMap<GroupId, BTreeSet<RoleId>>,
}

static EMPTY_GROUPS: BTreeSet<GroupId> = BTreeSet::new();
static EMPTY_ROLES: BTreeSet<RoleId> = BTreeSet::new();
static EMPTY_USERS: BTreeSet<UserId> = BTreeSet::new();

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
        self.groups.remove(id);
    }

    /// Adds or replaces one membership row.
    pub fn put_membership(&mut self, group: &GroupId, user: &UserId, source: MembershipSource, facts: MemberFacts) {
        self.memberships.entry(user.clone()).or_default().insert((group.clone(), source), facts);
        self.members.entry(group.clone()).or_default().insert(user.clone());
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

    /// A user's facts.
    pub fn user(&self, id: &UserId) -> Option<&UserFacts> {
        self.users.get(id)
    }

    /// A group's facts.
    pub fn group(&self, id: &GroupId) -> Option<&GroupFacts> {
        self.groups.get(id)
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
        self.memberships_of(user).filter(move |(g, _, _)| *g == group).map(|(_, s, f)| (s, f))
    }

    /// Users with at least one row in a group.
    pub fn members_of(&self, group: &GroupId) -> &BTreeSet<UserId> {
        self.members.get(group).unwrap_or(&EMPTY_USERS)
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
