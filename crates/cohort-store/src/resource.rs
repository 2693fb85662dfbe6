//! Resource types, resources, grants of levels on them, and group data scopes.

use crate::row::{boolean, opt_text, text, time};
use crate::sql::{Arg, Sql, contains_pattern};
use crate::{After, Db, StoreError, Writer};
use cohort_core::model::{Grant, Resource, ResourceType, Subject};
use cohort_core::name::{Description, Keyword, Levels, Name, Scopes};
use cohort_core::{GroupId, ResourceId, TenantId, UserId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::DerefMut;

pub(crate) fn levels(s: &str) -> Result<Levels, StoreError> {
    Ok(Levels::new(s.split_whitespace().map(|l| Keyword::parse("levels", l)).collect::<Result<_, _>>()?)?)
}

fn levels_text(l: &Levels) -> String {
    l.as_slice().iter().map(Keyword::as_str).collect::<Vec<_>>().join(" ")
}

fn resource_type(row: &AnyRow) -> Result<ResourceType, StoreError> {
    Ok(ResourceType {
        name: Keyword::parse("name", &text(row, "name")?)?,
        levels: levels(&text(row, "levels")?)?,
        builtin: boolean(row, "builtin")?,
    })
}

fn resource(row: &AnyRow) -> Result<Resource, StoreError> {
    Ok(Resource {
        id: ResourceId::parse(&text(row, "id")?)?,
        type_name: Keyword::parse("type", &text(row, "type_name")?)?,
        name: Name::parse("name", &text(row, "name")?)?,
        description: Description::parse(&text(row, "description")?)?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

fn grant(row: &AnyRow, subject: Subject) -> Result<Grant, StoreError> {
    Ok(Grant {
        resource_id: ResourceId::parse(&text(row, "resource_id")?)?,
        subject,
        level: Keyword::parse("level", &text(row, "level")?)?,
        granted_by: opt_text(row, "granted_by")?.map(|s| UserId::parse(&s)).transpose()?,
        granted_at: time(row, "granted_at")?,
    })
}

/// Which resources to list.
#[derive(Clone, Debug, Default)]
pub struct ResourceFilter {
    /// Only this type.
    pub type_name: Option<String>,
    /// Matches the name, case-insensitively.
    pub q: Option<String>,
    /// Continue after this name key and id.
    pub after: Option<After>,
    /// At most this many.
    pub limit: i64,
}

const RESOURCE_COLUMNS: &str =
    "SELECT id, type_name, name, description, created_at, updated_at FROM resources WHERE tenant_id = ";

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// Every resource type, by name.
    pub async fn list_resource_types(&mut self, tenant: &TenantId) -> Result<Vec<ResourceType>, StoreError> {
        let rows = sqlx::query("SELECT name, levels, builtin FROM resource_types WHERE tenant_id = $1 ORDER BY name")
            .bind(tenant.as_str())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(resource_type).collect()
    }

    /// One resource type.
    pub async fn get_resource_type(
        &mut self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Option<ResourceType>, StoreError> {
        let row = sqlx::query("SELECT name, levels, builtin FROM resource_types WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.as_str())
            .bind(name)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(resource_type).transpose()
    }

    /// How many resources a type has.
    pub async fn resources_of_type(&mut self, tenant: &TenantId, name: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM resources WHERE tenant_id = $1 AND type_name = $2")
            .bind(tenant.as_str())
            .bind(name)
            .fetch_one(self.conn())
            .await?)
    }

    /// One resource.
    pub async fn get_resource(&mut self, tenant: &TenantId, id: &ResourceId) -> Result<Option<Resource>, StoreError> {
        let row = sqlx::query(&format!("{RESOURCE_COLUMNS}$1 AND id = $2"))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(resource).transpose()
    }

    /// The id of the resource of this type with this name (case-insensitively), if any.
    pub async fn resource_name_owner(
        &mut self,
        tenant: &TenantId,
        type_name: &str,
        name: &Name,
    ) -> Result<Option<ResourceId>, StoreError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM resources WHERE tenant_id = $1 AND type_name = $2 AND name_key = $3")
                .bind(tenant.as_str())
                .bind(type_name)
                .bind(name.key())
                .fetch_optional(self.conn())
                .await?;
        Ok(id.map(|s| ResourceId::parse(&s)).transpose()?)
    }

    /// Resources by name.
    pub async fn list_resources(&mut self, tenant: &TenantId, f: &ResourceFilter) -> Result<Vec<Resource>, StoreError> {
        let mut sql = Sql::new(RESOURCE_COLUMNS);
        sql.bind(Arg::Text(tenant.to_string()));
        if let Some(t) = &f.type_name {
            sql.push(" AND type_name = ").bind(Arg::Text(t.clone()));
        }
        if let Some(q) = &f.q {
            sql.push(" AND name_key LIKE ").bind(Arg::Text(contains_pattern(q))).push(" ESCAPE '\\'");
        }
        if let Some(a) = &f.after {
            sql.push(" AND (name_key > ").bind(Arg::Text(a.key.clone()));
            sql.push(" OR (name_key = ").bind(Arg::Text(a.key.clone()));
            sql.push(" AND id > ").bind(Arg::Text(a.id.clone())).push("))");
        }
        sql.push(" ORDER BY name_key, id LIMIT ").bind(Arg::Int(f.limit));
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        rows.iter().map(resource).collect()
    }

    /// Every grant on a resource, groups first.
    pub async fn grants_on(&mut self, tenant: &TenantId, id: &ResourceId) -> Result<Vec<Grant>, StoreError> {
        let mut out = Vec::new();
        for (table, col) in [("group_grants", "group_id"), ("user_grants", "user_id")] {
            let rows = sqlx::query(&format!(
                "SELECT {col} AS subject, resource_id, level, granted_by, granted_at FROM {table} \
                 WHERE tenant_id = $1 AND resource_id = $2 ORDER BY {col}"
            ))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_all(self.conn())
            .await?;
            for row in &rows {
                let s = text(row, "subject")?;
                let subject = if col == "group_id" {
                    Subject::Group(GroupId::parse(&s)?)
                } else {
                    Subject::User(UserId::parse(&s)?)
                };
                out.push(grant(row, subject)?);
            }
        }
        Ok(out)
    }

    /// Every grant held by a user or a group.
    pub async fn grants_of(&mut self, tenant: &TenantId, subject: &Subject) -> Result<Vec<Grant>, StoreError> {
        let (table, col, id) = grant_columns(subject);
        let rows = sqlx::query(&format!(
            "SELECT resource_id, level, granted_by, granted_at FROM {table} WHERE tenant_id = $1 AND {col} = $2 \
             ORDER BY resource_id"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|r| grant(r, subject.clone())).collect()
    }

    /// A group's data scopes.
    pub async fn scopes_of(&mut self, tenant: &TenantId, group: &GroupId) -> Result<Scopes, StoreError> {
        let rows = sqlx::query(
            "SELECT scope_key, scope_value FROM group_scopes WHERE tenant_id = $1 AND group_id = $2 \
             ORDER BY scope_key, scope_value",
        )
        .bind(tenant.as_str())
        .bind(group.as_str())
        .fetch_all(self.conn())
        .await?;
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in &rows {
            map.entry(text(row, "scope_key")?).or_default().insert(text(row, "scope_value")?);
        }
        Ok(Scopes::new(map)?)
    }
}

fn grant_columns(subject: &Subject) -> (&'static str, &'static str, String) {
    match subject {
        Subject::User(u) => ("user_grants", "user_id", u.to_string()),
        Subject::Group(g) => ("group_grants", "group_id", g.to_string()),
    }
}

impl Writer {
    /// Inserts a resource type.
    pub async fn insert_resource_type(&mut self, t: &ResourceType) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("INSERT INTO resource_types (tenant_id, name, levels, builtin) VALUES ($1, $2, $3, $4)")
            .bind(tenant)
            .bind(t.name.as_str())
            .bind(levels_text(&t.levels))
            .bind(t.builtin)
            .execute(self.tx())
            .await?;
        Ok(())
    }

    /// Deletes a resource type that has no resources.
    pub async fn delete_resource_type(&mut self, name: &str) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM resource_types WHERE tenant_id = $1 AND name = $2")
            .bind(tenant)
            .bind(name)
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Inserts or replaces a resource.
    pub async fn put_resource(&mut self, r: &Resource) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO resources (tenant_id, id, type_name, name, name_key, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, id) DO UPDATE SET name = $4, \
             name_key = $5, description = $6, updated_at = $8",
        )
        .bind(tenant)
        .bind(r.id.as_str())
        .bind(r.type_name.as_str())
        .bind(r.name.as_str())
        .bind(r.name.key())
        .bind(r.description.as_str())
        .bind(r.created_at.millis())
        .bind(r.updated_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Deletes a resource and every grant on it.
    pub async fn delete_resource(&mut self, id: &ResourceId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM resources WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Gives a level, replacing the subject's previous level on the resource.
    pub async fn put_grant(&mut self, g: &Grant) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let (table, col, id) = grant_columns(&g.subject);
        sqlx::query(&format!(
            "INSERT INTO {table} (tenant_id, {col}, resource_id, level, granted_by, granted_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, {col}, resource_id) DO UPDATE SET \
             level = $4, granted_by = $5, granted_at = $6"
        ))
        .bind(tenant)
        .bind(id)
        .bind(g.resource_id.as_str())
        .bind(g.level.as_str())
        .bind(g.granted_by.as_ref().map(ToString::to_string))
        .bind(g.granted_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Removes a grant.
    pub async fn delete_grant(&mut self, subject: &Subject, resource: &ResourceId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let (table, col, id) = grant_columns(subject);
        let done =
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1 AND {col} = $2 AND resource_id = $3"))
                .bind(tenant)
                .bind(id)
                .bind(resource.as_str())
                .execute(self.tx())
                .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Replaces a group's data scopes.
    pub async fn set_scopes(&mut self, group: &GroupId, scopes: &Scopes) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("DELETE FROM group_scopes WHERE tenant_id = $1 AND group_id = $2")
            .bind(tenant.clone())
            .bind(group.as_str())
            .execute(self.tx())
            .await?;
        for (k, values) in scopes.as_map() {
            for v in values {
                sqlx::query(
                    "INSERT INTO group_scopes (tenant_id, group_id, scope_key, scope_value) VALUES ($1, $2, $3, $4)",
                )
                .bind(tenant.clone())
                .bind(group.as_str())
                .bind(k.as_str())
                .bind(v.as_str())
                .execute(self.tx())
                .await?;
            }
        }
        Ok(())
    }
}

/// The built-in resource types every tenant starts with.
pub fn builtin_resource_types() -> Vec<ResourceType> {
    ["agent", "datasource", "app"]
        .iter()
        .filter_map(|n| Keyword::parse("name", n).ok())
        .map(|name| ResourceType { name, levels: Levels::default_order(), builtin: true })
        .collect()
}
