//! The REST face under `/t/{tenant}/api/v1` and `/api/v1`: thin handlers that parse, call a
//! service and map the result. The OpenAPI document is generated from the same routes.

mod access;
mod audit;
mod batch;
mod extract;
mod groups;
mod identity;
mod imports;
mod members;
mod page;
mod resources;
mod roles;
mod rules;
mod settings;
mod tenants;
mod tokens;
mod users;

use crate::problem::Problem;
use crate::shared::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// The header every write answers with: the revision it committed at.
pub const REVISION_HEADER: &str = "cohort-revision";

#[derive(OpenApi)]
#[openapi(
    info(title = "cohort", description = "Group-based access management: groups, memberships, roles and access checks."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Error answers are `application/problem+json`: every 4XX/5XX response of the document says so.
struct ProblemContentType;

impl Modify for ProblemContentType {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for op in ops.into_iter().flatten() {
                for (status, response) in op.responses.responses.iter_mut() {
                    let utoipa::openapi::RefOr::T(response) = response else { continue };
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    if let Some(content) = response.content.shift_remove("application/json") {
                        response.content.insert("application/problem+json".to_owned(), content);
                    }
                }
            }
        }
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tenants::routes())
        .merge(settings::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(batch::routes())
        .merge(members::routes())
        .merge(imports::routes())
        .merge(roles::routes())
        .merge(rules::routes())
        .merge(resources::routes())
        .merge(tokens::routes())
        .merge(identity::routes())
        .merge(access::routes())
        .merge(audit::routes())
}

/// The OpenAPI document of the REST face.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api().split_for_parts().1;
    ProblemContentType.modify(&mut doc);
    doc
}

/// The OpenAPI document as pretty JSON, as committed in `openapi.json`.
pub fn openapi_json() -> String {
    openapi().to_pretty_json().unwrap_or_default()
}

/// The format this face answers its errors in.
pub(crate) const ERRORS: crate::shared::ErrorFormat = crate::shared::ErrorFormat::Problem;

/// The REST routes, for the composition room to mount.
pub(crate) fn router() -> Router<AppState> {
    api().split_for_parts().0
}

/// A write's answer: status, the `cohort-revision` header and a JSON body.
pub(crate) fn written<T: serde::Serialize>(status: StatusCode, revision: i64, body: &T) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&revision.to_string()) {
        r.headers_mut().insert(REVISION_HEADER, v);
    }
    r
}

/// A write's answer with no body.
pub(crate) fn written_empty(revision: i64) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&revision.to_string()) {
        r.headers_mut().insert(REVISION_HEADER, v);
    }
    r
}

/// The tenant every `/t/{tenant}/...` path names, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TenantPath {
    /// The tenant's slug.
    #[expect(dead_code, reason = "read only by the OpenAPI derive")]
    tenant: String,
}
