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
    parent: String,
    cursor: Option<String>,
    #[serde(default)]
    fragment: bool,
}

/// One level of the tree: its groups, each with the control that opens its children, and the
/// control that loads the next page of the level.
fn level(t: &str, parent: Option<&GroupId>, groups: &[(Group, i64)], next: Option<&str>) -> Markup {
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
            @for (g, n) in groups {
                li {
                    a.toggle href=(format!("{base}?parent={}", g.id)) data-children=(format!("{base}?parent={}&fragment=true", g.id)) aria-expanded="false" aria-label=(format!("Child groups of {}", g.name)) { "▸" }
                    " " a href=(group_url(t, &g.id)) { (g.name) }
                    " " span.muted { (n) " member" @if *n != 1 { "s" } }
                    @if g.status == GroupStatus::Archived { " " (status_badge(g.status)) }
                }
            }
            @if let Some(c) = next {
                li.more { a href=(at(Some(c), false)) data-more=(at(Some(c), true)) { "More groups" } }
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
        Ok::<_, ServiceError>((parent_group, groups))
    }
    .await;
    let (parent, groups) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let t = &signed.tenant;
    let next = crate::cursor::next(&groups, PAGE, |(g, _)| (g.name.key(), g.id.to_string()));
    let items = level(t, parent.as_ref().map(|g| &g.id), &groups, next.as_deref());
    if q.fragment {
        return items.into_response();
    }
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
        (items)
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
