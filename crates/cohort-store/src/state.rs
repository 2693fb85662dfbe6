//! Loading one tenant's access facts into memory.

use crate::row::{boolean, opt_time, text};
use crate::{Db, StoreError};
use cohort_core::model::{GroupSource, GroupStatus, MemberRole, MembershipSource, Subject, UserStatus};
use cohort_core::permission::Permission;
use cohort_core::state::{GroupFacts, MemberFacts, RoleFacts, TenantState, UserFacts};
use cohort_core::{GroupId, RoleId, TenantId, UserId};
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use std::ops::DerefMut;

impl<C: DerefMut<Target = AnyConnection>> Db<C> {
    /// Every access fact of a tenant, as of this connection's view.
    pub async fn load_state(&mut self, tenant: &TenantId) -> Result<TenantState, StoreError> {
        let t = tenant.as_str();
        let mut s = TenantState::default();
        for row in
            sqlx::query("SELECT id, status FROM users WHERE tenant_id = $1").bind(t).fetch_all(self.conn()).await?
        {
            let active = UserStatus::parse("status", &text(&row, "status")?)? == UserStatus::Active;
            s.put_user(UserId::parse(&text(&row, "id")?)?, UserFacts { active });
        }
        let groups = sqlx::query("SELECT id, name, status, apply_privileges, source FROM groups WHERE tenant_id = $1")
            .bind(t)
            .fetch_all(self.conn())
            .await?;
        for row in groups {
            s.put_group(
                GroupId::parse(&text(&row, "id")?)?,
                GroupFacts {
                    name: text(&row, "name")?,
                    active: GroupStatus::parse("status", &text(&row, "status")?)? == GroupStatus::Active,
                    apply_privileges: boolean(&row, "apply_privileges")?,
                    source: GroupSource::parse("source", &text(&row, "source")?)?,
                },
            );
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
        for row in
            sqlx::query("SELECT group_id, user_id, source, role, expires_at FROM memberships WHERE tenant_id = $1")
                .bind(t)
                .fetch_all(self.conn())
                .await?
        {
            s.put_membership(
                &GroupId::parse(&text(&row, "group_id")?)?,
                &UserId::parse(&text(&row, "user_id")?)?,
                MembershipSource::parse("source", &text(&row, "source")?)?,
                MemberFacts {
                    role: MemberRole::parse("role", &text(&row, "role")?)?,
                    expires_at: opt_time(&row, "expires_at")?,
                },
            );
        }
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
        Ok(s)
    }
}
