//! Reading the audit log.

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
        Ok(self.read_holding(ctx, P::AuditRead).await?.list_audit(tenant, filter).await?)
    }
}
