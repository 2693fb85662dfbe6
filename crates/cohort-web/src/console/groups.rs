//! The groups pages: the list (search, filters, pages), creating a group with its parents, roles
//! and first members, and a group's page with its tabs (members, settings).

use super::frame::{
    Tab, fail, form_errors, group_frame, group_id, group_url, items, load, notice, source_badge, status_badge,
    user_by_email,
};
use super::layout::{self, Section, badge, described, field_error, groups_url, person, reason, time_left, when};
use crate::shared::AppState;
use crate::sign_in::Signed;
use crate::sign_in::{self, Posted};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use cohort_core::model::{Group, GroupSource, GroupStatus, MemberRole, MembershipSource};
use cohort_core::name::{Description, Email, GroupSlug, MemberTypes, Name, ShortText};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, RoleId, UserId};
use cohort_service::error::ServiceError;
use cohort_service::{Expect, GroupPatch, NewGroup, NewMember};
use cohort_store::{GroupFilter, MembershipFilter};
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
        .route(&format!("{base}/{{group}}/settings"), get(settings).post(save_settings))
        .route(&format!("{base}/{{group}}/archive"), axum::routing::post(archive))
        .route(&format!("{base}/{{group}}/unarchive"), axum::routing::post(unarchive))
        .route(&format!("{base}/{{group}}/delete"), get(confirm_delete).post(delete))
}

/// Groups on one page of the list.
const PAGE: i64 = 50;
/// Members on one page of the members tab.
const MEMBERS_PAGE: i64 = 100;

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
                    thead { tr { @if writer { th scope="col" { input type="checkbox" data-select-all aria-label="Select every group on this page"; } } th scope="col" { "Name" } th scope="col" { "Slug" } th scope="col" { "Status" } th scope="col" { "Source" } th scope="col" class="num" { "Members" } th scope="col" { "Children" } } }
                    tbody {
                        @for (g, n) in &groups {
                            tr {
                                @if writer { td { input type="checkbox" name="groups" value=(g.id.as_str()) form="batch" aria-label=(format!("Select {}", g.name)); } }
                                td { a href=(group_url(&t, &g.id)) { (g.name) } }
                                td { code { (g.slug) } }
                                td { (status_badge(g.status)) }
                                td { (source_badge(g.source)) }
                                td.num { (n) }
                                td { @if reader { a href=(format!("{}?parent={}", groups_url(&t), g.id)) aria-label=(format!("Children of {}", g.name)) { "Children" } } }
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

/// What the create form was given, to show again beside its errors.
#[derive(Deserialize, Default)]
pub(super) struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parents: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    members: String,
}

async fn new_form(State(s): State<AppState>, signed: Signed) -> Response {
    create_page(&s, &signed, &CreateForm::default(), &[]).await
}

async fn create_page(s: &AppState, signed: &Signed, f: &CreateForm, errors: &[(String, String)]) -> Response {
    let t = &signed.tenant;
    let roles = if signed.holdings.can(P::RolesRead) {
        s.list_roles(&signed.ctx, None, None, 200).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let general: Vec<&(String, String)> = errors
        .iter()
        .filter(|(f, _)| !["name", "slug", "description", "parents", "roles", "members"].contains(&f.as_str()))
        .collect();
    let body = html! {
        h1 { "Create group" }
        @if !errors.is_empty() {
            div.error role="alert" {
                p { "The group was not created. Correct the fields marked below." }
                @for (field, m) in &general { p { (field) ": " (m) } }
            }
        }
        form.stack method="post" action=(groups_url(t)) novalidate {
            (signed.csrf_field())
            div.field {
                label for="name" { "Name" }
                input #name type="text" name="name" value=(f.name) required maxlength="128" aria-describedby=[described(errors, "name")] aria-invalid=[described(errors, "name").map(|_| "true")];
                (field_error(errors, "name"))
            }
            div.field {
                label for="slug" { "Slug " span.muted { "(optional)" } }
                input #slug type="text" name="slug" value=(f.slug) maxlength="64" pattern="[a-z0-9-]{1,64}" aria-describedby=(described(errors, "slug").unwrap_or_else(|| "slug-hint".to_owned()));
                p.hint #slug-hint { "Lowercase letters, digits and dashes; derived from the name when left empty." }
                (field_error(errors, "slug"))
            }
            div.field {
                label for="description" { "Description" }
                textarea #description name="description" rows="3" maxlength="2000" { (f.description) }
                (field_error(errors, "description"))
            }
            div.field {
                label for="parents" { "Parent groups " span.muted { "(optional)" } }
                input #parents type="text" name="parents" value=(f.parents) list="group-options" data-picker="groups" aria-describedby=(described(errors, "parents").unwrap_or_else(|| "parents-hint".to_owned()));
                datalist #group-options {}
                p.hint #parents-hint { "Slugs or names of active groups, separated by commas. Members of this group inherit everything its parents confer. Archived groups cannot be parents." }
                (field_error(errors, "parents"))
            }
            @if !roles.is_empty() {
                fieldset.field {
                    legend { "Roles" }
                    @for r in &roles {
                        label.check {
                            input type="checkbox" name="roles" value=(r.id.as_str()) checked[f.roles.iter().any(|x| x == r.id.as_str())];
                            " " (r.name)
                        }
                    }
                    (field_error(errors, "roles"))
                }
            }
            div.field {
                label for="members" { "First members " span.muted { "(optional)" } }
                textarea #members name="members" rows="4" aria-describedby=(described(errors, "members").unwrap_or_else(|| "members-hint".to_owned())) { (f.members) }
                p.hint #members-hint { "Email addresses, one to a line; each joins as a member." }
                (field_error(errors, "members"))
            }
            div.actions {
                button.primary type="submit" { "Create group" }
                a href=(groups_url(t)) { "Cancel" }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, layout::page(signed, Section::Groups, "Create group", body)).into_response()
}

/// A group named by slug or name, among those a picker offers (active ones).
pub(super) async fn find_group(s: &AppState, signed: &Signed, text: &str) -> Result<Option<Group>, ServiceError> {
    let filter = GroupFilter {
        q: Some(text.to_owned()),
        status: Some(GroupStatus::Active),
        source: None,
        parent: None,
        after: None,
        limit: 20,
        roots: false,
    };
    let key = text.to_lowercase();
    let found = s.list_groups(&signed.ctx, &filter).await?;
    Ok(found.into_iter().map(|(g, _)| g).find(|g| g.slug.as_str() == key || g.name.key() == key))
}

async fn create(State(s): State<AppState>, Posted(signed, f): Posted<CreateForm>) -> Response {
    let mut errors: Vec<(String, String)> = Vec::new();
    let bad = |field: &str| {
        let field = field.to_owned();
        move |e| (field, reason(e))
    };
    let name = Name::parse("name", &f.name).map_err(bad("name"));
    let slug = if f.slug.trim().is_empty() {
        Ok(None)
    } else {
        GroupSlug::parse(f.slug.trim()).map(Some).map_err(bad("slug"))
    };
    let description = Description::parse(&f.description).map_err(bad("description"));
    let roles: Result<Vec<RoleId>, _> = f.roles.iter().map(|r| RoleId::parse(r).map_err(bad("roles"))).collect();
    let (name, slug, description, roles) = (
        name.map_err(|e| errors.push(e)).ok(),
        slug.map_err(|e| errors.push(e)).ok(),
        description.map_err(|e| errors.push(e)).ok(),
        roles.map_err(|e| errors.push(e)).ok(),
    );
    let mut parents = std::collections::BTreeSet::new();
    for p in items(&f.parents) {
        match find_group(&s, &signed, p).await {
            Ok(Some(g)) => {
                parents.insert(g.id);
            }
            Ok(None) => errors.push(("parents".to_owned(), format!("no active group has the slug or name `{p}`"))),
            Err(e) => return fail(&signed, e),
        }
    }
    let mut members = Vec::new();
    for m in items(&f.members) {
        let found = match user_by_email(&s, &signed, m).await {
            Ok(u) => u,
            Err(e) => return fail(&signed, e),
        };
        match found {
            Some(u) => members.push(NewMember {
                user_id: u.id,
                role: MemberRole::Member,
                expires_at: None,
                reason: ShortText::empty(),
            }),
            None => errors.push(("members".to_owned(), format!("no user has the email `{m}`"))),
        }
    }
    let (Some(name), Some(slug), Some(description), Some(roles)) = (name, slug, description, roles) else {
        return create_page(&s, &signed, &f, &errors).await;
    };
    if !errors.is_empty() {
        return create_page(&s, &signed, &f, &errors).await;
    }
    let input = NewGroup {
        members,
        roles,
        parent_ids: parents,
        description,
        slug,
        ..NewGroup::named(name, GroupSource::Local)
    };
    match s.create_group(&signed.ctx, input).await {
        Ok(w) => Redirect::to(&format!("{}?done=created", group_url(&signed.tenant, &w.value.0.id))).into_response(),
        Err(e) => match form_errors(&e, &[("parentIds", "parents"), ("roleIds", "roles"), ("members", "members")]) {
            Some(errors) => create_page(&s, &signed, &f, &errors).await,
            None => fail(&signed, e),
        },
    }
}

#[derive(Deserialize, Default)]
pub(super) struct MembersQuery {
    cursor: Option<String>,
    done: Option<String>,
}

/// What the add-member form was given.
#[derive(Deserialize, Default)]
pub(super) struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    reason: String,
}

async fn members(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<MembersQuery>,
) -> Response {
    members_page(&s, &signed, &group, q, &AddForm::default(), &[]).await
}

async fn members_page(
    s: &AppState,
    signed: &Signed,
    group: &str,
    q: MembersQuery,
    add: &AddForm,
    errors: &[(String, String)],
) -> Response {
    let result = async {
        let id = group_id(group)?;
        let (g, count) = s.get_group(&signed.ctx, &id).await?;
        let after_user = match q.cursor.as_deref().map(crate::cursor::decode).transpose()? {
            Some(a) => {
                Some(UserId::parse(&a.id).map_err(|_| ServiceError::BadRequest("the cursor is not valid".to_owned()))?)
            }
            None => None,
        };
        let rows =
            s.list_members_with_users(&signed.ctx, &id, &MembershipFilter { after_user, limit: MEMBERS_PAGE }).await?;
        let effective = s.effective_member_counts(&signed.ctx, &id).await?;
        Ok::<_, ServiceError>((g, count, rows, effective))
    }
    .await;
    let (g, count, rows, effective) = match result {
        Ok(v) => v,
        Err(e) => return fail(signed, e),
    };
    let t = &signed.tenant;
    let url = group_url(t, &g.id);
    let now = s.now();
    let may_edit = signed.holdings.edits_members_of(&g.id) && g.status == GroupStatus::Active;
    let managers = signed.holdings.can(P::GroupsWrite);
    let distinct_users: std::collections::BTreeSet<&UserId> = rows.iter().map(|(m, _)| &m.user_id).collect();
    let next = (distinct_users.len() as i64 == MEMBERS_PAGE)
        .then(|| distinct_users.last().map(|u| crate::cursor::encode("", u.as_str())))
        .flatten();
    let (direct, inherited) = effective;
    let body = html! {
        @if may_edit {
            section.card aria-labelledby="add-title" {
                h2 #add-title { "Add a member" }
                @if !errors.is_empty() { p.error role="alert" { "The member was not added." } }
                form.inline method="post" action=(format!("{url}/members")) {
                    (signed.csrf_field())
                    div.field {
                        label for="email" { "Email" }
                        input #email type="email" name="email" value=(add.email) required autocomplete="off" data-picker="users" aria-describedby=[described(errors, "email")];
                        (field_error(errors, "email"))
                    }
                    div.field {
                        label for="role" { "Role" }
                        select #role name="role" {
                            option value="member" selected[add.role != "manager"] { "Member" }
                            @if managers { option value="manager" selected[add.role == "manager"] { "Manager" } }
                        }
                        (field_error(errors, "role"))
                    }
                    div.field {
                        label for="expires" { "Expires " span.muted { "(optional, UTC)" } }
                        input #expires type="datetime-local" name="expires" value=(add.expires) aria-describedby=[described(errors, "expiresAt")];
                        (field_error(errors, "expiresAt"))
                    }
                    div.field {
                        label for="reason" { "Reason " span.muted { "(optional)" } }
                        input #reason type="text" name="reason" value=(add.reason) maxlength="200";
                        (field_error(errors, "reason"))
                    }
                    button.primary type="submit" { "Add member" }
                }
            }
        }
        h2 { "Direct members" }
        @if rows.is_empty() {
            div.empty {
                p { "No one is in this group yet." }
                @if may_edit { p.muted { "Add people above; rules, SCIM and sign-in can add them too." } }
            }
        } @else {
            div.table-wrap {
                table {
                    caption.visually-hidden { "Direct members" }
                    thead { tr { th scope="col" { "User" } th scope="col" { "Role" } th scope="col" { "Source" } th scope="col" { "Expires" } th scope="col" { "Added" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for (m, u) in &rows {
                            tr {
                                td { (person(u)) @if !u.display_name.as_str().is_empty() { br; span.muted { (u.display_name) } } }
                                td { (m.role.as_str()) }
                                td { (badge("source", m.source.as_str())) }
                                td { @if let Some(at) = m.expires_at { span title=(when(at)) { (time_left(now, at)) } } @else { span.muted { "never" } } }
                                td { (when(m.added_at)) @if !m.reason.as_str().is_empty() { br; span.muted { (m.reason) } } }
                                td {
                                    @if may_edit && m.source.hand_editable() && (managers || m.role == MemberRole::Member) {
                                        a href=(format!("{url}/members/{}/remove", u.id)) aria-label=(format!("Remove {} from {}", person(u), g.name)) { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(c) = &next { nav.pager aria-label="Pages" { a href=(format!("{url}?cursor={c}")) rel="next" { "Next page" } } }
        }
        h2 { "Effective members" }
        p.muted { (direct + inherited) " user" @if direct + inherited != 1 { "s" } " get what this group confers: " (direct) " directly, " (inherited) " through child groups." }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, group_frame(signed, &g, count, Tab::Members, q.done.as_deref(), body)).into_response()
}

async fn add_member(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<AddForm>,
) -> Response {
    let id = match group_id(&group) {
        Ok(id) => id,
        Err(e) => return fail(&signed, e),
    };
    let mut errors = Vec::new();
    let role = match f.role.as_str() {
        "" | "member" => MemberRole::Member,
        "manager" => MemberRole::Manager,
        other => {
            errors.push(("role".to_owned(), format!("`{other}` is not a role: choose member or manager")));
            MemberRole::Member
        }
    };
    let expires_at = super::catalog::local_time("expiresAt", &f.expires).unwrap_or_else(|_| {
        errors.push(("expiresAt".to_owned(), format!("`{}` is not a date and time", f.expires.trim())));
        None
    });
    let reason = match ShortText::parse("reason", &f.reason, false) {
        Ok(r) => r,
        Err(e) => {
            errors.push(("reason".to_owned(), reason(e)));
            ShortText::empty()
        }
    };
    let user = match Email::parse(&f.email) {
        Ok(email) => match s.user_to_add(&signed.ctx, &id, &email).await {
            Ok(u) => Some(u),
            Err(e) => match form_errors(&e, &[]) {
                Some(mut es) => {
                    errors.append(&mut es);
                    None
                }
                None => return fail(&signed, e),
            },
        },
        Err(_) => {
            errors.push(("email".to_owned(), format!("`{}` is not a valid email address", f.email.trim())));
            None
        }
    };
    let q = MembersQuery::default();
    let Some(user) = user.filter(|_| errors.is_empty()) else {
        return members_page(&s, &signed, &group, q, &f, &errors).await;
    };
    let input = NewMember { user_id: user.id, role, expires_at, reason };
    match s.add_member(&signed.ctx, &id, input).await {
        Ok(_) => Redirect::to(&format!("{}?done=added", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => match form_errors(&e, &[("userId", "email")]) {
            Some(errors) => members_page(&s, &signed, &group, q, &f, &errors).await,
            None => fail(&signed, e),
        },
    }
}

async fn confirm_remove(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group, user)): Path<(String, String, String)>,
) -> Response {
    let found = async {
        let id = group_id(&group)?;
        let uid = UserId::parse(&user).map_err(|_| ServiceError::NotFound(format!("user `{user}`")))?;
        let (g, _) = s.get_group(&signed.ctx, &id).await?;
        let u = s.direct_member(&signed.ctx, &id, &uid).await?;
        Ok::<_, ServiceError>((g, u))
    }
    .await;
    let (g, u) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let url = group_url(&signed.tenant, &g.id);
    let body = html! {
        h1 { "Remove " (person(&u)) " from " (g.name) "?" }
        p { "They lose what " (g.name) " confers, unless they are in it another way (a rule, SCIM or sign-in) or hold it through another group." }
        form.actions method="post" action=(format!("{url}/members/{}/remove", u.id)) {
            (signed.csrf_field())
            button.danger type="submit" { "Remove" }
            a href=(url) { "Cancel" }
        }
    };
    layout::page(&signed, Section::Groups, "Remove member", body).into_response()
}

async fn remove_member(
    State(s): State<AppState>,
    Path((_, group, user)): Path<(String, String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    let done = async {
        let id = group_id(&group)?;
        let uid = UserId::parse(&user).map_err(|_| ServiceError::NotFound(format!("user `{user}`")))?;
        s.remove_member(&signed.ctx, &id, &uid, MembershipSource::Manual).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("{}?done=removed", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => fail(&signed, e),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    apply_privileges: Option<String>,
    notify_members: Option<String>,
}

async fn settings(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<MembersQuery>,
) -> Response {
    match load(&s, &signed, &group).await {
        Ok((g, n)) => settings_page(&signed, &g, n, None, &[], q.done.as_deref()),
        Err(e) => fail(&signed, e),
    }
}

fn settings_page(
    signed: &Signed,
    g: &Group,
    count: i64,
    f: Option<&SettingsForm>,
    errors: &[(String, String)],
    done: Option<&str>,
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
            @if writer {
                section.card.danger-zone aria-labelledby="status-title" {
                    h2 #status-title { "Archive or delete" }
                    @if g.status == GroupStatus::Active {
                        form method="post" action=(format!("{url}/archive")) {
                            (signed.csrf_field())
                            p { "Archiving keeps members and grants but stops the group conferring anything." }
                            button type="submit" { "Archive" }
                        }
                    } @else {
                        form method="post" action=(format!("{url}/unarchive")) {
                            (signed.csrf_field())
                            button type="submit" { "Unarchive" }
                        }
                    }
                    p { a.button.danger href=(format!("{url}/delete")) { "Delete group…" } }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, group_frame(signed, g, count, Tab::Settings, done, body)).into_response()
}

async fn save_settings(
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
    if !errors.is_empty() {
        return settings_page(&signed, &g, n, Some(&f), &errors, None);
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
            Some(errors) => settings_page(&signed, &g, n, Some(&f), &errors, None),
            None => fail(&signed, e),
        },
    }
}

async fn set_status(s: &AppState, signed: &Signed, group: &str, status: GroupStatus) -> Response {
    let done = async {
        let id = group_id(group)?;
        s.set_group_status(&signed.ctx, &id, status).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    let word = if status == GroupStatus::Archived { "archived" } else { "unarchived" };
    match done {
        Ok(id) => Redirect::to(&format!("{}/settings?done={word}", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => fail(signed, e),
    }
}

async fn archive(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    set_status(&s, &signed, &group, GroupStatus::Archived).await
}

async fn unarchive(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    set_status(&s, &signed, &group, GroupStatus::Active).await
}

async fn confirm_delete(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
) -> Response {
    let found = async {
        let (g, n) = load(&s, &signed, &group).await?;
        let (direct, inherited) = s.effective_member_counts(&signed.ctx, &g.id).await?;
        Ok::<_, ServiceError>((g, n, direct + inherited))
    }
    .await;
    let (g, _, affected) = match found {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let url = group_url(&signed.tenant, &g.id);
    let body = html! {
        h1 { "Delete " (g.name) "?" }
        p {
            strong { (affected) " user" @if affected != 1 { "s" } }
            " lose what this group confers (its direct members and the members of its child groups), at once. Its memberships, roles, grants, scopes, rules and nesting go with it. This cannot be undone; archiving keeps them instead."
        }
        form.actions method="post" action=(format!("{url}/delete")) {
            (signed.csrf_field())
            button.danger type="submit" { "Delete group" }
            a href=(format!("{url}/settings")) { "Cancel" }
        }
    };
    layout::page(&signed, Section::Groups, "Delete group", body).into_response()
}

async fn delete(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    let done = async {
        let id = group_id(&group)?;
        s.delete_group(&signed.ctx, &id, &Expect::Any).await
    }
    .await;
    match done {
        Ok(_) => Redirect::to(&format!("{}?done=deleted", groups_url(&signed.tenant))).into_response(),
        Err(e) => fail(&signed, e),
    }
}
