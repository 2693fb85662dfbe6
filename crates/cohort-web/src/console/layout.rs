//! The frame every console page shares (header, navigation, sign-out), the error page, and the
//! small pieces pages are built of.

use super::assets;
use super::signed::Signed;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
        (Self::SignIn, "sign-in", "Sign-in"),
    ];
}

/// The page of a section of `tenant`.
pub(super) fn section_url(tenant: &str, path: &str) -> String {
    format!("/t/{tenant}/portal/access-management/{path}")
}

fn head(title: &str) -> Markup {
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
                    form.signout method="post" action=(format!("/t/{t}/portal/sign-out")) {
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

/// A page with no one signed in (the sign-in page).
pub(super) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare { main #main { (body) } }
        }
    }
}

/// The answer to a request that failed: the page says why, with the status the API would give.
pub(super) fn error(signed: Option<&Signed>, e: &ServiceError) -> Response {
    let problem = crate::problem::problem(e);
    if let ServiceError::Unavailable(source) = e {
        tracing::error!(error = %source, "storage failure");
    }
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = html! {
        h1 { (problem.title) }
        p.error role="alert" { (problem.detail) }
        @for f in &problem.errors { p.error { (f.field) ": " (f.message) } }
        @if let Some(s) = signed { p { a href=(groups_url(&s.tenant)) { "Back to groups" } } }
    };
    let markup = match signed {
        Some(s) => page(s, Section::Groups, &problem.title, body),
        None => bare(&problem.title, body),
    };
    (status, markup).into_response()
}

/// How a page names a user: their email, else their login name, else their display name, else
/// their id.
pub(super) fn person(u: &cohort_core::model::User) -> String {
    u.email
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| u.user_name.as_ref().map(ToString::to_string))
        .filter(|s| !s.is_empty())
        .or_else(|| Some(u.display_name.to_string()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| u.id.to_string())
}

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

/// A date and time as people read it, in UTC.
pub(super) fn when(t: Timestamp) -> String {
    let s = cohort_service::format::rfc3339(t);
    s.get(..16).map(|d| format!("{} UTC", d.replace('T', " "))).unwrap_or(s)
}

/// The message beside a form field, when it has one.
pub(super) fn field_error(errors: &[(String, String)], field: &str) -> Markup {
    html! {
        @for (f, m) in errors.iter().filter(|(f, _)| f == field) {
            p.field-error id=(format!("{f}-error")) { (m) }
        }
    }
}

/// The `aria-describedby` of a field that has an error.
pub(super) fn described(errors: &[(String, String)], field: &str) -> Option<String> {
    errors.iter().any(|(f, _)| f == field).then(|| format!("{field}-error"))
}
