//! CSV imports, of a group's members and of new users, through one pipeline: a file is read
//! (refused whole when it cannot be), each line is judged against the tenant (added, skipped
//! or refused, with why), what would be added is kept, and on confirm it is applied as a whole
//! in one transaction that judges every kept row again.

use super::authz::Guard;
use super::snapshot::MembershipSnapshot;
use super::user_type::known_type;
use super::{Change, Ctx, NewUser, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::csv;
use cohort_core::model::UserStatus;
use cohort_core::model::{Import, ImportRow, ImportRows, MemberRole, Membership, MembershipSource, UserImportRow};
use cohort_core::name::{Attributes, Email, GroupSlug, ShortText, SsoGroups, UserType};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{GroupId, ImportId, Timestamp, UserId};
use std::collections::{BTreeMap, BTreeSet};

/// The header a members import file starts with (`role` may be left out).
pub const IMPORT_HEADER: &str = "email,role";

/// The header of a users import (`email` is required; the other columns may be left out or
/// come in any order; `groups` holds group slugs separated by `;`).
pub const USER_IMPORT_HEADER: &str = "email,displayName,department,title,type,groups";

const USER_COLUMNS: &[&str] = &["email", "displayname", "department", "title", "type", "groups"];

/// A row a members import will add.
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
pub struct ImportPreview<R = PreviewRow> {
    /// The import, to confirm.
    pub id: ImportId,
    /// Rows to add.
    pub added: Vec<R>,
    /// Rows left out.
    pub skipped: Vec<SkippedRow>,
    /// Rows refused.
    pub errors: Vec<RowError>,
}

/// What a users import would do.
pub type UserImportPreview = ImportPreview<UserPreviewRow>;

/// What a confirmed import did.
#[derive(Clone, Debug)]
pub struct ImportOutcome {
    /// Memberships (members import) or users (users import) added.
    pub added: usize,
    /// Previewed rows left out because things changed since the preview.
    pub skipped: Vec<SkippedRow>,
}

/// What one line comes to once judged against the tenant.
enum Verdict<S, K> {
    /// Added: what the preview shows, and what the import keeps.
    Add(S, K),
    /// Left out, and why.
    Skip(String),
    /// Refused, and why.
    Refuse(String),
}

/// One kind of import: how its lines are read and judged, and what it keeps of them.
trait Lines {
    /// What a line holds once read on its own.
    type Parsed;
    /// What the preview shows of a line it will apply.
    type Shown;
    /// What the import keeps of that line.
    type Kept;
    /// The header, as the file must give it.
    const HEADER: &'static str;
    /// Whether the (lowercased) header is one this import reads.
    fn header_ok(header: &[String]) -> bool;
    /// Reads one record on its own: the email it names (duplicates are found by it) as given
    /// and parsed, and what else it holds; or why it is refused.
    fn parse(&self, header: &[String], record: &csv::Record) -> Result<(String, Email, Self::Parsed), String>;
    /// Judges one line against the tenant, inside the change that keeps the import.
    async fn judge(
        &self,
        change: &mut Change,
        line: usize,
        email: (&str, Email),
        parsed: Self::Parsed,
    ) -> ServiceResult<Verdict<Self::Shown, Self::Kept>>;
}

/// The email and the membership role of a members import line.
struct MemberLines<'a> {
    group: &'a GroupId,
    may_make_managers: bool,
    now: Timestamp,
}

impl Lines for MemberLines<'_> {
    type Parsed = MemberRole;
    type Shown = PreviewRow;
    type Kept = ImportRow;
    const HEADER: &'static str = IMPORT_HEADER;

    fn header_ok(header: &[String]) -> bool {
        header == ["email", "role"] || header == ["email"]
    }

    fn parse(&self, _: &[String], record: &csv::Record) -> Result<(String, Email, MemberRole), String> {
        let (email, role) = match record.cells.as_slice() {
            [e] => (e.trim(), ""),
            [e, r] => (e.trim(), r.trim()),
            cells => return Err(format!("{} cells; a row is `email,role`", cells.len())),
        };
        let role = match role.to_ascii_lowercase().as_str() {
            "" | "member" => MemberRole::Member,
            "manager" => MemberRole::Manager,
            other => return Err(format!("role `{other}` is not `member` or `manager`")),
        };
        if role == MemberRole::Manager && !self.may_make_managers {
            return Err("only holders of `cohort:groups.write` make managers".to_owned());
        }
        let parsed = Email::parse(email).map_err(|_| format!("`{email}` is not an email address"))?;
        Ok((email.to_owned(), parsed, role))
    }

    async fn judge(
        &self,
        change: &mut Change,
        line: usize,
        (given, email): (&str, Email),
        role: MemberRole,
    ) -> ServiceResult<Verdict<PreviewRow, ImportRow>> {
        let tenant = change.tenant().clone();
        let Some(user) = change.tx.read().user_by_email(&tenant, &email).await? else {
            return Ok(Verdict::Refuse(format!("no user has the email `{given}`")));
        };
        let state = &change.before.state;
        if state.rows(self.group, &user.id).any(|(_, f)| f.is_live(self.now)) {
            return Ok(Verdict::Skip("already a member".to_owned()));
        }
        if let Err(e) = state.admits(self.group, &user.user_type) {
            return Ok(Verdict::Refuse(e.to_string()));
        }
        let shown = PreviewRow { line, email: given.to_owned(), user_id: user.id.clone(), role };
        Ok(Verdict::Add(shown, ImportRow { line, user_id: user.id, role }))
    }
}

/// A users import line: the user's fields and the slugs of their groups.
struct UserLines {
    may_add_to_groups: bool,
    /// The tenant's user types.
    types: BTreeSet<UserType>,
}

/// The fields of a users import line, read on their own.
struct UserFields {
    display_name: ShortText,
    department: ShortText,
    title: ShortText,
    user_type: Option<UserType>,
    slugs: Vec<String>,
}

impl Lines for UserLines {
    type Parsed = UserFields;
    type Shown = UserPreviewRow;
    type Kept = UserImportRow;
    const HEADER: &'static str = USER_IMPORT_HEADER;

    fn header_ok(h: &[String]) -> bool {
        h.first().is_some_and(|c| c == "email")
            && h.iter().all(|c| USER_COLUMNS.contains(&c.as_str()))
            && h.iter().collect::<BTreeSet<_>>().len() == h.len()
    }

    fn parse(&self, header: &[String], record: &csv::Record) -> Result<(String, Email, UserFields), String> {
        if record.cells.len() != header.len() {
            return Err(format!("{} cells; the header has {}", record.cells.len(), header.len()));
        }
        let cell = |name: &str| {
            header.iter().position(|c| c == name).and_then(|i| record.cells.get(i)).map_or("", |c| c.trim())
        };
        let given = cell("email");
        let email = Email::parse(given).map_err(|_| format!("`{given}` is not an email address"))?;
        let text = |field: &str, value: &str| ShortText::parse(field, value, false).map_err(|e| e.to_string());
        let display = cell("displayname");
        let user_type = match cell("type") {
            "" => None,
            t => Some(UserType::parse("type", t).map_err(|e| e.to_string())?),
        };
        let fields = UserFields {
            display_name: text("displayName", if display.is_empty() { given } else { display })?,
            department: text("department", cell("department"))?,
            title: text("title", cell("title"))?,
            user_type,
            slugs: cell("groups").split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        };
        Ok((given.to_owned(), email, fields))
    }

    async fn judge(
        &self,
        change: &mut Change,
        line: usize,
        (given, email): (&str, Email),
        fields: UserFields,
    ) -> ServiceResult<Verdict<UserPreviewRow, UserImportRow>> {
        let tenant = change.tenant().clone();
        let user_type = fields.user_type.unwrap_or_default();
        if let Err(e) = known_type(&self.types, &user_type) {
            return Ok(Verdict::Refuse(e.reason().to_owned()));
        }
        let mut groups = Vec::new();
        for slug in &fields.slugs {
            let found = match GroupSlug::parse(slug) {
                Ok(s) => change.tx.read().group_slug_owner(&tenant, &s).await?,
                Err(_) => None,
            };
            let Some(g) = found else {
                return Ok(Verdict::Refuse(format!("no group has the slug `{slug}`")));
            };
            let state = &change.before.state;
            if state.group(&g).is_some_and(|f| !f.active) {
                return Ok(Verdict::Refuse(format!("group `{slug}` is archived")));
            }
            if let Err(e) = state.admits(&g, &user_type) {
                return Ok(Verdict::Refuse(e.to_string()));
            }
            groups.push(g);
        }
        if !groups.is_empty() && !self.may_add_to_groups {
            return Ok(Verdict::Refuse("putting users in groups needs `cohort:groups.write`".to_owned()));
        }
        if change.tx.read().user_by_email(&tenant, &email).await?.is_some() {
            return Ok(Verdict::Skip("a user has this email already".to_owned()));
        }
        let shown = UserPreviewRow { line, email: given.to_owned(), groups: groups.clone() };
        let kept = UserImportRow {
            line,
            email,
            display_name: fields.display_name,
            department: fields.department,
            title: fields.title,
            user_type,
            groups,
        };
        Ok(Verdict::Add(shown, kept))
    }
}

fn already_confirmed(id: &ImportId) -> ServiceError {
    ServiceError::Conflict { field: "importId".to_owned(), reason: format!("import `{id}` was already confirmed") }
}

fn file_error(message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: "file".to_owned(), message }])
}

fn import_not_found(id: &ImportId) -> ServiceError {
    ServiceError::NotFound(format!("import `{id}`"))
}

impl Services {
    /// Reads an import file and judges each of its lines: what it would add is kept as import
    /// `id`, to confirm. The file is refused whole when it is not UTF-8, has no header or a
    /// wrong one, no rows, or more rows than the configured limit.
    async fn preview_import<L: Lines>(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        lines: &L,
        file: &[u8],
        keep: impl FnOnce(Vec<L::Kept>) -> ImportRows,
    ) -> ServiceResult<ImportPreview<L::Shown>> {
        let text = std::str::from_utf8(file).map_err(|e| {
            file_error(format!("the file is not UTF-8 text (invalid byte at offset {})", e.valid_up_to()))
        })?;
        let mut records = csv::read(text).into_iter();
        let header = match records.next() {
            None => return Err(file_error(format!("the file is empty: it needs the header `{}` and rows", L::HEADER))),
            Some(Err(m)) => return Err(file_error(format!("line {}: {}", m.line, m.reason))),
            Some(Ok(h)) => h.cells.iter().map(|c| c.trim().to_ascii_lowercase()).collect::<Vec<_>>(),
        };
        if !L::header_ok(&header) {
            return Err(file_error(format!(
                "the first line must be the header `{}`, not `{}`",
                L::HEADER,
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
        let mut preview = ImportPreview {
            id: ImportId::generate(self.ids()),
            added: Vec::new(),
            skipped: Vec::new(),
            errors: Vec::new(),
        };
        let mut kept = Vec::new();
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
            let (given, email, parsed) = match lines.parse(&header, &record) {
                Ok(p) => p,
                Err(reason) => {
                    preview.errors.push(RowError { line, reason });
                    continue;
                }
            };
            if let Some(first) = seen.get(&email.key()) {
                preview.skipped.push(SkippedRow { line, email: given, reason: format!("duplicate of line {first}") });
                continue;
            }
            seen.insert(email.key(), line);
            match lines.judge(change, line, (&given, email), parsed).await? {
                Verdict::Add(shown, row) => {
                    preview.added.push(shown);
                    kept.push(row);
                }
                Verdict::Skip(reason) => preview.skipped.push(SkippedRow { line, email: given, reason }),
                Verdict::Refuse(reason) => preview.errors.push(RowError { line, reason }),
            }
        }
        let import = Import {
            id: preview.id.clone(),
            rows: keep(kept),
            created_by: ctx.user().cloned(),
            created_at: self.now(),
            applied_at: None,
        };
        change.tx.write()?.insert_import(&import).await?;
        Ok(preview)
    }

    /// The rows kept by import `id` (read before the caller's permission check, which may
    /// depend on them) and whether it was applied already.
    async fn kept_import(&self, change: &mut Change, id: &ImportId) -> ServiceResult<(ImportRows, bool)> {
        let tenant = change.tenant().clone();
        let import = change.tx.read().get_import(&tenant, id).await?.ok_or_else(|| import_not_found(id))?;
        Ok((import.rows, import.applied_at.is_some()))
    }

    /// Adds the memberships a confirmed import makes (source `import`), each audited, and marks
    /// the import applied.
    async fn apply_import(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        id: &ImportId,
        rows: Vec<(GroupId, UserId, MemberRole)>,
    ) -> ServiceResult<()> {
        for g in rows.iter().map(|(g, _, _)| g).collect::<std::collections::BTreeSet<_>>() {
            self.check_hand_edit(change, g).await?;
        }
        let now = self.now();
        let reason = ShortText::parse("reason", &format!("CSV import {id}"), false)?;
        let added: Vec<Membership> = rows
            .into_iter()
            .map(|(group_id, user_id, role)| Membership {
                group_id,
                user_id,
                source: MembershipSource::Import,
                role,
                expires_at: None,
                added_by: ctx.user().cloned(),
                added_at: now,
                reason: reason.clone(),
            })
            .collect();
        change.tx.write()?.put_memberships(&added).await?;
        for m in &added {
            change.touch_user(&m.user_id);
            self.audit(
                change,
                ctx.into(),
                "membership.add",
                ("group", m.group_id.as_str()),
                None::<&()>,
                Some(&MembershipSnapshot::new(m, now)),
            );
        }
        change.tx.write()?.mark_import_applied(id, now).await?;
        Ok(())
    }

    /// Reads an import file of `email,role` rows for `group` and keeps what it would do.
    /// Group managers may import ordinary members; making managers needs
    /// `cohort:groups.write`.
    pub async fn preview_member_import(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        file: &[u8],
    ) -> ServiceResult<Written<ImportPreview>> {
        self.change(ctx, async |change| {
            let facts =
                change.before.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let active = facts.active;
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = guard.require_or_manager(P::GroupsWrite, group)?;
            let may_make_managers = guard.require(P::GroupsWrite).is_ok();
            change.tx.allow(proof)?;
            if !active {
                return Err(crate::error::archived("groupId", &change.before.state, group));
            }
            let lines = MemberLines { group, may_make_managers, now: self.now() };
            self.preview_import(change, ctx, &lines, file, |rows| ImportRows::Members(group.clone(), rows)).await
        })
        .await
    }

    /// Applies a previewed members import in one transaction: every previewed row is added
    /// unless things changed (the user is gone or became a member meanwhile). An import is
    /// confirmed once.
    pub async fn confirm_member_import(
        &self,
        ctx: &Ctx,
        group: &GroupId,
        id: &ImportId,
    ) -> ServiceResult<Written<ImportOutcome>> {
        self.change(ctx, async |change| {
            let (ImportRows::Members(g, rows), applied) = self.kept_import(change, id).await? else {
                return Err(import_not_found(id));
            };
            if &g != group {
                return Err(import_not_found(id));
            }
            let state = &change.before.state;
            let facts = state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = if rows.iter().any(|r| r.role == MemberRole::Manager) {
                guard.require(P::GroupsWrite)?
            } else {
                guard.require_or_manager(P::GroupsWrite, group)?
            };
            let active = facts.active;
            change.tx.allow(proof)?;
            if applied {
                return Err(already_confirmed(id));
            }
            if !active {
                return Err(crate::error::archived("groupId", &change.before.state, group));
            }
            let (now, state) = (self.now(), &change.before.state);
            let mut outcome = ImportOutcome { added: 0, skipped: Vec::new() };
            let mut added = Vec::new();
            for row in rows {
                let skip = |reason: String| SkippedRow { line: row.line, email: row.user_id.to_string(), reason };
                if state.user(&row.user_id).is_none() {
                    outcome.skipped.push(skip("the user no longer exists".to_owned()));
                } else if state.rows(group, &row.user_id).any(|(_, f)| f.is_live(now)) {
                    outcome.skipped.push(skip("became a member since the preview".to_owned()));
                } else if let Err(e) = state.admits_user(group, &row.user_id) {
                    outcome.skipped.push(skip(e.to_string()));
                } else {
                    added.push((group.clone(), row.user_id, row.role));
                }
            }
            outcome.added = added.len();
            self.apply_import(change, ctx, id, added).await?;
            Ok(outcome)
        })
        .await
    }

    /// Reads a file of new users (`email,displayName,department,title,type,groups`) and keeps
    /// what it would do. Needs `cohort:users.write`; putting users in groups also needs
    /// `cohort:groups.write`.
    pub async fn preview_user_import(&self, ctx: &Ctx, file: &[u8]) -> ServiceResult<Written<UserImportPreview>> {
        self.change(ctx, async |change| {
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = guard.require(P::UsersWrite)?;
            let may_add_to_groups = guard.require(P::GroupsWrite).is_ok();
            change.tx.allow(proof)?;
            let lines = UserLines { may_add_to_groups, types: self.user_types_in(change).await? };
            self.preview_import(change, ctx, &lines, file, ImportRows::Users).await
        })
        .await
    }

    /// Creates the users of a previewed import with their memberships, in one transaction:
    /// a row whose email was taken or whose group went away since the preview is left out.
    pub async fn confirm_user_import(&self, ctx: &Ctx, id: &ImportId) -> ServiceResult<Written<ImportOutcome>> {
        self.change(ctx, async |change| {
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::UsersWrite)?;
            let (ImportRows::Users(rows), applied) = self.kept_import(change, id).await? else {
                return Err(import_not_found(id));
            };
            if rows.iter().any(|r| !r.groups.is_empty()) {
                Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?;
            }
            change.tx.allow(proof)?;
            if applied {
                return Err(already_confirmed(id));
            }
            let tenant = change.tenant().clone();
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
                if row
                    .groups
                    .iter()
                    .any(|g| !state.group(g).is_some_and(|f| f.active) || state.admits(g, &row.user_type).is_err())
                {
                    outcome.skipped.push(skip("one of its groups was deleted, archived or changed since the preview"));
                    continue;
                }
                if change.tx.read().user_by_email(&tenant, &row.email).await?.is_some() {
                    outcome.skipped.push(skip("the email was taken since the preview"));
                    continue;
                }
                let new = NewUser {
                    email: Some(row.email),
                    display_name: row.display_name,
                    department: row.department,
                    title: row.title,
                    user_type: Some(row.user_type),
                    attributes: Attributes::default(),
                    sso_groups: SsoGroups::default(),
                    status: UserStatus::Active,
                    user_name: None,
                    external_id: None,
                    time_zone: None,
                };
                let user = self.create_user_in(change, ctx.into(), new).await?;
                memberships.extend(row.groups.into_iter().map(|g| (g, user.id.clone(), MemberRole::Member)));
                created.push(user);
            }
            outcome.added = created.len();
            let pairs: Vec<_> = created.iter().map(|u| (None, Some(u))).collect();
            self.reassign_in(change, ctx.into(), &pairs).await?;
            self.apply_import(change, ctx, id, memberships).await?;
            Ok(outcome)
        })
        .await
    }
}
