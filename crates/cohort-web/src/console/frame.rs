//! What every page about groups shares: their URLs, the frame of a group's page with its tabs,
//! the badges, notices and form errors, and finding a group or a user by what a person typed.

use super::layout::{self, Section, badge, groups_url};
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::response::Response;
use cohort_core::GroupId;
use cohort_core::model::{Group, GroupSource, GroupStatus};
use cohort_core::name::Email;
use cohort_service::error::ServiceError;
use cohort_store::UserFilter;
use maud::{Markup, html};

pub(super) fn group_url(tenant: &str, id: &GroupId) -> String {
    format!("{}/{id}", groups_url(tenant))
}

/// A user's page.
pub(super) fn user_url(tenant: &str, id: &cohort_core::UserId) -> String {
    format!("{}/{id}", layout::section_url(tenant, "users"))
}

pub(super) fn fail(signed: &Signed, e: ServiceError) -> Response {
    layout::error(Some(signed), &e)
}

/// A group's id from the path: a malformed one is simply not found.
pub(super) fn group_id(raw: &str) -> Result<GroupId, ServiceError> {
    GroupId::parse(raw).map_err(|_| ServiceError::NotFound(format!("group `{raw}`")))
}

pub(super) fn source_badge(source: GroupSource) -> Markup {
    badge("source", source.as_str())
}

pub(super) fn status_badge(status: GroupStatus) -> Markup {
    match status {
        GroupStatus::Active => badge("active", "Active"),
        GroupStatus::Archived => badge("archived", "Archived"),
    }
}

pub(super) fn done_notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "The group was created.",
        "deleted" => "The group was deleted.",
        "added" => "The member was added.",
        "removed" => "The member was removed.",
        "saved" => "The settings were saved.",
        "archived" => "The group was archived: it confers nothing until it is unarchived.",
        "unarchived" => "The group was unarchived.",
        "batch" => "The change was applied to every selected group.",
        "imported" => "The import was applied: its members are listed below.",
        "rule-saved" => "The rule was saved and applied.",
        "rule-paused" => "The rule was paused: it adds no one, and no one leaves through it, until it is resumed.",
        "rule-resumed" => "The rule was resumed and applied.",
        "role-assigned" => "The role was assigned.",
        "role-removed" => "The role was removed.",
        "granted" => "The level was granted.",
        "revoked" => "The level was revoked.",
        "scopes-saved" => "The scopes were saved.",
        "token-revoked" => "The token was revoked: it no longer opens anything.",
        "suspended" => "The user was suspended: they hold nothing until they are unsuspended.",
        "unsuspended" => "The user was unsuspended: they hold what their groups and roles give again.",
        "user-deleted" => "The user was deleted.",
        "role-deleted" => "The role was deleted.",
        "resource-deleted" => "The resource was deleted, with every level granted on it.",
        "removed-several" => "The members were removed.",
        "member-updated" => "The membership was changed.",
        "parents" => "The parent groups were changed.",
        "time-zone" => "The time zone was saved: times are shown in it now.",
        "rule-deleted" => "The rule was deleted; the members only it brought left the group.",
        _ => return None,
    })
}

pub(super) fn notice(done: Option<&str>) -> Markup {
    // What took access away is told as a warning, not as a success.
    let warning = matches!(
        done,
        Some(
            "archived"
                | "deleted"
                | "removed"
                | "removed-several"
                | "role-removed"
                | "revoked"
                | "suspended"
                | "user-deleted"
                | "role-deleted"
                | "resource-deleted"
        )
    );
    html! { @if let Some(n) = done_notice(done) { p.notice.warning[warning] role="status" { (n) } } }
}

/// Splits a list typed one to a line or separated by commas.
pub(super) fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty())
}

/// The errors of a refused change, by the form field they belong to.
pub(super) fn form_errors(e: &ServiceError, rename: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    let field = |f: &str| {
        rename.iter().find(|(from, _)| f.starts_with(from)).map_or_else(|| f.to_owned(), |(_, to)| (*to).to_owned())
    };
    match e {
        ServiceError::Invalid(errors) => Some(errors.iter().map(|x| (field(&x.field), x.message.clone())).collect()),
        ServiceError::Conflict { field: f, reason: m } => Some(vec![(field(f), m.clone())]),
        ServiceError::NotAdmitted(n) => Some(vec![(field("members"), n.to_string())]),
        ServiceError::Expression(_) => {
            Some(crate::problem::problem(e).errors.iter().map(|x| (field(&x.field), x.message.clone())).collect())
        }
        _ => None,
    }
}

/// The user with this email, if the text is one and a user has it (needs `cohort:users.read`).
pub(super) async fn user_by_email(
    s: &AppState,
    signed: &Signed,
    text: &str,
) -> Result<Option<cohort_core::model::User>, ServiceError> {
    let Ok(email) = Email::parse(text) else { return Ok(None) };
    let filter = UserFilter { q: Some(email.to_string()), status: None, after: None, limit: 5 };
    let users = s.list_users(&signed.ctx, &filter).await?;
    Ok(users.into_iter().find(|u| u.email.as_ref().is_some_and(|e| e.key() == email.key())))
}

/// The tabs of a group's page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tab {
    Members,
    Roles,
    Resources,
    Scopes,
    Import,
    Rules,
    Settings,
    Activity,
}

impl Tab {
    const ALL: [(Self, &'static str, &'static str); 8] = [
        (Self::Members, "", "Members"),
        (Self::Roles, "/roles", "Roles"),
        (Self::Resources, "/resources", "Resources"),
        (Self::Scopes, "/scopes", "Scopes"),
        (Self::Import, "/import", "Import / export"),
        (Self::Rules, "/rules", "Rules"),
        (Self::Settings, "/settings", "Settings"),
        (Self::Activity, "/activity", "Activity"),
    ];
}

pub(super) fn group_frame(
    signed: &Signed,
    g: &Group,
    count: i64,
    tab: Tab,
    done: Option<&str>,
    body: Markup,
) -> Markup {
    let t = &signed.tenant;
    let url = group_url(t, &g.id);
    let html = html! {
        nav.crumbs aria-label="Breadcrumb" { a href=(groups_url(t)) { "Groups" } " / " span { (g.name) } }
        div.heading {
            h1 { (g.name) " " span.badges { (status_badge(g.status)) " " (source_badge(g.source)) } }
        }
        @if let Some(p) = &g.provider_name { @if p.as_str() != g.name.as_str() { p.muted { "Named " strong { (p) } " by the identity provider." } } }
        @if let Some(x) = &g.external_id { p.muted { "The identity provider's id: " code.external { (x) } } }
        @if !g.description.as_str().is_empty() { p.description { (g.description) } }
        p.muted { code { (g.slug) } " · " (count) " member" @if count != 1 { "s" } " · " code { (g.id) } }
        @if g.status == GroupStatus::Archived {
            p.notice role="status" { "This group is archived: it confers nothing, takes no new members, roles or grants, and is missing from pickers. Its members and grants come back when it is unarchived." }
        }
        (notice(done))
        nav.tabs aria-label="Group" {
            @for (t, path, label) in Tab::ALL {
                a href=(format!("{url}{path}")) aria-current=[(tab == t).then_some("page")] { (label) }
            }
        }
        section.tab { (body) }
    };
    layout::page(signed, Section::Groups, g.name.as_str(), html)
}

pub(super) async fn load(s: &AppState, signed: &Signed, group: &str) -> Result<(Group, i64), ServiceError> {
    s.get_group(&signed.ctx, &group_id(group)?).await
}
