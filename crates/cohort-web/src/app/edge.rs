//! The edge every request passes before any face: a path or query that holds a control
//! character, or is not UTF-8 once percent-decoded, is refused (400); and every error answer
//! leaves as a problem document (a SCIM error on the SCIM face, the console's own page on the console), including those the routing
//! layer makes itself (405 for a method a path does not take, 413 for a body over the limit).

use crate::problem::ApiError;
use crate::scim::ScimError;
use crate::text::uri_problem;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cohort_service::error::ServiceError;

fn is_scim(req_path: &str) -> bool {
    req_path.contains("/scim/v2")
}

fn answer(scim: bool, status: StatusCode, detail: &str) -> Response {
    if scim {
        return ScimError::new(status, None, detail).into_response();
    }
    let e = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::TooLarge(detail.to_owned()),
        StatusCode::NOT_FOUND => ServiceError::NotFound("route".to_owned()),
        StatusCode::UNAUTHORIZED => ServiceError::Unauthorized(detail.to_owned()),
        StatusCode::FORBIDDEN => ServiceError::Forbidden(detail.to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ServiceError::MethodNotAllowed(detail.to_owned()),
        s if s.is_server_error() => ServiceError::Internal,
        _ => ServiceError::BadRequest(detail.to_owned()),
    };
    ApiError(e).into_response()
}

/// What an error answer without a body of its own says.
fn detail_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => "this path does not take that method",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "the request body's content type is not accepted here",
        _ => "the request cannot be served",
    }
}

/// The edge middleware.
pub(crate) async fn edge(req: Request<Body>, next: Next) -> Response {
    let scim = is_scim(req.uri().path());
    if let Some(why) = uri_problem(req.uri()) {
        return answer(scim, StatusCode::BAD_REQUEST, why);
    }
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let typed = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        // The console's error pages are HTML of their own.
        ct.starts_with("application/problem+json")
            || ct.starts_with("application/scim+json")
            || ct.starts_with("text/html")
    });
    if typed {
        return res;
    }
    let mut out = answer(scim, status, detail_of(status));
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}
