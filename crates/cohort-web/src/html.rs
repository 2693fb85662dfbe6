//! What every HTML page of cohort shares, the console's and sign-in's alike: the head (the
//! compiled-in stylesheet and script), the page without a frame, the error page, how a page
//! names a person, and the headers every page carries.

pub mod assets;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cohort_service::error::ServiceError;
use maud::{DOCTYPE, Markup, html};

/// The `<head>` of a page titled `title`.
pub fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) " · cohort" }
            link rel="stylesheet" href=(assets::url(&assets::CSS));
            script src=(assets::url(&assets::JS)) defer {}
        }
    }
}

/// A page with no frame around it (no one signed in, or an error before the frame).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare { main #main { (body) } }
        }
    }
}

/// The page's title, what went wrong, and each field's complaint, with the status the API
/// would give; `frame` puts it in a frame (a signed-in person's), else it stands bare.
pub fn error_with(e: &ServiceError, frame: impl FnOnce(&str, Markup) -> Markup, back: Option<Markup>) -> Response {
    let problem = crate::problem::problem(e);
    if let ServiceError::Unavailable(source) = e {
        tracing::error!(error = %source, "storage failure");
    }
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = html! {
        h1 { (problem.title) }
        p.error role="alert" { (problem.detail) }
        @for f in &problem.errors { p.error { (f.field) ": " (f.message) } }
        @if let Some(b) = back { p { (b) } }
    };
    (status, frame(&problem.title, body)).into_response()
}

/// The error page with no frame, carrying the page headers (for answers made outside a page's
/// router, such as the edge's).
pub fn error(e: &ServiceError) -> Response {
    let mut r = error_with(e, bare, None);
    page_headers(&mut r, false);
    r
}

/// How a page names a user: their email, else their login name, else their display name, else
/// their id.
pub fn person(u: &cohort_core::model::User) -> String {
    u.email
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| u.user_name.as_ref().map(ToString::to_string))
        .filter(|s| !s.is_empty())
        .or_else(|| Some(u.display_name.to_string()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| u.id.to_string())
}

/// Middleware for a router of pages: every answer carries [`page_headers`].
pub async fn protect(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/console-assets/");
    let mut r = next.run(req).await;
    page_headers(&mut r, asset);
    r
}

/// The headers every page carries: no script but our own file, no framing, no sniffing, no
/// referrer beyond this origin; pages (not assets) are not cached.
pub fn page_headers(r: &mut Response, asset: bool) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
