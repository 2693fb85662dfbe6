//! Provisioning: the use cases of an identity provider's pushes (SCIM): a group created with
//! its first members, and edits of its name and members applied together, all or nothing.

use super::authz::Guard;
use super::snapshot::{GroupSnapshot, MembershipSnapshot};
use super::{Change, Ctx, Expect, NewGroup, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::model::{Group, MemberRole, Membership, MembershipSource, Subject};
use cohort_core::name::{Name, ShortText};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, UserId};
use std::collections::BTreeSet;

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: field.to_owned(), message }])
}

/// Changes a provisioning system makes to one of its groups together: its name and external
/// id, and its members: users gain or lose a `scim` row (rows of other sources stay), child
/// groups are nested or un-nested.
#[derive(Clone, Debug, Default)]
pub struct GroupEdits {
    /// New name.
    pub name: Option<Name>,
    /// New external id; `Some(None)` removes it.
    pub external_id: Option<Option<ShortText>>,
    /// With `replace_members`, the complete new membership; otherwise members to add.
    pub add: BTreeSet<Subject>,
    /// Members to remove (ignored with `replace_members`).
    pub remove: BTreeSet<Subject>,
    /// Whether `add` is the complete new membership.
    pub replace_members: bool,
    /// The version of the group the edits are made against.
    pub expect: Expect,
}

impl Services {
    /// Applies a provisioning system's `edits` to `group` in one change: all of it or
    /// nothing. Needs `cohort:groups.write`. Member edits touch only the rows and edges they
    /// name, so their cost follows the edit, not the group's size.
    pub async fn edit_group(&self, ctx: &Ctx, group: &GroupId, edits: GroupEdits) -> ServiceResult<Written<()>> {
        let source = MembershipSource::Scim;
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let state = &change.before.state;
            let facts = state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?;
            change.tx.allow(proof)?;
            if edits.expect != Expect::Any {
                let (current, _) = change
                    .tx
                    .read()
                    .get_group(tenant, group, self.now())
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
                edits.expect.check(&format!("group `{group}`"), current.updated_at)?;
            }
            // Whether the subject is a member through this source now: a row, or a nesting edge.
            let has = |s: &Subject| match s {
                Subject::User(u) => state.rows(group, u).any(|(src, _)| src == source),
                Subject::Group(c) => state.children(group).contains(c),
            };
            let (add, remove): (Vec<Subject>, Vec<Subject>) = if edits.replace_members {
                let current: Vec<Subject> = state
                    .members_of(group)
                    .map(|u| Subject::User(u.clone()))
                    .chain(state.children(group).iter().map(|g| Subject::Group(g.clone())))
                    .filter(|s| has(s))
                    .collect();
                (
                    edits.add.iter().filter(|s| !has(s)).cloned().collect(),
                    current.into_iter().filter(|s| !edits.add.contains(s)).collect(),
                )
            } else {
                // Only the members named are looked at, whatever the group's size.
                (
                    edits.add.into_iter().filter(|s| !has(s)).collect(),
                    edits.remove.into_iter().filter(|s| has(s)).collect(),
                )
            };
            if !add.is_empty() && !facts.active {
                return Err(crate::error::archived("members", &change.before.state, group));
            }
            let now = self.now();
            for s in &add {
                match s {
                    Subject::User(u) => {
                        if state.user(u).is_none() {
                            return Err(invalid("members", format!("user `{u}` not found")));
                        }
                    }
                    Subject::Group(c) => {
                        if state.group(c).is_none() {
                            return Err(invalid("members", format!("group `{c}` not found")));
                        }
                        let mut parents = state.parents(c).clone();
                        parents.insert(group.clone());
                        cohort_core::graph::check_parents(state, Some(c), &parents, self.config.max_depth)?;
                        super::cohort_flow::refuse_cohort_parents(&mut change.tx, state, "members", c, &parents)
                            .await?;
                    }
                }
            }
            if edits.name.is_some() || edits.external_id.is_some() {
                let (before, _) = change
                    .tx
                    .read()
                    .get_group(tenant, group, now)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
                let mut after = before.clone();
                if let Some(name) = edits.name {
                    // The name follows the provider's until an administrator renames the group.
                    if after.provider_name.as_ref().is_none_or(|p| p == &after.name) {
                        self.check_name_free(change, &name, Some(group)).await?;
                        after.name = name.clone();
                    }
                    after.provider_name = Some(name);
                }
                if let Some(e) = edits.external_id {
                    after.external_id = e.map(|e| e.as_str().to_owned());
                }
                if after != before {
                    after.updated_at = now.next_after(before.updated_at);
                    change.tx.write()?.update_group(&after).await?;
                    change.touch_group(group);
                    self.audit(
                        change,
                        ctx.into(),
                        "group.update",
                        ("group", group.as_str()),
                        Some(&GroupSnapshot::from(&before)),
                        Some(&GroupSnapshot::from(&after)),
                    );
                }
            }
            for s in &remove {
                match s {
                    Subject::User(u) => {
                        let before = change
                            .tx
                            .read()
                            .membership_rows(tenant, group, u)
                            .await?
                            .into_iter()
                            .find(|m| m.source == source);
                        change.tx.write()?.delete_membership(group, u, source).await?;
                        change.touch_user(u);
                        let before = before.map(|m| MembershipSnapshot::new(&m, now));
                        let target = ("group", group.as_str());
                        self.audit(change, ctx.into(), "membership.remove", target, before.as_ref(), None::<&()>);
                    }
                    Subject::Group(c) => {
                        change.tx.write()?.remove_parent(c, group).await?;
                        change.touch_group(c);
                        let edge = serde_json::json!({ "parentId": group.as_str() });
                        self.audit(change, ctx.into(), "group.unnest", ("group", c.as_str()), Some(&edge), None::<&()>);
                    }
                }
            }
            let users: Vec<UserId> =
                add.iter().filter_map(|s| if let Subject::User(u) = s { Some(u.clone()) } else { None }).collect();
            self.add_scim_members(change, ctx, group, &users).await?;
            for s in &add {
                if let Subject::Group(c) = s {
                    change.tx.write()?.add_parent(c, group).await?;
                    change.touch_group(c);
                    let edge = serde_json::json!({ "parentId": group.as_str() });
                    self.audit(change, ctx.into(), "group.nest", ("group", c.as_str()), None::<&()>, Some(&edge));
                }
            }
            if !add.is_empty() || !remove.is_empty() {
                change.tx.write()?.touch_group(group, now).await?;
            }
            Ok(())
        })
        .await
    }
}

impl Services {
    /// Writes `scim` membership rows of `users` in `group` and audits each; the caller has
    /// checked that the users exist and are not members through SCIM yet.
    async fn add_scim_members(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        group: &GroupId,
        users: &[UserId],
    ) -> ServiceResult<()> {
        let now = self.now();
        let rows = users
            .iter()
            .map(|u| {
                Ok(Membership {
                    group_id: group.clone(),
                    user_id: u.clone(),
                    source: MembershipSource::Scim,
                    role: MemberRole::Member,
                    expires_at: None,
                    added_by: ctx.user().cloned(),
                    added_at: now,
                    reason: ShortText::parse("reason", "", false)?,
                })
            })
            .collect::<ServiceResult<Vec<_>>>()?;
        change.tx.write()?.put_memberships(&rows).await?;
        for m in &rows {
            change.touch_user(&m.user_id);
            let after = MembershipSnapshot::new(m, now);
            self.audit(change, ctx.into(), "membership.add", ("group", group.as_str()), None::<&()>, Some(&after));
        }
        Ok(())
    }

    /// Creates a group an identity provider pushes, with its first members (users), in one
    /// change. Groups are nested under it afterwards, by PATCH.
    pub async fn create_scim_group(
        &self,
        ctx: &Ctx,
        input: NewGroup,
        members: &[UserId],
    ) -> ServiceResult<Written<Group>> {
        self.change(ctx, async |change| {
            let (group, _) = self.create_group_in(change, ctx, input).await?;
            if let Some(u) = members.iter().find(|u| change.before.state.user(u).is_none()) {
                return Err(invalid("members", format!("user `{u}` not found")));
            }
            self.add_scim_members(change, ctx, &group.id, members).await?;
            Ok(group)
        })
        .await
    }
}
