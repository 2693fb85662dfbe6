//! Tenants: first-start bootstrap and creation by system tokens, each seeded with the
//! built-in roles, an admin user and that admin's token.

use super::authn::{hash_secret, new_secret, valid_secret};
use super::authz::{Allowed, require_system};
use super::snapshot::{RoleSnapshot, TenantSnapshot, TokenSnapshot, UserSnapshot};
use super::{Change, Ctx, Live, Origin, Services};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::{ApiToken, Role, Subject, Tenant, TokenScope, User, UserStatus};
use cohort_core::name::{Attributes, Description, Email, Name, ShortText, TenantSlug, UserType};
use cohort_core::permission::BuiltinRole;
use cohort_core::{RoleId, TenantId, TokenId, UserId};
use std::sync::Arc;

/// A tenant to create.
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// URL slug.
    pub slug: TenantSlug,
    /// Display name.
    pub name: Name,
    /// Email of its first admin.
    pub admin_email: Email,
}

/// A created tenant with its admin and the admin's token secret (shown once).
#[derive(Clone, Debug)]
pub struct TenantCreated {
    /// The tenant.
    pub tenant: Tenant,
    /// Its first admin.
    pub admin: User,
    /// The admin token's secret.
    pub secret: String,
    /// The revision it committed at.
    pub revision: i64,
}

/// What first start did.
#[derive(Clone, Debug)]
pub enum Bootstrap {
    /// The database already had tenants.
    AlreadyDone,
    /// The `default` tenant was created.
    Created(Box<TenantCreated>),
}

/// The slug of the tenant made on first start.
pub const DEFAULT_TENANT: &str = "default";

impl Services {
    /// On an empty database, creates the `default` tenant with an admin user and a system
    /// admin token (`token`, or a random one), and returns it; otherwise does nothing.
    pub async fn bootstrap(&self, token: Option<String>) -> ServiceResult<Bootstrap> {
        if !self.vault.unguarded().await?.list_tenants().await?.is_empty() {
            return Ok(Bootstrap::AlreadyDone);
        }
        if token.as_deref().is_some_and(|t| !valid_secret(t)) {
            return Err(ServiceError::Invalid(vec![crate::error::FieldError {
                field: "COHORT_BOOTSTRAP_TOKEN".to_owned(),
                message: "must be 24 to 200 printable characters without spaces".to_owned(),
            }]));
        }
        let input = NewTenant {
            slug: TenantSlug::parse(DEFAULT_TENANT)?,
            name: Name::parse("name", "Default")?,
            admin_email: Email::parse("admin@cohort.local")?,
        };
        match self.seed(input, true, token, None).await {
            Ok(created) => Ok(Bootstrap::Created(Box::new(created))),
            // Another server sharing the database bootstrapped first.
            Err(ServiceError::Conflict { .. }) => Ok(Bootstrap::AlreadyDone),
            Err(e) => Err(e),
        }
    }

    /// Creates a tenant (system tokens only).
    pub async fn create_tenant(&self, ctx: &Ctx, input: NewTenant) -> ServiceResult<TenantCreated> {
        require_system(ctx)?;
        if self.vault.unguarded().await?.tenant_by_slug(input.slug.as_str()).await?.is_some() {
            return Err(ServiceError::Conflict {
                field: "slug".to_owned(),
                reason: format!("tenant slug `{}` is already taken", input.slug),
            });
        }
        self.seed(input, false, None, Some(ctx)).await
    }

    /// Every tenant (system tokens only).
    pub async fn list_tenants(&self, ctx: &Ctx) -> ServiceResult<Vec<Tenant>> {
        require_system(ctx)?;
        Ok(self.vault.unguarded().await?.list_tenants().await?)
    }

    async fn seed(
        &self,
        input: NewTenant,
        system: bool,
        secret: Option<String>,
        by: Option<&Ctx>,
    ) -> ServiceResult<TenantCreated> {
        let origin = by.map_or(Origin { actor: None, request_id: "bootstrap" }, Origin::from);
        let now = self.now();
        let tenant = Tenant {
            id: TenantId::generate(self.ids()),
            slug: input.slug,
            name: input.name,
            revision: 1,
            user_types: [UserType::default()].into(),
            time_zone: None,
            created_at: now,
        };
        let w = self.vault.create_tenant(&tenant).await?;
        let mut change = Change::new(w, Arc::new(tokio::sync::RwLock::new(Live::empty())).read_owned().await);
        change.tx.allow(match by {
            Some(ctx) => Allowed::system(ctx, &tenant.id)?,
            None => Allowed::first_start(&tenant.id),
        })?;
        for t in cohort_store::builtin_resource_types() {
            change.tx.write()?.insert_resource_type(&t).await?;
        }
        self.audit(
            &mut change,
            origin,
            "tenant.create",
            ("tenant", tenant.id.as_str()),
            None::<&()>,
            Some(&TenantSnapshot::from(&tenant)),
        );
        let mut admin_role = None;
        for b in BuiltinRole::ALL {
            let role = Role {
                id: RoleId::generate(self.ids()),
                name: Name::parse("name", b.name())?,
                description: Description::parse(&format!("built-in `{}` role", b.name()))?,
                permissions: b.permissions(),
                builtin: true,
                created_at: now,
                updated_at: now,
            };
            change.tx.write()?.insert_role(&role).await?;
            change.touch_role(&role.id);
            self.audit(
                &mut change,
                origin,
                "role.create",
                ("role", role.id.as_str()),
                None::<&()>,
                Some(&RoleSnapshot::from(&role)),
            );
            if b == BuiltinRole::Admin {
                admin_role = Some(role);
            }
        }
        let admin = User {
            id: UserId::generate(self.ids()),
            email: Some(input.admin_email),
            user_name: None,
            display_name: ShortText::parse("displayName", "Administrator", false)?,
            department: ShortText::parse("department", "", false)?,
            title: ShortText::parse("title", "", false)?,
            attributes: Attributes::default(),
            sso_groups: Default::default(),
            status: UserStatus::Active,
            user_type: UserType::default(),
            external_id: None,
            time_zone: None,
            created_at: now,
            updated_at: now,
        };
        change.tx.write()?.insert_user(&admin).await?;
        self.audit(
            &mut change,
            origin,
            "user.create",
            ("user", admin.id.as_str()),
            None::<&()>,
            Some(&UserSnapshot::from(&admin)),
        );
        if let Some(role) = admin_role {
            change
                .tx
                .write()?
                .assign_role(&Subject::User(admin.id.clone()), &role.id, by.and_then(Ctx::user), now)
                .await?;
            self.audit(
                &mut change,
                origin,
                "user.role.assign",
                ("user", admin.id.as_str()),
                None::<&()>,
                Some(&RoleSnapshot::from(&role)),
            );
        }
        let secret = secret.unwrap_or_else(new_secret);
        let token = ApiToken {
            id: TokenId::generate(self.ids()),
            user_id: admin.id.clone(),
            name: Name::parse("name", "admin")?,
            system,
            scope: TokenScope::Api,
            created_at: now,
            last_used_at: None,
        };
        change.tx.write()?.insert_token(&token, &hash_secret(&secret)).await?;
        self.audit(
            &mut change,
            origin,
            "token.create",
            ("token", token.id.as_str()),
            None::<&()>,
            Some(&TokenSnapshot::from(&token)),
        );
        let revision = self.finish(change).await?;
        Ok(TenantCreated { tenant, admin, secret, revision })
    }
}
