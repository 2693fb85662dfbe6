//! Memberships: add, change, remove and list the rows of a group.

use super::authz::{Guard, scope};
use super::snapshot::{GroupSnapshot, MembershipSnapshot};
use super::{Change, Ctx, Expect, NewGroup, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::model::{Group, MemberRole, Membership, MembershipSource, Subject};
use cohort_core::name::{Name, ShortText};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, TenantId, Timestamp, UserId};
use cohort_store::MembershipFilter;
use std::collections::BTreeSet;

/// A member to add by hand.
#[derive(Clone, Debug)]
pub struct NewMember {
    /// The user.
    pub user_id: UserId,
    /// Member or manager (only holders of `cohort:groups.write` make managers).
    pub role: MemberRole,
    /// When the membership stops conferring access.
    pub expires_at: Option<Timestamp>,
    /// Why.
    pub reason: ShortText,
}

/// Changes to a manual membership row.
#[derive(Clone, Debug, Default)]
pub struct MemberPatch {
    /// New role.
    pub role: Option<MemberRole>,
    /// New expiry; `Some(None)` removes it.
    pub expires_at: Option<Option<Timestamp>>,
    /// New reason.
    pub reason: Option<ShortText>,
}

/// What is left after removing one row.
#[derive(Clone, Debug)]
pub struct RemovedMembership {
    /// Sources of the rows that remain, e.g. `rule`: the user is still a member through them.
    pub remaining_sources: Vec<MembershipSource>,
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: field.to_owned(), message }])
}

impl Services {
    /// Adds a user to a group by hand. Group managers may add ordinary members to the groups
    /// they manage; only holders of `cohort:groups.write` make managers.
    pub async fn add_member(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
        input: NewMember,
    ) -> ServiceResult<Written<Membership>> {
        self.change(ctx, tenant, async |change| self.add_member_in(change, ctx, group, input).await).await
    }

    /// [`Self::add_member`] as one step of a change the caller finishes (batch edits).
    pub(crate) async fn add_member_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        group: &GroupId,
        input: NewMember,
    ) -> ServiceResult<Membership> {
        let state = &change.before.state;
        let facts = state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        let guard = Guard::new(ctx, &change.before, self.now());
        change.tx.allow(match input.role {
            MemberRole::Manager => guard.require(P::GroupsWrite)?,
            MemberRole::Member => guard.require_or_manager(P::GroupsWrite, group)?,
        })?;
        if !facts.active {
            return Err(ServiceError::Conflict("groupId".to_owned(), format!("group `{group}` is archived")));
        }
        self.put_member_in(change, ctx, group, input).await
    }

    /// Writes a manual membership row of `input` in `group` (which exists and is active; the
    /// change is allowed) and audits it: the user must exist and not be a manual member yet,
    /// the expiry lie ahead, and the group admit the user's type.
    pub(crate) async fn put_member_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        group: &GroupId,
        input: NewMember,
    ) -> ServiceResult<Membership> {
        let state = &change.before.state;
        if state.user(&input.user_id).is_none() {
            return Err(invalid("userId", format!("user `{}` not found", input.user_id)));
        }
        state.admits_user(group, &input.user_id)?;
        let now = self.now();
        if input.expires_at.is_some_and(|t| t <= now) {
            return Err(invalid("expiresAt", "must be in the future".to_owned()));
        }
        if state.rows(group, &input.user_id).any(|(s, _)| s == MembershipSource::Manual) {
            return Err(ServiceError::Conflict(
                "userId".to_owned(),
                format!("user `{}` is already a member of `{group}`", input.user_id),
            ));
        }
        let m = Membership {
            group_id: group.clone(),
            user_id: input.user_id,
            source: MembershipSource::Manual,
            role: input.role,
            expires_at: input.expires_at,
            added_by: Some(ctx.principal.user.clone()),
            added_at: now,
            reason: input.reason,
        };
        self.write_member_in(change, ctx, &m).await?;
        Ok(m)
    }

    /// Writes one membership row the change has checked, and audits it.
    pub(crate) async fn write_member_in(&self, change: &mut Change, ctx: &Ctx, m: &Membership) -> ServiceResult<()> {
        change.tx.write()?.put_membership(m).await?;
        change.touch_user(&m.user_id);
        let after = MembershipSnapshot::new(m, self.now());
        self.audit(change, ctx.into(), "membership.add", ("group", m.group_id.as_str()), None::<&()>, Some(&after));
        Ok(())
    }

    /// Changes a user's manual row in a group. Changing the role needs `cohort:groups.write`;
    /// managers may change the expiry and reason of ordinary members.
    pub async fn update_member(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
        user: &UserId,
        patch: MemberPatch,
    ) -> ServiceResult<Written<Membership>> {
        self.change(ctx, tenant, async |change| {
            let tenant = &change.tenant().clone();
            let state = &change.before.state;
            state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let guard = Guard::new(ctx, &change.before, self.now());
            let row = state.rows(group, user).find(|(s, _)| *s == MembershipSource::Manual).map(|(_, f)| *f);
            let proof = match (patch.role, row.map(|f| f.role)) {
                (Some(_), _) | (_, Some(MemberRole::Manager)) => guard.require(P::GroupsWrite)?,
                _ => guard.require_or_manager(P::GroupsWrite, group)?,
            };
            change.tx.allow(proof)?;
            if row.is_none() {
                return Err(ServiceError::NotFound(format!("manual membership of `{user}` in `{group}`")));
            }
            let now = self.now();
            if patch.expires_at.flatten().is_some_and(|t| t <= now) {
                return Err(invalid("expiresAt", "must be in the future".to_owned()));
            }
            let before = change
                .tx
                .read()
                .membership_rows(tenant, group, user)
                .await?
                .into_iter()
                .find(|m| m.source == MembershipSource::Manual)
                .ok_or_else(|| ServiceError::NotFound(format!("manual membership of `{user}` in `{group}`")))?;
            let mut m = before.clone();
            m.role = patch.role.unwrap_or(m.role);
            m.expires_at = patch.expires_at.unwrap_or(m.expires_at);
            m.reason = patch.reason.unwrap_or(m.reason);
            change.tx.write()?.put_membership(&m).await?;
            change.touch_user(&m.user_id);
            self.audit(
                change,
                ctx.into(),
                "membership.update",
                ("group", group.as_str()),
                Some(&MembershipSnapshot::new(&before, now)),
                Some(&MembershipSnapshot::new(&m, now)),
            );
            Ok(m)
        })
        .await
    }

    /// Removes one row (by default the manual one). Rows from other sources stay, and the
    /// answer lists them. Managers may remove ordinary members only.
    pub async fn remove_member(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
        user: &UserId,
        source: MembershipSource,
    ) -> ServiceResult<Written<RemovedMembership>> {
        self.change(ctx, tenant, async |change| self.remove_member_in(change, ctx, group, user, source).await).await
    }

    /// [`Self::remove_member`] as one step of a change the caller finishes (batch edits).
    pub(crate) async fn remove_member_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        group: &GroupId,
        user: &UserId,
        source: MembershipSource,
    ) -> ServiceResult<RemovedMembership> {
        let tenant = &change.tenant().clone();
        let state = &change.before.state;
        state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        let guard = Guard::new(ctx, &change.before, self.now());
        let row = state.rows(group, user).find(|(s, _)| *s == source).map(|(_, f)| *f);
        change.tx.allow(match row.map(|f| f.role) {
            Some(MemberRole::Member) => guard.require_or_manager(P::GroupsWrite, group)?,
            _ => guard.require(P::GroupsWrite)?,
        })?;
        if row.is_none() {
            return Err(ServiceError::NotFound(format!("{} membership of `{user}` in `{group}`", source.as_str())));
        }
        let remaining_sources: Vec<MembershipSource> =
            state.rows(group, user).map(|(s, _)| s).filter(|s| *s != source).collect();
        let now = self.now();
        let before =
            change.tx.read().membership_rows(tenant, group, user).await?.into_iter().find(|m| m.source == source);
        change.tx.write()?.delete_membership(group, user, source).await?;
        change.touch_user(user);
        self.audit(
            change,
            ctx.into(),
            "membership.remove",
            ("group", group.as_str()),
            before.as_ref().map(|m| MembershipSnapshot::new(m, now)).as_ref(),
            None::<&()>,
        );
        Ok(RemovedMembership { remaining_sources })
    }

    /// The rows of a page of a group's members: needs `cohort:groups.read` or to manage it.
    pub async fn list_members(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
        filter: &MembershipFilter,
    ) -> ServiceResult<Vec<Membership>> {
        let tenant = scope(ctx, tenant)?;
        let snap = self.live(tenant).await?;
        snap.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        Guard::new(ctx, &snap, self.now()).require_or_manager(P::GroupsRead, group)?;
        Ok(self.store.read().await?.list_memberships(tenant, group, filter).await?)
    }
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
    pub async fn edit_group(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
        edits: GroupEdits,
    ) -> ServiceResult<Written<()>> {
        let source = MembershipSource::Scim;
        self.change(ctx, tenant, async |change| {
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
                return Err(ServiceError::Conflict("members".to_owned(), format!("group `{group}` is archived")));
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
                    added_by: Some(ctx.principal.user.clone()),
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
        tenant: &TenantId,
        input: NewGroup,
        members: &[UserId],
    ) -> ServiceResult<Written<Group>> {
        self.change(ctx, tenant, async |change| {
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
            if self.store.read().await?.expired_memberships(tenant, now, 1).await?.is_empty() {
                return Ok(removed);
            }
            let mut change = self.begin(tenant).await?;
            change.tx.allow(super::authz::Allowed::scheduled(tenant))?;
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
