//! The `cohort:` flow guard: no change may let `cohort:` permissions reach members that rules
//! or an identity provider choose (a role given to such a group, or a group nested under one
//! that gives them).

use super::change::Gate;
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::GroupId;
use cohort_core::graph::{ancestors, descendants};
use cohort_core::model::GroupSource;
use cohort_core::state::TenantState;
use std::collections::BTreeSet;

/// [`refuse_cohort_flow`] for `child` nested under `parents`.
pub async fn refuse_cohort_parents(
    tx: &mut Gate,
    state: &TenantState,
    field: &str,
    child: &GroupId,
    parents: &BTreeSet<GroupId>,
) -> ServiceResult<()> {
    let givers: BTreeSet<GroupId> = parents.iter().filter_map(|p| cohort_giver_at_or_above(state, p)).collect();
    for giver in &givers {
        refuse_cohort_flow(tx, state, field, giver, child).await?;
    }
    Ok(())
}

/// Refuses to let `cohort:` permissions reach the members of a group filled by rules or by an
/// identity provider: `giver` would confer them to `receiver` and every group below it (the
/// same group, when a role is assigned; a new child, when groups are nested).
pub async fn refuse_cohort_flow(
    tx: &mut Gate,
    state: &TenantState,
    field: &str,
    giver: &GroupId,
    receiver: &GroupId,
) -> ServiceResult<()> {
    let tenant = tx.tenant().clone();
    let ruled: BTreeSet<GroupId> = tx.read().list_rules(&tenant, None).await?.into_iter().map(|r| r.group_id).collect();
    let mut below = descendants(state, receiver);
    below.insert(receiver.clone());
    let filled =
        below.iter().find(|g| ruled.contains(*g) || state.group(g).is_some_and(|f| f.source != GroupSource::Local));
    match filled {
        Some(g) => Err(ServiceError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: format!(
                "`cohort:` permissions of group `{giver}` would reach group `{g}`, whose members come from {}; such \
                 a group cannot confer `cohort:` permissions",
                if ruled.contains(g) { "rules" } else { "an identity provider" }
            ),
        }])),
        None => Ok(()),
    }
}

/// The first group, `group` or above it, holding a role that gives `cohort:` permissions.
pub fn cohort_giver_at_or_above(state: &TenantState, group: &GroupId) -> Option<GroupId> {
    let mut above = ancestors(state, group);
    above.insert(group.clone());
    above.into_iter().find(|g| {
        state
            .roles_of_group(g)
            .iter()
            .any(|r| state.role(r).is_some_and(|f| f.permissions.iter().any(|p| p.is_cohort())))
    })
}
