//! What the composition room hands every face: the shared state and the request id.

use cohort_service::Services;
use std::sync::Arc;

/// The services every handler shares.
pub type AppState = Arc<Services>;

/// The request id header: set on every request that lacks one, echoed on every answer and
/// recorded in the audit events the request writes.
pub const REQUEST_ID: &str = "x-request-id";

/// The request id a handler was given (empty when the header is missing).
pub(crate) fn request_id(headers: &axum::http::HeaderMap) -> &str {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// A CSV file to download under `file`'s name.
pub(crate) fn csv_file(body: String, file: &str) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
