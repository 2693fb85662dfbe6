//! Membership rows: one per (group, user, source).

use crate::row::{opt_text, opt_time, text, time};
use crate::sql::{Arg, ROWS_PER_STATEMENT, Sql};
use crate::{Db, StoreError, Writer};
use cohort_core::model::{MemberRole, Membership, MembershipSource};
use cohort_core::name::ShortText;
use cohort_core::{GroupId, TenantId, UserId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

/// Which rows of a group to list.
#[derive(Clone, Debug, Default)]
pub struct MembershipFilter {
    /// Continue after this user id.
    pub after_user: Option<UserId>,
    /// At most this many users (all their rows are returned).
    pub limit: i64,
}

fn membership(row: &AnyRow) -> Result<Membership, StoreError> {
    Ok(Membership {
        group_id: GroupId::parse(&text(row, "group_id")?)?,
        user_id: UserId::parse(&text(row, "user_id")?)?,
        source: MembershipSource::parse("source", &text(row, "source")?)?,
        role: MemberRole::parse("role", &text(row, "role")?)?,
        expires_at: opt_time(row, "expires_at")?,
        added_by: opt_text(row, "added_by")?.map(|s| UserId::parse(&s)).transpose()?,
        added_at: time(row, "added_at")?,
        reason: ShortText::parse("reason", &text(row, "reason")?, false)?,
    })
}

const COLUMNS: &str = "SELECT group_id, user_id, source, role, expires_at, added_by, added_at, reason FROM memberships";

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// The rows of a group for a page of users, by user id.
    pub async fn list_memberships(
        &mut self,
        tenant: &TenantId,
        group: &GroupId,
        f: &MembershipFilter,
    ) -> Result<Vec<Membership>, StoreError> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE tenant_id = ").bind(Arg::Text(tenant.to_string()));
        sql.push(" AND group_id = ").bind(Arg::Text(group.to_string()));
        sql.push(" AND user_id IN (SELECT DISTINCT user_id FROM memberships WHERE tenant_id = ")
            .bind(Arg::Text(tenant.to_string()));
        sql.push(" AND group_id = ").bind(Arg::Text(group.to_string()));
        if let Some(u) = &f.after_user {
            sql.push(" AND user_id > ").bind(Arg::Text(u.to_string()));
        }
        sql.push(" ORDER BY user_id LIMIT ").bind(Arg::Int(f.limit));
        sql.push(") ORDER BY user_id, source");
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        rows.iter().map(membership).collect()
    }

    /// Rows of a tenant whose expiry is at or before `now`, oldest first, at most `limit`.
    pub async fn expired_memberships(
        &mut self,
        tenant: &TenantId,
        now: cohort_core::Timestamp,
        limit: i64,
    ) -> Result<Vec<Membership>, StoreError> {
        let rows = sqlx::query(&format!(
            "{COLUMNS} WHERE tenant_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2 \
             ORDER BY expires_at, group_id, user_id, source LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(now.millis())
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(membership).collect()
    }

    /// The rows of one user in one group.
    pub async fn membership_rows(
        &mut self,
        tenant: &TenantId,
        group: &GroupId,
        user: &UserId,
    ) -> Result<Vec<Membership>, StoreError> {
        let rows =
            sqlx::query(&format!("{COLUMNS} WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3 ORDER BY source"))
                .bind(tenant.as_str())
                .bind(group.as_str())
                .bind(user.as_str())
                .fetch_all(self.conn())
                .await?;
        rows.iter().map(membership).collect()
    }
}

impl Writer {
    /// Inserts a row, or replaces the row of the same group, user and source.
    pub async fn put_membership(&mut self, m: &Membership) -> Result<(), StoreError> {
        self.put_memberships(std::slice::from_ref(m)).await
    }

    /// Inserts rows (replacing rows of the same group, user and source), many per statement.
    pub async fn put_memberships(&mut self, rows: &[Membership]) -> Result<(), StoreError> {
        let rows: Vec<Vec<Arg>> = rows
            .iter()
            .map(|m| {
                vec![
                    Arg::Text(self.tenant.to_string()),
                    Arg::Text(m.group_id.to_string()),
                    Arg::Text(m.user_id.to_string()),
                    Arg::Text(m.source.as_str().to_owned()),
                    Arg::Text(m.role.as_str().to_owned()),
                    Arg::OptInt(m.expires_at.map(|t| t.millis())),
                    Arg::OptText(m.added_by.as_ref().map(ToString::to_string)),
                    Arg::Int(m.added_at.millis()),
                    Arg::Text(m.reason.as_str().to_owned()),
                ]
            })
            .collect();
        self.insert_rows(
            "INSERT INTO memberships (tenant_id, group_id, user_id, source, role, expires_at, added_by, added_at, \
             reason) ",
            &rows,
            " ON CONFLICT (tenant_id, group_id, user_id, source) DO UPDATE SET role = excluded.role, \
             expires_at = excluded.expires_at, added_by = excluded.added_by, added_at = excluded.added_at, \
             reason = excluded.reason",
        )
        .await
    }

    /// Deletes one row.
    pub async fn delete_membership(
        &mut self,
        group: &GroupId,
        user: &UserId,
        source: MembershipSource,
    ) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query(
            "DELETE FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3 AND source = $4",
        )
        .bind(tenant)
        .bind(group.as_str())
        .bind(user.as_str())
        .bind(source.as_str())
        .execute(self.tx())
        .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Deletes the rows of these users in one group that came from one source, many per
    /// statement.
    pub async fn delete_memberships(
        &mut self,
        group: &GroupId,
        source: MembershipSource,
        users: &[UserId],
    ) -> Result<(), StoreError> {
        for chunk in users.chunks(ROWS_PER_STATEMENT) {
            let mut sql = Sql::new("DELETE FROM memberships WHERE tenant_id = ");
            sql.bind(Arg::Text(self.tenant.to_string()));
            sql.push(" AND group_id = ").bind(Arg::Text(group.to_string()));
            sql.push(" AND source = ").bind(Arg::Text(source.as_str().to_owned()));
            let ids: Vec<Vec<Arg>> = chunk.iter().map(|u| vec![Arg::Text(u.to_string())]).collect();
            sql.push(" AND user_id IN (").json_rows(self.backend, &ids).push(")");
            sql.query()?.execute(self.tx()).await?;
        }
        Ok(())
    }
}
