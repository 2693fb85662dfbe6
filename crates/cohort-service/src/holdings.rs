//! What the caller holds, for pages to show only the controls they may use.

use super::authz::Guard;
use super::{Ctx, Services};
use crate::error::ServiceResult;
use cohort_core::permission::CohortPermission;

/// What the caller may do, for a page to show only the controls they may use (the services
/// still decide every request).
#[derive(Clone, Debug, Default)]
pub struct Holdings {
    /// The `cohort:` permissions held.
    pub held: Vec<CohortPermission>,
    /// The active groups managed.
    pub manages: std::collections::BTreeSet<cohort_core::GroupId>,
}

impl Holdings {
    /// Whether `p` is held.
    pub fn can(&self, p: CohortPermission) -> bool {
        self.held.contains(&p)
    }

    /// Whether the caller may change `group`'s members (hold `cohort:groups.write` or manage it).
    pub fn edits_members_of(&self, group: &cohort_core::GroupId) -> bool {
        self.can(CohortPermission::GroupsWrite) || self.manages.contains(group)
    }
}

impl Services {
    /// What the caller holds now.
    pub async fn holdings(&self, ctx: &Ctx) -> ServiceResult<Holdings> {
        let live = self.live(ctx.tenant()).await?;
        let guard = Guard::new(ctx, &live, self.now());
        Ok(Holdings {
            held: CohortPermission::ALL.into_iter().filter(|p| guard.can(*p)).collect(),
            manages: guard.managed().cloned().collect(),
        })
    }
}
