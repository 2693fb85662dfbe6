//! Console sessions: only the hash of a session's secret is stored; a session belongs to a user
//! and goes with them, and one opened with an API token goes with that token too.

use crate::row::{opt_text, text, time};
use crate::{Db, StoreError, Writer};
use cohort_core::model::SignInMethod;
use cohort_core::permission::Permission;
use cohort_core::{TenantId, Timestamp, TokenId, UserId};
use sqlx::AnyConnection;
use std::ops::DerefMut;

/// A signed-in console session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    /// Who signed in.
    pub user_id: UserId,
    /// How.
    pub method: SignInMethod,
    /// The token they signed in with, when they signed in with one.
    pub token_id: Option<TokenId>,
    /// The `cohort:` permissions its user held at sign-in: losing one ends the session.
    pub held: Vec<Permission>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_seen_at: Timestamp,
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// The session whose secret hashes to `hash`.
    pub async fn get_session(&mut self, tenant: &TenantId, hash: &str) -> Result<Option<ConsoleSession>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, method, token_id, held, created_at, last_seen_at FROM console_sessions \
             WHERE tenant_id = $1 AND id_hash = $2",
        )
        .bind(tenant.as_str())
        .bind(hash)
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let held = text(&row, "held")?;
        Ok(Some(ConsoleSession {
            user_id: UserId::parse(&text(&row, "user_id")?)?,
            method: SignInMethod::parse("method", &text(&row, "method")?)?,
            token_id: opt_text(&row, "token_id")?.map(|t| TokenId::parse(&t)).transpose()?,
            held: held.split_whitespace().map(Permission::parse).collect::<Result<_, _>>()?,
            created_at: time(&row, "created_at")?,
            last_seen_at: time(&row, "last_seen_at")?,
        }))
    }

    /// Records that a session was used, at most once in `every` milliseconds, outside any change.
    pub async fn touch_session(
        &mut self,
        tenant: &TenantId,
        hash: &str,
        now: Timestamp,
        every: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id_hash = $2 AND last_seen_at < $4",
        )
        .bind(tenant.as_str())
        .bind(hash)
        .bind(now.millis())
        .bind(now.millis() - every)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Forgets a session that has timed out or lost its grounds, outside any change: nothing
    /// it held is changed by forgetting it.
    pub async fn forget_session(&mut self, tenant: &TenantId, hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM console_sessions WHERE tenant_id = $1 AND id_hash = $2")
            .bind(tenant.as_str())
            .bind(hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Writer {
    /// Opens a session.
    pub async fn insert_session(&mut self, hash: &str, s: &ConsoleSession) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let held: Vec<&str> = s.held.iter().map(Permission::as_str).collect();
        sqlx::query(
            "INSERT INTO console_sessions (tenant_id, id_hash, user_id, method, token_id, held, created_at, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant)
        .bind(hash)
        .bind(s.user_id.as_str())
        .bind(s.method.as_str())
        .bind(s.token_id.as_ref().map(|t| t.to_string()))
        .bind(held.join(" "))
        .bind(s.created_at.millis())
        .bind(s.last_seen_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Ends a session (signing out); false when there was none.
    pub async fn delete_session(&mut self, hash: &str) -> Result<bool, StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM console_sessions WHERE tenant_id = $1 AND id_hash = $2")
            .bind(tenant)
            .bind(hash)
            .execute(self.tx())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
