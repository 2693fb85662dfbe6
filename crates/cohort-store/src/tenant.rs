//! Tenants.

use crate::row::{int, opt_text, text, time};
use crate::{Db, StoreError};
use cohort_core::model::Tenant;
use cohort_core::name::{Name, TenantSlug, UserType};
use cohort_core::{TenantId, ZoneName};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

fn tenant(row: &AnyRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::parse(&text(row, "id")?)?,
        slug: TenantSlug::parse(&text(row, "slug")?)?,
        name: Name::parse("name", &text(row, "name")?)?,
        revision: int(row, "revision")?,
        user_types: text(row, "user_types")?
            .split_whitespace()
            .map(|t| UserType::parse("userTypes", t))
            .collect::<Result<_, _>>()?,
        // A zone a newer database renamed away reads as none (the default), not as a broken row.
        time_zone: opt_text(row, "time_zone")?.and_then(|z| ZoneName::parse("timeZone", &z).ok()),
        created_at: time(row, "created_at")?,
    })
}

const COLUMNS: &str = "SELECT id, slug, name, revision, user_types, time_zone, created_at FROM tenants";

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// The tenant with this slug.
    pub async fn tenant_by_slug(&mut self, slug: &str) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query(&format!("{COLUMNS} WHERE slug = $1")).bind(slug).fetch_optional(self.conn()).await?;
        row.as_ref().map(tenant).transpose()
    }

    /// The tenant with this id.
    pub async fn tenant_by_id(&mut self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let row =
            sqlx::query(&format!("{COLUMNS} WHERE id = $1")).bind(id.as_str()).fetch_optional(self.conn()).await?;
        row.as_ref().map(tenant).transpose()
    }

    /// Every tenant, by slug.
    pub async fn list_tenants(&mut self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query(&format!("{COLUMNS} ORDER BY slug")).fetch_all(self.conn()).await?;
        rows.iter().map(tenant).collect()
    }

    /// How many users have each type, and how many groups admit each type.
    pub async fn user_type_uses(
        &mut self,
        tenant: &TenantId,
    ) -> Result<std::collections::BTreeMap<String, (i64, i64)>, StoreError> {
        let mut out: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        let rows = sqlx::query("SELECT user_type, COUNT(*) AS n FROM users WHERE tenant_id = $1 GROUP BY user_type")
            .bind(tenant.as_str())
            .fetch_all(self.conn())
            .await?;
        for row in rows {
            out.entry(text(&row, "user_type")?).or_default().0 = int(&row, "n")?;
        }
        let rows = sqlx::query("SELECT member_types FROM groups WHERE tenant_id = $1 AND member_types <> ''")
            .bind(tenant.as_str())
            .fetch_all(self.conn())
            .await?;
        for row in rows {
            for t in text(&row, "member_types")?.split_whitespace() {
                out.entry(t.to_owned()).or_default().1 += 1;
            }
        }
        Ok(out)
    }

    /// The last committed revision of a tenant.
    pub async fn revision(&mut self, id: &TenantId) -> Result<i64, StoreError> {
        let rev: Option<i64> = sqlx::query_scalar("SELECT revision FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        rev.ok_or(StoreError::NotFound)
    }
}

impl crate::Writer {
    /// Replaces the user types the tenant keeps.
    pub async fn set_user_types(&mut self, types: &std::collections::BTreeSet<UserType>) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let text = types.iter().map(UserType::as_str).collect::<Vec<_>>().join(" ");
        sqlx::query("UPDATE tenants SET user_types = $2 WHERE id = $1")
            .bind(tenant)
            .bind(text)
            .execute(self.tx())
            .await?;
        Ok(())
    }

    /// Sets the time zone the tenant's people read times in by default (none: UTC).
    pub async fn set_time_zone(&mut self, zone: Option<&ZoneName>) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("UPDATE tenants SET time_zone = $2 WHERE id = $1")
            .bind(tenant)
            .bind(zone.map(|z| z.as_str().to_owned()))
            .execute(self.tx())
            .await?;
        Ok(())
    }
}
