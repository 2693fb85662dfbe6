//! `/tokens`: create (secret shown once), list, regenerate, revoke.

use super::extract::{ApiJson, ApiQuery, Caller, Fields, checked, path_id};
use super::{AppState, TenantPath, written, written_empty};
use crate::problem::{ApiError, Problem};
use crate::view::TokenView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::TokenScope;
use cohort_core::name::Name;
use cohort_core::{DomainError, TokenId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(regenerate_token))
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTokenBody {
    /// A label.
    pub name: String,
    /// The user it acts as (default: the caller; others need `cohort:tokens.manage`).
    pub user_id: Option<String>,
    /// `api` (default) for the admin REST API, or `scim` for an identity provider's
    /// provisioning at `/t/{tenant}/scim/v2` only (needs `cohort:tokens.manage`).
    pub scope: Option<String>,
}

/// A token with its secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenSecretView {
    /// The token.
    pub token: TokenView,
    /// Send as `Authorization: Bearer <secret>`. It is not stored and cannot be shown again.
    pub secret: String,
}

/// Which tokens to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenListQuery {
    /// Every user's tokens (needs `cohort:tokens.manage`) instead of the caller's.
    pub all: Option<bool>,
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/tokens", params(TenantPath), tag = "tokens", request_body = CreateTokenBody,
    responses((status = 201, body = TokenSecretView), (status = "4XX", body = Problem)))]
async fn create_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CreateTokenBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let name = f.take(Name::parse("name", &b.name));
    let user = match b.user_id.as_deref() {
        Some(u) => f
            .take(UserId::parse(u).map_err(|_| DomainError::invalid("userId", format!("user `{u}` not found"))))
            .map(Some),
        None => Some(None),
    };
    let scope = match b.scope.as_deref() {
        Some(v) => f.take(TokenScope::parse("scope", v)),
        None => Some(TokenScope::Api),
    };
    f.finish()?;
    let w = s.create_token(&ctx, checked(name)?, checked(user)?, checked(scope)?).await?;
    let body = TokenSecretView { token: TokenView::from(&w.value.token), secret: w.value.secret };
    Ok(written(StatusCode::CREATED, w.revision, &body))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/tokens", tag = "tokens", params(TenantPath, TokenListQuery),
    responses((status = 200, body = Vec<TokenView>), (status = "4XX", body = Problem)))]
async fn list_tokens(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<TokenListQuery>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = s.list_tokens(&ctx, q.all.unwrap_or(false)).await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/tokens/{tokenId}/regenerate", tag = "tokens",
    responses((status = 200, body = TokenSecretView), (status = "4XX", body = Problem)))]
async fn regenerate_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(TokenId::parse, &id)?;
    let w = s.regenerate_token(&ctx, &id).await?;
    let body = TokenSecretView { token: TokenView::from(&w.value.token), secret: w.value.secret };
    Ok(written(StatusCode::OK, w.revision, &body))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/tokens/{tokenId}", tag = "tokens",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn revoke_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(TokenId::parse, &id)?;
    let w = s.revoke_token(&ctx, &id).await?;
    Ok(written_empty(w.revision))
}
