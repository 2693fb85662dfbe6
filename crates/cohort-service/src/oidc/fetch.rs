//! The relying party's calls: JSON from a provider through the outbound room under the
//! identity-provider policy (https, or http to this machine), a non-2xx answer quoting the
//! provider's `error` and `error_description` (never the request).

use super::OidcError;
use crate::outbound::{Answer, Outbound, OutboundError, Policy};
use serde_json::Value;

/// A provider's JSON over the outbound room.
#[derive(Clone)]
pub struct Http(Outbound);

impl Default for Http {
    fn default() -> Self {
        Self(Outbound::new(Policy::IdentityProvider))
    }
}

fn answer(url: &str, a: Result<Answer, OutboundError>) -> Result<Value, OidcError> {
    let a = a.map_err(|e| match e {
        OutboundError::Unreachable(why) => OidcError::Provider(format!("the identity provider is out of reach: {why}")),
        other => OidcError::Provider(other.to_string()),
    })?;
    let json: Result<Value, _> = serde_json::from_slice(&a.body);
    if !(200..300).contains(&a.status) {
        let said = json
            .ok()
            .and_then(|v| {
                let e = v.get("error")?.as_str()?.chars().take(100).collect::<String>();
                let d = v.get("error_description").and_then(Value::as_str).unwrap_or_default();
                Some(format!(": {e} {}", d.chars().take(200).collect::<String>()).trim_end().to_owned())
            })
            .unwrap_or_default();
        return Err(OidcError::Provider(format!("{url} answered {}{said}", a.status)));
    }
    json.map_err(|e| OidcError::Provider(format!("{url} did not answer JSON: {e}")))
}

impl Http {
    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<Value, OidcError> {
        answer(url, self.0.get(url, &[("Accept", "application/json")]).await)
    }

    /// `POST url` of a form, with an `Authorization` header when given.
    pub async fn post_form(&self, url: &str, form: &str, authorization: Option<&str>) -> Result<Value, OidcError> {
        let mut headers = vec![("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend(authorization.map(|a| ("Authorization", a)));
        answer(url, self.0.post(url, &headers, form).await)
    }

    /// `POST url` of a JSON body with a bearer token.
    pub async fn post_json(&self, url: &str, body: &str, bearer: &str) -> Result<Value, OidcError> {
        let auth = format!("Bearer {bearer}");
        let headers = [("Accept", "application/json"), ("Content-Type", "application/json"), ("Authorization", &auth)];
        answer(url, self.0.post(url, &headers, body).await)
    }
}
