//! Previewed CSV imports: the rows a preview found valid, kept until confirmed.

use crate::row::{opt_text, opt_time, text, time};
use crate::{Db, StoreError, Writer};
use cohort_core::model::{ImportRow, MemberImport, MemberRole};
use cohort_core::{GroupId, ImportId, TenantId, Timestamp, UserId};
use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

fn encode(rows: &[ImportRow]) -> String {
    Value::Array(rows.iter().map(|r| json!([r.line, r.user_id.as_str(), r.role.as_str()])).collect()).to_string()
}

fn decode(s: &str) -> Result<Vec<ImportRow>, StoreError> {
    let corrupt = || StoreError::Corrupt("import rows".to_owned());
    let Value::Array(items) = serde_json::from_str::<Value>(s).map_err(|_| corrupt())? else { return Err(corrupt()) };
    items
        .iter()
        .map(|i| {
            let line = i.get(0).and_then(Value::as_u64).ok_or_else(corrupt)?;
            let user = i.get(1).and_then(Value::as_str).ok_or_else(corrupt)?;
            let role = i.get(2).and_then(Value::as_str).ok_or_else(corrupt)?;
            Ok(ImportRow {
                line: usize::try_from(line).map_err(|_| corrupt())?,
                user_id: UserId::parse(user)?,
                role: MemberRole::parse("role", role)?,
            })
        })
        .collect()
}

fn import(row: &AnyRow) -> Result<MemberImport, StoreError> {
    Ok(MemberImport {
        id: ImportId::parse(&text(row, "id")?)?,
        group_id: GroupId::parse(&text(row, "group_id")?)?,
        rows: decode(&text(row, "rows_json")?)?,
        created_by: opt_text(row, "created_by")?.map(|u| UserId::parse(&u)).transpose()?,
        created_at: time(row, "created_at")?,
        applied_at: opt_time(row, "applied_at")?,
    })
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// One import.
    pub async fn get_import(&mut self, tenant: &TenantId, id: &ImportId) -> Result<Option<MemberImport>, StoreError> {
        let row = sqlx::query(
            "SELECT id, group_id, rows_json, created_by, created_at, applied_at FROM member_imports \
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
    pub async fn insert_import(&mut self, i: &MemberImport) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO member_imports (tenant_id, id, group_id, rows_json, created_by, created_at, applied_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(tenant)
        .bind(i.id.as_str())
        .bind(i.group_id.as_str())
        .bind(encode(&i.rows))
        .bind(i.created_by.as_ref().map(|u| u.to_string()))
        .bind(i.created_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Marks an import confirmed at `at`; it cannot be confirmed again.
    pub async fn mark_import_applied(&mut self, id: &ImportId, at: Timestamp) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query(
            "UPDATE member_imports SET applied_at = $3 WHERE tenant_id = $1 AND id = $2 AND applied_at IS NULL",
        )
        .bind(tenant)
        .bind(id.as_str())
        .bind(at.millis())
        .execute(self.tx())
        .await?;
        if done.rows_affected() == 0 { Err(StoreError::Conflict) } else { Ok(()) }
    }
}
