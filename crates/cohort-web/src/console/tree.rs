//! The nesting as a tree: the top groups a page at a time, each opening onto its child groups,
//! loaded when asked for (by our script as a fragment of the same page, or without it as the
//! page of that group's children); and the search behind the pickers.

use super::frame::{fail, group_url, status_badge};
use super::layout::{self, Section, groups_url};
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cohort_core::GroupId;
use cohort_core::model::{Group, GroupStatus};
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_store::{GroupFilter, UserFilter};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/portal/access-management/groups/tree", get(tree))
        .route("/t/{tenant}/portal/pick/{kind}", get(pick))
}

/// Groups on one page of a level of the tree.
const PAGE: i64 = 50;
/// Suggestions a picker offers.
const SUGGESTIONS: i64 = 20;
/// The longest text a picker searches for.
const LONGEST: usize = 200;

fn tree_url(tenant: &str) -> String {
    format!("{}/tree", groups_url(tenant))
}

#[derive(Deserialize, Default)]
pub(super) struct TreeQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    parent: String,
    cursor: Option<String>,
    #[serde(default)]
    fragment: bool,
}

/// One level of the tree: what it holds.
struct Level<'a> {
    parent: Option<&'a GroupId>,
    /// Its groups on this page with their member counts, and how many child groups each has.
    groups: &'a [(Group, i64)],
    kids: &'a [usize],
    /// How many groups the level holds in all.
    total: usize,
    next: Option<&'a str>,
}

/// One level of the tree: its groups, each with the control that opens its children (a leaf
/// has none), and the control that loads the next page of the level with the level's size.
fn level(t: &str, l: &Level<'_>) -> Markup {
    let Level { parent, groups, kids, total, next } = *l;
    let base = tree_url(t);
    let at = |cursor: Option<&str>, fragment: bool| {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(p) = parent {
            pairs.push(("parent", p.as_str()));
        }
        if let Some(c) = cursor {
            pairs.push(("cursor", c));
        }
        if fragment {
            pairs.push(("fragment", "true"));
        }
        format!("{base}?{}", serde_html_form::to_string(&pairs).unwrap_or_default())
    };
    html! {
        ul.tree {
            @if groups.is_empty() { li.muted { "No child groups." } }
            @for ((g, n), k) in groups.iter().zip(kids) {
                li {
                    @if *k == 0 {
                        span.leaf aria-hidden="true" { "·" }
                    } @else {
                        a.toggle href=(format!("{base}?parent={}", g.id)) data-children=(format!("{base}?parent={}&fragment=true", g.id)) aria-expanded="false" aria-label=(format!("The {k} child groups of {}", g.name)) { "▸" }
                    }
                    " " a href=(group_url(t, &g.id)) { (g.name) }
                    " " span.muted { (n) " member" @if *n != 1 { "s" } @if *k > 0 { ", " (k) " child group" @if *k != 1 { "s" } } }
                    @if g.status == GroupStatus::Archived { " " (status_badge(g.status)) }
                }
            }
            @if let Some(c) = next {
                li.more { a href=(at(Some(c), false)) data-more=(at(Some(c), true)) { "More groups (" (total) " at this level)" } }
            }
        }
    }
}

async fn tree(State(s): State<AppState>, signed: Signed, Query(q): Query<TreeQuery>) -> Response {
    let found = async {
        let parent = (!q.parent.is_empty())
            .then(|| GroupId::parse(&q.parent).map_err(|_| ServiceError::NotFound(format!("group `{}`", q.parent))))
            .transpose()?;
        let parent_group = match &parent {
            Some(p) => Some(s.get_group(&signed.ctx, p).await?.0),
            None => None,
        };
        let filter = GroupFilter {
            parent: parent.clone(),
            roots: parent.is_none(),
            after: q.cursor.as_deref().map(crate::cursor::decode).transpose()?,
            limit: PAGE,
            ..GroupFilter::default()
        };
        let groups = s.list_groups(&signed.ctx, &filter).await?;
        let ids: Vec<GroupId> = groups.iter().map(|(g, _)| g.id.clone()).collect();
        let kids = s.child_counts(&signed.ctx, &ids).await?;
        let total = s.level_size(&signed.ctx, parent.as_ref()).await?;
        Ok::<_, ServiceError>((parent_group, groups, kids, total))
    }
    .await;
    let (parent, groups, kids, total) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let t = &signed.tenant;
    let next = crate::cursor::next(&groups, PAGE, |(g, _)| (g.name.key(), g.id.to_string()));
    let parent_id = parent.as_ref().map(|g| &g.id);
    let items = level(t, &Level { parent: parent_id, groups: &groups, kids: &kids, total, next: next.as_deref() });
    if q.fragment {
        return items.into_response();
    }
    let found = match search(&s, &signed, &q.q).await {
        Ok(f) => f,
        Err(e) => return fail(&signed, e),
    };
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" {
            a href=(groups_url(t)) { "Groups" } " / " a href=(tree_url(t)) { "Nesting" }
            @if let Some(p) = &parent { " / " span { (p.name) } }
        }
        div.heading {
            h1 { @if let Some(p) = &parent { "Child groups of " (p.name) } @else { "Nesting" } }
            a.button href=(groups_url(t)) { "List view" }
        }
        p.muted { "Members of a child group get everything its parent groups confer. Open a group to see its children." }
        form.filters method="get" action=(tree_url(t)) role="search" {
            div.field { label for="tree-q" { "Find a group in the tree" } input #tree-q type="search" name="q" value=(q.q) placeholder="Name or slug"; }
            button type="submit" { "Find" }
            @if !q.q.is_empty() { a href=(tree_url(t)) { "Clear" } }
        }
        @if let Some(found) = &found { (found) }
        @else {
            p.muted { (total) @if parent.is_some() { " child group" @if total != 1 { "s" } } @else { " top group" @if total != 1 { "s" } } "." }
            (items)
        }
    };
    layout::page(&signed, Section::Groups, "Nesting", body).into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct PickQuery {
    #[serde(default)]
    q: String,
}

/// One suggestion: what goes in the field, and how it is shown.
#[derive(Serialize)]
struct Suggestion {
    value: String,
    label: String,
}

/// Suggestions for a picker: active groups by name or slug (archived groups are never
/// offered, as they take no new members or children), or users by email or name.
async fn pick(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, kind)): Path<(String, String)>,
    Query(q): Query<PickQuery>,
) -> Response {
    let text: String = q.q.trim().chars().take(LONGEST).collect();
    let found = async {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let ctx = &signed.ctx;
        Ok::<_, ServiceError>(match kind.as_str() {
            "groups" if signed.holdings.can(P::GroupsRead) => {
                let filter = GroupFilter {
                    q: Some(text),
                    status: Some(GroupStatus::Active),
                    limit: SUGGESTIONS,
                    ..GroupFilter::default()
                };
                let groups = s.list_groups(ctx, &filter).await?;
                groups
                    .into_iter()
                    .map(|(g, _)| Suggestion { value: g.slug.to_string(), label: g.name.to_string() })
                    .collect()
            }
            "users" if signed.holdings.can(P::UsersRead) => {
                let filter = UserFilter { q: Some(text), status: None, after: None, limit: SUGGESTIONS };
                let users = s.list_users(ctx, &filter).await?;
                users
                    .into_iter()
                    .filter_map(|u| {
                        let email = u.email.as_ref()?.to_string();
                        Some(Suggestion { value: email, label: u.display_name.to_string() })
                    })
                    .collect()
            }
            "groups" | "users" => Vec::new(),
            _ => return Err(ServiceError::NotFound("page".to_owned())),
        })
    }
    .await;
    match found {
        Ok(v) => Json(v).into_response(),
        Err(e) => fail(&signed, e),
    }
}

/// The groups whose name or slug holds `text`, each where it sits: its paths from the top.
async fn search(s: &AppState, signed: &Signed, text: &str) -> Result<Option<Markup>, ServiceError> {
    let text: String = text.trim().chars().take(LONGEST).collect();
    if text.is_empty() {
        return Ok(None);
    }
    let filter = GroupFilter { q: Some(text), limit: PAGE, ..GroupFilter::default() };
    let groups = s.list_groups(&signed.ctx, &filter).await?;
    let mut rows = Vec::new();
    for (g, _) in &groups {
        rows.push((g, s.nesting(&signed.ctx, &g.id).await?));
    }
    let t = &signed.tenant;
    Ok(Some(html! {
        @if rows.is_empty() {
            p { "No group matches." }
        } @else {
            p.muted { (rows.len()) @if rows.len() as i64 == PAGE { "+" } " found, each where it sits." }
            ul.found {
                @for (g, n) in &rows {
                    li {
                        @if let Some(path) = n.paths.first() {
                            @for p in path { a href=(group_url(t, &p.id)) title=(p.id) { (p.name) } " › " }
                        }
                        a href=(group_url(t, &g.id)) { strong { (g.name) } }
                        @if g.status == GroupStatus::Archived { " " (status_badge(g.status)) }
                        @if n.paths.len() > 1 { " " span.muted { "(and " (n.paths.len() - 1) @if n.more_paths { "+" } " more paths)" } }
                        @if n.child_count > 0 {
                            " " a href=(format!("{}?parent={}", tree_url(t), g.id)) { (n.child_count) " child group" @if n.child_count != 1 { "s" } }
                        }
                    }
                }
            }
        }
    }))
}
