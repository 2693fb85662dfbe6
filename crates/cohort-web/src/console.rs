//! The admin console under `/t/{tenant}/portal/`: pages rendered on the server over the same
//! services REST and SCIM call. Every form works without JavaScript (a POST answered by a
//! redirect to a GET, or by the form again with its errors beside the fields); our own small
//! script only enhances. The stylesheet and script are compiled in and served under
//! content-hashed names. Who is signed in, and the pages that sign people in and out, are the
//! sign-in room's.
//!
//! Templates are maud: HTML written as Rust expressions, so a page that names a missing value
//! or a wrong type does not compile, every interpolation is escaped unless marked
//! `PreEscaped`, and there are no template files to ship or find at run time.

mod activity;
mod assign;
mod batch;
mod catalog;
mod confirm;
mod frame;
mod groups;
mod holdings;
mod identity_provider;
mod import;
mod layout;
mod lifecycle;
mod rules;
mod sentence;
mod time_zone;
mod tokens;
mod tree;
mod users;
mod why;

use crate::shared::AppState;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The format this face answers its errors in.
pub(crate) const ERRORS: crate::shared::ErrorFormat = crate::shared::ErrorFormat::Page;

/// The console's routes, for the composition room to mount.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/portal", get(home))
        .route("/t/{tenant}/portal/", get(home))
        .merge(batch::routes())
        .merge(groups::routes())
        .merge(import::routes())
        .merge(rules::routes())
        .merge(activity::routes())
        .merge(why::routes())
        .merge(assign::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(catalog::routes())
        .merge(tree::routes())
        .merge(identity_provider::routes())
        .merge(lifecycle::routes())
        .route("/console-assets/{name}", get(crate::html::assets::serve))
        .layer(axum::middleware::from_fn(crate::html::protect))
}

async fn home(axum::extract::Path(tenant): axum::extract::Path<String>) -> Response {
    Redirect::to(&layout::groups_url(&tenant)).into_response()
}
