//! Memberships: add, change, remove and list the rows of a group.

use super::authz::Guard;
use super::snapshot::MembershipSnapshot;
use super::{Change, Ctx, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::vault::TenantRead;
use cohort_core::model::{GroupSource, MemberRole, Membership, MembershipSource, Subject};
use cohort_core::name::ShortText;
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, Timestamp, UserId};
use cohort_store::MembershipFilter;

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

/// Most rows removed in one change.
pub const MAX_REMOVED_AT_ONCE: usize = 500;

/// What is left after removing one row.
#[derive(Clone, Debug)]
pub struct RemovedMembership {
    /// Sources of the rows that remain, e.g. `rule`: the user is still a member through them.
    pub remaining_sources: Vec<MembershipSource>,
}

/// That `user` has no `source` row in `group`, in their names.
async fn no_membership(change: &mut Change, source: MembershipSource, user: &UserId, group: &GroupId) -> ServiceError {
    let who = match change.subject_name(&Subject::User(user.clone())).await {
        Ok(who) => who,
        Err(e) => return e,
    };
    let group = change.before.state.group(group).map_or_else(|| group.to_string(), |g| g.name.clone());
    ServiceError::NotFound(format!("{} membership of {who} in {group}", source.as_str()))
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: field.to_owned(), message }])
}

impl Services {
    /// Adds a user to a group by hand. Group managers may add ordinary members to the groups
    /// they manage; only holders of `cohort:groups.write` make managers.
    pub async fn add_member(&self, ctx: &Ctx, group: &GroupId, input: NewMember) -> ServiceResult<Written<Membership>> {
        self.change(ctx, async |change| self.add_member_in(change, ctx, group, input).await).await
    }

    /// [`Self::add_member`] as one step of a change the caller finishes (batch edits).
    pub async fn add_member_in(
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
            return Err(crate::error::archived("groupId", state, group));
        }
        self.put_member_in(change, ctx, group, input).await
    }

    /// Writes a manual membership row of `input` in `group` (which exists and is active; the
    /// change is allowed) and audits it: the user must exist and not be a manual member yet,
    /// the expiry lie ahead, and the group admit the user's type.
    pub async fn put_member_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        group: &GroupId,
        input: NewMember,
    ) -> ServiceResult<Membership> {
        self.check_hand_edit(change, group).await?;
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
            let group_name = state.group(group).map_or_else(|| group.to_string(), |g| g.name.clone());
            let user = change.user(&input.user_id).await?.name();
            return Err(ServiceError::Conflict {
                field: "userId".to_owned(),
                reason: format!("{user} is already a member of {group_name}"),
            });
        }
        let m = Membership {
            group_id: group.clone(),
            user_id: input.user_id,
            source: MembershipSource::Manual,
            role: input.role,
            expires_at: input.expires_at,
            added_by: ctx.user().cloned(),
            added_at: now,
            reason: input.reason,
        };
        self.write_member_in(change, ctx, &m).await?;
        Ok(m)
    }

    /// Refuses a change by hand (REST, console, batch, CSV import) to the members of an `sso`
    /// group while the tenant's provider is `ssoOnly`: they follow sign-in (and SCIM) alone.
    pub async fn check_hand_edit(&self, change: &mut Change, group: &GroupId) -> ServiceResult<()> {
        if change.before.state.group(group).is_none_or(|g| g.source != GroupSource::Sso) {
            return Ok(());
        }
        let tenant = change.tenant().clone();
        if change.tx.read().get_identity_provider(&tenant).await?.is_some_and(|p| p.sso_only) {
            return Err(ServiceError::Conflict {
                field: "groupId".to_owned(),
                reason: format!(
                    "group `{group}` follows the identity provider (ssoOnly): its members change only at sign-in and \
                     through SCIM"
                ),
            });
        }
        Ok(())
    }

    /// Writes one membership row the change has checked, and audits it.
    pub async fn write_member_in(&self, change: &mut Change, ctx: &Ctx, m: &Membership) -> ServiceResult<()> {
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
        group: &GroupId,
        user: &UserId,
        patch: MemberPatch,
    ) -> ServiceResult<Written<Membership>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let state = &change.before.state;
            state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let guard = Guard::new(ctx, &change.before, self.now());
            let row = state.rows(group, user).find(|(s, _)| s.hand_editable()).map(|(_, f)| *f);
            let proof = match (patch.role, row.map(|f| f.role)) {
                (Some(_), _) | (_, Some(MemberRole::Manager)) => guard.require(P::GroupsWrite)?,
                _ => guard.require_or_manager(P::GroupsWrite, group)?,
            };
            change.tx.allow(proof)?;
            self.check_hand_edit(change, group).await?;
            if row.is_none() {
                return Err(no_membership(change, MembershipSource::Manual, user, group).await);
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
                .find(|m| m.source.hand_editable());
            let Some(before) = before else {
                return Err(no_membership(change, MembershipSource::Manual, user, group).await);
            };
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
        group: &GroupId,
        user: &UserId,
        source: MembershipSource,
    ) -> ServiceResult<Written<RemovedMembership>> {
        self.change(ctx, async |change| self.remove_member_in(change, ctx, group, user, source).await).await
    }

    /// Removes several rows of `group` in one change: all of them, or, if any is refused, none.
    pub async fn remove_members(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        rows: &[(UserId, MembershipSource)],
    ) -> ServiceResult<Written<usize>> {
        if rows.len() > MAX_REMOVED_AT_ONCE {
            return Err(invalid("rows", format!("at most {MAX_REMOVED_AT_ONCE} rows at once")));
        }
        self.change(ctx, async |change| {
            for (user, source) in rows {
                self.remove_member_in(change, ctx, group, user, *source).await?;
            }
            Ok(rows.len())
        })
        .await
    }

    /// [`Self::remove_member`] as one step of a change the caller finishes (batch edits).
    pub async fn remove_member_in(
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
        let remaining_sources: Vec<MembershipSource> =
            state.rows(group, user).map(|(s, _)| s).filter(|s| *s != source).collect();
        self.check_hand_edit(change, group).await?;
        if row.is_none() {
            return Err(no_membership(change, source, user, group).await);
        }
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

    /// A reader for what `group` is and holds (its members, rules), for its readers and
    /// managers.
    pub(crate) async fn read_members(&self, ctx: &Ctx, group: &GroupId) -> ServiceResult<TenantRead> {
        self.read_for(ctx, |guard, state| {
            state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            guard.require_or_manager(P::GroupsRead, group)
        })
        .await
    }

    /// A page of `group`'s member rows with their users, searched, sorted and paged by the
    /// store, and how many rows match (for its readers and managers).
    pub async fn member_rows(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        listing: &cohort_store::MemberListing,
    ) -> ServiceResult<(i64, Vec<cohort_store::MemberRow>)> {
        Ok(self.read_members(ctx, group).await?.member_rows(ctx.tenant(), group, listing).await?)
    }

    /// The rows of a page of a group's users, by user id, each with its user (for the export,
    /// to the readers and managers of the group, who may see its members).
    pub async fn list_members_with_users(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        filter: &MembershipFilter,
    ) -> ServiceResult<Vec<(Membership, cohort_core::model::User)>> {
        let mut r = self.read_members(ctx, group).await?;
        let rows = r.list_memberships(ctx.tenant(), group, filter).await?;
        let ids: Vec<&UserId> = rows.iter().map(|m| &m.user_id).collect();
        let users: std::collections::HashMap<UserId, cohort_core::model::User> =
            r.users_by_ids(ctx.tenant(), &ids).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
        Ok(rows.into_iter().filter_map(|m| users.get(&m.user_id).cloned().map(|u| (m, u))).collect())
    }

    /// The user with `email`, for adding them to `group`: open to those who read users and to
    /// the group's managers, who add people by email without reading the whole directory.
    pub async fn user_to_add(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        email: &cohort_core::name::Email,
    ) -> ServiceResult<cohort_core::model::User> {
        let tenant = ctx.tenant();
        let proof = {
            let snap = self.live(tenant).await?;
            snap.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            Guard::new(ctx, &snap, self.now()).require_or_manager(P::UsersRead, group)?
        };
        self.vault
            .read(&proof)
            .await?
            .user_by_email(tenant, email)
            .await?
            .ok_or_else(|| invalid("email", format!("no user has the email `{email}`")))
    }

    /// A user who has a row in `group`, for the readers and managers of the group.
    pub async fn direct_member(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        user: &UserId,
    ) -> ServiceResult<cohort_core::model::User> {
        let tenant = ctx.tenant();
        let proof = {
            let snap = self.live(tenant).await?;
            snap.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let proof = Guard::new(ctx, &snap, self.now()).require_or_manager(P::GroupsRead, group)?;
            if snap.state.rows(group, user).next().is_none() {
                return Err(ServiceError::NotFound(format!("member `{user}`")));
            }
            proof
        };
        self.vault
            .read(&proof)
            .await?
            .get_user(tenant, user)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("user `{user}`")))
    }
}
