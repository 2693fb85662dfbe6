//! OpenID Connect as a relying party: the provider's metadata and signing keys (fetched, kept,
//! and the keys fetched again when an ID token names one not seen yet), the authorization code
//! flow with `state`, `nonce` and PKCE (S256), the ID token checked in full (signature with an
//! asymmetric algorithm, `iss`, `aud`, `azp`, `exp`, `iat`, `nbf`, `nonce`), and the directory
//! call that lists a user's groups when the ID token leaves them out (Entra's groups overage).

mod fetch;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cohort_core::Timestamp;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::outbound::Policy;
use fetch::Http;

/// Why talking to the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider is out of reach or answered something unusable.
    #[error("{0}")]
    Provider(String),
    /// What the provider returned does not prove who signed in.
    #[error("{0}")]
    Refused(String),
}

impl From<OidcError> for crate::error::ServiceError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Provider(why) => Self::Upstream(why),
            OidcError::Refused(why) => Self::Unauthorized(why),
        }
    }
}

/// The parts of a provider's metadata a relying party uses.
#[derive(Clone, Debug, Deserialize)]
pub struct Metadata {
    /// Must equal the configured issuer.
    pub issuer: String,
    /// Where people are sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes are redeemed.
    pub token_endpoint: String,
    /// The published signing keys.
    pub jwks_uri: String,
    /// How the client may authenticate at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// The tokens a code was redeemed for.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    /// The ID token, checked by [`Oidc::verify`].
    pub id_token: String,
    /// For the directory call.
    #[serde(default)]
    pub access_token: Option<String>,
}

/// A code flow's secrets: `state` (its hash is stored), `nonce`, and the PKCE verifier.
pub struct FlowSecrets {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl FlowSecrets {
    /// Fresh random secrets (each 256 bits).
    pub fn new() -> Self {
        let mut rng = rand::rng();
        let mut random = || {
            let bytes: [u8; 32] = rand::Rng::random(&mut rng);
            URL_SAFE_NO_PAD.encode(bytes)
        };
        Self { state: random(), nonce: random(), verifier: random() }
    }
}

/// The PKCE S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// How long metadata is kept before it is read again.
const METADATA_FOR: Duration = Duration::from_secs(3600);
/// The least time between two fetches of a provider's keys for tokens naming unknown keys, so
/// that such tokens cannot make cohort hammer the provider.
const KEYS_AT_MOST_EVERY: Duration = Duration::from_secs(10);
/// Clock skew allowed between cohort and the provider.
const LEEWAY_MS: i64 = 60_000;
/// Pages of the directory call followed at most.
const MAX_DIRECTORY_PAGES: usize = 50;

/// A provider's metadata and keys, as last fetched.
struct Known {
    metadata: Metadata,
    metadata_at: Instant,
    keys: JwkSet,
    /// When the keys were last fetched again for a token naming an unknown key.
    refetched_at: Option<Instant>,
}

/// The relying party: one per server, shared by every tenant (keyed by issuer).
pub struct Oidc {
    http: Http,
    known: Mutex<HashMap<String, Arc<Known>>>,
}

impl Default for Oidc {
    fn default() -> Self {
        Self { http: Http::default(), known: Mutex::new(HashMap::new()) }
    }
}

/// Whether a URL may be used to reach a provider: the outbound room's identity-provider
/// policy (https, or http to this machine only, for development and tests).
pub fn allowed_url(url: &str) -> bool {
    Policy::IdentityProvider.admits(url).is_ok()
}

fn text_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

impl Oidc {
    fn cached(&self, issuer: &str) -> Option<Arc<Known>> {
        self.known.lock().ok().and_then(|m| m.get(issuer).cloned())
    }

    fn keep(&self, issuer: &str, known: Known) -> Arc<Known> {
        let known = Arc::new(known);
        if let Ok(mut m) = self.known.lock() {
            if m.len() >= 1000 {
                m.clear();
            }
            m.insert(issuer.to_owned(), known.clone());
        }
        known
    }

    async fn fetch_keys(&self, metadata: &Metadata) -> Result<JwkSet, OidcError> {
        let keys = self.http.get(&metadata.jwks_uri).await?;
        serde_json::from_value(keys)
            .map_err(|e| OidcError::Provider(format!("the provider's keys are unreadable: {e}")))
    }

    async fn fetch(&self, issuer: &str) -> Result<Arc<Known>, OidcError> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let metadata: Metadata = serde_json::from_value(self.http.get(&url).await?)
            .map_err(|e| OidcError::Provider(format!("the provider's metadata at {url} is unreadable: {e}")))?;
        if metadata.issuer != issuer {
            return Err(OidcError::Provider(format!(
                "the provider's metadata names issuer `{}`, not `{issuer}`",
                metadata.issuer
            )));
        }
        for url in [&metadata.authorization_endpoint, &metadata.token_endpoint, &metadata.jwks_uri] {
            if !allowed_url(url) {
                return Err(OidcError::Provider(format!("the provider's metadata names `{url}`, which is not https")));
            }
        }
        let keys = self.fetch_keys(&metadata).await?;
        Ok(self.keep(issuer, Known { metadata, metadata_at: Instant::now(), keys, refetched_at: None }))
    }

    async fn provider(&self, issuer: &str) -> Result<Arc<Known>, OidcError> {
        match self.cached(issuer) {
            Some(k) if k.metadata_at.elapsed() < METADATA_FOR => Ok(k),
            _ => self.fetch(issuer).await,
        }
    }

    /// The provider's metadata (read from `{issuer}/.well-known/openid-configuration` and kept
    /// for an hour), checked to name `issuer` and https endpoints.
    pub async fn metadata(&self, issuer: &str) -> Result<Metadata, OidcError> {
        Ok(self.provider(issuer).await?.metadata.clone())
    }

    /// Where to send a person to sign in.
    pub fn authorization_url(
        metadata: &Metadata,
        client_id: &str,
        redirect_uri: &str,
        scopes: &[String],
        secrets: &FlowSecrets,
    ) -> String {
        let query = serde_html_form::to_string([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", &scopes.join(" ")),
            ("state", &secrets.state),
            ("nonce", &secrets.nonce),
            ("code_challenge", &challenge(&secrets.verifier)),
            ("code_challenge_method", "S256"),
        ])
        .unwrap_or_default();
        let sep = if metadata.authorization_endpoint.contains('?') { '&' } else { '?' };
        format!("{}{sep}{query}", metadata.authorization_endpoint)
    }

    /// Redeems a code at the token endpoint, with the PKCE verifier and the client's secret
    /// (HTTP Basic unless the provider accepts only the form).
    pub async fn redeem(
        &self,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Tokens, OidcError> {
        let metadata = self.metadata(issuer).await?;
        let methods = &metadata.token_endpoint_auth_methods_supported;
        let basic = methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic");
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let auth = if basic {
            let enc =
                |s: &str| serde_html_form::to_string([("", s)]).unwrap_or_default().trim_start_matches('=').to_owned();
            let pair = format!("{}:{}", enc(client_id), enc(client_secret));
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
        } else {
            form.push(("client_id", client_id));
            form.push(("client_secret", client_secret));
            None
        };
        let body = serde_html_form::to_string(&form).unwrap_or_default();
        let answer = self.http.post_form(&metadata.token_endpoint, &body, auth.as_deref()).await?;
        serde_json::from_value(answer)
            .map_err(|e| OidcError::Provider(format!("the provider's token answer is unreadable: {e}")))
    }

    /// Checks an ID token fully and returns its claims: signed with an asymmetric algorithm
    /// by a key the provider publishes (fetched again, at most every ten seconds, when the
    /// token names a key not seen yet), issued by `issuer` for `client_id` (and, when for
    /// several audiences, authorised for `client_id`), current at `now` within a minute, and
    /// carrying the flow's `nonce`.
    pub async fn verify(
        &self,
        issuer: &str,
        client_id: &str,
        id_token: &str,
        nonce: &str,
        now: Timestamp,
    ) -> Result<Map<String, Value>, OidcError> {
        let refused = |why: String| OidcError::Refused(why);
        if id_token.len() > 64 * 1024 {
            return Err(refused("the ID token is too large".to_owned()));
        }
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|e| refused(format!("the ID token is malformed: {e}")))?;
        let asymmetric = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ];
        if !asymmetric.contains(&header.alg) {
            return Err(refused(format!("the ID token is signed with {:?}, which cohort does not accept", header.alg)));
        }
        let mut known = self.provider(issuer).await?;
        let find = |keys: &JwkSet| match &header.kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        let jwk = match find(&known.keys) {
            Some(k) => k,
            None if known.refetched_at.is_none_or(|at| at.elapsed() >= KEYS_AT_MOST_EVERY) => {
                // The provider may have rotated its keys: read them again.
                let keys = self.fetch_keys(&known.metadata).await?;
                known = self.keep(
                    issuer,
                    Known {
                        metadata: known.metadata.clone(),
                        metadata_at: known.metadata_at,
                        keys,
                        refetched_at: Some(Instant::now()),
                    },
                );
                find(&known.keys).ok_or_else(|| {
                    refused("the ID token is signed with a key the provider does not publish".to_owned())
                })?
            }
            None => return Err(refused("the ID token is signed with a key the provider does not publish".to_owned())),
        };
        if let Some(alg) = jwk.common.key_algorithm
            && format!("{alg:?}") != format!("{:?}", header.alg)
        {
            return Err(refused("the ID token's algorithm is not its key's".to_owned()));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| refused(format!("the provider's key is unusable: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "iat"]);
        // Times are judged below against cohort's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let data = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation)
            .map_err(|e| refused(format!("the ID token is not valid: {e}")))?;
        let claims = data.claims;
        let at = |name: &str| claims.get(name).and_then(Value::as_i64).map(|s| s.saturating_mul(1000));
        let now = now.millis();
        match at("exp") {
            Some(exp) if exp + LEEWAY_MS > now => {}
            _ => return Err(refused("the ID token has expired".to_owned())),
        }
        if at("iat").is_none_or(|iat| iat - LEEWAY_MS > now) || at("nbf").is_some_and(|nbf| nbf - LEEWAY_MS > now) {
            return Err(refused("the ID token is not valid yet".to_owned()));
        }
        if text_claim(&claims, "nonce") != Some(nonce) {
            return Err(refused("the ID token does not carry this sign-in's nonce".to_owned()));
        }
        let audiences = claims.get("aud").and_then(Value::as_array).map_or(1, Vec::len);
        if (audiences > 1 || claims.contains_key("azp")) && text_claim(&claims, "azp") != Some(client_id) {
            return Err(refused("the ID token is not authorised for this client".to_owned()));
        }
        match text_claim(&claims, "sub") {
            Some(sub) if !sub.is_empty() && sub.len() <= 255 => Ok(claims),
            _ => Err(refused("the ID token has no usable subject".to_owned())),
        }
    }

    /// The ids of every group the signed-in user is in, from the provider's directory (the
    /// Microsoft Graph `getMemberObjects` call at `base`), following `@odata.nextLink`.
    pub async fn directory_groups(&self, base: &str, access_token: &str) -> Result<Vec<String>, OidcError> {
        let mut url = format!("{}/v1.0/me/getMemberObjects", base.trim_end_matches('/'));
        let mut out = Vec::new();
        for _ in 0..MAX_DIRECTORY_PAGES {
            let page = self.http.post_json(&url, r#"{"securityEnabledOnly":false}"#, access_token).await?;
            let values = page
                .get("value")
                .and_then(Value::as_array)
                .ok_or_else(|| OidcError::Provider("the directory's answer has no `value` list".to_owned()))?;
            for v in values {
                out.push(
                    v.as_str()
                        .ok_or_else(|| {
                            OidcError::Provider("the directory listed a group that is not a string".to_owned())
                        })?
                        .to_owned(),
                );
            }
            match page.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) if allowed_url(next) => url = next.to_owned(),
                Some(next) => {
                    return Err(OidcError::Provider(format!("the directory's next page `{next}` is not https")));
                }
                None => return Ok(out),
            }
        }
        Err(OidcError::Provider(format!("the directory answered more than {MAX_DIRECTORY_PAGES} pages")))
    }
}

/// Whether an ID token says the user's groups were left out (Entra's groups overage): the
/// `groups` claim named in `_claim_names`, or `hasgroups`.
pub fn groups_overage(claims: &Map<String, Value>, groups_claim: &str) -> bool {
    !claims.contains_key(groups_claim)
        && (claims.get("_claim_names").and_then(|n| n.get(groups_claim)).is_some()
            || claims.get("hasgroups").and_then(Value::as_bool) == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_the_verifiers_s256() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let a = FlowSecrets::new();
        let b = FlowSecrets::new();
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, a.state);
        assert_eq!(a.verifier.len(), 43);
    }

    #[test]
    fn an_overage_is_told_by_claim_names_or_hasgroups() {
        let claims = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(groups_overage(&claims(serde_json::json!({"_claim_names": {"groups": "src1"}})), "groups"));
        assert!(groups_overage(&claims(serde_json::json!({"hasgroups": true})), "groups"));
        assert!(!groups_overage(&claims(serde_json::json!({"groups": [], "hasgroups": true})), "groups"));
        assert!(!groups_overage(&claims(serde_json::json!({})), "groups"));
    }
}
