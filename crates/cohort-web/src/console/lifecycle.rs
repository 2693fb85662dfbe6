//! Suspending, unsuspending and deleting a user; deleting a role or a resource. Each is asked
//! first (`confirm`), saying what goes and how many users it reaches, and applied at the
//! revision it was counted at, through the same services as `PATCH/DELETE /users/{id}`,
//! `DELETE /roles/{id}` and `DELETE /resources/{id}`.

use super::confirm::{Ask, Confirmed, confirmable};
use super::frame::{fail, user_url};
use super::layout::{Section, section_url};
use crate::shared::AppState;
use crate::sign_in::{Posted, Signed};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use cohort_core::model::UserStatus;
use cohort_core::{ResourceId, RoleId, UserId};
use cohort_service::error::ServiceError;
use cohort_service::{Ctx, Expect, Reach, UserPatch};
use maud::{Markup, html};

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management";
    Router::new()
        .route(&format!("{base}/users/{{user}}/suspend"), post(suspend))
        .route(&format!("{base}/users/{{user}}/unsuspend"), post(unsuspend))
        .route(&format!("{base}/users/{{user}}/delete"), post(delete_user))
        .route(&format!("{base}/roles/{{role}}/delete"), post(delete_role))
        .route(&format!("{base}/resources/{{resource}}/delete"), post(delete_resource))
}

fn parsed<T>(parse: fn(&str) -> Result<T, cohort_core::DomainError>, kind: &str, raw: &str) -> Result<T, ServiceError> {
    parse(raw).map_err(|_| ServiceError::NotFound(format!("{kind} `{raw}`")))
}

fn go(to: String) -> Result<Response, ServiceError> {
    Ok(Redirect::to(&to).into_response())
}

/// The permissions a role gives, as code.
fn permissions(role: &cohort_core::model::Role) -> Markup {
    html! { @for (i, p) in role.permissions.iter().enumerate() { @if i > 0 { ", " } code { (p.as_str()) } } }
}

/// The question about a user's status or existence, from its words.
async fn ask_user(s: &AppState, signed: &Signed, id: &UserId, act: &str, what: Markup) -> Result<Ask, ServiceError> {
    let u = s.get_user(&signed.ctx, id).await?;
    let name = super::layout::person(&u);
    let url = user_url(&signed.tenant, id);
    let (title, reached, button, danger) = match act {
        "suspend" => (format!("Suspend {name}?"), "would lose all access", "Suspend", true),
        "unsuspend" => (format!("Unsuspend {name}?"), "would get their access back", "Unsuspend", false),
        _ => (format!("Delete {name}?"), "would lose all access, for good", "Delete the user", true),
    };
    Ok(Ask {
        title,
        what,
        reach: Reach::User(id.clone()),
        reached_words: reached.to_owned(),
        action: format!("{url}/{act}"),
        fields: Vec::new(),
        button: button.to_owned(),
        danger,
        cancel: url,
        section: Section::Users,
    })
}

async fn set_status(
    s: &AppState,
    ctx: &Ctx,
    tenant: &str,
    id: &UserId,
    status: UserStatus,
    done: &str,
) -> Result<Response, ServiceError> {
    s.update_user(ctx, id, UserPatch { status: Some(status), ..UserPatch::default() }).await?;
    go(format!("{}?done={done}", user_url(tenant, id)))
}

async fn suspend(
    State(s): State<AppState>,
    Path((_, user)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let id = match parsed(UserId::parse, "user", &user) {
        Ok(id) => id,
        Err(e) => return fail(&signed, e),
    };
    let what = html! {
        p { "They keep their groups, roles and levels but hold none of them while suspended, and their console sessions end at their next request. Unsuspending gives everything back." }
    };
    let ask = async || ask_user(&s, &signed, &id, "suspend", what).await;
    let apply = async |ctx: &Ctx| set_status(&s, ctx, &signed.tenant, &id, UserStatus::Suspended, "suspended").await;
    confirmable(&s, &signed, &f, ask, apply).await
}

async fn unsuspend(
    State(s): State<AppState>,
    Path((_, user)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let id = match parsed(UserId::parse, "user", &user) {
        Ok(id) => id,
        Err(e) => return fail(&signed, e),
    };
    let what = html! {
        p { "They hold again what their groups, roles and levels give, " strong { "cohort permissions included" } ", from the moment this is applied." }
    };
    let ask = async || ask_user(&s, &signed, &id, "unsuspend", what).await;
    let apply = async |ctx: &Ctx| set_status(&s, ctx, &signed.tenant, &id, UserStatus::Active, "unsuspended").await;
    confirmable(&s, &signed, &f, ask, apply).await
}

async fn delete_user(
    State(s): State<AppState>,
    Path((_, user)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let id = match parsed(UserId::parse, "user", &user) {
        Ok(id) => id,
        Err(e) => return fail(&signed, e),
    };
    let what = html! {
        p { "Their memberships, the roles and levels given to them directly, their tokens and their sessions are deleted with them. This cannot be undone; the audit log keeps what they did and what was done to them." }
    };
    let ask = async || ask_user(&s, &signed, &id, "delete", what).await;
    let apply = async |ctx: &Ctx| {
        s.delete_user(ctx, &id, &Expect::Any).await?;
        go(format!("{}?done=user-deleted", section_url(&signed.tenant, "users")))
    };
    confirmable(&s, &signed, &f, ask, apply).await
}

async fn delete_role(
    State(s): State<AppState>,
    Path((_, role)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let id = match parsed(RoleId::parse, "role", &role) {
        Ok(id) => id,
        Err(e) => return fail(&signed, e),
    };
    let roles = section_url(&signed.tenant, "roles");
    let ask = async || {
        let r = s.get_role(&signed.ctx, &id).await?;
        Ok(Ask {
            title: format!("Delete the role {}?", r.name),
            what: html! {
                p { "It gives " (permissions(&r)) ". Every group and user that holds it loses it; what the same permissions come with through another role stays. This cannot be undone." }
            },
            reach: Reach::Role(id.clone()),
            reached_words: "would lose what it gives".to_owned(),
            action: format!("{roles}/{id}/delete"),
            fields: Vec::new(),
            button: "Delete the role".to_owned(),
            danger: true,
            cancel: roles.clone(),
            section: Section::Roles,
        })
    };
    let apply = async |ctx: &Ctx| {
        s.delete_role(ctx, &id).await?;
        go(format!("{roles}?done=role-deleted"))
    };
    confirmable(&s, &signed, &f, ask, apply).await
}

async fn delete_resource(
    State(s): State<AppState>,
    Path((_, resource)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let id = match parsed(ResourceId::parse, "resource", &resource) {
        Ok(id) => id,
        Err(e) => return fail(&signed, e),
    };
    let resources = section_url(&signed.tenant, "resources");
    let ask = async || {
        let r = s.get_resource(&signed.ctx, &id).await?;
        Ok(Ask {
            title: format!("Delete {}?", r.name),
            what: html! {
                p { "Every level granted on it, to groups and to users, goes with it. Apps that ask about it are denied from then on. This cannot be undone." }
            },
            reach: Reach::Resource(id.clone()),
            reached_words: "would lose their level on it".to_owned(),
            action: format!("{resources}/{id}/delete"),
            fields: Vec::new(),
            button: "Delete the resource".to_owned(),
            danger: true,
            cancel: format!("{resources}/{id}"),
            section: Section::Resources,
        })
    };
    let apply = async |ctx: &Ctx| {
        s.delete_resource(ctx, &id).await?;
        go(format!("{resources}?done=resource-deleted"))
    };
    confirmable(&s, &signed, &f, ask, apply).await
}
