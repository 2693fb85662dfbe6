//! Access questions: `/users/{id}/access`, `/users/{id}/groups`, `/check`, `/check/batch`,
//! `/me`, `/me/access`.

use super::extract::{ApiJson, ApiQuery, Caller, path_id};
use super::{AppState, TenantPath};
use crate::problem::{ApiError, Problem};
use crate::view::{AccessView, EffectiveGroupView, UserView};
use axum::Json;
use axum::extract::{Path, State};
use cohort_core::UserId;
use cohort_service::CheckInput;
use cohort_service::error::ServiceError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
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

/// One question: may this user do this (`permission`), or hold at least this `level` on this
/// resource (`resourceId` and `level`)?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckBody {
    /// The user.
    pub user_id: String,
    /// The permission wanted.
    pub permission: Option<String>,
    /// The resource, with `level`.
    pub resource_id: Option<String>,
    /// The level wanted on `resourceId`.
    pub level: Option<String>,
    /// Answer only once this server reflects at least this revision (a write's
    /// `cohort-revision`); 503 if it does not come within 2 seconds.
    pub at_least_revision: Option<i64>,
}

impl CheckBody {
    fn input(self, field: &str) -> Result<(CheckInput, Option<i64>), ApiError> {
        let input = match (self.permission, self.resource_id, self.level) {
            (Some(permission), None, None) => CheckInput::Permission { user_id: self.user_id, permission },
            (None, Some(resource_id), Some(level)) => CheckInput::Level { user_id: self.user_id, resource_id, level },
            _ => {
                return Err(ServiceError::Invalid(vec![cohort_service::error::FieldError {
                    field: field.to_owned(),
                    message: "give either `permission`, or `resourceId` and `level`".to_owned(),
                }])
                .into());
            }
        };
        Ok((input, self.at_least_revision))
    }
}

/// Reads that must reflect a given write.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FreshQuery {
    /// Answer only once this server reflects at least this revision; 503 after 2 seconds.
    pub at_least_revision: Option<i64>,
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
    /// Up to 1,000 checks (their own `atLeastRevision` is ignored; use the batch's).
    pub checks: Vec<CheckBody>,
    /// Answer only once this server reflects at least this revision.
    pub at_least_revision: Option<i64>,
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

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/{userId}/access", tag = "access", params(FreshQuery),
    responses((status = 200, body = AccessView), (status = "4XX", body = Problem)))]
async fn user_access(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiQuery(q): ApiQuery<FreshQuery>,
) -> Result<Json<AccessView>, ApiError> {
    let (_, id) = path;
    let id = path_id(UserId::parse, &id)?;
    Ok(Json(AccessView::from(&s.access(&ctx, &id, q.at_least_revision).await?)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/{userId}/groups", tag = "access", params(FreshQuery),
    responses((status = 200, body = UserGroupsView), (status = "4XX", body = Problem)))]
async fn user_groups(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiQuery(q): ApiQuery<FreshQuery>,
) -> Result<Json<UserGroupsView>, ApiError> {
    let (_, id) = path;
    let id = path_id(UserId::parse, &id)?;
    let groups = s.user_groups(&ctx, &id, q.at_least_revision).await?;
    Ok(Json(UserGroupsView { items: groups.iter().map(EffectiveGroupView::from).collect() }))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/check", params(TenantPath), tag = "access", request_body = CheckBody,
    responses((status = 200, body = CheckResultView), (status = "4XX", body = Problem)))]
async fn check(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CheckBody>,
) -> Result<Json<CheckResultView>, ApiError> {
    let (input, at_least) = b.input("body")?;
    let mut out = s.check(&ctx, &[input], at_least).await?;
    let o = out.pop().ok_or_else(|| ServiceError::BadRequest("no check".to_owned()))?;
    Ok(Json(CheckResultView { allowed: o.decision.allowed, reason: o.decision.reason, revision: o.revision }))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/check/batch", params(TenantPath), tag = "access", request_body = BatchCheckBody,
    responses((status = 200, body = BatchCheckView), (status = "4XX", body = Problem)))]
async fn check_batch(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<BatchCheckBody>,
) -> Result<Json<BatchCheckView>, ApiError> {
    if b.checks.len() > MAX_BATCH {
        return Err(ServiceError::Invalid(vec![cohort_service::error::FieldError {
            field: "checks".to_owned(),
            message: format!("at most {MAX_BATCH} checks per batch"),
        }])
        .into());
    }
    let inputs = b
        .checks
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.input(&format!("checks[{i}]")).map(|(input, _)| input))
        .collect::<Result<Vec<_>, _>>()?;
    let results = s
        .check(&ctx, &inputs, b.at_least_revision)
        .await?
        .into_iter()
        .map(|o| CheckResultView { allowed: o.decision.allowed, reason: o.decision.reason, revision: o.revision })
        .collect();
    Ok(Json(BatchCheckView { results }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me", params(TenantPath), tag = "access",
    responses((status = 200, body = UserView), (status = "4XX", body = Problem)))]
async fn me(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<UserView>, ApiError> {
    Ok(Json(UserView::from(&s.get_user(&ctx, ctx.own_user()?).await?)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me/access", params(TenantPath), tag = "access",
    responses((status = 200, body = AccessView), (status = "4XX", body = Problem)))]
async fn me_access(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<AccessView>, ApiError> {
    Ok(Json(AccessView::from(&s.access(&ctx, ctx.own_user()?, None).await?)))
}
