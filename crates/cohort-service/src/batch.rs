//! Batch edits: one edit applied to several groups in one change, all or nothing, each step
//! authorised and audited exactly as it is on its own.

use super::{Ctx, Expect, NewMember, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::model::{GroupStatus, MemberRole, MembershipSource, Subject};
use cohort_core::name::ShortText;
use cohort_core::{GroupId, ResourceId, RoleId, Timestamp, UserId};

/// The most groups one batch may name.
pub const MAX_BATCH_GROUPS: usize = 500;

/// What to do to each group of a batch.
#[derive(Clone, Debug)]
pub enum BatchEdit {
    /// Add these users by hand.
    AddMembers {
        /// The users.
        users: Vec<UserId>,
        /// Member or manager.
        role: MemberRole,
        /// When the memberships stop conferring access.
        expires_at: Option<Timestamp>,
    },
    /// Remove these users' manual rows.
    RemoveMembers(Vec<UserId>),
    /// Assign this role.
    AssignRole(RoleId),
    /// Remove this role.
    RemoveRole(RoleId),
    /// Grant this level on this resource.
    Grant(ResourceId, String),
    /// Remove the grant on this resource.
    Revoke(ResourceId),
    /// Archive.
    Archive,
    /// Unarchive.
    Unarchive,
    /// Delete.
    Delete,
}

/// What a batch did.
#[derive(Clone, Copy, Debug)]
pub struct BatchOutcome {
    /// Groups edited.
    pub groups: usize,
    /// Changes made (one audit event each).
    pub changes: usize,
}

impl Services {
    /// Applies `edit` to every group of `groups` in one change: if any step is refused
    /// (permission, an archived group, a role already assigned...), nothing is applied and the
    /// refusal names the step.
    pub async fn batch_edit_groups(
        &self,
        ctx: &Ctx,
        groups: &[GroupId],
        edit: &BatchEdit,
    ) -> ServiceResult<Written<BatchOutcome>> {
        let invalid =
            |message: String| ServiceError::Invalid(vec![FieldError { field: "groupIds".to_owned(), message }]);
        if groups.is_empty() {
            return Err(invalid("give at least one group".to_owned()));
        }
        if groups.len() > MAX_BATCH_GROUPS {
            return Err(invalid(format!("{} groups; at most {MAX_BATCH_GROUPS} in one batch", groups.len())));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = groups.iter().find(|g| !seen.insert(*g)) {
            return Err(invalid(format!("group `{dup}` is named twice")));
        }
        self.change(ctx, async |change| {
            let mut changes = 0;
            for g in groups {
                let subject = Subject::Group(g.clone());
                changes += match edit {
                    BatchEdit::AddMembers { users, role, expires_at } => {
                        for u in users {
                            let input = NewMember {
                                user_id: u.clone(),
                                role: *role,
                                expires_at: *expires_at,
                                reason: ShortText::parse("reason", "batch edit", false)?,
                            };
                            self.add_member_in(change, ctx, g, input).await?;
                        }
                        users.len()
                    }
                    BatchEdit::RemoveMembers(users) => {
                        for u in users {
                            self.remove_member_in(change, ctx, g, u, MembershipSource::Manual).await?;
                        }
                        users.len()
                    }
                    BatchEdit::AssignRole(r) => {
                        self.assign_role_in(change, ctx, &subject, r).await?;
                        1
                    }
                    BatchEdit::RemoveRole(r) => {
                        self.unassign_role_in(change, ctx, &subject, r).await?;
                        1
                    }
                    BatchEdit::Grant(res, level) => {
                        self.grant_in(change, ctx, &subject, res, level).await?;
                        1
                    }
                    BatchEdit::Revoke(res) => {
                        self.revoke_in(change, ctx, &subject, res).await?;
                        1
                    }
                    BatchEdit::Archive => {
                        self.set_group_status_in(change, ctx, g, GroupStatus::Archived).await?;
                        1
                    }
                    BatchEdit::Unarchive => {
                        self.set_group_status_in(change, ctx, g, GroupStatus::Active).await?;
                        1
                    }
                    BatchEdit::Delete => {
                        self.delete_group_in(change, ctx, g, &Expect::Any).await?;
                        1
                    }
                };
            }
            if changes == 0 {
                return Err(invalid("the batch changes nothing".to_owned()));
            }
            Ok(BatchOutcome { groups: groups.len(), changes })
        })
        .await
    }
}
