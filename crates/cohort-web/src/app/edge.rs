//! The edge every request passes. Each face's routes are mounted behind [`face`], which marks
//! the face's answers with the error format it declares and refuses (400), before any handler
//! runs, a path or query that holds a control character or is not UTF-8 once percent-decoded.
//! The edge itself then answers every error the face did not make in its own format (the
//! router's 405 for a method a path does not take, 413 for a body over the limit, a panic's
//! 500) in that format; an answer of no face (an unknown route) is a problem document.

use crate::problem::ApiError;
use crate::scim::ScimError;
use crate::shared::ErrorFormat;
use crate::text::uri_problem;
use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cohort_service::error::ServiceError;

/// An error answer in `format`, with `detail` as its words.
fn answer(format: ErrorFormat, status: StatusCode, detail: &str) -> Response {
    let e = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::TooLarge(detail.to_owned()),
        StatusCode::NOT_FOUND => ServiceError::NotFound("route".to_owned()),
        StatusCode::UNAUTHORIZED => ServiceError::Unauthorized(detail.to_owned()),
        StatusCode::FORBIDDEN => ServiceError::Forbidden(detail.to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ServiceError::MethodNotAllowed(detail.to_owned()),
        s if s.is_server_error() => ServiceError::Internal,
        _ => ServiceError::BadRequest(detail.to_owned()),
    };
    let mut r = match format {
        ErrorFormat::Problem => ApiError(e).into_response(),
        ErrorFormat::Scim => ScimError::new(status, None, detail).into_response(),
        ErrorFormat::Page => crate::html::error(&e),
        ErrorFormat::OAuth => {
            let code = match status {
                StatusCode::UNAUTHORIZED => "invalid_client",
                s if s.is_server_error() => "server_error",
                _ => "invalid_request",
            };
            let mut r = Json(serde_json::json!({ "error": code, "error_description": detail })).into_response();
            *r.status_mut() = status;
            r
        }
    };
    r.extensions_mut().insert(format);
    r
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

/// In front of one face's routes: refuses a bad path or query in the face's format, and marks
/// every answer with it.
pub(super) async fn face(format: ErrorFormat, req: Request<Body>, next: Next) -> Response {
    if let Some(why) = uri_problem(req.uri()) {
        return answer(format, StatusCode::BAD_REQUEST, why);
    }
    let mut res = next.run(req).await;
    res.extensions_mut().insert(format);
    res
}

/// The edge middleware, around every route.
pub(super) async fn edge(req: Request<Body>, next: Next) -> Response {
    // Answers of no face (an unknown route, `/healthz`) read nothing of the request: its path
    // and query are judged once they are back.
    let bad_uri = uri_problem(req.uri());
    let res = next.run(req).await;
    let Some(&format) = res.extensions().get::<ErrorFormat>() else {
        return match bad_uri {
            Some(why) => answer(ErrorFormat::Problem, StatusCode::BAD_REQUEST, why),
            None => settle(ErrorFormat::Problem, res),
        };
    };
    settle(format, res)
}

/// `res` as it is when it is not an error or already in `format`; else the same status in it.
fn settle(format: ErrorFormat, res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let own = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| format.owns(ct));
    if own {
        return res;
    }
    let mut out = answer(format, status, detail_of(status));
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    /// One route of a face declaring `format`, behind the edge as the composition room mounts it.
    fn mounted(format: ErrorFormat) -> Router {
        let face_routes = Router::new()
            .route(
                "/token",
                get(|| async {
                    (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": "invalid_grant"}))).into_response()
                }),
            )
            .route("/plain", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response() }))
            .layer(axum::middleware::from_fn(move |req, next| face(format, req, next)));
        face_routes.layer(axum::middleware::from_fn(edge))
    }

    async fn call(app: Router, method: &str, uri: &str) -> (StatusCode, String, String) {
        let req = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap_or_default();
        let res = app.oneshot(req).await.unwrap_or_else(|e| match e {});
        let status = res.status();
        let ct = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap_or_default();
        (status, ct, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_faces_own_json_error_reaches_the_client_unchanged() {
        let (status, ct, body) = call(mounted(ErrorFormat::OAuth), "GET", "/token").await;
        assert_eq!(
            (status, ct.as_str(), body.as_str()),
            (StatusCode::BAD_REQUEST, "application/json", r#"{"error":"invalid_grant"}"#)
        );
        // The router's own errors and a plain-text failure are put in the face's format.
        let (status, ct, body) = call(mounted(ErrorFormat::OAuth), "POST", "/token").await;
        assert_eq!((status, ct.as_str()), (StatusCode::METHOD_NOT_ALLOWED, "application/json"));
        assert!(body.contains(r#""error":"invalid_request""#), "{body}");
        let (status, _, body) = call(mounted(ErrorFormat::OAuth), "GET", "/plain").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains(r#""error":"server_error""#) && !body.contains("boom"), "{body}");
        let (status, _, body) = call(mounted(ErrorFormat::OAuth), "GET", "/token?x=%01").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains(r#""error":"invalid_request""#), "{body}");
    }

    #[tokio::test]
    async fn each_format_answers_the_routers_errors_in_its_own_media_type() {
        for (format, media) in [
            (ErrorFormat::Problem, "application/problem+json"),
            (ErrorFormat::Scim, "application/scim+json"),
            (ErrorFormat::Page, "text/html"),
            (ErrorFormat::OAuth, "application/json"),
        ] {
            let (status, ct, _) = call(mounted(format), "DELETE", "/token").await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{format:?}");
            assert!(ct.starts_with(media), "{format:?} answered {ct}");
            // A face's JSON error that is not its format's own is put in it.
            let (_, ct, _) = call(mounted(format), "GET", "/token").await;
            assert!(ct.starts_with(media), "{format:?} answered {ct}");
        }
        // No face: a problem document, the bad query judged too.
        let bare = Router::new().layer(axum::middleware::from_fn(edge));
        let (status, ct, _) = call(bare.clone(), "GET", "/nowhere").await;
        assert_eq!((status, ct.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));
        let (status, _, _) = call(bare, "GET", "/nowhere?q=%00").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}
