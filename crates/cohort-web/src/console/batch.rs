//! Many groups at once: the rows ticked on the groups list, one edit for all of them, a page
//! that says what will change, and the batch service applying it all or nothing.

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
use cohort_service::{BatchEdit, MAX_BATCH_GROUPS};
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
    let resources = if signed.holdings.can(P::ResourcesRead) {
        s.list_resources(&signed.ctx, &filter).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    html! {
        form #batch.card.batch method="post" action=(format!("{}/batch", groups_url(&signed.tenant))) aria-labelledby="batch-title" {
            h2 #batch-title { "Edit the selected groups" }
            (signed.csrf_field())
            div.inline {
                div.field {
                    label for="batch-action" { "Action" }
                    select #batch-action name="action" required {
                        @for (v, l) in ACTIONS { option value=(v) { (l) } }
                    }
                }
                div.field {
                    label for="batch-users" { "Users " span.muted { "(to add or remove)" } }
                    input #batch-users type="text" name="users" placeholder="Emails, separated by commas" data-picker="users";
                }
                @if !roles.is_empty() {
                    div.field {
                        label for="batch-role" { "Role" }
                        select #batch-role name="role" {
                            option value="" { "—" }
                            @for r in &roles { option value=(r.id.as_str()) { (r.name) } }
                        }
                    }
                }
                @if !resources.is_empty() {
                    div.field {
                        label for="batch-resource" { "Resource" }
                        select #batch-resource name="resource" {
                            option value="" { "—" }
                            @for r in &resources { option value=(r.id.as_str()) { (r.name) " (" (r.type_name) ")" } }
                        }
                    }
                    div.field {
                        label for="batch-level" { "Level" }
                        input #batch-level type="text" name="level" placeholder="use";
                    }
                }
                button type="submit" { "Review the change…" }
            }
            p.hint { "You see what will change before anything does; the change is applied to every selected group or to none." }
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
                return Err(bad("name the level to grant"));
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
        other => return Err(ServiceError::BadRequest(format!("`{other}` is not an action"))),
    })
}

/// The ticked groups, read.
async fn chosen(s: &AppState, signed: &Signed, f: &BatchForm) -> Result<Vec<(Group, i64)>, ServiceError> {
    if f.groups.is_empty() {
        return Err(ServiceError::BadRequest("select at least one group".to_owned()));
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
    let read = async {
        let groups = chosen(&s, &signed, &f).await?;
        let (edit, said) = edit_of(&s, &signed, &f).await?;
        let mut affected = 0;
        if matches!(edit, BatchEdit::Delete | BatchEdit::Archive) {
            for (g, _) in &groups {
                let (direct, inherited) = s.effective_member_counts(&signed.ctx, &g.id).await?;
                affected += direct + inherited;
            }
        }
        Ok::<_, ServiceError>((groups, edit, said, affected))
    }
    .await;
    let (groups, edit, said, affected) = match read {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
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
        @if matches!(edit, BatchEdit::Delete | BatchEdit::Archive) {
            p { strong { (affected) } " membership" @if affected != 1 { "s" } " (direct and through child groups) stop conferring access through these groups." }
        }
        p { "It is applied to all of them or, if any step is refused, to none." }
        form.actions method="post" action=(format!("{}/batch/apply", groups_url(&signed.tenant))) {
            @for (k, v) in &fields { input type="hidden" name=(k) value=(v); }
            (signed.csrf_field())
            button.primary.danger[danger] type="submit" { "Apply to " (n) " group" @if n != 1 { "s" } }
            a href=(groups_url(&signed.tenant)) { "Cancel" }
        }
    };
    layout::page(&signed, Section::Groups, "Edit groups", body).into_response()
}

async fn apply(State(s): State<AppState>, Posted(signed, f): Posted<BatchForm>) -> Response {
    let done = async {
        let groups: Vec<GroupId> = chosen(&s, &signed, &f).await?.into_iter().map(|(g, _)| g.id).collect();
        let (edit, _) = edit_of(&s, &signed, &f).await?;
        s.batch_edit_groups(&signed.ctx, &groups, &edit).await
    }
    .await;
    match done {
        Ok(_) => Redirect::to(&format!("{}?done=batch", groups_url(&signed.tenant))).into_response(),
        Err(e) => fail(&signed, e),
    }
}
