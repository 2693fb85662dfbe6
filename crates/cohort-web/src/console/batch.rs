//! Many groups at once: the rows ticked on the groups list, one edit for all of them, a page
//! that says what will change, and the batch service applying it all or nothing.

use super::confirm::users;
use super::frame::{fail, items, status_badge, user_by_email};
use super::layout::{self, Section, groups_url};
use crate::shared::AppState;
use crate::sign_in::Posted;
use crate::sign_in::Signed;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use cohort_core::model::{Group, MemberRole};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, ResourceId, RoleId, UserId};
use cohort_service::error::ServiceError;
use cohort_service::{BatchEdit, MAX_BATCH_GROUPS, Reach};
use cohort_store::ResourceFilter;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/groups/batch";
    Router::new().route(base, post(confirm)).route(&format!("{base}/apply"), post(apply))
}

/// The batch form: the ticked groups and the edit.
#[derive(Deserialize, Serialize, Default)]
pub(super) struct BatchForm {
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    users: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    level: String,
    /// The revision the review counted at, once reviewed.
    #[serde(default)]
    revision: String,
}

/// The edits the form offers, as (value, label).
const ACTIONS: [(&str, &str); 9] = [
    ("add-members", "Add members"),
    ("remove-members", "Remove members"),
    ("assign-role", "Assign a role"),
    ("remove-role", "Remove a role"),
    ("grant", "Grant a level"),
    ("revoke", "Revoke a grant"),
    ("archive", "Archive"),
    ("unarchive", "Unarchive"),
    ("delete", "Delete"),
];

/// The controls under the groups list that act on the ticked rows (`form="batch"` ties the
/// row checkboxes to it).
pub(super) async fn controls(s: &AppState, signed: &Signed) -> Markup {
    let roles = if signed.holdings.can(P::RolesRead) {
        s.list_roles(&signed.ctx, None, None, 200).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let filter = ResourceFilter { type_name: None, q: None, after: None, limit: 200 };
    let (resources, types) = if signed.holdings.can(P::ResourcesRead) {
        (
            s.list_resources(&signed.ctx, &filter).await.unwrap_or_default(),
            s.list_resource_types(&signed.ctx).await.unwrap_or_default(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    // Each field shows only for the actions that use it (`data-for`, by the stylesheet).
    html! {
        form #batch.card.batch method="post" action=(format!("{}/batch", groups_url(&signed.tenant))) aria-labelledby="batch-title" {
            h2 #batch-title { "Edit the selected groups" }
            (signed.csrf_field())
            div.inline {
                div.field {
                    label for="batch-action" { "Action" }
                    select #batch-action name="action" required {
                        option value="" { "Choose…" }
                        @for (v, l) in ACTIONS { option value=(v) { (l) } }
                    }
                }
                div.field data-for="add-members remove-members" {
                    label for="batch-users" { "Users" }
                    input #batch-users type="text" name="users" placeholder="Emails, separated by commas" data-picker="users";
                }
                @if !roles.is_empty() {
                    div.field data-for="assign-role remove-role" {
                        label for="batch-role" { "Role" }
                        select #batch-role name="role" {
                            option value="" { "Choose…" }
                            @for r in &roles { option value=(r.id.as_str()) { (r.name) } }
                        }
                    }
                }
                @if !resources.is_empty() {
                    div.field data-for="grant revoke" {
                        label for="batch-resource" { "Resource" }
                        select #batch-resource name="resource" {
                            option value="" { "Choose…" }
                            @for r in &resources { option value=(r.id.as_str()) data-type=(r.type_name) { (r.name) " (" (r.type_name) ")" } }
                        }
                    }
                    div.field data-for="grant" {
                        label for="batch-level" { "Level" }
                        select #batch-level name="level" data-levels-of="batch-resource" {
                            option value="" { "Choose…" }
                            @for t in &types {
                                optgroup label=(t.name) {
                                    @for l in t.levels.as_slice() { option value=(l.as_str()) data-type=(t.name) { (l.as_str()) } }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Review the change…" }
            }
            p.hint { "Tick the groups in the list, choose what to do, and review: you see what will change before anything does; the change is applied to every selected group or to none." }
        }
    }
}

/// The edit the form describes, and the sentence that says it.
async fn edit_of(s: &AppState, signed: &Signed, f: &BatchForm) -> Result<(BatchEdit, String), ServiceError> {
    let bad = |m: &str| ServiceError::BadRequest(m.to_owned());
    let users = async || {
        let mut found: Vec<(UserId, String)> = Vec::new();
        for text in items(&f.users) {
            match user_by_email(s, signed, text).await? {
                Some(u) => found.push((u.id.clone(), layout::person(&u))),
                None => return Err(ServiceError::BadRequest(format!("no user has the email `{text}`"))),
            }
        }
        if found.is_empty() {
            return Err(bad("name the users: their emails, separated by commas"));
        }
        Ok(found)
    };
    let role = async || {
        let id = RoleId::parse(&f.role).map_err(|_| bad("choose a role"))?;
        let r = s.get_role(&signed.ctx, &id).await?;
        Ok::<_, ServiceError>((id, r.name.to_string()))
    };
    let resource = async || {
        let id = ResourceId::parse(&f.resource).map_err(|_| bad("choose a resource"))?;
        let r = s.get_resource(&signed.ctx, &id).await?;
        Ok::<_, ServiceError>((id, r.name.to_string()))
    };
    let names = |us: &[(UserId, String)]| us.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", ");
    Ok(match f.action.as_str() {
        "add-members" => {
            let us = users().await?;
            let said = format!("Add {} as members", names(&us));
            (
                BatchEdit::AddMembers {
                    users: us.into_iter().map(|(u, _)| u).collect(),
                    role: MemberRole::Member,
                    expires_at: None,
                },
                said,
            )
        }
        "remove-members" => {
            let us = users().await?;
            let said = format!("Remove {} (the rows added by hand)", names(&us));
            (BatchEdit::RemoveMembers(us.into_iter().map(|(u, _)| u).collect()), said)
        }
        "assign-role" => {
            let (id, name) = role().await?;
            (BatchEdit::AssignRole(id), format!("Assign the role {name}"))
        }
        "remove-role" => {
            let (id, name) = role().await?;
            (BatchEdit::RemoveRole(id), format!("Remove the role {name}"))
        }
        "grant" => {
            let (id, name) = resource().await?;
            let level = f.level.trim().to_owned();
            if level.is_empty() {
                return Err(bad("choose the level to grant"));
            }
            let type_name = s.get_resource(&signed.ctx, &id).await?.type_name;
            let types = s.list_resource_types(&signed.ctx).await?;
            let levels: Vec<&str> = types
                .iter()
                .filter(|t| t.name == type_name)
                .flat_map(|t| t.levels.as_slice().iter().map(|l| l.as_str()))
                .collect();
            if !levels.contains(&level.as_str()) {
                return Err(bad(&format!(
                    "{name} is a {type_name}, whose levels are {}; `{level}` is not one of them",
                    levels.join(", ")
                )));
            }
            let said = format!("Grant {level} on {name}");
            (BatchEdit::Grant(id, level), said)
        }
        "revoke" => {
            let (id, name) = resource().await?;
            (BatchEdit::Revoke(id), format!("Revoke the grant on {name}"))
        }
        "archive" => (BatchEdit::Archive, "Archive: they keep their members and grants but confer nothing".to_owned()),
        "unarchive" => (BatchEdit::Unarchive, "Unarchive".to_owned()),
        "delete" => {
            (BatchEdit::Delete, "Delete, with their memberships, roles, grants, scopes, rules and nesting".to_owned())
        }
        "" => return Err(bad("choose what to do to the ticked groups")),
        other => return Err(ServiceError::BadRequest(format!("`{other}` is not an action"))),
    })
}

/// The ticked groups, read.
async fn chosen(s: &AppState, signed: &Signed, f: &BatchForm) -> Result<Vec<(Group, i64)>, ServiceError> {
    if f.groups.is_empty() {
        return Err(ServiceError::BadRequest(
            "no group is ticked: tick the groups to edit in the list first".to_owned(),
        ));
    }
    if f.groups.len() > MAX_BATCH_GROUPS {
        return Err(ServiceError::BadRequest(format!("select at most {MAX_BATCH_GROUPS} groups")));
    }
    let mut out = Vec::new();
    for raw in &f.groups {
        let id = GroupId::parse(raw).map_err(|_| ServiceError::NotFound(format!("group `{raw}`")))?;
        out.push(s.get_group(&signed.ctx, &id).await?);
    }
    Ok(out)
}

async fn confirm(State(s): State<AppState>, Posted(signed, f): Posted<BatchForm>) -> Response {
    review(&s, &signed, f, false).await
}

/// The review: what the edit does, to which groups, and how many users that reaches, counted
/// at the revision its confirmation carries (`moved`: asked again, the tenant having moved on).
async fn review(s: &AppState, signed: &Signed, mut f: BatchForm, moved: bool) -> Response {
    let read = async {
        let groups = chosen(s, signed, &f).await?;
        let (edit, said) = edit_of(s, signed, &f).await?;
        let ids: Vec<GroupId> = groups.iter().map(|(g, _)| g.id.clone()).collect();
        // Tried first: someone who may not make the edit is refused now, not after reviewing.
        s.batch_edit_groups(&signed.ctx.trying(), &ids, &edit).await?;
        let reached = s.users_reached(&signed.ctx, &Reach::Groups(ids)).await?;
        Ok::<_, ServiceError>((groups, edit, said, reached))
    }
    .await;
    let (groups, edit, said, reached) = match read {
        Ok(v) => v,
        Err(ServiceError::BadRequest(m)) => return not_reviewed(signed, &m),
        Err(e) => return fail(signed, e),
    };
    f.revision = reached.revision.to_string();
    let hidden = serde_html_form::to_string(&f).unwrap_or_default();
    let fields: Vec<(String, String)> = serde_html_form::from_str(&hidden).unwrap_or_default();
    let danger = matches!(edit, BatchEdit::Delete);
    let n = groups.len();
    let body = html! {
        h1 { "Edit " (n) " group" @if n != 1 { "s" } "?" }
        p { strong { (said) } ", in each of these groups:" }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Group" } th scope="col" { "Status" } th scope="col" class="num" { "Members" } } }
            tbody { @for (g, c) in &groups { tr { td { (g.name) } td { (status_badge(g.status)) } td.num { (c) } } } }
        } }
        @if moved {
            p.error role="alert" { "Something changed in this tenant since you reviewed, so nothing was applied. It was counted again below: check and apply again." }
        }
        p.reach { strong { (users(reached.users)) } " are in these groups or the groups below them: " (reach_words(&edit)) "." }
        p { "It is applied to all of them or, if any step is refused, to none." }
        form.actions method="post" action=(format!("{}/batch/apply", groups_url(&signed.tenant))) {
            @for (k, v) in &fields { input type="hidden" name=(k) value=(v); }
            (signed.csrf_field())
            button.primary.danger[danger] type="submit" { "Apply to " (n) " group" @if n != 1 { "s" } }
            a href=(groups_url(&signed.tenant)) { "Cancel" }
        }
    };
    let status = if moved { axum::http::StatusCode::CONFLICT } else { axum::http::StatusCode::OK };
    (status, layout::page(signed, Section::Groups, "Edit groups", body)).into_response()
}

/// The review's answer to a form it cannot review: what is missing, and the way back.
fn not_reviewed(signed: &Signed, message: &str) -> Response {
    let body = html! {
        h1 { "Nothing to review yet" }
        p.error role="alert" { (message[..1].to_uppercase()) (message[1..]) "." }
        p { a href=(groups_url(&signed.tenant)) { "Back to the groups" } }
    };
    let page = layout::page(signed, Section::Groups, "Edit groups", body);
    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

async fn apply(State(s): State<AppState>, Posted(signed, f): Posted<BatchForm>) -> Response {
    let Ok(revision) = f.revision.parse::<i64>() else { return review(&s, &signed, f, false).await };
    let done = async {
        let groups: Vec<GroupId> = chosen(&s, &signed, &f).await?.into_iter().map(|(g, _)| g.id).collect();
        let (edit, _) = edit_of(&s, &signed, &f).await?;
        s.batch_edit_groups(&signed.ctx.confirmed_at(revision), &groups, &edit).await
    }
    .await;
    match done {
        Ok(_) => Redirect::to(&format!("{}?done=batch", groups_url(&signed.tenant))).into_response(),
        Err(ServiceError::PreconditionFailed(_)) => review(&s, &signed, f, true).await,
        Err(e) => fail(&signed, e),
    }
}

/// What the edit does to the users it reaches.
fn reach_words(edit: &BatchEdit) -> &'static str {
    match edit {
        BatchEdit::AddMembers { .. } | BatchEdit::RemoveMembers(_) => "only the users named change",
        BatchEdit::AssignRole(_) => "they would hold the role",
        BatchEdit::RemoveRole(_) => "they would lose what the role gives through these groups",
        BatchEdit::Grant(..) => "they would hold the level",
        BatchEdit::Revoke(_) => "they would lose the level held through these groups",
        BatchEdit::Archive | BatchEdit::Delete => "they would lose what these groups confer",
        BatchEdit::Unarchive => "they would hold what these groups confer again",
    }
}
