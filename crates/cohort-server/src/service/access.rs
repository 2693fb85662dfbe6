//! Access questions: what may a user do and why, who is in a group, may this user do X.

use super::authz::{Guard, scope};
use super::{Ctx, Services};
use crate::error::{ServiceError, ServiceResult};
use crate::view::{AccessView, EffectiveGroupView};
use cohort_core::permission::CohortPermission as P;
use cohort_core::resolve::{Decision, check_permission, effective_members, resolve};
use cohort_core::{GroupId, TenantId, UserId};

/// One question: may `user_id` do `permission`? Both are taken as given text, so that an
/// unknown or malformed value is a denial, never an error.
#[derive(Clone, Debug)]
pub struct CheckInput {
    /// The user's id.
    pub user_id: String,
    /// The permission wanted.
    pub permission: String,
}

/// The answer to one check.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    /// The decision.
    pub decision: Decision,
    /// The revision it reflects.
    pub revision: i64,
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
    pub async fn access(&self, ctx: &Ctx, tenant: &TenantId, user: &UserId) -> ServiceResult<AccessView> {
        let tenant = scope(ctx, tenant)?;
        let snap = self.snapshot(tenant).await?;
        let now = self.now();
        if &ctx.principal.user != user {
            Guard::new(ctx, &snap.state, now).require(P::AccessRead)?;
        }
        let facts = snap.state.user(user).ok_or_else(|| ServiceError::NotFound(format!("user `{user}`")))?;
        let access = resolve(&snap.state, user, now);
        Ok(AccessView::new(
            user,
            snap.revision,
            facts.active,
            &access,
            |g| snap.state.group(g).map(|f| f.name.clone()).unwrap_or_default(),
            |r| snap.state.role(r).map(|f| f.name.clone()).unwrap_or_default(),
        ))
    }

    /// A user's effective groups, direct and inherited.
    pub async fn user_groups(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        user: &UserId,
    ) -> ServiceResult<Vec<EffectiveGroupView>> {
        Ok(self.access(ctx, tenant, user).await?.groups)
    }

    /// Every user effectively in a group: needs `cohort:groups.read` or to manage it.
    pub async fn effective_members(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
    ) -> ServiceResult<(i64, Vec<EffectiveMemberRow>)> {
        let tenant = scope(ctx, tenant)?;
        let snap = self.snapshot(tenant).await?;
        snap.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        Guard::new(ctx, &snap.state, self.now()).require_or_manager(P::GroupsRead, group)?;
        let rows = effective_members(&snap.state, group, self.now())
            .into_iter()
            .map(|m| EffectiveMemberRow { user_id: m.user, direct: m.direct, through: m.through })
            .collect();
        Ok((snap.revision, rows))
    }

    /// Answers checks; deny by default. Asking about another user needs `cohort:access.read`.
    pub async fn check(&self, ctx: &Ctx, tenant: &TenantId, inputs: &[CheckInput]) -> ServiceResult<Vec<CheckOutcome>> {
        let tenant = scope(ctx, tenant)?;
        let snap = self.snapshot(tenant).await?;
        let now = self.now();
        let guard = Guard::new(ctx, &snap.state, now);
        if inputs.iter().any(|i| i.user_id != ctx.principal.user.as_str()) {
            guard.require(P::AccessRead)?;
        }
        Ok(inputs
            .iter()
            .map(|i| {
                let decision = match UserId::parse(&i.user_id) {
                    Ok(user) => check_permission(&snap.state, &user, &i.permission, now),
                    Err(_) => Decision { allowed: false, reason: format!("user `{}` not found", i.user_id) },
                };
                CheckOutcome { decision, revision: snap.revision }
            })
            .collect())
    }
}
