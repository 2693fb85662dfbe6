//! Personal tokens: the list (everyone's for a token manager, else one's own), making one (its
//! secret shown once, on the answer to the POST, never in a URL), regenerating and revoking.

use super::frame::{fail, form_errors, notice, user_url};
use super::layout::{self, Section, described, field_error, person, reason, section_url};
use crate::shared::AppState;
use crate::sign_in::Signed;
use crate::sign_in::{Nothing, Posted};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use cohort_core::model::{ApiToken, TokenScope, User};
use cohort_core::name::Name;
use cohort_core::permission::CohortPermission as P;
use cohort_core::{TokenId, UserId};
use cohort_service::TokenCreated;
use cohort_service::error::ServiceError;
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/tokens";
    Router::new()
        .route(base, get(list).post(create))
        .route(&format!("{base}/{{token}}/regenerate"), get(confirm_regenerate).post(regenerate))
        .route(&format!("{base}/{{token}}/revoke"), get(confirm_revoke).post(revoke))
}

fn tokens_url(tenant: &str) -> String {
    section_url(tenant, "tokens")
}

/// The tokens of `user` (or of everyone, when `None`) with their actions, and the form that
/// makes one for them.
pub(super) fn tokens_section(signed: &Signed, user: Option<&User>, tokens: &[ApiToken]) -> Markup {
    tokens_with_form(signed, user, tokens, &Owners::new(), "", &[])
}

/// The names of tokens' owners, for the list of everyone's.
type Owners = std::collections::BTreeMap<cohort_core::UserId, String>;

fn tokens_with_form(
    signed: &Signed,
    user: Option<&User>,
    tokens: &[ApiToken],
    owners: &Owners,
    name: &str,
    errors: &[(String, String)],
) -> Markup {
    let t = &signed.tenant;
    let url = tokens_url(t);
    let manager = signed.holdings.can(P::TokensManage);
    let own = user.is_none_or(|u| signed.ctx.is_user(&u.id));
    html! {
        @if tokens.is_empty() {
            div.empty { p { "No tokens." } p.muted { "A token lets a script or an app call the API as its owner." } }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Tokens" }
                thead { tr {
                    th scope="col" { "Name" }
                    @if user.is_none() { th scope="col" { "Owner" } }
                    th scope="col" { "Opens" } th scope="col" { "Created" } th scope="col" { "Last used" }
                    th scope="col" { span.visually-hidden { "Actions" } }
                } }
                tbody {
                    @for k in tokens {
                        tr {
                            td { (k.name) @if k.system { " " (layout::badge("source", "system")) } }
                            @if user.is_none() { td { a href=(user_url(t, &k.user_id)) title=(k.user_id) { (owners.get(&k.user_id).map_or(k.user_id.as_str(), String::as_str)) } } }
                            td { (k.scope.as_str()) }
                            td { (signed.time.when(k.created_at)) }
                            td { @match k.last_used_at { Some(at) => (signed.time.when(at)), None => span.muted { "never" } } }
                            td.actions {
                                a href=(format!("{url}/{}/regenerate", k.id)) aria-label=(format!("Regenerate {}", k.name)) { "Regenerate" }
                                " "
                                a href=(format!("{url}/{}/revoke", k.id)) aria-label=(format!("Revoke {}", k.name)) { "Revoke" }
                            }
                        }
                    }
                }
            } }
        }
        @if own || manager {
            form.inline method="post" action=(url) {
                (signed.csrf_field())
                @if let Some(u) = user { input type="hidden" name="user" value=(u.id.as_str()); }
                div.field {
                    label for="token-name" { "New token's name" }
                    input #token-name type="text" name="name" value=(name) required maxlength="128" aria-describedby=[described(errors, "name")];
                    (field_error(errors, "name"))
                }
                div.field {
                    label for="token-scope" { "Opens" }
                    select #token-scope name="scope" {
                        option value="api" { "The API" }
                        @if manager { option value="scim" { "SCIM provisioning only" } }
                    }
                }
                button.primary type="submit" { "Create token" }
            }
            @for (f, m) in errors.iter().filter(|(f, _)| f != "name") { p.error role="alert" { (f) ": " (m) } }
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    done: Option<String>,
}

async fn list(State(s): State<AppState>, signed: Signed, Query(q): Query<ListQuery>) -> Response {
    list_page(&s, &signed, q.done.as_deref(), "", &[]).await
}

async fn list_page(
    s: &AppState,
    signed: &Signed,
    done: Option<&str>,
    name: &str,
    errors: &[(String, String)],
) -> Response {
    let all = signed.holdings.can(P::TokensManage);
    let found = async {
        let tokens = s.list_tokens(&signed.ctx, all).await?;
        let mut owners = Owners::new();
        for k in &tokens {
            // Someone who manages tokens but may not read users sees the owners' ids.
            if !owners.contains_key(&k.user_id)
                && let Ok(u) = s.get_user(&signed.ctx, &k.user_id).await
            {
                owners.insert(k.user_id.clone(), person(&u));
            }
        }
        Ok::<_, ServiceError>((tokens, owners))
    };
    let (tokens, owners) = match found.await {
        Ok(v) => v,
        Err(e) => return fail(signed, e),
    };
    let body = html! {
        h1 { "Tokens" }
        p.muted {
            @if all { "Every token of this tenant. " } @else { "Your tokens. " }
            "A token acts as its owner with what the owner holds at each request; revoking it ends it at once, and ends the console sessions it opened."
        }
        (notice(done))
        (tokens_with_form(signed, None, &tokens, &owners, name, errors))
    };
    let status = super::layout::form_status(errors);
    (status, layout::page(signed, Section::Tokens, "Tokens", body)).into_response()
}

/// The page that shows a new secret, the only time it is shown.
fn shown_once(signed: &Signed, made: &TokenCreated, what: &str) -> Response {
    let body = html! {
        h1 { (what) }
        p.notice role="status" { "Copy the secret now: it is shown only this once. cohort keeps only a hash of it." }
        dl.facts {
            dt { "Name" } dd { (made.token.name) }
            dt { "Owner" } dd { code { (made.token.user_id) } }
            dt { "Opens" } dd { (made.token.scope.as_str()) }
        }
        div.field {
            label for="secret" { "Secret" }
            input #secret.secret type="text" readonly value=(made.secret) aria-describedby="secret-hint";
            p.hint #secret-hint { "Send it as " code { "Authorization: Bearer <secret>" } ", or paste it on the sign-in page." }
        }
        p { a href=(tokens_url(&signed.tenant)) { "Back to tokens" } }
    };
    layout::page(signed, Section::Tokens, what, body).into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    user: String,
}

async fn create(State(s): State<AppState>, Posted(signed, f): Posted<CreateForm>) -> Response {
    let name = match Name::parse("name", &f.name) {
        Ok(n) => n,
        Err(e) => return list_page(&s, &signed, None, &f.name, &[("name".to_owned(), reason(e))]).await,
    };
    let made = async {
        let scope = TokenScope::parse("scope", if f.scope.is_empty() { "api" } else { &f.scope })?;
        let user = (!f.user.is_empty())
            .then(|| UserId::parse(&f.user).map_err(|_| ServiceError::NotFound(format!("user `{}`", f.user))))
            .transpose()?;
        s.create_token(&signed.ctx, name, user, scope).await
    }
    .await;
    match made {
        Ok(w) => shown_once(&signed, &w.value, "Token created"),
        Err(e) => match form_errors(&e, &[("userId", "user")]) {
            Some(errors) => list_page(&s, &signed, None, &f.name, &errors).await,
            None => fail(&signed, e),
        },
    }
}

/// The token a path names, among those the signed-in person may see.
async fn visible(s: &AppState, signed: &Signed, raw: &str) -> Result<ApiToken, ServiceError> {
    let missing = || ServiceError::NotFound(format!("token `{raw}`"));
    let id = TokenId::parse(raw).map_err(|_| missing())?;
    let all = signed.holdings.can(P::TokensManage);
    let tokens = s.list_tokens(&signed.ctx, all).await?;
    tokens.into_iter().find(|t| t.id == id).ok_or_else(missing)
}

async fn confirm(s: &AppState, signed: &Signed, raw: &str, regenerate: bool) -> Response {
    let k = match visible(s, signed, raw).await {
        Ok(k) => k,
        Err(e) => return fail(signed, e),
    };
    let owner = match s.get_user(&signed.ctx, &k.user_id).await {
        Ok(u) => person(&u),
        Err(_) => k.user_id.to_string(),
    };
    let url = format!("{}/{}", tokens_url(&signed.tenant), k.id);
    let (title, what, action) = if regenerate {
        (
            format!("Regenerate {}?", k.name),
            "A new secret replaces the old one, which stops working at once, as do the console sessions it opened.",
            "regenerate",
        )
    } else {
        (
            format!("Revoke {}?", k.name),
            "The token stops working at once, and so do the console sessions it opened. This cannot be undone.",
            "revoke",
        )
    };
    let body = html! {
        h1 { (title) }
        p { "Owner: " strong { (owner) } ". " (what) }
        form.actions method="post" action=(format!("{url}/{action}")) {
            (signed.csrf_field())
            button.danger type="submit" { @if regenerate { "Regenerate" } @else { "Revoke" } }
            a href=(tokens_url(&signed.tenant)) { "Cancel" }
        }
    };
    layout::page(signed, Section::Tokens, &title, body).into_response()
}

async fn confirm_regenerate(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, token)): Path<(String, String)>,
) -> Response {
    confirm(&s, &signed, &token, true).await
}

async fn confirm_revoke(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, token)): Path<(String, String)>,
) -> Response {
    confirm(&s, &signed, &token, false).await
}

fn token_id(raw: &str) -> Result<TokenId, ServiceError> {
    TokenId::parse(raw).map_err(|_| ServiceError::NotFound(format!("token `{raw}`")))
}

async fn regenerate(
    State(s): State<AppState>,
    Path((_, token)): Path<(String, String)>,
    Posted(signed, Nothing {}): Posted<Nothing>,
) -> Response {
    let made = async { s.regenerate_token(&signed.ctx, &token_id(&token)?).await }.await;
    match made {
        Ok(w) => shown_once(&signed, &w.value, "Token regenerated"),
        Err(e) => fail(&signed, e),
    }
}

async fn revoke(
    State(s): State<AppState>,
    Path((_, token)): Path<(String, String)>,
    Posted(signed, Nothing {}): Posted<Nothing>,
) -> Response {
    // The session may have been opened by this very token: it ends with it.
    match async { s.revoke_token(&signed.ctx, &token_id(&token)?).await }.await {
        Ok(_) => Redirect::to(&format!("{}?done=token-revoked", tokens_url(&signed.tenant))).into_response(),
        Err(e) => fail(&signed, e),
    }
}
