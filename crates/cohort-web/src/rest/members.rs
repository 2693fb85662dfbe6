//! `/groups/{id}/members` and `/groups/{id}/effective-members`.

use super::extract::{ApiJson, ApiQuery, Caller, Fields, checked, double_option, path_id};
use super::page::PageQuery;
use super::{AppState, written};
use crate::cursor::{member_listing, member_pages};
use crate::problem::{ApiError, Problem};
use crate::view::MembershipView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::{MemberRole, MembershipSource};
use cohort_core::name::ShortText;
use cohort_core::{GroupId, UserId};
use cohort_service::format::parse_rfc3339;
use cohort_service::{MemberPatch, NewMember};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_member, list_members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(effective_members))
}

/// A member to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMemberBody {
    /// The user.
    pub user_id: String,
    /// `member` (default) or `manager`.
    pub role: Option<String>,
    /// RFC 3339 instant at which the membership stops conferring access.
    pub expires_at: Option<String>,
    /// Why (up to 200 characters).
    #[serde(default)]
    pub reason: String,
}

/// Changes to a manual membership.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchMemberBody {
    /// `member` or `manager`.
    pub role: Option<String>,
    /// New expiry; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Option<String>>,
    /// New reason.
    pub reason: Option<String>,
}

/// A page of membership rows (all rows of each user on the page).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipPage {
    /// The rows.
    pub items: Vec<MembershipView>,
    /// How many rows match in all.
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// Pass as `cursor` for the page before; absent on the first.
    pub prev_cursor: Option<String>,
}

/// Which of a group's member rows to list, in which order.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MemberListQuery {
    /// Text the member's email or display name holds, case-insensitively (at most 200
    /// characters).
    pub q: Option<String>,
    /// `email` (default), `name`, `role`, `source`, `added` or `expires` (rows that never
    /// expire last); ties in user id and source order.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// The `nextCursor` or `prevCursor` of a page of the same order.
    pub cursor: Option<String>,
}

/// What is left after a removal.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemovedView {
    /// Whether the user is still in the group through rows of other sources.
    pub still_member: bool,
    /// The sources of those rows (e.g. `rule`).
    pub remaining_sources: Vec<String>,
}

/// Which row to remove.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// The row's source (default `manual`).
    pub source: Option<String>,
}

/// A user effectively in a group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveMemberView {
    /// The user.
    pub user_id: String,
    /// Whether they are in the group itself.
    pub direct: bool,
    /// The groups they are directly in that lead here.
    pub through: Vec<String>,
}

/// Everyone effectively in a group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveMembersView {
    /// The revision this answer reflects.
    pub revision: i64,
    /// The members.
    pub items: Vec<EffectiveMemberView>,
}

impl AddMemberBody {
    /// The member to add, or `None` with why recorded in `f`.
    pub(super) fn parse(&self, f: &mut Fields) -> Option<NewMember> {
        let user = f
            .take(UserId::parse(&self.user_id).map_err(|_| {
                cohort_core::DomainError::invalid("userId", format!("user `{}` not found", self.user_id))
            }));
        let role = parse_role(f, self.role.as_deref());
        let expires_at = self.expires_at.as_deref().map(|v| f.take(parse_rfc3339("expiresAt", v)));
        let reason = f.take(ShortText::parse("reason", &self.reason, false));
        let expires_at = match expires_at {
            Some(t) => Some(t?),
            None => None,
        };
        Some(NewMember { user_id: user?, role: role.unwrap_or(MemberRole::Member), expires_at, reason: reason? })
    }
}

fn parse_role(f: &mut Fields, v: Option<&str>) -> Option<MemberRole> {
    v.and_then(|v| f.take(MemberRole::parse("role", v)))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/members", tag = "members", request_body = AddMemberBody,
    responses((status = 201, body = MembershipView), (status = "4XX", body = Problem)))]
async fn add_member(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<AddMemberBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let group = path_id(GroupId::parse, &id)?;
    let mut f = Fields::default();
    let input = b.parse(&mut f);
    f.finish()?;
    let input = checked(input)?;
    let w = s.add_member(&ctx, &group, input).await?;
    Ok(written(StatusCode::CREATED, w.revision, &MembershipView::new(&w.value, s.now())))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/members", tag = "members", params(MemberListQuery),
    responses((status = 200, body = MembershipPage), (status = "4XX", body = Problem)))]
async fn list_members(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiQuery(q): ApiQuery<MemberListQuery>,
) -> Result<Json<MembershipPage>, ApiError> {
    let (_, id) = path;
    let group = path_id(GroupId::parse, &id)?;
    let limit = PageQuery { limit: q.limit, cursor: None }.limit()?;
    let listing = member_listing(q.q.as_deref(), q.sort.as_deref(), q.order.as_deref(), limit, q.cursor.as_deref())?;
    let (total, rows) = s.member_rows(&ctx, &group, &listing).await?;
    let (prev_cursor, next_cursor) = member_pages(&listing, &rows);
    let now = s.now();
    let items = rows.iter().map(|r| MembershipView::new(&r.membership, now)).collect();
    Ok(Json(MembershipPage { items, total, next_cursor, prev_cursor }))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/groups/{groupId}/members/{userId}", tag = "members", request_body = PatchMemberBody,
    responses((status = 200, body = MembershipView), (status = "4XX", body = Problem)))]
async fn update_member(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
    ApiJson(b): ApiJson<PatchMemberBody>,
) -> Result<Response, ApiError> {
    let (_, id, user) = path;
    let group = path_id(GroupId::parse, &id)?;
    let user = path_id(UserId::parse, &user)?;
    let mut f = Fields::default();
    let patch = MemberPatch {
        role: parse_role(&mut f, b.role.as_deref()),
        expires_at: match &b.expires_at {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => f.take(parse_rfc3339("expiresAt", v)).map(Some),
        },
        reason: b.reason.as_deref().and_then(|v| f.take(ShortText::parse("reason", v, false))),
    };
    f.finish()?;
    let w = s.update_member(&ctx, &group, &user, patch).await?;
    Ok(written(StatusCode::OK, w.revision, &MembershipView::new(&w.value, s.now())))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/groups/{groupId}/members/{userId}", tag = "members", params(RemoveQuery),
    responses((status = 200, body = RemovedView), (status = "4XX", body = Problem)))]
async fn remove_member(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
    ApiQuery(q): ApiQuery<RemoveQuery>,
) -> Result<Response, ApiError> {
    let (_, id, user) = path;
    let group = path_id(GroupId::parse, &id)?;
    let user = path_id(UserId::parse, &user)?;
    let source = match q.source.as_deref() {
        Some(v) => MembershipSource::parse("source", v)?,
        None => MembershipSource::Manual,
    };
    let w = s.remove_member(&ctx, &group, &user, source).await?;
    let remaining: Vec<String> = w.value.remaining_sources.iter().map(|s| s.as_str().to_owned()).collect();
    Ok(written(
        StatusCode::OK,
        w.revision,
        &RemovedView { still_member: !remaining.is_empty(), remaining_sources: remaining },
    ))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/effective-members", tag = "members", params(super::access::FreshQuery),
    responses((status = 200, body = EffectiveMembersView), (status = "4XX", body = Problem)))]
async fn effective_members(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiQuery(q): ApiQuery<super::access::FreshQuery>,
) -> Result<Json<EffectiveMembersView>, ApiError> {
    let (_, id) = path;
    let group = path_id(GroupId::parse, &id)?;
    let (revision, rows) = s.effective_members(&ctx, &group, q.at_least_revision).await?;
    let items = rows
        .into_iter()
        .map(|r| EffectiveMemberView {
            user_id: r.user_id.to_string(),
            direct: r.direct,
            through: r.through.iter().map(ToString::to_string).collect(),
        })
        .collect();
    Ok(Json(EffectiveMembersView { revision, items }))
}
