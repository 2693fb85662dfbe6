//! Console sessions: a person's API token turned into a signed-in session, resumed on every
//! request from its cookie and ended by signing out, by timing out, or by losing what it stood
//! on (the token revoked or regenerated, the user suspended, a `cohort:` permission removed).

use super::authn::{hash_secret, random_secret};
use super::authz::Guard;
use super::{Actor, Change, Ctx, Principal, Services, Written};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::{SignInMethod, TokenScope, UserStatus};
use cohort_core::permission::{CohortPermission, Permission};
use cohort_store::ConsoleSession;
use std::sync::Arc;

/// How long sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused for this long has ended, in milliseconds (default 30 minutes).
    pub idle_ms: i64,
    /// A session this old has ended however much it is used, in milliseconds (default 12 hours).
    pub absolute_ms: i64,
    /// The most sign-ins through the identity provider in progress at once per tenant (each
    /// is a row until the provider sends the person back or it ages out); default 10,000.
    pub pending_sign_ins: i64,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self { idle_ms: 30 * 60_000, absolute_ms: 12 * 3_600_000, pending_sign_ins: 10_000 }
    }
}

/// The prefix of a session's secret, so that one is never taken for an API token.
const SESSION_PREFIX: &str = "cohort_session_";

/// How often a session's last use is written down: a request within this of the last write
/// leaves the row alone.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Why a session could not be resumed; the console says so on the sign-in page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// No session (never signed in, or signed out).
    None,
    /// Unused for longer than the idle timeout, or older than the absolute one.
    TimedOut,
    /// Its token was revoked or regenerated, or its user suspended.
    Revoked,
    /// Its user lost a `cohort:` permission they held when signing in.
    AccessChanged,
}

/// A session just opened: its secret goes into the cookie and is never stored.
#[derive(Debug)]
pub struct SignedIn {
    /// The cookie's value.
    pub secret: String,
    /// The signed-in caller.
    pub ctx: Ctx,
}

impl Services {
    /// Opens a console session for whoever `token` belongs to: an API token of this tenant whose
    /// user holds a `cohort:` permission or manages a group. Every refusal reads alike, so the
    /// page tells nothing about tokens of other tenants.
    /// Failed attempts are counted per client address: past [`MAX_FAILED_SIGN_INS`] in
    /// [`FAILED_SIGN_IN_WINDOW_MS`], that address is refused (429) until the oldest ages out.
    pub async fn sign_in(
        &self,
        tenant_slug: &str,
        token: &str,
        client: std::net::IpAddr,
        request_id: &str,
    ) -> ServiceResult<Written<SignedIn>> {
        let result = self.token_sign_in(tenant_slug, token, client, request_id).await;
        if let Err(e @ (ServiceError::Unauthorized(_) | ServiceError::Forbidden(_))) = &result
            && let Some(tenant) = self.vault.unguarded().await?.tenant_by_slug(tenant_slug).await?
        {
            self.audit_failed_sign_in(&tenant.id, SignInMethod::Token, None, request_id, e).await;
        }
        result
    }

    async fn token_sign_in(
        &self,
        tenant_slug: &str,
        token: &str,
        client: std::net::IpAddr,
        request_id: &str,
    ) -> ServiceResult<Written<SignedIn>> {
        let now = self.now();
        self.sign_ins.admit(&client, now, "your address")?;
        let refused = || {
            self.sign_ins.fail(&client, now);
            ServiceError::Unauthorized("this token does not open the console of this tenant".to_owned())
        };
        let principal = match self.principal(Some(token.trim())).await {
            Ok(p) if p.tenant.slug.as_str() == tenant_slug && p.scope == TokenScope::Api => p,
            Ok(_) | Err(ServiceError::Unauthorized(_)) => return Err(refused()),
            Err(e) => return Err(e),
        };
        let ctx = Ctx::new(principal, request_id);
        let secret = random_secret(SESSION_PREFIX);
        self.change(&ctx, async |change| {
            let guard = Guard::new(&ctx, &change.before, self.now());
            let held = held(&guard);
            if held.is_empty() && guard.managed().next().is_none() {
                return Err(ServiceError::Forbidden(
                    "the console is for people who hold a `cohort:` permission or manage a group".to_owned(),
                ));
            }
            change.tx.allow(guard.require_self(ctx.own_user()?)?)?;
            self.open_session_in(change, &ctx, SignInMethod::Token, held, &secret).await
        })
        .await
        .map(|w| Written { value: SignedIn { secret: secret.clone(), ctx: ctx.clone() }, revision: w.revision })
    }

    /// Audits a sign-in that failed (`session.create.refused`), with its method, the email it
    /// was tried with (passwords) and why, in the tenant it was tried on.
    pub async fn audit_failed_sign_in(
        &self,
        tenant: &cohort_core::TenantId,
        method: SignInMethod,
        email: Option<&str>,
        request_id: &str,
        e: &ServiceError,
    ) {
        let origin = super::Origin { actor: None, request_id };
        let attempted = serde_json::json!({ "method": method.as_str(), "email": email });
        let target = ("tenant", tenant.as_str());
        self.record_refusal(tenant, origin, "session.create", target, Some(attempted), &e.to_string()).await;
    }

    /// Opens a console session for the caller of `ctx` in `change` (allowed, its other steps
    /// done), holding the `cohort:` permissions they held as the change began, and commits.
    pub async fn finish_sign_in(
        &self,
        mut change: Change,
        ctx: Ctx,
        method: SignInMethod,
    ) -> ServiceResult<Written<SignedIn>> {
        let held = held(&Guard::new(&ctx, &change.before, self.now()));
        let secret = random_secret(SESSION_PREFIX);
        self.open_session_in(&mut change, &ctx, method, held, &secret).await?;
        let revision = self.finish(change).await?;
        Ok(Written { value: SignedIn { secret, ctx }, revision })
    }

    /// Writes a session row for the caller of `ctx`, signed in by `method` and holding `held`,
    /// and audits it (`session.create`, with the method); the change is allowed.
    async fn open_session_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        method: SignInMethod,
        held: Vec<Permission>,
        secret: &str,
    ) -> ServiceResult<()> {
        let now = self.now();
        let user = ctx.own_user()?;
        let session = ConsoleSession {
            user_id: user.clone(),
            method,
            token_id: ctx.principal.token.clone(),
            held,
            created_at: now,
            last_seen_at: now,
        };
        change.tx.write()?.insert_session(&hash_secret(secret), &session).await?;
        let token = ctx.principal.token.as_ref().map(ToString::to_string);
        self.audit(
            change,
            ctx.into(),
            "session.create",
            ("user", user.as_str()),
            None::<&()>,
            Some(&serde_json::json!({ "method": method.as_str(), "token": token })),
        );
        Ok(())
    }

    /// Resumes the session whose cookie is `secret` on a request to `tenant_slug`. A session
    /// that has ended is forgotten, and the caller told why.
    pub async fn resume(&self, tenant_slug: &str, secret: &str, request_id: &str) -> Result<Ctx, Resume> {
        let hash = hash_secret(secret);
        let mut r = self.vault.unguarded().await?;
        let tenant = r.tenant_by_slug(tenant_slug).await?.ok_or(Resume::Ended(SessionEnd::None))?;
        let session = r.get_session(&tenant.id, &hash).await?.ok_or(Resume::Ended(SessionEnd::None))?;
        let now = self.now();
        let end = if now.millis() - session.last_seen_at.millis() > self.config.sessions.idle_ms
            || now.millis() - session.created_at.millis() > self.config.sessions.absolute_ms
        {
            Some(SessionEnd::TimedOut)
        } else {
            None
        };
        // A session opened with a token stands on it; every session stands on its active user.
        let token = match (&end, &session.token_id) {
            (None, Some(id)) => r.get_token(&tenant.id, id).await?.filter(|t| t.user_id == session.user_id).map(Some),
            (None, None) => Some(None),
            (Some(_), _) => None,
        };
        let user = match &token {
            Some(_) => r.get_user(&tenant.id, &session.user_id).await?.filter(|u| u.status == UserStatus::Active),
            None => None,
        };
        let (Some(token), Some(user)) = (token, user) else {
            r.forget_session(&tenant.id, &hash).await?;
            return Err(Resume::Ended(end.unwrap_or(SessionEnd::Revoked)));
        };
        let principal = Arc::new(Principal {
            tenant: tenant.clone(),
            actor: Actor::User(user.id),
            system: token.as_ref().is_some_and(|t| t.system),
            token: token.map(|t| t.id),
            scope: TokenScope::Api,
        });
        let ctx = Ctx::new(principal, request_id);
        let kept = {
            let live = self.live(&tenant.id).await?;
            let guard = Guard::new(&ctx, &live, now);
            session.held.iter().all(|p| guard.holds(p.as_str()))
        };
        if !kept {
            r.forget_session(&tenant.id, &hash).await?;
            return Err(Resume::Ended(SessionEnd::AccessChanged));
        }
        r.touch_session(&tenant.id, &hash, now, TOUCH_EVERY_MS).await?;
        Ok(ctx)
    }

    /// Ends the caller's session (signing out).
    pub async fn sign_out(&self, ctx: &Ctx, secret: &str) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            let guard = Guard::new(ctx, &change.before, self.now());
            let user = ctx.own_user()?;
            change.tx.allow(guard.require_self(user)?)?;
            let tenant = change.tenant().clone();
            let method = change.tx.read().get_session(&tenant, &hash_secret(secret)).await?.map(|s| s.method);
            if change.tx.write()?.delete_session(&hash_secret(secret)).await? {
                let before = method.map(|m| serde_json::json!({ "method": m.as_str() }));
                self.audit(change, ctx.into(), "session.delete", ("user", user.as_str()), before.as_ref(), None::<&()>);
            }
            Ok(())
        })
        .await
    }
}

/// The `cohort:` permissions the caller holds.
fn held(guard: &Guard<'_>) -> Vec<Permission> {
    CohortPermission::ALL
        .into_iter()
        .filter(|p| guard.can(*p))
        .filter_map(|p| Permission::parse(p.as_str()).ok())
        .collect()
}

/// Why a request's session could not be resumed.
#[derive(Debug)]
pub enum Resume {
    /// The session has ended, for this reason.
    Ended(SessionEnd),
    /// The database could not answer.
    Failed(ServiceError),
}

impl From<ServiceError> for Resume {
    fn from(e: ServiceError) -> Self {
        Self::Failed(e)
    }
}

impl From<cohort_store::StoreError> for Resume {
    fn from(e: cohort_store::StoreError) -> Self {
        Self::Failed(e.into())
    }
}

/// The caller of a sign-in without a token (through the provider, or with a password): `user`
/// of `tenant`.
pub fn signing_in(tenant: &cohort_core::model::Tenant, user: &cohort_core::UserId, request_id: &str) -> Ctx {
    let principal = Principal {
        tenant: tenant.clone(),
        actor: Actor::User(user.clone()),
        token: None,
        system: false,
        scope: TokenScope::Api,
    };
    Ctx::new(Arc::new(principal), request_id)
}
