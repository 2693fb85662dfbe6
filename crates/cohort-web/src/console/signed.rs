//! Who a console request is from: the signed-in person, as the pages see them (the session
//! that proves it is resumed in `auth`).

use cohort_service::{Ctx, Holdings};
use maud::{Markup, html};

/// A signed-in person on a console request.
pub(super) struct Signed {
    /// The caller, for the services.
    pub(super) ctx: Ctx,
    /// The tenant's slug, for links.
    pub(super) tenant: String,
    /// Who, for the header.
    pub(super) who: String,
    /// What they may do, for showing only the controls they may use.
    pub(super) holdings: Holdings,
    /// The CSRF token of this session.
    pub(super) csrf: String,
    /// The session's secret (for signing out).
    pub(super) secret: String,
}

impl Signed {
    /// The hidden field every form of the page carries.
    pub(super) fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}
