//! The pages' stylesheet and script, compiled into the binary and served under names that
//! carry a hash of their content, so they may be cached for a year and a new build is never
//! served a stale copy.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One compiled-in file.
pub struct Asset {
    /// The served name, `console-<hash>.css`.
    pub name: String,
    body: &'static str,
    content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let hash: String = Sha256::digest(body.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect();
    Asset { name: format!("{stem}-{hash}.{ext}"), body, content_type }
}

/// The stylesheet.
pub static CSS: LazyLock<Asset> =
    LazyLock::new(|| asset("console", "css", include_str!("assets/console.css"), "text/css; charset=utf-8"));

/// The script.
pub static JS: LazyLock<Asset> =
    LazyLock::new(|| asset("console", "js", include_str!("assets/console.js"), "text/javascript; charset=utf-8"));

/// The URL a page links an asset at.
pub fn url(a: &Asset) -> String {
    format!("/console-assets/{}", a.name)
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(a) = [&*CSS, &*JS].into_iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut r = a.body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    r
}
