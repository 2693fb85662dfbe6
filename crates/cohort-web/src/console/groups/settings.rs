//! A group's settings tab: its name and fields; its parents (a cycle or too deep refused
//! beside the field, a change asked with the users in it and below it, since what its members
//! inherit changes); archiving, unarchiving and deleting (confirmed).

use super::members::MembersQuery;
use super::nesting::{parent_slugs, parents_section};
use super::new::find_group;
use crate::console::confirm::{Ask, Confirmed, confirmable};
use crate::console::frame::{Tab, fail, form_errors, group_frame, group_id, group_url, items, load};
use crate::console::layout::{Section, described, field_error, groups_url, reason};
use crate::shared::AppState;
use crate::sign_in::Posted;
use crate::sign_in::Signed;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cohort_core::GroupId;
use cohort_core::model::{Group, GroupSource, GroupStatus};
use cohort_core::name::{Description, MemberTypes, Name};
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_service::{Ctx, Expect, GroupPatch, Reach};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Deserialize, Default)]
pub(super) struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    apply_privileges: Option<String>,
    notify_members: Option<String>,
}

pub(super) async fn settings(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<MembersQuery>,
) -> Response {
    match load(&s, &signed, &group).await {
        Ok((g, n)) => match parents_of(&s, &signed, &g).await {
            Ok(parents) => settings_page(&signed, &g, n, None, &[], q.done.as_deref(), parents),
            Err(e) => fail(&signed, e),
        },
        Err(e) => fail(&signed, e),
    }
}

/// The parents form as the group stands, for those who may change it.
async fn parents_of(s: &AppState, signed: &Signed, g: &Group) -> Result<Markup, ServiceError> {
    if !signed.holdings.can(P::GroupsWrite) {
        return Ok(html! {});
    }
    Ok(parents_section(signed, g, &parent_slugs(s, signed, g).await?, &[]))
}

/// The Settings tab: the fields form (`f` as sent back, with `errors`), the `parents` form,
/// archiving and deleting.
pub(super) fn settings_page(
    signed: &Signed,
    g: &Group,
    count: i64,
    f: Option<&SettingsForm>,
    errors: &[(String, String)],
    done: Option<&str>,
    parents: Markup,
) -> Response {
    let url = group_url(&signed.tenant, &g.id);
    let writer = signed.holdings.can(P::GroupsWrite);
    let describer = writer || signed.holdings.manages.contains(&g.id);
    let name = f.map_or(g.name.as_str(), |f| f.name.as_str());
    let description = f.map_or(g.description.as_str(), |f| f.description.as_str());
    let apply = f.map_or(g.apply_privileges, |f| f.apply_privileges.is_some());
    let notify = f.map_or(g.notify_members, |f| f.notify_members.is_some());
    let synced = g.source != GroupSource::Local;
    let body = html! {
        @if !describer {
            dl.facts {
                dt { "Name" } dd { (g.name) }
                dt { "Description" } dd { @if g.description.as_str().is_empty() { span.muted { "none" } } @else { (g.description) } }
                dt { "Apply privileges" } dd { @if g.apply_privileges { "on" } @else { "off" } }
                dt { "Notify members" } dd { @if g.notify_members { "on" } @else { "off" } }
            }
        } @else {
            @if !errors.is_empty() { p.error role="alert" { "The settings were not saved. Correct the fields marked below." } }
            form.stack method="post" action=(format!("{url}/settings")) {
                (signed.csrf_field())
                div.field {
                    label for="name" { @if synced { "Display name" } @else { "Name" } }
                    input #name type="text" name="name" value=(name) required maxlength="128" disabled[!writer] aria-describedby=[described(errors, "name")];
                    @if synced { p.hint { "The identity provider's name stays beside it; its later renames no longer overwrite yours." } }
                    (field_error(errors, "name"))
                }
                div.field {
                    label for="description" { "Description" }
                    textarea #description name="description" rows="3" maxlength="2000" { (description) }
                    (field_error(errors, "description"))
                }
                @if writer {
                    div.field {
                        label.check { input type="checkbox" name="apply_privileges" value="on" checked[apply] aria-describedby="apply-hint"; " Apply privileges" }
                        p.hint #apply-hint { "When off, the group confers nothing: its roles, levels and scopes stop reaching its members (and the members of its child groups), who keep only what they hold directly or through other groups." }
                    }
                    div.field {
                        label.check { input type="checkbox" name="notify_members" value="on" checked[notify] aria-describedby="notify-hint"; " Notify members" }
                        p.hint #notify-hint { "Members are told when their access through this group changes." }
                    }
                }
                button.primary type="submit" { "Save" }
            }
            (parents)
            @if writer {
                section.card.danger-zone aria-labelledby="status-title" {
                    h2 #status-title { "Archive or delete" }
                    @if g.status == GroupStatus::Active {
                        form method="post" action=(format!("{url}/archive")) {
                            (signed.csrf_field())
                            p { "Archiving keeps members and grants but stops the group conferring anything." }
                            button type="submit" { "Archive…" }
                        }
                    } @else {
                        form method="post" action=(format!("{url}/unarchive")) {
                            (signed.csrf_field())
                            button type="submit" { "Unarchive…" }
                        }
                    }
                    p { a.button.danger href=(format!("{url}/delete")) { "Delete group…" } }
                }
            }
        }
    };
    let status = crate::console::layout::form_status(errors);
    (status, group_frame(signed, g, count, Tab::Settings, done, body)).into_response()
}

pub(super) async fn save_settings(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<SettingsForm>,
) -> Response {
    let (g, n) = match load(&s, &signed, &group).await {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let writer = signed.holdings.can(P::GroupsWrite);
    let mut errors = Vec::new();
    let description =
        Description::parse(&f.description).map_err(|e| errors.push(("description".to_owned(), reason(e)))).ok();
    // Only what changed is sent: a manager may change the description alone.
    let name = if writer && f.name != g.name.as_str() {
        Name::parse("name", &f.name).map_err(|e| errors.push(("name".to_owned(), reason(e)))).ok()
    } else {
        None
    };
    let parents = match parents_of(&s, &signed, &g).await {
        Ok(p) => p,
        Err(e) => return fail(&signed, e),
    };
    if !errors.is_empty() {
        return settings_page(&signed, &g, n, Some(&f), &errors, None, parents);
    }
    let changed = |new: bool, old: bool| (writer && new != old).then_some(new);
    let patch = GroupPatch {
        name,
        description: description.filter(|d| d.as_str() != g.description.as_str()),
        apply_privileges: changed(f.apply_privileges.is_some(), g.apply_privileges),
        notify_members: changed(f.notify_members.is_some(), g.notify_members),
        member_types: None::<MemberTypes>,
        ..GroupPatch::default()
    };
    match s.update_group(&signed.ctx, &g.id, patch).await {
        Ok(_) => Redirect::to(&format!("{}/settings?done=saved", group_url(&signed.tenant, &g.id))).into_response(),
        Err(e) => match form_errors(&e, &[]) {
            Some(errors) => settings_page(&signed, &g, n, Some(&f), &errors, None, parents),
            None => fail(&signed, e),
        },
    }
}

/// Archives or unarchives a group, once confirmed.
async fn set_status(s: &AppState, signed: &Signed, group: &str, f: &Confirmed, status: GroupStatus) -> Response {
    let id = match group_id(group) {
        Ok(id) => id,
        Err(e) => return fail(signed, e),
    };
    let url = group_url(&signed.tenant, &id);
    let archiving = status == GroupStatus::Archived;
    let ask = async || {
        let (g, _) = s.get_group(&signed.ctx, &id).await?;
        let (title, what, reached, button, path) = if archiving {
            (
                format!("Archive {}?", g.name),
                "It keeps its members, roles, levels, scopes and rules, but confers nothing until it is unarchived.",
                format!("in {} and its child groups would lose what it confers", g.name),
                "Archive",
                "archive",
            )
        } else {
            (
                format!("Unarchive {}?", g.name),
                "It confers its roles, levels and scopes again.",
                format!("in {} and its child groups would hold what it confers again", g.name),
                "Unarchive",
                "unarchive",
            )
        };
        Ok(Ask {
            title,
            what: html! { p { (what) } },
            reach: Reach::Groups(vec![id.clone()]),
            reached_words: reached,
            action: format!("{url}/{path}"),
            fields: Vec::new(),
            button: button.to_owned(),
            danger: archiving,
            cancel: format!("{url}/settings"),
            section: Section::Groups,
        })
    };
    let apply = async |ctx: &Ctx| {
        s.set_group_status(ctx, &id, status).await?;
        let word = if archiving { "archived" } else { "unarchived" };
        Ok(Redirect::to(&format!("{url}/settings?done={word}")).into_response())
    };
    confirmable(s, signed, f, ask, apply).await
}

pub(super) async fn archive(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    set_status(&s, &signed, &group, &f, GroupStatus::Archived).await
}

pub(super) async fn unarchive(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    set_status(&s, &signed, &group, &f, GroupStatus::Active).await
}

/// The deletion's confirmation page.
pub(super) async fn confirm_delete(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
) -> Response {
    delete_confirmed(&s, &signed, &group, &Confirmed::default()).await
}

/// Deletes a group, once confirmed.
pub(super) async fn delete(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<Confirmed>,
) -> Response {
    delete_confirmed(&s, &signed, &group, &f).await
}

async fn delete_confirmed(s: &AppState, signed: &Signed, group: &str, f: &Confirmed) -> Response {
    let id = match group_id(group) {
        Ok(id) => id,
        Err(e) => return fail(signed, e),
    };
    let url = group_url(&signed.tenant, &id);
    let ask = async || {
        let (g, _) = s.get_group(&signed.ctx, &id).await?;
        Ok(Ask {
            title: format!("Delete {}?", g.name),
            what: html! { p { "Its memberships, roles, levels, scopes, rules and nesting go with it. This cannot be undone; archiving keeps them instead." } },
            reach: Reach::Groups(vec![id.clone()]),
            reached_words: format!("in {} and its child groups would lose what it confers, at once", g.name),
            action: format!("{url}/delete"),
            fields: Vec::new(),
            button: "Delete group".to_owned(),
            danger: true,
            cancel: format!("{url}/settings"),
            section: Section::Groups,
        })
    };
    let apply = async |ctx: &Ctx| {
        s.delete_group(ctx, &id, &Expect::Any).await?;
        Ok(Redirect::to(&format!("{}?done=deleted", groups_url(&signed.tenant))).into_response())
    };
    confirmable(s, signed, f, ask, apply).await
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
                @if !added.is_empty() { p { "Its members and the members of its child groups inherit what " strong { (added.join(", ")) } @if added.len() == 1 { " confers." } @else { " confer." } } }
                @if !removed.is_empty() { p { "They stop inheriting what " strong { (removed.join(", ")) } @if removed.len() == 1 { " confers" } @else { " confer" } ", unless another path gives it." } }
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
