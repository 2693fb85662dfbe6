//! The Why? page: pick a user and a permission, or a resource and a level, and see whether it
//! is allowed and the path that decides it (the same check `/check` answers).

use super::frame::{fail, user_by_email};
use super::layout::{self, Section};
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cohort_core::resolve::Decision;
use cohort_service::CheckInput;
use cohort_service::error::ServiceError;
use cohort_store::ResourceFilter;
use maud::html;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/t/{tenant}/portal/access-management/why", get(page))
}

/// The Why? page of `tenant`.
pub(super) fn why_url(tenant: &str) -> String {
    format!("/t/{tenant}/portal/access-management/why")
}

#[derive(Deserialize, Default)]
pub(super) struct WhyQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    permission: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    level: String,
}

/// The question the form asks, or `None` when it names no user yet.
async fn ask(s: &AppState, signed: &Signed, q: &WhyQuery) -> Result<Option<(String, Decision)>, ServiceError> {
    let who = q.user.trim();
    if who.is_empty() {
        return Ok(None);
    }
    let (user_id, name) = match user_by_email(s, signed, who).await? {
        Some(u) => (u.id.to_string(), layout::person(&u)),
        None => (who.to_owned(), who.to_owned()),
    };
    let input = if q.resource.trim().is_empty() {
        if q.permission.trim().is_empty() {
            return Err(ServiceError::BadRequest("name a permission, or a resource and a level".to_owned()));
        }
        CheckInput::Permission { user_id, permission: q.permission.trim().to_owned() }
    } else {
        CheckInput::Level { user_id, resource_id: q.resource.trim().to_owned(), level: q.level.trim().to_owned() }
    };
    let mut out = s.check(&signed.ctx, &[input], None).await?;
    Ok(out.pop().map(|o| (name, o.decision)))
}

async fn page(State(s): State<AppState>, signed: Signed, Query(q): Query<WhyQuery>) -> Response {
    let answer = match ask(&s, &signed, &q).await {
        Ok(a) => a,
        Err(e) => return fail(&signed, e),
    };
    let filter = ResourceFilter { type_name: None, q: None, after: None, limit: 200 };
    let resources = if signed.holdings.can(cohort_core::permission::CohortPermission::ResourcesRead) {
        s.list_resources(&signed.ctx, &filter).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let t = &signed.tenant;
    let body = html! {
        h1 { "Why?" }
        p.muted { "Whether a user may do something, and the path through groups and roles that decides it, as apps are answered." }
        form.stack method="get" action=(why_url(t)) {
            div.field {
                label for="user" { "User" }
                input #user type="text" name="user" value=(q.user) required placeholder="Email or user id" data-picker="users";
            }
            div.field {
                label for="permission" { "Permission" }
                input #permission type="text" name="permission" value=(q.permission) placeholder="e.g. reports.export";
                p.hint { "Or leave it empty and ask about a resource:" }
            }
            div.inline {
                div.field {
                    label for="resource" { "Resource" }
                    select #resource name="resource" {
                        option value="" { "—" }
                        @for r in &resources { option value=(r.id.as_str()) selected[r.id.as_str() == q.resource] { (r.name) " (" (r.type_name) ")" } }
                    }
                }
                div.field {
                    label for="level" { "Level" }
                    input #level type="text" name="level" value=(q.level) placeholder="e.g. use";
                }
            }
            button.primary type="submit" { "Ask" }
        }
        @if let Some((name, d)) = &answer {
            section.card.answer aria-live="polite" aria-labelledby="answer-title" {
                h2 #answer-title {
                    @if d.allowed { span.badge.badge-active { "Allowed" } } @else { span.badge.badge-archived { "Denied" } }
                    " " (name)
                }
                p #reason { (d.reason) }
            }
        }
    };
    layout::page(&signed, Section::Why, "Why?", body).into_response()
}
