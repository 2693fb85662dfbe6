//! API tokens: create (secret shown once), list without secrets, regenerate, revoke.

use super::authn::{hash_secret, new_secret};
use super::authz::Guard;
use super::snapshot::TokenSnapshot;
use super::{Change, Ctx, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::model::{ApiToken, TokenScope};
use cohort_core::name::Name;
use cohort_core::permission::CohortPermission as P;
use cohort_core::{TokenId, UserId};

/// A token and its secret, which is shown only now.
#[derive(Clone, Debug)]
pub struct TokenCreated {
    /// The token.
    pub token: ApiToken,
    /// The secret to send as `Authorization: Bearer ...`.
    pub secret: String,
}

impl Services {
    /// Creates a token for the caller, or (admins only) for another user: a credential is issued
    /// only by its owner or an admin. A SCIM token, which an identity provider keeps, also
    /// needs `cohort:tokens.manage`.
    pub async fn create_token(
        &self,
        ctx: &Ctx,
        name: Name,
        user: Option<UserId>,
        token_scope: TokenScope,
    ) -> ServiceResult<Written<TokenCreated>> {
        self.change(ctx, async |change| {
            let state = &change.before.state;
            let user = match user {
                Some(user) => user,
                None => ctx.own_user()?.clone(),
            };
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = if ctx.is_user(&user) {
                match token_scope {
                    TokenScope::Api => guard.require_self(&user)?,
                    TokenScope::Scim => guard.require(P::TokensManage)?,
                }
            } else {
                let proof = guard.require(P::TokensManage)?;
                if state.user(&user).is_none() {
                    return Err(ServiceError::Invalid(vec![FieldError {
                        field: "userId".to_owned(),
                        message: format!("user `{user}` not found"),
                    }]));
                }
                if !guard.can(P::Admin) {
                    return Err(Self::refuse_credential(change, "token.create", &user));
                }
                proof
            };
            change.tx.allow(proof)?;
            let token = ApiToken {
                id: TokenId::generate(self.ids()),
                user_id: user,
                name,
                system: false,
                scope: token_scope,
                created_at: self.now(),
                last_used_at: None,
            };
            let secret = new_secret();
            change.tx.write()?.insert_token(&token, &hash_secret(&secret)).await?;
            self.audit(
                change,
                ctx.into(),
                "token.create",
                ("token", token.id.as_str()),
                None::<&()>,
                Some(&TokenSnapshot::from(&token)),
            );
            Ok(TokenCreated { token, secret })
        })
        .await
    }

    /// The caller's tokens, or everyone's with `cohort:tokens.manage`.
    pub async fn list_tokens(&self, ctx: &Ctx, all: bool) -> ServiceResult<Vec<ApiToken>> {
        let tenant = ctx.tenant();
        let mut r = self
            .read_for(
                ctx,
                |guard, _| if all { guard.require(P::TokensManage) } else { guard.require_self(ctx.own_user()?) },
            )
            .await?;
        Ok(r.list_tokens(tenant, if all { None } else { ctx.user() }).await?)
    }

    /// Replaces a token's secret: the caller's own tokens, or (admins only) anyone's, since
    /// whoever regenerates a token receives its new secret.
    pub async fn regenerate_token(&self, ctx: &Ctx, id: &TokenId) -> ServiceResult<Written<TokenCreated>> {
        self.change(ctx, async |change| {
            let token = change.token(id).await?;
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = if ctx.is_user(&token.user_id) {
                guard.require_self(&token.user_id)?
            } else {
                let proof = guard.require(P::TokensManage)?;
                if !guard.can(P::Admin) {
                    return Err(Self::refuse_credential(change, "token.regenerate", &token.user_id));
                }
                proof
            };
            change.tx.allow(proof)?;
            let secret = new_secret();
            change.tx.write()?.set_token_secret(id, &hash_secret(&secret)).await?;
            self.audit(
                change,
                ctx.into(),
                "token.regenerate",
                ("token", id.as_str()),
                None::<&()>,
                Some(&TokenSnapshot::from(&token)),
            );
            Ok(TokenCreated { token, secret })
        })
        .await
    }

    /// Revokes a token (own tokens, or any with `cohort:tokens.manage`): taking a credential
    /// away confers nothing.
    pub async fn revoke_token(&self, ctx: &Ctx, id: &TokenId) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            let token = change.token(id).await?;
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = if ctx.is_user(&token.user_id) {
                guard.require_self(&token.user_id)?
            } else {
                guard.require(P::TokensManage)?
            };
            change.tx.allow(proof)?;
            change.tx.write()?.delete_token(id).await?;
            self.audit(
                change,
                ctx.into(),
                "token.revoke",
                ("token", id.as_str()),
                Some(&TokenSnapshot::from(&token)),
                None::<&()>,
            );
            Ok(())
        })
        .await
    }
}

impl Services {
    /// Mints a new admin token for the tenant with slug `tenant`, for an operator who lost the
    /// one printed on first start: `cohort admin-token`, run against the database, not through
    /// the API. The token belongs to the tenant's first active admin (by id) and, like the
    /// first-start token, manages tenants when the tenant is `default`. Audited as
    /// `token.create` with the request id `admin-token`.
    pub async fn mint_admin_token(&self, tenant: &str) -> ServiceResult<TokenCreated> {
        let found = self.vault.unguarded().await?.tenant_by_slug(tenant).await?;
        let tenant = found.ok_or_else(|| ServiceError::NotFound(format!("tenant `{tenant}`")))?;
        let now = self.now();
        let admin = {
            let live = self.live(&tenant.id).await?;
            let mut admins: Vec<&UserId> = live
                .state
                .user_ids()
                .filter(|u| live.state.user(u).is_some_and(|f| f.active))
                .filter(|u| super::authz::allows(&live, u, P::Admin.as_str(), now))
                .collect();
            admins.sort();
            admins.first().map(|u| (*u).clone())
        };
        let admin = admin.ok_or_else(|| ServiceError::Conflict {
            field: "tenant".to_owned(),
            reason: format!("tenant `{}` has no active admin", tenant.slug),
        })?;
        let mut change = self.begin(&tenant.id).await?;
        change.tx.allow(super::authz::Allowed::offline(&tenant.id))?;
        let token = ApiToken {
            id: TokenId::generate(self.ids()),
            user_id: admin,
            name: Name::parse("name", "admin (recovered)")?,
            system: tenant.slug.as_str() == super::tenant::DEFAULT_TENANT,
            scope: TokenScope::Api,
            created_at: now,
            last_used_at: None,
        };
        let secret = new_secret();
        change.tx.write()?.insert_token(&token, &hash_secret(&secret)).await?;
        let origin = super::Origin { actor: None, request_id: "admin-token" };
        let target = ("token", token.id.as_str());
        self.audit(&mut change, origin, "token.create", target, None::<&()>, Some(&TokenSnapshot::from(&token)));
        self.finish(change).await?;
        Ok(TokenCreated { token, secret })
    }

    /// Refuses to issue a credential for `owner` to a caller who is neither that user nor an
    /// admin, auditing the refused attempt.
    fn refuse_credential(change: &mut Change, action: &str, owner: &UserId) -> ServiceError {
        let reason = format!(
            "a credential for user `{owner}` is issued only by that user or an admin; this needs the `{}` permission",
            P::Admin.as_str()
        );
        let attempted = serde_json::json!({ "userId": owner.as_str() });
        change.refuse(action, ("user", owner.as_str()), attempted, ServiceError::Forbidden(reason))
    }
}
