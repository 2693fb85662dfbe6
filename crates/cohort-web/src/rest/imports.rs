//! CSV in and out: `/groups/{id}/members/import` (preview), `.../import/{importId}/confirm`,
//! `.../import-template`, `/groups/{id}/members/export` and `/users/export`.

use super::extract::{Caller, path_id};
use super::{AppState, TenantPath, written};
use crate::problem::{ApiError, Problem};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cohort_core::{GroupId, ImportId};
use cohort_service::{
    IMPORT_HEADER, ImportOutcome, ImportPreview, RowError, SkippedRow, USER_IMPORT_HEADER, UserImportPreview,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_template))
        .routes(routes!(preview_import))
        .routes(routes!(confirm_import))
        .routes(routes!(export_members))
        .routes(routes!(export_users))
        .routes(routes!(user_import_template))
        .routes(routes!(preview_user_import))
        .routes(routes!(confirm_user_import))
}

/// A row an import will add.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportRowView {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// The email given.
    pub email: String,
    /// The user it names.
    pub user_id: String,
    /// `member` or `manager`.
    pub role: String,
}

/// A row left out or refused.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportIssueView {
    /// Line in the file.
    pub line: usize,
    /// The email given, when the row could be read.
    pub email: Option<String>,
    /// Why.
    pub reason: String,
}

/// How many rows fall in each part.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCounts {
    /// To add.
    pub added: usize,
    /// Left out.
    pub skipped: usize,
    /// Refused.
    pub errors: usize,
}

/// What an import would do; confirm it with its `importId`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportPreviewView {
    /// The import, to confirm.
    pub import_id: String,
    /// Counts.
    pub counts: ImportCounts,
    /// Rows to add.
    pub added: Vec<ImportRowView>,
    /// Rows left out (already members, duplicates).
    pub skipped: Vec<ImportIssueView>,
    /// Rows refused (unknown email, bad role, malformed row).
    pub errors: Vec<ImportIssueView>,
}

impl From<&ImportPreview> for ImportPreviewView {
    fn from(p: &ImportPreview) -> Self {
        Self {
            import_id: p.id.to_string(),
            counts: ImportCounts { added: p.added.len(), skipped: p.skipped.len(), errors: p.errors.len() },
            added: p
                .added
                .iter()
                .map(|r| ImportRowView {
                    line: r.line,
                    email: r.email.clone(),
                    user_id: r.user_id.to_string(),
                    role: r.role.as_str().to_owned(),
                })
                .collect(),
            skipped: skipped(&p.skipped),
            errors: errors(&p.errors),
        }
    }
}

/// A user a users import will create.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserImportRowView {
    /// Line in the file.
    pub line: usize,
    /// The email given.
    pub email: String,
    /// The groups they will be put in.
    pub group_ids: Vec<String>,
}

/// What a users import would do; confirm it with its `importId`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserImportPreviewView {
    /// The import, to confirm.
    pub import_id: String,
    /// Counts.
    pub counts: ImportCounts,
    /// Users to create.
    pub added: Vec<UserImportRowView>,
    /// Rows left out (the email is taken, duplicate lines).
    pub skipped: Vec<ImportIssueView>,
    /// Rows refused (malformed, bad email, unknown or archived group).
    pub errors: Vec<ImportIssueView>,
}

impl From<&UserImportPreview> for UserImportPreviewView {
    fn from(p: &UserImportPreview) -> Self {
        Self {
            import_id: p.id.to_string(),
            counts: ImportCounts { added: p.added.len(), skipped: p.skipped.len(), errors: p.errors.len() },
            added: p
                .added
                .iter()
                .map(|r| UserImportRowView {
                    line: r.line,
                    email: r.email.clone(),
                    group_ids: r.groups.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            skipped: skipped(&p.skipped),
            errors: errors(&p.errors),
        }
    }
}

/// What a confirmed import did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcomeView {
    /// Memberships added (source `import`).
    pub added: usize,
    /// Previewed rows left out because things changed since the preview (`email` holds the
    /// user id).
    pub skipped: Vec<ImportIssueView>,
}

impl From<&ImportOutcome> for ImportOutcomeView {
    fn from(o: &ImportOutcome) -> Self {
        Self { added: o.added, skipped: skipped(&o.skipped) }
    }
}

fn skipped(rows: &[SkippedRow]) -> Vec<ImportIssueView> {
    rows.iter()
        .map(|s| ImportIssueView { line: s.line, email: Some(s.email.clone()), reason: s.reason.clone() })
        .collect()
}

fn errors(rows: &[RowError]) -> Vec<ImportIssueView> {
    rows.iter().map(|e| ImportIssueView { line: e.line, email: None, reason: e.reason.clone() }).collect()
}

/// The file to fill in: the header `email,role`; role is `member` (default) or `manager`.
#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/members/import-template", tag = "members",
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = Problem)))]
async fn import_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    s.get_group(&ctx, &group).await?;
    Ok(crate::shared::csv_file(format!("{IMPORT_HEADER}\r\n"), "members-template.csv"))
}

/// Previews a CSV import of members (`text/csv`, `email,role` rows, at most 1,000 by
/// default): what would be added, skipped and refused, line by line. Nothing changes until
/// the import is confirmed.
#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/members/import", tag = "members",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = ImportPreviewView), (status = "4XX", body = Problem)))]
async fn preview_import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
    file: Bytes,
) -> Result<Response, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    let w = s.preview_member_import(&ctx, &group, &file).await?;
    Ok(written(StatusCode::CREATED, w.revision, &ImportPreviewView::from(&w.value)))
}

/// Applies a previewed import as a whole, in one transaction, re-checking each row.
#[utoipa::path(post, path = "/t/{tenant}/api/v1/groups/{groupId}/members/import/{importId}/confirm", tag = "members",
    responses((status = 200, body = ImportOutcomeView), (status = "4XX", body = Problem)))]
async fn confirm_import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (_, group, import) = path;
    let group = path_id(GroupId::parse, &group)?;
    let import = path_id(ImportId::parse, &import)?;
    let w = s.confirm_member_import(&ctx, &group, &import).await?;
    Ok(written(StatusCode::OK, w.revision, &ImportOutcomeView::from(&w.value)))
}

/// A group's membership rows as CSV (`email,userId,role,source,expiresAt`); cells starting
/// with `= + - @`, a tab or a carriage return are escaped with a leading `'`.
#[utoipa::path(get, path = "/t/{tenant}/api/v1/groups/{groupId}/members/export", tag = "members",
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = Problem)))]
async fn export_members(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let group = path_id(GroupId::parse, &path.1)?;
    Ok(crate::shared::csv_file(s.export_members(&ctx, &group).await?, "members.csv"))
}

/// Every user as CSV (`email,userId,userName,displayName,department,title,status`), escaped
/// the same way.
#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/export", tag = "users", params(TenantPath),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = Problem)))]
async fn export_users(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    Ok(crate::shared::csv_file(s.export_users(&ctx).await?, "users.csv"))
}

/// The file to fill in for a users import: `email,displayName,department,title,groups`
/// (`groups` holds group slugs separated by `;`; only `email` is required).
#[utoipa::path(get, path = "/t/{tenant}/api/v1/users/import-template", tag = "users", params(TenantPath),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = Problem)))]
async fn user_import_template(State(s): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    s.may_read_users(&ctx).await?;
    Ok(crate::shared::csv_file(format!("{USER_IMPORT_HEADER}\r\n"), "users-template.csv"))
}

/// Previews a CSV import that creates users with their groups (`text/csv`, at most 1,000
/// rows by default): who would be created, skipped and refused, line by line.
#[utoipa::path(post, path = "/t/{tenant}/api/v1/users/import", tag = "users", params(TenantPath),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = UserImportPreviewView), (status = "4XX", body = Problem)))]
async fn preview_user_import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    file: Bytes,
) -> Result<Response, ApiError> {
    let w = s.preview_user_import(&ctx, &file).await?;
    Ok(written(StatusCode::CREATED, w.revision, &UserImportPreviewView::from(&w.value)))
}

/// Creates the users of a previewed import with their memberships, in one transaction.
#[utoipa::path(post, path = "/t/{tenant}/api/v1/users/import/{importId}/confirm", tag = "users",
    responses((status = 200, body = ImportOutcomeView), (status = "4XX", body = Problem)))]
async fn confirm_user_import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(path): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let import = path_id(ImportId::parse, &path.1)?;
    let w = s.confirm_user_import(&ctx, &import).await?;
    Ok(written(StatusCode::OK, w.revision, &ImportOutcomeView::from(&w.value)))
}
