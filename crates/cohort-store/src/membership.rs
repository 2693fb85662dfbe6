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

/// How a page of a group's member rows is ordered (then by user id and source, so every row
/// has one place).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemberSort {
    /// By email, case-insensitively (users without one last).
    #[default]
    Email,
    /// By display name, case-insensitively.
    Name,
    /// Managers before members (by the role's name).
    Role,
    /// By source.
    Source,
    /// By when the row was added.
    Added,
    /// By expiry, rows that never expire last.
    Expiry,
}

impl MemberSort {
    /// Every order with its name in a query string.
    pub const ALL: [(Self, &'static str); 6] = [
        (Self::Email, "email"),
        (Self::Name, "name"),
        (Self::Role, "role"),
        (Self::Source, "source"),
        (Self::Added, "added"),
        (Self::Expiry, "expires"),
    ];

    /// The order named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(o, _)| *o)
    }

    /// Its name in a query string.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(o, _)| *o == self).map_or("email", |(_, n)| n)
    }

    /// The SQL expression sorted on.
    fn expression(self) -> &'static str {
        match self {
            Self::Email => "u.email_key",
            Self::Name => "LOWER(u.display_name)",
            Self::Role => "m.role",
            Self::Source => "m.source",
            Self::Added => "m.added_at",
            Self::Expiry => "COALESCE(m.expires_at, 9223372036854775807)",
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Self::Added | Self::Expiry)
    }
}

/// Where a page of member rows starts: just after (or, going back, just before) the row with
/// this sort key, user and source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberCursor {
    /// The row's sort key, as text.
    pub key: String,
    /// Its user.
    pub user: UserId,
    /// Its source.
    pub source: MembershipSource,
    /// Whether the page is the one before the row.
    pub backward: bool,
}

/// A page of a group's member rows: the rows whose user's email or display name holds `q`,
/// in `sort` order, from `from`.
#[derive(Clone, Debug, Default)]
pub struct MemberListing {
    /// Text the user's email or display name holds, case-insensitively.
    pub q: Option<String>,
    /// The order.
    pub sort: MemberSort,
    /// Whether the order is reversed.
    pub descending: bool,
    /// Where the page starts; the first page when absent.
    pub from: Option<MemberCursor>,
    /// Rows on the page.
    pub limit: i64,
}

/// One member row with its user and its sort key (for cursors).
#[derive(Clone, Debug)]
pub struct MemberRow {
    /// The row.
    pub membership: Membership,
    /// Its user.
    pub user: cohort_core::model::User,
    /// Its sort key, as text.
    pub key: String,
}

impl MemberRow {
    /// The cursor of the page after (or, `backward`, before) this row.
    pub fn cursor(&self, backward: bool) -> MemberCursor {
        MemberCursor {
            key: self.key.clone(),
            user: self.membership.user_id.clone(),
            source: self.membership.source,
            backward,
        }
    }
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// A page of a group's member rows with their users, and how many rows match in all.
    pub async fn member_rows(
        &mut self,
        tenant: &TenantId,
        group: &GroupId,
        l: &MemberListing,
    ) -> Result<(i64, Vec<MemberRow>), StoreError> {
        let matching = |sql: &mut Sql| {
            sql.push(" FROM memberships m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id");
            sql.push(" WHERE m.tenant_id = ").bind(Arg::Text(tenant.to_string()));
            sql.push(" AND m.group_id = ").bind(Arg::Text(group.to_string()));
            if let Some(q) = &l.q {
                let pattern = crate::sql::contains_pattern(q);
                sql.push(" AND ((u.email <> '' AND u.email_key LIKE ").bind(Arg::Text(pattern.clone()));
                sql.push(" ESCAPE '\\') OR LOWER(u.display_name) LIKE ").bind(Arg::Text(pattern)).push(" ESCAPE '\\')");
            }
        };
        let mut count = Sql::new("SELECT COUNT(*) AS n");
        matching(&mut count);
        let total = crate::row::int(&count.query()?.fetch_one(self.conn()).await?, "n")?;

        let key = l.sort.expression();
        let users = crate::user::NAMES.iter().map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let mut sql = Sql::new(&format!(
            "SELECT m.group_id, m.user_id, m.source, m.role, m.expires_at, m.added_by, m.added_at, m.reason, {users}, \
             {key} AS sort_key"
        ));
        matching(&mut sql);
        // Going back reads the rows before the cursor in the opposite order, then turns them round.
        let backward = l.from.as_ref().is_some_and(|c| c.backward);
        let ascending = l.descending == backward;
        if let Some(c) = &l.from {
            let key_arg = if l.sort.numeric() {
                Arg::Int(c.key.parse().map_err(|_| StoreError::Corrupt("a member cursor's key".to_owned()))?)
            } else {
                Arg::Text(c.key.clone())
            };
            sql.push(&format!(" AND ({key}, m.user_id, m.source) {} (", if ascending { ">" } else { "<" }));
            sql.bind(key_arg).push(", ").bind(Arg::Text(c.user.to_string()));
            sql.push(", ").bind(Arg::Text(c.source.as_str().to_owned())).push(")");
        }
        let dir = if ascending { "ASC" } else { "DESC" };
        sql.push(&format!(" ORDER BY sort_key {dir}, m.user_id {dir}, m.source {dir} LIMIT ")).bind(Arg::Int(l.limit));
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        let mut out = rows
            .iter()
            .map(|row| {
                let key = if l.sort.numeric() {
                    crate::row::int(row, "sort_key")?.to_string()
                } else {
                    text(row, "sort_key")?
                };
                Ok(MemberRow { membership: membership(row)?, user: crate::user::user(row)?, key })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if backward {
            out.reverse();
        }
        Ok((total, out))
    }
}
