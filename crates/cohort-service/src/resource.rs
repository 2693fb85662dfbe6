//! Resource types, resources, grants of levels on them, and group data scopes.

use super::authz::Guard;
use super::snapshot::ResourceSnapshot;
use super::{Change, Ctx, Live, Services, Written, subject_exists, subject_target};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::index::Verdict;
use cohort_core::model::{Grant, Resource, ResourceType, Subject};
use cohort_core::name::{Description, Keyword, Levels, Name, Scopes};
use cohort_core::permission::CohortPermission as P;
use cohort_core::resolve::{describe_via, resolve};
use cohort_core::{GroupId, ResourceId, UserId};
use cohort_store::ResourceFilter;
use serde::Serialize;

/// A resource to create.
#[derive(Clone, Debug)]
pub struct NewResource {
    /// Its type.
    pub type_name: Keyword,
    /// Name, unique within the type.
    pub name: Name,
    /// Description.
    pub description: Description,
}

/// Changes to a resource.
#[derive(Clone, Debug, Default)]
pub struct ResourcePatch {
    /// New name.
    pub name: Option<Name>,
    /// New description.
    pub description: Option<Description>,
}

/// Someone who holds a level on a resource, and why.
#[derive(Clone, Debug)]
pub struct Holder {
    /// The user.
    pub user_id: UserId,
    /// The level held.
    pub level: String,
    /// Why, in words.
    pub reason: String,
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: field.to_owned(), message }])
}

fn not_found(id: &ResourceId) -> ServiceError {
    ServiceError::NotFound(format!("resource `{id}`"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrantRecord<'a> {
    resource_id: &'a str,
    level: &'a str,
}

impl Services {
    /// Resource types with their levels.
    pub async fn list_resource_types(&self, ctx: &Ctx) -> ServiceResult<Vec<ResourceType>> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        Guard::new(ctx, &live, self.now()).require(P::ResourcesRead)?;
        Ok(self.store.read().await?.list_resource_types(tenant).await?)
    }

    /// Creates a resource type with its ordered levels (levels cannot change later).
    pub async fn create_resource_type(
        &self,
        ctx: &Ctx,
        name: Keyword,
        levels: Levels,
    ) -> ServiceResult<Written<ResourceType>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::ResourcesWrite)?;
            change.tx.allow(proof)?;
            if change.tx.read().get_resource_type(tenant, name.as_str()).await?.is_some() {
                return Err(ServiceError::Conflict(
                    "name".to_owned(),
                    format!("resource type `{name}` already exists"),
                ));
            }
            let t = ResourceType { name, levels, builtin: false };
            change.tx.write()?.insert_resource_type(&t).await?;
            let levels: Vec<&str> = t.levels.as_slice().iter().map(Keyword::as_str).collect();
            self.audit(
                change,
                ctx.into(),
                "resource_type.create",
                ("resource_type", t.name.as_str()),
                None::<&()>,
                Some(&serde_json::json!({ "name": t.name.as_str(), "levels": levels })),
            );
            Ok(t)
        })
        .await
    }

    /// Deletes a resource type that is not built in and has no resources.
    pub async fn delete_resource_type(&self, ctx: &Ctx, name: &str) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::ResourcesWrite)?;
            change.tx.allow(proof)?;
            let t = change
                .tx
                .read()
                .get_resource_type(tenant, name)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("resource type `{name}`")))?;
            if t.builtin {
                return Err(ServiceError::Conflict(
                    "name".to_owned(),
                    format!("built-in resource type `{name}` cannot be deleted"),
                ));
            }
            if change.tx.read().resources_of_type(tenant, name).await? > 0 {
                return Err(ServiceError::Conflict(
                    "name".to_owned(),
                    format!("resource type `{name}` still has resources"),
                ));
            }
            change.tx.write()?.delete_resource_type(name).await?;
            self.audit(change, ctx.into(), "resource_type.delete", ("resource_type", name), None::<&()>, None::<&()>);
            Ok(())
        })
        .await
    }

    /// Creates a resource.
    pub async fn create_resource(&self, ctx: &Ctx, input: NewResource) -> ServiceResult<Written<Resource>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::ResourcesWrite)?;
            change.tx.allow(proof)?;
            if change.before.state.levels_of(input.type_name.as_str()).is_none() {
                return Err(invalid("type", format!("resource type `{}` not found", input.type_name)));
            }
            if change.tx.read().resource_name_owner(tenant, input.type_name.as_str(), &input.name).await?.is_some() {
                return Err(ServiceError::Conflict(
                    "name".to_owned(),
                    format!("{} `{}` already exists", input.type_name, input.name),
                ));
            }
            let now = self.now();
            let r = Resource {
                id: ResourceId::generate(self.ids()),
                type_name: input.type_name,
                name: input.name,
                description: input.description,
                created_at: now,
                updated_at: now,
            };
            change.tx.write()?.put_resource(&r).await?;
            change.touch_resource(&r.id);
            self.audit(
                change,
                ctx.into(),
                "resource.create",
                ("resource", r.id.as_str()),
                None::<&()>,
                Some(&ResourceSnapshot::from(&r)),
            );
            Ok(r)
        })
        .await
    }

    /// One resource.
    pub async fn get_resource(&self, ctx: &Ctx, id: &ResourceId) -> ServiceResult<Resource> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        Guard::new(ctx, &live, self.now()).require(P::ResourcesRead)?;
        self.store.read().await?.get_resource(tenant, id).await?.ok_or_else(|| not_found(id))
    }

    /// Resources by name.
    pub async fn list_resources(&self, ctx: &Ctx, filter: &ResourceFilter) -> ServiceResult<Vec<Resource>> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        Guard::new(ctx, &live, self.now()).require(P::ResourcesRead)?;
        Ok(self.store.read().await?.list_resources(tenant, filter).await?)
    }

    /// Renames or re-describes a resource.
    pub async fn update_resource(
        &self,
        ctx: &Ctx,
        id: &ResourceId,
        patch: ResourcePatch,
    ) -> ServiceResult<Written<Resource>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::ResourcesWrite)?;
            change.tx.allow(proof)?;
            let before = change.tx.read().get_resource(tenant, id).await?.ok_or_else(|| not_found(id))?;
            let mut r = before.clone();
            if let Some(name) = patch.name {
                if change
                    .tx
                    .read()
                    .resource_name_owner(tenant, r.type_name.as_str(), &name)
                    .await?
                    .is_some_and(|o| &o != id)
                {
                    return Err(ServiceError::Conflict(
                        "name".to_owned(),
                        format!("{} `{name}` already exists", r.type_name),
                    ));
                }
                r.name = name;
            }
            r.description = patch.description.unwrap_or(r.description);
            r.updated_at = self.now().next_after(before.updated_at);
            change.tx.write()?.put_resource(&r).await?;
            change.touch_resource(id);
            self.audit(
                change,
                ctx.into(),
                "resource.update",
                ("resource", id.as_str()),
                Some(&ResourceSnapshot::from(&before)),
                Some(&ResourceSnapshot::from(&r)),
            );
            Ok(r)
        })
        .await
    }

    /// Deletes a resource and every grant on it, at once.
    pub async fn delete_resource(&self, ctx: &Ctx, id: &ResourceId) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::ResourcesWrite)?;
            change.tx.allow(proof)?;
            let before = change.tx.read().get_resource(tenant, id).await?.ok_or_else(|| not_found(id))?;
            change.tx.write()?.delete_resource(id).await?;
            change.touch_resource(id);
            self.audit(
                change,
                ctx.into(),
                "resource.delete",
                ("resource", id.as_str()),
                Some(&ResourceSnapshot::from(&before)),
                None::<&()>,
            );
            Ok(())
        })
        .await
    }

    /// Gives a group or a user a level on a resource (replacing the level it had). The caller
    /// must hold that level on the resource themselves, unless they are an admin.
    pub async fn grant(
        &self,
        ctx: &Ctx,
        subject: &Subject,
        resource: &ResourceId,
        level: &str,
    ) -> ServiceResult<Written<Grant>> {
        self.change(ctx, async |change| self.grant_in(change, ctx, subject, resource, level).await).await
    }

    /// [`Self::grant`] as one step of a change the caller finishes (batch edits).
    pub async fn grant_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        subject: &Subject,
        resource: &ResourceId,
        level: &str,
    ) -> ServiceResult<Grant> {
        let live: &Live = &change.before;
        let now = self.now();
        subject_exists(&live.state, subject)?;
        let guard = Guard::new(ctx, live, now);
        change.tx.allow(match subject {
            Subject::Group(_) => guard.require(P::GroupsWrite)?,
            Subject::User(_) => guard.require(P::UserRolesWrite)?,
        })?;
        let levels = live
            .state
            .resource_levels(resource)
            .ok_or_else(|| invalid("resourceId", format!("resource `{resource}` not found")))?;
        let Some(_) = levels.rank(level) else {
            let names: Vec<&str> = levels.as_slice().iter().map(Keyword::as_str).collect();
            return Err(invalid("level", format!("`{level}` is not one of: {}", names.join(", "))));
        };
        if let Subject::Group(g) = subject
            && live.state.group(g).is_some_and(|f| !f.active)
        {
            return Err(ServiceError::Conflict("groupId".to_owned(), format!("group `{g}` is archived")));
        }
        let g = Grant {
            resource_id: resource.clone(),
            subject: subject.clone(),
            level: Keyword::parse("level", level)?,
            granted_by: Some(ctx.principal.user.clone()),
            granted_at: now,
        };
        change.tx.write()?.put_grant(&g).await?;
        change.touch_subject(subject);
        let (kind, id) = subject_target(subject);
        self.audit(
            change,
            ctx.into(),
            &format!("{kind}.grant"),
            (kind, &id),
            None::<&()>,
            Some(&GrantRecord { resource_id: resource.as_str(), level }),
        );
        Ok(g)
    }

    /// Removes a group's or a user's grant on a resource.
    pub async fn revoke(&self, ctx: &Ctx, subject: &Subject, resource: &ResourceId) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| self.revoke_in(change, ctx, subject, resource).await).await
    }

    /// [`Self::revoke`] as one step of a change the caller finishes (batch edits).
    pub async fn revoke_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        subject: &Subject,
        resource: &ResourceId,
    ) -> ServiceResult<()> {
        let tenant = &change.tenant().clone();
        subject_exists(&change.before.state, subject)?;
        let guard = Guard::new(ctx, &change.before, self.now());
        change.tx.allow(match subject {
            Subject::Group(_) => guard.require(P::GroupsWrite)?,
            Subject::User(_) => guard.require(P::UserRolesWrite)?,
        })?;
        let before =
            change.tx.read().grants_of(tenant, subject).await?.into_iter().find(|g| &g.resource_id == resource);
        let Some(before) = before else { return Err(ServiceError::NotFound(format!("grant on `{resource}`"))) };
        change.tx.write()?.delete_grant(subject, resource).await?;
        change.touch_subject(subject);
        let (kind, id) = subject_target(subject);
        let record = GrantRecord { resource_id: resource.as_str(), level: before.level.as_str() };
        self.audit(change, ctx.into(), &format!("{kind}.revoke"), (kind, &id), Some(&record), None::<&()>);
        Ok(())
    }

    /// Grants held by a group (readers and its managers) or directly by a user (readers and
    /// the user themself).
    pub async fn grants_of(&self, ctx: &Ctx, subject: &Subject) -> ServiceResult<Vec<Grant>> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        subject_exists(&live.state, subject)?;
        let guard = Guard::new(ctx, &live, self.now());
        guard.require_read_of(subject)?;
        Ok(self.store.read().await?.grants_of(tenant, subject).await?)
    }

    /// Every grant on a resource.
    pub async fn grants_on(&self, ctx: &Ctx, resource: &ResourceId) -> ServiceResult<Vec<Grant>> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        live.state.resource(resource).ok_or_else(|| not_found(resource))?;
        Guard::new(ctx, &live, self.now()).require(P::ResourcesRead)?;
        Ok(self.store.read().await?.grants_on(tenant, resource).await?)
    }

    /// Every user who holds at least `level` on a resource, and why ("who can use agent X").
    pub async fn holders(
        &self,
        ctx: &Ctx,
        resource: &ResourceId,
        level: &str,
        at_least: Option<i64>,
    ) -> ServiceResult<(i64, Vec<Holder>)> {
        let tenant = ctx.tenant();
        let live = self.live_at_least(tenant, at_least).await?;
        let levels = live.state.resource_levels(resource).ok_or_else(|| not_found(resource))?;
        let wanted =
            levels.rank(level).ok_or_else(|| invalid("level", format!("`{level}` is not a level of `{resource}`")))?;
        let now = self.now();
        Guard::new(ctx, &live, now).require(P::AccessRead)?;
        let mut users: Vec<&UserId> = live.state.user_ids().collect();
        users.sort();
        let mut out = Vec::new();
        for u in users {
            // The index rules most users out in a lookup; the rest are explained once.
            let verdict = live.index.check_level(&live.state, u, resource, level, now);
            if !(verdict.allowed() || verdict == Verdict::Stale) {
                continue;
            }
            let held = resolve(&live.state, u, now).levels.into_iter().find(|l| &l.resource == resource);
            let Some(held) = held.filter(|l| l.rank >= wanted) else { continue };
            let name = |rank: u8| levels.as_slice().get(usize::from(rank)).map(|k| k.to_string()).unwrap_or_default();
            let reason = held
                .via
                .first()
                .map(|(rank, via)| format!("`{}` on `{resource}` {}", name(*rank), describe_via(&live.state, via)))
                .unwrap_or_default();
            out.push(Holder { user_id: u.clone(), level: name(held.rank), reason });
        }
        Ok((live.revision, out))
    }

    /// A group's data scopes.
    pub async fn scopes(&self, ctx: &Ctx, group: &GroupId) -> ServiceResult<Scopes> {
        let tenant = ctx.tenant();
        let live = self.live(tenant).await?;
        live.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
        Guard::new(ctx, &live, self.now()).require_or_manager(P::GroupsRead, group)?;
        Ok(live.state.scopes_of(group).cloned().unwrap_or_default())
    }

    /// Replaces a group's data scopes.
    pub async fn set_scopes(&self, ctx: &Ctx, group: &GroupId, scopes: Scopes) -> ServiceResult<Written<Scopes>> {
        self.change(ctx, async |change| {
            let facts =
                change.before.state.group(group).ok_or_else(|| ServiceError::NotFound(format!("group `{group}`")))?;
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?;
            change.tx.allow(proof)?;
            if !facts.active {
                return Err(ServiceError::Conflict("groupId".to_owned(), format!("group `{group}` is archived")));
            }
            let before = change.before.state.scopes_of(group).map(|s| s.as_map().clone()).unwrap_or_default();
            change.tx.write()?.set_scopes(group, &scopes).await?;
            change.touch_group(group);
            self.audit(
                change,
                ctx.into(),
                "group.scopes.set",
                ("group", group.as_str()),
                Some(&before),
                Some(scopes.as_map()),
            );
            Ok(scopes)
        })
        .await
    }
}
