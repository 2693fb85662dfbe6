//! The forms that change what a group or a user holds directly: assigning and removing roles,
//! granting and revoking levels. What gives `cohort:` permissions or takes access away is
//! confirmed first ([`super::confirm`]); each change goes through the role and grant services,
//! whose guard decides.

use super::confirm::{Ask, Confirmed, confirmable};
use super::frame::{fail, group_id, group_url, user_url};
use super::holdings::{resources_page, resources_tab, roles_page, roles_tab, scopes_tab, set_scopes};
use super::layout::{self, Section};
use crate::shared::AppState;
use crate::sign_in::{Posted, Signed};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cohort_core::model::Subject;
use cohort_core::{ResourceId, RoleId, UserId};
use cohort_service::Reach;
use cohort_service::error::ServiceError;
use maud::html;
use serde::Deserialize;
use std::collections::HashMap;

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

/// A question about what `subject` holds on `tab`: whom it counts, where cancelling goes, the
/// section; taking away by default (a red button, no other fields), the rest to fill in.
fn ask_about(subject: &Subject, url: &str, tab: &str) -> Ask {
    Ask {
        title: String::new(),
        what: html! {},
        reach: reach_of(subject),
        reached_words: String::new(),
        action: String::new(),
        fields: Vec::new(),
        button: String::new(),
        danger: true,
        cancel: back_url(subject, url, tab),
        section: section_of(subject),
    }
}

fn reach_of(subject: &Subject) -> Reach {
    match subject {
        Subject::Group(g) => Reach::Groups(vec![g.clone()]),
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
            reached_words: match &subject {
                Subject::Group(_) => format!("{within} would hold it"),
                Subject::User(_) => "would hold it".to_owned(),
            },
            action: format!("{url}/roles"),
            fields: vec![("role", role.id.to_string())],
            button: format!("Give {}", role.name),
            ..ask_about(&subject, &url, "roles")
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
            reached_words: match &subject {
                Subject::Group(_) => format!("{within} would lose what it gives through {name}"),
                Subject::User(_) => "would lose what it gives directly".to_owned(),
            },
            action: format!("{url}/roles/{role}/remove"),
            button: "Remove the role".to_owned(),
            ..ask_about(&subject, &url, "roles")
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
            reached_words: match &subject {
                Subject::Group(_) => format!("{within} would lose {level} on {} through {name}", r.name),
                Subject::User(_) => format!("would lose {level} on {} held directly", r.name),
            },
            action: format!("{url}/resources/{resource}/revoke"),
            button: "Revoke the level".to_owned(),
            ..ask_about(&subject, &url, "resources")
        })
    };
    let apply = async |ctx: &cohort_service::Ctx| {
        s.revoke(ctx, &subject, &resource).await?;
        Ok(back(&subject, &url, "resources", "revoked"))
    };
    confirmable(&s, &signed, &f, ask, apply).await
}
