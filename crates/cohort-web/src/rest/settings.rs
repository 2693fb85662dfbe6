//! The tenant's settings: the time zone its people read times in unless they chose their own.

use super::extract::{ApiJson, Caller, Fields, checked};
use super::{AppState, TenantPath, written};
use crate::problem::{ApiError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::ZoneName;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

/// The tenant's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsBody {
    /// The time zone the console shows times in to the people who did not choose their own,
    /// by IANA name (`Europe/Paris`); `null` for UTC.
    pub time_zone: Option<String>,
}

/// The tenant's settings (needs `cohort:admin`).
#[utoipa::path(get, path = "/t/{tenant}/api/v1/settings", params(TenantPath), tag = "tenants",
    responses((status = 200, body = SettingsBody), (status = "4XX", body = Problem)))]
async fn get_settings(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<SettingsBody>, ApiError> {
    let zone = s.tenant_time_zone(&ctx).await?;
    Ok(Json(SettingsBody { time_zone: zone.map(|z| z.to_string()) }))
}

/// Replaces the tenant's settings (needs `cohort:admin`).
#[utoipa::path(put, path = "/t/{tenant}/api/v1/settings", params(TenantPath), tag = "tenants", request_body = SettingsBody,
    responses((status = 200, body = SettingsBody), (status = "4XX", body = Problem)))]
async fn put_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<SettingsBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let zone = b.time_zone.as_deref().map(|z| f.take(ZoneName::parse("timeZone", z)));
    f.finish()?;
    let w = s.set_tenant_time_zone(&ctx, zone.map(checked).transpose()?).await?;
    let view = SettingsBody { time_zone: w.value.map(|z| z.to_string()) };
    Ok(written(StatusCode::OK, w.revision, &view))
}
