//! cohort's persistence: one storage interface over SQLite and PostgreSQL (sqlx, runtime
//! queries, append-only migrations per backend).
//!
//! Reads go through a [`Reader`]; every change goes through a [`Writer`], one database
//! transaction that first takes the tenant's write lock by bumping its revision, so writes
//! to one tenant are serialised across every server sharing the database.

mod audit;
mod change;
mod error;
mod group;
mod import;
pub mod listing;
mod membership;
mod migrate;
mod resource;
mod role;
mod row;
mod rule;
mod session;
mod sign_in;
mod sql;
mod state;
mod tenant;
#[cfg(feature = "testing")]
pub mod testing;
mod token;
mod user;

pub use audit::{AuditFilter, AuditRecord, NewAuditEvent};
pub use change::{ChangeListener, Notice};
pub use error::StoreError;
pub use group::GroupFilter;
pub use membership::{MemberCursor, MemberListing, MemberRow, MemberSort, MembershipFilter};
pub use resource::{ResourceFilter, builtin_resource_types};
pub use rule::RuleOutcome;
pub use session::ConsoleSession;
pub use sign_in::{Invitation, SignInFlow};
pub use token::TokenRecord;
pub use user::UserFilter;
pub use user::attributes_json;

use cohort_core::TenantId;
use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Transaction};
use std::ops::{Deref, DerefMut};

/// Which database a store runs on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A position in a sorted list: the sort key and id of the last item seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct After {
    /// The sort key of the last item.
    pub key: String,
    /// Its id.
    pub id: String,
}

/// The handle to the database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://...`), creating a SQLite file and
    /// its folder when missing, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(format!("creating {dir:?}: {e}")))?;
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            (Backend::Sqlite, format!("sqlite://{path}{sep}mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::Unavailable(format!(
                "unsupported database url `{url}`: use sqlite://PATH or postgres://..."
            )));
        };
        let options = AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 8 } else { 16 });
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                    // Checkpoints may leave a large WAL file behind; keep at most 64 MiB of it.
                    sqlx::query("PRAGMA journal_size_limit = 67108864").execute(&mut *conn).await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options.connect(&url).await?;
        let store = Self { pool, backend, url };
        migrate::run(&store).await?;
        if backend == Backend::Sqlite {
            // Reads at start-up are much faster from the database file than through a long WAL
            // (one that a crash or a reader kept from being checkpointed): fold it in first.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&store.pool).await?;
        }
        Ok(store)
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<Reader, StoreError> {
        Ok(Db(self.pool.acquire().await?))
    }

    /// A read-only transaction that sees one consistent snapshot of the database.
    pub async fn read_consistent(&self) -> Result<ConsistentReader, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
        }
        Ok(Db(tx))
    }

    /// Starts a change to `tenant`: opens a transaction and takes the tenant's write lock by
    /// bumping its revision. Nothing is visible to others until [`Writer::commit`].
    pub async fn write(&self, tenant: &TenantId) -> Result<Writer, StoreError> {
        let mut tx = self.pool.begin().await?;
        let revision: Option<i64> =
            sqlx::query_scalar("UPDATE tenants SET revision = revision + 1 WHERE id = $1 RETURNING revision")
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let revision = revision.ok_or(StoreError::NotFound)?;
        Ok(Writer { db: Db(tx), tenant: tenant.clone(), revision, backend: self.backend })
    }

    /// Creates a tenant at revision 1 and returns the change that seeds it, in the same
    /// transaction: the tenant exists only if its seed commits too.
    pub async fn create_tenant(&self, tenant: &cohort_core::model::Tenant) -> Result<Writer, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO tenants (id, slug, name, revision, created_at) VALUES ($1, $2, $3, 1, $4)")
            .bind(tenant.id.as_str())
            .bind(tenant.slug.as_str())
            .bind(tenant.name.as_str())
            .bind(tenant.created_at.millis())
            .execute(&mut *tx)
            .await?;
        Ok(Writer { db: Db(tx), tenant: tenant.id.clone(), revision: 1, backend: self.backend })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Database access over one connection; reads are available on every kind.
pub struct Db<C>(C);

/// A pooled connection for reads.
pub type Reader = Db<PoolConnection<Any>>;

/// A read-only transaction: several reads of one consistent snapshot.
pub type ConsistentReader = Db<Transaction<'static, Any>>;

/// Reads inside a change's transaction (what a [`Writer`] sees, without its writes).
pub type TxReader = Db<Transaction<'static, Any>>;

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.0
    }

    fn backend(&self) -> Backend {
        if self.0.backend_name() == "PostgreSQL" { Backend::Postgres } else { Backend::Sqlite }
    }

    /// Every row `rest` (`FROM ... WHERE ...` over `args`) selects, columns `names`, read at
    /// once through [`sql::json_agg`].
    async fn fetch_json<'n>(
        &mut self,
        names: &'n [&'n str],
        rest: &str,
        args: Vec<sql::Arg>,
    ) -> Result<Vec<row::JsonRow<'n>>, StoreError> {
        let sql = sql::Sql::with_args(&sql::json_agg(self.backend(), &names.join(", "), rest), args);
        let row = sql.query()?.fetch_one(self.conn()).await?;
        let all: Vec<Vec<serde_json::Value>> = serde_json::from_str(&row::text(&row, "rows")?)
            .map_err(|e| StoreError::Corrupt(format!("aggregated rows: {e}")))?;
        Ok(all.into_iter().map(|values| row::JsonRow { names, values }).collect())
    }
}

/// One change to one tenant, in one transaction.
pub struct Writer {
    db: Db<Transaction<'static, Any>>,
    tenant: TenantId,
    revision: i64,
    backend: Backend,
}

impl Writer {
    /// Runs `head` + rows + `tail` (`INSERT INTO t (columns) `, then an optional `ON CONFLICT`
    /// clause) over `rows`, [`sql::ROWS_PER_STATEMENT`] to a statement.
    async fn insert_rows(&mut self, head: &str, rows: &[Vec<sql::Arg>], tail: &str) -> Result<(), StoreError> {
        for chunk in rows.chunks(sql::ROWS_PER_STATEMENT) {
            let mut sql = sql::Sql::new(head);
            sql.json_rows(self.backend, chunk).push(tail);
            sql.query()?.execute(self.tx()).await?;
        }
        Ok(())
    }

    /// The revision this change will commit at.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// The tenant being changed.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Makes the change durable and visible.
    pub async fn commit(self) -> Result<i64, StoreError> {
        self.db.0.commit().await?;
        Ok(self.revision)
    }

    /// Undoes the change now, rather than when the connection is next used.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.db.0.rollback().await?;
        Ok(())
    }

    fn tx(&mut self) -> &mut AnyConnection {
        &mut self.db.0
    }
}

impl Deref for Writer {
    type Target = Db<Transaction<'static, Any>>;
    fn deref(&self) -> &Self::Target {
        &self.db
    }
}

impl DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.db
    }
}
