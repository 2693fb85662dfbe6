//! Access questions: `/users/{id}/access`, `/users/{id}/groups`, `/check`, `/check/batch`,
//! `/me`, `/me/access`.

use super::extract::{ApiJson, Caller, path_id};
use super::{AppState, TenantPath};
use crate::error::{Problem, ServiceError};
use crate::service::CheckInput;
use crate::view::{AccessView, EffectiveGroupView, UserView};
use axum::Json;
use axum::extract::{Path, State};
use cohort_core::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The most checks one batch may hold.
pub const MAX_BATCH: usize = 1000;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(user_access))
        .routes(routes!(user_groups))
        .routes(routes!(check))
        .routes(routes!(check_batch))
        .routes(routes!(me))
        .routes(routes!(me_access))
}

/// One question: may this user do this?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckBody {
    /// The user.
    pub user_id: String,
    /// The permission wanted.
    pub permission: String,
}

/// The answer to one check.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckResultView {
    /// Whether it is allowed. Anything unknown is `false`.
    pub allowed: bool,
    /// Why.
    pub reason: String,
    /// The revision the answer reflects.
    pub revision: i64,
}

/// Several questions at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchCheckBody {
    /// Up to 1,000 checks.
    pub checks: Vec<CheckBody>,
}

/// Answers in the order asked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchCheckView {
    /// One per check.
    pub results: Vec<CheckResultView>,
}

/// Effective groups of a user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupsView {
    /// Direct and inherited groups with the paths that reach them.
    pub items: Vec<EffectiveGroupView>,
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/{userId}/access", tag = "access",
    responses((status = 200, body = AccessView), (status = "4XX", body = Problem)))]
async fn user_access(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<AccessView>, ServiceError> {
    let (_, id) = path;
    let id = path_id(UserId::parse, &id)?;
    Ok(Json(s.access(&ctx, ctx.tenant(), &id).await?))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/{userId}/groups", tag = "access",
    responses((status = 200, body = UserGroupsView), (status = "4XX", body = Problem)))]
async fn user_groups(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<UserGroupsView>, ServiceError> {
    let (_, id) = path;
    let id = path_id(UserId::parse, &id)?;
    Ok(Json(UserGroupsView { items: s.user_groups(&ctx, ctx.tenant(), &id).await? }))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/check", params(TenantPath), tag = "access", request_body = CheckBody,
    responses((status = 200, body = CheckResultView), (status = "4XX", body = Problem)))]
async fn check(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CheckBody>,
) -> Result<Json<CheckResultView>, ServiceError> {
    let mut out = s.check(&ctx, ctx.tenant(), &[CheckInput { user_id: b.user_id, permission: b.permission }]).await?;
    let o = out.pop().ok_or_else(|| ServiceError::BadRequest("no check".to_owned()))?;
    Ok(Json(CheckResultView { allowed: o.decision.allowed, reason: o.decision.reason, revision: o.revision }))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/check/batch", params(TenantPath), tag = "access", request_body = BatchCheckBody,
    responses((status = 200, body = BatchCheckView), (status = "4XX", body = Problem)))]
async fn check_batch(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<BatchCheckBody>,
) -> Result<Json<BatchCheckView>, ServiceError> {
    if b.checks.len() > MAX_BATCH {
        return Err(ServiceError::Invalid(vec![crate::error::FieldError {
            field: "checks".to_owned(),
            message: format!("at most {MAX_BATCH} checks per batch"),
        }]));
    }
    let inputs: Vec<CheckInput> =
        b.checks.into_iter().map(|c| CheckInput { user_id: c.user_id, permission: c.permission }).collect();
    let results = s
        .check(&ctx, ctx.tenant(), &inputs)
        .await?
        .into_iter()
        .map(|o| CheckResultView { allowed: o.decision.allowed, reason: o.decision.reason, revision: o.revision })
        .collect();
    Ok(Json(BatchCheckView { results }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me", params(TenantPath), tag = "access",
    responses((status = 200, body = UserView), (status = "4XX", body = Problem)))]
async fn me(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<UserView>, ServiceError> {
    Ok(Json(UserView::from(&s.get_user(&ctx, ctx.tenant(), &ctx.principal.user).await?)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me/access", params(TenantPath), tag = "access",
    responses((status = 200, body = AccessView), (status = "4XX", body = Problem)))]
async fn me_access(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<AccessView>, ServiceError> {
    Ok(Json(s.access(&ctx, ctx.tenant(), &ctx.principal.user).await?))
}
