//! Groups and their nesting edges.

use crate::row::{boolean, int, opt_text, text, time};
use crate::sql::{Arg, Sql, contains_pattern};
use crate::{After, Db, StoreError, Writer};
use cohort_core::model::{Group, GroupSource, GroupStatus};
use cohort_core::name::{Description, GroupSlug, MemberTypes, Name};
use cohort_core::{GroupId, TenantId, Timestamp};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;
use std::ops::DerefMut;

/// Which groups to list.
#[derive(Clone, Debug, Default)]
pub struct GroupFilter {
    /// Matches name or slug, case-insensitively.
    pub q: Option<String>,
    /// Only groups with this status.
    pub status: Option<GroupStatus>,
    /// Only groups from this source.
    pub source: Option<GroupSource>,
    /// Only direct children of this group.
    pub parent: Option<GroupId>,
    /// Only groups without a parent (the tops of the nesting).
    pub roots: bool,
    /// Continue after this name key and id.
    pub after: Option<After>,
    /// At most this many.
    pub limit: i64,
}

pub(crate) fn group(row: &AnyRow) -> Result<(Group, i64), StoreError> {
    let g = Group {
        id: GroupId::parse(&text(row, "id")?)?,
        name: Name::parse("name", &text(row, "name")?)?,
        provider_name: opt_text(row, "provider_name")?.map(|n| Name::parse("providerName", &n)).transpose()?,
        slug: GroupSlug::parse(&text(row, "slug")?)?,
        description: Description::parse(&text(row, "description")?)?,
        status: GroupStatus::parse("status", &text(row, "status")?)?,
        source: GroupSource::parse("source", &text(row, "source")?)?,
        external_id: opt_text(row, "external_id")?,
        apply_privileges: boolean(row, "apply_privileges")?,
        notify_members: boolean(row, "notify_members")?,
        member_types: MemberTypes::from_text("memberTypes", &text(row, "member_types")?)?,
        parent_ids: Vec::new(),
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    };
    Ok((g, int(row, "member_count")?))
}

/// Columns of a group, without counting members, for listings that filter in SQL.
pub(crate) const GROUP_COLUMNS: &str = "SELECT id, name, slug, description, status, source, external_id, \
    apply_privileges, notify_members, member_types, provider_name, created_at, updated_at, 0 AS member_count FROM groups";

/// Columns of a group plus its count of live members at `$1` (now), for `g` in `tenant_id = $2`.
const COLUMNS: &str = "SELECT g.id, g.name, g.slug, g.description, g.status, g.source, g.external_id, \
    g.apply_privileges, g.notify_members, g.member_types, g.provider_name, g.created_at, g.updated_at, \
    (SELECT COUNT(DISTINCT m.user_id) FROM memberships m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id \
     AND (m.expires_at IS NULL OR m.expires_at > $1)) AS member_count FROM groups g WHERE g.tenant_id = $2";

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// One group with its parents and live member count.
    pub async fn get_group(
        &mut self,
        tenant: &TenantId,
        id: &GroupId,
        now: Timestamp,
    ) -> Result<Option<(Group, i64)>, StoreError> {
        let row = sqlx::query(&format!("{COLUMNS} AND g.id = $3"))
            .bind(now.millis())
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(self.conn())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut found = vec![group(&row)?];
        self.fill_parents(tenant, &mut found).await?;
        Ok(found.pop())
    }

    /// The id of the group whose name (case-insensitively) or slug is taken, if any.
    pub async fn group_name_owner(&mut self, tenant: &TenantId, name: &Name) -> Result<Option<GroupId>, StoreError> {
        self.group_id_where(tenant, "name_key", &name.key()).await
    }

    /// The id of the group with this slug, if any.
    pub async fn group_slug_owner(
        &mut self,
        tenant: &TenantId,
        slug: &GroupSlug,
    ) -> Result<Option<GroupId>, StoreError> {
        self.group_id_where(tenant, "slug", slug.as_str()).await
    }

    async fn group_id_where(
        &mut self,
        tenant: &TenantId,
        col: &str,
        value: &str,
    ) -> Result<Option<GroupId>, StoreError> {
        let id: Option<String> =
            sqlx::query_scalar(&format!("SELECT id FROM groups WHERE tenant_id = $1 AND {col} = $2"))
                .bind(tenant.as_str())
                .bind(value)
                .fetch_optional(self.conn())
                .await?;
        Ok(id.map(|s| GroupId::parse(&s)).transpose()?)
    }

    /// The groups of `source` whose external id is one of `external_ids`, as
    /// `(external id, group)`.
    pub async fn groups_by_external_id(
        &mut self,
        tenant: &TenantId,
        source: GroupSource,
        external_ids: &[String],
    ) -> Result<Vec<(String, GroupId)>, StoreError> {
        let mut out = Vec::new();
        for chunk in external_ids.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT external_id, id FROM groups WHERE tenant_id = $1 AND source = $2 AND external_id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(tenant.as_str()).bind(source.as_str());
            for e in chunk {
                q = q.bind(e.as_str());
            }
            for row in q.fetch_all(self.conn()).await? {
                out.push((text(&row, "external_id")?, GroupId::parse(&text(&row, "id")?)?));
            }
        }
        Ok(out)
    }

    /// Groups by name, filtered, with parents and live member counts.
    pub async fn list_groups(
        &mut self,
        tenant: &TenantId,
        f: &GroupFilter,
        now: Timestamp,
    ) -> Result<Vec<(Group, i64)>, StoreError> {
        // COLUMNS already holds placeholders $1 (now) and $2 (tenant). The page is chosen first,
        // then only its groups' members are counted: counting every group to sort them costs a
        // scan of every membership row.
        let head = format!("{COLUMNS} AND g.id IN (SELECT g.id FROM groups g WHERE g.tenant_id = $2");
        let mut sql = Sql::with_args(&head, vec![Arg::Int(now.millis()), Arg::Text(tenant.to_string())]);
        if let Some(q) = &f.q {
            let pattern = contains_pattern(q);
            sql.push(" AND (g.name_key LIKE ").bind(Arg::Text(pattern.clone()));
            sql.push(" ESCAPE '\\' OR g.slug LIKE ").bind(Arg::Text(pattern)).push(" ESCAPE '\\')");
        }
        if let Some(s) = f.status {
            sql.push(" AND g.status = ").bind(Arg::Text(s.as_str().to_owned()));
        }
        if let Some(s) = f.source {
            sql.push(" AND g.source = ").bind(Arg::Text(s.as_str().to_owned()));
        }
        if let Some(p) = &f.parent {
            sql.push(" AND EXISTS (SELECT 1 FROM group_parents e WHERE e.tenant_id = g.tenant_id AND e.group_id = g.id AND e.parent_id = ")
                .bind(Arg::Text(p.to_string()))
                .push(")");
        }
        if f.roots {
            sql.push(
                " AND NOT EXISTS (SELECT 1 FROM group_parents e WHERE e.tenant_id = g.tenant_id AND e.group_id = g.id)",
            );
        }
        if let Some(a) = &f.after {
            sql.push(" AND (g.name_key > ").bind(Arg::Text(a.key.clone()));
            sql.push(" OR (g.name_key = ").bind(Arg::Text(a.key.clone()));
            sql.push(" AND g.id > ").bind(Arg::Text(a.id.clone())).push("))");
        }
        sql.push(" ORDER BY g.name_key, g.id LIMIT ").bind(Arg::Int(f.limit));
        sql.push(") ORDER BY g.name_key, g.id");
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        let mut found = rows.iter().map(group).collect::<Result<Vec<_>, _>>()?;
        self.fill_parents(tenant, &mut found).await?;
        Ok(found)
    }

    async fn fill_parents(&mut self, tenant: &TenantId, groups: &mut [(Group, i64)]) -> Result<(), StoreError> {
        if groups.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new("SELECT group_id, parent_id FROM group_parents WHERE tenant_id = ");
        sql.bind(Arg::Text(tenant.to_string())).push(" AND group_id IN (");
        for (i, (g, _)) in groups.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Arg::Text(g.id.to_string()));
        }
        sql.push(") ORDER BY parent_id");
        let rows = sql.query()?.fetch_all(self.conn()).await?;
        let mut parents: BTreeMap<String, Vec<GroupId>> = BTreeMap::new();
        for row in &rows {
            parents.entry(text(row, "group_id")?).or_default().push(GroupId::parse(&text(row, "parent_id")?)?);
        }
        for (g, _) in groups.iter_mut() {
            g.parent_ids = parents.remove(g.id.as_str()).unwrap_or_default();
        }
        Ok(())
    }
}

impl Writer {
    /// Inserts a new group with its parents.
    pub async fn insert_group(&mut self, g: &Group) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query(
            "INSERT INTO groups (tenant_id, id, name, name_key, slug, description, status, source, external_id, \
             apply_privileges, notify_members, created_at, updated_at, member_types, provider_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(tenant)
        .bind(g.id.as_str())
        .bind(g.name.as_str())
        .bind(g.name.key())
        .bind(g.slug.as_str())
        .bind(g.description.as_str())
        .bind(g.status.as_str())
        .bind(g.source.as_str())
        .bind(g.external_id.clone())
        .bind(g.apply_privileges)
        .bind(g.notify_members)
        .bind(g.created_at.millis())
        .bind(g.updated_at.millis())
        .bind(g.member_types.to_text())
        .bind(g.provider_name.as_ref().map(|n| n.as_str().to_owned()))
        .execute(self.tx())
        .await?;
        self.set_parents(&g.id, &g.parent_ids).await
    }

    /// Replaces a group's fields and parents.
    pub async fn update_group(&mut self, g: &Group) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query(
            "UPDATE groups SET name = $3, name_key = $4, slug = $5, description = $6, status = $7, source = $8, \
             external_id = $9, apply_privileges = $10, notify_members = $11, updated_at = $12, member_types = $13, \
             provider_name = $14 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(g.id.as_str())
        .bind(g.name.as_str())
        .bind(g.name.key())
        .bind(g.slug.as_str())
        .bind(g.description.as_str())
        .bind(g.status.as_str())
        .bind(g.source.as_str())
        .bind(g.external_id.clone())
        .bind(g.apply_privileges)
        .bind(g.notify_members)
        .bind(g.updated_at.millis())
        .bind(g.member_types.to_text())
        .bind(g.provider_name.as_ref().map(|n| n.as_str().to_owned()))
        .execute(self.tx())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.set_parents(&g.id, &g.parent_ids).await
    }

    async fn set_parents(&mut self, id: &GroupId, parents: &[GroupId]) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("DELETE FROM group_parents WHERE tenant_id = $1 AND group_id = $2")
            .bind(tenant.clone())
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        for p in parents {
            sqlx::query("INSERT INTO group_parents (tenant_id, group_id, parent_id) VALUES ($1, $2, $3)")
                .bind(tenant.clone())
                .bind(id.as_str())
                .bind(p.as_str())
                .execute(self.tx())
                .await?;
        }
        Ok(())
    }

    /// Nests `child` under `parent` (one edge; the other parents stay).
    pub async fn add_parent(&mut self, child: &GroupId, parent: &GroupId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("INSERT INTO group_parents (tenant_id, group_id, parent_id) VALUES ($1, $2, $3)")
            .bind(tenant)
            .bind(child.as_str())
            .bind(parent.as_str())
            .execute(self.tx())
            .await?;
        Ok(())
    }

    /// Removes the edge from `child` up to `parent`.
    pub async fn remove_parent(&mut self, child: &GroupId, parent: &GroupId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("DELETE FROM group_parents WHERE tenant_id = $1 AND group_id = $2 AND parent_id = $3")
            .bind(tenant)
            .bind(child.as_str())
            .bind(parent.as_str())
            .execute(self.tx())
            .await?;
        Ok(())
    }

    /// Marks a group changed at `at` (its members changed), without rewriting anything else.
    pub async fn touch_group(&mut self, id: &GroupId, at: cohort_core::Timestamp) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        sqlx::query("UPDATE groups SET updated_at = CASE WHEN updated_at >= $3 THEN updated_at + 1 ELSE $3 END WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .bind(at.millis())
            .execute(self.tx())
            .await?;
        Ok(())
    }

    /// Deletes a group; its memberships, role assignments and nesting edges go with it.
    pub async fn delete_group(&mut self, id: &GroupId) -> Result<(), StoreError> {
        let tenant = self.tenant.to_string();
        let done = sqlx::query("DELETE FROM groups WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(self.tx())
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
