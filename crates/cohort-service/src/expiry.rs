//! Expiry: clearing away membership rows whose `expiresAt` has passed. The worker room's
//! sweeper calls it on a schedule; access itself already stopped at the expiry.

use super::snapshot::MembershipSnapshot;
use super::{Services, authz::Allowed};
use crate::error::ServiceResult;
use cohort_core::TenantId;

/// Expired rows removed per change; a larger backlog takes several changes.
const SWEEP_BATCH: i64 = 1000;

impl Services {
    /// Removes the membership rows of `tenant` that have expired, auditing each as
    /// `membership.expire`. Access already stopped at `expiresAt` (every check compares it
    /// with the clock); this clears the rows away. Returns how many went.
    pub async fn sweep_expired(&self, tenant: &TenantId) -> ServiceResult<usize> {
        let mut removed = 0;
        loop {
            let now = self.now();
            // Look first without the write lock: most sweeps find nothing and change nothing.
            if self.vault.unguarded().await?.expired_memberships(tenant, now, 1).await?.is_empty() {
                return Ok(removed);
            }
            let mut change = self.begin(tenant).await?;
            change.tx.allow(Allowed::scheduled(tenant))?;
            let rows = change.tx.read().expired_memberships(tenant, now, SWEEP_BATCH).await?;
            for m in &rows {
                change.tx.write()?.delete_membership(&m.group_id, &m.user_id, m.source).await?;
                change.touch_user(&m.user_id);
                let origin = super::Origin { actor: None, request_id: "expiry-sweeper" };
                let before = MembershipSnapshot::new(m, now);
                self.audit(
                    &mut change,
                    origin,
                    "membership.expire",
                    ("group", m.group_id.as_str()),
                    Some(&before),
                    None::<&()>,
                );
            }
            self.finish(change).await?;
            removed += rows.len();
            if (rows.len() as i64) < SWEEP_BATCH {
                return Ok(removed);
            }
        }
    }
}
