//! The change log: what each revision touched, so every server sharing the database can bring
//! its in-memory index up to date without reloading everything; and, on PostgreSQL, the
//! notification that tells them to.

use crate::row::{int, text};
use crate::{Backend, Db, Store, StoreError, Writer};
use cohort_core::TenantId;
use cohort_core::index::Touched;
use serde_json::{Value, json};
use sqlx::AnyConnection;
use std::ops::DerefMut;

/// The PostgreSQL channel that carries the id of a tenant that changed.
pub const CHANNEL: &str = "cohort_changes";

fn encode(t: &Touched) -> String {
    let ids = |it: Vec<String>| Value::Array(it.into_iter().map(Value::String).collect());
    json!({
        "users": ids(t.users.iter().map(ToString::to_string).collect()),
        "members": ids(t.members.iter().map(ToString::to_string).collect()),
        "groups": ids(t.groups.iter().map(ToString::to_string).collect()),
        "roles": ids(t.roles.iter().map(ToString::to_string).collect()),
        "resources": ids(t.resources.iter().map(ToString::to_string).collect()),
    })
    .to_string()
}

fn decode(s: &str) -> Result<Touched, StoreError> {
    let v: Value = serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("change: {e}")))?;
    let list = |k: &str| -> Vec<String> {
        v[k].as_array().map(|a| a.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    };
    Ok(Touched {
        users: list("users").iter().map(|s| cohort_core::UserId::parse(s)).collect::<Result<_, _>>()?,
        members: list("members").iter().map(|s| cohort_core::GroupId::parse(s)).collect::<Result<_, _>>()?,
        groups: list("groups").iter().map(|s| cohort_core::GroupId::parse(s)).collect::<Result<_, _>>()?,
        roles: list("roles").iter().map(|s| cohort_core::RoleId::parse(s)).collect::<Result<_, _>>()?,
        resources: list("resources").iter().map(|s| cohort_core::ResourceId::parse(s)).collect::<Result<_, _>>()?,
    })
}

impl Writer {
    /// Records what this change touched, and (on PostgreSQL) notifies other servers at commit.
    pub async fn record_change(&mut self, touched: &Touched) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let revision = self.revision;
        sqlx::query("INSERT INTO changes (tenant_id, revision, touched) VALUES ($1, $2, $3)")
            .bind(tenant.clone())
            .bind(revision)
            .bind(encode(touched))
            .execute(self.tx())
            .await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(tenant).execute(self.tx()).await?;
        }
        Ok(())
    }
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// What the revisions after `after`, up to and including `upto`, touched, merged. `None`
    /// when a revision in that range has no record (written before the change log existed),
    /// so the caller must reload the tenant whole.
    pub async fn changes_between(
        &mut self,
        tenant: &TenantId,
        after: i64,
        upto: i64,
    ) -> Result<Option<Touched>, StoreError> {
        let rows = sqlx::query(
            "SELECT revision, touched FROM changes WHERE tenant_id = $1 AND revision > $2 AND revision <= $3 \
             ORDER BY revision",
        )
        .bind(tenant.as_str())
        .bind(after)
        .bind(upto)
        .fetch_all(self.conn())
        .await?;
        if rows.len() as i64 != upto - after {
            return Ok(None);
        }
        let mut all = Touched::default();
        for row in &rows {
            let _ = int(row, "revision")?;
            all.merge(decode(&text(row, "touched")?)?);
        }
        Ok(Some(all))
    }
}

/// What a listener heard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// This tenant changed.
    Tenant(TenantId),
    /// The connection dropped and came back: notices may have been lost, check every tenant.
    Resync,
}

/// Notifications of changes made by any server sharing the PostgreSQL database.
pub struct ChangeListener(sqlx::postgres::PgListener);

impl ChangeListener {
    /// Waits for the next notice.
    pub async fn next(&mut self) -> Result<Notice, StoreError> {
        match self.0.try_recv().await? {
            Some(n) => Ok(TenantId::parse(n.payload()).map(Notice::Tenant).unwrap_or(Notice::Resync)),
            None => Ok(Notice::Resync),
        }
    }
}

impl Store {
    /// Listens for changes by other servers; `None` on SQLite, which one server owns alone.
    pub async fn listen(&self) -> Result<Option<ChangeListener>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut l = sqlx::postgres::PgListener::connect(&self.url).await?;
        l.listen(CHANNEL).await?;
        Ok(Some(ChangeListener(l)))
    }
}
