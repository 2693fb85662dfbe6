//! Access questions: what may a user do and why, who is in a group, may this user do X.

use super::Live;
use super::authz::Guard;
use super::{Ctx, Services};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::index::{Denial, Touched, Verdict};
use cohort_core::model::Subject;
use cohort_core::permission::CohortPermission as P;
use cohort_core::resolve::{
    Decision, EffectivePermission, EffectiveScope, GroupPath, Via, check_level, check_permission, describe_path,
    describe_via, effective_member_counts, effective_members, path_to, resolve, users_reached, write_path,
};
use cohort_core::state::TenantState;
use cohort_core::{GroupId, ResourceId, RoleId, Timestamp, UserId};

/// What a change that gives or takes access is made to, for counting whom it reaches.
#[derive(Clone, Debug)]
pub enum Reach {
    /// Groups: their members and those of the groups below them.
    Groups(Vec<GroupId>),
    /// One user.
    User(UserId),
    /// Members of a group (its readers and managers count them).
    Members(GroupId, Vec<UserId>),
    /// A role: whoever holds it.
    Role(RoleId),
    /// A resource: whoever holds a level on it.
    Resource(ResourceId),
}

/// How many users a change reaches, counted at one revision.
#[derive(Clone, Copy, Debug)]
pub struct Reached {
    /// Users whose access it changes: the active users it reaches, and a user it names even
    /// while suspended (unsuspending one reaches them).
    pub users: usize,
    /// The revision counted at.
    pub revision: i64,
}

/// One question, taken as given text so that an unknown or malformed value is a denial,
/// never an error.
#[derive(Clone, Debug)]
pub enum CheckInput {
    /// May `user_id` do `permission`?
    Permission {
        /// The user's id.
        user_id: String,
        /// The permission wanted.
        permission: String,
    },
    /// Does `user_id` hold at least `level` on `resource_id`?
    Level {
        /// The user's id.
        user_id: String,
        /// The resource's id.
        resource_id: String,
        /// The level wanted.
        level: String,
    },
}

impl CheckInput {
    fn user_id(&self) -> &str {
        match self {
            Self::Permission { user_id, .. } | Self::Level { user_id, .. } => user_id,
        }
    }
}

/// Answers one check from the index (or the reference resolution when the user's entry has
/// passed a membership's expiry), with the reason in words.
fn decide(live: &Live, input: &CheckInput, now: Timestamp) -> Decision {
    let deny = |reason: String| Decision { allowed: false, reason };
    let Ok(user) = UserId::parse(input.user_id()) else {
        return deny(format!("user `{}` not found", input.user_id()));
    };
    let state = &live.state;
    match input {
        CheckInput::Permission { permission, .. } => match live.index.check_permission(state, &user, permission, now) {
            Verdict::ByRole(role, group) => {
                let name = state.role(role).map(|r| r.name.as_str()).unwrap_or_default();
                let mut reason = format!("`{permission}` from role `{name}` ({role}) ");
                provenance(&mut reason, state, &user, group, now, "assigned directly");
                Decision { allowed: true, reason }
            }
            Verdict::Stale => check_permission(state, &user, permission, now),
            Verdict::Denied(why) => deny(denial(why, &user, || format!("no effective role grants `{permission}`"))),
            Verdict::ByGrant(..) => deny(format!("no effective role grants `{permission}`")),
        },
        CheckInput::Level { resource_id, level, .. } => {
            let Ok(resource) = ResourceId::parse(resource_id) else {
                return deny(format!("resource `{resource_id}` not found"));
            };
            match live.index.check_level(state, &user, &resource, level, now) {
                Verdict::ByGrant(rank, source) => {
                    let held = state
                        .resource_levels(&resource)
                        .and_then(|l| l.as_slice().get(usize::from(rank)))
                        .map(|l| l.as_str())
                        .unwrap_or_default();
                    let mut reason = format!("`{held}` on `{resource}` granted ");
                    provenance(&mut reason, state, &user, source, now, "directly");
                    Decision { allowed: true, reason }
                }
                Verdict::Stale => check_level(state, &user, &resource, level, now),
                Verdict::Denied(why) => deny(match why {
                    Denial::UnknownResource => format!("resource `{resource}` not found"),
                    Denial::UnknownLevel => format!("`{level}` is not a level of resource `{resource}`"),
                    other => denial(other, &user, || format!("no grant gives `{level}` on `{resource}`")),
                }),
                Verdict::ByRole(..) => deny(format!("no grant gives `{level}` on `{resource}`")),
            }
        }
    }
}

/// Appends how an allowed check's role or grant reaches the user: the whole path from the
/// group they are in to `group`, which gives it (found only once the index has allowed the
/// check, over the user's own groups), or `direct` when it was given to them.
fn provenance(
    out: &mut String,
    state: &TenantState,
    user: &UserId,
    group: Option<&GroupId>,
    now: Timestamp,
    direct: &str,
) {
    match group {
        Some(g) => match path_to(state, user, g, now) {
            Some(path) => write_path(out, state, &path),
            // INVARIANT: the index allowed the check through `g`, so a path exists; should it
            // not, the group alone is still the truth.
            None => {
                let name = state.group(g).map(|f| f.name.as_str()).unwrap_or_default();
                out.push_str(&format!("via group {name} ({g})"));
            }
        },
        None => out.push_str(direct),
    }
}

fn denial(why: Denial, user: &UserId, otherwise: impl Fn() -> String) -> String {
    match why {
        Denial::UnknownUser => format!("user `{user}` not found"),
        Denial::Suspended => format!("user `{user}` is suspended"),
        _ => otherwise(),
    }
}

/// The answer to one check.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    /// The decision.
    pub decision: Decision,
    /// The revision it reflects.
    pub revision: i64,
}

/// A user's effective access as every face shows it: the facts, each with its name, and every
/// path that gives something with its words.
#[derive(Clone, Debug)]
pub struct UserAccess {
    /// The user.
    pub user: UserId,
    /// The revision this answer reflects.
    pub revision: i64,
    /// Whether the user is active; a suspended user holds nothing.
    pub active: bool,
    /// Effective groups, direct and inherited, by id.
    pub groups: Vec<GroupAccess>,
    /// Effective roles, by id.
    pub roles: Vec<RoleAccess>,
    /// Effective permissions, sorted, with the roles that give each.
    pub permissions: Vec<EffectivePermission>,
    /// Effective levels on resources, by resource.
    pub levels: Vec<LevelAccess>,
    /// Effective data scopes: per key, the union of the values of every effective group.
    pub scopes: Vec<EffectiveScope>,
}

/// A path of groups and its words.
#[derive(Clone, Debug)]
pub struct PathWords {
    /// The path.
    pub path: GroupPath,
    /// It, in words.
    pub words: String,
}

/// Where something comes from, in words: directly (no path) or through a group path.
#[derive(Clone, Debug)]
pub struct ViaWords {
    /// The group path, when it comes through one.
    pub path: Option<PathWords>,
    /// Where it comes from, in words.
    pub words: String,
}

/// A group the user is effectively in.
#[derive(Clone, Debug)]
pub struct GroupAccess {
    /// The group.
    pub group: GroupId,
    /// Its name.
    pub name: String,
    /// Whether the user is in the group itself.
    pub direct: bool,
    /// The paths that reach it.
    pub paths: Vec<PathWords>,
}

/// A role the user effectively holds.
#[derive(Clone, Debug)]
pub struct RoleAccess {
    /// The role.
    pub role: RoleId,
    /// Its name.
    pub name: String,
    /// Where it comes from.
    pub via: Vec<ViaWords>,
}

/// The level a user effectively holds on a resource.
#[derive(Clone, Debug)]
pub struct LevelAccess {
    /// The resource.
    pub resource: ResourceId,
    /// Its name.
    pub name: String,
    /// The most permissive level held.
    pub level: String,
    /// Every grant that contributes: its level and where it comes from.
    pub via: Vec<(String, ViaWords)>,
}

impl PathWords {
    fn new(state: &TenantState, p: &GroupPath) -> Self {
        Self { path: p.clone(), words: describe_path(state, p) }
    }
}

impl ViaWords {
    fn new(state: &TenantState, v: &Via) -> Self {
        let path = match v {
            Via::Direct => None,
            Via::Group(p) => Some(PathWords::new(state, p)),
        };
        Self { path, words: describe_via(state, v) }
    }
}

impl UserAccess {
    /// `user`'s access at `now` in `live`, named from its state.
    fn new(live: &Live, user: &UserId, now: Timestamp) -> Self {
        let state = &live.state;
        let a = resolve(state, user, now);
        let group_name = |g: &GroupId| state.group(g).map(|f| f.name.clone()).unwrap_or_default();
        let role_name = |r: &RoleId| state.role(r).map(|f| f.name.clone()).unwrap_or_default();
        let levels = a
            .levels
            .iter()
            .map(|l| {
                let names = state.resource_levels(&l.resource);
                let level = |rank: u8| {
                    names
                        .and_then(|ls| ls.as_slice().get(usize::from(rank)))
                        .map(ToString::to_string)
                        .unwrap_or_default()
                };
                LevelAccess {
                    resource: l.resource.clone(),
                    name: state.resource(&l.resource).map(|r| r.name.clone()).unwrap_or_default(),
                    level: level(l.rank),
                    via: l.via.iter().map(|(rank, via)| (level(*rank), ViaWords::new(state, via))).collect(),
                }
            })
            .collect();
        Self {
            user: user.clone(),
            revision: live.revision,
            active: state.user(user).is_some_and(|u| u.active),
            groups: a
                .groups
                .iter()
                .map(|g| GroupAccess {
                    group: g.group.clone(),
                    name: group_name(&g.group),
                    direct: g.direct,
                    paths: g.paths.iter().map(|p| PathWords::new(state, p)).collect(),
                })
                .collect(),
            roles: a
                .roles
                .iter()
                .map(|r| RoleAccess {
                    role: r.role.clone(),
                    name: role_name(&r.role),
                    via: r.via.iter().map(|v| ViaWords::new(state, v)).collect(),
                })
                .collect(),
            permissions: a.permissions,
            levels,
            scopes: a.scopes,
        }
    }
}

/// A user effectively in a group.
#[derive(Clone, Debug)]
pub struct EffectiveMemberRow {
    /// The user.
    pub user_id: UserId,
    /// Whether they are in the group itself.
    pub direct: bool,
    /// The groups they are directly in that lead here.
    pub through: Vec<GroupId>,
}

impl Services {
    /// A user's effective access with provenance: needs `cohort:access.read` or to be the user.
    pub async fn access(&self, ctx: &Ctx, user: &UserId, at_least: Option<i64>) -> ServiceResult<UserAccess> {
        let tenant = ctx.tenant();
        let snap = self.live_at_least(tenant, at_least).await?;
        let now = self.now();
        if !ctx.is_user(user) {
            Guard::new(ctx, &snap, now).require(P::AccessRead)?;
        }
        snap.state.user(user).ok_or_else(|| ServiceError::NotFound(format!("user `{user}`")))?;
        Ok(UserAccess::new(&snap, user, now))
    }

    /// A user's effective groups, direct and inherited.
    pub async fn user_groups(
        &self,
        ctx: &Ctx,
        user: &UserId,
        at_least: Option<i64>,
    ) -> ServiceResult<Vec<GroupAccess>> {
        Ok(self.access(ctx, user, at_least).await?.groups)
    }

    /// Every user effectively in a group: needs `cohort:groups.read` or to manage it.
    pub async fn effective_members(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        at_least: Option<i64>,
    ) -> ServiceResult<(i64, Vec<EffectiveMemberRow>)> {
        let tenant = ctx.tenant();
        let snap = self.live_at_least(tenant, at_least).await?;
        snap.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        Guard::new(ctx, &snap, self.now()).require_or_manager(P::GroupsRead, group)?;
        let rows = effective_members(&snap.state, group, self.now())
            .into_iter()
            .map(|m| EffectiveMemberRow { user_id: m.user, direct: m.direct, through: m.through })
            .collect();
        Ok((snap.revision, rows))
    }

    /// How many users are effectively in `group`: `(in it, only through groups below it)`,
    /// as [`Self::effective_members`] would list them. The same permission.
    pub async fn effective_member_counts(&self, ctx: &Ctx, group: &GroupId) -> ServiceResult<(usize, usize)> {
        let tenant = ctx.tenant();
        let snap = self.live(tenant).await?;
        snap.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        Guard::new(ctx, &snap, self.now()).require_or_manager(P::GroupsRead, group)?;
        Ok(effective_member_counts(&snap.state, group, self.now()))
    }

    /// How many users a change to `target` would give or take access from, and the revision
    /// counted at: what a person is told before confirming it (a confirmed change carries the
    /// revision, [`Ctx::confirmed_at`]). Needs the right to read `target`.
    pub async fn users_reached(&self, ctx: &Ctx, target: &Reach) -> ServiceResult<Reached> {
        let live = self.live(ctx.tenant()).await?;
        let (state, now) = (&live.state, self.now());
        let guard = Guard::new(ctx, &live, now);
        let missing = |what: String| Err(ServiceError::NotFound(what));
        let mut touched = Touched::default();
        match target {
            Reach::Groups(groups) => {
                for g in groups {
                    if state.group(g).is_none() {
                        return missing(format!("group `{g}`"));
                    }
                    guard.require_or_manager(P::GroupsRead, g)?;
                    touched.groups.insert(g.clone());
                }
            }
            Reach::User(u) => {
                if state.user(u).is_none() {
                    return missing(format!("user `{u}`"));
                }
                guard.require_read_of(&Subject::User(u.clone()))?;
                touched.users.insert(u.clone());
            }
            Reach::Members(g, users) => {
                if state.group(g).is_none() {
                    return missing(format!("group `{g}`"));
                }
                guard.require_or_manager(P::GroupsRead, g)?;
                touched.users.extend(users.iter().filter(|u| state.rows(g, u).next().is_some()).cloned());
            }
            Reach::Role(r) => {
                if state.role(r).is_none() {
                    return missing(format!("role `{r}`"));
                }
                guard.require(P::RolesRead)?;
                touched.roles.insert(r.clone());
            }
            Reach::Resource(r) => {
                if state.resource(r).is_none() {
                    return missing(format!("resource `{r}`"));
                }
                guard.require(P::ResourcesRead)?;
                touched.resources.insert(r.clone());
            }
        }
        Ok(Reached { users: users_reached(state, &touched, now), revision: live.revision })
    }

    /// Answers checks, reflecting at least revision `at_least` when given; deny by default.
    /// Asking about another user needs `cohort:access.read`.
    pub async fn check(
        &self,
        ctx: &Ctx,
        inputs: &[CheckInput],
        at_least: Option<i64>,
    ) -> ServiceResult<Vec<CheckOutcome>> {
        let tenant = ctx.tenant();
        let live = self.live_at_least(tenant, at_least).await?;
        let now = self.now();
        if inputs.iter().any(|i| ctx.user().is_none_or(|u| i.user_id() != u.as_str())) {
            Guard::new(ctx, &live, now).require(P::AccessRead)?;
        }
        Ok(inputs.iter().map(|i| CheckOutcome { decision: decide(&live, i, now), revision: live.revision }).collect())
    }
}
