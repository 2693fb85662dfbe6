//! The users pages: the list (search, status, pages) and a user's page with their profile, their
//! groups (direct and inherited), their effective access with the paths that give it, what they
//! hold directly, and their tokens.

use super::frame::{fail, form_errors, notice, user_url};
use super::holdings::{catalog, grants_section, may_change, roles_section};
use super::layout::{self, Section, badge, person, section_url};
use super::time_zone::ZoneForm;
use super::tokens::tokens_section;
use crate::local_time::LocalTime;
use crate::shared::AppState;
use crate::sign_in::{Posted, Signed};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cohort_core::model::{Subject, User, UserStatus};
use cohort_core::name::AttributeValue;
use cohort_core::permission::CohortPermission as P;
use cohort_core::resolve::GroupPath;
use cohort_core::{GroupId, UserId};
use cohort_service::error::ServiceError;
use cohort_service::{UserAccess, UserPatch, ViaWords};
use cohort_store::UserFilter;
use maud::{Markup, html};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/users";
    Router::new()
        .route(base, get(list))
        .route(&format!("{base}/{{user}}"), get(page))
        .route(&format!("{base}/{{user}}/time-zone"), post(set_time_zone))
}

/// Users on one page of the list.
const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    cursor: Option<String>,
    done: Option<String>,
}

fn status_badge(status: UserStatus) -> Markup {
    match status {
        UserStatus::Active => badge("active", "Active"),
        UserStatus::Suspended => badge("archived", "Suspended"),
    }
}

async fn list(State(s): State<AppState>, signed: Signed, Query(q): Query<ListQuery>) -> Response {
    let found = async {
        let status = (!q.status.is_empty()).then(|| UserStatus::parse("status", &q.status)).transpose()?;
        let after = q.cursor.as_deref().map(crate::cursor::decode).transpose()?;
        let filter =
            UserFilter { q: Some(q.q.trim().to_owned()).filter(|v| !v.is_empty()), status, after, limit: PAGE };
        let users = s.list_users(&signed.ctx, &filter).await?;
        Ok::<_, ServiceError>((status, users))
    }
    .await;
    let (status, users) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let t = &signed.tenant;
    let url = section_url(t, "users");
    let next = crate::cursor::next(&users, PAGE, |u| (u.email_key(), u.id.to_string()));
    let filtered = !q.q.is_empty() || status.is_some();
    let keep = |cursor: &str| {
        let mut pairs: Vec<(&str, &str)> = vec![("q", &q.q), ("status", &q.status)];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.push(("cursor", cursor));
        serde_html_form::to_string(&pairs).unwrap_or_default()
    };
    let body = html! {
        h1 { "Users" }
        (notice(q.done.as_deref()))
        p.muted { "People are created by SCIM provisioning, sign-in, CSV import or the API; here you see what each one holds and why." }
        form.filters method="get" action=(url) role="search" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(q.q) placeholder="Email or name";
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[status.is_none()] { "Any" }
                    option value="active" selected[status == Some(UserStatus::Active)] { "Active" }
                    option value="suspended" selected[status == Some(UserStatus::Suspended)] { "Suspended" }
                }
            }
            button type="submit" { "Filter" }
            @if filtered { a href=(url) { "Clear" } }
        }
        @if users.is_empty() {
            div.empty {
                @if filtered { p { "No user matches these filters." } }
                @else { p { "No users yet. Connect SCIM provisioning or import users from CSV." } }
            }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Users" }
                thead { tr { th scope="col" { "User" } th scope="col" { "Name" } th scope="col" { "Status" } th scope="col" { "Type" } th scope="col" { "Department" } } }
                tbody {
                    @for u in &users {
                        tr {
                            td { a href=(user_url(t, &u.id)) { (person(u)) } }
                            td { (u.display_name) }
                            td { (status_badge(u.status)) }
                            td { (u.user_type.as_str()) }
                            td { (u.department) }
                        }
                    }
                }
            } }
            @if let Some(c) = &next {
                nav.pager aria-label="Pages" { a href=(format!("{url}?{}", keep(c))) rel="next" { "Next page" } }
            }
        }
    };
    layout::page(&signed, Section::Users, "Users", body).into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct PageQuery {
    done: Option<String>,
}

fn profile(u: &User, time: &LocalTime) -> Markup {
    let value = |v: &AttributeValue| match v {
        AttributeValue::One(s) => s.clone(),
        AttributeValue::Many(vs) => vs.join(", "),
    };
    html! {
        dl.facts {
            dt { "Email" } dd { @match &u.email { Some(e) => (e), None => span.muted { "none" } } }
            @if let Some(n) = &u.user_name { dt { "User name" } dd { (n) } }
            dt { "Name" } dd { (u.display_name) }
            dt { "Status" } dd { (status_badge(u.status)) }
            dt { "Type" } dd { (u.user_type.as_str()) }
            @if !u.department.as_str().is_empty() { dt { "Department" } dd { (u.department) } }
            @if !u.title.as_str().is_empty() { dt { "Title" } dd { (u.title) } }
            @for (k, v) in u.attributes.as_map() { dt { (k) } dd { (value(v)) } }
            @if let Some(x) = &u.external_id { dt { "External id" } dd { code { (x) } } }
            dt { "Time zone" } dd { @match &u.time_zone { Some(z) => (z), None => span.muted { "the tenant's" } } }
            dt { "Id" } dd { code { (u.id) } }
            dt { "Created" } dd { (time.when(u.created_at)) }
        }
    }
}

/// The names of the groups a user's paths pass through (each is one of their effective groups).
type Names = std::collections::BTreeMap<GroupId, String>;

/// A path in names, each group a link with its id in the `title`: "via France ← EMEA
/// (manual)", the group that confers first.
fn path_words(t: &str, path: &GroupPath, names: &Names) -> Markup {
    html! {
        "via "
        @for (i, g) in path.chain.iter().rev().enumerate() {
            @if i > 0 { " ← " }
            a href=(format!("{}/{g}", section_url(t, "groups"))) title=(g) { (names.get(g).map_or(g.as_str(), String::as_str)) }
        }
        " (" @for (i, s) in path.sources.iter().enumerate() { @if i > 0 { ", " } (s.as_str()) } ")"
    }
}

/// Where something comes from: directly, or by its path in names.
fn via_words(t: &str, v: &ViaWords, names: &Names) -> Markup {
    match &v.path {
        Some(p) => path_words(t, &p.path, names),
        None => html! { (v.words) },
    }
}

fn vias(t: &str, v: &[ViaWords], names: &Names) -> Markup {
    html! { ul.paths { @for x in v { li { (via_words(t, x, names)) } } } }
}

/// The effective access of a user, every item with the paths that give it, in names.
fn access(t: &str, a: &UserAccess) -> Markup {
    let names: Names = a.groups.iter().map(|g| (g.group.clone(), g.name.clone())).collect();
    html! {
        @if !a.active { p.notice role="status" { "This user is suspended: they hold nothing until they are active again." } }
        h3 { "Groups" }
        @if a.groups.is_empty() {
            p.muted { "In no group." }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Effective groups" }
                thead { tr { th scope="col" { "Group" } th scope="col" { "How" } } }
                tbody {
                    @for g in &a.groups {
                        tr {
                            td { a href=(format!("{}/{}", section_url(t, "groups"), g.group)) { (g.name) } " " @if g.direct { (badge("source", "direct")) } @else { (badge("source", "inherited")) } }
                            td { ul.paths { @for p in &g.paths { li { (path_words(t, &p.path, &names)) } } } }
                        }
                    }
                }
            } }
        }
        h3 { "Roles" }
        @if a.roles.is_empty() { p.muted { "No role." } } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Effective roles" }
                thead { tr { th scope="col" { "Role" } th scope="col" { "Why" } } }
                tbody { @for r in &a.roles { tr { td { (r.name) } td { (vias(t, &r.via, &names)) } } } }
            } }
        }
        h3 { "Permissions" }
        @if a.permissions.is_empty() { p.muted { "No permission." } } @else {
            p { @for p in &a.permissions { code { (p.permission) } " " } }
        }
        h3 { "Resources" }
        @if a.levels.is_empty() { p.muted { "No level on any resource." } } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Effective levels" }
                thead { tr { th scope="col" { "Resource" } th scope="col" { "Level" } th scope="col" { "Why" } } }
                tbody {
                    @for l in &a.levels {
                        tr {
                            td { (l.name) }
                            td { strong { (l.level) } }
                            td { ul.paths { @for (level, via) in &l.via { li { code { (level) } ": " (via_words(t, via, &names)) } } } }
                        }
                    }
                }
            } }
        }
        h3 { "Scopes" }
        @if a.scopes.is_empty() { p.muted { "No data scope." } } @else {
            dl.facts {
                @for s in &a.scopes {
                    dt { (s.key) }
                    dd { @for v in &s.values { (v.value) " " span.muted { "(" @for (i, g) in v.groups.iter().enumerate() { @if i > 0 { ", " } a href=(format!("{}/{g}", section_url(t, "groups"))) { "group" } } ")" } " " } }
                }
            }
        }
    }
}

async fn page(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, user)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    user_page(&s, &signed, &user, q.done.as_deref(), &[]).await
}

/// A user's page, with `errors` beside the fields of the form that was sent back.
pub(super) async fn user_page(
    s: &AppState,
    signed: &Signed,
    user: &str,
    done: Option<&str>,
    errors: &[(String, String)],
) -> Response {
    let found = async {
        let id = UserId::parse(user).map_err(|_| ServiceError::NotFound(format!("user `{user}`")))?;
        let u = s.get_user(&signed.ctx, &id).await?;
        let own = signed.ctx.is_user(&id);
        let access = if own || signed.holdings.can(P::AccessRead) {
            Some(s.access(&signed.ctx, &id, None).await?)
        } else {
            None
        };
        let subject = Subject::User(id.clone());
        let reads = signed.holdings.can(P::UsersRead) || own;
        let roles = if reads { s.roles_of(&signed.ctx, &subject).await? } else { Vec::new() };
        let grants = if reads { s.grants_of(&signed.ctx, &subject).await? } else { Vec::new() };
        let may_edit = may_change(signed, &subject);
        let offered = if may_edit && signed.holdings.can(P::RolesRead) {
            s.list_roles(&signed.ctx, None, None, 500).await?
        } else {
            Vec::new()
        };
        let catalog = catalog(s, signed).await?;
        let tokens = if own || signed.holdings.can(P::TokensManage) {
            let all = s.list_tokens(&signed.ctx, !own).await?;
            Some(all.into_iter().filter(|t| t.user_id == id).collect::<Vec<_>>())
        } else {
            None
        };
        Ok::<_, ServiceError>((u, access, roles, grants, may_edit, offered, catalog, tokens))
    }
    .await;
    let (u, access_view, roles, grants, may_edit, offered, catalog, tokens) = match found {
        Ok(v) => v,
        Err(e) => return fail(signed, e),
    };
    let t = &signed.tenant;
    let url = user_url(t, &u.id);
    let name = person(&u);
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href=(section_url(t, "users")) { "Users" } " / " span { (name) } }
        h1 { (name) " " span.badges { (status_badge(u.status)) } }
        (notice(done))
        @if signed.holdings.can(P::UsersWrite) && !signed.ctx.is_user(&u.id) {
            div.actions {
                @let (act, words) = match u.status { UserStatus::Active => ("suspend", "Suspend…"), UserStatus::Suspended => ("unsuspend", "Unsuspend…") };
                form.inline method="post" action=(format!("{url}/{act}")) { (signed.csrf_field()) button type="submit" { (words) } }
                form.inline method="post" action=(format!("{url}/delete")) { (signed.csrf_field()) button.danger type="submit" { "Delete user…" } }
            }
        }
        section aria-labelledby="profile-title" { h2 #profile-title { "Profile" } (profile(&u, &signed.time)) }
        section #access aria-labelledby="access-title" {
            h2 #access-title { "Effective access" }
            @match &access_view {
                Some(a) => (access(t, a)),
                None => p.muted { "A user's effective access needs " code { "cohort:access.read" } "." },
            }
            p { a href=(format!("{}?user={}", section_url(t, "why"), u.id)) { "Ask Why? about " (name) } }
        }
        section #roles aria-labelledby="roles-title" {
            h2 #roles-title { "Roles held directly" }
            (roles_section(signed, &url, &roles, &offered, may_edit, errors))
        }
        section #resources aria-labelledby="resources-title" {
            h2 #resources-title { "Levels held directly" }
            (grants_section(signed, &url, &grants, &catalog, may_edit, errors))
        }
        @if signed.ctx.is_user(&u.id) { (super::time_zone::own_section(signed, &u, s.now(), errors)) }
        @if let Some(tokens) = &tokens {
            section #tokens aria-labelledby="tokens-title" {
                h2 #tokens-title { "Tokens" }
                (tokens_section(signed, Some(&u), tokens))
            }
        }
    };
    let status = super::layout::form_status(errors);
    (status, layout::page(signed, Section::Users, &name, body)).into_response()
}

/// Sets a person's own time zone (or, for a holder of `cohort:users.write`, anyone's).
async fn set_time_zone(
    State(s): State<AppState>,
    Path((_, user)): Path<(String, String)>,
    Posted(signed, f): Posted<ZoneForm>,
) -> Response {
    let done = async {
        let id = UserId::parse(&user).map_err(|_| ServiceError::NotFound(format!("user `{user}`")))?;
        let patch = UserPatch { time_zone: Some(f.chosen()?), ..UserPatch::default() };
        s.update_user(&signed.ctx, &id, patch).await
    }
    .await;
    match done {
        Ok(w) => Redirect::to(&format!("{}?done=time-zone", user_url(&signed.tenant, &w.value.id))).into_response(),
        Err(e) => match form_errors(&e, &[]) {
            Some(errors) => user_page(&s, &signed, &user, None, &errors).await,
            None => fail(&signed, e),
        },
    }
}
