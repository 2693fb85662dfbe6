//! `/resource-types`, `/resources`, grants of levels to groups and users, and group scopes.

use super::extract::{ApiJson, ApiQuery, Caller, Fields, checked, path_id};
use super::page::{PageQuery, next};
use super::{AppState, TenantPath, written, written_empty};
use crate::problem::{ApiError, Problem};
use crate::view::{GrantView, ResourceTypeView, ResourceView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::Subject;
use cohort_core::name::{Description, Keyword, Levels, Name, Scopes};
use cohort_core::{DomainError, GroupId, ResourceId, UserId};
use cohort_service::{Ctx, NewResource, ResourcePatch, Services};
use cohort_store::ResourceFilter;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_resource_type, list_resource_types))
        .routes(routes!(delete_resource_type))
        .routes(routes!(create_resource, list_resources))
        .routes(routes!(get_resource, update_resource, delete_resource))
        .routes(routes!(resource_grants))
        .routes(routes!(resource_holders))
        .routes(routes!(grant_group, list_group_grants))
        .routes(routes!(revoke_group))
        .routes(routes!(grant_user, list_user_grants))
        .routes(routes!(revoke_user))
        .routes(routes!(get_scopes, set_scopes))
}

/// A resource type to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateResourceTypeBody {
    /// `[a-z0-9_-]{1,64}`, unique per tenant.
    pub name: String,
    /// Levels, least permissive first (default `["view", "use", "edit"]`).
    pub levels: Option<Vec<String>>,
}

/// A resource to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateResourceBody {
    /// Its type (`agent`, `datasource`, `app` or one the tenant defined).
    #[serde(rename = "type")]
    pub type_name: String,
    /// Unique within the type, case-insensitively.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// Changes to a resource.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchResourceBody {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// Filters for listing resources.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResourceListQuery {
    /// Only this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub type_name: Option<String>,
    /// Search in the name.
    pub q: Option<String>,
    /// Items per page, 1 to 500.
    pub limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of resources.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePage {
    /// The resources.
    pub items: Vec<ResourceView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A level to give on a resource.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantBody {
    /// The resource.
    pub resource_id: String,
    /// One of its type's levels.
    pub level: String,
}

/// Which level to ask about.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HoldersQuery {
    /// The least level (e.g. `use`).
    pub level: String,
    /// Answer only once this server reflects at least this revision.
    pub at_least_revision: Option<i64>,
}

/// A user who holds a level on a resource, and why.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HolderView {
    /// The user.
    pub user_id: String,
    /// The most permissive level they hold.
    pub level: String,
    /// Why.
    pub reason: String,
}

/// Everyone who holds at least a level on a resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldersView {
    /// The revision the answer reflects.
    pub revision: i64,
    /// The users.
    pub items: Vec<HolderView>,
}

/// A group's data scopes: keys to lists of values, e.g. `{"country": ["France"]}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopesBody {
    /// The scopes.
    #[schema(value_type = Object)]
    pub scopes: BTreeMap<String, BTreeSet<String>>,
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/resource-types", params(TenantPath), tag = "resources", request_body = CreateResourceTypeBody,
    responses((status = 201, body = ResourceTypeView), (status = "4XX", body = Problem)))]
async fn create_resource_type(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CreateResourceTypeBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let name = f.take(Keyword::parse("name", &b.name));
    let levels = match &b.levels {
        None => Some(Levels::default_order()),
        Some(list) => {
            let parsed: Option<Vec<Keyword>> = list.iter().map(|l| f.take(Keyword::parse("levels", l))).collect();
            parsed.and_then(|p| f.take(Levels::new(p)))
        }
    };
    f.finish()?;
    let w = s.create_resource_type(&ctx, checked(name)?, checked(levels)?).await?;
    Ok(written(StatusCode::CREATED, w.revision, &ResourceTypeView::from(&w.value)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/resource-types", params(TenantPath), tag = "resources",
    responses((status = 200, body = Vec<ResourceTypeView>), (status = "4XX", body = Problem)))]
async fn list_resource_types(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> Result<Json<Vec<ResourceTypeView>>, ApiError> {
    Ok(Json(s.list_resource_types(&ctx).await?.iter().map(ResourceTypeView::from).collect()))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/resource-types/{typeName}", tag = "resources",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn delete_resource_type(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, name) = path;
    Ok(written_empty(s.delete_resource_type(&ctx, &name).await?.revision))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/resources", params(TenantPath), tag = "resources", request_body = CreateResourceBody,
    responses((status = 201, body = ResourceView), (status = "4XX", body = Problem)))]
async fn create_resource(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CreateResourceBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let type_name = f.take(Keyword::parse("type", &b.type_name));
    let name = f.take(Name::parse("name", &b.name));
    let description = f.take(Description::parse(&b.description));
    f.finish()?;
    let input =
        NewResource { type_name: checked(type_name)?, name: checked(name)?, description: checked(description)? };
    let w = s.create_resource(&ctx, input).await?;
    Ok(written(StatusCode::CREATED, w.revision, &ResourceView::from(&w.value)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/resources", tag = "resources", params(TenantPath, ResourceListQuery),
    responses((status = 200, body = ResourcePage), (status = "4XX", body = Problem)))]
async fn list_resources(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ResourceListQuery>,
) -> Result<Json<ResourcePage>, ApiError> {
    let page = PageQuery { limit: q.limit, cursor: q.cursor.clone() };
    let filter =
        ResourceFilter { type_name: q.type_name.clone(), q: q.q.clone(), after: page.after()?, limit: page.limit()? };
    let list = s.list_resources(&ctx, &filter).await?;
    let next_cursor = next(&list, filter.limit, |r| (r.name.key(), r.id.to_string()));
    Ok(Json(ResourcePage { items: list.iter().map(ResourceView::from).collect(), next_cursor }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/resources/{resourceId}", tag = "resources",
    responses((status = 200, body = ResourceView), (status = "4XX", body = Problem)))]
async fn get_resource(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<ResourceView>, ApiError> {
    let (_, id) = path;
    let id = path_id(ResourceId::parse, &id)?;
    Ok(Json(ResourceView::from(&s.get_resource(&ctx, &id).await?)))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/resources/{resourceId}", tag = "resources", request_body = PatchResourceBody,
    responses((status = 200, body = ResourceView), (status = "4XX", body = Problem)))]
async fn update_resource(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<PatchResourceBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(ResourceId::parse, &id)?;
    let mut f = Fields::default();
    let patch = ResourcePatch {
        name: b.name.as_deref().and_then(|v| f.take(Name::parse("name", v))),
        description: b.description.as_deref().and_then(|v| f.take(Description::parse(v))),
    };
    f.finish()?;
    let w = s.update_resource(&ctx, &id, patch).await?;
    Ok(written(StatusCode::OK, w.revision, &ResourceView::from(&w.value)))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/resources/{resourceId}", tag = "resources",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn delete_resource(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(ResourceId::parse, &id)?;
    Ok(written_empty(s.delete_resource(&ctx, &id).await?.revision))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/resources/{resourceId}/grants", tag = "resources",
    responses((status = 200, body = Vec<GrantView>), (status = "4XX", body = Problem)))]
async fn resource_grants(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    let (_, id) = path;
    let id = path_id(ResourceId::parse, &id)?;
    Ok(Json(s.grants_on(&ctx, &id).await?.iter().map(GrantView::from).collect()))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/resources/{resourceId}/holders", tag = "resources", params(HoldersQuery),
    responses((status = 200, body = HoldersView), (status = "4XX", body = Problem)))]
async fn resource_holders(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiQuery(q): ApiQuery<HoldersQuery>,
) -> Result<Json<HoldersView>, ApiError> {
    let (_, id) = path;
    let id = path_id(ResourceId::parse, &id)?;
    let (revision, holders) = s.holders(&ctx, &id, &q.level, q.at_least_revision).await?;
    let items = holders
        .into_iter()
        .map(|h| HolderView { user_id: h.user_id.to_string(), level: h.level, reason: h.reason })
        .collect();
    Ok(Json(HoldersView { revision, items }))
}

async fn grant_to(s: &Services, ctx: &Ctx, subject: Subject, b: &GrantBody) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let resource = f.take(
        ResourceId::parse(&b.resource_id)
            .map_err(|_| DomainError::invalid("resourceId", format!("resource `{}` not found", b.resource_id))),
    );
    f.finish()?;
    let w = s.grant(ctx, &subject, &checked(resource)?, &b.level).await?;
    Ok(written(StatusCode::CREATED, w.revision, &GrantView::from(&w.value)))
}

async fn grants_of(s: &Services, ctx: &Ctx, subject: Subject) -> Result<Json<Vec<GrantView>>, ApiError> {
    Ok(Json(s.grants_of(ctx, &subject).await?.iter().map(GrantView::from).collect()))
}

async fn revoke_from(s: &Services, ctx: &Ctx, subject: Subject, resource: &str) -> Result<Response, ApiError> {
    let w = s.revoke(ctx, &subject, &path_id(ResourceId::parse, resource)?).await?;
    Ok(written_empty(w.revision))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/grants", tag = "resources", request_body = GrantBody,
    responses((status = 201, body = GrantView), (status = "4XX", body = Problem)))]
async fn grant_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<GrantBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    grant_to(&s, &ctx, Subject::Group(path_id(GroupId::parse, &id)?), &b).await
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/grants", tag = "resources",
    responses((status = 200, body = Vec<GrantView>), (status = "4XX", body = Problem)))]
async fn list_group_grants(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    let (_, id) = path;
    grants_of(&s, &ctx, Subject::Group(path_id(GroupId::parse, &id)?)).await
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/groups/{groupId}/grants/{resourceId}", tag = "resources",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn revoke_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (_, id, resource) = path;
    revoke_from(&s, &ctx, Subject::Group(path_id(GroupId::parse, &id)?), &resource).await
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/users/{userId}/grants", tag = "resources", request_body = GrantBody,
    responses((status = 201, body = GrantView), (status = "4XX", body = Problem)))]
async fn grant_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<GrantBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    grant_to(&s, &ctx, Subject::User(path_id(UserId::parse, &id)?), &b).await
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/{userId}/grants", tag = "resources",
    responses((status = 200, body = Vec<GrantView>), (status = "4XX", body = Problem)))]
async fn list_user_grants(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    let (_, id) = path;
    grants_of(&s, &ctx, Subject::User(path_id(UserId::parse, &id)?)).await
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/users/{userId}/grants/{resourceId}", tag = "resources",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn revoke_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (_, id, resource) = path;
    revoke_from(&s, &ctx, Subject::User(path_id(UserId::parse, &id)?), &resource).await
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/scopes", tag = "groups",
    responses((status = 200, body = ScopesBody), (status = "4XX", body = Problem)))]
async fn get_scopes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<ScopesBody>, ApiError> {
    let (_, id) = path;
    let scopes = s.scopes(&ctx, &path_id(GroupId::parse, &id)?).await?;
    Ok(Json(ScopesBody { scopes: scopes.as_map().clone() }))
}

#[utoipa::path(put, path = "/t/{tenant}/api/v1/groups/{groupId}/scopes", tag = "groups", request_body = ScopesBody,
    responses((status = 200, body = ScopesBody), (status = "4XX", body = Problem)))]
async fn set_scopes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<ScopesBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let group = path_id(GroupId::parse, &id)?;
    let mut f = Fields::default();
    let scopes = f.take(Scopes::new(b.scopes));
    f.finish()?;
    let w = s.set_scopes(&ctx, &group, checked(scopes)?).await?;
    Ok(written(StatusCode::OK, w.revision, &ScopesBody { scopes: w.value.as_map().clone() }))
}
