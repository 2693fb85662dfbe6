//! `/users`: create, list, get, patch (including suspend), delete; direct roles.

use super::extract::{ApiJson, ApiQuery, Caller, Fields, checked, double_option, group_ids, path_id};
use super::page::{PageQuery, next};
use super::roles::AssignRoleBody;
use super::{AppState, TenantPath, written, written_empty};
use crate::problem::{ApiError, Problem};
use crate::view::{RoleView, UserView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::{Subject, UserStatus};
use cohort_core::name::{AttributeValue, Attributes, Email, ShortText, SsoGroups, UserType};
use cohort_core::{DomainError, UserId, ZoneName};
use cohort_service::{NewUser, UserPatch, UserTypeUse};
use cohort_store::UserFilter;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(assign_user_role, list_user_roles))
        .routes(routes!(unassign_user_role))
        .routes(routes!(list_user_types, set_user_types))
}

/// One of the tenant's user types.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserTypeView {
    /// The type.
    pub name: String,
    /// How many users have it.
    pub users: i64,
    /// How many groups admit it (groups that admit every type are not counted).
    pub groups: i64,
}

/// The tenant's user types.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserTypesView {
    /// The types, by name.
    pub items: Vec<UserTypeView>,
}

/// The user types the tenant keeps, replacing all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserTypesBody {
    /// `[a-z0-9_-]{1,32}` each, at most 32; must hold `member`.
    pub types: Vec<String>,
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/user-types", params(TenantPath), tag = "users",
    responses((status = 200, body = UserTypesView), (status = "4XX", body = Problem)))]
async fn list_user_types(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Json<UserTypesView>, ApiError> {
    Ok(Json(UserTypesView::from(s.list_user_types(&ctx).await?)))
}

impl From<Vec<UserTypeUse>> for UserTypesView {
    fn from(items: Vec<UserTypeUse>) -> Self {
        let items = items
            .into_iter()
            .map(|u| UserTypeView { name: u.name.to_string(), users: u.users, groups: u.groups })
            .collect();
        Self { items }
    }
}

/// Replaces the tenant's user types (needs `cohort:admin`); a type still held by a user or
/// admitted by a group cannot be removed.
#[utoipa::path(put, path = "/t/{tenant}/api/v1/user-types", params(TenantPath), tag = "users", request_body = UserTypesBody,
    responses((status = 200, body = UserTypesView), (status = "4XX", body = Problem)))]
async fn set_user_types(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<UserTypesBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let types: Vec<Option<UserType>> = b.types.iter().map(|t| f.take(UserType::parse("types", t))).collect();
    f.finish()?;
    let types = types.into_iter().map(checked).collect::<Result<_, _>>()?;
    let w = s.set_user_types(&ctx, types).await?;
    let view = UserTypesView::from(w.value);
    Ok(written(StatusCode::OK, w.revision, &view))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserBody {
    /// Unique per tenant, case-insensitively.
    pub email: String,
    /// Display name (defaults to the email).
    pub display_name: Option<String>,
    /// Department.
    #[serde(default)]
    pub department: String,
    /// Job title.
    #[serde(default)]
    pub title: String,
    /// Free attributes: string to string or list of strings.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, Value>,
    /// The groups the upstream identity provider reports for the user (`user.ssoGroups` in
    /// auto-assignment rules).
    #[serde(default)]
    pub sso_groups: Vec<String>,
    /// `active` (default) or `suspended`.
    pub status: Option<String>,
    /// One of the tenant's user types (`member` when left out).
    #[serde(rename = "type")]
    pub user_type: Option<String>,
    /// The time zone the console shows them times in, by IANA name (`Europe/Paris`); left
    /// out, the tenant's.
    pub time_zone: Option<String>,
    /// Groups to add the user to as an ordinary member, in the same change (needs
    /// `cohort:groups.write`).
    #[serde(default)]
    pub group_ids: Vec<String>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchUserBody {
    /// New email.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New department.
    pub department: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New attributes, replacing all.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<BTreeMap<String, Value>>,
    /// New identity-provider groups, replacing all.
    pub sso_groups: Option<Vec<String>>,
    /// `active` or `suspended` (a suspended user has no access at all).
    pub status: Option<String>,
    /// One of the tenant's user types; refused while a group the user is in does not admit it.
    #[serde(rename = "type")]
    pub user_type: Option<String>,
    /// The time zone the console shows them times in, by IANA name (`Europe/Paris`); `null`
    /// goes back to the tenant's. A user may change their own without `cohort:users.write`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    /// The users.
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Filters for listing users.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Search in email and display name.
    pub q: Option<String>,
    /// `active` or `suspended`.
    pub status: Option<String>,
    /// Items per page, 1 to 500.
    pub limit: Option<i64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

fn attributes(map: &BTreeMap<String, Value>) -> Result<Attributes, DomainError> {
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let bad = || DomainError::invalid("attributes", format!("`{k}` must be a string or a list of strings"));
        let v = match v {
            Value::String(s) => AttributeValue::One(s.clone()),
            Value::Array(items) => AttributeValue::Many(
                items.iter().map(|i| i.as_str().map(str::to_owned).ok_or_else(bad)).collect::<Result<_, _>>()?,
            ),
            _ => return Err(bad()),
        };
        out.insert(k.clone(), v);
    }
    Attributes::new(out)
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/users", params(TenantPath), tag = "users", request_body = CreateUserBody,
    responses((status = 201, body = UserView), (status = "4XX", body = Problem)))]
async fn create_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<CreateUserBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let email = f.take(Email::parse(&b.email));
    let display = f.take(ShortText::parse("displayName", b.display_name.as_deref().unwrap_or(b.email.trim()), false));
    let department = f.take(ShortText::parse("department", &b.department, false));
    let title = f.take(ShortText::parse("title", &b.title, false));
    let attrs = f.take(attributes(&b.attributes));
    let sso_groups = f.take(SsoGroups::new(b.sso_groups));
    let status = match b.status.as_deref() {
        Some(v) => f.take(UserStatus::parse("status", v)),
        None => Some(UserStatus::Active),
    };
    let user_type = b.user_type.as_deref().map(|t| f.take(UserType::parse("type", t)));
    let time_zone = b.time_zone.as_deref().map(|z| f.take(ZoneName::parse("timeZone", z)));
    let groups = group_ids(&mut f, "groupIds", &b.group_ids);
    f.finish()?;
    let input = NewUser {
        email: Some(checked(email)?),
        display_name: checked(display)?,
        department: checked(department)?,
        title: checked(title)?,
        attributes: checked(attrs)?,
        sso_groups: checked(sso_groups)?,
        status: checked(status)?,
        user_type: user_type.map(checked).transpose()?,
        user_name: None,
        external_id: None,
        time_zone: time_zone.map(checked).transpose()?,
    };
    let w = s.create_user(&ctx, input, &checked(groups)?).await?;
    Ok(written(StatusCode::CREATED, w.revision, &UserView::from(&w.value)))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users", tag = "users", params(TenantPath, UserListQuery),
    responses((status = 200, body = UserPage), (status = "4XX", body = Problem)))]
async fn list_users(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<UserListQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let page = PageQuery { limit: q.limit, cursor: q.cursor.clone() };
    let status = match q.status.as_deref() {
        Some(v) => Some(UserStatus::parse("status", v)?),
        None => None,
    };
    let filter = UserFilter { q: q.q.clone(), status, after: page.after()?, limit: page.limit()? };
    let users = s.list_users(&ctx, &filter).await?;
    let next_cursor = next(&users, filter.limit, |u| (u.email_key(), u.id.to_string()));
    Ok(Json(UserPage { items: users.iter().map(UserView::from).collect(), next_cursor }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/{userId}", tag = "users",
    responses((status = 200, body = UserView), (status = "4XX", body = Problem)))]
async fn get_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<UserView>, ApiError> {
    let (_, id) = path;
    let id = path_id(UserId::parse, &id)?;
    Ok(Json(UserView::from(&s.get_user(&ctx, &id).await?)))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/users/{userId}", tag = "users", request_body = PatchUserBody,
    responses((status = 200, body = UserView), (status = "4XX", body = Problem)))]
async fn update_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<PatchUserBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(UserId::parse, &id)?;
    let mut f = Fields::default();
    let patch = UserPatch {
        email: b.email.as_deref().and_then(|v| f.take(Email::parse(v))).map(Some),
        display_name: b.display_name.as_deref().and_then(|v| f.take(ShortText::parse("displayName", v, true))),
        department: b.department.as_deref().and_then(|v| f.take(ShortText::parse("department", v, false))),
        title: b.title.as_deref().and_then(|v| f.take(ShortText::parse("title", v, false))),
        attributes: b.attributes.as_ref().and_then(|v| f.take(attributes(v))),
        sso_groups: b.sso_groups.and_then(|v| f.take(SsoGroups::new(v))),
        status: b.status.as_deref().and_then(|v| f.take(UserStatus::parse("status", v))),
        user_type: b.user_type.as_deref().and_then(|v| f.take(UserType::parse("type", v))),
        time_zone: match b.time_zone {
            Some(Some(z)) => f.take(ZoneName::parse("timeZone", &z)).map(Some),
            Some(None) => Some(None),
            None => None,
        },
        ..UserPatch::default()
    };
    f.finish()?;
    let w = s.update_user(&ctx, &id, patch).await?;
    Ok(written(StatusCode::OK, w.revision, &UserView::from(&w.value)))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/users/{userId}", tag = "users",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn delete_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    let id = path_id(UserId::parse, &id)?;
    let w = s.delete_user(&ctx, &id, &cohort_service::Expect::Any).await?;
    Ok(written_empty(w.revision))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/users/{userId}/roles", tag = "users", request_body = AssignRoleBody,
    responses((status = 201, body = RoleView), (status = "4XX", body = Problem)))]
async fn assign_user_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    ApiJson(b): ApiJson<AssignRoleBody>,
) -> Result<Response, ApiError> {
    let (_, id) = path;
    super::roles::assign_to(&s, &ctx, Subject::User(path_id(UserId::parse, &id)?), &b).await
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/{userId}/roles", tag = "users",
    responses((status = 200, body = Vec<RoleView>), (status = "4XX", body = Problem)))]
async fn list_user_roles(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Vec<RoleView>>, ApiError> {
    let (_, id) = path;
    super::roles::list_of(&s, &ctx, Subject::User(path_id(UserId::parse, &id)?)).await
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/users/{userId}/roles/{roleId}", tag = "users",
    responses((status = 204), (status = "4XX", body = Problem)))]
async fn unassign_user_role(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (_, id, role) = path;
    super::roles::unassign_from(&s, &ctx, Subject::User(path_id(UserId::parse, &id)?), &role).await
}
