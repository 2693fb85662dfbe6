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
use cohort_service::audit::mentioned_id;
use cohort_service::error::ServiceError;
use cohort_store::ResourceFilter;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;

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

/// The answer to the form's question, about the user named so.
struct Answer {
    name: String,
    user_id: String,
    decision: Decision,
}

/// The question the form asks, or `None` when it names no user yet.
async fn ask(s: &AppState, signed: &Signed, q: &WhyQuery) -> Result<Option<Answer>, ServiceError> {
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
        CheckInput::Permission { user_id: user_id.clone(), permission: q.permission.trim().to_owned() }
    } else {
        CheckInput::Level {
            user_id: user_id.clone(),
            resource_id: q.resource.trim().to_owned(),
            level: q.level.trim().to_owned(),
        }
    };
    let mut out = s.check(&signed.ctx, &[input], None).await?;
    Ok(out.pop().map(|o| Answer { name, user_id, decision: o.decision }))
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
    // The reason apps get names things by id where it must be exact; here an id is shown by
    // its name, the id kept in the name's `title`.
    let mut known: BTreeMap<String, String> =
        resources.iter().map(|r| (r.id.to_string(), r.name.to_string())).collect();
    if let Some(a) = &answer {
        known.insert(a.user_id.clone(), a.name.clone());
    }
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
        @if let Some(Answer { name, decision: d, .. }) = &answer {
            section.card.answer aria-live="polite" aria-labelledby="answer-title" {
                h2 #answer-title {
                    @if d.allowed { span.badge.badge-active { "Allowed" } } @else { span.badge.badge-archived { "Denied" } }
                    " " (name)
                }
                p #reason { (reason_words(&d.reason, &known)) }
            }
        }
    };
    layout::page(&signed, Section::Why, "Why?", body).into_response()
}

/// A reason in words: backticked text as code, an id in parentheses moved into the `title` of
/// the name before it, and an id written alone shown by its name when `known` has it.
fn reason_words(reason: &str, known: &BTreeMap<String, String>) -> Markup {
    let parts: Vec<&str> = reason.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return html! { (reason) };
    }
    html! {
        @for (i, part) in parts.iter().enumerate() {
            @if i % 2 == 1 {
                @let next = parts.get(i + 1).copied().unwrap_or_default();
                @let id = next.strip_prefix(" (").and_then(|r| r.split_once(')')).map(|(id, _)| id).filter(|id| mentioned_id(id));
                @match (id, known.get(*part)) {
                    (Some(id), _) => code title=(id) { (part) },
                    (None, Some(name)) => span title=(part) { (name) },
                    (None, None) => code { (part) },
                }
            } @else {
                @let prev_id = i > 0 && part.strip_prefix(" (").and_then(|r| r.split_once(')')).is_some_and(|(id, _)| mentioned_id(id));
                @if prev_id {
                    (part.split_once(')').map_or(*part, |(_, rest)| rest))
                } @else {
                    (part)
                }
            }
        }
    }
}
