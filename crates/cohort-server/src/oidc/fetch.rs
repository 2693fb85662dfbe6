//! The relying party's HTTP: JSON from a provider over https (or http to this machine), with
//! timeouts and a bound on what is read, run off the async workers.

use super::OidcError;
use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// The most of an answer read: metadata, keys, tokens and directory pages are all far smaller.
const MAX_ANSWER: u64 = 1 << 20;
/// The longest a provider may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Blocking HTTPS, run on the blocking pool.
#[derive(Clone, Copy, Default)]
pub(crate) struct Http;

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(TIMEOUT).redirects(0).user_agent("cohort").build()
}

/// Reads a JSON answer, at most [`MAX_ANSWER`] bytes; a status other than 2xx is an error
/// that quotes the provider's `error` and `error_description` (never the request).
fn answer(url: &str, r: Result<ureq::Response, ureq::Error>) -> Result<Value, OidcError> {
    let (status, response) = match r {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(ureq::Error::Transport(t)) => {
            return Err(OidcError::Provider(format!("the identity provider at {url} is out of reach: {}", t.kind())));
        }
    };
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_ANSWER + 1)
        .read_to_end(&mut body)
        .map_err(|e| OidcError::Provider(format!("reading {url} failed: {e}")))?;
    if body.len() as u64 > MAX_ANSWER {
        return Err(OidcError::Provider(format!("{url} answered more than {MAX_ANSWER} bytes")));
    }
    let json: Result<Value, _> = serde_json::from_slice(&body);
    if !(200..300).contains(&status) {
        let said = json
            .ok()
            .and_then(|v| {
                let e = v.get("error")?.as_str()?.chars().take(100).collect::<String>();
                let d = v.get("error_description").and_then(Value::as_str).unwrap_or_default();
                Some(format!(": {e} {}", d.chars().take(200).collect::<String>()).trim_end().to_owned())
            })
            .unwrap_or_default();
        return Err(OidcError::Provider(format!("{url} answered {status}{said}")));
    }
    json.map_err(|e| OidcError::Provider(format!("{url} did not answer JSON: {e}")))
}

async fn blocking(
    url: &str,
    call: impl FnOnce(&ureq::Agent, &str) -> Result<Value, OidcError> + Send + 'static,
) -> Result<Value, OidcError> {
    if !super::allowed_url(url) {
        return Err(OidcError::Provider(format!("`{url}` is not https")));
    }
    let owned = url.to_owned();
    tokio::task::spawn_blocking(move || call(&agent(), &owned))
        .await
        .map_err(|_| OidcError::Provider("the call to the identity provider was abandoned".to_owned()))?
}

impl Http {
    /// `GET url`.
    pub(crate) async fn get(&self, url: &str) -> Result<Value, OidcError> {
        let u = url.to_owned();
        blocking(url, move |a, url| answer(url, a.get(&u).set("Accept", "application/json").call())).await
    }

    /// `POST url` of a form, with an `Authorization` header when given.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &str,
        authorization: Option<&str>,
    ) -> Result<Value, OidcError> {
        let (u, form, auth) = (url.to_owned(), form.to_owned(), authorization.map(str::to_owned));
        blocking(url, move |a, url| {
            let mut r =
                a.post(&u).set("Accept", "application/json").set("Content-Type", "application/x-www-form-urlencoded");
            if let Some(auth) = &auth {
                r = r.set("Authorization", auth);
            }
            answer(url, r.send_string(&form))
        })
        .await
    }

    /// `POST url` of a JSON body with a bearer token.
    pub(crate) async fn post_json(&self, url: &str, body: &str, bearer: &str) -> Result<Value, OidcError> {
        let (u, body, auth) = (url.to_owned(), body.to_owned(), format!("Bearer {bearer}"));
        blocking(url, move |a, url| {
            let r = a
                .post(&u)
                .set("Accept", "application/json")
                .set("Content-Type", "application/json")
                .set("Authorization", &auth)
                .send_string(&body);
            answer(url, r)
        })
        .await
    }
}
