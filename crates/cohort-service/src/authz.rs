//! Authorization: the one place each use case's permission is decided, and the one rule every
//! change passes before it commits: it may confer only what its actor holds. A write can only
//! be committed with the [`Allowed`] proof that comes out of these checks.

use super::Live;
use super::{Actor, Ctx};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::conferral::Held;
use cohort_core::index::{AccessIndex, Footprint, Verdict};
use cohort_core::model::{MemberRole, Subject, TokenScope};
use cohort_core::permission::{CohortPermission, Permission, covers, governs_cohort};
use cohort_core::resolve::check_permission;
use cohort_core::state::TenantState;
use cohort_core::{GroupId, TenantId, Timestamp, UserId};
use rustc_hash::{FxHashMap, FxHashSet};

/// Proof that a change to one tenant was authorised: which tenant, on whose behalf, and on what
/// grounds. Only this module makes one; a change hands out its writer only once given a proof
/// for its own tenant ([`super::Change::allow`]), and the conferral rule ([`Conferral`]) bounds
/// what the change may confer by what the proof's actor holds.
#[derive(Debug)]
pub struct Allowed {
    tenant: TenantId,
    by: Option<Actor>,
    /// Whether an identity provider makes the change (through SCIM), rather than a person.
    automated: bool,
    grounds: Grounds,
}

/// What allowed a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grounds {
    /// The actor holds this cohort permission.
    Holds(CohortPermission),
    /// The actor manages this group.
    Manages(GroupId),
    /// The change is to the actor's own credential.
    Own,
    /// A system token manages tenants.
    System,
    /// The tenant is seeded on first start.
    FirstStart,
    /// The server's own scheduled work (the expiry sweep).
    Scheduled,
    /// An operator with access to the database (`cohort admin-token`).
    Offline,
    /// A person signing in: their provider's groups synced, their session opened.
    SignIn,
}

impl Allowed {
    fn by(ctx: &Ctx, grounds: Grounds) -> Self {
        Self {
            tenant: ctx.tenant().clone(),
            by: Some(ctx.principal.actor.clone()),
            automated: ctx.principal.scope == TokenScope::Scim,
            grounds,
        }
    }

    /// The proof for work nobody asked for through the API: seeding a tenant on first start.
    pub fn first_start(tenant: &TenantId) -> Self {
        Self { tenant: tenant.clone(), by: None, automated: false, grounds: Grounds::FirstStart }
    }

    /// The proof for work the server schedules itself: removing expired memberships.
    pub fn scheduled(tenant: &TenantId) -> Self {
        Self { tenant: tenant.clone(), by: None, automated: false, grounds: Grounds::Scheduled }
    }

    /// The proof for an operator's command run against the database itself.
    pub fn offline(tenant: &TenantId) -> Self {
        Self { tenant: tenant.clone(), by: None, automated: false, grounds: Grounds::Offline }
    }

    /// The proof for a sign-in: the identity provider's word (bounded like SCIM's: it never
    /// gives a `cohort:` permission) and the session it opens.
    pub fn sign_in(tenant: &TenantId) -> Self {
        Self { tenant: tenant.clone(), by: None, automated: true, grounds: Grounds::SignIn }
    }

    /// The proof for a system token's management of `tenant` (creating it).
    pub fn system(ctx: &Ctx, tenant: &TenantId) -> ServiceResult<Self> {
        require_system(ctx)?;
        Ok(Self { tenant: tenant.clone(), ..Self::by(ctx, Grounds::System) })
    }

    /// The tenant the proof is for.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Who the change acts for (none for the server's own work).
    pub fn actor(&self) -> Option<&Actor> {
        self.by.as_ref()
    }

    /// The user the change acts for, for the `by` of what it makes (none for an app and for
    /// the server's own work: the audit log names the app).
    pub fn by_user(&self) -> Option<&UserId> {
        self.by.as_ref().and_then(Actor::user)
    }

    /// What allowed the change.
    pub fn grounds(&self) -> &Grounds {
        &self.grounds
    }
}

/// Refuses a caller without a system token.
pub fn require_system(ctx: &Ctx) -> ServiceResult<()> {
    if ctx.principal.system { Ok(()) } else { Err(ServiceError::Forbidden("this needs a system token".to_owned())) }
}

/// Whether `user` holds `permission` at `now`: from the index, or from the reference
/// resolution when the user's index entry has passed a membership's expiry.
pub fn allows(live: &Live, user: &UserId, permission: &str, now: Timestamp) -> bool {
    match live.index.check_permission(&live.state, user, permission, now) {
        Verdict::Stale => check_permission(&live.state, user, permission, now).allowed,
        v => v.allowed(),
    }
}

/// Whether `actor` holds `permission` at `now`: a user by their groups and roles, an app by
/// its registration.
fn actor_allows(live: &Live, actor: &Actor, permission: &str, now: Timestamp) -> bool {
    match actor {
        Actor::User(user) => allows(live, user, permission, now),
        Actor::App { permissions, .. } => permissions.iter().any(|p| covers(p.as_str(), permission)),
    }
}

/// What `actor` holds, as the conferral rule compares it.
fn actor_held(live: &Live, actor: &Actor) -> Held {
    match actor {
        Actor::User(user) => live.index.held(user),
        Actor::App { permissions, .. } => {
            Held { permissions: permissions.iter().map(|p| p.as_str().to_owned()).collect(), ..Held::default() }
        }
    }
}

/// The caller's effective cohort permissions, decided against one revision of the tenant.
pub struct Guard<'a> {
    ctx: &'a Ctx,
    live: &'a Live,
    now: Timestamp,
}

impl<'a> Guard<'a> {
    pub fn new(ctx: &'a Ctx, live: &'a Live, now: Timestamp) -> Self {
        Self { ctx, live, now }
    }

    /// Whether the caller holds `wanted` (a held `cohort:*` covers `cohort:groups.read`).
    pub fn holds(&self, wanted: &str) -> bool {
        actor_allows(self.live, &self.ctx.principal.actor, wanted, self.now)
    }

    /// Whether the caller holds a cohort permission.
    pub fn can(&self, p: CohortPermission) -> bool {
        self.holds(p.as_str())
    }

    /// Allows the caller if they hold `p`.
    pub fn require(&self, p: CohortPermission) -> ServiceResult<Allowed> {
        if self.can(p) {
            Ok(Allowed::by(self.ctx, Grounds::Holds(p)))
        } else {
            Err(ServiceError::Forbidden(format!("this needs the `{}` permission", p.as_str())))
        }
    }

    /// Whether the caller manages `group` through a live manager membership of an active group.
    pub fn manages(&self, group: &GroupId) -> bool {
        let Some(user) = self.ctx.user() else { return false };
        let state = &self.live.state;
        state.group(group).is_some_and(|g| g.active)
            && state.rows(group, user).any(|(_, f)| f.role == MemberRole::Manager && f.is_live(self.now))
    }

    /// The groups the caller manages, as [`Self::manages`] decides.
    pub fn managed(&self) -> impl Iterator<Item = &'a GroupId> + 'a {
        let (state, now) = (&self.live.state, self.now);
        let rows = self.ctx.user().into_iter().flat_map(move |user| state.memberships_of(user));
        rows.filter_map(move |(g, _, f)| {
            (f.role == MemberRole::Manager && f.is_live(now) && state.group(g).is_some_and(|g| g.active)).then_some(g)
        })
    }

    /// Allows a caller to act on what is their own (their tokens): refused for what is
    /// another user's.
    pub fn require_self(&self, owner: &UserId) -> ServiceResult<Allowed> {
        if self.ctx.is_user(owner) {
            Ok(Allowed::by(self.ctx, Grounds::Own))
        } else {
            Err(ServiceError::Forbidden("this belongs to another user".to_owned()))
        }
    }

    /// Allows the caller if they hold `p` or manage `group`.
    pub fn require_or_manager(&self, p: CohortPermission, group: &GroupId) -> ServiceResult<Allowed> {
        if self.can(p) {
            self.require(p)
        } else if self.manages(group) {
            Ok(Allowed::by(self.ctx, Grounds::Manages(group.clone())))
        } else {
            self.require(p)
        }
    }

    /// Refuses unless the caller holds all that `group` gives its members (tenant admins hold
    /// everything): for a change that makes members later, on someone else's word (a provider
    /// group mapped onto the group brings its members in at their next sign-in).
    pub fn require_holds_what(&self, group: &GroupId) -> ServiceResult<()> {
        if self.can(CohortPermission::Admin) {
            return Ok(());
        }
        let lacking = actor_held(self.live, &self.ctx.principal.actor).lacking(&self.live.index.group_held(group));
        if lacking.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "this group gives {} that you do not hold; nobody may confer what they do not hold",
                describe(&self.live.state, &lacking)
            )))
        }
    }

    /// Allows reading what a group holds (readers and its managers) or what a user holds
    /// directly (readers and the user themself).
    pub fn require_read_of(&self, subject: &Subject) -> ServiceResult<Allowed> {
        match subject {
            Subject::Group(g) => self.require_or_manager(CohortPermission::GroupsRead, g),
            Subject::User(u) if self.ctx.is_user(u) => self.require_self(u),
            Subject::User(_) => self.require(CohortPermission::UsersRead),
        }
    }

    /// Refuses to let the caller grant permissions they do not hold themselves (admins may).
    pub fn require_grantable<'p>(&self, perms: impl IntoIterator<Item = &'p Permission>) -> ServiceResult<()> {
        if self.can(CohortPermission::Admin) {
            return Ok(());
        }
        let lacking: Vec<&str> =
            perms.into_iter().filter(|p| !self.holds(p.as_str())).map(Permission::as_str).collect();
        if lacking.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "you cannot grant permissions you do not hold: `{}`",
                lacking.join("`, `")
            )))
        }
    }
}

/// The conferral rule, judged around one change as it is applied to the live view: every user
/// the change may affect is compared before and after, and the change is refused when
/// - it gives anyone a permission or a level that its actor did not hold before it, or makes a
///   group give one to its members (present and future: a role on an empty group counts), that
///   the actor does not hold (tenant admins and the server's own work excepted),
/// - an identity provider makes it (SCIM) and it gives anyone a `cohort:` permission, by a
///   membership or a nesting edge, or
/// - it leaves a membership from an automated source (rule, SCIM, SSO) in a group that confers
///   a `cohort:` permission, directly or through an ancestor, where none was before (whoever
///   acts: an admin assigning a role to a group filled by SCIM is refused too).
///
/// The caller drives it: [`Self::start`] on the state before the change, [`Self::note_before`]
/// once the change's facts are applied but the index is not yet refreshed, [`Self::decide`]
/// after the refresh.
pub struct Conferral {
    /// What the actor holds, when the change is bounded by it.
    actor: Option<Held>,
    /// Whether an identity provider makes the change.
    automated: bool,
    /// Users' holdings before the change.
    before: FxHashMap<UserId, Held>,
    /// What groups gave their members before the change.
    groups_before: FxHashMap<GroupId, Held>,
    /// Automated rows in cohort-conferring groups before the change.
    automated_before: FxHashSet<(UserId, GroupId)>,
}

/// Why the conferral rule refused a change.
#[derive(Debug)]
pub struct Refusal {
    /// What the actor lacks, for the answer and the audit log.
    pub detail: String,
}

impl Conferral {
    /// Reads what the actor holds and the automated rows of the users in `footprint` (the
    /// change's footprint on the state before it); the index must be fresh as of `now`.
    pub fn start(proof: &Allowed, live: &Live, footprint: &Footprint, now: Timestamp) -> Self {
        let actor = proof
            .actor()
            .filter(|a| !actor_allows(live, a, CohortPermission::Admin.as_str(), now))
            .map(|a| actor_held(live, a));
        let automated_before = automated_in_cohort_groups(&live.state, &live.index, footprint, now);
        Self {
            actor,
            automated: proof.automated,
            before: FxHashMap::default(),
            groups_before: FxHashMap::default(),
            automated_before,
        }
    }

    fn compares(&self) -> bool {
        self.actor.is_some() || self.automated
    }

    /// Reads what the users of `footprint` held before the change, from an index that does
    /// not reflect it yet (needed only when the change is bounded).
    pub fn note_before(&mut self, index: &AccessIndex, footprint: &Footprint) {
        if self.compares() {
            self.before = footprint.user_ids().map(|u| (u.clone(), index.held(u))).collect();
            self.groups_before = footprint.group_ids().map(|g| (g.clone(), index.group_held(g))).collect();
        }
    }

    /// Decides the change from the live view after it.
    pub fn decide(self, live: &Live, footprint: &Footprint, now: Timestamp) -> Result<(), Refusal> {
        let state = &live.state;
        let automated = automated_in_cohort_groups(state, &live.index, footprint, now);
        if let Some((_, g)) = automated.iter().find(|row| !self.automated_before.contains(*row)) {
            let name = state.group(g).map_or_else(|| g.to_string(), |f| f.name.clone());
            return Err(Refusal {
                detail: format!(
                    "a member would hold `cohort:` permissions through an automated (rule, SCIM or SSO) membership \
                     of the group {name}; only people can be given cohort's own permissions"
                ),
            });
        }
        if !self.compares() {
            return Ok(());
        }
        let mut conferred = Held::default();
        for u in footprint.user_ids() {
            let after = live.index.held(u);
            let gained = match self.before.get(u) {
                Some(before) => after.gained_since(before),
                None => after,
            };
            conferred.merge(gained);
        }
        for g in footprint.group_ids() {
            let after = live.index.group_held(g);
            conferred.merge(match self.groups_before.get(g) {
                Some(before) => after.gained_since(before),
                None => after,
            });
        }
        if self.automated {
            let cohort: Vec<String> =
                conferred.permissions.iter().filter(|p| governs_cohort(p)).map(|p| format!("`{p}`")).collect();
            if !cohort.is_empty() {
                return Err(Refusal {
                    detail: format!(
                        "this change would give {}: an identity provider's changes never give cohort's own permissions",
                        cohort.join(", ")
                    ),
                });
            }
        }
        let Some(actor) = self.actor else { return Ok(()) };
        let lacking = actor.lacking(&conferred);
        if lacking.is_empty() {
            return Ok(());
        }
        Err(Refusal {
            detail: format!(
                "this change would give {} that you do not hold; nobody may confer what they do not hold",
                describe(state, &lacking)
            ),
        })
    }
}

/// What `held` names, as a refusal says it: permissions, then levels on resources.
fn describe(state: &TenantState, held: &Held) -> String {
    let mut what: Vec<String> = held.permissions.iter().map(|p| format!("`{p}`")).collect();
    for (r, rank) in &held.levels {
        let level = state
            .resource_levels(r)
            .and_then(|l| l.as_slice().get(usize::from(*rank)))
            .map_or_else(|| rank.to_string(), |k| k.as_str().to_owned());
        what.push(match state.resource(r) {
            Some(f) => format!("level `{level}` on {}", f.name),
            None => format!("level `{level}` on resource `{r}`"),
        });
    }
    what.join(", ")
}

/// The live automated membership rows of `footprint`'s users that sit in a group conferring a
/// `cohort:` permission.
fn automated_in_cohort_groups(
    state: &TenantState,
    index: &AccessIndex,
    footprint: &Footprint,
    now: Timestamp,
) -> FxHashSet<(UserId, GroupId)> {
    let mut memo: FxHashMap<&GroupId, bool> = FxHashMap::default();
    let mut out = FxHashSet::default();
    for u in footprint.user_ids() {
        for (g, source, facts) in state.memberships_of(u) {
            if source.is_automated() && facts.is_live(now) && *memo.entry(g).or_insert_with(|| index.confers_cohort(g))
            {
                out.insert((u.clone(), g.clone()));
            }
        }
    }
    out
}
