//! `POST /groups/batch`: one edit applied to several groups, all or nothing.

use super::extract::{ApiJson, Caller, Fields, checked};
use super::{AppState, TenantPath, written};
use crate::problem::{ApiError, Problem};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::model::MemberRole;
use cohort_core::{DomainError, GroupId, ResourceId, RoleId, UserId};
use cohort_service::BatchEdit;
use cohort_service::format::parse_rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(batch_edit))
}

/// One edit for several groups.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchBody {
    /// The groups (at most 500).
    pub group_ids: Vec<String>,
    /// `addMembers`, `removeMembers`, `assignRole`, `removeRole`, `grant`, `revoke`,
    /// `archive`, `unarchive` or `delete`.
    pub action: String,
    /// For `addMembers` and `removeMembers`.
    pub user_ids: Option<Vec<String>>,
    /// For `addMembers`: `member` (default) or `manager`.
    pub role: Option<String>,
    /// For `addMembers`: when the memberships stop conferring access (RFC 3339).
    pub expires_at: Option<String>,
    /// For `assignRole` and `removeRole`.
    pub role_id: Option<String>,
    /// For `grant` and `revoke`.
    pub resource_id: Option<String>,
    /// For `grant`.
    pub level: Option<String>,
}

/// What a batch did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Groups edited.
    pub groups: usize,
    /// Changes made, one audit event each.
    pub changes: usize,
}

fn id_of<T>(f: &mut Fields, field: &str, v: Option<&str>, parse: fn(&str) -> Result<T, DomainError>) -> Option<T> {
    match v {
        None => {
            f.push(field, "is required for this action");
            None
        }
        Some(s) => f.take(parse(s).map_err(|_| DomainError::invalid(field, format!("`{s}` is not a valid id")))),
    }
}

/// Applies one edit to several groups in one transaction: every step is authorised and
/// audited as it would be alone, and if any is refused nothing is applied.
#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/batch", tag = "groups", params(TenantPath), request_body = BatchBody,
    responses((status = 200, body = BatchView), (status = "4XX", body = Problem)))]
async fn batch_edit(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<BatchBody>,
) -> Result<Response, ApiError> {
    let mut f = Fields::default();
    let groups: Vec<GroupId> =
        b.group_ids.iter().filter_map(|g| id_of(&mut f, "groupIds", Some(g), GroupId::parse)).collect();
    let users = |f: &mut Fields| -> Vec<UserId> {
        match &b.user_ids {
            None => {
                f.push("userIds", "is required for this action");
                Vec::new()
            }
            Some(ids) => ids.iter().filter_map(|u| id_of(f, "userIds", Some(u), UserId::parse)).collect(),
        }
    };
    let edit = match b.action.as_str() {
        "addMembers" => {
            let users = users(&mut f);
            let role = match b.role.as_deref() {
                None => Some(MemberRole::Member),
                Some(r) => f.take(MemberRole::parse("role", r)),
            };
            let expires_at = match b.expires_at.as_deref() {
                None => Some(None),
                Some(t) => f.take(parse_rfc3339("expiresAt", t)).map(Some),
            };
            match (role, expires_at) {
                (Some(role), Some(expires_at)) => Some(BatchEdit::AddMembers { users, role, expires_at }),
                _ => None,
            }
        }
        "removeMembers" => Some(BatchEdit::RemoveMembers(users(&mut f))),
        "assignRole" => id_of(&mut f, "roleId", b.role_id.as_deref(), RoleId::parse).map(BatchEdit::AssignRole),
        "removeRole" => id_of(&mut f, "roleId", b.role_id.as_deref(), RoleId::parse).map(BatchEdit::RemoveRole),
        "grant" => {
            let res = id_of(&mut f, "resourceId", b.resource_id.as_deref(), ResourceId::parse);
            if b.level.is_none() {
                f.push("level", "is required for this action");
            }
            res.zip(b.level.clone()).map(|(r, l)| BatchEdit::Grant(r, l))
        }
        "revoke" => id_of(&mut f, "resourceId", b.resource_id.as_deref(), ResourceId::parse).map(BatchEdit::Revoke),
        "archive" => Some(BatchEdit::Archive),
        "unarchive" => Some(BatchEdit::Unarchive),
        "delete" => Some(BatchEdit::Delete),
        other => {
            f.push(
                "action",
                format!(
                    "`{other}` is not one of: addMembers, removeMembers, assignRole, removeRole, grant, revoke, archive, unarchive, delete"
                ),
            );
            None
        }
    };
    f.finish()?;
    let w = s.batch_edit_groups(&ctx, &groups, &checked(edit)?).await?;
    Ok(written(StatusCode::OK, w.revision, &BatchView { groups: w.value.groups, changes: w.value.changes }))
}
