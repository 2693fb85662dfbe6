//! A group's place in the nesting: every path from a top group down to it and its child
//! groups, in names, on its page; the parents form of its Settings tab (whose handler,
//! `settings::change_parents`, checks and asks).

use crate::console::frame::group_url;
use crate::console::layout::{described, field_error};
use crate::shared::AppState;
use crate::sign_in::Signed;
use cohort_core::model::Group;
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_service::{GroupRef, Nesting};
use maud::{Markup, html};

fn link(t: &str, g: &GroupRef) -> Markup {
    html! { a href=(group_url(t, &g.id)) title=(g.id) { (g.name) } @if !g.active { " (archived)" } }
}

/// Where the group sits, for its page: each path from the top, and its child groups.
pub(super) fn place(t: &str, g: &Group, n: &Nesting) -> Markup {
    html! {
        section.card.nesting aria-labelledby="nesting-title" {
            h2 #nesting-title { "Nesting" }
            @if n.paths.is_empty() {
                p { "A top group: it has no parent." }
            } @else {
                p { "Within " @if n.paths.len() > 1 { (n.paths.len()) @if n.more_paths { "+" } " paths, each from a top group:" } }
                ul.paths {
                    @for path in &n.paths {
                        li { @for p in path { (link(t, p)) " › " } strong { (g.name) } }
                    }
                    @if n.more_paths { li.muted { "and more paths" } }
                }
            }
            @if n.child_count == 0 {
                p.muted { "No child groups." }
            } @else {
                p {
                    "Child groups (" (n.child_count) "): "
                    @for (i, c) in n.children.iter().enumerate() { @if i > 0 { ", " } (link(t, c)) }
                    @if n.child_count > n.children.len() {
                        " and " (n.child_count - n.children.len()) " more, in "
                        a href=(format!("{}/tree?parent={}", crate::console::layout::groups_url(t), g.id)) { "the tree" }
                    }
                }
            }
        }
    }
}

/// The parents form of the Settings tab; `value` is what the field holds (the parents'
/// slugs, or what was sent back).
pub(super) fn parents_section(signed: &Signed, g: &Group, value: &str, errors: &[(String, String)]) -> Markup {
    let url = group_url(&signed.tenant, &g.id);
    html! {
        section.card aria-labelledby="parents-title" {
            h2 #parents-title { "Parent groups" }
            form method="post" action=(format!("{url}/parents")) {
                (signed.csrf_field())
                div.field {
                    label for="parents" { "Parent groups" }
                    input #parents type="text" name="parents" value=(value) data-picker="groups" autocomplete="off"
                        aria-describedby=(described(errors, "parents").map_or_else(|| "parents-hint".to_owned(), |e| format!("parents-hint {e}")));
                    p.hint #parents-hint { "Slugs or names of active groups, separated by commas; empty makes it a top group. Its members inherit what its parents confer; changing them is asked first, with how many users it reaches." }
                    (field_error(errors, "parents"))
                }
                button type="submit" { "Change parents…" }
            }
        }
    }
}

/// The parents' slugs, as the parents field shows them.
pub(super) async fn parent_slugs(s: &AppState, signed: &Signed, g: &Group) -> Result<String, ServiceError> {
    let mut slugs = Vec::new();
    for p in &g.parent_ids {
        slugs.push(s.get_group(&signed.ctx, p).await?.0.slug.to_string());
    }
    Ok(slugs.join(", "))
}

/// The group's place for a reader of groups; nothing for a manager who may not read them.
pub(super) async fn place_of(s: &AppState, signed: &Signed, g: &Group) -> Result<Option<Markup>, ServiceError> {
    if !signed.holdings.can(P::GroupsRead) {
        return Ok(None);
    }
    let n = s.nesting(&signed.ctx, &g.id).await?;
    Ok(Some(place(&signed.tenant, g, &n)))
}
