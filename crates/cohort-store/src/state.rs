//! Loading one tenant's access facts into memory.

use crate::row::{Columns, boolean, text};
use crate::sql::{Arg, ROWS_PER_STATEMENT, Sql};
use crate::{Db, StoreError};
use cohort_core::index::Touched;
use cohort_core::model::{GroupSource, GroupStatus, MemberRole, MembershipSource, Subject, UserStatus};
use cohort_core::name::{MemberTypes, Scopes, UserType};
use cohort_core::permission::Permission;
use cohort_core::state::{GroupFacts, MemberFacts, ResourceFacts, RoleFacts, TenantState, UserFacts};
use cohort_core::{GroupId, ResourceId, RoleId, TenantId, UserId};
use futures_util::TryStreamExt;
use rustc_hash::FxHashMap;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::DerefMut;

/// The columns [`group_facts`] reads.
const GROUP_FACTS: &str = "name, status, apply_privileges, source, member_types";

fn group_facts(row: &AnyRow) -> Result<GroupFacts, StoreError> {
    Ok(GroupFacts {
        name: text(row, "name")?,
        active: GroupStatus::parse("status", &text(row, "status")?)? == GroupStatus::Active,
        apply_privileges: boolean(row, "apply_privileges")?,
        source: GroupSource::parse("source", &text(row, "source")?)?,
        member_types: MemberTypes::from_text("memberTypes", &text(row, "member_types")?)?,
    })
}

fn user_facts(status: &str, user_type: &str) -> Result<UserFacts, StoreError> {
    Ok(UserFacts {
        active: UserStatus::parse("status", status)? == UserStatus::Active,
        user_type: UserType::parse("type", user_type)?,
    })
}

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// Every access fact of a tenant, as of this connection's view.
    pub async fn load_state(&mut self, tenant: &TenantId) -> Result<TenantState, StoreError> {
        let t = tenant.as_str();
        let mut s = TenantState::default();
        self.load_resource_types(tenant, &mut s).await?;
        for row in sqlx::query("SELECT id, status, user_type FROM users WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?
        {
            s.put_user(
                UserId::parse(&text(&row, "id")?)?,
                user_facts(&text(&row, "status")?, &text(&row, "user_type")?)?,
            );
        }
        let groups = sqlx::query(&format!("SELECT id, {GROUP_FACTS} FROM groups WHERE tenant_id = $1"))
            .bind(t)
            .fetch_all(self.conn())
            .await?;
        for row in groups {
            s.put_group(GroupId::parse(&text(&row, "id")?)?, group_facts(&row)?);
        }
        let mut parents: BTreeMap<GroupId, Vec<GroupId>> = BTreeMap::new();
        for row in sqlx::query("SELECT group_id, parent_id FROM group_parents WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?
        {
            parents
                .entry(GroupId::parse(&text(&row, "group_id")?)?)
                .or_default()
                .push(GroupId::parse(&text(&row, "parent_id")?)?);
        }
        for (g, ps) in parents {
            s.set_parents(&g, ps);
        }
        // The biggest table: one row per user with their rows folded into one string (about 20
        // times fewer rows through the driver), streamed, each group id parsed once.
        let mut groups: FxHashMap<String, GroupId> = FxHashMap::default();
        let mut rows = sqlx::query(
            "SELECT user_id, string_agg(group_id || ' ' || source || ' ' || role || ' ' || \
             COALESCE(CAST(expires_at AS TEXT), '-'), ',') AS memberships \
             FROM memberships WHERE tenant_id = $1 GROUP BY user_id",
        )
        .bind(t)
        .fetch(self.conn());
        while let Some(row) = rows.try_next().await? {
            let user = UserId::parse(&text(&row, "user_id")?)?;
            let folded = text(&row, "memberships")?;
            let mut parsed = Vec::new();
            for item in folded.split(',') {
                let corrupt = || StoreError::Corrupt(format!("membership `{item}`"));
                let mut parts = item.split(' ');
                let (Some(g), Some(source), Some(role), Some(expires)) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(corrupt());
                };
                let group = match groups.get(g) {
                    Some(id) => id.clone(),
                    None => {
                        let id = GroupId::parse(g)?;
                        groups.insert(g.to_owned(), id.clone());
                        id
                    }
                };
                let expires_at = match expires {
                    "-" => None,
                    ms => Some(cohort_core::Timestamp(ms.parse().map_err(|_| corrupt())?)),
                };
                parsed.push((
                    group,
                    MembershipSource::parse("source", source)?,
                    MemberFacts { role: MemberRole::parse("role", role)?, expires_at },
                ));
            }
            s.replace_memberships_of(&user, parsed);
        }
        drop(rows);
        for row in sqlx::query("SELECT id, name, permissions FROM roles WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?
        {
            let permissions =
                text(&row, "permissions")?.split_whitespace().map(Permission::parse).collect::<Result<_, _>>()?;
            s.put_role(RoleId::parse(&text(&row, "id")?)?, RoleFacts { name: text(&row, "name")?, permissions });
        }
        for row in sqlx::query("SELECT user_id, role_id FROM user_roles WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?
        {
            s.assign(&Subject::User(UserId::parse(&text(&row, "user_id")?)?), &RoleId::parse(&text(&row, "role_id")?)?);
        }
        for row in sqlx::query("SELECT group_id, role_id FROM group_roles WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?
        {
            s.assign(
                &Subject::Group(GroupId::parse(&text(&row, "group_id")?)?),
                &RoleId::parse(&text(&row, "role_id")?)?,
            );
        }
        for row in sqlx::query("SELECT id, type_name, name FROM resources WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?
        {
            let facts = ResourceFacts { type_name: text(&row, "type_name")?, name: text(&row, "name")? };
            s.put_resource(ResourceId::parse(&text(&row, "id")?)?, facts);
        }
        for (table, col) in [("user_grants", "user_id"), ("group_grants", "group_id")] {
            let rows =
                sqlx::query(&format!("SELECT {col} AS subject, resource_id, level FROM {table} WHERE tenant_id = $1"))
                    .bind(t)
                    .fetch_all(self.conn())
                    .await?;
            for row in rows {
                let subject = subject(col, &text(&row, "subject")?)?;
                let resource = ResourceId::parse(&text(&row, "resource_id")?)?;
                if let Some(rank) = rank(&s, &resource, &text(&row, "level")?) {
                    s.grant(&subject, &resource, rank);
                }
            }
        }
        let mut scopes: BTreeMap<GroupId, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for row in sqlx::query("SELECT group_id, scope_key, scope_value FROM group_scopes WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?
        {
            scopes
                .entry(GroupId::parse(&text(&row, "group_id")?)?)
                .or_default()
                .entry(text(&row, "scope_key")?)
                .or_default()
                .insert(text(&row, "scope_value")?);
        }
        for (g, map) in scopes {
            s.set_scopes(&g, Scopes::new(map)?);
        }
        Ok(s)
    }

    async fn load_resource_types(&mut self, tenant: &TenantId, s: &mut TenantState) -> Result<(), StoreError> {
        for t in self.list_resource_types(tenant).await? {
            s.put_resource_type(t.name.as_str(), t.levels);
        }
        Ok(())
    }

    /// Brings `state` up to date for what `touched` names, re-reading each touched entity and
    /// everything it owns from this connection's view.
    pub async fn apply_touched(
        &mut self,
        tenant: &TenantId,
        state: &mut TenantState,
        touched: &Touched,
    ) -> Result<(), StoreError> {
        let t = tenant.as_str();
        self.load_resource_types(tenant, state).await?;
        for r in &touched.resources {
            let row = sqlx::query("SELECT type_name, name FROM resources WHERE tenant_id = $1 AND id = $2")
                .bind(t)
                .bind(r.as_str())
                .fetch_optional(self.conn())
                .await?;
            match row {
                Some(row) => state.put_resource(
                    r.clone(),
                    ResourceFacts { type_name: text(&row, "type_name")?, name: text(&row, "name")? },
                ),
                None => state.remove_resource(r),
            }
        }
        for r in &touched.roles {
            let row = sqlx::query("SELECT name, permissions FROM roles WHERE tenant_id = $1 AND id = $2")
                .bind(t)
                .bind(r.as_str())
                .fetch_optional(self.conn())
                .await?;
            match row {
                Some(row) => {
                    let permissions = text(&row, "permissions")?
                        .split_whitespace()
                        .map(Permission::parse)
                        .collect::<Result<_, _>>()?;
                    state.put_role(r.clone(), RoleFacts { name: text(&row, "name")?, permissions });
                }
                None => state.remove_role(r),
            }
        }
        for g in &touched.groups {
            let row = sqlx::query(&format!("SELECT {GROUP_FACTS} FROM groups WHERE tenant_id = $1 AND id = $2"))
                .bind(t)
                .bind(g.as_str())
                .fetch_optional(self.conn())
                .await?;
            let Some(row) = row else {
                state.remove_group(g);
                continue;
            };
            state.put_group(g.clone(), group_facts(&row)?);
            let parents: Vec<String> =
                sqlx::query_scalar("SELECT parent_id FROM group_parents WHERE tenant_id = $1 AND group_id = $2")
                    .bind(t)
                    .bind(g.as_str())
                    .fetch_all(self.conn())
                    .await?;
            state.set_parents(g, parents.iter().map(|p| GroupId::parse(p)).collect::<Result<Vec<_>, _>>()?);
            let subject = Subject::Group(g.clone());
            self.reload_links(tenant, state, &subject).await?;
            state.set_scopes(g, self.scopes_of(tenant, g).await?);
        }
        for g in &touched.members {
            let rows = self
                .fetch_json(
                    &["user_id", "source", "role", "expires_at"],
                    "FROM memberships WHERE tenant_id = $1 AND group_id = $2",
                    vec![Arg::Text(tenant.to_string()), Arg::Text(g.to_string())],
                )
                .await?
                .iter()
                .map(|row| {
                    Ok((
                        UserId::parse(&text(row, "user_id")?)?,
                        MembershipSource::parse("source", &text(row, "source")?)?,
                        member_facts(row)?,
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            state.replace_members_of(g, rows);
        }
        let users: Vec<&UserId> = touched.users.iter().collect();
        for chunk in users.chunks(ROWS_PER_STATEMENT) {
            self.reload_users(tenant, state, chunk).await?;
        }
        Ok(())
    }

    /// Re-reads users' status, memberships, direct roles and direct grants, a few queries per
    /// chunk of users rather than per user (an import touches a thousand at once).
    async fn reload_users(
        &mut self,
        tenant: &TenantId,
        state: &mut TenantState,
        users: &[&UserId],
    ) -> Result<(), StoreError> {
        let backend = self.backend();
        let ids: Vec<Vec<Arg>> = users.iter().map(|u| vec![Arg::Text(u.to_string())]).collect();
        let query = |select: &str, column: &str| {
            let mut sql = Sql::new(select);
            sql.push(" WHERE tenant_id = ").bind(Arg::Text(tenant.to_string())).push(&format!(" AND {column} IN ("));
            sql.json_rows(backend, &ids).push(")");
            sql
        };
        let mut status: FxHashMap<String, (String, String)> = FxHashMap::default();
        for row in query("SELECT id, status, user_type FROM users", "id").query()?.fetch_all(self.conn()).await? {
            status.insert(text(&row, "id")?, (text(&row, "status")?, text(&row, "user_type")?));
        }
        let mut memberships: FxHashMap<String, Vec<(GroupId, MembershipSource, MemberFacts)>> = FxHashMap::default();
        let sql = query("SELECT user_id, group_id, source, role, expires_at FROM memberships", "user_id");
        for row in sql.query()?.fetch_all(self.conn()).await? {
            memberships.entry(text(&row, "user_id")?).or_default().push((
                GroupId::parse(&text(&row, "group_id")?)?,
                MembershipSource::parse("source", &text(&row, "source")?)?,
                member_facts(&row)?,
            ));
        }
        let mut roles: FxHashMap<String, BTreeSet<RoleId>> = FxHashMap::default();
        for row in query("SELECT user_id, role_id FROM user_roles", "user_id").query()?.fetch_all(self.conn()).await? {
            roles.entry(text(&row, "user_id")?).or_default().insert(RoleId::parse(&text(&row, "role_id")?)?);
        }
        let mut grants: FxHashMap<String, Vec<(ResourceId, String)>> = FxHashMap::default();
        for row in query("SELECT user_id, resource_id, level FROM user_grants", "user_id")
            .query()?
            .fetch_all(self.conn())
            .await?
        {
            grants
                .entry(text(&row, "user_id")?)
                .or_default()
                .push((ResourceId::parse(&text(&row, "resource_id")?)?, text(&row, "level")?));
        }
        for u in users {
            let Some((st, ty)) = status.get(u.as_str()) else {
                state.remove_user(u);
                continue;
            };
            state.put_user((*u).clone(), user_facts(st, ty)?);
            state.replace_memberships_of(u, memberships.remove(u.as_str()).unwrap_or_default());
            let subject = Subject::User((*u).clone());
            state.replace_roles(&subject, roles.remove(u.as_str()).unwrap_or_default());
            let mut ranks = BTreeMap::new();
            for (resource, level) in grants.remove(u.as_str()).unwrap_or_default() {
                if let Some(rank) = rank(state, &resource, &level) {
                    ranks.insert(resource, rank);
                }
            }
            state.replace_grants(&subject, ranks);
        }
        Ok(())
    }

    /// Re-reads the roles and grants of a user or a group.
    async fn reload_links(
        &mut self,
        tenant: &TenantId,
        state: &mut TenantState,
        subject: &Subject,
    ) -> Result<(), StoreError> {
        let roles: BTreeSet<RoleId> = self.roles_of(tenant, subject).await?.into_iter().map(|r| r.id).collect();
        state.replace_roles(subject, roles);
        let mut grants = BTreeMap::new();
        for g in self.grants_of(tenant, subject).await? {
            if let Some(rank) = rank(state, &g.resource_id, g.level.as_str()) {
                grants.insert(g.resource_id, rank);
            }
        }
        state.replace_grants(subject, grants);
        Ok(())
    }
}

fn subject(col: &str, id: &str) -> Result<Subject, StoreError> {
    Ok(if col == "group_id" { Subject::Group(GroupId::parse(id)?) } else { Subject::User(UserId::parse(id)?) })
}

/// The rank of a level on a resource, or `None` when the level is not one of its type's.
fn rank(state: &TenantState, resource: &ResourceId, level: &str) -> Option<u8> {
    state.resource_levels(resource).and_then(|l| l.rank(level))
}

/// The role and expiry of a `memberships` row.
fn member_facts(row: &impl Columns) -> Result<MemberFacts, StoreError> {
    Ok(MemberFacts {
        role: MemberRole::parse("role", &text(row, "role")?)?,
        expires_at: crate::row::opt_time(row, "expires_at")?,
    })
}
