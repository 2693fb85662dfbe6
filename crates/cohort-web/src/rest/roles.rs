//! `/roles`: create, list, get, patch, delete.

use super::extract::{ApiJson, ApiQuery, Caller, Fields, checked, path_id};
use super::page::{PageQuery, next};
use super::{AppState, TenantPath, written, written_empty};
use crate::problem::{ApiError, Problem};
use crate::view::RoleView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::Subject;
use cohort_core::name::{Description, Name};
use cohort_core::permission::Permission;
use cohort_core::{DomainError, RoleId};
use cohort_service::{Ctx, Services};
use cohort_service::{NewRole, RolePatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_role, list_roles)).routes(routes!(get_role, update_role, delete_role))
}

/// A role to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoleBody {
    /// Unique per tenant, case-insensitively.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Permission strings, `[a-z0-9_.:*-]{1,128}` each; at most 200.
    pub permissions: Vec<String>,
}

/// A role to assign to a group or a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignRoleBody {
    /// The role.
    pub role_id: String,
}

/// Assigns a role to a group or a user.
pub(super) async fn assign_to(
    s: &Services,
    ctx: &Ctx,
    subject: Subject,
    b: &AssignRoleBody,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let role = f.take(
        RoleId::parse(&b.role_id)
            .map_err(|_| DomainError::invalid("roleId", format!("role `{}` not found", b.role_id))),
    );
    f.finish()?;
    let w = s.assign_role(ctx, &subject, &checked(role)?).await?;
    Ok(written(StatusCode::CREATED, w.revision, &RoleView::from(&w.value)))
}

/// The roles assigned to a group or directly to a user.
pub(super) async fn list_of(s: &Services, ctx: &Ctx, subject: Subject) -> Result<Json<Vec<RoleView>>, ApiError> {
    Ok(Json(s.roles_of(ctx, &subject).await?.iter().map(RoleView::from).collect()))
}

/// Removes a role from a group or a user.
pub(super) async fn unassign_from(s: &Services, ctx: &Ctx, subject: Subject, role: &str) -> Result<Response, ApiError> {
    let w = s.unassign_role(ctx, &subject, &path_id(RoleId::parse, role)?).await?;
    Ok(written_empty(w.revision))
}

/// Changes to a role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchRoleBody {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New permissions, replacing all.
    pub permissions: Option<Vec<String>>,
}

/// A page of roles.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolePage {
    /// The roles.
    pub items: Vec<RoleView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Filters for listing roles.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoleListQuery {
    /// Search in the name.
    pub q: Option<String>,
    /// Items per page, 1 to 500.
    pub limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

fn permissions(f: &mut Fields, list: &[String]) -> Option<Vec<Permission>> {
    if list.len() > 200 {
        f.push("permissions", "at most 200 permissions per role");
        return None;
    }
    let parsed: Vec<Option<Permission>> = list.iter().map(|p| f.take(Permission::parse(p))).collect();
    parsed.into_iter().collect()
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/roles", params(TenantPath), tag = "roles", request_body = CreateRoleBody,
    responses((status = 201, body = RoleView), (status = "4XX", body = Problem)))]
async fn create_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CreateRoleBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let name = f.take(Name::parse("name", &b.name));
    let description = f.take(Description::parse(&b.description));
    let perms = permissions(&mut f, &b.permissions);
    f.finish()?;
    let input = NewRole { name: checked(name)?, description: checked(description)?, permissions: checked(perms)? };
    let w = s.create_role(&ctx, input).await?;
    Ok(written(StatusCode::CREATED, w.revision, &RoleView::from(&w.value)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/roles", tag = "roles", params(TenantPath, RoleListQuery),
    responses((status = 200, body = RolePage), (status = "4XX", body = Problem)))]
async fn list_roles(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<RoleListQuery>,
) -> Result<Json<RolePage>, ApiError> {
    let page = PageQuery { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    let roles = s.list_roles(&ctx, q.q.as_deref(), page.after()?.as_ref(), limit).await?;
    let next_cursor = next(&roles, limit, |r| (r.name.key(), r.id.to_string()));
    Ok(Json(RolePage { items: roles.iter().map(RoleView::from).collect(), next_cursor }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/roles/{roleId}", tag = "roles",
    responses((status = 200, body = RoleView), (status = "4XX", body = Problem)))]
async fn get_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<RoleView>, ApiError> {
    let (_, id) = path;
    let id = path_id(RoleId::parse, &id)?;
    Ok(Json(RoleView::from(&s.get_role(&ctx, &id).await?)))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/roles/{roleId}", tag = "roles", request_body = PatchRoleBody,
    responses((status = 200, body = RoleView), (status = "4XX", body = Problem)))]
async fn update_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<PatchRoleBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(RoleId::parse, &id)?;
    let mut f = Fields::default();
    let patch = RolePatch {
        name: b.name.as_deref().and_then(|v| f.take(Name::parse("name", v))),
        description: b.description.as_deref().and_then(|v| f.take(Description::parse(v))),
        permissions: b.permissions.as_deref().and_then(|v| permissions(&mut f, v)),
    };
    f.finish()?;
    let w = s.update_role(&ctx, &id, patch).await?;
    Ok(written(StatusCode::OK, w.revision, &RoleView::from(&w.value)))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/roles/{roleId}", tag = "roles",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn delete_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(RoleId::parse, &id)?;
    let w = s.delete_role(&ctx, &id).await?;
    Ok(written_empty(w.revision))
}
