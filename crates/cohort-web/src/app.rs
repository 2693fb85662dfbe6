//! The composition room: the state every face shares, the middleware every request passes,
//! and the one router that mounts each face (and the sign-in room's pages) behind the marker of
//! the error format it declares. Faces never import each other (nor this room: what they share
//! is in the shared rooms); they are put together only here.

mod edge;

pub use crate::shared::{AppState, REQUEST_ID};

use crate::problem::ApiError;
use crate::shared::{ErrorFormat, request_id};
use crate::{console, rest, scim, sign_in};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use cohort_service::error::ServiceError;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

#[derive(Clone, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = format!("req_{}", cohort_core::IdSource::suffix(&cohort_service::runtime::RandomIds));
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

async fn not_found() -> Response {
    ApiError(ServiceError::NotFound("route".to_owned())).into_response()
}

async fn health() -> &'static str {
    "ok"
}

/// The whole HTTP application: every face mounted, then the shared middleware.
pub fn router(services: AppState) -> Router {
    let limit = services.config().max_body_bytes;
    let doc = rest::openapi_json();
    let request_id = HeaderName::from_static(REQUEST_ID);
    mount(rest::router(), rest::ERRORS)
        .merge(mount(scim::router(), scim::ERRORS))
        .merge(mount(console::router(), console::ERRORS))
        .merge(mount(sign_in::router(), sign_in::ERRORS))
        .route(
            "/openapi.json",
            axum::routing::get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc) }),
        )
        .route("/healthz", axum::routing::get(health))
        .fallback(not_found)
        .with_state(services)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(edge::edge))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            ApiError(ServiceError::Internal).into_response()
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %request_id_of(req))
        }))
        .layer(SetRequestIdLayer::new(request_id, RandomRequestId))
}

/// A face's routes behind the edge's marker of its error format.
fn mount(face: Router<AppState>, errors: ErrorFormat) -> Router<AppState> {
    face.layer(axum::middleware::from_fn(move |req, next| edge::face(errors, req, next)))
}

fn request_id_of<B>(req: &Request<B>) -> &str {
    request_id(req.headers())
}
