//! Users: create, read, list, change, suspend, delete.

use super::authz::Guard;
use super::snapshot::UserSnapshot;
use super::user_type::known_type;
use super::{Change, Ctx, Expect, Origin, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::model::{MemberRole, Membership, MembershipSource, Subject, User, UserStatus};
use cohort_core::name::{Attributes, Email, Name, ShortText, SsoGroups, UserType};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, UserId, ZoneName};
use cohort_store::UserFilter;
use cohort_store::listing::Listing;

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Email (required through the REST API; SCIM may provision users without).
    pub email: Option<Email>,
    /// Display name.
    pub display_name: ShortText,
    /// Department.
    pub department: ShortText,
    /// Title.
    pub title: ShortText,
    /// Free attributes.
    pub attributes: Attributes,
    /// The groups the upstream identity provider reports.
    pub sso_groups: SsoGroups,
    /// Initial status.
    pub status: UserStatus,
    /// Their type, from the tenant's list (`member` when not given).
    pub user_type: Option<UserType>,
    /// Login name in the provisioning system (SCIM `userName`).
    pub user_name: Option<Name>,
    /// Id in the provisioning system.
    pub external_id: Option<ShortText>,
    /// The time zone they read times in (none: the tenant's).
    pub time_zone: Option<ZoneName>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    /// New email; `Some(None)` removes it.
    pub email: Option<Option<Email>>,
    /// New display name.
    pub display_name: Option<ShortText>,
    /// New department.
    pub department: Option<ShortText>,
    /// New title.
    pub title: Option<ShortText>,
    /// New attributes (replacing all).
    pub attributes: Option<Attributes>,
    /// New identity-provider groups (replacing all).
    pub sso_groups: Option<SsoGroups>,
    /// New status (`suspended` removes all effective access).
    pub status: Option<UserStatus>,
    /// New type, from the tenant's list; refused while a group the user is in does not admit it.
    pub user_type: Option<UserType>,
    /// New login name; `Some(None)` removes it.
    pub user_name: Option<Option<Name>>,
    /// New id in the provisioning system; `Some(None)` removes it.
    pub external_id: Option<Option<ShortText>>,
    /// New time zone; `Some(None)` puts them back on the tenant's. A user may change their own
    /// without `cohort:users.write`: it changes only how times are shown to them.
    pub time_zone: Option<Option<ZoneName>>,
    /// The version the change is made against.
    pub expect: Expect,
}

impl UserPatch {
    /// Whether it changes how times are shown (the user's own preference) and nothing else.
    fn only_preferences(&self) -> bool {
        let Self {
            email,
            display_name,
            department,
            title,
            attributes,
            sso_groups,
            status,
            user_type,
            user_name,
            external_id,
            time_zone,
            expect: _,
        } = self;
        time_zone.is_some()
            && email.is_none()
            && display_name.is_none()
            && department.is_none()
            && title.is_none()
            && attributes.is_none()
            && sso_groups.is_none()
            && status.is_none()
            && user_type.is_none()
            && user_name.is_none()
            && external_id.is_none()
    }
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: field.to_owned(), message }])
}

fn email_taken(email: &Email) -> ServiceError {
    ServiceError::Conflict { field: "email".to_owned(), reason: format!("email `{email}` is already taken") }
}

fn user_name_taken(name: &Name) -> ServiceError {
    ServiceError::Conflict { field: "userName".to_owned(), reason: format!("user name `{name}` is already taken") }
}

impl Services {
    /// Creates a user, and adds them to `groups` (as ordinary members) in the same change.
    /// Putting them in groups needs `cohort:groups.write` too.
    pub async fn create_user(&self, ctx: &Ctx, input: NewUser, groups: &[GroupId]) -> ServiceResult<Written<User>> {
        self.change(ctx, async |change| {
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = guard.require(P::UsersWrite)?;
            if !groups.is_empty() {
                guard.require(P::GroupsWrite)?;
            }
            change.tx.allow(proof)?;
            let user = self.create_user_in(change, ctx.into(), input).await?;
            let reason = ShortText::parse("reason", "added when the user was created", false)?;
            for g in groups.iter().collect::<std::collections::BTreeSet<_>>() {
                let state = &change.before.state;
                let facts = state.group(g).ok_or_else(|| invalid("groupIds", format!("group `{g}` not found")))?;
                if !facts.active {
                    return Err(ServiceError::Conflict {
                        field: "groupIds".to_owned(),
                        reason: format!("group `{g}` is archived"),
                    });
                }
                state.admits(g, &user.user_type)?;
                let m = Membership {
                    group_id: g.clone(),
                    user_id: user.id.clone(),
                    source: MembershipSource::Manual,
                    role: MemberRole::Member,
                    expires_at: None,
                    added_by: ctx.user().cloned(),
                    added_at: self.now(),
                    reason: reason.clone(),
                };
                self.write_member_in(change, ctx, &m).await?;
            }
            self.reassign_in(change, ctx.into(), &[(None, Some(&user))]).await?;
            Ok(user)
        })
        .await
    }

    /// Creates a user inside an open change (its caller holds `cohort:users.write`): the email
    /// and login name must be free and the type one the tenant keeps. Rules are the caller's to
    /// apply ([`Self::reassign_in`]).
    pub async fn create_user_in(&self, change: &mut Change, origin: Origin<'_>, input: NewUser) -> ServiceResult<User> {
        let tenant = &change.tenant().clone();
        if let Some(email) = &input.email
            && change.tx.read().user_by_email(tenant, email).await?.is_some()
        {
            return Err(email_taken(email));
        }
        if let Some(n) = &input.user_name
            && change.tx.read().user_by_user_name(tenant, n).await?.is_some()
        {
            return Err(user_name_taken(n));
        }
        let user_type = input.user_type.unwrap_or_default();
        known_type(&self.user_types_in(change).await?, &user_type)?;
        let now = self.now();
        let user = User {
            id: UserId::generate(self.ids()),
            email: input.email,
            user_name: input.user_name,
            display_name: input.display_name,
            department: input.department,
            title: input.title,
            attributes: input.attributes,
            sso_groups: input.sso_groups,
            status: input.status,
            user_type,
            external_id: input.external_id.map(|e| e.as_str().to_owned()),
            time_zone: input.time_zone,
            created_at: now,
            updated_at: now,
        };
        change.tx.write()?.insert_user(&user).await?;
        change.touch_user(&user.id);
        self.audit(
            change,
            origin,
            "user.create",
            ("user", user.id.as_str()),
            None::<&()>,
            Some(&UserSnapshot::from(&user)),
        );
        Ok(user)
    }

    /// One user: needs `cohort:users.read`, or to be that user.
    pub async fn get_user(&self, ctx: &Ctx, id: &UserId) -> ServiceResult<User> {
        let mut r = self.read_for(ctx, |guard, _| guard.require_read_of(&Subject::User(id.clone()))).await?;
        r.get_user(ctx.tenant(), id).await?.ok_or_else(|| ServiceError::NotFound(format!("user `{id}`")))
    }

    /// Users by email.
    pub async fn list_users(&self, ctx: &Ctx, filter: &UserFilter) -> ServiceResult<Vec<User>> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::UsersRead).await?.list_users(tenant, filter).await?)
    }

    /// Succeeds when the caller may read users (for documents that hold no data, such as an
    /// import template).
    pub async fn may_read_users(&self, ctx: &Ctx) -> ServiceResult<()> {
        let snap = self.live(ctx.tenant()).await?;
        Guard::new(ctx, &snap, self.now()).require(P::UsersRead).map(drop)
    }

    /// A page of the users matching a storage condition, with how many match in all.
    pub async fn list_users_where(&self, ctx: &Ctx, listing: &Listing) -> ServiceResult<(i64, Vec<User>)> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::UsersRead).await?.list_users_where(tenant, listing).await?)
    }

    /// Changes a user: needs `cohort:users.write`, or to be that user changing only their
    /// time zone.
    pub async fn update_user(&self, ctx: &Ctx, id: &UserId, patch: UserPatch) -> ServiceResult<Written<User>> {
        self.change(ctx, async |change| {
            let guard = Guard::new(ctx, &change.before, self.now());
            let preference = patch.only_preferences();
            let proof =
                if ctx.is_user(id) && preference { guard.require_self(id)? } else { guard.require(P::UsersWrite)? };
            change.tx.allow(proof)?;
            let before = change.user(id).await?;
            patch.expect.check(&format!("the user {}", before.name()), before.updated_at)?;
            let mut user = before.clone();
            if let Some(email) = patch.email {
                if let Some(e) = &email
                    && user.email.as_ref().map(Email::key) != Some(e.key())
                    && change.tx.read().user_by_email(ctx.tenant(), e).await?.is_some()
                {
                    return Err(email_taken(e));
                }
                user.email = email;
            }
            if let Some(name) = patch.user_name {
                if let Some(n) = &name
                    && user.user_name.as_ref().map(Name::key) != Some(n.key())
                    && change.tx.read().user_by_user_name(ctx.tenant(), n).await?.is_some()
                {
                    return Err(user_name_taken(n));
                }
                user.user_name = name;
            }
            if let Some(e) = patch.external_id {
                user.external_id = e.map(|e| e.as_str().to_owned());
            }
            user.display_name = patch.display_name.unwrap_or(user.display_name);
            user.department = patch.department.unwrap_or(user.department);
            user.title = patch.title.unwrap_or(user.title);
            user.attributes = patch.attributes.unwrap_or(user.attributes);
            user.sso_groups = patch.sso_groups.unwrap_or(user.sso_groups);
            user.time_zone = patch.time_zone.unwrap_or(user.time_zone);
            if let Some(t) = patch.user_type {
                known_type(&self.user_types_in(change).await?, &t)?;
                user.user_type = t;
            }
            if let Some(status) = patch.status {
                if status == UserStatus::Suspended && ctx.is_user(id) {
                    return Err(ServiceError::Conflict {
                        field: "status".to_owned(),
                        reason: "you cannot suspend yourself".to_owned(),
                    });
                }
                user.status = status;
            }
            user.updated_at = self.now().next_after(before.updated_at);
            change.tx.write()?.update_user(&user).await?;
            change.touch_user(&user.id);
            // No rule reads a preference: what rules decide stays as it is.
            if !preference {
                self.reassign_in(change, ctx.into(), &[(Some(&before), Some(&user))]).await?;
            }
            let action = match (before.status, user.status) {
                (UserStatus::Active, UserStatus::Suspended) => "user.suspend",
                (UserStatus::Suspended, UserStatus::Active) => "user.activate",
                _ => "user.update",
            };
            self.audit(
                change,
                ctx.into(),
                action,
                ("user", id.as_str()),
                Some(&UserSnapshot::from(&before)),
                Some(&UserSnapshot::from(&user)),
            );
            Ok(user)
        })
        .await
    }

    /// Deletes a user with their memberships, direct roles and tokens.
    pub async fn delete_user(&self, ctx: &Ctx, id: &UserId, expect: &Expect) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::UsersWrite)?;
            change.tx.allow(proof)?;
            let before = change.user(id).await?;
            expect.check(&format!("the user {}", before.name()), before.updated_at)?;
            if ctx.is_user(id) {
                return Err(ServiceError::Conflict {
                    field: "id".to_owned(),
                    reason: "you cannot delete yourself".to_owned(),
                });
            }
            change.tx.write()?.delete_user(id).await?;
            change.touch_user(id);
            self.reassign_in(change, ctx.into(), &[(Some(&before), None)]).await?;
            self.audit(
                change,
                ctx.into(),
                "user.delete",
                ("user", id.as_str()),
                Some(&UserSnapshot::from(&before)),
                None::<&()>,
            );
            Ok(())
        })
        .await
    }
}
