//! A group's Activity tab, and the table of audit events it shares with the rule log.

use super::frame::{Tab, fail, group_frame, load};
use super::layout::when;
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cohort_core::GroupId;
use cohort_core::permission::CohortPermission as P;
use cohort_store::{AuditFilter, AuditRecord};
use maud::{Markup, html};

/// Events shown on one page of a log.
const EVENTS: i64 = 100;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/t/{tenant}/portal/access-management/groups/{group}/activity", get(tab))
}

/// The newest events about `group` whose action starts with `prefix`, or `None` when the
/// signed-in person may not read the audit log.
pub(super) async fn group_events(
    s: &AppState,
    signed: &Signed,
    group: &GroupId,
    prefix: Option<&str>,
) -> Result<Option<Vec<AuditRecord>>, cohort_service::error::ServiceError> {
    if !signed.holdings.can(P::AuditRead) {
        return Ok(None);
    }
    let filter = AuditFilter {
        action_prefix: prefix.map(str::to_owned),
        target_id: Some(group.to_string()),
        limit: EVENTS,
        ..AuditFilter::default()
    };
    Ok(Some(s.list_audit(&signed.ctx, &filter).await?))
}

/// What an event's body says, in one line (its after state, else its before state).
fn detail(r: &AuditRecord) -> String {
    let text = r.event.after.as_deref().or(r.event.before.as_deref()).unwrap_or_default();
    let mut s: String = text.chars().take(240).collect();
    if text.chars().count() > 240 {
        s.push('…');
    }
    s
}

/// A table of audit events, newest first.
pub(super) fn events_table(records: &[AuditRecord], caption: &str) -> Markup {
    html! {
        @if records.is_empty() {
            p.muted { "No events yet." }
        } @else {
            div.table-wrap { table {
                caption.visually-hidden { (caption) }
                thead { tr { th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "By" } th scope="col" { "Details" } } }
                tbody {
                    @for r in records {
                        tr {
                            td { (when(r.event.at)) }
                            td { code { (r.event.action) } }
                            td { @match &r.event.actor_id { Some(a) => code { (a) }, None => span.muted { "cohort" } } }
                            td { code.detail { (detail(r)) } }
                        }
                    }
                }
            } }
        }
    }
}

async fn tab(State(s): State<AppState>, signed: Signed, Path((_, group)): Path<(String, String)>) -> Response {
    let found = async {
        let (g, n) = load(&s, &signed, &group).await?;
        let events = group_events(&s, &signed, &g.id, None).await?;
        Ok::<_, cohort_service::error::ServiceError>((g, n, events))
    }
    .await;
    match found {
        Ok((g, n, events)) => {
            let body = html! {
                h2 { "Activity" }
                @match &events {
                    Some(events) => (events_table(events, "Events of this group")),
                    None => p.muted { "The group's activity is in the audit log, which needs " code { "cohort:audit.read" } "." },
                }
            };
            group_frame(&signed, &g, n, Tab::Activity, None, body).into_response()
        }
        Err(e) => fail(&signed, e),
    }
}
