//! What a group or a user holds directly: its roles and its levels on resources (a group's
//! Roles and Resources tabs, the same sections on a user's page), and a group's data scopes
//! (its Scopes tab). The forms that change roles and levels are in [`super::assign`]; each
//! change goes through the role and grant services, whose guard decides.

use super::frame::{Tab, fail, form_errors, group_frame, group_url, load};
use super::layout::{self, badge, described, field_error};
use crate::shared::AppState;
use crate::sign_in::Posted;
use crate::sign_in::Signed;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cohort_core::model::{Grant, GroupStatus, Resource, ResourceType, Role, Subject};
use cohort_core::name::Scopes;
use cohort_core::permission::CohortPermission as P;
use cohort_core::{ResourceId, RoleId};
use cohort_service::error::ServiceError;
use cohort_store::ResourceFilter;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Resources offered in one type's grant form.
const RESOURCES_OFFERED: i64 = 500;

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

pub(super) async fn roles_tab(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    roles_page(&s, &signed, &group, q.done.as_deref(), &[]).await
}

pub(super) async fn roles_page(
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

pub(super) async fn resources_tab(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    resources_page(&s, &signed, &group, q.done.as_deref(), &[]).await
}

pub(super) async fn resources_page(
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

pub(super) async fn scopes_tab(
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

pub(super) async fn set_scopes(
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
