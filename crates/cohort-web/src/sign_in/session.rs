//! Who is signed in: the session cookie (scoped to the tenant's path, so every room under
//! `/t/{tenant}` receives it), the CSRF token every form carries (checked together with
//! `Origin`), and the extractors pages use: [`Signed`], [`Posted`], [`Uploaded`], [`PageForm`].

use super::signed::Signed;
use crate::html;
use crate::local_time::LocalTime;
use crate::shared::{AppState, request_id};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use cohort_service::error::ServiceError;
use cohort_service::{Resume, SessionEnd};
use maud::html;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// The session cookie's name.
const COOKIE: &str = "cohort_session";

/// The CSRF token of a session: derived from its secret, so nothing more is stored, and unknown
/// to a page of another origin (the secret is in an `HttpOnly` cookie).
fn csrf_of(secret: &str) -> String {
    Sha256::digest(format!("cohort-console-csrf:{secret}").as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tenant_of(params: &RawPathParams) -> String {
    params.iter().find(|(k, _)| *k == "tenant").map(|(_, v)| v.to_owned()).unwrap_or_default()
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 200)
}

fn sign_in_url(tenant: &str, ended: Option<SessionEnd>) -> String {
    let why = match ended {
        Some(SessionEnd::TimedOut) => "?ended=timed-out",
        Some(SessionEnd::Revoked) => "?ended=revoked",
        Some(SessionEnd::AccessChanged) => "?ended=access-changed",
        Some(SessionEnd::None) | None => "",
    };
    format!("/t/{tenant}/login{why}")
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let params = RawPathParams::from_request_parts(parts, s)
            .await
            .map_err(|_| html::error(&ServiceError::NotFound("page".to_owned())))?;
        let tenant = tenant_of(&params);
        let Some(secret) = cookie(&parts.headers).map(str::to_owned) else {
            return Err(Redirect::to(&sign_in_url(&tenant, None)).into_response());
        };
        let ctx = match s.resume(&tenant, &secret, request_id(&parts.headers)).await {
            Ok(ctx) => ctx,
            Err(Resume::Ended(why)) => {
                let mut r = Redirect::to(&sign_in_url(&tenant, Some(why))).into_response();
                clear_cookie(&mut r, &tenant);
                return Err(r);
            }
            Err(Resume::Failed(e)) => return Err(html::error(&e)),
        };
        let holdings = s.holdings(&ctx).await.map_err(|e| html::error(&e))?;
        let (who, time) = match s.reader(&ctx).await {
            Ok(reader) => (html::person(&reader.user), LocalTime::new(reader.zone())),
            Err(_) => Default::default(),
        };
        Ok(Self { csrf: csrf_of(&secret), ctx, tenant, who, time, holdings, secret })
    }
}

/// Whether the request comes from a page of this server: its `Origin` (or, lacking one, its
/// `Referer`) names the host it was sent to, or the configured public URL. A request with
/// neither is let through to the CSRF token check alone (a script, not a browser).
fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let from = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
    let Some(from) = from else { return true };
    let authority = |url: &str| {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        rest.split('/').next().unwrap_or_default().to_ascii_lowercase()
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let from = authority(from);
    host.is_some_and(|h| h == from) || public_url.is_some_and(|p| authority(p) == from)
}

/// A form posted by a signed-in person from a page of this server, with the session's CSRF
/// token: anything else is refused before any service is called.
pub(crate) struct Posted<T>(pub(crate) Signed, pub(crate) T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// The error page for a signed-in person's request, with the way back to the console.
fn failed(signed: &Signed, e: &ServiceError) -> Response {
    let back = html! { a href=(format!("/t/{}/portal/", signed.tenant)) { "Back to the console" } };
    html::error_with(e, html::bare, Some(back))
}

fn refused_form(signed: Option<&Signed>) -> Response {
    let e = ServiceError::Forbidden(
        "this form did not come from a console page of this server (or its page is too old); nothing was \
             changed: reload the page and try again"
            .to_owned(),
    );
    match signed {
        Some(signed) => failed(signed, &e),
        None => html::error(&e),
    }
}

/// The signed-in person of a form posted from a page of this server; anything else is refused.
async fn signed_here(parts: &mut Parts, s: &AppState) -> Result<Signed, Response> {
    let signed = Signed::from_request_parts(parts, s).await?;
    if !same_origin(&parts.headers, s.config().public_url.as_deref()) {
        return Err(refused_form(Some(&signed)));
    }
    Ok(signed)
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let signed = signed_here(&mut parts, s).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), s)
            .await
            .map_err(|_| failed(&signed, &ServiceError::TooLarge("the form is too large".to_owned())))?;
        let token: CsrfField = serde_html_form::from_bytes(&bytes).map_err(|_| refused_form(Some(&signed)))?;
        if token.csrf.is_empty() || token.csrf != signed.csrf {
            return Err(refused_form(Some(&signed)));
        }
        let value = serde_html_form::from_bytes(&bytes)
            .map_err(|e| failed(&signed, &ServiceError::BadRequest(format!("the form could not be read: {e}"))))?;
        Ok(Self(signed, value))
    }
}

/// A file-upload form (`multipart/form-data`) posted by a signed-in person from a page of
/// this server with the session's CSRF token: its fields by name, at most [`MAX_FIELDS`] of
/// them, inside the server's body limit.
pub(crate) struct Uploaded(pub(crate) Signed, pub(crate) Vec<(String, Bytes)>);

/// Most fields an upload form may send.
const MAX_FIELDS: usize = 8;

impl FromRequest<AppState> for Uploaded {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let signed = signed_here(&mut parts, s).await?;
        let unreadable =
            |signed: &Signed| failed(signed, &ServiceError::BadRequest("the upload could not be read".to_owned()));
        let Ok(mut form) = axum::extract::Multipart::from_request(Request::from_parts(parts, body), s).await else {
            return Err(unreadable(&signed));
        };
        let mut fields = Vec::new();
        loop {
            match form.next_field().await {
                Ok(Some(field)) if fields.len() < MAX_FIELDS => {
                    let name = field.name().unwrap_or_default().to_owned();
                    match field.bytes().await {
                        Ok(b) => fields.push((name, b)),
                        Err(_) => return Err(unreadable(&signed)),
                    }
                }
                Ok(None) => break,
                Ok(Some(_)) | Err(_) => return Err(unreadable(&signed)),
            }
        }
        let csrf = fields.iter().find(|(n, _)| n == "csrf").map(|(_, v)| v.as_ref());
        if csrf.is_none_or(|c| c != signed.csrf.as_bytes()) {
            return Err(refused_form(Some(&signed)));
        }
        Ok(Self(signed, fields))
    }
}

/// Sets the session cookie for every path under `/t/{tenant}`, and expires the one sessions
/// had before it moved there (`/t/{tenant}/portal`), which would otherwise be sent first on the
/// console's pages and shadow it.
fn set_cookie(r: &mut Response, tenant: &str, value: &str, max_age: i64, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    for (path, value, max_age) in [(format!("/t/{tenant}"), value, max_age), (format!("/t/{tenant}/portal"), "", 0)] {
        let v = format!("{COOKIE}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

pub(super) fn clear_cookie(r: &mut Response, tenant: &str) {
    set_cookie(r, tenant, "", 0, false);
}

/// A form posted to a page of someone not signed in yet (no session, so no CSRF token):
/// refused from another origin; with the client's address, for counting failures, and the
/// request id.
pub(super) struct PageForm<T> {
    pub(super) form: T,
    pub(super) client: std::net::IpAddr,
    pub(super) request_id: String,
}

impl<T: DeserializeOwned + Default> FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Response> {
        let client = req
            .extensions()
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let request_id = request_id(req.headers()).to_owned();
        if !same_origin(req.headers(), s.config().public_url.as_deref()) {
            return Err(refused_form(None));
        }
        let bytes = Bytes::from_request(req, s)
            .await
            .map_err(|_| html::error(&ServiceError::TooLarge("the form is too large".to_owned())))?;
        Ok(Self { form: serde_html_form::from_bytes(&bytes).unwrap_or_default(), client, request_id })
    }
}

/// Signed in: off to `to` with the session's cookie.
pub(super) fn opened(s: &AppState, tenant: &str, secret: &str, to: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    let secure = s.config().public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    set_cookie(&mut r, tenant, secret, s.config().sessions.absolute_ms / 1000, secure);
    r
}

/// A form of no fields but its CSRF token.
#[derive(Deserialize)]
pub(crate) struct Nothing {}
