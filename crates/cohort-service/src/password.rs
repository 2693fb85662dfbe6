//! Local sign-in, for tenants without an identity provider (and for their admins when the
//! provider is `ssoOnly`): a one-time invitation (valid 72 hours, its secret shown once and
//! stored as a hash) lets a user set a password, kept as an Argon2id hash with OWASP's
//! parameters; signing in with it is rate-limited per account and per client address. A
//! password reset is a new invitation.

use super::authn::{hash_secret, random_secret};
use super::authz::{Allowed, Guard};
use super::{Ctx, Origin, Services, SignedIn, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use cohort_core::model::{SignInMethod, User, UserStatus};
use cohort_core::name::Email;
use cohort_core::permission::CohortPermission as P;
use cohort_core::{Timestamp, UserId};
use cohort_store::Invitation;

/// How long an invitation works.
pub const INVITATION_FOR_MS: i64 = 72 * 3_600_000;
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;
/// The longest (hashing is bounded).
const MAX_PASSWORD: usize = 256;
/// The prefix of an invitation's secret.
const INVITATION_PREFIX: &str = "cohort_invite_";

/// Passwords too common to accept (compared without case), whatever their length.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "qwertyuiopasdf",
    "qwertyuiop123",
    "passwordpassword",
    "password1234",
    "password12345",
    "password123456",
    "password123!",
    "passw0rd1234",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "welcome123456",
    "administrator",
    "administrator1",
    "changeme1234",
    "trustno1trustno1",
    "abcdefghijkl",
    "abcdef123456",
    "abc123abc123",
    "aaaaaaaaaaaa",
    "111111111111",
    "000000000000",
    "monkeymonkey",
    "dragondragon",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "starwars1234",
    "qwerty123456",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "asdfghjkl123",
    "correcthorsebatterystaple",
    "mustang12345",
    "master123456",
];

/// An invitation just made: its link's secret is shown only now.
#[derive(Debug)]
pub struct InvitationCreated {
    /// The secret, for `/t/{tenant}/login/invitation/{secret}`.
    pub secret: String,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// Whose password it sets.
    pub user_id: UserId,
}

fn hasher() -> ServiceResult<Argon2<'static>> {
    // OWASP's Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|_| ServiceError::Internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password: 12 to 256 characters, not a common one, not the email.
fn check_password(password: &str, user: &User) -> ServiceResult<()> {
    let n = password.chars().count();
    let lower = password.to_lowercase();
    let why = if n < MIN_PASSWORD {
        Some(format!("must be at least {MIN_PASSWORD} characters"))
    } else if n > MAX_PASSWORD {
        Some(format!("must be at most {MAX_PASSWORD} characters"))
    } else if COMMON.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c)) {
        Some("is too common: choose another".to_owned())
    } else if user.email.as_ref().is_some_and(|e| e.key() == lower) {
        Some("must not be your email".to_owned())
    } else {
        None
    };
    match why {
        Some(message) => Err(ServiceError::Invalid(vec![FieldError { field: "password".to_owned(), message }])),
        None => Ok(()),
    }
}

/// Hashes or verifies off the async workers: Argon2id is made to be slow.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ServiceResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|_| ServiceError::Internal)
}

impl Services {
    /// Makes a one-time invitation for `user` to set a password (their earlier unused ones stop
    /// working): by that user themself or an admin, as every credential (someone who manages
    /// tokens but is not an admin is refused, and the refusal audited).
    pub async fn create_invitation(&self, ctx: &Ctx, user: &UserId) -> ServiceResult<Written<InvitationCreated>> {
        self.change(ctx, async |change| {
            let own = ctx.is_user(user);
            // Like a token for someone else: managing credentials opens the door, and only an
            // admin goes through it (a refusal there is audited).
            let (proof, admin) = {
                let guard = Guard::new(ctx, &change.before, self.now());
                if own {
                    (guard.require_self(user), true)
                } else {
                    (guard.require(P::TokensManage), guard.can(P::Admin))
                }
            };
            let proof = match (proof, admin) {
                (Ok(p), true) => p,
                (Ok(_), false) => {
                    let reason = format!(
                        "a credential for user `{user}` is issued only by that user or an admin; this needs the `{}` \
                         permission",
                        P::Admin.as_str()
                    );
                    let attempted = serde_json::json!({ "userId": user.as_str() });
                    let e = ServiceError::Forbidden(reason);
                    return Err(change.refuse("invitation.create", ("user", user.as_str()), attempted, e));
                }
                (Err(e), _) => return Err(e),
            };
            change.tx.allow(proof)?;
            let target = change.user(user).await?;
            if target.email.is_none() {
                return Err(ServiceError::Conflict {
                    field: "userId".to_owned(),
                    reason: "this user has no email to sign in with".to_owned(),
                });
            }
            let now = self.now();
            let secret = random_secret(INVITATION_PREFIX);
            let inv = Invitation {
                user_id: user.clone(),
                created_by: ctx.user().cloned(),
                created_at: now,
                expires_at: Timestamp(now.millis() + INVITATION_FOR_MS),
                used_at: None,
            };
            change.tx.write()?.insert_invitation(&hash_secret(&secret), &inv).await?;
            let after =
                serde_json::json!({ "userId": user.as_str(), "expiresAt": crate::format::rfc3339(inv.expires_at) });
            self.audit(change, ctx.into(), "invitation.create", ("user", user.as_str()), None::<&()>, Some(&after));
            Ok(InvitationCreated { secret: secret.clone(), expires_at: inv.expires_at, user_id: user.clone() })
        })
        .await
    }

    /// The user an invitation is for, while it works (unused, not expired); the same refusal
    /// for an unknown, used or expired one.
    pub async fn invitation_user(&self, tenant_slug: &str, secret: &str) -> ServiceResult<User> {
        let gone = || ServiceError::NotFound("this invitation: it was used, has expired or never was".to_owned());
        let mut r = self.vault.unguarded().await?;
        let tenant = r.tenant_by_slug(tenant_slug).await?.ok_or_else(gone)?;
        let inv = r.get_invitation(&tenant.id, &hash_secret(secret)).await?.ok_or_else(gone)?;
        if inv.used_at.is_some() || inv.expires_at <= self.now() {
            return Err(gone());
        }
        r.get_user(&tenant.id, &inv.user_id).await?.ok_or_else(gone)
    }

    /// Sets the password an invitation is for; the invitation then stops working (once, even
    /// when two servers are handed it at the same moment).
    pub async fn accept_invitation(
        &self,
        tenant_slug: &str,
        secret: &str,
        password: &str,
        request_id: &str,
    ) -> ServiceResult<Written<()>> {
        let user = self.invitation_user(tenant_slug, secret).await?;
        check_password(password, &user)?;
        let hasher = hasher()?;
        let owned = password.to_owned();
        let hash = blocking(move || hasher.hash_password(owned.as_bytes()).map(|h| h.to_string()))
            .await?
            .map_err(|_| ServiceError::Internal)?;
        let tenant = self.vault.unguarded().await?.tenant_by_slug(tenant_slug).await?.ok_or(ServiceError::Internal)?;
        let mut change = self.begin(&tenant.id).await?;
        change.tx.allow(Allowed::sign_in(&tenant.id))?;
        if !change.tx.write()?.use_invitation(&hash_secret(secret), self.now()).await? {
            return Err(ServiceError::NotFound("this invitation: it was used, has expired or never was".to_owned()));
        }
        change.tx.write()?.set_password(&user.id, &hash, self.now()).await?;
        let origin = Origin { actor: Some(user.id.as_str()), request_id };
        self.audit(&mut change, origin, "password.set", ("user", user.id.as_str()), None::<&()>, None::<&()>);
        Ok(Written { value: (), revision: self.finish(change).await? })
    }

    /// Signs in with an email and password: a console session for the user. Failures are
    /// counted per client address and per account (past [`super::MAX_FAILED_SIGN_INS`] in the
    /// window, 429), answer alike whatever was wrong, and are audited. When the provider is
    /// `ssoOnly`, only tenant admins sign in this way.
    pub async fn password_sign_in(
        &self,
        tenant_slug: &str,
        email: &str,
        password: &str,
        client: std::net::IpAddr,
        request_id: &str,
    ) -> ServiceResult<Written<SignedIn>> {
        let now = self.now();
        let tenant = self
            .vault
            .unguarded()
            .await?
            .tenant_by_slug(tenant_slug)
            .await?
            .ok_or_else(|| ServiceError::Unauthorized("this email and password do not sign in here".to_owned()))?;
        let account = (tenant.id.clone(), email.trim().to_lowercase());
        self.sign_ins.admit(&client, now, "your address")?;
        self.account_sign_ins.admit(&account, now, "this account")?;
        let result = self.check_password_sign_in(&tenant, email, password, request_id).await;
        match result {
            Ok(w) => Ok(w),
            Err(e) => {
                if matches!(e, ServiceError::Unauthorized(_) | ServiceError::Forbidden(_)) {
                    self.sign_ins.fail(&client, now);
                    self.account_sign_ins.fail(&account, now);
                }
                self.audit_failed_sign_in(&tenant.id, SignInMethod::Password, Some(&account.1), request_id, &e).await;
                Err(e)
            }
        }
    }

    async fn check_password_sign_in(
        &self,
        tenant: &cohort_core::model::Tenant,
        email: &str,
        password: &str,
        request_id: &str,
    ) -> ServiceResult<Written<SignedIn>> {
        let wrong = || ServiceError::Unauthorized("this email and password do not sign in here".to_owned());
        let (user, hash) = {
            let mut r = self.vault.unguarded().await?;
            let user = match Email::parse(email.trim()) {
                Ok(e) => r.user_by_email(&tenant.id, &e).await?,
                Err(_) => None,
            };
            let hash = match &user {
                Some(u) => r.password_hash(&tenant.id, &u.id).await?,
                None => None,
            };
            (user, hash)
        };
        // The hash is checked even when there is none to check, so that a wrong email takes
        // as long as a wrong password.
        let stored = hash.clone().unwrap_or_else(|| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J3wTCVPQ9B/yMJ3cjBBUWhN03ASKjFtyOmrbVlpKVqs"
                .to_owned()
        });
        let hasher = hasher()?;
        let given = password.chars().take(MAX_PASSWORD).collect::<String>();
        let matches = blocking(move || hasher.verify_password(given.as_bytes(), stored.as_str()).is_ok()).await?;
        // A longer password than any that can be set is checked by its first characters only, and
        // then refused: it cannot be the one set.
        let fits = password.chars().count() <= MAX_PASSWORD;
        let (Some(user), true, true) = (user, matches && fits, hash.is_some()) else { return Err(wrong()) };
        if user.status != UserStatus::Active {
            return Err(ServiceError::Forbidden("your account is suspended: ask an administrator".to_owned()));
        }
        let ctx = super::session::signing_in(tenant, &user.id, request_id);
        let mut change = self.begin(&tenant.id).await?;
        change.tx.allow(Allowed::sign_in(&tenant.id))?;
        let sso_only = change.tx.read().get_identity_provider(&tenant.id).await?.is_some_and(|p| p.sso_only);
        if sso_only && !Guard::new(&ctx, &change.before, self.now()).can(P::Admin) {
            return Err(ServiceError::Forbidden(
                "this tenant signs in through its identity provider only: use the button above".to_owned(),
            ));
        }
        self.finish_sign_in(change, ctx, SignInMethod::Password).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_one_argon2_reads() {
        // The stand-in checked for unknown emails must parse, or they would answer faster.
        let dummy = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J3wTCVPQ9B/yMJ3cjBBUWhN03ASKjFtyOmrbVlpKVqs";
        let h = hasher().unwrap();
        assert!(matches!(h.verify_password(b"anything", dummy), Err(argon2::password_hash::Error::PasswordInvalid)));
        let made = h.hash_password(b"a long enough passphrase").unwrap().to_string();
        assert!(made.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{made}");
        assert!(h.verify_password(b"a long enough passphrase", made.as_str()).is_ok());
    }
}
