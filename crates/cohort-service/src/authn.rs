//! Authentication: bearer tokens, stored only as SHA-256 hashes.

use super::{Actor, Ctx, Principal, Services};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::{TokenScope, UserStatus};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

const TOKEN_PREFIX: &str = "cohort_";

/// Makes a new token secret: the prefix and 40 random lowercase letters and digits.
pub fn new_secret() -> String {
    random_secret(TOKEN_PREFIX)
}

/// `prefix` and 40 random lowercase letters and digits (206 bits).
pub fn random_secret(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let body: String = (0..40).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("{prefix}{body}")
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()).into())
}

/// A SHA-256 digest as lowercase hex, as the store keeps it.
fn hex(digest: &Digest32) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for &b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Checks that a secret given by an operator (bootstrap) looks like one cohort would make.
pub fn valid_secret(secret: &str) -> bool {
    secret.len() >= 24 && secret.len() <= 200 && secret.bytes().all(|b| b.is_ascii_graphic())
}

/// Tokens recently seen, by the SHA-256 of their secret, with the tenant revision they were
/// looked up at. Every change to tokens or users commits a new revision, so an entry is used
/// only while its tenant's live view is still at that revision.
#[derive(Default)]
pub struct TokenCache(std::sync::Mutex<HashMap<Digest32, (Arc<Principal>, i64)>>);

/// A SHA-256 digest.
type Digest32 = [u8; 32];

/// Entries kept at most; the cache is emptied when it grows past this.
const TOKEN_CACHE_MAX: usize = 10_000;

impl Services {
    /// Finds who a bearer token belongs to, without tying it to a tenant in the URL.
    pub(super) async fn principal(&self, bearer: Option<&str>) -> ServiceResult<Arc<Principal>> {
        let secret = bearer.ok_or_else(|| ServiceError::Unauthorized("a bearer token is required".to_owned()))?;
        let hash: Digest32 = Sha256::digest(secret.as_bytes()).into();
        let cached = self.tokens.0.lock().ok().and_then(|m| m.get(&hash).cloned());
        if let Some((principal, revision)) = cached
            && self.live(&principal.tenant.id).await?.revision == revision
        {
            return Ok(principal);
        }
        let principal = Arc::new(self.look_up_token(&hex(&hash)).await?);
        // The revision is read after the lookup: a change in between only makes the entry
        // look stale, never fresh.
        let revision = self.live(&principal.tenant.id).await?.revision;
        if let Ok(mut m) = self.tokens.0.lock() {
            if m.len() >= TOKEN_CACHE_MAX {
                m.clear();
            }
            m.insert(hash, (principal.clone(), revision));
        }
        Ok(principal)
    }

    async fn look_up_token(&self, hash: &str) -> ServiceResult<Principal> {
        let invalid = || ServiceError::Unauthorized("the bearer token is not valid".to_owned());
        let mut r = self.vault.unguarded().await?;
        let record = r.token_by_hash(hash).await?.ok_or_else(invalid)?;
        let tenant = r.tenant_by_id(&record.tenant_id).await?.ok_or_else(invalid)?;
        let user = r.get_user(&tenant.id, &record.token.user_id).await?.ok_or_else(invalid)?;
        if user.status != UserStatus::Active {
            return Err(ServiceError::Unauthorized("the token's user is suspended".to_owned()));
        }
        r.touch_token(&tenant.id, &record.token.id, self.now()).await?;
        Ok(Principal {
            tenant,
            actor: Actor::User(user.id),
            token: Some(record.token.id),
            system: record.token.system,
            scope: record.token.scope,
        })
    }

    /// Authenticates a request to `/t/{tenant_slug}/...`. A token of another tenant is told
    /// the tenant does not exist, as an unknown slug is.
    pub async fn authenticate(&self, tenant_slug: &str, bearer: Option<&str>, request_id: &str) -> ServiceResult<Ctx> {
        self.authenticate_for(TokenScope::Api, tenant_slug, bearer, request_id).await
    }

    /// Authenticates a request to one tenant's face `scope` (REST or SCIM): a token opens
    /// only its own tenant and only the face it was made for.
    pub async fn authenticate_for(
        &self,
        scope: TokenScope,
        tenant_slug: &str,
        bearer: Option<&str>,
        request_id: &str,
    ) -> ServiceResult<Ctx> {
        let principal = self.principal(bearer).await?;
        if principal.tenant.slug.as_str() != tenant_slug {
            return Err(ServiceError::NotFound(format!("tenant `{tenant_slug}`")));
        }
        if principal.scope != scope {
            return Err(ServiceError::Forbidden(format!(
                "this token opens the `{}` face only, not `{}`",
                principal.scope.as_str(),
                scope.as_str()
            )));
        }
        Ok(Ctx::new(principal, request_id))
    }

    /// Authenticates a request to the system API (`/api/v1/...`): only system tokens pass.
    pub async fn authenticate_system(&self, bearer: Option<&str>, request_id: &str) -> ServiceResult<Ctx> {
        let principal = self.principal(bearer).await?;
        if !principal.system {
            return Err(ServiceError::Forbidden("this needs a system token".to_owned()));
        }
        Ok(Ctx::new(principal, request_id))
    }
}
