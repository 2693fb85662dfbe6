//! The sign-in room every face of pages uses: who is signed in (the session cookie, scoped to
//! `/t/{tenant}` so every room under the tenant receives it; the CSRF and `Origin` checks; the
//! extractors [`Signed`], [`Posted`] and [`Uploaded`]), and the pages that sign people in and
//! out (`/t/{tenant}/login...`, `/t/{tenant}/sign-out`): a personal token, a password, the
//! tenant's identity provider, invitations to set a password. The identity provider's settings
//! are a console page, not this room.

mod pages;
mod session;
mod signed;

pub(crate) use pages::callback_url;
pub(crate) use session::{Nothing, Posted, Uploaded};
pub(crate) use signed::Signed;

use crate::shared::{AppState, ErrorFormat};
use axum::Router;
use axum::routing::{get, post};

/// The format this room answers its errors in.
pub(crate) const ERRORS: ErrorFormat = ErrorFormat::Page;

/// Where a signed-in person's sign-out form posts.
pub(crate) fn sign_out_url(tenant: &str) -> String {
    format!("/t/{tenant}/sign-out")
}

/// The sign-in pages, for the composition room to mount.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/login", get(pages::sign_in_page))
        .route("/t/{tenant}/login/token", post(pages::sign_in))
        .route("/t/{tenant}/login/password", post(pages::password_sign_in))
        .route("/t/{tenant}/login/sso", get(pages::sso_begin))
        .route("/t/{tenant}/login/sso/callback", get(pages::sso_callback))
        .route("/t/{tenant}/login/invitation/{secret}", get(pages::invitation_page).post(pages::accept_invitation))
        .route("/t/{tenant}/sign-out", post(pages::sign_out))
        .layer(axum::middleware::from_fn(crate::html::protect))
}
