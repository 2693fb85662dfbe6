//! What a tenant defines for groups to confer: its roles with their permissions, its resource
//! types with their levels, and its resources with who holds a level on each; and the audit
//! log with its filters.

use super::activity::{Log, events_table};
use super::frame::user_by_email;
use super::frame::{fail, group_url, notice, user_url};
use super::groups::find_group;
use super::layout::{self, Section, badge, described_text, section_url};
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cohort_core::ResourceId;
use cohort_core::model::Subject;
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_store::{AuditFilter, ResourceFilter};
use maud::html;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management";
    Router::new()
        .route(&format!("{base}/roles"), get(roles))
        .route(&format!("{base}/resources"), get(resources))
        .route(&format!("{base}/resources/{{resource}}"), get(resource))
        .route(&format!("{base}/audit"), get(audit))
}

/// Rows on one page of these lists.
const PAGE: i64 = 100;

#[derive(Deserialize, Default)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    type_name: String,
    cursor: Option<String>,
    done: Option<String>,
}

/// The query string of the next page: the filters kept, the cursor added.
fn keep(pairs: &[(&str, &str)], cursor: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
    pairs.push(("cursor", cursor));
    serde_html_form::to_string(&pairs).unwrap_or_default()
}

async fn roles(State(s): State<AppState>, signed: Signed, Query(q): Query<SearchQuery>) -> Response {
    let found = async {
        let after = q.cursor.as_deref().map(crate::cursor::decode).transpose()?;
        let text = Some(q.q.trim()).filter(|v| !v.is_empty());
        s.list_roles(&signed.ctx, text, after.as_ref(), PAGE).await
    }
    .await;
    let roles = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let url = section_url(&signed.tenant, "roles");
    let next = crate::cursor::next(&roles, PAGE, |r| (r.name.key(), r.id.to_string()));
    let deletes = signed.holdings.can(P::RolesWrite);
    let body = html! {
        h1 { "Roles" }
        (notice(q.done.as_deref()))
        p.muted { "A role is a set of permissions. Assign it to a group (its Roles tab) and every member holds them; built-in roles give cohort's own permissions." }
        form.filters method="get" action=(url) role="search" {
            div.field { label for="q" { "Search" } input #q type="search" name="q" value=(q.q) placeholder="Role name"; }
            button type="submit" { "Search" }
        }
        @if roles.is_empty() {
            div.empty { p { "No role matches." } p.muted { "Roles are made with " code { "POST /roles" } " or " code { "cohort" } " scripts." } }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Roles" }
                thead { tr {
                    th scope="col" { "Role" } th scope="col" { "Description" } th scope="col" { "Permissions" }
                    @if deletes { th scope="col" { span.visually-hidden { "Actions" } } }
                } }
                tbody {
                    @for r in &roles {
                        tr {
                            td { (r.name) @if r.builtin { " " (badge("source", "built-in")) } }
                            td { (described_text(r.description.as_str())) }
                            td { @for p in &r.permissions { code { (p.as_str()) } " " } }
                            @if deletes {
                                td.actions { @if !r.builtin {
                                    form.inline method="post" action=(format!("{url}/{}/delete", r.id)) {
                                        (signed.csrf_field())
                                        button.danger type="submit" aria-label=(format!("Delete the role {}", r.name)) { "Delete…" }
                                    }
                                } }
                            }
                        }
                    }
                }
            } }
            @if let Some(c) = &next { nav.pager aria-label="Pages" { a href=(format!("{url}?{}", keep(&[("q", &q.q)], c))) rel="next" { "Next page" } } }
        }
    };
    layout::page(&signed, Section::Roles, "Roles", body).into_response()
}

async fn resources(State(s): State<AppState>, signed: Signed, Query(q): Query<SearchQuery>) -> Response {
    let found = async {
        let types = s.list_resource_types(&signed.ctx).await?;
        let filter = ResourceFilter {
            type_name: Some(q.type_name.clone()).filter(|v| !v.is_empty()),
            q: Some(q.q.trim().to_owned()).filter(|v| !v.is_empty()),
            after: q.cursor.as_deref().map(crate::cursor::decode).transpose()?,
            limit: PAGE,
        };
        let resources = s.list_resources(&signed.ctx, &filter).await?;
        Ok::<_, ServiceError>((types, resources))
    }
    .await;
    let (types, resources) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let url = section_url(&signed.tenant, "resources");
    let next = crate::cursor::next(&resources, PAGE, |r| (r.name.key(), r.id.to_string()));
    let body = html! {
        h1 { "Resources" }
        (notice(q.done.as_deref()))
        p.muted { "What apps protect, by type. Each type has ordered levels; a level includes the ones before it." }
        h2 { "Types" }
        div.table-wrap { table {
            caption.visually-hidden { "Resource types" }
            thead { tr { th scope="col" { "Type" } th scope="col" { "Levels, least permissive first" } } }
            tbody {
                @for t in &types {
                    tr {
                        td { a href=(format!("{url}?type={}", t.name)) { (t.name) } @if t.builtin { " " (badge("source", "built-in")) } }
                        td { (t.levels.as_slice().iter().map(|l| l.as_str()).collect::<Vec<_>>().join(" < ")) }
                    }
                }
            }
        } }
        h2 { "Resources" }
        form.filters method="get" action=(url) role="search" {
            div.field { label for="q" { "Search" } input #q type="search" name="q" value=(q.q) placeholder="Resource name"; }
            div.field {
                label for="type" { "Type" }
                select #type name="type" {
                    option value="" { "Any" }
                    @for t in &types { option value=(t.name.as_str()) selected[t.name.as_str() == q.type_name] { (t.name) } }
                }
            }
            button type="submit" { "Filter" }
        }
        @if resources.is_empty() {
            div.empty { p { "No resource matches." } p.muted { "Apps register their resources with " code { "POST /resources" } "." } }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Resources" }
                thead { tr { th scope="col" { "Resource" } th scope="col" { "Type" } th scope="col" { "Description" } } }
                tbody {
                    @for r in &resources {
                        tr { td { a href=(format!("{url}/{}", r.id)) { (r.name) } } td { (r.type_name) } td { (described_text(r.description.as_str())) } }
                    }
                }
            } }
            @if let Some(c) = &next { nav.pager aria-label="Pages" { a href=(format!("{url}?{}", keep(&[("q", &q.q), ("type", &q.type_name)], c))) rel="next" { "Next page" } } }
        }
    };
    layout::page(&signed, Section::Resources, "Resources", body).into_response()
}

/// Grants named on one resource's page.
const HOLDERS_SHOWN: usize = 200;

async fn resource(State(s): State<AppState>, signed: Signed, Path((_, raw)): Path<(String, String)>) -> Response {
    let found = async {
        let id = ResourceId::parse(&raw).map_err(|_| ServiceError::NotFound(format!("resource `{raw}`")))?;
        let r = s.get_resource(&signed.ctx, &id).await?;
        let grants = s.grants_on(&signed.ctx, &id).await?;
        let total = grants.len();
        let mut named = Vec::new();
        for g in grants.into_iter().take(HOLDERS_SHOWN) {
            let name = match &g.subject {
                Subject::Group(gid) => {
                    s.get_group(&signed.ctx, gid).await.map_or_else(|_| gid.to_string(), |(x, _)| x.name.to_string())
                }
                Subject::User(uid) => {
                    s.get_user(&signed.ctx, uid).await.map_or_else(|_| uid.to_string(), |u| layout::person(&u))
                }
            };
            named.push((g, name));
        }
        Ok::<_, ServiceError>((r, total, named))
    }
    .await;
    let (r, total, named) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let t = &signed.tenant;
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href=(section_url(t, "resources")) { "Resources" } " / " span { (r.name) } }
        h1 { (r.name) " " span.badges { (badge("source", r.type_name.as_str())) } }
        @if !r.description.as_str().is_empty() { p.description { (described_text(r.description.as_str())) } }
        p.muted { code { (r.id) } }
        @if signed.holdings.can(P::ResourcesWrite) {
            form.inline method="post" action=(format!("{}/{}/delete", section_url(t, "resources"), r.id)) {
                (signed.csrf_field())
                button.danger type="submit" { "Delete resource…" }
            }
        }
        h2 { "Who holds a level" }
        @if named.is_empty() {
            div.empty { p { "No group or user holds a level on it." } p.muted { "Grant one on a group's Resources tab." } }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Grants" }
                thead { tr { th scope="col" { "Holder" } th scope="col" { "Level" } } }
                tbody {
                    @for (g, name) in &named {
                        tr {
                            td { @match &g.subject {
                                Subject::Group(id) => { a href=(group_url(t, id)) { (name) } " " (badge("source", "group")) },
                                Subject::User(id) => { a href=(user_url(t, id)) { (name) } " " (badge("source", "user")) },
                            } }
                            td { (g.level.as_str()) }
                        }
                    }
                }
            } }
            @if total > named.len() { p.muted { "The first " (named.len()) " of " (total) " are shown." } }
        }
    };
    layout::page(&signed, Section::Resources, r.name.as_str(), body).into_response()
}

/// The kinds of event the audit log filters by, as (action prefix, words).
const ACTIONS: [(&str, &str); 12] = [
    ("", "Everything"),
    ("membership.", "Memberships"),
    ("group.", "Groups, their roles, levels, scopes and nesting"),
    ("user.", "Users and their roles and levels"),
    ("role.", "Roles"),
    ("resource", "Resources and resource types"),
    ("auto_assignment.", "Rules"),
    ("sso", "Sign-in through the identity provider"),
    ("token.", "Tokens"),
    ("session.", "Console sign-ins"),
    ("identity_provider.", "The identity provider's settings"),
    ("tenant.", "The tenant"),
];

#[derive(Deserialize, Default)]
pub(super) struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    cursor: Option<String>,
}

/// A filter of the address that cannot be read: the request is bad, not a form to correct.
fn bad_query(e: cohort_core::DomainError) -> ServiceError {
    ServiceError::BadRequest(super::layout::reason(e))
}

async fn audit(State(s): State<AppState>, signed: Signed, Query(q): Query<AuditQuery>) -> Response {
    let found = async {
        let after = match q.cursor.as_deref().map(crate::cursor::decode).transpose()? {
            Some(a) => Some((
                a.key.parse::<i64>().map_err(|_| ServiceError::BadRequest("the cursor is not valid".to_owned()))?,
                a.id,
            )),
            None => None,
        };
        let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        // A person is chosen by email (or id), what the events are about by a group's name or
        // slug (or any id).
        let actor = match text(&q.actor) {
            Some(a) if a.contains('@') => match user_by_email(&s, &signed, &a).await? {
                Some(u) => Some(u.id.to_string()),
                None => return Err(ServiceError::BadRequest(format!("no user has the email `{a}`"))),
            },
            other => other,
        };
        let target = match text(&q.target) {
            Some(t) if !cohort_service::audit::mentioned_id(&t) => match find_group(&s, &signed, &t).await? {
                Some(g) => Some(g.id.to_string()),
                None => return Err(ServiceError::BadRequest(format!("no active group has the slug or name `{t}`"))),
            },
            other => other,
        };
        let filter = AuditFilter {
            action_prefix: text(&q.action),
            actor_id: actor,
            target_id: target,
            from: signed.time.parse("from", &q.from).map_err(bad_query)?,
            to: signed.time.parse("to", &q.to).map_err(bad_query)?,
            after,
            limit: PAGE,
        };
        Log::of(&s, &signed, s.list_audit(&signed.ctx, &filter).await?).await
    }
    .await;
    let log = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let url = section_url(&signed.tenant, "audit");
    let next = crate::cursor::next(&log.records, PAGE, |r| (r.revision.to_string(), r.event.id.to_string()));
    let known = ACTIONS.iter().any(|(v, _)| *v == q.action);
    let filters =
        [("action", q.action.as_str()), ("actor", &q.actor), ("target", &q.target), ("from", &q.from), ("to", &q.to)];
    let body = html! {
        h1 { "Audit log" }
        p.muted { "Every change, newest first: who made it, what it was before and after. Refused attempts to gain access are recorded too." }
        form.filters method="get" action=(url) role="search" {
            div.field { label for="action" { "What" } select #action name="action" {
                @for (v, l) in ACTIONS { option value=(v) selected[*v == q.action] { (l) } }
                @if !known { option value=(q.action) selected { "Starting with " (q.action) } }
            } }
            div.field { label for="actor" { "By" } input #actor type="text" name="actor" value=(q.actor) placeholder="Email" data-picker="users"; }
            div.field { label for="target" { "About group" } input #target type="text" name="target" value=(q.target) placeholder="Name or slug" data-picker="groups"; }
            div.field { label for="from" { "From (" (signed.time.name()) ")" } input #from type="datetime-local" name="from" value=(q.from); }
            div.field { label for="to" { "Before (" (signed.time.name()) ")" } input #to type="datetime-local" name="to" value=(q.to); }
            button type="submit" { "Filter" }
            @if filters.iter().any(|(_, v)| !v.is_empty()) { a href=(url) { "Clear" } }
        }
        (events_table(&signed, &log, "Audit events"))
        @if let Some(c) = &next { nav.pager aria-label="Pages" { a href=(format!("{url}?{}", keep(&filters, c))) rel="next" { "Older events" } } }
    };
    layout::page(&signed, Section::Audit, "Audit log", body).into_response()
}
