//! Previewed CSV imports: the rows a preview found valid, kept until confirmed.

use crate::row::{opt_text, opt_time, text, time};
use crate::{Db, StoreError, Writer};
use cohort_core::model::{Import, ImportRow, ImportRows, MemberRole, UserImportRow};
use cohort_core::name::{Email, ShortText, UserType};
use cohort_core::{GroupId, ImportId, TenantId, Timestamp, UserId};
use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

fn encode(rows: &ImportRows) -> (&'static str, Option<String>, String) {
    match rows {
        ImportRows::Members(group, rows) => (
            "members",
            Some(group.to_string()),
            Value::Array(rows.iter().map(|r| json!([r.line, r.user_id.as_str(), r.role.as_str()])).collect())
                .to_string(),
        ),
        ImportRows::Users(rows) => (
            "users",
            None,
            Value::Array(
                rows.iter()
                    .map(|r| {
                        json!([
                            r.line,
                            r.email.as_str(),
                            r.display_name.as_str(),
                            r.department.as_str(),
                            r.title.as_str(),
                            r.groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                            r.user_type.as_str()
                        ])
                    })
                    .collect(),
            )
            .to_string(),
        ),
    }
}

fn decode(kind: &str, group: Option<String>, s: &str) -> Result<ImportRows, StoreError> {
    let corrupt = || StoreError::Corrupt("import rows".to_owned());
    let Value::Array(items) = serde_json::from_str::<Value>(s).map_err(|_| corrupt())? else { return Err(corrupt()) };
    let line = |i: &Value| i.get(0).and_then(Value::as_u64).and_then(|l| usize::try_from(l).ok()).ok_or_else(corrupt);
    let str_at = |i: &Value, n: usize| i.get(n).and_then(Value::as_str).map(str::to_owned).ok_or_else(corrupt);
    match kind {
        "members" => {
            let group = GroupId::parse(&group.ok_or_else(corrupt)?)?;
            let rows = items
                .iter()
                .map(|i| {
                    Ok(ImportRow {
                        line: line(i)?,
                        user_id: UserId::parse(&str_at(i, 1)?)?,
                        role: MemberRole::parse("role", &str_at(i, 2)?)?,
                    })
                })
                .collect::<Result<_, StoreError>>()?;
            Ok(ImportRows::Members(group, rows))
        }
        "users" => {
            let rows = items
                .iter()
                .map(|i| {
                    let groups = i.get(5).and_then(Value::as_array).ok_or_else(corrupt)?;
                    Ok(UserImportRow {
                        line: line(i)?,
                        email: Email::parse(&str_at(i, 1)?)?,
                        display_name: ShortText::parse("displayName", &str_at(i, 2)?, false)?,
                        department: ShortText::parse("department", &str_at(i, 3)?, false)?,
                        title: ShortText::parse("title", &str_at(i, 4)?, false)?,
                        // Kept before user types: `member`.
                        user_type: match i.get(6) {
                            None => UserType::default(),
                            Some(_) => UserType::parse("type", &str_at(i, 6)?)?,
                        },
                        groups: groups
                            .iter()
                            .map(|g| GroupId::parse(g.as_str().unwrap_or_default()).map_err(StoreError::from))
                            .collect::<Result<_, _>>()?,
                    })
                })
                .collect::<Result<_, StoreError>>()?;
            Ok(ImportRows::Users(rows))
        }
        _ => Err(corrupt()),
    }
}

fn import(row: &AnyRow) -> Result<Import, StoreError> {
    Ok(Import {
        id: ImportId::parse(&text(row, "id")?)?,
        rows: decode(&text(row, "kind")?, opt_text(row, "group_id")?, &text(row, "rows_json")?)?,
        created_by: opt_text(row, "created_by")?.map(|u| UserId::parse(&u)).transpose()?,
        created_at: time(row, "created_at")?,
        applied_at: opt_time(row, "applied_at")?,
    })
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// One import.
    pub async fn get_import(&mut self, tenant: &TenantId, id: &ImportId) -> Result<Option<Import>, StoreError> {
        let row = sqlx::query(
            "SELECT id, kind, group_id, rows_json, created_by, created_at, applied_at FROM imports \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(import).transpose()
    }
}

impl Writer {
    /// Keeps a previewed import.
    pub async fn insert_import(&mut self, i: &Import) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let (kind, group, rows) = encode(&i.rows);
        sqlx::query(
            "INSERT INTO imports (tenant_id, id, kind, group_id, rows_json, created_by, created_at, applied_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(tenant)
        .bind(i.id.as_str())
        .bind(kind)
        .bind(group)
        .bind(rows)
        .bind(i.created_by.as_ref().map(|u| u.to_string()))
        .bind(i.created_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Marks an import confirmed at `at`; it cannot be confirmed again.
    pub async fn mark_import_applied(&mut self, id: &ImportId, at: Timestamp) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done =
            sqlx::query("UPDATE imports SET applied_at = $3 WHERE tenant_id = $1 AND id = $2 AND applied_at IS NULL")
                .bind(tenant)
                .bind(id.as_str())
                .bind(at.millis())
                .execute(self.tx())
                .await?;
        if done.rows_affected() == 0 {
            Err(StoreError::Conflict { field: "id".to_owned(), reason: "the import was already applied".to_owned() })
        } else {
            Ok(())
        }
    }
}
