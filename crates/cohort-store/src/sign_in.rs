//! Sign-in: the tenant's identity provider, the provider identities users sign in with,
//! provider groups mapped onto cohort groups, code flows in progress, passwords (only their
//! Argon2id hashes) and one-time invitations (only the hash of their secret).

use crate::row::{boolean, opt_text, opt_time, text, time};
use crate::{Db, StoreError, Writer};
use cohort_core::model::IdentityProvider;
use cohort_core::{GroupId, TenantId, Timestamp, UserId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

/// A code flow begun at `/login/sso` and not yet returned from the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInFlow {
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where the person goes once signed in (a path of the same tenant).
    pub next_path: String,
    /// When the flow began.
    pub created_at: Timestamp,
}

/// An invitation to set a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Whose password it sets.
    pub user_id: UserId,
    /// Who made it.
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was used (it works once).
    pub used_at: Option<Timestamp>,
}

fn provider(row: &AnyRow) -> Result<IdentityProvider, StoreError> {
    Ok(IdentityProvider {
        issuer: text(row, "issuer")?,
        client_id: text(row, "client_id")?,
        client_secret: text(row, "client_secret")?,
        scopes: text(row, "scopes")?.split_whitespace().map(str::to_owned).collect(),
        groups_claim: text(row, "groups_claim")?,
        login_claim: text(row, "login_claim")?,
        email_claim: text(row, "email_claim")?,
        name_claim: text(row, "name_claim")?,
        create_users: boolean(row, "create_users")?,
        link_by_email: boolean(row, "link_by_email")?,
        sso_only: boolean(row, "sso_only")?,
        directory_url: opt_text(row, "directory_url")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// The tenant's identity provider, when one is set up.
    pub async fn get_identity_provider(&mut self, tenant: &TenantId) -> Result<Option<IdentityProvider>, StoreError> {
        let row = sqlx::query(
            "SELECT issuer, client_id, client_secret, scopes, groups_claim, login_claim, email_claim, name_claim, \
             create_users, link_by_email, sso_only, directory_url, created_at, updated_at \
             FROM identity_providers WHERE tenant_id = $1",
        )
        .bind(tenant.as_str())
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(provider).transpose()
    }

    /// The user who signs in as `subject` of `issuer`.
    pub async fn user_by_identity(
        &mut self,
        tenant: &TenantId,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserId>, StoreError> {
        let row =
            sqlx::query("SELECT user_id FROM user_identities WHERE tenant_id = $1 AND issuer = $2 AND subject = $3")
                .bind(tenant.as_str())
                .bind(issuer)
                .bind(subject)
                .fetch_optional(self.conn())
                .await?;
        row.as_ref().map(|r| Ok(UserId::parse(&text(r, "user_id")?)?)).transpose()
    }

    /// The provider groups mapped onto cohort groups: of one group, or every mapping.
    pub async fn list_sso_mappings(
        &mut self,
        tenant: &TenantId,
        group: Option<&GroupId>,
    ) -> Result<Vec<(GroupId, String)>, StoreError> {
        let rows = match group {
            Some(g) => sqlx::query(
                "SELECT group_id, provider_group FROM sso_mappings WHERE tenant_id = $1 AND group_id = $2 \
                 ORDER BY provider_group",
            )
            .bind(tenant.as_str())
            .bind(g.as_str())
            .fetch_all(self.conn())
            .await?,
            None => sqlx::query(
                "SELECT group_id, provider_group FROM sso_mappings WHERE tenant_id = $1 ORDER BY group_id, provider_group",
            )
            .bind(tenant.as_str())
            .fetch_all(self.conn())
            .await?,
        };
        rows.iter().map(|r| Ok((GroupId::parse(&text(r, "group_id")?)?, text(r, "provider_group")?))).collect()
    }

    /// Records a code flow begun, outside any change (it confers nothing), forgetting flows
    /// begun before `stale_before` on the way; returns how many of the tenant's flows are now
    /// in progress.
    pub async fn insert_sign_in_flow(
        &mut self,
        tenant: &TenantId,
        state_hash: &str,
        flow: &SignInFlow,
        stale_before: Timestamp,
    ) -> Result<i64, StoreError> {
        sqlx::query("DELETE FROM sign_in_flows WHERE created_at < $1")
            .bind(stale_before.millis())
            .execute(self.conn())
            .await?;
        sqlx::query(
            "INSERT INTO sign_in_flows (tenant_id, state_hash, nonce, verifier, next_path, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant.as_str())
        .bind(state_hash)
        .bind(&flow.nonce)
        .bind(&flow.verifier)
        .bind(&flow.next_path)
        .bind(flow.created_at.millis())
        .execute(self.conn())
        .await?;
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_flows WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(self.conn())
            .await?;
        Ok(pending)
    }

    /// Forgets a flow (one begun past the limit).
    pub async fn forget_sign_in_flow(&mut self, tenant: &TenantId, state_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_flows WHERE tenant_id = $1 AND state_hash = $2")
            .bind(tenant.as_str())
            .bind(state_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Takes the flow whose `state` hashes to `state_hash`: it is gone once taken, so a state
    /// is redeemed at most once whichever server the provider returns to. Flows begun before
    /// `stale_before` are forgotten on the way.
    pub async fn take_sign_in_flow(
        &mut self,
        tenant: &TenantId,
        state_hash: &str,
        stale_before: Timestamp,
    ) -> Result<Option<SignInFlow>, StoreError> {
        sqlx::query("DELETE FROM sign_in_flows WHERE created_at < $1")
            .bind(stale_before.millis())
            .execute(self.conn())
            .await?;
        let row = sqlx::query(
            "DELETE FROM sign_in_flows WHERE tenant_id = $1 AND state_hash = $2 \
             RETURNING nonce, verifier, next_path, created_at",
        )
        .bind(tenant.as_str())
        .bind(state_hash)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref()
            .map(|r| {
                Ok(SignInFlow {
                    nonce: text(r, "nonce")?,
                    verifier: text(r, "verifier")?,
                    next_path: text(r, "next_path")?,
                    created_at: time(r, "created_at")?,
                })
            })
            .transpose()
    }

    /// The Argon2id hash of a user's password, when they have set one.
    pub async fn password_hash(&mut self, tenant: &TenantId, user: &UserId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT hash FROM passwords WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(|r| text(r, "hash")).transpose()
    }

    /// The invitation whose secret hashes to `hash`.
    pub async fn get_invitation(&mut self, tenant: &TenantId, hash: &str) -> Result<Option<Invitation>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, created_by, created_at, expires_at, used_at FROM invitations \
             WHERE tenant_id = $1 AND id_hash = $2",
        )
        .bind(tenant.as_str())
        .bind(hash)
        .fetch_optional(self.conn())
        .await?;
        row.as_ref()
            .map(|r| {
                Ok(Invitation {
                    user_id: UserId::parse(&text(r, "user_id")?)?,
                    created_by: opt_text(r, "created_by")?.map(|u| UserId::parse(&u)).transpose()?,
                    created_at: time(r, "created_at")?,
                    expires_at: time(r, "expires_at")?,
                    used_at: opt_time(r, "used_at")?,
                })
            })
            .transpose()
    }
}

impl Writer {
    /// Sets up (or replaces) the tenant's identity provider.
    pub async fn put_identity_provider(&mut self, p: &IdentityProvider) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO identity_providers (tenant_id, issuer, client_id, client_secret, scopes, groups_claim, \
             login_claim, email_claim, name_claim, create_users, link_by_email, sso_only, directory_url, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (tenant_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, \
             client_secret = excluded.client_secret, scopes = excluded.scopes, groups_claim = excluded.groups_claim, \
             login_claim = excluded.login_claim, email_claim = excluded.email_claim, name_claim = excluded.name_claim, \
             create_users = excluded.create_users, link_by_email = excluded.link_by_email, \
             sso_only = excluded.sso_only, directory_url = excluded.directory_url, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(&p.issuer)
        .bind(&p.client_id)
        .bind(&p.client_secret)
        .bind(p.scopes.join(" "))
        .bind(&p.groups_claim)
        .bind(&p.login_claim)
        .bind(&p.email_claim)
        .bind(&p.name_claim)
        .bind(p.create_users)
        .bind(p.link_by_email)
        .bind(p.sso_only)
        .bind(p.directory_url.clone())
        .bind(p.created_at.millis())
        .bind(p.updated_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Removes the tenant's identity provider; false when there was none.
    pub async fn delete_identity_provider(&mut self) -> Result<bool, StoreError> {
        let tenant = self.tenant.to_string();
        let done =
            sqlx::query("DELETE FROM identity_providers WHERE tenant_id = $1").bind(tenant).execute(self.tx()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records that `subject` of `issuer` signs in as `user`.
    pub async fn link_identity(
        &mut self,
        issuer: &str,
        subject: &str,
        user: &UserId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO user_identities (tenant_id, issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant)
        .bind(issuer)
        .bind(subject)
        .bind(user.as_str())
        .bind(now.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Maps `provider_group` onto `group`; false when it already was.
    pub async fn insert_sso_mapping(
        &mut self,
        group: &GroupId,
        provider_group: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query(
            "INSERT INTO sso_mappings (tenant_id, group_id, provider_group, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, group_id, provider_group) DO NOTHING",
        )
        .bind(tenant)
        .bind(group.as_str())
        .bind(provider_group)
        .bind(now.millis())
        .execute(self.tx())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes a mapping; false when there was none.
    pub async fn delete_sso_mapping(&mut self, group: &GroupId, provider_group: &str) -> Result<bool, StoreError> {
        let tenant = self.tenant.to_string();
        let done =
            sqlx::query("DELETE FROM sso_mappings WHERE tenant_id = $1 AND group_id = $2 AND provider_group = $3")
                .bind(tenant)
                .bind(group.as_str())
                .bind(provider_group)
                .execute(self.tx())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets a user's password hash.
    pub async fn set_password(&mut self, user: &UserId, hash: &str, now: Timestamp) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO passwords (tenant_id, user_id, hash, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(user.as_str())
        .bind(hash)
        .bind(now.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Makes an invitation; the user's earlier invitations not yet used stop working.
    pub async fn insert_invitation(&mut self, hash: &str, inv: &Invitation) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("DELETE FROM invitations WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL")
            .bind(tenant.clone())
            .bind(inv.user_id.as_str())
            .execute(self.tx())
            .await?;
        sqlx::query(
            "INSERT INTO invitations (tenant_id, id_hash, user_id, created_by, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(tenant)
        .bind(hash)
        .bind(inv.user_id.as_str())
        .bind(inv.created_by.as_ref().map(|u| u.to_string()))
        .bind(inv.created_at.millis())
        .bind(inv.expires_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Marks an invitation used; false when it already was (it works once, even when two
    /// servers are handed it at the same moment).
    pub async fn use_invitation(&mut self, hash: &str, now: Timestamp) -> Result<bool, StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query(
            "UPDATE invitations SET used_at = $3 WHERE tenant_id = $1 AND id_hash = $2 AND used_at IS NULL",
        )
        .bind(tenant)
        .bind(hash)
        .bind(now.millis())
        .execute(self.tx())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
