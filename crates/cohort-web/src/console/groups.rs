//! The groups pages: the list (search, filters, pages) here; creating a group (`new`) and a
//! group's page with its tabs (`members`, `settings`) in their own files.

mod members;
mod nesting;
mod new;
mod settings;

use members::{add_member, confirm_remove, edit_member, members, remove_member, remove_several};
pub(super) use new::find_group;
use new::{create, new_form};
use settings::{archive, change_parents, confirm_delete, delete, save_settings, settings, unarchive};

use super::frame::{fail, group_url, notice, source_badge, status_badge};
use super::layout::{self, Section, groups_url};
use crate::shared::AppState;
use crate::sign_in::Signed;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cohort_core::GroupId;
use cohort_core::model::{GroupSource, GroupStatus};
use cohort_core::permission::CohortPermission as P;
use cohort_store::GroupFilter;
use maud::html;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/groups";
    Router::new()
        .route(base, get(list).post(create))
        .route(&format!("{base}/new"), get(new_form))
        .route(&format!("{base}/{{group}}"), get(members))
        .route(&format!("{base}/{{group}}/members"), axum::routing::post(add_member))
        .route(&format!("{base}/{{group}}/members/{{user}}/remove"), get(confirm_remove).post(remove_member))
        .route(&format!("{base}/{{group}}/members/{{user}}/edit"), axum::routing::post(edit_member))
        .route(&format!("{base}/{{group}}/members/remove"), axum::routing::post(remove_several))
        .route(&format!("{base}/{{group}}/settings"), get(settings).post(save_settings))
        .route(&format!("{base}/{{group}}/parents"), axum::routing::post(change_parents))
        .route(&format!("{base}/{{group}}/archive"), axum::routing::post(archive))
        .route(&format!("{base}/{{group}}/unarchive"), axum::routing::post(unarchive))
        .route(&format!("{base}/{{group}}/delete"), get(confirm_delete).post(delete))
}

/// Groups on one page of the list.
const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    parent: String,
    cursor: Option<String>,
    done: Option<String>,
}

async fn list(State(s): State<AppState>, signed: Signed, Query(q): Query<ListQuery>) -> Response {
    let t = signed.tenant.clone();
    let mut bad = Vec::new();
    let status = (!q.status.is_empty())
        .then(|| GroupStatus::parse("status", &q.status).map_err(|e| bad.push(e)))
        .and_then(Result::ok);
    let source = (!q.source.is_empty())
        .then(|| GroupSource::parse("source", &q.source).map_err(|e| bad.push(e)))
        .and_then(Result::ok);
    let parent =
        (!q.parent.is_empty()).then(|| GroupId::parse(&q.parent).map_err(|e| bad.push(e))).and_then(Result::ok);
    if let Some(e) = bad.pop() {
        return fail(&signed, e.into());
    }
    let after = match q.cursor.as_deref().map(crate::cursor::decode).transpose() {
        Ok(a) => a,
        Err(e) => return fail(&signed, e),
    };
    let reader = signed.holdings.can(P::GroupsRead);
    let (groups, next) = if reader {
        let filter = GroupFilter {
            q: (!q.q.trim().is_empty()).then(|| q.q.trim().to_owned()),
            status,
            source,
            parent: parent.clone(),
            after,
            limit: PAGE,
            roots: false,
        };
        match s.list_groups(&signed.ctx, &filter).await {
            Ok(g) => {
                let next = crate::cursor::next(&g, PAGE, |(g, _)| (g.name.key(), g.id.to_string()));
                (g, next)
            }
            Err(e) => return fail(&signed, e),
        }
    } else {
        // A group manager sees the groups they manage.
        let mut groups = Vec::new();
        for id in &signed.holdings.manages {
            match s.get_group(&signed.ctx, id).await {
                Ok(g) => groups.push(g),
                Err(e) => return fail(&signed, e),
            }
        }
        (groups, None)
    };
    let parent_name = match &parent {
        Some(p) => s.get_group(&signed.ctx, p).await.ok().map(|(g, _)| g.name.to_string()),
        None => None,
    };
    let ids: Vec<GroupId> = groups.iter().map(|(g, _)| g.id.clone()).collect();
    let kids = match s.child_counts(&signed.ctx, &ids).await {
        Ok(k) => k,
        Err(e) => return fail(&signed, e),
    };
    let writer = signed.holdings.can(P::GroupsWrite);
    let batch = if writer && !groups.is_empty() { Some(super::batch::controls(&s, &signed).await) } else { None };
    let filtered = !q.q.is_empty() || status.is_some() || source.is_some() || parent.is_some();
    let keep = |cursor: &str| {
        let mut pairs: Vec<(&str, &str)> =
            vec![("q", &q.q), ("status", &q.status), ("source", &q.source), ("parent", &q.parent)];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.push(("cursor", cursor));
        serde_html_form::to_string(&pairs).unwrap_or_default()
    };
    let body = html! {
        div.heading {
            h1 { "Groups" }
            div.row-actions {
                @if reader { a.button href=(format!("{}/tree", groups_url(&t))) { "Tree view" } }
                @if writer { a.button.primary href=(format!("{}/new", groups_url(&t))) { "Create group" } }
            }
        }
        (notice(q.done.as_deref()))
        @if reader {
            form.filters method="get" action=(groups_url(&t)) role="search" {
                div.field {
                    label for="q" { "Search" }
                    input #q type="search" name="q" value=(q.q) placeholder="Name or slug";
                }
                div.field {
                    label for="status" { "Status" }
                    select #status name="status" {
                        option value="" selected[status.is_none()] { "Any" }
                        option value="active" selected[status == Some(GroupStatus::Active)] { "Active" }
                        option value="archived" selected[status == Some(GroupStatus::Archived)] { "Archived" }
                    }
                }
                div.field {
                    label for="source" { "Source" }
                    select #source name="source" {
                        option value="" selected[source.is_none()] { "Any" }
                        @for src in [GroupSource::Local, GroupSource::Scim, GroupSource::Sso] {
                            option value=(src.as_str()) selected[source == Some(src)] { (src.as_str()) }
                        }
                    }
                }
                @if let Some(p) = &parent {
                    input type="hidden" name="parent" value=(p.as_str());
                }
                button type="submit" { "Filter" }
                @if filtered { a href=(groups_url(&t)) { "Clear" } }
            }
            @if let Some(name) = &parent_name { p.muted { "Child groups of " strong { (name) } } }
        } @else {
            p.muted { "You manage these groups: you may add and remove their members and edit their descriptions." }
        }
        @if groups.is_empty() {
            div.empty {
                @if filtered {
                    p { "No group matches these filters." }
                    p.muted { "Archived groups are shown only with the status filter set to Archived or Any." }
                } @else if writer {
                    p { "No groups yet. Create one, then add its members and give it roles." }
                } @else {
                    p { "There are no groups you can see." }
                }
            }
        } @else {
            div.table-wrap {
                table {
                    caption.visually-hidden { "Groups" }
                    thead { tr { @if writer { th scope="col" { input type="checkbox" data-select-all aria-label="Select every group on this page"; } } th scope="col" { "Name" } th scope="col" { "Slug" } th scope="col" { "Status" } th scope="col" { "Source" } th scope="col" class="num" { "Members" } th scope="col" class="num" { "Child groups" } } }
                    tbody {
                        @for ((g, n), kids) in groups.iter().zip(&kids) {
                            tr {
                                @if writer { td { input type="checkbox" name="groups" value=(g.id.as_str()) form="batch" aria-label=(format!("Select {}", g.name)); } }
                                td { a href=(group_url(&t, &g.id)) { (g.name) } }
                                td { code { (g.slug) } }
                                td { (status_badge(g.status)) }
                                td { (source_badge(g.source)) }
                                td.num { (n) }
                                td.num {
                                    @if *kids == 0 { span.muted { "none" } }
                                    @else if reader { a href=(format!("{}?parent={}", groups_url(&t), g.id)) aria-label=(format!("The {kids} child groups of {}", g.name)) { (kids) } }
                                    @else { (kids) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(c) = &next {
                nav.pager aria-label="Pages" { a href=(format!("{}?{}", groups_url(&t), keep(c))) rel="next" { "Next page" } }
            }
            @if let Some(c) = &batch { (c) }
        }
    };
    layout::page(&signed, Section::Groups, "Groups", body).into_response()
}
