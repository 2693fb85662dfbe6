//! `/api/v1/tenants`: tenant management for system tokens.

use super::extract::{ApiJson, Fields, SystemCaller, checked};
use super::{AppState, written};
use crate::problem::{ApiError, Problem};
use crate::view::{TenantView, UserView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::name::{Email, Name, TenantSlug};
use cohort_service::NewTenant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_tenant, list_tenants))
}

/// A tenant to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTenantBody {
    /// URL slug, `[a-z0-9-]{1,64}`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Email of the tenant's first admin.
    pub admin_email: String,
}

/// A new tenant, its first admin, and the admin's token secret (shown only now).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantCreatedView {
    /// The tenant.
    pub tenant: TenantView,
    /// Its first admin.
    pub admin: UserView,
    /// The admin's API token secret.
    pub admin_token: String,
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenantBody,
    responses((status = 201, body = TenantCreatedView), (status = "4XX", body = Problem)))]
async fn create_tenant(
    State(s): State<AppState>,
    SystemCaller(ctx): SystemCaller,
    ApiJson(b): ApiJson<CreateTenantBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let slug = f.take(TenantSlug::parse(&b.slug));
    let name = f.take(Name::parse("name", &b.name));
    let email = f.take(Email::parse(&b.admin_email).map_err(|_| {
        cohort_core::DomainError::invalid("adminEmail", format!("`{}` is not a valid email address", b.admin_email))
    }));
    f.finish()?;
    let created = s
        .create_tenant(&ctx, NewTenant { slug: checked(slug)?, name: checked(name)?, admin_email: checked(email)? })
        .await?;
    let body = TenantCreatedView {
        tenant: TenantView::from(&created.tenant),
        admin: UserView::from(&created.admin),
        admin_token: created.secret,
    };
    Ok(written(StatusCode::CREATED, created.revision, &body))
}

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    responses((status = 200, body = Vec<TenantView>), (status = "4XX", body = Problem)))]
async fn list_tenants(
    State(s): State<AppState>,
    SystemCaller(ctx): SystemCaller,
) -> Result<Json<Vec<TenantView>>, ApiError> {
    Ok(Json(s.list_tenants(&ctx).await?.iter().map(TenantView::from).collect()))
}
