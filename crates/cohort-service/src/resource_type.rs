//! Resource types: their names and ordered levels, made and removed by admins.

use super::authz::Guard;
use super::{Ctx, Services, Written};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::ResourceType;
use cohort_core::name::{Keyword, Levels};
use cohort_core::permission::CohortPermission as P;

impl Services {
    /// Resource types with their levels.
    pub async fn list_resource_types(&self, ctx: &Ctx) -> ServiceResult<Vec<ResourceType>> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::ResourcesRead).await?.list_resource_types(tenant).await?)
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
                return Err(ServiceError::Conflict {
                    field: "name".to_owned(),
                    reason: format!("resource type `{name}` already exists"),
                });
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
                return Err(ServiceError::Conflict {
                    field: "name".to_owned(),
                    reason: format!("built-in resource type `{name}` cannot be deleted"),
                });
            }
            if change.tx.read().resources_of_type(tenant, name).await? > 0 {
                return Err(ServiceError::Conflict {
                    field: "name".to_owned(),
                    reason: format!("resource type `{name}` still has resources"),
                });
            }
            change.tx.write()?.delete_resource_type(name).await?;
            self.audit(change, ctx.into(), "resource_type.delete", ("resource_type", name), None::<&()>, None::<&()>);
            Ok(())
        })
        .await
    }
}
