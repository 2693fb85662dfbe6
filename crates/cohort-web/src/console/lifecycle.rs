//! Suspending, unsuspending and deleting a user; deleting a role or a resource. Each is asked
//! first (`confirm`), saying what goes and how many users it reaches, and applied at the
//! revision it was counted at, through the same services as `PATCH/DELETE /users/{id}`,
//! `DELETE /roles/{id}` and `DELETE /resources/{id}`.

use super::confirm::{Ask, Confirmed, confirmable};
use super::frame::{fail, user_url};
use super::layout::{Section, section_url};
use crate::shared::AppState;
use crate::sign_in::Posted;
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
    let mut r = Router::new();
    for act in [UserAct::Suspend, UserAct::Unsuspend, UserAct::Delete] {
        let handler =
            move |st: State<AppState>, p: Path<(String, String)>, f: Posted<Confirmed>| on_user(act, st, p, f);
        r = r.route(&format!("{base}/users/{{user}}/{}", act.path()), post(handler));
    }
    r.route(&format!("{base}/roles/{{role}}/delete"), post(delete_role))
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

/// What can be done to a user from their page.
#[derive(Clone, Copy)]
enum UserAct {
    Suspend,
    Unsuspend,
    Delete,
}

impl UserAct {
    /// The last segment of its address.
    fn path(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Unsuspend => "unsuspend",
            Self::Delete => "delete",
        }
    }

    /// Asks about it for `name`: the question, what it does, whom it reaches, the button.
    fn ask(self, name: &str) -> (String, Markup, &'static str, &'static str) {
        match self {
            Self::Suspend => (
                format!("Suspend {name}?"),
                html! { p { "They keep their groups, roles and levels but hold none of them while suspended, and their console sessions end at their next request. Unsuspending gives everything back." } },
                "would lose all access",
                "Suspend",
            ),
            Self::Unsuspend => (
                format!("Unsuspend {name}?"),
                html! { p { "They hold again what their groups, roles and levels give, " strong { "cohort permissions included" } ", from the moment this is applied." } },
                "would get their access back",
                "Unsuspend",
            ),
            Self::Delete => (
                format!("Delete {name}?"),
                html! { p { "Their memberships, the roles and levels given to them directly, their tokens and their sessions are deleted with them. This cannot be undone; the audit log keeps what they did and what was done to them." } },
                "would lose all access, for good",
                "Delete the user",
            ),
        }
    }

    /// Does it, as `ctx`; answers where the page goes next.
    async fn apply(self, s: &AppState, ctx: &Ctx, tenant: &str, id: &UserId) -> Result<Response, ServiceError> {
        let status = |status| UserPatch { status: Some(status), ..UserPatch::default() };
        let done = match self {
            Self::Suspend => s.update_user(ctx, id, status(UserStatus::Suspended)).await.map(|_| "suspended")?,
            Self::Unsuspend => s.update_user(ctx, id, status(UserStatus::Active)).await.map(|_| "unsuspended")?,
            Self::Delete => {
                s.delete_user(ctx, id, &Expect::Any).await?;
                return go(format!("{}?done=user-deleted", section_url(tenant, "users")));
            }
        };
        go(format!("{}?done={done}", user_url(tenant, id)))
    }
}

/// Suspends, unsuspends or deletes a user, after the question.
async fn on_user(
    act: UserAct,
    State(s): State<AppState>,
    Path((_, user)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    let id = match parsed(UserId::parse, "user", &user) {
        Ok(id) => id,
        Err(e) => return fail(&signed, e),
    };
    let ask = async || {
        let name = super::layout::person(&s.get_user(&signed.ctx, &id).await?);
        let url = user_url(&signed.tenant, &id);
        let (title, what, reached, button) = act.ask(&name);
        Ok(Ask {
            title,
            what,
            reach: Reach::User(id.clone()),
            reached_words: reached.to_owned(),
            action: format!("{url}/{}", act.path()),
            fields: Vec::new(),
            button: button.to_owned(),
            danger: !matches!(act, UserAct::Unsuspend),
            cancel: url,
            section: Section::Users,
        })
    };
    let apply = async |ctx: &Ctx| act.apply(&s, ctx, &signed.tenant, &id).await;
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
