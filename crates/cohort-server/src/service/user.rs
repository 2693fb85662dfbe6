//! Users: create, read, list, change, suspend, delete.

use super::authz::{Guard, scope};
use super::{Ctx, Expect, Services, Written};
use crate::error::{ServiceError, ServiceResult};
use crate::view::UserView;
use cohort_core::model::{User, UserStatus};
use cohort_core::name::{Attributes, Email, Name, ShortText, SsoGroups};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{TenantId, UserId};
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
    /// Login name in the provisioning system (SCIM `userName`).
    pub user_name: Option<Name>,
    /// Id in the provisioning system.
    pub external_id: Option<ShortText>,
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
    /// New login name; `Some(None)` removes it.
    pub user_name: Option<Option<Name>>,
    /// New id in the provisioning system; `Some(None)` removes it.
    pub external_id: Option<Option<ShortText>>,
    /// The version the change is made against.
    pub expect: Expect,
}

fn email_taken(email: &Email) -> ServiceError {
    ServiceError::Conflict("email".to_owned(), format!("email `{email}` is already taken"))
}

fn user_name_taken(name: &Name) -> ServiceError {
    ServiceError::Conflict("userName".to_owned(), format!("user name `{name}` is already taken"))
}

impl Services {
    /// Creates a user.
    pub async fn create_user(&self, ctx: &Ctx, tenant: &TenantId, input: NewUser) -> ServiceResult<Written<User>> {
        self.change(ctx, tenant, async |change| {
            let tenant = &change.tenant().clone();
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::UsersWrite)?;
            change.tx.allow(proof)?;
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
                external_id: input.external_id.map(|e| e.as_str().to_owned()),
                created_at: now,
                updated_at: now,
            };
            change.tx.write()?.insert_user(&user).await?;
            change.touch_user(&user.id);
            self.reassign_in(change, ctx.into(), &[(None, Some(&user))]).await?;
            self.audit(
                change,
                ctx.into(),
                "user.create",
                ("user", user.id.as_str()),
                None::<&()>,
                Some(&UserView::from(&user)),
            );
            Ok(user)
        })
        .await
    }

    /// One user: needs `cohort:users.read`, or to be that user.
    pub async fn get_user(&self, ctx: &Ctx, tenant: &TenantId, id: &UserId) -> ServiceResult<User> {
        let tenant = scope(ctx, tenant)?;
        if &ctx.principal.user != id {
            let snap = self.live(tenant).await?;
            Guard::new(ctx, &snap, self.now()).require(P::UsersRead)?;
        }
        self.store
            .read()
            .await?
            .get_user(tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("user `{id}`")))
    }

    /// Users by email.
    pub async fn list_users(&self, ctx: &Ctx, tenant: &TenantId, filter: &UserFilter) -> ServiceResult<Vec<User>> {
        let tenant = scope(ctx, tenant)?;
        let snap = self.live(tenant).await?;
        Guard::new(ctx, &snap, self.now()).require(P::UsersRead)?;
        Ok(self.store.read().await?.list_users(tenant, filter).await?)
    }

    /// Succeeds when the caller may read users (for documents that hold no data, such as an
    /// import template).
    pub async fn may_read_users(&self, ctx: &Ctx, tenant: &TenantId) -> ServiceResult<()> {
        let tenant = scope(ctx, tenant)?;
        let snap = self.live(tenant).await?;
        Guard::new(ctx, &snap, self.now()).require(P::UsersRead)?;
        Ok(())
    }

    /// A page of the users matching a storage condition, with how many match in all.
    pub async fn list_users_where(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        listing: &Listing,
    ) -> ServiceResult<(i64, Vec<User>)> {
        let tenant = scope(ctx, tenant)?;
        let snap = self.live(tenant).await?;
        Guard::new(ctx, &snap, self.now()).require(P::UsersRead)?;
        Ok(self.store.read().await?.list_users_where(tenant, listing).await?)
    }

    /// Changes a user.
    pub async fn update_user(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        id: &UserId,
        patch: UserPatch,
    ) -> ServiceResult<Written<User>> {
        self.change(ctx, tenant, async |change| {
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::UsersWrite)?;
            change.tx.allow(proof)?;
            let before = change.user(id).await?;
            patch.expect.check(&format!("user `{id}`"), before.updated_at)?;
            let mut user = before.clone();
            if let Some(email) = patch.email {
                if let Some(e) = &email
                    && user.email.as_ref().map(Email::key) != Some(e.key())
                    && change.tx.read().user_by_email(tenant, e).await?.is_some()
                {
                    return Err(email_taken(e));
                }
                user.email = email;
            }
            if let Some(name) = patch.user_name {
                if let Some(n) = &name
                    && user.user_name.as_ref().map(Name::key) != Some(n.key())
                    && change.tx.read().user_by_user_name(tenant, n).await?.is_some()
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
            if let Some(status) = patch.status {
                if status == UserStatus::Suspended && &ctx.principal.user == id {
                    return Err(ServiceError::Conflict("status".to_owned(), "you cannot suspend yourself".to_owned()));
                }
                user.status = status;
            }
            user.updated_at = self.now().next_after(before.updated_at);
            change.tx.write()?.update_user(&user).await?;
            change.touch_user(&user.id);
            self.reassign_in(change, ctx.into(), &[(Some(&before), Some(&user))]).await?;
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
                Some(&UserView::from(&before)),
                Some(&UserView::from(&user)),
            );
            Ok(user)
        })
        .await
    }

    /// Deletes a user with their memberships, direct roles and tokens.
    pub async fn delete_user(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        id: &UserId,
        expect: &Expect,
    ) -> ServiceResult<Written<()>> {
        self.change(ctx, tenant, async |change| {
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::UsersWrite)?;
            change.tx.allow(proof)?;
            let before = change.user(id).await?;
            expect.check(&format!("user `{id}`"), before.updated_at)?;
            if &ctx.principal.user == id {
                return Err(ServiceError::Conflict("id".to_owned(), "you cannot delete yourself".to_owned()));
            }
            change.tx.write()?.delete_user(id).await?;
            change.touch_user(id);
            self.reassign_in(change, ctx.into(), &[(Some(&before), None)]).await?;
            self.audit(
                change,
                ctx.into(),
                "user.delete",
                ("user", id.as_str()),
                Some(&UserView::from(&before)),
                None::<&()>,
            );
            Ok(())
        })
        .await
    }
}
