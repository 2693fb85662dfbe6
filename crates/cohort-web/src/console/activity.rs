//! A group's Activity tab, and the table of audit events it shares with the rule log.

use super::frame::{Tab, fail, group_frame, load};
use super::sentence::{Present, sentence};
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cohort_core::GroupId;
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_store::{AuditFilter, AuditRecord};
use maud::{Markup, html};

/// Events shown on one page of a log.
const EVENTS: i64 = 100;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/t/{tenant}/portal/access-management/groups/{group}/activity", get(tab))
}

/// A page of audit events with the present names of what they mention.
pub(super) struct Log {
    /// The events, newest first.
    pub(super) records: Vec<AuditRecord>,
    present: Present,
}

impl Log {
    /// `records` with the present names of what they mention.
    pub(super) async fn of(s: &AppState, signed: &Signed, records: Vec<AuditRecord>) -> Result<Self, ServiceError> {
        let present = s.present_names(&signed.ctx, &records).await?;
        Ok(Self { records, present })
    }
}

/// The newest events about `group` whose action starts with `prefix`, or `None` when the
/// signed-in person may not read the audit log.
pub(super) async fn group_events(
    s: &AppState,
    signed: &Signed,
    group: &GroupId,
    prefix: Option<&str>,
) -> Result<Option<Log>, ServiceError> {
    if !signed.holdings.can(P::AuditRead) {
        return Ok(None);
    }
    let filter = AuditFilter {
        action_prefix: prefix.map(str::to_owned),
        target_id: Some(group.to_string()),
        limit: EVENTS,
        ..AuditFilter::default()
    };
    let records = s.list_audit(&signed.ctx, &filter).await?;
    Ok(Some(Log::of(s, signed, records).await?))
}

/// A table of audit events, newest first: when, and what happened in words; the record as
/// it was written one click away.
pub(super) fn events_table(signed: &Signed, log: &Log, caption: &str) -> Markup {
    html! {
        @if log.records.is_empty() {
            p.muted { "No events yet." }
        } @else {
            div.table-wrap { table.events {
                caption.visually-hidden { (caption) }
                thead { tr { th scope="col" { "When" } th scope="col" { "What happened" } } }
                tbody {
                    @for r in &log.records {
                        tr {
                            td.when { (signed.time.when(r.event.at)) }
                            td {
                                (sentence(&signed.tenant, &signed.time, r, &log.present))
                                details.record {
                                    summary { "Record" }
                                    dl.facts {
                                        dt { "Action" } dd { code { (r.event.action) } }
                                        dt { "Event" } dd { code { (r.event.id) } " at revision " (r.revision) }
                                        @if let Some(b) = &r.event.before { dt { "Before" } dd { code.detail { (b) } } }
                                        @if let Some(a) = &r.event.after { dt { "After" } dd { code.detail { (a) } } }
                                        dt { "Request" } dd { code { (r.event.request_id) } }
                                    }
                                }
                            }
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
        Ok::<_, ServiceError>((g, n, events))
    }
    .await;
    match found {
        Ok((g, n, events)) => {
            let body = html! {
                h2 { "Activity" }
                @match &events {
                    Some(events) => (events_table(&signed, events, "Events of this group")),
                    None => p.muted { "The group's activity is in the audit log, which needs " code { "cohort:audit.read" } "." },
                }
            };
            group_frame(&signed, &g, n, Tab::Activity, None, body).into_response()
        }
        Err(e) => fail(&signed, e),
    }
}
