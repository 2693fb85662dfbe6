//! A group's page and its members tab: the members, adding one, removing one (confirmed).

use crate::console::confirm::{Ask, Confirmed, confirmable};
use crate::console::frame::{Tab, fail, form_errors, group_frame, group_id, group_url, user_url};
use crate::console::layout::{self, Section, badge, described, field_error, person, reason, time_left};
use crate::shared::AppState;
use crate::sign_in::Posted;
use crate::sign_in::Signed;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cohort_core::UserId;
use cohort_core::model::{GroupStatus, MemberRole, Membership, MembershipSource, User};
use cohort_core::name::{Email, ShortText};
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_service::{MemberPatch, NewMember, Reach};
use maud::{Markup, html};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(super) struct MembersQuery {
    cursor: Option<String>,
    pub(super) done: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    size: String,
}

impl MembersQuery {
    /// Rows on a page: 50 or 100.
    fn size(&self) -> i64 {
        if self.size == "100" { 100 } else { 50 }
    }

    /// The address of this listing at `cursor`.
    fn at(&self, url: &str, cursor: &str) -> String {
        let mut pairs: Vec<(&str, &str)> =
            vec![("q", &self.q), ("sort", &self.sort), ("order", &self.order), ("size", &self.size)];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.push(("cursor", cursor));
        format!("{url}?{}", serde_html_form::to_string(&pairs).unwrap_or_default())
    }
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

pub(super) async fn members(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group)): Path<(String, String)>,
    Query(q): Query<MembersQuery>,
) -> Response {
    members_page(&s, &signed, &group, q, &AddForm::default(), &[]).await
}

pub(super) async fn members_page(
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
        let listing = crate::cursor::member_listing(
            Some(&q.q),
            Some(&q.sort),
            Some(&q.order),
            q.size(),
            q.cursor.as_deref().filter(|c| !c.is_empty()),
        )?;
        let (total, rows) = s.member_rows(&signed.ctx, &id, &listing).await?;
        let pages = crate::cursor::member_pages(&listing, &rows);
        let rows: Vec<(Membership, User)> = rows.into_iter().map(|r| (r.membership, r.user)).collect();
        let effective = s.effective_member_counts(&signed.ctx, &id).await?;
        let place = super::nesting::place_of(s, signed, &g).await?;
        Ok::<_, ServiceError>((g, count, (total, rows, pages), effective, place))
    }
    .await;
    let (g, count, (total, rows, (prev, next)), effective, place) = match result {
        Ok(v) => v,
        Err(e) => return fail(signed, e),
    };
    let t = &signed.tenant;
    let url = group_url(t, &g.id);
    let now = s.now();
    let may_edit = signed.holdings.edits_members_of(&g.id) && g.status == GroupStatus::Active;
    let managers = signed.holdings.can(P::GroupsWrite);
    let users = signed.holdings.can(P::UsersRead);
    let (direct, inherited) = effective;
    let body = html! {
        @if let Some(place) = &place { (place) }
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
                        label for="expires" { "Expires " span.muted { "(optional, " (signed.time.name()) " time)" } }
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
        @for (_, m) in errors.iter().filter(|(f, _)| f == "edit") { p.error role="alert" { "The membership was not changed: " (m) } }
        @let searched = !q.q.trim().is_empty();
        @if total > 0 || searched {
            form.filters method="get" action=(url) role="search" {
                div.field { label for="members-q" { "Search" } input #members-q type="search" name="q" value=(q.q) placeholder="Email or name" maxlength="200"; }
                div.field {
                    label for="members-sort" { "Sort by" }
                    select #members-sort name="sort" {
                        @for (key, words) in [("email", "Email"), ("name", "Name"), ("role", "Role"), ("source", "Source"), ("added", "Added"), ("expires", "Expiry")] {
                            option value=(key) selected[q.sort == key] { (words) }
                        }
                    }
                }
                div.field {
                    label for="members-order" { "Order" }
                    select #members-order name="order" {
                        option value="asc" selected[q.order != "desc"] { "Ascending" }
                        option value="desc" selected[q.order == "desc"] { "Descending" }
                    }
                }
                div.field {
                    label for="members-size" { "Per page" }
                    select #members-size name="size" {
                        option value="50" selected[q.size() == 50] { "50" }
                        option value="100" selected[q.size() == 100] { "100" }
                    }
                }
                button type="submit" { "Show" }
                @if searched { a href=(url) { "Clear" } }
            }
            p.muted.total { (total) " row" @if total != 1 { "s" } @if searched { " match" @if total == 1 { "es" } } @else { " in all" } "." }
        }
        @if rows.is_empty() {
            div.empty {
                @if searched { p { "No member matches." } } @else {
                    p { "No one is in this group yet." }
                    @if may_edit { p.muted { "Add people above; rules, SCIM and sign-in can add them too." } }
                }
            }
        } @else {
            div.table-wrap {
                table {
                    caption.visually-hidden { "Direct members" }
                    thead { tr { @if may_edit { th scope="col" { span.visually-hidden { "Select" } } } th scope="col" { "User" } th scope="col" { "Role" } th scope="col" { "Source" } th scope="col" { "Expires" } th scope="col" { "Added" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for (m, u) in &rows {
                            tr {
                                @if may_edit {
                                    td { @if m.source.hand_removable() && (managers || m.role == MemberRole::Member) {
                                        input type="checkbox" name="rows" value=(format!("{} {}", u.id, m.source.as_str())) form="remove-several" aria-label=(format!("Select {} ({})", person(u), m.source.as_str()));
                                    } }
                                }
                                td {
                                    @if users { a href=(user_url(t, &u.id)) { (person(u)) } } @else { (person(u)) }
                                    @if !u.display_name.as_str().is_empty() { br; span.muted { (u.display_name) } }
                                }
                                td { (m.role.as_str()) }
                                td { (badge("source", m.source.as_str())) }
                                td { @if let Some(at) = m.expires_at { span title=(signed.time.when(at)) { (time_left(now, at)) } } @else { span.muted { "never" } } }
                                td { (signed.time.when(m.added_at)) @if !m.reason.as_str().is_empty() { br; span.muted { (m.reason) } } }
                                td {
                                    @if !m.source.hand_removable() {
                                        (kept_by(&url, m.source))
                                    } @else if may_edit && (managers || m.role == MemberRole::Member) {
                                        div.row-actions {
                                            @if m.source.hand_editable() { (edit_form(signed, &url, m, u, managers)) }
                                            a href=(format!("{url}/members/{}/remove?source={}", u.id, m.source.as_str())) aria-label=(format!("Remove {} from {}", person(u), g.name)) { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if may_edit {
                form #remove-several method="post" action=(format!("{url}/members/remove")) {
                    (signed.csrf_field())
                    @for (_, m) in errors.iter().filter(|(f, _)| f == "rows") { p.field-error #rows-error { (m) } }
                    button type="submit" { "Remove selected…" }
                }
            }
            @if prev.is_some() || next.is_some() {
                nav.pager aria-label="Pages" {
                    @if let Some(c) = &prev { a href=(q.at(&url, c)) rel="prev" { "Previous page" } " " }
                    @if let Some(c) = &next { a href=(q.at(&url, c)) rel="next" { "Next page" } }
                }
            }
        }
        h2 { "Effective members" }
        p.muted { (direct + inherited) " user" @if direct + inherited != 1 { "s" } " get what this group confers: " (direct) " directly, " (inherited) " through child groups." }
    };
    let status = crate::console::layout::form_status(errors);
    (status, group_frame(signed, &g, count, Tab::Members, q.done.as_deref(), body)).into_response()
}

pub(super) async fn add_member(
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
        "" => MemberRole::Member,
        other => MemberRole::parse("role", other).unwrap_or_else(|e| {
            errors.push(("role".to_owned(), reason(e)));
            MemberRole::Member
        }),
    };
    let expires_at = signed.time.parse("expiresAt", &f.expires).unwrap_or_else(|e| {
        errors.push(("expiresAt".to_owned(), reason(e)));
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

/// A row's role, expiry and reason, changed in place (the role by those who may make
/// managers).
fn edit_form(signed: &Signed, url: &str, m: &Membership, u: &User, managers: bool) -> Markup {
    let id = format!("edit-{}", u.id);
    html! {
        details.edit {
            summary aria-label=(format!("Edit the membership of {}", person(u))) { "Edit" }
            form.stack method="post" action=(format!("{url}/members/{}/edit", u.id)) {
                (signed.csrf_field())
                @if managers {
                    div.field {
                        label for=(format!("{id}-role")) { "Role" }
                        select id=(format!("{id}-role")) name="role" {
                            option value="member" selected[m.role == MemberRole::Member] { "Member" }
                            option value="manager" selected[m.role == MemberRole::Manager] { "Manager" }
                        }
                    }
                }
                div.field {
                    label for=(format!("{id}-expires")) { "Expires " span.muted { "(empty: never; " (signed.time.name()) " time)" } }
                    input id=(format!("{id}-expires")) type="datetime-local" name="expires" value=(m.expires_at.map(|t| signed.time.field_value(t)).unwrap_or_default());
                }
                div.field {
                    label for=(format!("{id}-reason")) { "Reason" }
                    input id=(format!("{id}-reason")) type="text" name="reason" value=(m.reason) maxlength="500";
                }
                button type="submit" { "Save" }
            }
        }
    }
}

/// What the edit form sends.
#[derive(Deserialize)]
pub(super) struct EditForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    reason: String,
}

/// The rows ticked for removal, as `user source`.
#[derive(Deserialize)]
pub(super) struct SeveralForm {
    #[serde(default)]
    rows: Vec<String>,
    #[serde(flatten)]
    confirmed: Confirmed,
}

/// Removes the ticked rows in one change, after a question that counts the users who lose
/// what the group confers.
pub(super) async fn remove_several(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Posted(signed, f): Posted<SeveralForm>,
) -> Response {
    let parsed = async {
        let id = group_id(&group)?;
        let mut rows = Vec::new();
        for r in &f.rows {
            let (user, source) =
                r.split_once(' ').ok_or_else(|| ServiceError::BadRequest(format!("`{r}` is not a row")))?;
            let source = RemoveQuery { source: source.to_owned() }.source()?;
            let (_, user) = row_of(&group, user)?;
            if !rows.contains(&(user.clone(), source)) {
                rows.push((user, source));
            }
        }
        Ok::<_, ServiceError>((id, rows))
    };
    let (id, rows) = match parsed.await {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    if rows.is_empty() {
        let errors = [("rows".to_owned(), "Tick the members to remove first.".to_owned())];
        return members_page(&s, &signed, &group, MembersQuery::default(), &AddForm::default(), &errors).await;
    }
    let url = group_url(&signed.tenant, &id);
    let ask = async || {
        let (g, _) = s.get_group(&signed.ctx, &id).await?;
        let mut names = Vec::new();
        for (u, _) in rows.iter().take(20) {
            names.push(person(&s.direct_member(&signed.ctx, &id, u).await?));
        }
        let users: Vec<UserId> = rows.iter().map(|(u, _)| u.clone()).collect();
        Ok(Ask {
            title: format!(
                "Remove {} from {}?",
                if rows.len() == 1 { "1 member".to_owned() } else { format!("{} members", rows.len()) },
                g.name
            ),
            what: html! {
                p { (names.join(", ")) @if rows.len() > names.len() { " and " (rows.len() - names.len()) " more" } "." }
                p { "They lose what " (g.name) " confers, unless they are in it another way (a rule, SCIM or sign-in) or hold it through another group." }
            },
            reach: Reach::Members(id.clone(), users),
            reached_words: format!("would leave {}", g.name),
            action: format!("{url}/members/remove"),
            fields: rows.iter().map(|(u, src)| ("rows", format!("{u} {}", src.as_str()))).collect(),
            button: "Remove them".to_owned(),
            danger: true,
            cancel: url.clone(),
            section: Section::Groups,
        })
    };
    let apply = async |ctx: &cohort_service::Ctx| {
        s.remove_members(ctx, &id, &rows).await?;
        Ok(Redirect::to(&format!("{url}?done=removed-several")).into_response())
    };
    confirmable(&s, &signed, &f.confirmed, ask, apply).await
}

/// The group and the user a row's address names.
fn row_of(group: &str, user: &str) -> Result<(cohort_core::GroupId, UserId), ServiceError> {
    let uid = UserId::parse(user).map_err(|_| ServiceError::NotFound(format!("user `{user}`")))?;
    Ok((group_id(group)?, uid))
}

/// Changes a person's row in place: its role (when sent), expiry and reason.
pub(super) async fn edit_member(
    State(s): State<AppState>,
    Path((_, group, user)): Path<(String, String, String)>,
    Posted(signed, f): Posted<EditForm>,
) -> Response {
    let done = async {
        let (id, uid) = row_of(&group, &user)?;
        let role = (!f.role.is_empty()).then(|| MemberRole::parse("role", &f.role)).transpose()?;
        let patch = MemberPatch {
            role,
            expires_at: Some(signed.time.parse("expiresAt", &f.expires)?),
            reason: Some(ShortText::parse("reason", &f.reason, false)?),
        };
        s.update_member(&signed.ctx, &id, &uid, patch).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("{}?done=member-updated", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => match form_errors(&e, &[]) {
            Some(errors) => {
                let q = MembersQuery::default();
                let errors: Vec<_> = errors.into_iter().map(|(_, m)| ("edit".to_owned(), m)).collect();
                members_page(&s, &signed, &group, q, &AddForm::default(), &errors).await
            }
            None => fail(&signed, e),
        },
    }
}

/// Who keeps a row a person may not remove, and where to change it.
fn kept_by(url: &str, source: MembershipSource) -> Markup {
    html! {
        span.muted.kept {
            @match source {
                MembershipSource::Rule => { "Kept by a rule: change it on the " a href=(format!("{url}/rules")) { "Rules tab" } }
                MembershipSource::Scim => { "Kept by SCIM provisioning: change it in the provisioning client" }
                MembershipSource::Sso => { "Kept by sign-in: change the user's groups in the identity provider" }
                MembershipSource::Manual | MembershipSource::Import => {}
            }
        }
    }
}

/// Which row a removal is about: a person's own (`manual`, the default) or an import's.
#[derive(Deserialize, Default)]
pub(super) struct RemoveQuery {
    #[serde(default)]
    source: String,
}

impl RemoveQuery {
    fn source(&self) -> Result<MembershipSource, ServiceError> {
        let source = match self.source.as_str() {
            "" => MembershipSource::Manual,
            s => MembershipSource::parse("source", s)?,
        };
        if source.hand_removable() {
            Ok(source)
        } else {
            Err(ServiceError::BadRequest(format!(
                "a {} row is kept by its source, which would put it back: change it there",
                source.as_str()
            )))
        }
    }
}

pub(super) async fn confirm_remove(
    State(s): State<AppState>,
    signed: Signed,
    Path((_, group, user)): Path<(String, String, String)>,
    Query(which): Query<RemoveQuery>,
) -> Response {
    let source = match which.source() {
        Ok(s) => s,
        Err(e) => return fail(&signed, e),
    };
    let found = async {
        let (id, uid) = row_of(&group, &user)?;
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
        @if source == MembershipSource::Import { p { "This is the row an import added." } }
        p { "They lose what " (g.name) " confers, unless they are in it another way (a rule, SCIM or sign-in) or hold it through another group." }
        form.actions method="post" action=(format!("{url}/members/{}/remove", u.id)) {
            (signed.csrf_field())
            input type="hidden" name="source" value=(source.as_str());
            button.danger type="submit" { "Remove" }
            a href=(url) { "Cancel" }
        }
    };
    layout::page(&signed, Section::Groups, "Remove member", body).into_response()
}

pub(super) async fn remove_member(
    State(s): State<AppState>,
    Path((_, group, user)): Path<(String, String, String)>,
    Posted(signed, which): Posted<RemoveQuery>,
) -> Response {
    let done = async {
        let (id, uid) = row_of(&group, &user)?;
        s.remove_member(&signed.ctx, &id, &uid, which.source()?).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("{}?done=removed", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => fail(&signed, e),
    }
}
