//! `/audit`: the audit log, newest first.

use super::extract::{ApiQuery, Caller};
use super::page::PageQuery;
use super::{AppState, TenantPath};
use crate::problem::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use cohort_service::AuditQuery;
use cohort_service::error::ServiceError;
use cohort_service::format::{parse_rfc3339, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    /// Actions starting with this, e.g. `group.` or `membership.add`.
    pub action: Option<String>,
    /// Only this actor's changes (a user id).
    pub actor_id: Option<String>,
    /// Only changes to this target id.
    pub target_id: Option<String>,
    /// At or after this RFC 3339 instant.
    pub from: Option<String>,
    /// Before this RFC 3339 instant.
    pub to: Option<String>,
    /// Items per page, 1 to 500.
    pub limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// One recorded change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    /// Id.
    pub id: String,
    /// The revision the change committed at.
    pub revision: i64,
    /// When.
    pub at: String,
    /// Who (a user's or an app's id).
    pub actor_id: Option<String>,
    /// What, e.g. `group.create`.
    pub action: String,
    /// Kind of target.
    pub target_type: String,
    /// Target id.
    pub target_id: String,
    /// The target before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The target after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    /// The request that made the change.
    pub request_id: String,
    /// The name of each user, group, role, resource and token the event mentions, by id, as
    /// it was when the event happened (absent for events recorded before names were).
    #[schema(value_type = Option<Object>)]
    pub names: Option<Value>,
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// Events, newest first.
    pub items: Vec<AuditEventView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/audit", tag = "audit", params(TenantPath, AuditListQuery),
    responses((status = 200, body = AuditPage), (status = "4XX", body = Problem)))]
async fn list_audit(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<AuditListQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let page = PageQuery { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    let after = match page.after()? {
        Some(a) => Some((
            a.key.parse::<i64>().map_err(|_| ServiceError::BadRequest("the cursor is not valid".to_owned()))?,
            a.id,
        )),
        None => None,
    };
    let filter = AuditQuery {
        action_prefix: q.action.clone(),
        actor_id: q.actor_id.clone(),
        target_id: q.target_id.clone(),
        from: q.from.as_deref().map(|v| parse_rfc3339("from", v)).transpose()?,
        to: q.to.as_deref().map(|v| parse_rfc3339("to", v)).transpose()?,
        after,
        limit,
    };
    let records = s.list_audit(&ctx, &filter).await?;
    let next_cursor = super::page::next(&records, limit, |r| (r.revision.to_string(), r.event.id.to_string()));
    let parse = |s: &Option<String>| s.as_deref().and_then(|v| serde_json::from_str(v).ok());
    let items = records
        .iter()
        .map(|r| AuditEventView {
            id: r.event.id.to_string(),
            revision: r.revision,
            at: rfc3339(r.event.at),
            actor_id: r.event.actor_id.clone(),
            action: r.event.action.clone(),
            target_type: r.event.target_type.clone(),
            target_id: r.event.target_id.clone(),
            before: parse(&r.event.before),
            after: parse(&r.event.after),
            request_id: r.event.request_id.clone(),
            names: parse(&r.event.names),
        })
        .collect();
    Ok(Json(AuditPage { items, next_cursor }))
}
