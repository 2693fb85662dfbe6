//! What the composition room hands every face: the shared state, the request id, and the
//! format each face declares for its errors.

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

/// The format a face answers its errors in. Each face declares its own (`ERRORS` in its module);
/// the composition room marks every answer of the face with it, and the edge answers the
/// router's own errors for that face (405, 413, a refused path or query) in it, leaving alone
/// an error the face made in its own media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorFormat {
    /// RFC 9457 `application/problem+json` (the REST API).
    Problem,
    /// RFC 7644 errors, `application/scim+json` (SCIM).
    Scim,
    /// An HTML page (the console and sign-in).
    Page,
    /// RFC 6749 §5.2 errors, `application/json` with `error` and `error_description` (the
    /// endpoints apps call to get tokens).
    OAuth,
}

impl ErrorFormat {
    /// Whether an answer of `content_type` is already in this format.
    pub fn owns(self, content_type: &str) -> bool {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match self {
            Self::Problem => media.eq_ignore_ascii_case("application/problem+json"),
            Self::Scim => media.eq_ignore_ascii_case("application/scim+json"),
            Self::Page => media.eq_ignore_ascii_case("text/html"),
            Self::OAuth => media.eq_ignore_ascii_case("application/json"),
        }
    }
}
