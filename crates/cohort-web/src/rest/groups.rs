//! `/groups`: create, list, get, patch, delete, archive, unarchive; group roles.

use super::extract::{ApiJson, ApiQuery, Caller, Fields, checked, group_ids, path_id};
use super::members::AddMemberBody;
use super::page::{PageQuery, next};
use super::roles::AssignRoleBody;
use super::{AppState, TenantPath, written, written_empty};
use crate::problem::{ApiError, Problem};
use crate::view::{GroupView, RoleView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::{GroupSource, GroupStatus, Subject};
use cohort_core::name::{Description, GroupSlug, MemberTypes, Name, UserType};
use cohort_core::{DomainError, GroupId, RoleId};
use cohort_service::{GroupPatch, NewGroup, NewMember};
use cohort_store::GroupFilter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_group, list_groups))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(archive_group))
        .routes(routes!(unarchive_group))
        .routes(routes!(assign_group_role, list_group_roles))
        .routes(routes!(unassign_group_role))
}

/// A group to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroupBody {
    /// Unique per tenant, case-insensitively; 1 to 128 characters.
    pub name: String,
    /// `[a-z0-9-]{1,64}`, unique per tenant; derived from the name when absent.
    pub slug: Option<String>,
    /// Up to 2,000 characters.
    #[serde(default)]
    pub description: String,
    /// Parent groups.
    #[serde(default)]
    pub parent_ids: Vec<String>,
    /// When false the group confers nothing (default true).
    pub apply_privileges: Option<bool>,
    /// Tell members when their access through this group changes (default false).
    pub notify_members: Option<bool>,
    /// The user types it admits, from the tenant's list (default: every type).
    #[serde(default)]
    pub member_types: Vec<String>,
    /// Roles to assign to it, in the same change.
    #[serde(default)]
    pub role_ids: Vec<String>,
    /// Its first members, added by hand in the same change.
    #[serde(default)]
    pub members: Vec<AddMemberBody>,
}

/// Changes to a group; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchGroupBody {
    /// New name.
    pub name: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New parents, replacing all.
    pub parent_ids: Option<Vec<String>>,
    /// New flag.
    pub apply_privileges: Option<bool>,
    /// New flag.
    pub notify_members: Option<bool>,
    /// New member types, replacing all (`[]`: every type). Refused while a member is of a
    /// type it would not admit; members through rules of such a type leave.
    pub member_types: Option<Vec<String>>,
}

/// A page of groups.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupPage {
    /// The groups.
    pub items: Vec<GroupView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Filters for listing groups.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupListQuery {
    /// Search in name and slug.
    pub q: Option<String>,
    /// `active` or `archived`.
    pub status: Option<String>,
    /// `local`, `scim` or `sso`.
    pub source: Option<String>,
    /// Only direct children of this group.
    pub parent_id: Option<String>,
    /// Items per page, 1 to 500.
    pub limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// The user types named in `types`, each parsed.
fn member_types(f: &mut Fields, types: &[String]) -> Option<MemberTypes> {
    let parsed: Vec<UserType> = types.iter().filter_map(|t| f.take(UserType::parse("memberTypes", t))).collect();
    (parsed.len() == types.len()).then(|| f.take(MemberTypes::new("memberTypes", parsed))).flatten()
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups", params(TenantPath), tag = "groups", request_body = CreateGroupBody,
    responses((status = 201, body = GroupView), (status = "4XX", body = Problem)))]
async fn create_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CreateGroupBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let name = f.take(Name::parse("name", &b.name));
    let slug = match &b.slug {
        Some(s) => f.take(GroupSlug::parse(s)).map(Some),
        None => Some(None),
    };
    let description = f.take(Description::parse(&b.description));
    let parents = group_ids(&mut f, "parentIds", &b.parent_ids);
    let member_types = member_types(&mut f, &b.member_types);
    let roles: Vec<Option<RoleId>> = b
        .role_ids
        .iter()
        .map(|r| f.take(RoleId::parse(r).map_err(|_| DomainError::invalid("roleIds", format!("role `{r}` not found")))))
        .collect();
    let members: Vec<Option<NewMember>> = b.members.iter().map(|m| m.parse(&mut f)).collect();
    f.finish()?;
    let input = NewGroup {
        name: checked(name)?,
        slug: checked(slug)?,
        description: checked(description)?,
        parent_ids: checked(parents)?.into_iter().collect(),
        apply_privileges: b.apply_privileges.unwrap_or(true),
        notify_members: b.notify_members.unwrap_or(false),
        source: GroupSource::Local,
        external_id: None,
        member_types: checked(member_types)?,
        roles: roles.into_iter().map(checked).collect::<Result<_, _>>()?,
        members: members.into_iter().map(checked).collect::<Result<_, _>>()?,
    };
    let w = s.create_group(&ctx, input).await?;
    Ok(written(StatusCode::CREATED, w.revision, &GroupView::new(&w.value.0, w.value.1)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups", tag = "groups", params(TenantPath, GroupListQuery),
    responses((status = 200, body = GroupPage), (status = "4XX", body = Problem)))]
async fn list_groups(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<GroupListQuery>,
) -> Result<Json<GroupPage>, ApiError> {
    let page = PageQuery { limit: q.limit, cursor: q.cursor.clone() };
    let mut f = Fields::default();
    let status = q.status.as_deref().map(|v| f.take(GroupStatus::parse("status", v))).unwrap_or(None);
    let source = q.source.as_deref().map(|v| f.take(GroupSource::parse("source", v))).unwrap_or(None);
    f.finish()?;
    let parent = match q.parent_id.as_deref() {
        Some(p) => Some(GroupId::parse(p)?),
        None => None,
    };
    let filter = GroupFilter {
        q: q.q.clone(),
        status,
        source,
        parent,
        after: page.after()?,
        limit: page.limit()?,
        roots: false,
    };
    let groups = s.list_groups(&ctx, &filter).await?;
    let next_cursor = next(&groups, filter.limit, |(g, _)| (g.name.key(), g.id.to_string()));
    Ok(Json(GroupPage { items: groups.iter().map(|(g, n)| GroupView::new(g, *n)).collect(), next_cursor }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}", tag = "groups",
    responses((status = 200, body = GroupView), (status = "4XX", body = Problem)))]
async fn get_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<GroupView>, ApiError> {
    let (_, id) = path;
    let id = path_id(GroupId::parse, &id)?;
    let (g, n) = s.get_group(&ctx, &id).await?;
    Ok(Json(GroupView::new(&g, n)))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/groups/{groupId}", tag = "groups", request_body = PatchGroupBody,
    responses((status = 200, body = GroupView), (status = "4XX", body = Problem)))]
async fn update_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<PatchGroupBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(GroupId::parse, &id)?;
    let mut f = Fields::default();
    let patch = GroupPatch {
        name: b.name.as_deref().and_then(|v| f.take(Name::parse("name", v))),
        slug: b.slug.as_deref().and_then(|v| f.take(GroupSlug::parse(v))),
        description: b.description.as_deref().and_then(|v| f.take(Description::parse(v))),
        parent_ids: b.parent_ids.as_deref().and_then(|v| group_ids(&mut f, "parentIds", v)).map(BTreeSet::from_iter),
        apply_privileges: b.apply_privileges,
        notify_members: b.notify_members,
        external_id: None,
        member_types: b.member_types.as_deref().and_then(|v| member_types(&mut f, v)),
    };
    f.finish()?;
    let w = s.update_group(&ctx, &id, patch).await?;
    Ok(written(StatusCode::OK, w.revision, &GroupView::new(&w.value.0, w.value.1)))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/groups/{groupId}", tag = "groups",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn delete_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(GroupId::parse, &id)?;
    let w = s.delete_group(&ctx, &id, &cohort_service::Expect::Any).await?;
    Ok(written_empty(w.revision))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/archive", tag = "groups",
    responses((status = 200, body = GroupView), (status = "4XX", body = Problem)))]
async fn archive_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(GroupId::parse, &id)?;
    let w = s.set_group_status(&ctx, &id, GroupStatus::Archived).await?;
    Ok(written(StatusCode::OK, w.revision, &GroupView::new(&w.value.0, w.value.1)))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/unarchive", tag = "groups",
    responses((status = 200, body = GroupView), (status = "4XX", body = Problem)))]
async fn unarchive_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(GroupId::parse, &id)?;
    let w = s.set_group_status(&ctx, &id, GroupStatus::Active).await?;
    Ok(written(StatusCode::OK, w.revision, &GroupView::new(&w.value.0, w.value.1)))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/roles", tag = "groups", request_body = AssignRoleBody,
    responses((status = 201, body = RoleView), (status = "4XX", body = Problem)))]
async fn assign_group_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<AssignRoleBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    super::roles::assign_to(&s, &ctx, Subject::Group(path_id(GroupId::parse, &id)?), &b).await
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/roles", tag = "groups",
    responses((status = 200, body = Vec<RoleView>), (status = "4XX", body = Problem)))]
async fn list_group_roles(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Vec<RoleView>>, ApiError> {
    let (_, id) = path;
    super::roles::list_of(&s, &ctx, Subject::Group(path_id(GroupId::parse, &id)?)).await
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/groups/{groupId}/roles/{roleId}", tag = "groups",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn unassign_group_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (_, id, role) = path;
    super::roles::unassign_from(&s, &ctx, Subject::Group(path_id(GroupId::parse, &id)?), &role).await
}
