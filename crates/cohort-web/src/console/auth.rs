//! Who is signed in: the session cookie, the CSRF token every form carries (checked together
//! with `Origin`), the sign-in and sign-out pages.

use super::layout;
use super::signed::Signed;
use crate::shared::{AppState, request_id};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use cohort_service::error::ServiceError;
use cohort_service::{Resume, SessionEnd};
use maud::{Markup, html};
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
            .map_err(|_| layout::error(None, &ServiceError::NotFound("page".to_owned())))?;
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
            Err(Resume::Failed(e)) => return Err(layout::error(None, &e)),
        };
        let holdings = s.holdings(&ctx).await.map_err(|e| layout::error(None, &e))?;
        let who =
            s.get_user(&ctx, ctx.tenant(), &ctx.principal.user).await.map(|u| layout::person(&u)).unwrap_or_default();
        Ok(Self { csrf: csrf_of(&secret), ctx, tenant, who, holdings, secret })
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
pub(super) struct Posted<T>(pub(super) Signed, pub(super) T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

fn refused_form(signed: Option<&Signed>) -> Response {
    layout::error(
        signed,
        &ServiceError::Forbidden(
            "this form did not come from a console page of this server (or its page is too old); nothing was \
             changed: reload the page and try again"
                .to_owned(),
        ),
    )
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
            .map_err(|_| layout::error(Some(&signed), &ServiceError::TooLarge("the form is too large".to_owned())))?;
        let token: CsrfField = serde_html_form::from_bytes(&bytes).map_err(|_| refused_form(Some(&signed)))?;
        if token.csrf.is_empty() || token.csrf != signed.csrf {
            return Err(refused_form(Some(&signed)));
        }
        let value = serde_html_form::from_bytes(&bytes).map_err(|e| {
            layout::error(Some(&signed), &ServiceError::BadRequest(format!("the form could not be read: {e}")))
        })?;
        Ok(Self(signed, value))
    }
}

/// A file-upload form (`multipart/form-data`) posted by a signed-in person from a page of
/// this server with the session's CSRF token: its fields by name, at most [`MAX_FIELDS`] of
/// them, inside the server's body limit.
pub(super) struct Uploaded(pub(super) Signed, pub(super) Vec<(String, Bytes)>);

/// Most fields an upload form may send.
const MAX_FIELDS: usize = 8;

impl FromRequest<AppState> for Uploaded {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let signed = signed_here(&mut parts, s).await?;
        let unreadable = |signed: &Signed| {
            layout::error(Some(signed), &ServiceError::BadRequest("the upload could not be read".to_owned()))
        };
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

fn set_cookie(r: &mut Response, tenant: &str, value: &str, max_age: i64, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{COOKIE}={value}; Path=/t/{tenant}/portal; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn clear_cookie(r: &mut Response, tenant: &str) {
    set_cookie(r, tenant, "", 0, false);
}

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    ended: Option<String>,
}

fn sign_in_form(tenant: &str, sso: Option<&str>, notice: Option<&str>, error: Option<&str>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            section.signin aria-labelledby="signin-title" {
                h1 #signin-title { "Sign in to cohort" }
                p.muted { "Tenant " code { (tenant) } }
                @if let Some(n) = notice { p.notice role="status" { (n) } }
                @if let Some(e) = error { p.error role="alert" #token-error { (e) } }
                @if let Some(issuer) = sso {
                    p { a.button.primary href=(format!("/t/{tenant}/login/sso")) { "Sign in with your organisation" } }
                    p.hint { "Through " code { (issuer) } "." }
                    h2 { "Or with your password" }
                }
                form method="post" action=(format!("/t/{tenant}/login/password")) {
                    label for="email" { "Email" }
                    input #email type="email" name="email" required autocomplete="username";
                    label for="password" { "Password" }
                    input #password type="password" name="password" required autocomplete="current-password";
                    button type="submit" { "Sign in" }
                }
                h2 { "Or with a personal token" }
                form method="post" action=(format!("/t/{tenant}/portal/sign-in")) {
                    label for="token" { "Personal token" }
                    input #token type="password" name="token" required autocomplete="off" spellcheck="false"
                        aria-describedby=[error.map(|_| "token-error")];
                    p.hint { "The admin token printed at first start, or one made with " code { "POST /tokens" } "." }
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

pub(super) async fn sign_in_page(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<SignInQuery>,
) -> Response {
    let notice = match q.ended.as_deref() {
        Some("timed-out") => Some("Your session timed out; sign in again."),
        Some("revoked") => Some("Your session ended: its token was revoked or your account suspended."),
        Some("access-changed") => Some("Your session ended because your cohort permissions changed; sign in again."),
        Some("signed-out") => Some("You are signed out."),
        Some("password-set") => Some("Your password is set: sign in with it."),
        _ => None,
    };
    match s.sso_issuer(&tenant).await {
        Ok(sso) => sign_in_form(&tenant, sso.as_deref(), notice, None).into_response(),
        Err(e) => layout::error(None, &e),
    }
}

/// The address the provider sends people back to: under the public URL when one is set,
/// else under the host the request was sent to.
pub(super) fn callback_url(s: &AppState, headers: &HeaderMap, tenant: &str) -> String {
    let base = match s.config().public_url.as_deref() {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!("http://{}", headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost")),
    };
    format!("{base}/t/{tenant}/login/sso/callback")
}

#[derive(Deserialize)]
pub(super) struct SsoQuery {
    next: Option<String>,
}

/// `GET /t/{tenant}/login/sso`: off to the provider.
pub(super) async fn sso_begin(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<SsoQuery>,
    headers: HeaderMap,
) -> Response {
    let redirect_uri = callback_url(&s, &headers, &tenant);
    match s.begin_sso(&tenant, q.next.as_deref(), &redirect_uri).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /t/{tenant}/login/sso/callback`: back from the provider, signed in or told why not.
pub(super) async fn sso_callback(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let (Some(code), Some(state)) = (q.code.as_deref(), q.state.as_deref()) else {
        let said = q.error.as_deref().unwrap_or("no code");
        let detail = q.error_description.as_deref().unwrap_or_default();
        let why: String = format!(
            "The identity provider did not sign you in ({said}{}{detail}).",
            if detail.is_empty() { "" } else { ": " }
        )
        .chars()
        .take(300)
        .collect();
        return sign_in_failed(&s, &tenant, &ServiceError::Unauthorized(why)).await;
    };
    let redirect_uri = callback_url(&s, &headers, &tenant);
    match s.finish_sso(&tenant, state, code, &redirect_uri, request_id(&headers)).await {
        Ok((w, next)) => opened(&s, &tenant, &w.value.secret, &next),
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}

/// A form posted to a page of someone not signed in yet (no session, so no CSRF token):
/// refused from another origin; with the client's address, for counting failures, and the
/// request id.
pub(super) struct PageForm<T> {
    form: T,
    client: std::net::IpAddr,
    request_id: String,
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
            .map_err(|_| layout::error(None, &ServiceError::TooLarge("the form is too large".to_owned())))?;
        Ok(Self { form: serde_html_form::from_bytes(&bytes).unwrap_or_default(), client, request_id })
    }
}

/// Signed in: off to `to` with the session's cookie.
fn opened(s: &AppState, tenant: &str, secret: &str, to: &str) -> Response {
    let mut r = Redirect::to(to).into_response();
    let secure = s.config().public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    set_cookie(&mut r, tenant, secret, s.config().sessions.absolute_ms / 1000, secure);
    r
}

/// The sign-in page again, saying why signing in failed.
async fn sign_in_failed(s: &AppState, tenant: &str, e: &ServiceError) -> Response {
    let status = axum::http::StatusCode::from_u16(crate::problem::problem(e).status).unwrap_or_default();
    let sso = s.sso_issuer(tenant).await.ok().flatten();
    (status, sign_in_form(tenant, sso.as_deref(), None, Some(&crate::problem::problem(e).detail))).into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct SignInForm {
    #[serde(default)]
    token: String,
}

/// `POST /t/{tenant}/portal/sign-in`: signed in with a personal token.
pub(super) async fn sign_in(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    PageForm { form, client, request_id }: PageForm<SignInForm>,
) -> Response {
    match s.sign_in(&tenant, &form.token, client, &request_id).await {
        Ok(w) => opened(&s, &tenant, &w.value.secret, &layout::groups_url(&tenant)),
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}

#[derive(Deserialize)]
pub(super) struct Nothing {}

pub(super) async fn sign_out(State(s): State<AppState>, Posted(signed, Nothing {}): Posted<Nothing>) -> Response {
    if let Err(e) = s.sign_out(&signed.ctx, &signed.secret).await {
        return layout::error(Some(&signed), &e);
    }
    let mut r = Redirect::to(&format!("/t/{}/login?ended=signed-out", signed.tenant)).into_response();
    clear_cookie(&mut r, &signed.tenant);
    r
}

#[derive(Deserialize, Default)]
pub(super) struct PasswordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /t/{tenant}/login/password`: signed in with a password, or the page again saying why.
pub(super) async fn password_sign_in(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    PageForm { form, client, request_id }: PageForm<PasswordForm>,
) -> Response {
    match s.password_sign_in(&tenant, &form.email, &form.password, client, &request_id).await {
        Ok(w) => opened(&s, &tenant, &w.value.secret, &layout::groups_url(&tenant)),
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}

fn invitation_form(tenant: &str, secret: &str, email: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Set your password",
        html! {
            section.signin aria-labelledby="set-title" {
                h1 #set-title { "Set your password" }
                p.muted { "For " strong { (email) } " in tenant " code { (tenant) } "." }
                @if let Some(e) = error { p.error role="alert" #password-error { (e) } }
                form method="post" action=(format!("/t/{tenant}/login/invitation/{secret}")) {
                    label for="password" { "New password" }
                    input #password type="password" name="password" required minlength=(cohort_service::MIN_PASSWORD)
                        autocomplete="new-password" aria-describedby="password-hint";
                    p.hint #password-hint { "At least " (cohort_service::MIN_PASSWORD) " characters; a phrase of a few words is easy to remember and hard to guess." }
                    label for="again" { "The same again" }
                    input #again type="password" name="again" required autocomplete="new-password";
                    button type="submit" { "Set password" }
                }
            }
        },
    )
}

/// `GET /t/{tenant}/login/invitation/{secret}`: the form to set a password, while the
/// invitation works.
pub(super) async fn invitation_page(
    State(s): State<AppState>,
    Path((tenant, secret)): Path<(String, String)>,
) -> Response {
    match s.invitation_user(&tenant, &secret).await {
        Ok(u) => invitation_form(&tenant, &secret, u.email.as_ref().map_or("", |e| e.as_str()), None).into_response(),
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}

#[derive(Deserialize, Default)]
pub(super) struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

/// `POST /t/{tenant}/login/invitation/{secret}`: the password set, then off to sign in.
pub(super) async fn accept_invitation(
    State(s): State<AppState>,
    Path((tenant, secret)): Path<(String, String)>,
    PageForm { form, request_id, .. }: PageForm<NewPasswordForm>,
) -> Response {
    let user = match s.invitation_user(&tenant, &secret).await {
        Ok(u) => u,
        Err(e) => return sign_in_failed(&s, &tenant, &e).await,
    };
    let email = user.email.as_ref().map_or("", |e| e.as_str()).to_owned();
    if form.password != form.again {
        let page = invitation_form(&tenant, &secret, &email, Some("The two passwords differ."));
        return (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    match s.accept_invitation(&tenant, &secret, &form.password, &request_id).await {
        Ok(_) => Redirect::to(&format!("/t/{tenant}/login?ended=password-set")).into_response(),
        Err(ServiceError::Invalid(errors)) => {
            let said: Vec<String> = errors.iter().map(|e| format!("The password {}.", e.message)).collect();
            let page = invitation_form(&tenant, &secret, &email, Some(&said.join(" ")));
            (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}
