//! Append-only migrations, one folder per backend, applied in order inside transactions.

use crate::{Backend, Store, StoreError};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_foundation.sql")),
    (2, include_str!("../migrations/sqlite/0002_resources_scopes_changes.sql")),
    (3, include_str!("../migrations/sqlite/0003_scim.sql")),
    (4, include_str!("../migrations/sqlite/0004_expiry.sql")),
    (5, include_str!("../migrations/sqlite/0005_imports.sql")),
    (6, include_str!("../migrations/sqlite/0006_rules.sql")),
    (7, include_str!("../migrations/sqlite/0007_user_types.sql")),
    (8, include_str!("../migrations/sqlite/0008_console_sessions.sql")),
    (9, include_str!("../migrations/sqlite/0009_sign_in.sql")),
    (10, include_str!("../migrations/sqlite/0010_member_counts.sql")),
    (11, include_str!("../migrations/sqlite/0011_audit_names.sql")),
    (12, include_str!("../migrations/sqlite/0012_time_zones.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_foundation.sql")),
    (2, include_str!("../migrations/postgres/0002_resources_scopes_changes.sql")),
    (3, include_str!("../migrations/postgres/0003_scim.sql")),
    (4, include_str!("../migrations/postgres/0004_expiry.sql")),
    (5, include_str!("../migrations/postgres/0005_imports.sql")),
    (6, include_str!("../migrations/postgres/0006_rules.sql")),
    (7, include_str!("../migrations/postgres/0007_user_types.sql")),
    (8, include_str!("../migrations/postgres/0008_console_sessions.sql")),
    (9, include_str!("../migrations/postgres/0009_sign_in.sql")),
    (10, include_str!("../migrations/postgres/0010_member_counts.sql")),
    (11, include_str!("../migrations/postgres/0011_audit_names.sql")),
    (12, include_str!("../migrations/postgres/0012_time_zones.sql")),
];

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let list = match store.backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let mut conn = store.pool.acquire().await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    for (version, script) in list {
        let mut tx = store.pool.begin().await?;
        if store.backend == Backend::Postgres {
            // Several servers may start at once; one applies, the others wait and skip.
            sqlx::query("LOCK TABLE schema_migrations IN EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(0_i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
    }
    Ok(())
}
