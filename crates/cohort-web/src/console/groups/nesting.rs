//! A group's place in the nesting: every path from a top group down to it and its child
//! groups, in names, on its page; its parents changed on its Settings tab, checked first (a
//! cycle or too deep is an error beside the field) and then asked, with the users in it and
//! below it, since what its members inherit changes.

use super::new::find_group;
use super::settings::settings_page;
use crate::console::confirm::{Ask, Confirmed, confirmable};
use crate::console::frame::{fail, form_errors, group_url, items, load};
use crate::console::layout::{Section, described, field_error};
use crate::shared::AppState;
use crate::sign_in::{Posted, Signed};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cohort_core::GroupId;
use cohort_core::model::Group;
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_service::{Ctx, GroupPatch, GroupRef, Nesting, Reach};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeSet;

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

#[derive(Deserialize)]
pub(super) struct ParentsForm {
    #[serde(default)]
    parents: String,
    #[serde(flatten)]
    confirmed: Confirmed,
}

/// The names of `groups`.
async fn names<'a>(
    s: &AppState,
    signed: &Signed,
    groups: impl Iterator<Item = &'a GroupId>,
) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    for id in groups {
        out.push(s.get_group(&signed.ctx, id).await?.0.name.to_string());
    }
    Ok(out)
}

/// Changes a group's parents: refused beside the field when a parent is unknown, would make a
/// cycle or nest too deep; otherwise asked, then applied at the revision it was counted at.
pub(super) async fn change_parents(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<ParentsForm>,
) -> Response {
    let (g, n) = match load(&s, &signed, &group).await {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let again = |errors: Vec<(String, String)>| {
        let parents = parents_section(&signed, &g, &f.parents, &errors);
        settings_page(&signed, &g, n, None, &errors, None, parents)
    };
    let mut parents = BTreeSet::new();
    let mut errors = Vec::new();
    for p in items(&f.parents) {
        match find_group(&s, &signed, p).await {
            Ok(Some(found)) => {
                parents.insert(found.id);
            }
            Ok(None) => errors.push(("parents".to_owned(), format!("no active group has the slug or name `{p}`"))),
            Err(e) => return fail(&signed, e),
        }
    }
    if !errors.is_empty() {
        return again(errors);
    }
    let patch = || GroupPatch { parent_ids: Some(parents.clone()), ..GroupPatch::default() };
    if f.confirmed.revision().is_none()
        && let Err(e) = s.update_group(&signed.ctx.trying(), &g.id, patch()).await
    {
        return match form_errors(&e, &[("parentIds", "parents")]) {
            Some(errors) => again(errors),
            None => fail(&signed, e),
        };
    }
    let url = group_url(&signed.tenant, &g.id);
    let ask = async || {
        let before: BTreeSet<GroupId> = g.parent_ids.iter().cloned().collect();
        let added = names(&s, &signed, parents.difference(&before)).await?;
        let removed = names(&s, &signed, before.difference(&parents)).await?;
        Ok(Ask {
            title: format!("Change the parents of {}?", g.name),
            what: html! {
                @if !added.is_empty() { p { "Its members and the members of its child groups inherit what " strong { (added.join(", ")) } " confer." } }
                @if !removed.is_empty() { p { "They stop inheriting what " strong { (removed.join(", ")) } " confer, unless another path gives it." } }
                @if parents.is_empty() { p { "It becomes a top group." } }
            },
            reach: Reach::Groups(vec![g.id.clone()]),
            reached_words: format!(
                "in {} and its child groups would {}",
                g.name,
                match (added.is_empty(), removed.is_empty()) {
                    (false, true) => "inherit it",
                    (true, false) => "stop inheriting it",
                    _ => "see what they inherit change",
                }
            ),
            action: format!("{url}/parents"),
            fields: vec![("parents", f.parents.clone())],
            button: "Change parents".to_owned(),
            danger: !removed.is_empty(),
            cancel: format!("{url}/settings"),
            section: Section::Groups,
        })
    };
    let apply = async |ctx: &Ctx| {
        s.update_group(ctx, &g.id, patch()).await?;
        Ok(Redirect::to(&format!("{url}/settings?done=parents")).into_response())
    };
    confirmable(&s, &signed, &f.confirmed, ask, apply).await
}

/// The group's place for a reader of groups; nothing for a manager who may not read them.
pub(super) async fn place_of(s: &AppState, signed: &Signed, g: &Group) -> Result<Option<Markup>, ServiceError> {
    if !signed.holdings.can(P::GroupsRead) {
        return Ok(None);
    }
    let n = s.nesting(&signed.ctx, &g.id).await?;
    Ok(Some(place(&signed.tenant, g, &n)))
}
