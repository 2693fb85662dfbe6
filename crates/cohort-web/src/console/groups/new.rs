//! Creating a group: its name, parents, roles and first members on one form.

use crate::console::frame::{fail, form_errors, group_url, items, user_by_email};
use crate::console::layout::{self, Section, described, field_error, groups_url, reason};
use crate::shared::AppState;
use crate::sign_in::Posted;
use crate::sign_in::Signed;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use cohort_core::RoleId;
use cohort_core::model::{Group, GroupSource, GroupStatus, MemberRole};
use cohort_core::name::{Description, GroupSlug, Name, ShortText};
use cohort_core::permission::CohortPermission as P;
use cohort_service::error::ServiceError;
use cohort_service::{NewGroup, NewMember};
use cohort_store::GroupFilter;
use maud::html;
use serde::Deserialize;

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

pub(super) async fn new_form(State(s): State<AppState>, signed: Signed) -> Response {
    create_page(&s, &signed, &CreateForm::default(), &[]).await
}

pub(super) async fn create_page(
    s: &AppState,
    signed: &Signed,
    f: &CreateForm,
    errors: &[(String, String)],
) -> Response {
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
    let status = crate::console::layout::form_status(errors);
    (status, layout::page(signed, Section::Groups, "Create group", body)).into_response()
}

/// A group named by slug or name, among those a picker offers (active ones).
pub(in crate::console) async fn find_group(
    s: &AppState,
    signed: &Signed,
    text: &str,
) -> Result<Option<Group>, ServiceError> {
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

pub(super) async fn create(State(s): State<AppState>, Posted(signed, f): Posted<CreateForm>) -> Response {
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
