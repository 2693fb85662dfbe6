//! Roles and their assignment to groups and users. Nobody defines a role with permissions they
//! do not hold (assigning one is bounded by the conferral rule, like every change), and groups
//! filled by rules, SCIM or SSO never confer `cohort:` permissions.

use super::authz::Guard;
use super::cohort_flow::refuse_cohort_flow;
use super::snapshot::RoleSnapshot;
use super::{Change, Ctx, Services, Written, subject_exists, subject_target};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::RoleId;
use cohort_core::model::{Role, Subject};
use cohort_core::name::{Description, Name};
use cohort_core::permission::{CohortPermission as P, Permission};
use cohort_store::After;
use serde_json::json;

/// A role to create.
#[derive(Clone, Debug)]
pub struct NewRole {
    /// Name.
    pub name: Name,
    /// Description.
    pub description: Description,
    /// Permissions.
    pub permissions: Vec<Permission>,
}

/// Changes to a role; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct RolePatch {
    /// New name.
    pub name: Option<Name>,
    /// New description.
    pub description: Option<Description>,
    /// New permissions (replacing all).
    pub permissions: Option<Vec<Permission>>,
}

fn role_not_found(id: &RoleId) -> ServiceError {
    ServiceError::NotFound(format!("role `{id}`"))
}

fn normalise(mut perms: Vec<Permission>) -> Vec<Permission> {
    perms.sort();
    perms.dedup();
    perms
}

fn perm_strings(perms: &[Permission]) -> Vec<&str> {
    perms.iter().map(Permission::as_str).collect()
}

fn confers_cohort(perms: &[Permission]) -> bool {
    perms.iter().any(Permission::is_cohort)
}

impl Services {
    /// Creates a role; the caller must hold every permission in it (admins excepted).
    pub async fn create_role(&self, ctx: &Ctx, input: NewRole) -> ServiceResult<Written<Role>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = guard.require(P::RolesWrite)?;
            if let Err(e) = guard.require_grantable(&input.permissions) {
                let attempted = json!({ "name": input.name.as_str(), "permissions": perm_strings(&input.permissions) });
                return Err(change.refuse("role.create", ("role", ""), attempted, e));
            }
            if change.tx.read().role_by_name(tenant, input.name.as_str()).await?.is_some() {
                return Err(ServiceError::Conflict {
                    field: "name".to_owned(),
                    reason: format!("role name `{}` is already taken", input.name),
                });
            }
            let now = self.now();
            let role = Role {
                id: RoleId::generate(self.ids()),
                name: input.name,
                description: input.description,
                permissions: normalise(input.permissions),
                builtin: false,
                created_at: now,
                updated_at: now,
            };
            change.tx.allow(proof)?;
            change.tx.write()?.insert_role(&role).await?;
            change.touch_role(&role.id);
            self.audit(
                change,
                ctx.into(),
                "role.create",
                ("role", role.id.as_str()),
                None::<&()>,
                Some(&RoleSnapshot::from(&role)),
            );
            Ok(role)
        })
        .await
    }

    /// One role.
    pub async fn get_role(&self, ctx: &Ctx, id: &RoleId) -> ServiceResult<Role> {
        let tenant = ctx.tenant();
        self.read_holding(ctx, P::RolesRead).await?.get_role(tenant, id).await?.ok_or_else(|| role_not_found(id))
    }

    /// Roles by name.
    pub async fn list_roles(
        &self,
        ctx: &Ctx,
        q: Option<&str>,
        after: Option<&After>,
        limit: i64,
    ) -> ServiceResult<Vec<Role>> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::RolesRead).await?.list_roles(tenant, q, after, limit).await?)
    }

    /// Changes a role. Built-in roles cannot change.
    pub async fn update_role(&self, ctx: &Ctx, id: &RoleId, patch: RolePatch) -> ServiceResult<Written<Role>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = guard.require(P::RolesWrite)?;
            let before = change.tx.read().get_role(tenant, id).await?.ok_or_else(|| role_not_found(id))?;
            // Only what the role gains is granted; what it keeps was granted by whoever added it.
            let added = patch.permissions.iter().flatten().filter(|p| !before.permissions.contains(p));
            if let Err(e) = guard.require_grantable(added) {
                let attempted = json!({ "permissions": patch.permissions.as_deref().map(perm_strings) });
                return Err(change.refuse("role.update", ("role", id.as_str()), attempted, e));
            }
            if before.builtin {
                return Err(ServiceError::Conflict {
                    field: "id".to_owned(),
                    reason: format!("built-in role `{}` cannot be changed", before.name),
                });
            }
            let mut role = before.clone();
            if let Some(name) = patch.name {
                if change.tx.read().role_by_name(tenant, name.as_str()).await?.is_some_and(|r| &r.id != id) {
                    return Err(ServiceError::Conflict {
                        field: "name".to_owned(),
                        reason: format!("role name `{name}` is already taken"),
                    });
                }
                role.name = name;
            }
            role.description = patch.description.unwrap_or(role.description);
            if let Some(perms) = patch.permissions {
                let perms = normalise(perms);
                if confers_cohort(&perms) {
                    for g in change.tx.read().groups_with_role(tenant, id).await? {
                        refuse_cohort_flow(&mut change.tx, &change.before.state, "permissions", &g, &g).await?;
                    }
                }
                role.permissions = perms;
            }
            role.updated_at = self.now().next_after(before.updated_at);
            change.tx.allow(proof)?;
            change.tx.write()?.update_role(&role).await?;
            change.touch_role(&role.id);
            self.audit(
                change,
                ctx.into(),
                "role.update",
                ("role", id.as_str()),
                Some(&RoleSnapshot::from(&before)),
                Some(&RoleSnapshot::from(&role)),
            );
            Ok(role)
        })
        .await
    }

    /// Deletes a role and every assignment of it. Built-in roles cannot be deleted.
    pub async fn delete_role(&self, ctx: &Ctx, id: &RoleId) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::RolesWrite)?;
            change.tx.allow(proof)?;
            let before = change.tx.read().get_role(tenant, id).await?.ok_or_else(|| role_not_found(id))?;
            if before.builtin {
                return Err(ServiceError::Conflict {
                    field: "id".to_owned(),
                    reason: format!("built-in role `{}` cannot be deleted", before.name),
                });
            }
            change.tx.write()?.delete_role(id).await?;
            change.touch_role(id);
            self.audit(
                change,
                ctx.into(),
                "role.delete",
                ("role", id.as_str()),
                Some(&RoleSnapshot::from(&before)),
                None::<&()>,
            );
            Ok(())
        })
        .await
    }

    /// Assigns a role to a group or a user.
    pub async fn assign_role(&self, ctx: &Ctx, subject: &Subject, role_id: &RoleId) -> ServiceResult<Written<Role>> {
        self.change(ctx, async |change| self.assign_role_in(change, ctx, subject, role_id).await).await
    }

    /// [`Self::assign_role`] as one step of a change the caller finishes (batch edits).
    pub async fn assign_role_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        subject: &Subject,
        role_id: &RoleId,
    ) -> ServiceResult<Role> {
        let state = &change.before.state;
        subject_exists(state, subject)?;
        let guard = Guard::new(ctx, &change.before, self.now());
        change.tx.allow(match subject {
            Subject::Group(_) => guard.require(P::GroupsWrite)?,
            Subject::User(_) => guard.require(P::UserRolesWrite)?,
        })?;
        if let Subject::Group(g) = subject {
            let facts = state.group(g).ok_or_else(|| ServiceError::NotFound(format!("group `{g}`")))?;
            if !facts.active {
                return Err(crate::error::archived("groupId", state, g));
            }
        }
        self.put_role_in(change, ctx, subject, role_id).await
    }

    /// Writes an assignment of `role_id` to `subject` (which exists and is active; the change
    /// is allowed) and audits it; a role giving `cohort:` permissions must not reach members
    /// that rules or an identity provider choose.
    pub async fn put_role_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        subject: &Subject,
        role_id: &RoleId,
    ) -> ServiceResult<Role> {
        let tenant = &change.tenant().clone();
        let role = change.tx.read().get_role(tenant, role_id).await?.ok_or_else(|| {
            ServiceError::Invalid(vec![FieldError {
                field: "roleId".to_owned(),
                message: format!("role `{role_id}` not found"),
            }])
        })?;
        if let Subject::Group(g) = subject
            && confers_cohort(&role.permissions)
        {
            refuse_cohort_flow(&mut change.tx, &change.before.state, "roleId", g, g).await?;
        }
        let (kind, id) = subject_target(subject);
        change.touch_subject(subject);
        if !change.tx.write()?.assign_role(subject, role_id, ctx.user(), self.now()).await? {
            let holder = change.subject_name(subject).await?;
            return Err(ServiceError::Conflict {
                field: "roleId".to_owned(),
                reason: format!("{holder} already holds the role {}", role.name),
            });
        }
        self.audit(
            change,
            ctx.into(),
            &format!("{kind}.role.assign"),
            (kind, &id),
            None::<&()>,
            Some(&RoleSnapshot::from(&role)),
        );
        Ok(role)
    }

    /// Removes a role from a group or a user.
    pub async fn unassign_role(&self, ctx: &Ctx, subject: &Subject, role_id: &RoleId) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| self.unassign_role_in(change, ctx, subject, role_id).await).await
    }

    /// [`Self::unassign_role`] as one step of a change the caller finishes (batch edits).
    pub async fn unassign_role_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        subject: &Subject,
        role_id: &RoleId,
    ) -> ServiceResult<()> {
        let tenant = &change.tenant().clone();
        let state = &change.before.state;
        subject_exists(state, subject)?;
        let guard = Guard::new(ctx, &change.before, self.now());
        change.tx.allow(match subject {
            Subject::Group(_) => guard.require(P::GroupsWrite)?,
            Subject::User(_) => guard.require(P::UserRolesWrite)?,
        })?;
        let role = change.tx.read().get_role(tenant, role_id).await?.ok_or_else(|| role_not_found(role_id))?;
        let own_admin = role.permissions.iter().any(|p| p.covers(P::Admin.as_str()));
        if own_admin && matches!(subject, Subject::User(u) if ctx.is_user(u)) {
            return Err(ServiceError::Conflict {
                field: "roleId".to_owned(),
                reason: "you cannot remove your own admin role; ask another admin".to_owned(),
            });
        }
        match change.tx.write()?.unassign_role(subject, role_id).await {
            Err(cohort_store::StoreError::NotFound) => {
                let holder = change.subject_name(subject).await?;
                return Err(ServiceError::NotFound(format!("the role {} of {holder}", role.name)));
            }
            done => done?,
        }
        change.touch_subject(subject);
        let (kind, id) = subject_target(subject);
        self.audit(
            change,
            ctx.into(),
            &format!("{kind}.role.unassign"),
            (kind, &id),
            Some(&RoleSnapshot::from(&role)),
            None::<&()>,
        );
        Ok(())
    }

    /// Roles assigned to a group (readers and its managers) or directly to a user (readers and
    /// the user themself).
    pub async fn roles_of(&self, ctx: &Ctx, subject: &Subject) -> ServiceResult<Vec<Role>> {
        Ok(self.read_held_by(ctx, subject).await?.roles_of(ctx.tenant(), subject).await?)
    }
}
