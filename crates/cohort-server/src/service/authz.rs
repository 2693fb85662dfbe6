//! Authorization: the one place each use case's permission is decided. A write can only be
//! committed with the [`Allowed`] proof that comes out of these checks.

use super::Ctx;
use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::MemberRole;
use cohort_core::permission::{CohortPermission, Permission};
use cohort_core::resolve::resolve;
use cohort_core::state::TenantState;
use cohort_core::{GroupId, TenantId, Timestamp};

/// Proof that the caller was authorised for the change being committed.
#[derive(Debug)]
pub(crate) struct Allowed(());

impl Allowed {
    /// The proof for work nobody asked for through the API: seeding a tenant on first start.
    pub(crate) fn first_start() -> Self {
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

/// Refuses a tenant other than the caller's, as if it did not exist.
pub(crate) fn scope<'a>(ctx: &Ctx, tenant: &'a TenantId) -> ServiceResult<&'a TenantId> {
    if ctx.tenant() == tenant { Ok(tenant) } else { Err(ServiceError::NotFound(format!("tenant `{tenant}`"))) }
}

/// The caller's effective cohort permissions, decided against one revision's facts.
pub(crate) struct Guard<'a> {
    ctx: &'a Ctx,
    state: &'a TenantState,
    now: Timestamp,
    held: Vec<Permission>,
}

impl<'a> Guard<'a> {
    pub(crate) fn new(ctx: &'a Ctx, state: &'a TenantState, now: Timestamp) -> Self {
        let held = resolve(state, &ctx.principal.user, now).permissions.into_iter().map(|p| p.permission).collect();
        Self { ctx, state, now, held }
    }

    /// Whether the caller holds `wanted`.
    pub(crate) fn holds(&self, wanted: &str) -> bool {
        self.held.iter().any(|p| p.covers(wanted))
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
        self.state.group(group).is_some_and(|g| g.active)
            && self.state.rows(group, user).any(|(_, f)| f.role == MemberRole::Manager && f.is_live(self.now))
    }

    /// Allows a caller to act on what is their own (their tokens).
    pub(crate) fn require_self(&self) -> Allowed {
        Allowed(())
    }

    /// Allows the caller if they hold `p` or manage `group`.
    pub(crate) fn require_or_manager(&self, p: CohortPermission, group: &GroupId) -> ServiceResult<Allowed> {
        if self.can(p) || self.manages(group) { Ok(Allowed(())) } else { self.require(p) }
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
