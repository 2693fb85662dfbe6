//! What a group or a user holds directly: its roles and its levels on resources (a group's
//! Roles and Resources tabs, the same sections on a user's page), and a group's data scopes
//! (its Scopes tab). Each change goes through the role and grant services, whose guard decides.

use super::confirm::{Ask, Confirmed, confirmable};
use super::frame::{Tab, fail, form_errors, group_frame, group_id, group_url, load, user_url};
use super::layout::{self, Section, badge, described, field_error};
use crate::shared::AppState;
use crate::sign_in::Posted;
use crate::sign_in::Signed;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cohort_core::model::{Grant, GroupStatus, Resource, ResourceType, Role, Subject};
use cohort_core::name::Scopes;
use cohort_core::permission::CohortPermission as P;
use cohort_core::{ResourceId, RoleId, UserId};
use cohort_service::Reach;
use cohort_service::error::ServiceError;
use cohort_store::ResourceFilter;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(super) fn routes() -> Router<AppState> {
    let groups = "/t/{tenant}/portal/access-management/groups/{group}";
    let users = "/t/{tenant}/portal/access-management/users/{user}";
    let mut r = Router::new()
        .route(&format!("{groups}/roles"), get(roles_tab).post(assign))
        .route(&format!("{groups}/resources"), get(resources_tab).post(grant))
        .route(&format!("{groups}/scopes"), get(scopes_tab).post(set_scopes));
    for base in [groups, users] {
        r = r
            .route(&format!("{base}/roles/{{role}}/remove"), post(unassign))
            .route(&format!("{base}/resources/{{resource}}/revoke"), post(revoke));
    }
    r.route(&format!("{users}/roles"), post(assign)).route(&format!("{users}/resources"), post(grant))
}

/// Resources offered in one type's grant form.
const RESOURCES_OFFERED: i64 = 500;

/// The group or user a path names, and the page its changes return to.
fn subject_of(signed: &Signed, params: &HashMap<String, String>) -> Result<(Subject, String), ServiceError> {
    let t = &signed.tenant;
    if let Some(raw) = params.get("group") {
        let id = group_id(raw)?;
        Ok((Subject::Group(id.clone()), group_url(t, &id)))
    } else {
        let raw = params.get("user").map_or("", String::as_str);
        let id = UserId::parse(raw).map_err(|_| ServiceError::NotFound(format!("user `{raw}`")))?;
        Ok((Subject::User(id.clone()), user_url(t, &id)))
    }
}

/// Where a change to `subject` returns, with what was done.
fn back(subject: &Subject, url: &str, tab: &str, done: &str) -> Response {
    let to = match subject {
        Subject::Group(_) => format!("{url}/{tab}?done={done}"),
        Subject::User(_) => format!("{url}?done={done}#{tab}"),
    };
    Redirect::to(&to).into_response()
}

/// The page that shows what `subject` holds on `tab`.
fn back_url(subject: &Subject, url: &str, tab: &str) -> String {
    match subject {
        Subject::Group(_) => format!("{url}/{tab}"),
        Subject::User(_) => format!("{url}#{tab}"),
    }
}

fn section_of(subject: &Subject) -> Section {
    match subject {
        Subject::Group(_) => Section::Groups,
        Subject::User(_) => Section::Users,
    }
}

/// Whether the signed-in person may change what `subject` holds directly (the services decide;
/// this only chooses which controls to show).
pub(super) fn may_change(signed: &Signed, subject: &Subject) -> bool {
    signed.holdings.can(match subject {
        Subject::Group(_) => P::GroupsWrite,
        Subject::User(_) => P::UserRolesWrite,
    })
}

/// The roles `subject` holds directly, and (when `may_edit`) the form that assigns one of
/// `offered`.
pub(super) fn roles_section(
    signed: &Signed,
    url: &str,
    held: &[Role],
    offered: &[Role],
    may_edit: bool,
    errors: &[(String, String)],
) -> Markup {
    let held_ids: BTreeSet<&RoleId> = held.iter().map(|r| &r.id).collect();
    let free: Vec<&Role> = offered.iter().filter(|r| !held_ids.contains(&r.id)).collect();
    html! {
        @if held.is_empty() {
            div.empty {
                p { "No role is assigned here directly." }
                @if may_edit { p.muted { "Assign one below: its permissions reach every member, and the members of child groups." } }
            }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { "Roles" }
                thead { tr { th scope="col" { "Role" } th scope="col" { "Permissions" } @if may_edit { th scope="col" { span.visually-hidden { "Actions" } } } } }
                tbody {
                    @for r in held {
                        tr {
                            td { (r.name) @if r.builtin { " " (badge("source", "built-in")) } }
                            td { @for p in &r.permissions { code { (p.as_str()) } " " } }
                            @if may_edit {
                                td {
                                    form method="post" action=(format!("{url}/roles/{}/remove", r.id)) {
                                        (signed.csrf_field())
                                        button.link type="submit" aria-label=(format!("Remove the role {}", r.name)) { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        @if may_edit {
            @if free.is_empty() {
                p.muted { "Every role is already assigned here." }
            } @else {
                form.inline method="post" action=(format!("{url}/roles")) {
                    (signed.csrf_field())
                    div.field {
                        label for="role" { "Role to assign" }
                        select #role name="role" required aria-describedby=[described(errors, "role")] {
                            option value="" { "Choose…" }
                            @for r in &free { option value=(r.id.as_str()) { (r.name) @if r.permissions.iter().any(|p| p.is_cohort()) { " (manages cohort)" } } }
                        }
                        (field_error(errors, "role"))
                    }
                    button.primary type="submit" { "Assign role" }
                }
            }
        }
    }
}

/// Every resource type with the resources offered in its grant form.
pub(super) type Catalog = Vec<(ResourceType, Vec<Resource>)>;

/// The resource types and their resources, when the signed-in person may read them.
pub(super) async fn catalog(s: &AppState, signed: &Signed) -> Result<Catalog, ServiceError> {
    if !signed.holdings.can(P::ResourcesRead) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for t in s.list_resource_types(&signed.ctx).await? {
        let filter =
            ResourceFilter { type_name: Some(t.name.to_string()), q: None, after: None, limit: RESOURCES_OFFERED };
        let resources = s.list_resources(&signed.ctx, &filter).await?;
        out.push((t, resources));
    }
    Ok(out)
}

/// A level in words, with the lesser levels it includes: `edit (also view, use)`.
fn level_words(levels: &[cohort_core::name::Keyword], level: &str) -> String {
    let below: Vec<&str> = levels.iter().map(|l| l.as_str()).take_while(|l| *l != level).collect();
    if below.is_empty() || below.len() == levels.len() {
        level.to_owned()
    } else {
        format!("{level} (also {})", below.join(", "))
    }
}

/// The levels `subject` holds directly, one table per resource type, and (when `may_edit`) a
/// form per type that grants one of its levels.
pub(super) fn grants_section(
    signed: &Signed,
    url: &str,
    grants: &[Grant],
    catalog: &Catalog,
    may_edit: bool,
    errors: &[(String, String)],
) -> Markup {
    let names: BTreeMap<&ResourceId, (&Resource, &ResourceType)> =
        catalog.iter().flat_map(|(t, rs)| rs.iter().map(move |r| (&r.id, (r, t)))).collect();
    let unlisted: Vec<&Grant> = grants.iter().filter(|g| !names.contains_key(&g.resource_id)).collect();
    html! {
        @if grants.is_empty() {
            div.empty {
                p { "No level on any resource is granted here directly." }
                @if may_edit { p.muted { "Grant one below: the most permissive level anyone holds on a resource is the one that counts." } }
            }
        }
        @for (t, resources) in catalog {
            @let mine: Vec<&Grant> = grants.iter().filter(|g| names.get(&g.resource_id).is_some_and(|(_, ty)| ty.name == t.name)).collect();
            @if !mine.is_empty() || (may_edit && !resources.is_empty()) {
                section.card aria-labelledby=(format!("type-{}", t.name)) {
                    h3 id=(format!("type-{}", t.name)) { (t.name) span.muted { " · levels " (t.levels.as_slice().iter().map(|l| l.as_str()).collect::<Vec<_>>().join(" < ")) } }
                    @if !mine.is_empty() {
                        div.table-wrap { table {
                            caption.visually-hidden { "Levels on " (t.name) " resources" }
                            thead { tr { th scope="col" { "Resource" } th scope="col" { "Level" } @if may_edit { th scope="col" { span.visually-hidden { "Actions" } } } } }
                            tbody {
                                @for g in &mine {
                                    @let (r, _) = names[&g.resource_id];
                                    tr {
                                        td { (r.name) }
                                        td { (level_words(t.levels.as_slice(), g.level.as_str())) }
                                        @if may_edit {
                                            td {
                                                form method="post" action=(format!("{url}/resources/{}/revoke", r.id)) {
                                                    (signed.csrf_field())
                                                    button.link type="submit" aria-label=(format!("Revoke {} on {}", g.level.as_str(), r.name)) { "Revoke" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        } }
                    }
                    @if may_edit && !resources.is_empty() {
                        form.inline method="post" action=(format!("{url}/resources")) {
                            (signed.csrf_field())
                            input type="hidden" name="type" value=(t.name);
                            @let (resource_field, level_field) = (format!("resource-{}", t.name), format!("level-{}", t.name));
                            div.field {
                                label for=(resource_field) { "Resource" }
                                select id=(resource_field) name="resource" required aria-describedby=[described(errors, &resource_field)] {
                                    option value="" { "Choose…" }
                                    @for r in resources { option value=(r.id.as_str()) { (r.name) } }
                                }
                                (field_error(errors, &resource_field))
                            }
                            div.field {
                                label for=(level_field) { "Level" }
                                select id=(level_field) name="level" required aria-describedby=[described(errors, &level_field)] {
                                    option value="" { "Choose…" }
                                    @for l in t.levels.as_slice() { option value=(l.as_str()) { (l.as_str()) } }
                                }
                                (field_error(errors, &level_field))
                            }
                            button.primary type="submit" { "Grant level" }
                        }
                    }
                }
            }
        }
        @if !unlisted.is_empty() {
            ul { @for g in &unlisted { li { code { (g.resource_id) } ": " (g.level.as_str()) } } }
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

async fn roles_tab(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    roles_page(&s, &signed, &group, q.done.as_deref(), &[]).await
}

async fn roles_page(
    s: &AppState,
    signed: &Signed,
    group: &str,
    done: Option<&str>,
    errors: &[(String, String)],
) -> Response {
    let found = async {
        let (g, n) = load(s, signed, group).await?;
        let subject = Subject::Group(g.id.clone());
        let held = s.roles_of(&signed.ctx, &subject).await?;
        let may_edit = may_change(signed, &subject) && g.status == GroupStatus::Active;
        let offered = if may_edit && signed.holdings.can(P::RolesRead) {
            s.list_roles(&signed.ctx, None, None, 500).await?
        } else {
            Vec::new()
        };
        Ok::<_, ServiceError>((g, n, held, offered, may_edit))
    }
    .await;
    let (g, n, held, offered, may_edit) = match found {
        Ok(v) => v,
        Err(e) => return fail(signed, e),
    };
    let url = group_url(&signed.tenant, &g.id);
    let body = html! {
        h2 { "Roles" }
        p.muted { "Every member of " (g.name) ", and every member of its child groups, holds these roles' permissions while the group applies privileges." }
        (roles_section(signed, &url, &held, &offered, may_edit, errors))
    };
    (layout::form_status(errors), group_frame(signed, &g, n, Tab::Roles, done, body)).into_response()
}

async fn resources_tab(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    resources_page(&s, &signed, &group, q.done.as_deref(), &[]).await
}

async fn resources_page(
    s: &AppState,
    signed: &Signed,
    group: &str,
    done: Option<&str>,
    errors: &[(String, String)],
) -> Response {
    let found = async {
        let (g, n) = load(s, signed, group).await?;
        let subject = Subject::Group(g.id.clone());
        let grants = s.grants_of(&signed.ctx, &subject).await?;
        let catalog = catalog(s, signed).await?;
        Ok::<_, ServiceError>((g, n, grants, catalog))
    }
    .await;
    let (g, n, grants, catalog) = match found {
        Ok(v) => v,
        Err(e) => return fail(signed, e),
    };
    let may_edit = may_change(signed, &Subject::Group(g.id.clone())) && g.status == GroupStatus::Active;
    let url = group_url(&signed.tenant, &g.id);
    let body = html! {
        h2 { "Resources" }
        p.muted { "Levels on the resources apps protect. A level includes the ones below it; members keep the most permissive level any of their groups gives." }
        (grants_section(signed, &url, &grants, &catalog, may_edit, errors))
    };
    (layout::form_status(errors), group_frame(signed, &g, n, Tab::Resources, done, body)).into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(flatten)]
    confirmed: Confirmed,
}

/// The page a holding form came from, shown again with `errors` beside its fields.
async fn form_again(s: &AppState, signed: &Signed, subject: &Subject, errors: &[(String, String)]) -> Response {
    match subject {
        Subject::Group(g) if errors.iter().any(|(f, _)| f == "role") => {
            roles_page(s, signed, g.as_str(), None, errors).await
        }
        Subject::Group(g) => resources_page(s, signed, g.as_str(), None, errors).await,
        Subject::User(u) => super::users::user_page(s, signed, u.as_str(), None, errors).await,
    }
}

/// How a subject is named on a confirmation, and how its users are reached.
async fn subject_words(s: &AppState, signed: &Signed, subject: &Subject) -> Result<(String, String), ServiceError> {
    Ok(match subject {
        Subject::Group(g) => {
            let (g, _) = s.get_group(&signed.ctx, g).await?;
            let reached = format!("in {} and its child groups", g.name);
            (g.name.to_string(), reached)
        }
        Subject::User(u) => (layout::person(&s.get_user(&signed.ctx, u).await?), String::new()),
    })
}

fn reach_of(subject: &Subject) -> Reach {
    match subject {
        Subject::Group(g) => Reach::Group(g.clone()),
        Subject::User(u) => Reach::User(u.clone()),
    }
}

/// Assigns a role; one that gives `cohort:` permissions is confirmed first.
async fn assign(
    State(s): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    Posted(signed, f): Posted<RoleForm>,
) -> Response {
    let (subject, url) = match subject_of(&signed, &params) {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    if f.role.is_empty() {
        return form_again(&s, &signed, &subject, &[("role".to_owned(), "Choose a role to assign.".to_owned())]).await;
    }
    let role = match RoleId::parse(&f.role) {
        Ok(id) => s.get_role(&signed.ctx, &id).await,
        Err(_) => Err(ServiceError::NotFound(format!("role `{}`", f.role))),
    };
    let apply = async |ctx: &cohort_service::Ctx, role: &RoleId| {
        s.assign_role(ctx, &subject, role).await?;
        Ok(back(&subject, &url, "roles", "role-assigned"))
    };
    let role = match role {
        Ok(r) => r,
        // Someone who may not read roles is offered none to pick; a role sent anyway goes
        // to the service, whose guard decides (and audits a refusal).
        Err(ServiceError::Forbidden(_)) if let Ok(id) = RoleId::parse(&f.role) => {
            return apply(&signed.ctx, &id).await.unwrap_or_else(|e| fail(&signed, e));
        }
        Err(e) => return fail(&signed, e),
    };
    let apply = async |ctx: &cohort_service::Ctx| apply(ctx, &role.id).await;
    let cohort: Vec<&str> = role.permissions.iter().filter(|p| p.is_cohort()).map(|p| p.as_str()).collect();
    if cohort.is_empty() {
        return apply(&signed.ctx).await.unwrap_or_else(|e| fail(&signed, e));
    }
    let ask = async || {
        let (name, within) = subject_words(&s, &signed, &subject).await?;
        Ok(Ask {
            title: format!("Give {name} the role {}?", role.name),
            what: html! {
                p { "The role " strong { (role.name) } " manages cohort itself: it gives "
                    @for (i, p) in cohort.iter().enumerate() { @if i > 0 { ", " } code { (p) } }
                    ". Whoever holds it can change who holds what in this tenant." }
            },
            reach: reach_of(&subject),
            reached_words: match &subject {
                Subject::Group(_) => format!("{within} would hold it"),
                Subject::User(_) => "would hold it".to_owned(),
            },
            action: format!("{url}/roles"),
            fields: vec![("role", role.id.to_string())],
            button: format!("Give {}", role.name),
            danger: true,
            cancel: back_url(&subject, &url, "roles"),
            section: section_of(&subject),
        })
    };
    confirmable(&s, &signed, &f.confirmed, ask, apply).await
}

/// Removes a role, once confirmed.
async fn unassign(
    State(s): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let found = async {
        let (subject, url) = subject_of(&signed, &params)?;
        let raw = params.get("role").map_or("", String::as_str);
        let role = RoleId::parse(raw).map_err(|_| ServiceError::NotFound(format!("role `{raw}`")))?;
        Ok::<_, ServiceError>((subject, url, role))
    };
    let (subject, url, role) = match found.await {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let ask = async || {
        let (name, within) = subject_words(&s, &signed, &subject).await?;
        let r = s.get_role(&signed.ctx, &role).await?;
        Ok(Ask {
            title: format!("Remove the role {} from {name}?", r.name),
            what: html! {
                p { "It gives " @for (i, p) in r.permissions.iter().enumerate() { @if i > 0 { ", " } code { (p.as_str()) } }
                    ". What the same permissions come with through another role or group stays." }
            },
            reach: reach_of(&subject),
            reached_words: match &subject {
                Subject::Group(_) => format!("{within} would lose what it gives through {name}"),
                Subject::User(_) => "would lose what it gives directly".to_owned(),
            },
            action: format!("{url}/roles/{role}/remove"),
            fields: Vec::new(),
            button: "Remove the role".to_owned(),
            danger: true,
            cancel: back_url(&subject, &url, "roles"),
            section: section_of(&subject),
        })
    };
    let apply = async |ctx: &cohort_service::Ctx| {
        s.unassign_role(ctx, &subject, &role).await?;
        Ok(back(&subject, &url, "roles", "role-removed"))
    };
    confirmable(&s, &signed, &f, ask, apply).await
}

#[derive(Deserialize, Default)]
pub(super) struct GrantForm {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    level: String,
    /// The resource type whose form was sent (which fields an error goes beside).
    #[serde(default, rename = "type")]
    type_name: String,
}

fn resource_id(raw: &str) -> Result<ResourceId, ServiceError> {
    ResourceId::parse(raw).map_err(|_| ServiceError::NotFound(format!("resource `{raw}`")))
}

/// Grants a level (levels never give `cohort:` permissions: not confirmed).
async fn grant(
    State(s): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    Posted(signed, f): Posted<GrantForm>,
) -> Response {
    let (subject, url) = match subject_of(&signed, &params) {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let mut errors = Vec::new();
    if f.resource.is_empty() {
        errors.push((format!("resource-{}", f.type_name), "Choose a resource.".to_owned()));
    }
    if f.level.trim().is_empty() {
        errors.push((format!("level-{}", f.type_name), "Choose a level.".to_owned()));
    }
    if !errors.is_empty() {
        return form_again(&s, &signed, &subject, &errors).await;
    }
    let done = async {
        s.grant(&signed.ctx, &subject, &resource_id(&f.resource)?, f.level.trim()).await?;
        Ok::<_, ServiceError>(back(&subject, &url, "resources", "granted"))
    }
    .await;
    done.unwrap_or_else(|e| fail(&signed, e))
}

/// Revokes a level, once confirmed.
async fn revoke(
    State(s): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let found = async {
        let (subject, url) = subject_of(&signed, &params)?;
        let resource = resource_id(params.get("resource").map_or("", String::as_str))?;
        Ok::<_, ServiceError>((subject, url, resource))
    };
    let (subject, url, resource) = match found.await {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let ask = async || {
        let (name, within) = subject_words(&s, &signed, &subject).await?;
        let r = s.get_resource(&signed.ctx, &resource).await?;
        let held = s.grants_of(&signed.ctx, &subject).await?;
        let level = held.iter().find(|g| g.resource_id == resource).map(|g| g.level.to_string());
        let level = level.ok_or_else(|| ServiceError::NotFound(format!("a grant on resource `{resource}`")))?;
        Ok(Ask {
            title: format!("Revoke {level} on {} from {name}?", r.name),
            what: html! { p { "A level held through another group or directly stays; the most permissive one counts." } },
            reach: reach_of(&subject),
            reached_words: match &subject {
                Subject::Group(_) => format!("{within} would lose {level} on {} through {name}", r.name),
                Subject::User(_) => format!("would lose {level} on {} held directly", r.name),
            },
            action: format!("{url}/resources/{resource}/revoke"),
            fields: Vec::new(),
            button: "Revoke the level".to_owned(),
            danger: true,
            cancel: back_url(&subject, &url, "resources"),
            section: section_of(&subject),
        })
    };
    let apply = async |ctx: &cohort_service::Ctx| {
        s.revoke(ctx, &subject, &resource).await?;
        Ok(back(&subject, &url, "resources", "revoked"))
    };
    confirmable(&s, &signed, &f, ask, apply).await
}

#[derive(Deserialize, Default)]
pub(super) struct ScopesForm {
    #[serde(default)]
    scopes: String,
}

/// Scopes as the form writes them: one key to a line, `key: value, value`.
fn scopes_text(scopes: &Scopes) -> String {
    scopes
        .as_map()
        .iter()
        .map(|(k, vs)| format!("{k}: {}", vs.iter().map(String::as_str).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the form's text back into scopes, or says which line is wrong.
fn parse_scopes(text: &str) -> Result<Scopes, String> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).take(1000) {
        let Some((key, values)) = line.split_once(':') else {
            return Err(format!("line {}: write `key: value, value`", n + 1));
        };
        let values = values.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        map.entry(key.trim().to_owned()).or_default().extend(values);
    }
    Scopes::new(map).map_err(super::layout::reason)
}

async fn scopes_tab(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let found = async {
        let (g, n) = load(&s, &signed, &group).await?;
        let scopes = s.scopes(&signed.ctx, &g.id).await?;
        Ok::<_, ServiceError>((g, n, scopes_text(&scopes)))
    }
    .await;
    match found {
        Ok((g, n, text)) => scopes_page(&signed, &g, n, &text, &[], q.done.as_deref()),
        Err(e) => fail(&signed, e),
    }
}

fn scopes_page(
    signed: &Signed,
    g: &cohort_core::model::Group,
    count: i64,
    text: &str,
    errors: &[(String, String)],
    done: Option<&str>,
) -> Response {
    let may_edit = may_change(signed, &Subject::Group(g.id.clone())) && g.status == GroupStatus::Active;
    let url = group_url(&signed.tenant, &g.id);
    let body = html! {
        h2 { "Scopes" }
        p.muted { "Data scopes say which slice of the data members see: a group with " code { "country: France" } " lets its members see France. A member of several groups sees the union of their values." }
        @if may_edit {
            @if !errors.is_empty() { p.error role="alert" { "The scopes were not saved." } }
            form.stack method="post" action=(format!("{url}/scopes")) {
                (signed.csrf_field())
                div.field {
                    label for="scopes" { "Scopes" }
                    textarea #scopes name="scopes" rows="6" spellcheck="false" aria-describedby=(described(errors, "scopes").unwrap_or_else(|| "scopes-hint".to_owned())) { (text) }
                    p.hint #scopes-hint { "One key to a line, then its values separated by commas, e.g. " code { "country: France, Belgium" } ". Leave it empty to remove every scope." }
                    (field_error(errors, "scopes"))
                }
                button.primary type="submit" { "Save scopes" }
            }
        } @else if text.is_empty() {
            div.empty { p { "This group sets no data scope." } }
        } @else {
            pre.scopes { (text) }
        }
    };
    let status = super::layout::form_status(errors);
    (status, group_frame(signed, g, count, Tab::Scopes, done, body)).into_response()
}

async fn set_scopes(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<ScopesForm>,
) -> Response {
    let (g, n) = match load(&s, &signed, &group).await {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let scopes = match parse_scopes(&f.scopes) {
        Ok(v) => v,
        Err(m) => return scopes_page(&signed, &g, n, &f.scopes, &[("scopes".to_owned(), m)], None),
    };
    match s.set_scopes(&signed.ctx, &g.id, scopes).await {
        Ok(_) => {
            Redirect::to(&format!("{}/scopes?done=scopes-saved", group_url(&signed.tenant, &g.id))).into_response()
        }
        Err(e) => match form_errors(&e, &[("", "scopes")]) {
            Some(errors) => scopes_page(&signed, &g, n, &f.scopes, &errors, None),
            None => fail(&signed, e),
        },
    }
}
