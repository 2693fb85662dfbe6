//! Authorization: the one place each use case's permission is decided. A write can only be
//! committed with the [`Allowed`] proof that comes out of these checks.

use super::Ctx;
use super::Live;
use crate::error::{ServiceError, ServiceResult};
use cohort_core::index::Verdict;
use cohort_core::model::{MemberRole, Subject};
use cohort_core::permission::{CohortPermission, Permission};
use cohort_core::resolve::check_permission;
use cohort_core::{GroupId, TenantId, Timestamp, UserId};

/// Proof that the caller was authorised for the change being committed.
#[derive(Debug)]
pub(crate) struct Allowed(());

impl Allowed {
    /// The proof for work nobody asked for through the API: seeding a tenant on first start.
    pub(crate) fn first_start() -> Self {
        Self(())
    }

    /// The proof for work the server schedules itself: removing expired memberships.
    pub(crate) fn scheduled() -> Self {
        Self(())
    }

    /// The proof for a system token's tenant management.
    pub(crate) fn system(ctx: &Ctx) -> ServiceResult<Self> {
        if ctx.principal.system {
            Ok(Self(()))
        } else {
            Err(ServiceError::Forbidden("this needs a system token".to_owned()))
        }
    }
}

/// Whether `user` holds `permission` at `now`: from the index, or from the reference
/// resolution when the user's index entry has passed a membership's expiry.
pub(crate) fn allows(live: &Live, user: &UserId, permission: &str, now: Timestamp) -> bool {
    match live.index.check_permission(&live.state, user, permission, now) {
        Verdict::Stale => check_permission(&live.state, user, permission, now).allowed,
        v => v.allowed(),
    }
}

/// Refuses a tenant other than the caller's, as if it did not exist.
pub(crate) fn scope<'a>(ctx: &Ctx, tenant: &'a TenantId) -> ServiceResult<&'a TenantId> {
    if ctx.tenant() == tenant { Ok(tenant) } else { Err(ServiceError::NotFound(format!("tenant `{tenant}`"))) }
}

/// The caller's effective cohort permissions, decided against one revision of the tenant.
pub(crate) struct Guard<'a> {
    ctx: &'a Ctx,
    live: &'a Live,
    now: Timestamp,
}

impl<'a> Guard<'a> {
    pub(crate) fn new(ctx: &'a Ctx, live: &'a Live, now: Timestamp) -> Self {
        Self { ctx, live, now }
    }

    /// Whether the caller holds `wanted` (a held `cohort:*` covers `cohort:groups.read`).
    pub(crate) fn holds(&self, wanted: &str) -> bool {
        allows(self.live, &self.ctx.principal.user, wanted, self.now)
    }

    /// Whether the caller holds a cohort permission.
    pub(crate) fn can(&self, p: CohortPermission) -> bool {
        self.holds(p.as_str())
    }

    /// Allows the caller if they hold `p`.
    pub(crate) fn require(&self, p: CohortPermission) -> ServiceResult<Allowed> {
        if self.can(p) {
            Ok(Allowed(()))
        } else {
            Err(ServiceError::Forbidden(format!("this needs the `{}` permission", p.as_str())))
        }
    }

    /// Whether the caller manages `group` through a live manager membership of an active group.
    pub(crate) fn manages(&self, group: &GroupId) -> bool {
        let user = &self.ctx.principal.user;
        let state = &self.live.state;
        state.group(group).is_some_and(|g| g.active)
            && state.rows(group, user).any(|(_, f)| f.role == MemberRole::Manager && f.is_live(self.now))
    }

    /// Allows a caller to act on what is their own (their tokens).
    pub(crate) fn require_self(&self) -> Allowed {
        Allowed(())
    }

    /// Allows the caller if they hold `p` or manage `group`.
    pub(crate) fn require_or_manager(&self, p: CohortPermission, group: &GroupId) -> ServiceResult<Allowed> {
        if self.can(p) || self.manages(group) { Ok(Allowed(())) } else { self.require(p) }
    }

    /// Allows reading what a group holds (readers and its managers) or what a user holds
    /// directly (readers and the user themself).
    pub(crate) fn require_read_of(&self, subject: &Subject) -> ServiceResult<()> {
        match subject {
            Subject::Group(g) => self.require_or_manager(CohortPermission::GroupsRead, g).map(drop),
            Subject::User(u) if u == &self.ctx.principal.user => Ok(()),
            Subject::User(_) => self.require(CohortPermission::UsersRead).map(drop),
        }
    }

    /// Refuses to let the caller grant permissions they do not hold themselves (admins may).
    pub(crate) fn require_grantable<'p>(&self, perms: impl IntoIterator<Item = &'p Permission>) -> ServiceResult<()> {
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
