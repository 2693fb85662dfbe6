//! CSV import and export of a group's members, and export of users. An import is previewed
//! (what would be added, skipped and refused, line by line), kept, and applied as a whole on
//! confirm, in one transaction that checks every row again.

use super::authz::{Guard, scope};
use super::{Ctx, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::view::{MembershipView, rfc3339};
use cohort_core::csv;
use cohort_core::model::{Import, ImportRow, ImportRows, MemberRole, Membership, MembershipSource, UserImportRow};
use cohort_core::name::{Email, ShortText};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, ImportId, TenantId, UserId};
use cohort_store::{MembershipFilter, UserFilter};
use std::collections::BTreeMap;

/// The header an import file starts with (`role` may be left out).
pub const IMPORT_HEADER: &str = "email,role";

/// A row the preview will add.
#[derive(Clone, Debug)]
pub struct PreviewRow {
    /// Line in the file.
    pub line: usize,
    /// The email given.
    pub email: String,
    /// The user it names.
    pub user_id: UserId,
    /// Member or manager.
    pub role: MemberRole,
}

/// A row left out, and why (already a member, a duplicate of an earlier line).
#[derive(Clone, Debug)]
pub struct SkippedRow {
    /// Line in the file.
    pub line: usize,
    /// The email given.
    pub email: String,
    /// Why.
    pub reason: String,
}

/// A row that cannot be imported, and why.
#[derive(Clone, Debug)]
pub struct RowError {
    /// Line in the file.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// What an import would do.
#[derive(Clone, Debug)]
pub struct ImportPreview {
    /// The import, to confirm.
    pub id: ImportId,
    /// Rows to add.
    pub added: Vec<PreviewRow>,
    /// Rows left out.
    pub skipped: Vec<SkippedRow>,
    /// Rows refused.
    pub errors: Vec<RowError>,
}

/// What a confirmed import did.
#[derive(Clone, Debug)]
pub struct ImportOutcome {
    /// Memberships added.
    pub added: usize,
    /// Previewed rows left out because things changed since the preview.
    pub skipped: Vec<SkippedRow>,
}

/// One record of an import file, or why it could not be read.
type Read = Result<csv::Record, csv::Malformed>;

fn already_confirmed(id: &ImportId) -> ServiceError {
    ServiceError::Conflict("importId".to_owned(), format!("import `{id}` was already confirmed"))
}

fn file_error(message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: "file".to_owned(), message }])
}

impl Services {
    /// Reads an import file: its lowercased header (which `valid` accepts) and its records.
    /// Refused whole when it is not UTF-8, has no header or a wrong one, no rows, or more
    /// rows than the configured limit.
    fn read_import_file(
        &self,
        file: &[u8],
        expected: &str,
        valid: impl Fn(&[String]) -> bool,
    ) -> ServiceResult<(Vec<String>, Vec<Read>)> {
        let text = std::str::from_utf8(file).map_err(|e| {
            file_error(format!("the file is not UTF-8 text (invalid byte at offset {})", e.valid_up_to()))
        })?;
        let mut records = csv::read(text).into_iter();
        let header = match records.next() {
            None => return Err(file_error(format!("the file is empty: it needs the header `{expected}` and rows"))),
            Some(Err(m)) => return Err(file_error(format!("line {}: {}", m.line, m.reason))),
            Some(Ok(h)) => h.cells.iter().map(|c| c.trim().to_ascii_lowercase()).collect::<Vec<_>>(),
        };
        if !valid(&header) {
            return Err(file_error(format!(
                "the first line must be the header `{expected}`, not `{}`",
                header.join(",")
            )));
        }
        let records: Vec<_> = records.collect();
        if records.is_empty() {
            return Err(file_error("the file has a header but no rows".to_owned()));
        }
        if records.len() > self.config.max_import_rows {
            return Err(file_error(format!(
                "the file has {} rows; at most {} are imported at once: split it",
                records.len(),
                self.config.max_import_rows
            )));
        }
        Ok((header, records))
    }

    /// Reads an import file of `email,role` rows for `group` and keeps what it would do.
    /// Group managers may import ordinary members; making managers needs
    /// `cohort:groups.write`. The file is refused whole when it is not UTF-8, lacks the
    /// header, holds no rows, or holds more rows than the configured limit.
    pub async fn preview_member_import(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
        file: &[u8],
    ) -> ServiceResult<Written<ImportPreview>> {
        self.change(ctx, tenant, async |change| {
            let tenant = &change.tenant().clone();
            let now = self.now();
            let state = &change.before.state;
            let facts = state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let guard = Guard::new(ctx, &change.before, now);
            let proof = guard.require_or_manager(P::GroupsWrite, group)?;
            change.tx.allow(proof)?;
            let may_make_managers = guard.require(P::GroupsWrite).is_ok();
            if !facts.active {
                return Err(ServiceError::Conflict("groupId".to_owned(), format!("group `{group}` is archived")));
            }
            let records = self.read_import_file(file, IMPORT_HEADER, |h| h == ["email", "role"] || h == ["email"])?.1;
            let mut preview = ImportPreview {
                id: ImportId::generate(self.ids()),
                added: Vec::new(),
                skipped: Vec::new(),
                errors: Vec::new(),
            };
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for record in records {
                let record = match record {
                    Ok(r) => r,
                    Err(m) => {
                        preview.errors.push(RowError { line: m.line, reason: m.reason });
                        continue;
                    }
                };
                let line = record.line;
                let (email, role) = match record.cells.as_slice() {
                    [e] => (e.trim(), ""),
                    [e, r] => (e.trim(), r.trim()),
                    cells => {
                        preview
                            .errors
                            .push(RowError { line, reason: format!("{} cells; a row is `email,role`", cells.len()) });
                        continue;
                    }
                };
                let role = match role.to_ascii_lowercase().as_str() {
                    "" | "member" => MemberRole::Member,
                    "manager" => MemberRole::Manager,
                    other => {
                        preview
                            .errors
                            .push(RowError { line, reason: format!("role `{other}` is not `member` or `manager`") });
                        continue;
                    }
                };
                if role == MemberRole::Manager && !may_make_managers {
                    preview.errors.push(RowError {
                        line,
                        reason: "only holders of `cohort:groups.write` make managers".to_owned(),
                    });
                    continue;
                }
                let parsed = match Email::parse(email) {
                    Ok(e) => e,
                    Err(_) => {
                        preview.errors.push(RowError { line, reason: format!("`{email}` is not an email address") });
                        continue;
                    }
                };
                if let Some(first) = seen.get(&parsed.key()) {
                    preview.skipped.push(SkippedRow {
                        line,
                        email: email.to_owned(),
                        reason: format!("duplicate of line {first}"),
                    });
                    continue;
                }
                seen.insert(parsed.key(), line);
                let Some(user) = change.tx.read().user_by_email(tenant, &parsed).await? else {
                    preview.errors.push(RowError { line, reason: format!("no user has the email `{email}`") });
                    continue;
                };
                let state = &change.before.state;
                if state.rows(group, &user.id).any(|(_, f)| f.is_live(now)) {
                    preview.skipped.push(SkippedRow {
                        line,
                        email: email.to_owned(),
                        reason: "already a member".to_owned(),
                    });
                    continue;
                }
                preview.added.push(PreviewRow { line, email: email.to_owned(), user_id: user.id, role });
            }
            let kept = Import {
                id: preview.id.clone(),
                rows: ImportRows::Members(
                    group.clone(),
                    preview
                        .added
                        .iter()
                        .map(|r| ImportRow { line: r.line, user_id: r.user_id.clone(), role: r.role })
                        .collect(),
                ),
                created_by: Some(ctx.principal.user.clone()),
                created_at: now,
                applied_at: None,
            };
            change.tx.write()?.insert_import(&kept).await?;
            Ok(preview)
        })
        .await
    }

    /// Applies a previewed import in one transaction: every previewed row is added unless
    /// things changed (the user is gone or became a member meanwhile), and each added
    /// membership is audited. An import is confirmed once.
    pub async fn confirm_member_import(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        group: &GroupId,
        id: &ImportId,
    ) -> ServiceResult<Written<ImportOutcome>> {
        self.change(ctx, tenant, async |change| {
            let tenant = &change.tenant().clone();
            let now = self.now();
            let import = change.tx.read().get_import(tenant, id).await?;
            let Some((rows, applied_at)) = import.and_then(|i| match i.rows {
                ImportRows::Members(g, rows) if &g == group => Some((rows, i.applied_at)),
                _ => None,
            }) else {
                return Err(ServiceError::NotFound(format!("import `{id}`")));
            };
            let state = &change.before.state;
            let facts = state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let guard = Guard::new(ctx, &change.before, now);
            let proof = if rows.iter().any(|r| r.role == MemberRole::Manager) {
                guard.require(P::GroupsWrite)?
            } else {
                guard.require_or_manager(P::GroupsWrite, group)?
            };
            change.tx.allow(proof)?;
            if applied_at.is_some() {
                return Err(already_confirmed(id));
            }
            if !facts.active {
                return Err(ServiceError::Conflict("groupId".to_owned(), format!("group `{group}` is archived")));
            }
            let mut outcome = ImportOutcome { added: 0, skipped: Vec::new() };
            let mut added = Vec::new();
            for row in &rows {
                let skip = |reason: &str| SkippedRow {
                    line: row.line,
                    email: row.user_id.to_string(),
                    reason: reason.to_owned(),
                };
                if state.user(&row.user_id).is_none() {
                    outcome.skipped.push(skip("the user no longer exists"));
                } else if state.rows(group, &row.user_id).any(|(_, f)| f.is_live(now)) {
                    outcome.skipped.push(skip("became a member since the preview"));
                } else {
                    added.push(Membership {
                        group_id: group.clone(),
                        user_id: row.user_id.clone(),
                        source: MembershipSource::Import,
                        role: row.role,
                        expires_at: None,
                        added_by: Some(ctx.principal.user.clone()),
                        added_at: now,
                        reason: ShortText::parse("reason", &format!("CSV import {id}"), false)?,
                    });
                }
            }
            change.tx.write()?.put_memberships(&added).await?;
            for m in &added {
                change.touch_user(&m.user_id);
                self.audit(
                    change,
                    ctx.into(),
                    "membership.add",
                    ("group", group.as_str()),
                    None::<&()>,
                    Some(&MembershipView::new(m, now)),
                );
            }
            change.tx.write()?.mark_import_applied(id, now).await?;
            outcome.added = added.len();
            Ok(outcome)
        })
        .await
    }

    /// A group's membership rows as CSV (`email,userId,role,source,expiresAt`), cells escaped
    /// so that no spreadsheet runs one as a formula.
    pub async fn export_members(&self, ctx: &Ctx, tenant: &TenantId, group: &GroupId) -> ServiceResult<String> {
        let tenant_id = scope(ctx, tenant)?;
        let mut out = csv::row(["email", "userId", "role", "source", "expiresAt"]);
        let mut after = None;
        loop {
            let filter = MembershipFilter { after_user: after.clone(), limit: 1000 };
            let rows = self.list_members(ctx, tenant_id, group, &filter).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.user_id.clone());
            let mut r = self.store.read().await?;
            for m in &rows {
                let email = r.get_user(tenant_id, &m.user_id).await?.and_then(|u| u.email).map(|e| e.to_string());
                let expires = m.expires_at.map(rfc3339).unwrap_or_default();
                out.push_str(&csv::row([
                    email.as_deref().unwrap_or(""),
                    m.user_id.as_str(),
                    m.role.as_str(),
                    m.source.as_str(),
                    expires.as_str(),
                ]));
            }
        }
        Ok(out)
    }

    /// Every user as CSV (`email,userId,userName,displayName,department,title,status`).
    pub async fn export_users(&self, ctx: &Ctx, tenant: &TenantId) -> ServiceResult<String> {
        let mut out = csv::row(["email", "userId", "userName", "displayName", "department", "title", "status"]);
        let mut filter = UserFilter { limit: 1000, ..UserFilter::default() };
        loop {
            let users = self.list_users(ctx, tenant, &filter).await?;
            for u in &users {
                let email = u.email.as_ref().map(ToString::to_string).unwrap_or_default();
                let name = u.user_name.as_ref().map(ToString::to_string).unwrap_or_default();
                out.push_str(&csv::row([
                    email.as_str(),
                    u.id.as_str(),
                    name.as_str(),
                    u.display_name.as_str(),
                    u.department.as_str(),
                    u.title.as_str(),
                    u.status.as_str(),
                ]));
            }
            match users.last() {
                Some(last) if users.len() as i64 == filter.limit => {
                    filter.after = Some(cohort_store::After { key: last.email_key(), id: last.id.to_string() });
                }
                _ => break,
            }
        }
        Ok(out)
    }
}

/// The header of a users import (`email` is required; the other columns may be left out or
/// come in any order; `groups` holds group slugs separated by `;`).
pub const USER_IMPORT_HEADER: &str = "email,displayName,department,title,groups";

const USER_COLUMNS: &[&str] = &["email", "displayname", "department", "title", "groups"];

/// A user a users import will create.
#[derive(Clone, Debug)]
pub struct UserPreviewRow {
    /// Line in the file.
    pub line: usize,
    /// Email.
    pub email: String,
    /// The groups they will be put in.
    pub groups: Vec<GroupId>,
}

/// What a users import would do.
#[derive(Clone, Debug)]
pub struct UserImportPreview {
    /// The import, to confirm.
    pub id: ImportId,
    /// Users to create.
    pub added: Vec<UserPreviewRow>,
    /// Rows left out (the email is taken, a duplicate line).
    pub skipped: Vec<SkippedRow>,
    /// Rows refused.
    pub errors: Vec<RowError>,
}

impl Services {
    /// Reads a file of new users (`email,displayName,department,title,groups`) and keeps what
    /// it would do. Needs `cohort:users.write`; putting users in groups also needs
    /// `cohort:groups.write`.
    pub async fn preview_user_import(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        file: &[u8],
    ) -> ServiceResult<Written<UserImportPreview>> {
        self.change(ctx, tenant, async |change| {
            let tenant = &change.tenant().clone();
            let now = self.now();
            let guard = Guard::new(ctx, &change.before, now);
            let proof = guard.require(P::UsersWrite)?;
            change.tx.allow(proof)?;
            let may_add_to_groups = guard.require(P::GroupsWrite).is_ok();
            let (header, records) = self.read_import_file(file, USER_IMPORT_HEADER, |h| {
                h.first().is_some_and(|c| c == "email")
                    && h.iter().all(|c| USER_COLUMNS.contains(&c.as_str()))
                    && h.iter().collect::<std::collections::BTreeSet<_>>().len() == h.len()
            })?;
            let column = |name: &str| header.iter().position(|c| c == name);
            let (display, department, title, groups_at) =
                (column("displayname"), column("department"), column("title"), column("groups"));
            let mut preview = UserImportPreview {
                id: ImportId::generate(self.ids()),
                added: Vec::new(),
                skipped: Vec::new(),
                errors: Vec::new(),
            };
            let mut rows = Vec::new();
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for record in records {
                let record = match record {
                    Ok(r) => r,
                    Err(m) => {
                        preview.errors.push(RowError { line: m.line, reason: m.reason });
                        continue;
                    }
                };
                let line = record.line;
                if record.cells.len() != header.len() {
                    let reason = format!("{} cells; the header has {}", record.cells.len(), header.len());
                    preview.errors.push(RowError { line, reason });
                    continue;
                }
                let cell = |at: Option<usize>| at.and_then(|i| record.cells.get(i)).map_or("", |c| c.trim());
                let email_text = cell(Some(0));
                let Ok(email) = Email::parse(email_text) else {
                    preview.errors.push(RowError { line, reason: format!("`{email_text}` is not an email address") });
                    continue;
                };
                let text = |field: &str, at: Option<usize>| ShortText::parse(field, cell(at), false);
                let (display_name, dept, job) = match (
                    ShortText::parse(
                        "displayName",
                        if cell(display).is_empty() { email_text } else { cell(display) },
                        false,
                    ),
                    text("department", department),
                    text("title", title),
                ) {
                    (Ok(a), Ok(b), Ok(c)) => (a, b, c),
                    (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                        preview.errors.push(RowError { line, reason: e.to_string() });
                        continue;
                    }
                };
                if let Some(first) = seen.get(&email.key()) {
                    let reason = format!("duplicate of line {first}");
                    preview.skipped.push(SkippedRow { line, email: email_text.to_owned(), reason });
                    continue;
                }
                seen.insert(email.key(), line);
                let mut groups = Vec::new();
                let mut refused = None;
                for slug in cell(groups_at).split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    let found = match cohort_core::name::GroupSlug::parse(slug) {
                        Ok(s) => change.tx.read().group_slug_owner(tenant, &s).await?,
                        Err(_) => None,
                    };
                    match found {
                        None => refused = Some(format!("no group has the slug `{slug}`")),
                        Some(g) if change.before.state.group(&g).is_some_and(|f| !f.active) => {
                            refused = Some(format!("group `{slug}` is archived"));
                        }
                        Some(g) => groups.push(g),
                    }
                }
                if refused.is_none() && !groups.is_empty() && !may_add_to_groups {
                    refused = Some("putting users in groups needs `cohort:groups.write`".to_owned());
                }
                if let Some(reason) = refused {
                    preview.errors.push(RowError { line, reason });
                    continue;
                }
                if change.tx.read().user_by_email(tenant, &email).await?.is_some() {
                    let reason = "a user has this email already".to_owned();
                    preview.skipped.push(SkippedRow { line, email: email_text.to_owned(), reason });
                    continue;
                }
                preview.added.push(UserPreviewRow { line, email: email_text.to_owned(), groups: groups.clone() });
                rows.push(UserImportRow { line, email, display_name, department: dept, title: job, groups });
            }
            let kept = Import {
                id: preview.id.clone(),
                rows: ImportRows::Users(rows),
                created_by: Some(ctx.principal.user.clone()),
                created_at: now,
                applied_at: None,
            };
            change.tx.write()?.insert_import(&kept).await?;
            Ok(preview)
        })
        .await
    }

    /// Creates the users of a previewed import with their memberships, in one transaction:
    /// a row whose email was taken or whose group went away since the preview is left out.
    pub async fn confirm_user_import(
        &self,
        ctx: &Ctx,
        tenant: &TenantId,
        id: &ImportId,
    ) -> ServiceResult<Written<ImportOutcome>> {
        self.change(ctx, tenant, async |change| {
            let tenant = &change.tenant().clone();
            let now = self.now();
            let proof = Guard::new(ctx, &change.before, now).require(P::UsersWrite)?;
            change.tx.allow(proof)?;
            let import = change.tx.read().get_import(tenant, id).await?;
            let Some((rows, applied_at)) = import.and_then(|i| match i.rows {
                ImportRows::Users(rows) => Some((rows, i.applied_at)),
                ImportRows::Members(..) => None,
            }) else {
                return Err(ServiceError::NotFound(format!("import `{id}`")));
            };
            let guard = Guard::new(ctx, &change.before, now);
            if rows.iter().any(|r| !r.groups.is_empty()) {
                guard.require(P::GroupsWrite)?;
            }
            if applied_at.is_some() {
                return Err(already_confirmed(id));
            }
            let mut outcome = ImportOutcome { added: 0, skipped: Vec::new() };
            let mut memberships = Vec::new();
            let mut created = Vec::new();
            for row in rows {
                let skip = |reason: &str| SkippedRow {
                    line: row.line,
                    email: row.email.to_string(),
                    reason: reason.to_owned(),
                };
                let state = &change.before.state;
                if row.groups.iter().any(|g| !state.group(g).is_some_and(|f| f.active)) {
                    outcome.skipped.push(skip("one of its groups was deleted or archived since the preview"));
                    continue;
                }
                if change.tx.read().user_by_email(tenant, &row.email).await?.is_some() {
                    outcome.skipped.push(skip("the email was taken since the preview"));
                    continue;
                }
                let user = cohort_core::model::User {
                    id: UserId::generate(self.ids()),
                    email: Some(row.email),
                    user_name: None,
                    display_name: row.display_name,
                    department: row.department,
                    title: row.title,
                    attributes: cohort_core::name::Attributes::default(),
                    sso_groups: cohort_core::name::SsoGroups::default(),
                    status: cohort_core::model::UserStatus::Active,
                    external_id: None,
                    created_at: now,
                    updated_at: now,
                };
                change.tx.write()?.insert_user(&user).await?;
                change.touch_user(&user.id);
                self.audit(
                    change,
                    ctx.into(),
                    "user.create",
                    ("user", user.id.as_str()),
                    None::<&()>,
                    Some(&crate::view::UserView::from(&user)),
                );
                for g in row.groups {
                    memberships.push(Membership {
                        group_id: g,
                        user_id: user.id.clone(),
                        source: MembershipSource::Import,
                        role: MemberRole::Member,
                        expires_at: None,
                        added_by: Some(ctx.principal.user.clone()),
                        added_at: now,
                        reason: ShortText::parse("reason", &format!("CSV import {id}"), false)?,
                    });
                }
                outcome.added += 1;
                created.push(user);
            }
            change.tx.write()?.put_memberships(&memberships).await?;
            let pairs: Vec<_> = created.iter().map(|u| (None, Some(u))).collect();
            self.reassign_in(change, ctx.into(), &pairs).await?;
            for m in &memberships {
                self.audit(
                    change,
                    ctx.into(),
                    "membership.add",
                    ("group", m.group_id.as_str()),
                    None::<&()>,
                    Some(&MembershipView::new(m, now)),
                );
            }
            change.tx.write()?.mark_import_applied(id, now).await?;
            Ok(outcome)
        })
        .await
    }
}
