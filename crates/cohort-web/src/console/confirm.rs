//! Confirmations that count: a change that gives `cohort:` permissions or takes access away is
//! first shown on a page that says what it does and to how many users, counted at one
//! revision. The person's confirmation carries that revision; the services refuse the change
//! if the tenant has moved on since ([`cohort_service::Ctx::confirmed_at`]), and the page then
//! counts again and asks again instead of applying.

use super::frame::fail;
use super::layout::{self, Section};
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cohort_service::error::ServiceError;
use cohort_service::{Ctx, Reach, Reached};
use maud::{Markup, html};
use serde::Deserialize;

/// The part of a confirmable form that says whether, and at which revision, it was confirmed.
#[derive(Deserialize, Default)]
pub(super) struct Confirmed {
    /// The revision the person was shown; absent on the first post, which asks (text: a form
    /// flattened into another reads every value as text; one that is not a number asks again).
    #[serde(default)]
    revision: String,
}

impl Confirmed {
    pub(super) fn revision(&self) -> Option<i64> {
        self.revision.parse().ok()
    }
}

/// What a confirmation page says.
pub(super) struct Ask {
    /// The question, as the page's heading: "Remove the role Editors from France?".
    pub(super) title: String,
    /// What the change does, in words.
    pub(super) what: Markup,
    /// Whom to count.
    pub(super) reach: Reach,
    /// How the counted users are reached, after their number: "lose the permissions of
    /// Editors (the members of France and of its child groups)".
    pub(super) reached_words: String,
    /// Where the confirmation posts (the same action as the first post).
    pub(super) action: String,
    /// The form's other fields, posted again with the confirmation.
    pub(super) fields: Vec<(&'static str, String)>,
    /// The confirming button's words.
    pub(super) button: String,
    /// Whether the change takes access away (a red button).
    pub(super) danger: bool,
    /// Where cancelling goes.
    pub(super) cancel: String,
    /// The console section the page belongs to.
    pub(super) section: Section,
}

/// Runs a confirmable change: without a revision, tries it (a refusal is shown at once) and
/// asks; with one, applies it as confirmed at that revision, and if the tenant moved on, counts
/// again and asks again (409).
pub(super) async fn confirmable(
    s: &AppState,
    signed: &Signed,
    form: &Confirmed,
    ask: impl AsyncFnOnce() -> Result<Ask, ServiceError>,
    apply: impl AsyncFnOnce(&Ctx) -> Result<Response, ServiceError>,
) -> Response {
    let outcome = match form.revision() {
        Some(revision) => apply(&signed.ctx.confirmed_at(revision)).await,
        None => apply(&signed.ctx.trying()).await,
    };
    let moved = match outcome {
        Err(ServiceError::PreconditionFailed(_)) => true,
        Ok(done) if form.revision().is_some() => return done,
        Ok(_) => false,
        Err(e) => return fail(signed, e),
    };
    match ask().await {
        Ok(ask) => match s.users_reached(&signed.ctx, &ask.reach).await {
            Ok(reached) => page(signed, &ask, reached, moved),
            Err(e) => fail(signed, e),
        },
        Err(e) => fail(signed, e),
    }
}

/// `n users` in words.
pub(super) fn users(n: usize) -> String {
    if n == 1 { "1 user".to_owned() } else { format!("{n} users") }
}

fn page(signed: &Signed, ask: &Ask, reached: Reached, moved: bool) -> Response {
    let body = html! {
        h1 { (ask.title) }
        @if moved {
            p.error role="alert" { "Something changed in this tenant since you were asked, so nothing was applied. It was counted again below: check and confirm again." }
        }
        (ask.what)
        p.reach { strong { (users(reached.users)) } " " (ask.reached_words) "." }
        form.actions method="post" action=(ask.action) {
            (signed.csrf_field())
            @for (k, v) in &ask.fields { input type="hidden" name=(k) value=(v); }
            input type="hidden" name="revision" value=(reached.revision);
            button.primary.danger[ask.danger] type="submit" { (ask.button) }
            a href=(ask.cancel) { "Cancel" }
        }
    };
    let status = if moved { StatusCode::CONFLICT } else { StatusCode::OK };
    (status, layout::page(signed, ask.section, &ask.title, body)).into_response()
}
