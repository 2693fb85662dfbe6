//! The time zones people read times in: their own choice, else the tenant's default, else UTC.
//! Instants are kept and answered in UTC everywhere; a zone only changes how a page says them.

use super::authz::Guard;
use super::{Ctx, Services, Written};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::ZoneName;
use cohort_core::model::User;
use cohort_core::permission::CohortPermission as P;

/// A signed-in user as pages show them: the user and the zone they read times in.
#[derive(Clone, Debug)]
pub struct Reader {
    /// The user.
    pub user: User,
    /// The tenant's default zone, when it has one.
    pub tenant_zone: Option<ZoneName>,
}

impl Reader {
    /// The zone times are said in for them: their own, else the tenant's, else UTC.
    pub fn zone(&self) -> ZoneName {
        self.user.time_zone.clone().or_else(|| self.tenant_zone.clone()).unwrap_or_else(ZoneName::utc)
    }
}

impl Services {
    /// The signed-in user with the zone they read times in (a user reads their own record).
    pub async fn reader(&self, ctx: &Ctx) -> ServiceResult<Reader> {
        let user = ctx.own_user()?.clone();
        let mut r = self.read_for(ctx, |guard, _| guard.require_self(&user)).await?;
        let found = r.get_user(ctx.tenant(), &user).await?;
        let user = found.ok_or_else(|| ServiceError::NotFound("your user".to_owned()))?;
        let tenant_zone = r.tenant_by_id(ctx.tenant()).await?.and_then(|t| t.time_zone);
        Ok(Reader { user, tenant_zone })
    }

    /// The tenant's default time zone (none: UTC); needs `cohort:admin`.
    pub async fn tenant_time_zone(&self, ctx: &Ctx) -> ServiceResult<Option<ZoneName>> {
        let mut r = self.read_holding(ctx, P::Admin).await?;
        Ok(r.tenant_by_id(ctx.tenant()).await?.and_then(|t| t.time_zone))
    }

    /// Sets the tenant's default time zone, for the people who have not chosen their own;
    /// needs `cohort:admin`.
    pub async fn set_tenant_time_zone(
        &self,
        ctx: &Ctx,
        zone: Option<ZoneName>,
    ) -> ServiceResult<Written<Option<ZoneName>>> {
        self.change(ctx, async |change| {
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::Admin)?;
            change.tx.allow(proof)?;
            let tenant = change.tenant().clone();
            let before = change.tx.read().tenant_by_id(&tenant).await?.and_then(|t| t.time_zone);
            change.tx.write()?.set_time_zone(zone.as_ref()).await?;
            let name = |z: &Option<ZoneName>| serde_json::json!({ "timeZone": z.as_ref().map(ToString::to_string) });
            self.audit(
                change,
                ctx.into(),
                "tenant.time_zone",
                ("tenant", tenant.as_str()),
                Some(&name(&before)),
                Some(&name(&zone)),
            );
            Ok(zone)
        })
        .await
    }
}
