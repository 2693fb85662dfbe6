//! What the composition room hands every face: the shared state and the request id.

use crate::service::Services;
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
