//! Resources: the things apps register, each of a type, that levels are granted on.

use super::authz::Guard;
use super::snapshot::ResourceSnapshot;
use super::{Ctx, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::ResourceId;
use cohort_core::model::Resource;
use cohort_core::name::{Description, Keyword, Name};
use cohort_core::permission::CohortPermission as P;
use cohort_store::ResourceFilter;

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

pub(super) fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid(vec![FieldError { field: field.to_owned(), message }])
}

pub(super) fn not_found(id: &ResourceId) -> ServiceError {
    ServiceError::NotFound(format!("resource `{id}`"))
}

impl Services {
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
                return Err(ServiceError::Conflict {
                    field: "name".to_owned(),
                    reason: format!("{} `{}` already exists", input.type_name, input.name),
                });
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
        self.read_holding(ctx, P::ResourcesRead).await?.get_resource(tenant, id).await?.ok_or_else(|| not_found(id))
    }

    /// Resources by name.
    pub async fn list_resources(&self, ctx: &Ctx, filter: &ResourceFilter) -> ServiceResult<Vec<Resource>> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::ResourcesRead).await?.list_resources(tenant, filter).await?)
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
                    return Err(ServiceError::Conflict {
                        field: "name".to_owned(),
                        reason: format!("{} `{name}` already exists", r.type_name),
                    });
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
}
