//! Reading the audit log.

use super::authz::Guard;
use super::{Ctx, Services};
use crate::error::ServiceResult;
use cohort_core::permission::CohortPermission as P;
use cohort_store::{AuditFilter, AuditRecord};

/// Which events to read.
pub type AuditQuery = AuditFilter;

impl Services {
    /// Audit events, newest first: needs `cohort:audit.read`.
    pub async fn list_audit(&self, ctx: &Ctx, filter: &AuditQuery) -> ServiceResult<Vec<AuditRecord>> {
        let tenant = ctx.tenant();
        let snap = self.live(tenant).await?;
        let proof = Guard::new(ctx, &snap, self.now()).require(P::AuditRead)?;
        Ok(self.vault.read(&proof).await?.list_audit(tenant, filter).await?)
    }
}
