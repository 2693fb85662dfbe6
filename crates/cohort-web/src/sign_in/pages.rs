//! The sign-in pages: the form (a personal token, a password, or the tenant's identity
//! provider), the provider's round trip, invitations to set a password, and signing out.

use super::session::{Nothing, PageForm, Posted, clear_cookie, opened};
use crate::html;
use crate::shared::{AppState, request_id};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use cohort_service::error::ServiceError;
use maud::{Markup, html};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    ended: Option<String>,
}

fn sign_in_form(tenant: &str, sso: Option<&str>, notice: Option<&str>, error: Option<&str>) -> Markup {
    html::bare(
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
                form method="post" action=(format!("/t/{tenant}/login/token")) {
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
        Err(e) => html::error(&e),
    }
}

/// The address the provider sends people back to: under the public URL when one is set,
/// else under the host the request was sent to.
pub(crate) fn callback_url(s: &AppState, headers: &HeaderMap, tenant: &str) -> String {
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

/// The sign-in page again, saying why signing in failed.
async fn sign_in_failed(s: &AppState, tenant: &str, e: &ServiceError) -> Response {
    let problem = crate::problem::problem(e);
    let status = axum::http::StatusCode::from_u16(problem.status).unwrap_or_default();
    let sso = s.sso_issuer(tenant).await.ok().flatten();
    (status, sign_in_form(tenant, sso.as_deref(), None, Some(&problem.detail))).into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct SignInForm {
    #[serde(default)]
    token: String,
}

/// Where a person lands once signed in: the console's groups.
fn console_home(tenant: &str) -> String {
    format!("/t/{tenant}/portal/access-management/groups")
}

/// `POST /t/{tenant}/login/token`: signed in with a personal token.
pub(super) async fn sign_in(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    PageForm { form, client, request_id }: PageForm<SignInForm>,
) -> Response {
    match s.sign_in(&tenant, &form.token, client, &request_id).await {
        Ok(w) => opened(&s, &tenant, &w.value.secret, &console_home(&tenant)),
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}

/// `POST /t/{tenant}/sign-out`: the session ended, its cookie cleared.
pub(super) async fn sign_out(State(s): State<AppState>, Posted(signed, Nothing {}): Posted<Nothing>) -> Response {
    if let Err(e) = s.sign_out(&signed.ctx, &signed.secret).await {
        return html::error(&e);
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
        Ok(w) => opened(&s, &tenant, &w.value.secret, &console_home(&tenant)),
        Err(e) => sign_in_failed(&s, &tenant, &e).await,
    }
}

fn invitation_form(tenant: &str, secret: &str, email: &str, error: Option<&str>) -> Markup {
    html::bare(
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
