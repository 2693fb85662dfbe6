//! The settings page (admins): the tenant's default time zone, as `/settings` sets it; the
//! tenant's identity provider, the redirect URI to register with it, saved or removed through
//! the same service as `/identity-provider`; and the provider groups mapped onto cohort's
//! groups, added and removed as `/sso-mappings` are.

use super::frame::{fail, form_errors};
use super::layout::{self, Section, described, field_error, section_url};
use super::time_zone::{self, ZoneForm};
use crate::shared::AppState;
use crate::sign_in::Signed;
use crate::sign_in::{Nothing, Posted, callback_url};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cohort_core::model::IdentityProvider;
use cohort_service::ProviderInput;
use cohort_service::error::ServiceError;
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/sign-in";
    Router::new()
        .route(base, get(page).post(save))
        .route(&format!("{base}/remove"), post(remove))
        .route(&format!("{base}/mappings"), post(add_mapping))
        .route(&format!("{base}/mappings/remove"), post(remove_mapping))
        .route(&format!("{base}/time-zone"), post(set_time_zone))
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

/// The mappings as `(provider group, group id, group name)`.
async fn mappings(s: &AppState, signed: &Signed) -> Result<Vec<(String, String, String)>, ServiceError> {
    let mut out = Vec::new();
    for (g, p) in s.list_sso_mappings(&signed.ctx, None).await? {
        let name = s.get_group(&signed.ctx, &g).await.map(|(g, _)| g.name.to_string())?;
        out.push((p, g.to_string(), name));
    }
    out.sort();
    Ok(out)
}

async fn page(State(s): State<AppState>, signed: Signed, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    show(&s, &signed, &headers, q.done.as_deref(), &[], None).await
}

/// The page as it stands, with `errors` beside the form they belong to (answered 422 when there
/// are some) and the provider form as `typed` when it was sent back.
async fn show(
    s: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    done: Option<&str>,
    errors: &[(String, String)],
    typed: Option<ProviderForm>,
) -> Response {
    let kept = match s.get_identity_provider(&signed.ctx).await {
        Ok(p) => Some(p),
        Err(ServiceError::NotFound(_)) => None,
        Err(e) => return fail(signed, e),
    };
    let maps = match mappings(s, signed).await {
        Ok(m) => m,
        Err(e) => return fail(signed, e),
    };
    let zone = match s.tenant_time_zone(&signed.ctx).await {
        Ok(z) => z,
        Err(e) => return fail(signed, e),
    };
    let form = typed.unwrap_or_else(|| kept.as_ref().map(ProviderForm::from).unwrap_or_default());
    let zone = time_zone::tenant_section(signed, zone.as_ref(), s.now(), errors);
    let page = Page {
        redirect_uri: &callback_url(s, headers, &signed.tenant),
        kept: kept.as_ref(),
        form: &form,
        maps: &maps,
        zone,
    };
    render(signed, &page, done, errors)
}

/// What the settings page shows.
struct Page<'a> {
    redirect_uri: &'a str,
    kept: Option<&'a IdentityProvider>,
    form: &'a ProviderForm,
    maps: &'a [(String, String, String)],
    zone: Markup,
}

fn render(signed: &Signed, page: &Page<'_>, done: Option<&str>, errors: &[(String, String)]) -> Response {
    let Page { redirect_uri, kept, form: f, maps, zone } = page;
    let t = &signed.tenant;
    let url = settings_url(t);
    let notice = match done {
        Some("saved") => Some("The identity provider was saved: people can sign in through it now."),
        Some("removed") => Some("The identity provider was removed: nobody signs in through it any more."),
        Some("mapped") => Some("The provider group was mapped: its members join the group at their next sign-in."),
        Some("unmapped") => Some("The mapping was removed: the memberships it gave go at each member's next sign-in."),
        Some("time-zone") => Some("The default time zone was saved."),
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
        h1 { "Settings" }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        @if errors.iter().any(|(f, _)| f != "timeZone") { p.error role="alert" { "The identity provider was not saved." } }
        (zone)
        h2 { "Sign-in" }
        section.card aria-labelledby="redirect-title" {
            h2 #redirect-title { "Redirect URI" }
            p { "Register this address with the provider as the application's redirect URI:" }
            p { code #redirect-uri { (redirect_uri) } }
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
        section.card aria-labelledby="mappings-title" {
            h2 #mappings-title { "Provider groups mapped onto groups" }
            p.muted { "Members of a provider group join the cohort group it is mapped onto at each sign-in (source sso). A group that confers cohort's own permissions cannot be mapped." }
            @if maps.is_empty() {
                p { "No mappings yet. Without one, each provider group still has an sso group of its own." }
            } @else {
                div.table-wrap { table {
                    caption.visually-hidden { "Mappings" }
                    thead { tr { th scope="col" { "Provider group" } th scope="col" { "Group" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for (p, gid, name) in maps.iter() {
                            tr {
                                td { code { (p) } }
                                td { a href=(format!("{}/{gid}", section_url(t, "groups"))) { (name) } }
                                td.actions {
                                    form.inline method="post" action=(format!("{url}/mappings/remove")) {
                                        (signed.csrf_field())
                                        input type="hidden" name="group" value=(gid);
                                        input type="hidden" name="provider_group" value=(p);
                                        button type="submit" aria-label=(format!("Remove the mapping of {p} onto {name}")) { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            form.inline method="post" action=(format!("{url}/mappings")) {
                (signed.csrf_field())
                div.field {
                    label for="provider-group" { "Provider group" }
                    input #provider-group type="text" name="provider_group" required maxlength="200" spellcheck="false" aria-describedby=[described(errors, "provider_group")];
                    (field_error(errors, "provider_group"))
                }
                div.field {
                    label for="mapped-group" { "Onto group (slug or name)" }
                    input #mapped-group type="text" name="group" required data-picker="groups" autocomplete="off" aria-describedby=[described(errors, "group")];
                    (field_error(errors, "group"))
                }
                button type="submit" { "Map" }
            }
        }
        @if kept.is_some() {
            form method="post" action=(format!("{url}/remove")) {
                (signed.csrf_field())
                button.danger type="submit" { "Remove the identity provider" }
                p.hint { "Nobody then signs in through it; the sso groups and their members stay." }
            }
        }
    };
    (layout::form_status(errors), layout::page(signed, Section::SignIn, "Settings", body)).into_response()
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
    match s.put_identity_provider(&signed.ctx, input).await {
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
            show(&s, &signed, &headers, None, &errors, Some(f)).await
        }
        Err(e) => fail(&signed, e),
    }
}

async fn remove(State(s): State<AppState>, Posted(signed, Nothing {}): Posted<Nothing>) -> Response {
    match s.delete_identity_provider(&signed.ctx).await {
        Ok(_) => Redirect::to(&format!("{}?done=removed", settings_url(&signed.tenant))).into_response(),
        Err(e) => fail(&signed, e),
    }
}

#[derive(Deserialize)]
pub(super) struct MappingForm {
    #[serde(default)]
    group: String,
    #[serde(default)]
    provider_group: String,
}

async fn add_mapping(
    State(s): State<AppState>,
    headers: HeaderMap,
    Posted(signed, f): Posted<MappingForm>,
) -> Response {
    let refused = async |field: &str, message: String| {
        show(&s, &signed, &headers, None, &[(field.to_owned(), message)], None).await
    };
    let group = match super::groups::find_group(&s, &signed, f.group.trim()).await {
        Ok(Some(g)) => g,
        Ok(None) => return refused("group", format!("no active group is called `{}`", f.group.trim())).await,
        Err(e) => return fail(&signed, e),
    };
    match s.add_sso_mapping(&signed.ctx, &group.id, &f.provider_group).await {
        Ok(_) => Redirect::to(&format!("{}?done=mapped", settings_url(&signed.tenant))).into_response(),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict { .. })) => {
            let field = if matches!(&e, ServiceError::Conflict { field, .. } if field == "groupId") {
                "group"
            } else {
                "provider_group"
            };
            refused(field, crate::problem::problem(&e).detail).await
        }
        Err(e) => fail(&signed, e),
    }
}

async fn remove_mapping(State(s): State<AppState>, Posted(signed, f): Posted<MappingForm>) -> Response {
    let removed = match cohort_core::GroupId::parse(&f.group) {
        Ok(g) => s.remove_sso_mapping(&signed.ctx, &g, &f.provider_group).await.map(drop),
        Err(e) => Err(e.into()),
    };
    match removed {
        Ok(()) => Redirect::to(&format!("{}?done=unmapped", settings_url(&signed.tenant))).into_response(),
        Err(e) => fail(&signed, e),
    }
}

/// Sets the tenant's default time zone.
async fn set_time_zone(State(s): State<AppState>, headers: HeaderMap, Posted(signed, f): Posted<ZoneForm>) -> Response {
    let done = async { s.set_tenant_time_zone(&signed.ctx, f.chosen()?).await }.await;
    match done {
        Ok(_) => Redirect::to(&format!("{}?done=time-zone", settings_url(&signed.tenant))).into_response(),
        Err(e) => match form_errors(&e, &[]) {
            Some(errors) => show(&s, &signed, &headers, None, &errors, None).await,
            None => fail(&signed, e),
        },
    }
}
