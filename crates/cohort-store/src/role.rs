//! Roles and their assignments to users and groups.

use crate::row::{boolean, text, time};
use crate::sql::{Arg, Sql, contains_pattern};
use crate::{After, Db, StoreError, Writer};
use cohort_core::model::{Role, Subject};
use cohort_core::name::{Description, Name};
use cohort_core::permission::Permission;
use cohort_core::{GroupId, RoleId, TenantId, Timestamp, UserId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::ops::DerefMut;

fn role(row: &AnyRow) -> Result<Role, StoreError> {
    Ok(Role {
        id: RoleId::parse(&text(row, "id")?)?,
        name: Name::parse("name", &text(row, "name")?)?,
        description: Description::parse(&text(row, "description")?)?,
        permissions: text(row, "permissions")?.split_whitespace().map(Permission::parse).collect::<Result<_, _>>()?,
        builtin: boolean(row, "builtin")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

fn permissions_text(r: &Role) -> String {
    r.permissions.iter().map(Permission::as_str).collect::<Vec<_>>().join(" ")
}

const COLUMNS: &str =
    "SELECT r.id, r.name, r.description, r.permissions, r.builtin, r.created_at, r.updated_at FROM roles r";

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// One role.
    pub async fn get_role(&mut self, tenant: &TenantId, id: &RoleId) -> Result<Option<Role>, StoreError> {
        let row = sqlx::query(&format!("{COLUMNS} WHERE r.tenant_id = $1 AND r.id = $2"))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(role).transpose()
    }

    /// The role with this name, compared case-insensitively.
    pub async fn role_by_name(&mut self, tenant: &TenantId, name: &str) -> Result<Option<Role>, StoreError> {
        let row = sqlx::query(&format!("{COLUMNS} WHERE r.tenant_id = $1 AND r.name_key = $2"))
            .bind(tenant.as_str())
            .bind(name.to_lowercase())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(role).transpose()
    }

    /// Roles by name.
    pub async fn list_roles(
        &mut self,
        tenant: &TenantId,
        q: Option<&str>,
        after: Option<&After>,
        limit: i64,
    ) -> Result<Vec<Role>, StoreError> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" WHERE r.tenant_id = ").bind(Arg::Text(tenant.to_string()));
        if let Some(q) = q {
            sql.push(" AND r.name_key LIKE ").bind(Arg::Text(contains_pattern(q))).push(" ESCAPE '\\'");
        }
        if let Some(a) = after {
            sql.push(" AND (r.name_key > ").bind(Arg::Text(a.key.clone()));
            sql.push(" OR (r.name_key = ").bind(Arg::Text(a.key.clone()));
            sql.push(" AND r.id > ").bind(Arg::Text(a.id.clone())).push("))");
        }
        sql.push(" ORDER BY r.name_key, r.id LIMIT ").bind(Arg::Int(limit));
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        rows.iter().map(role).collect()
    }

    /// Roles assigned to a user or a group, by name.
    pub async fn roles_of(&mut self, tenant: &TenantId, subject: &Subject) -> Result<Vec<Role>, StoreError> {
        let (table, col, id) = subject_columns(subject);
        let rows = sqlx::query(&format!(
            "{COLUMNS} JOIN {table} a ON a.tenant_id = r.tenant_id AND a.role_id = r.id \
             WHERE r.tenant_id = $1 AND a.{col} = $2 ORDER BY r.name_key"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(role).collect()
    }
}

fn subject_columns(subject: &Subject) -> (&'static str, &'static str, String) {
    match subject {
        Subject::User(u) => ("user_roles", "user_id", u.to_string()),
        Subject::Group(g) => ("group_roles", "group_id", g.to_string()),
    }
}

impl Writer {
    /// Inserts a new role.
    pub async fn insert_role(&mut self, r: &Role) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO roles (tenant_id, id, name, name_key, description, permissions, builtin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant)
        .bind(r.id.as_str())
        .bind(r.name.as_str())
        .bind(r.name.key())
        .bind(r.description.as_str())
        .bind(permissions_text(r))
        .bind(r.builtin)
        .bind(r.created_at.millis())
        .bind(r.updated_at.millis())
        .execute(self.tx())
        .await?;
        Ok(())
    }

    /// Replaces a role's name, description and permissions.
    pub async fn update_role(&mut self, r: &Role) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query(
            "UPDATE roles SET name = $3, name_key = $4, description = $5, permissions = $6, updated_at = $7 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(r.id.as_str())
        .bind(r.name.as_str())
        .bind(r.name.key())
        .bind(r.description.as_str())
        .bind(permissions_text(r))
        .bind(r.updated_at.millis())
        .execute(self.tx())
        .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Deletes a role and every assignment of it.
    pub async fn delete_role(&mut self, id: &RoleId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Assigns a role; false when it was already assigned.
    pub async fn assign_role(
        &mut self,
        subject: &Subject,
        role: &RoleId,
        by: Option<&UserId>,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let tenant = self.tenant.to_string();
        let (table, col, id) = subject_columns(subject);
        let done = sqlx::query(&format!(
            "INSERT INTO {table} (tenant_id, {col}, role_id, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(tenant)
        .bind(id)
        .bind(role.as_str())
        .bind(by.map(|u| u.to_string()))
        .bind(at.millis())
        .execute(self.tx())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes a role assignment.
    pub async fn unassign_role(&mut self, subject: &Subject, role: &RoleId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let (table, col, id) = subject_columns(subject);
        let done = sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1 AND {col} = $2 AND role_id = $3"))
            .bind(tenant)
            .bind(id)
            .bind(role.as_str())
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}

/// Ids of the groups that a role is assigned to, for checks over who it reaches.
impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// Groups a role is assigned to.
    pub async fn groups_with_role(&mut self, tenant: &TenantId, role: &RoleId) -> Result<Vec<GroupId>, StoreError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT group_id FROM group_roles WHERE tenant_id = $1 AND role_id = $2")
                .bind(tenant.as_str())
                .bind(role.as_str())
                .fetch_all(self.conn())
                .await?;
        Ok(ids.iter().map(|s| GroupId::parse(s)).collect::<Result<_, _>>()?)
    }
}
