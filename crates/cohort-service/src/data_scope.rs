//! Groups' data scopes: the values a group gives its members for apps to filter data by.

use super::authz::Guard;
use super::{Ctx, Services, Written};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::GroupId;
use cohort_core::name::Scopes;
use cohort_core::permission::CohortPermission as P;

impl Services {
    /// A group's data scopes.
    pub async fn scopes(&self, ctx: &Ctx, group: &GroupId) -> ServiceResult<Scopes> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        live.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        Guard::new(ctx, &live, self.now()).require_or_manager(P::GroupsRead, group)?;
        Ok(live.state.scopes_of(group).cloned().unwrap_or_default())
    }

    /// Replaces a group's data scopes.
    pub async fn set_scopes(&self, ctx: &Ctx, group: &GroupId, scopes: Scopes) -> ServiceResult<Written<Scopes>> {
        self.change(ctx, async |change| {
            let facts =
                change.before.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?;
            change.tx.allow(proof)?;
            if !facts.active {
                return Err(crate::error::archived("groupId", &change.before.state, group));
            }
            let before = change.before.state.scopes_of(group).map(|s| s.as_map().clone()).unwrap_or_default();
            change.tx.write()?.set_scopes(group, &scopes).await?;
            change.touch_group(group);
            self.audit(
                change,
                ctx.into(),
                "group.scopes.set",
                ("group", group.as_str()),
                Some(&before),
                Some(scopes.as_map()),
            );
            Ok(scopes)
        })
        .await
    }
}
