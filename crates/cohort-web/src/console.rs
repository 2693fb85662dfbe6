//! The admin console under `/t/{tenant}/portal/`: pages rendered on the server over the same
//! services REST and SCIM call. Every form works without JavaScript (a POST answered by a
//! redirect to a GET, or by the form again with its errors beside the fields); our own small
//! script only enhances. The stylesheet and script are compiled in and served under
//! content-hashed names.
//!
//! Templates are maud: HTML written as Rust expressions, so a page that names a missing value
//! or a wrong type does not compile, every interpolation is escaped unless marked
//! `PreEscaped`, and there are no template files to ship or find at run time.

mod activity;
mod assets;
mod auth;
mod batch;
mod catalog;
mod frame;
mod groups;
mod holdings;
mod import;
mod layout;
mod rules;
mod sign_in;
mod signed;
mod tokens;
mod tree;
mod users;
mod why;

use crate::shared::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// The format this face answers its errors in.
pub(crate) const ERRORS: crate::shared::ErrorFormat = crate::shared::ErrorFormat::Page;

/// The console's routes, for the composition room to mount.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/portal", get(home))
        .route("/t/{tenant}/portal/", get(home))
        .route("/t/{tenant}/login", get(auth::sign_in_page))
        .route("/t/{tenant}/login/sso", get(auth::sso_begin))
        .route("/t/{tenant}/login/sso/callback", get(auth::sso_callback))
        .route("/t/{tenant}/login/password", post(auth::password_sign_in))
        .route("/t/{tenant}/login/invitation/{secret}", get(auth::invitation_page).post(auth::accept_invitation))
        .route("/t/{tenant}/portal/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/t/{tenant}/portal/sign-out", post(auth::sign_out))
        .merge(batch::routes())
        .merge(groups::routes())
        .merge(import::routes())
        .merge(rules::routes())
        .merge(activity::routes())
        .merge(why::routes())
        .merge(holdings::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(catalog::routes())
        .merge(tree::routes())
        .merge(sign_in::routes())
        .route("/console-assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(protect))
}

/// The console's page for an error the router made (a method a path does not take, a body
/// over the limit, a refused path), for the edge.
pub(crate) fn error_page(e: &cohort_service::error::ServiceError) -> Response {
    let mut r = layout::error(None, e);
    guard_headers(&mut r, false);
    r
}

async fn home(axum::extract::Path(tenant): axum::extract::Path<String>) -> Response {
    Redirect::to(&layout::groups_url(&tenant)).into_response()
}

/// The headers every console answer carries: no script but our own file, no framing, no
/// sniffing, no referrer beyond this origin; pages (not assets) are not cached.
async fn protect(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/console-assets/");
    let mut r = next.run(req).await;
    guard_headers(&mut r, asset);
    r
}

fn guard_headers(r: &mut Response, asset: bool) {
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
