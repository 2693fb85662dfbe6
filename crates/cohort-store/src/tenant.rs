//! Tenants.

use crate::row::{int, text, time};
use crate::{Db, StoreError};
use cohort_core::TenantId;
use cohort_core::model::Tenant;
use cohort_core::name::{Name, TenantSlug};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

fn tenant(row: &AnyRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::parse(&text(row, "id")?)?,
        slug: TenantSlug::parse(&text(row, "slug")?)?,
        name: Name::parse("name", &text(row, "name")?)?,
        revision: int(row, "revision")?,
        created_at: time(row, "created_at")?,
    })
}

const COLUMNS: &str = "SELECT id, slug, name, revision, created_at FROM tenants";

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

    /// The last committed revision of a tenant.
    pub async fn revision(&mut self, id: &TenantId) -> Result<i64, StoreError> {
        let rev: Option<i64> = sqlx::query_scalar("SELECT revision FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        rev.ok_or(StoreError::NotFound)
    }
}
