//! User types: the kinds of user a tenant keeps (`member`, and e.g. `customer`, `partner`,
//! `service`). Every user has one; a group may admit only some ([`cohort_core::name::MemberTypes`]),
//! which every change is held to when it commits.

use super::authz::Guard;
use super::{Change, Ctx, Services, Written};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::DomainError;
use cohort_core::name::UserType;
use cohort_core::permission::CohortPermission as P;
use std::collections::{BTreeMap, BTreeSet};

/// Most user types one tenant keeps.
pub const MAX_USER_TYPES: usize = 32;

/// One user type with how many users have it and how many groups admit it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTypeUse {
    /// The type.
    pub name: UserType,
    /// Users of this type.
    pub users: i64,
    /// Groups that admit only some types, this one among them.
    pub groups: i64,
}

/// Refuses a type the tenant does not keep.
pub fn known_type(types: &BTreeSet<UserType>, t: &UserType) -> Result<(), DomainError> {
    if types.contains(t) {
        return Ok(());
    }
    let list = types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
    Err(DomainError::invalid("type", format!("`{t}` is not one of this tenant's user types: {list}")))
}

fn with_uses(types: BTreeSet<UserType>, uses: &BTreeMap<String, (i64, i64)>) -> Vec<UserTypeUse> {
    types
        .into_iter()
        .map(|name| {
            let (users, groups) = uses.get(name.as_str()).copied().unwrap_or_default();
            UserTypeUse { name, users, groups }
        })
        .collect()
}

impl Services {
    /// The user types the tenant of `change` keeps.
    pub async fn user_types_in(&self, change: &mut Change) -> ServiceResult<BTreeSet<UserType>> {
        let tenant = change.tenant().clone();
        let found = change.tx.read().tenant_by_id(&tenant).await?;
        Ok(found.ok_or_else(|| ServiceError::NotFound(format!("tenant `{tenant}`")))?.user_types)
    }

    /// The tenant's user types with their use; anyone who may read users may read them.
    pub async fn list_user_types(&self, ctx: &Ctx) -> ServiceResult<Vec<UserTypeUse>> {
        let tenant = ctx.tenant();
        let mut r = self.read_holding(ctx, P::UsersRead).await?;
        let types = r.tenant_by_id(tenant).await?.map(|t| t.user_types).unwrap_or_default();
        let uses = r.user_type_uses(tenant).await?;
        Ok(with_uses(types, &uses))
    }

    /// Replaces the tenant's user types (needs `cohort:admin`). The list always holds
    /// `member`; a type still held by a user or admitted by a group cannot be removed.
    pub async fn set_user_types(
        &self,
        ctx: &Ctx,
        types: BTreeSet<UserType>,
    ) -> ServiceResult<Written<Vec<UserTypeUse>>> {
        self.change(ctx, async |change| {
            let proof = Guard::new(ctx, &change.before, self.now()).require(P::Admin)?;
            change.tx.allow(proof)?;
            if !types.contains(&UserType::default()) {
                return Err(
                    DomainError::invalid("types", "the list must hold `member`, every user's default type").into()
                );
            }
            if types.len() > MAX_USER_TYPES {
                return Err(DomainError::invalid("types", format!("at most {MAX_USER_TYPES} user types")).into());
            }
            let before = self.user_types_in(change).await?;
            let tenant_id = change.tenant().clone();
            let uses = change.tx.read().user_type_uses(&tenant_id).await?;
            for gone in before.difference(&types) {
                if let Some((users, groups)) = uses.get(gone.as_str()).filter(|(u, g)| *u + *g > 0) {
                    return Err(ServiceError::Conflict {
                        field: "types".to_owned(),
                        reason: format!(
                            "user type `{gone}` is still in use ({users} users have it, {groups} groups admit it): \
                             change them first"
                        ),
                    });
                }
            }
            change.tx.write()?.set_user_types(&types).await?;
            let names = |t: &BTreeSet<UserType>| t.iter().map(ToString::to_string).collect::<Vec<_>>();
            self.audit(
                change,
                ctx.into(),
                "tenant.user_types",
                ("tenant", tenant_id.as_str()),
                Some(&names(&before)),
                Some(&names(&types)),
            );
            Ok(with_uses(types, &uses))
        })
        .await
    }
}
