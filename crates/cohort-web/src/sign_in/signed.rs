//! Who a page's request is from: the signed-in person, as the pages see them (the session
//! that proves it is resumed in `session`).

use cohort_service::{Ctx, Holdings};
use maud::{Markup, html};

/// A signed-in person on a request for a page.
pub(crate) struct Signed {
    /// The caller, for the services.
    pub(crate) ctx: Ctx,
    /// The tenant's slug, for links.
    pub(crate) tenant: String,
    /// Who, for the header.
    pub(crate) who: String,
    /// The zone they read times in.
    pub(crate) time: crate::local_time::LocalTime,
    /// What they may do, for showing only the controls they may use.
    pub(crate) holdings: Holdings,
    /// The CSRF token of this session.
    pub(crate) csrf: String,
    /// The session's secret (for signing out).
    pub(crate) secret: String,
}

impl Signed {
    /// The hidden field every form of the page carries.
    pub(crate) fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}
