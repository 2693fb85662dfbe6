//! The frame every console page shares (header, navigation, sign-out), the error page in it,
//! and the small pieces pages are built of.

use crate::html::{self, head};
use crate::sign_in::Signed;
use axum::response::Response;
use cohort_core::Timestamp;
use cohort_service::error::ServiceError;
use maud::{DOCTYPE, Markup, html};

/// The groups page of `tenant`.
pub(super) fn groups_url(tenant: &str) -> String {
    section_url(tenant, "groups")
}

/// The sections of the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Groups,
    Users,
    Roles,
    Resources,
    Tokens,
    Audit,
    Why,
    SignIn,
}

impl Section {
    /// Each section's place in the navigation, under `/t/{tenant}/portal/access-management/`.
    const ALL: [(Self, &'static str, &'static str); 8] = [
        (Self::Groups, "groups", "Groups"),
        (Self::Users, "users", "Users"),
        (Self::Roles, "roles", "Roles"),
        (Self::Resources, "resources", "Resources"),
        (Self::Tokens, "tokens", "Tokens"),
        (Self::Audit, "audit", "Audit log"),
        (Self::Why, "why", "Why?"),
        (Self::SignIn, "sign-in", "Settings"),
    ];
}

/// The page of a section of `tenant`.
pub(super) fn section_url(tenant: &str, path: &str) -> String {
    format!("/t/{tenant}/portal/access-management/{path}")
}

/// A page of a signed-in person.
pub(super) fn page(signed: &Signed, section: Section, title: &str, body: Markup) -> Markup {
    let t = &signed.tenant;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href=(groups_url(t)) { "cohort" }
                    nav aria-label="Console" {
                        ul {
                            @for (s, path, label) in Section::ALL {
                                li { a href=(section_url(t, path)) aria-current=[(section == s).then_some("page")] { (label) } }
                            }
                        }
                    }
                    form.signout method="post" action=(crate::sign_in::sign_out_url(t)) {
                        (signed.csrf_field())
                        span.who { (signed.who) }
                        button type="submit" { "Sign out" }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// The answer to a request that failed: the page says why, with the status the API would give,
/// in the frame of the person signed in (bare when no one is).
pub(super) fn error(signed: Option<&Signed>, e: &ServiceError) -> Response {
    match signed {
        Some(s) => html::error_with(
            e,
            |title, body| page(s, Section::Groups, title, body),
            Some(html! { a href=(groups_url(&s.tenant)) { "Back to groups" } }),
        ),
        None => html::error(e),
    }
}

/// How a page names a user.
pub(super) use crate::html::person;

/// The message of a refused input, for the field it belongs to.
pub(super) fn reason(e: cohort_core::DomainError) -> String {
    match e {
        cohort_core::DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// A badge, for a status or a source.
pub(super) fn badge(kind: &str, text: &str) -> Markup {
    html! { span class=(format!("badge badge-{kind}")) { (text) } }
}

/// How long until `at`, in words (`3 days left`), or that it has passed.
pub(super) fn time_left(now: Timestamp, at: Timestamp) -> String {
    let ms = at.millis() - now.millis();
    if ms <= 0 {
        return "expired".to_owned();
    }
    let (n, unit) = match ms {
        m if m < 3_600_000 => ((m + 59_999) / 60_000, "minute"),
        m if m < 2 * 86_400_000 => (m / 3_600_000, "hour"),
        m => (m / 86_400_000, "day"),
    };
    format!("{n} {unit}{} left", if n == 1 { "" } else { "s" })
}

/// The message beside a form field, when it has one.
pub(super) fn field_error(errors: &[(String, String)], field: &str) -> Markup {
    html! {
        @for (f, m) in errors.iter().filter(|(f, _)| f == field) {
            p.field-error id=(format!("{f}-error")) { (m) }
        }
    }
}

/// A description as text: what is written between backticks shows as code, without the
/// backticks (built-in roles describe their permissions that way).
pub(super) fn described_text(text: &str) -> Markup {
    if !text.matches('`').count().is_multiple_of(2) {
        return html! { (text) };
    }
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

/// A form page's status: 422 when it is sent back with errors.
pub(super) fn form_status(errors: &[(String, String)]) -> axum::http::StatusCode {
    if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY }
}

/// The `aria-describedby` of a field that has an error.
pub(super) fn described(errors: &[(String, String)], field: &str) -> Option<String> {
    errors.iter().any(|(f, _)| f == field).then(|| format!("{field}-error"))
}
