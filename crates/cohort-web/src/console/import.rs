//! A group's Import / export tab: the template, a CSV upload (or pasted rows), the preview of
//! what it would add, skip and refuse line by line, its confirmation, and the export.

use super::frame::{Tab, fail, group_frame, group_id, group_url, load};
use crate::shared::{AppState, csv_file};
use crate::sign_in::Signed;
use crate::sign_in::{self, Posted, Uploaded};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cohort_core::ImportId;
use cohort_service::error::ServiceError;
use cohort_service::{IMPORT_HEADER, ImportPreview};
use maud::html;

pub(super) fn routes() -> Router<AppState> {
    let base = "/t/{tenant}/portal/access-management/groups/{group}";
    Router::new()
        .route(&format!("{base}/import"), get(tab).post(preview))
        .route(&format!("{base}/import/template"), get(template))
        .route(&format!("{base}/import/{{import}}/confirm"), post(confirm))
        .route(&format!("{base}/export"), get(export))
}

async fn tab(State(s): State<AppState>, signed: Signed, Path((_, group)): Path<(String, String)>) -> Response {
    match load(&s, &signed, &group).await {
        Ok((g, n)) => {
            let url = group_url(&signed.tenant, &g.id);
            let may_import =
                signed.holdings.edits_members_of(&g.id) && g.status == cohort_core::model::GroupStatus::Active;
            let limit = s.config().max_import_rows;
            let body = html! {
                @if may_import {
                    section.card aria-labelledby="import-title" {
                        h2 #import-title { "Import members" }
                        p { "A CSV file with the header " code { (IMPORT_HEADER) } ", one user to a line: their email, and " code { "member" } " (the default) or " code { "manager" } ". At most " (limit) " rows. You see what it would do before anything changes." }
                        p { a href=(format!("{url}/import/template")) download { "Download the template" } }
                        form.stack method="post" action=(format!("{url}/import")) enctype="multipart/form-data" {
                            (signed.csrf_field())
                            div.field {
                                label for="file" { "CSV file" }
                                input #file type="file" name="file" accept=".csv,text/csv";
                            }
                            div.field {
                                label for="rows" { "Or paste the rows" }
                                textarea #rows name="rows" rows="5" spellcheck="false" placeholder=(format!("{IMPORT_HEADER}\nana@example.com,member")) {}
                            }
                            button.primary type="submit" { "Preview the import" }
                        }
                    }
                } @else {
                    p.muted { "Importing members needs the right to edit this group's members, and an active group." }
                }
                section.card aria-labelledby="export-title" {
                    h2 #export-title { "Export members" }
                    p { "Every membership row of this group as CSV: " code { "email,userId,role,source,expiresAt" } "." }
                    p { a.button href=(format!("{url}/export")) download { "Export CSV" } }
                }
            };
            group_frame(&signed, &g, n, Tab::Import, None, body).into_response()
        }
        Err(e) => fail(&signed, e),
    }
}

async fn template(State(s): State<AppState>, signed: Signed, Path((_, group)): Path<(String, String)>) -> Response {
    match load(&s, &signed, &group).await {
        Ok(_) => csv_file(format!("{IMPORT_HEADER}\r\n"), "members-template.csv"),
        Err(e) => fail(&signed, e),
    }
}

async fn export(State(s): State<AppState>, signed: Signed, Path((_, group)): Path<(String, String)>) -> Response {
    let done = async {
        let (g, _) = load(&s, &signed, &group).await?;
        Ok::<_, ServiceError>((s.export_members(&signed.ctx, &g.id).await?, g))
    }
    .await;
    match done {
        Ok((csv, g)) => csv_file(csv, &format!("{}-members.csv", g.slug)),
        Err(e) => fail(&signed, e),
    }
}

async fn preview(
    State(s): State<AppState>,
    Path((_, group)): Path<(String, String)>,
    Uploaded(signed, fields): Uploaded,
) -> Response {
    let field = |name: &str| fields.iter().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.clone());
    let Some(file) = field("file").or_else(|| field("rows")) else {
        return fail(&signed, ServiceError::BadRequest("choose a CSV file or paste its rows".to_owned()));
    };
    let done = async {
        let (g, n) = load(&s, &signed, &group).await?;
        let p = s.preview_member_import(&signed.ctx, &g.id, &file).await?.value;
        Ok::<_, ServiceError>((g, n, p))
    }
    .await;
    let (g, n, p) = match done {
        Ok(v) => v,
        Err(e) => return fail(&signed, e),
    };
    let url = group_url(&signed.tenant, &g.id);
    let ImportPreview { id, added, skipped, errors } = &p;
    let body = html! {
        h2 { "Preview" }
        p {
            strong { (added.len()) } " to add, " strong { (skipped.len()) } " skipped, " strong { (errors.len()) } " with errors. Nothing has changed yet."
        }
        @if !added.is_empty() {
            h3 { "To add" }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Line" } th scope="col" { "Email" } th scope="col" { "Role" } } }
                tbody { @for r in added { tr { td { (r.line) } td { (r.email) } td { (r.role.as_str()) } } } }
            } }
        }
        @if !skipped.is_empty() {
            h3 { "Skipped" }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Line" } th scope="col" { "Email" } th scope="col" { "Why" } } }
                tbody { @for r in skipped { tr { td { (r.line) } td { (r.email) } td { (r.reason) } } } }
            } }
        }
        @if !errors.is_empty() {
            h3 { "Errors" }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Line" } th scope="col" { "Why" } } }
                tbody { @for r in errors { tr { td { (r.line) } td.error { (r.reason) } } } }
            } }
        }
        @if added.is_empty() {
            p { "There is nothing to add. " a href=(format!("{url}/import")) { "Choose another file" } }
        } @else {
            form.actions method="post" action=(format!("{url}/import/{id}/confirm")) {
                (signed.csrf_field())
                button.primary type="submit" { "Confirm: add " (added.len()) " member" @if added.len() != 1 { "s" } }
                a href=(format!("{url}/import")) { "Cancel" }
            }
            @if !errors.is_empty() || !skipped.is_empty() { p.hint { "Rows skipped or with errors are left out; the others are added together." } }
        }
    };
    group_frame(&signed, &g, n, Tab::Import, None, body).into_response()
}

async fn confirm(
    State(s): State<AppState>,
    Path((_, group, import)): Path<(String, String, String)>,
    Posted(signed, sign_in::Nothing {}): Posted<sign_in::Nothing>,
) -> Response {
    let done = async {
        let id = group_id(&group)?;
        let import = ImportId::parse(&import).map_err(|_| ServiceError::NotFound(format!("import `{import}`")))?;
        s.confirm_member_import(&signed.ctx, &id, &import).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("{}?done=imported", group_url(&signed.tenant, &id))).into_response(),
        Err(e) => fail(&signed, e),
    }
}
