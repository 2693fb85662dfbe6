//! The sign-in settings page (admins): the tenant's identity provider, the redirect URI to
//! register with it, saved or removed through the same service as `/identity-provider`.

use super::auth::{Nothing, Posted, callback_url};
use super::frame::fail;
use super::layout::{self, Section, described, field_error, section_url};
use super::signed::Signed;
use crate::error::ServiceError;
use crate::service::ProviderInput;
use crate::shared::AppState;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cohort_core::model::IdentityProvider;
use maud::html;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/sign-in";
    Router::new().route(base, get(page).post(save)).route(&format!("{base}/remove"), post(remove))
}

fn settings_url(tenant: &str) -> String {
    section_url(tenant, "sign-in")
}

/// What the form holds (the secret is never filled in).
#[derive(Deserialize, Default)]
pub(super) struct ProviderForm {
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    groups_claim: String,
    #[serde(default)]
    login_claim: String,
    #[serde(default)]
    email_claim: String,
    #[serde(default)]
    name_claim: String,
    #[serde(default)]
    create_users: Option<String>,
    #[serde(default)]
    link_by_email: Option<String>,
    #[serde(default)]
    sso_only: Option<String>,
    #[serde(default)]
    directory_url: String,
}

impl From<&IdentityProvider> for ProviderForm {
    fn from(p: &IdentityProvider) -> Self {
        let on = |b: bool| b.then(|| "on".to_owned());
        Self {
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            client_secret: String::new(),
            scopes: p.scopes.join(" "),
            groups_claim: p.groups_claim.clone(),
            login_claim: p.login_claim.clone(),
            email_claim: p.email_claim.clone(),
            name_claim: p.name_claim.clone(),
            create_users: on(p.create_users),
            link_by_email: on(p.link_by_email),
            sso_only: on(p.sso_only),
            directory_url: p.directory_url.clone().unwrap_or_default(),
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct PageQuery {
    done: Option<String>,
}

async fn page(State(s): State<AppState>, signed: Signed, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    match s.get_identity_provider(&signed.ctx, signed.ctx.tenant()).await {
        Ok(p) => render(&s, &signed, &headers, Some(&p), &ProviderForm::from(&p), q.done.as_deref(), &[]),
        Err(ServiceError::NotFound(_)) => {
            render(&s, &signed, &headers, None, &ProviderForm::default(), q.done.as_deref(), &[])
        }
        Err(e) => fail(&signed, e),
    }
}

fn render(
    s: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    kept: Option<&IdentityProvider>,
    f: &ProviderForm,
    done: Option<&str>,
    errors: &[(String, String)],
) -> Response {
    let t = &signed.tenant;
    let url = settings_url(t);
    let notice = match done {
        Some("saved") => Some("The identity provider was saved: people can sign in through it now."),
        Some("removed") => Some("The identity provider was removed: nobody signs in through it any more."),
        _ => None,
    };
    let text = |id: &'static str, name: &'static str, label: &'static str, value: &str, hint: &'static str| {
        html! {
            div.field {
                label for=(id) { (label) }
                input id=(id) type="text" name=(name) value=(value) spellcheck="false" aria-describedby=[described(errors, name).or(Some(format!("{id}-hint")))];
                p.hint id=(format!("{id}-hint")) { (hint) }
                (field_error(errors, name))
            }
        }
    };
    let check = |id: &'static str, name: &'static str, label: &'static str, on: bool, hint: &'static str| {
        html! {
            div.field {
                label.check for=(id) {
                    input id=(id) type="checkbox" name=(name) checked[on] aria-describedby=(format!("{id}-hint"));
                    (label)
                }
                p.hint id=(format!("{id}-hint")) { (hint) }
            }
        }
    };
    let body = html! {
        h1 { "Sign-in" }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        @if !errors.is_empty() { p.error role="alert" { "The identity provider was not saved." } }
        section.card aria-labelledby="redirect-title" {
            h2 #redirect-title { "Redirect URI" }
            p { "Register this address with the provider as the application's redirect URI:" }
            p { code #redirect-uri { (callback_url(s, headers, t)) } }
            p.muted { "People sign in at " a href=(format!("/t/{t}/login")) { code { "/t/" (t) "/login" } } "." }
        }
        form method="post" action=(url) {
            (signed.csrf_field())
            fieldset {
                legend { "The provider" }
                (text("issuer", "issuer", "Issuer", &f.issuer, "Its metadata is read from the issuer's /.well-known/openid-configuration when you save."))
                (text("client-id", "client_id", "Client id", &f.client_id, "The application (client) id the provider gave cohort."))
                div.field {
                    label for="client-secret" { "Client secret" }
                    input #client-secret type="password" name="client_secret" autocomplete="off" aria-describedby="client-secret-hint";
                    p.hint #client-secret-hint {
                        @if kept.is_some() { "A secret is kept; leave this empty to keep it. It is never shown." }
                        @else { "Kept to redeem sign-in codes; never shown again." }
                    }
                    (field_error(errors, "client_secret"))
                }
                (text("scopes", "scopes", "Scopes", &f.scopes, "Separated by spaces; openid email profile when empty."))
                (text("directory-url", "directory_url", "Directory URL", &f.directory_url, "Where a user's groups are listed when the ID token leaves them out (Entra's overage); Microsoft Graph when empty."))
            }
            fieldset {
                legend { "Claims" }
                (text("groups-claim", "groups_claim", "Groups claim", &f.groups_claim, "The claim listing the user's provider groups; groups when empty."))
                (text("login-claim", "login_claim", "Login name claim", &f.login_claim, "preferred_username when empty."))
                (text("email-claim", "email_claim", "Email claim", &f.email_claim, "email when empty."))
                (text("name-claim", "name_claim", "Display name claim", &f.name_claim, "name when empty."))
            }
            fieldset {
                legend { "Who signs in" }
                (check("create-users", "create_users", "Make people users at their first sign-in", f.create_users.is_some(), "Otherwise only users already in cohort sign in."))
                (check("link-by-email", "link_by_email", "Find users by an email the provider vouches for", f.link_by_email.is_some(), "The first sign-in of an existing user links them by email_verified."))
                (check("sso-only", "sso_only", "Only through the provider", f.sso_only.is_some(), "Members of sso groups change only at sign-in and through SCIM, and passwords sign in tenant admins alone."))
            }
            button.primary type="submit" { "Save" }
        }
        @if kept.is_some() {
            form method="post" action=(format!("{url}/remove")) {
                (signed.csrf_field())
                button.danger type="submit" { "Remove the identity provider" }
                p.hint { "Nobody then signs in through it; the sso groups and their members stay." }
            }
        }
    };
    layout::page(signed, Section::SignIn, "Sign-in", body).into_response()
}

async fn save(State(s): State<AppState>, headers: HeaderMap, Posted(signed, f): Posted<ProviderForm>) -> Response {
    let blank = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
    let input = ProviderInput {
        issuer: f.issuer.clone(),
        client_id: f.client_id.trim().to_owned(),
        client_secret: blank(&f.client_secret),
        scopes: f.scopes.split_whitespace().map(str::to_owned).collect(),
        groups_claim: blank(&f.groups_claim),
        login_claim: blank(&f.login_claim),
        email_claim: blank(&f.email_claim),
        name_claim: blank(&f.name_claim),
        create_users: f.create_users.is_some(),
        link_by_email: f.link_by_email.is_some(),
        sso_only: f.sso_only.is_some(),
        directory_url: blank(&f.directory_url),
    };
    match s.put_identity_provider(&signed.ctx, signed.ctx.tenant(), input).await {
        Ok(_) => Redirect::to(&format!("{}?done=saved", settings_url(&signed.tenant))).into_response(),
        Err(ServiceError::Invalid(errors)) => {
            let snake = |f: &str| {
                f.chars().fold(String::new(), |mut out, c| {
                    if c.is_ascii_uppercase() {
                        out.push('_');
                        out.push(c.to_ascii_lowercase());
                    } else {
                        out.push(c);
                    }
                    out
                })
            };
            let errors: Vec<(String, String)> = errors.iter().map(|e| (snake(&e.field), e.message.clone())).collect();
            let kept = s.get_identity_provider(&signed.ctx, signed.ctx.tenant()).await.ok();
            let mut r = render(&s, &signed, &headers, kept.as_ref(), &f, None, &errors);
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => fail(&signed, e),
    }
}

async fn remove(State(s): State<AppState>, Posted(signed, Nothing {}): Posted<Nothing>) -> Response {
    match s.delete_identity_provider(&signed.ctx, signed.ctx.tenant()).await {
        Ok(_) => Redirect::to(&format!("{}?done=removed", settings_url(&signed.tenant))).into_response(),
        Err(e) => fail(&signed, e),
    }
}
