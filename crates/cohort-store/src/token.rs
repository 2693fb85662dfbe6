//! API tokens: only the hash of the secret is stored.

use crate::row::{boolean, opt_time, text, time};
use crate::{Db, StoreError, Writer};
use cohort_core::model::{ApiToken, TokenScope};
use cohort_core::name::Name;
use cohort_core::{TenantId, Timestamp, TokenId, UserId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

/// A token found by its secret's hash, with the tenant it belongs to.
#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The token.
    pub token: ApiToken,
}

fn token(row: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: TokenId::parse(&text(row, "id")?)?,
        user_id: UserId::parse(&text(row, "user_id")?)?,
        name: Name::parse("name", &text(row, "name")?)?,
        system: boolean(row, "system")?,
        scope: TokenScope::parse("scope", &text(row, "scope")?)?,
        created_at: time(row, "created_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
    })
}

const COLUMNS: &str = "SELECT tenant_id, id, user_id, name, system, scope, created_at, last_used_at FROM api_tokens";

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// The token whose secret hashes to `hash`, in any tenant.
    pub async fn token_by_hash(&mut self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row =
            sqlx::query(&format!("{COLUMNS} WHERE secret_hash = $1")).bind(hash).fetch_optional(self.conn()).await?;
        row.as_ref()
            .map(|r| Ok(TokenRecord { tenant_id: TenantId::parse(&text(r, "tenant_id")?)?, token: token(r)? }))
            .transpose()
    }

    /// One token.
    pub async fn get_token(&mut self, tenant: &TenantId, id: &TokenId) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query(&format!("{COLUMNS} WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(token).transpose()
    }

    /// Tokens of one user, or of everyone.
    pub async fn list_tokens(&mut self, tenant: &TenantId, user: Option<&UserId>) -> Result<Vec<ApiToken>, StoreError> {
        let rows = match user {
            Some(u) => {
                sqlx::query(&format!("{COLUMNS} WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id"))
                    .bind(tenant.as_str())
                    .bind(u.as_str())
                    .fetch_all(self.conn())
                    .await?
            }
            None => {
                sqlx::query(&format!("{COLUMNS} WHERE tenant_id = $1 ORDER BY created_at, id"))
                    .bind(tenant.as_str())
                    .fetch_all(self.conn())
                    .await?
            }
        };
        rows.iter().map(token).collect()
    }

    /// Records that a token was used, at most once a minute, outside any change.
    pub async fn touch_token(&mut self, tenant: &TenantId, id: &TokenId, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $4)",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(now.millis())
        .bind(now.millis() - 60_000)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Writer {
    /// Inserts a token with the hash of its secret.
    pub async fn insert_token(&mut self, t: &ApiToken, secret_hash: &str) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO api_tokens (tenant_id, id, user_id, name, secret_hash, system, created_at, last_used_at, \
             scope) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)",
        )
        .bind(tenant)
        .bind(t.id.as_str())
        .bind(t.user_id.as_str())
        .bind(t.name.as_str())
        .bind(secret_hash)
        .bind(t.system)
        .bind(t.created_at.millis())
        .bind(t.scope.as_str())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Replaces a token's secret; the old one stops working at commit, and so do the console
    /// sessions opened with it.
    pub async fn set_token_secret(&mut self, id: &TokenId, secret_hash: &str) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("DELETE FROM console_sessions WHERE tenant_id = $1 AND token_id = $2")
            .bind(&tenant)
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        let done = sqlx::query("UPDATE api_tokens SET secret_hash = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .bind(secret_hash)
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Revokes a token.
    pub async fn delete_token(&mut self, id: &TokenId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM api_tokens WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
