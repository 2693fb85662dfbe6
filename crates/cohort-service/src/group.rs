//! Groups: create, read, list, change (including nesting), archive, unarchive, delete.

use super::authz::Guard;
use super::snapshot::GroupSnapshot;
use super::user_type::known_type;
use super::{Change, Ctx, Expect, NewMember, Origin, Services, Written};
use crate::error::{FieldError, ServiceError, ServiceResult};
use cohort_core::graph::check_parents;
use cohort_core::model::{Group, GroupSource, GroupStatus, Subject};
use cohort_core::name::{Description, GroupSlug, MemberTypes, Name, ShortText};
use cohort_core::permission::CohortPermission as P;
use cohort_core::{DomainError, GroupId, RoleId, UserId};
use cohort_store::GroupFilter;
use cohort_store::listing::Listing;
use std::collections::BTreeSet;

/// A group to create.
#[derive(Clone, Debug)]
pub struct NewGroup {
    /// Name.
    pub name: Name,
    /// Slug; derived from the name when absent.
    pub slug: Option<GroupSlug>,
    /// Description.
    pub description: Description,
    /// Parents.
    pub parent_ids: BTreeSet<GroupId>,
    /// Whether the group confers anything.
    pub apply_privileges: bool,
    /// Whether members are notified of access changes.
    pub notify_members: bool,
    /// Who owns the definition (`scim` for groups an identity provider pushes).
    pub source: GroupSource,
    /// Id in the provisioning system.
    pub external_id: Option<ShortText>,
    /// The user types it admits (empty: every type).
    pub member_types: MemberTypes,
    /// Roles to assign to it in the same change.
    pub roles: Vec<RoleId>,
    /// Its first members, added by hand in the same change.
    pub members: Vec<NewMember>,
}

impl NewGroup {
    /// A group named `name` with nothing else: no parents, roles or members, conferring.
    pub fn named(name: Name, source: GroupSource) -> Self {
        Self {
            name,
            slug: None,
            description: Description::default(),
            parent_ids: BTreeSet::new(),
            apply_privileges: true,
            notify_members: false,
            source,
            external_id: None,
            member_types: MemberTypes::default(),
            roles: Vec::new(),
            members: Vec::new(),
        }
    }
}

/// Changes to a group; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct GroupPatch {
    /// New name.
    pub name: Option<Name>,
    /// New slug.
    pub slug: Option<GroupSlug>,
    /// New description (group managers may change this).
    pub description: Option<Description>,
    /// New parents (replacing all).
    pub parent_ids: Option<BTreeSet<GroupId>>,
    /// New flag.
    pub apply_privileges: Option<bool>,
    /// New flag.
    pub notify_members: Option<bool>,
    /// New id in the provisioning system; `Some(None)` removes it.
    pub external_id: Option<Option<ShortText>>,
    /// New member types (replacing all); refused while a member (other than through rules,
    /// who leave) is of a type it does not admit.
    pub member_types: Option<MemberTypes>,
}

impl GroupPatch {
    fn only_description(&self) -> bool {
        self.name.is_none()
            && self.slug.is_none()
            && self.parent_ids.is_none()
            && self.apply_privileges.is_none()
            && self.notify_members.is_none()
            && self.external_id.is_none()
            && self.member_types.is_none()
    }
}

fn not_found(id: &GroupId) -> ServiceError {
    ServiceError::NotFound(format!("group `{id}`"))
}

impl Services {
    pub(super) async fn check_name_free(
        &self,
        change: &mut Change,
        name: &Name,
        me: Option<&GroupId>,
    ) -> ServiceResult<()> {
        let tenant = change.tenant().clone();
        match change.tx.read().group_name_owner(&tenant, name).await? {
            Some(owner) if Some(&owner) != me => Err(ServiceError::Conflict {
                field: "name".to_owned(),
                reason: format!("group name `{name}` is already taken"),
            }),
            _ => Ok(()),
        }
    }

    async fn slug_free(&self, change: &mut Change, slug: &GroupSlug, me: Option<&GroupId>) -> ServiceResult<bool> {
        let tenant = change.tenant().clone();
        Ok(match change.tx.read().group_slug_owner(&tenant, slug).await? {
            Some(owner) => Some(&owner) == me,
            None => true,
        })
    }

    /// Creates a group with its parents, roles and first members, in one change.
    pub async fn create_group(&self, ctx: &Ctx, input: NewGroup) -> ServiceResult<Written<(Group, i64)>> {
        self.change(ctx, async |change| self.create_group_in(change, ctx, input).await).await
    }

    /// Checks that the tenant keeps every type of `types`.
    async fn known_types(&self, change: &mut Change, types: &MemberTypes) -> ServiceResult<()> {
        if types.is_any() {
            return Ok(());
        }
        let kept = self.user_types_in(change).await?;
        for t in types.iter() {
            known_type(&kept, t).map_err(|e| DomainError::invalid("memberTypes", e.reason()))?;
        }
        Ok(())
    }

    /// [`Self::create_group`] as one step of a change the caller finishes (batch edits).
    pub async fn create_group_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        input: NewGroup,
    ) -> ServiceResult<(Group, i64)> {
        change.tx.allow(Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?)?;
        self.check_name_free(change, &input.name, None).await?;
        let slug = match input.slug {
            Some(slug) => {
                if !self.slug_free(change, &slug, None).await? {
                    return Err(ServiceError::Conflict {
                        field: "slug".to_owned(),
                        reason: format!("group slug `{slug}` is already taken"),
                    });
                }
                slug
            }
            None => self.free_slug(change, &GroupSlug::from_name(&input.name)).await?,
        };
        check_parents(&change.before.state, None, &input.parent_ids, self.config.max_depth)?;
        self.known_types(change, &input.member_types).await?;
        let now = self.now();
        let group = Group {
            id: GroupId::generate(self.ids()),
            provider_name: (input.source != GroupSource::Local).then(|| input.name.clone()),
            name: input.name,
            slug,
            description: input.description,
            status: GroupStatus::Active,
            source: input.source,
            external_id: input.external_id.map(|e| e.as_str().to_owned()),
            apply_privileges: input.apply_privileges,
            notify_members: input.notify_members,
            member_types: input.member_types,
            parent_ids: input.parent_ids.into_iter().collect(),
            created_at: now,
            updated_at: now,
        };
        change.tx.write()?.insert_group(&group).await?;
        change.touch_group(&group.id);
        self.audit(
            change,
            ctx.into(),
            "group.create",
            ("group", group.id.as_str()),
            None::<&()>,
            Some(&GroupSnapshot::from(&group)),
        );
        let subject = Subject::Group(group.id.clone());
        for role in input.roles.iter().collect::<BTreeSet<_>>() {
            self.put_role_in(change, ctx, &subject, role).await?;
        }
        let mut seen = BTreeSet::new();
        for m in input.members {
            if !seen.insert(m.user_id.clone()) {
                return Err(ServiceError::Invalid(vec![FieldError {
                    field: "members".to_owned(),
                    message: format!("user `{}` is listed twice", m.user_id),
                }]));
            }
            self.put_member_in(change, ctx, &group.id, m).await?;
        }
        let members = seen.len() as i64;
        Ok((group, members))
    }

    /// Creates the group that stands for a provider's group at sign-in (source `sso`, with the
    /// provider's id as its external id and, until an admin renames it, as its name; suffixed
    /// ` (2)`, ` (3)`, ... when a group already has that name). The change is allowed.
    pub async fn create_synced_group_in(
        &self,
        change: &mut Change,
        origin: Origin<'_>,
        external_id: &str,
    ) -> ServiceResult<GroupId> {
        let stem: String = external_id.chars().take(120).collect();
        let tenant = change.tenant().clone();
        let mut name = Name::parse("name", &stem)?;
        for n in 2..1000 {
            if change.tx.read().group_name_owner(&tenant, &name).await?.is_none() {
                break;
            }
            name = Name::parse("name", &format!("{stem} ({n})"))?;
        }
        let now = self.now();
        let group = Group {
            id: GroupId::generate(self.ids()),
            provider_name: Some(name.clone()),
            slug: self.free_slug(change, &GroupSlug::from_name(&name)).await?,
            name,
            description: Description::parse("")?,
            status: GroupStatus::Active,
            source: GroupSource::Sso,
            external_id: Some(external_id.to_owned()),
            apply_privileges: true,
            notify_members: false,
            member_types: MemberTypes::default(),
            parent_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        change.tx.write()?.insert_group(&group).await?;
        change.touch_group(&group.id);
        self.audit(
            change,
            origin,
            "group.create",
            ("group", group.id.as_str()),
            None::<&()>,
            Some(&GroupSnapshot::from(&group)),
        );
        Ok(group.id)
    }

    /// A derived slug, suffixed `-2`, `-3`, ... until it is free.
    async fn free_slug(&self, change: &mut Change, base: &GroupSlug) -> ServiceResult<GroupSlug> {
        if self.slug_free(change, base, None).await? {
            return Ok(base.clone());
        }
        for n in 2..1000 {
            let suffix = format!("-{n}");
            let stem: String = base.as_str().chars().take(64 - suffix.len()).collect();
            let candidate = GroupSlug::parse(&format!("{}{suffix}", stem.trim_end_matches('-')))?;
            if self.slug_free(change, &candidate, None).await? {
                return Ok(candidate);
            }
        }
        Err(ServiceError::Conflict {
            field: "slug".to_owned(),
            reason: format!("no free slug derived from `{base}`; give one"),
        })
    }

    /// One group: needs `cohort:groups.read`, or to manage it.
    pub async fn get_group(&self, ctx: &Ctx, id: &GroupId) -> ServiceResult<(Group, i64)> {
        let mut r = self.read_members(ctx, id).await?;
        r.get_group(ctx.tenant(), id, self.now()).await?.ok_or_else(|| not_found(id))
    }

    /// Groups by name.
    pub async fn list_groups(&self, ctx: &Ctx, filter: &GroupFilter) -> ServiceResult<Vec<(Group, i64)>> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::GroupsRead).await?.list_groups(tenant, filter, self.now()).await?)
    }

    /// A page of the groups matching a storage condition, with how many match in all.
    pub async fn list_groups_where(&self, ctx: &Ctx, listing: &Listing) -> ServiceResult<(i64, Vec<Group>)> {
        let tenant = ctx.tenant();
        Ok(self.read_holding(ctx, P::GroupsRead).await?.list_groups_where(tenant, listing).await?)
    }

    /// A group's direct members: users with a live row of any source, then child groups.
    pub async fn direct_members(&self, ctx: &Ctx, id: &GroupId) -> ServiceResult<Vec<Subject>> {
        let tenant = ctx.tenant();
        let snap = self.live(tenant).await?;
        if snap.state.group(id).is_none() {
            return Err(not_found(id));
        }
        let now = self.now();
        Guard::new(ctx, &snap, now).require_or_manager(P::GroupsRead, id)?;
        let mut users: Vec<&UserId> =
            snap.state.members_of(id).filter(|u| snap.state.rows(id, u).any(|(_, f)| f.is_live(now))).collect();
        users.sort();
        Ok(users
            .into_iter()
            .map(|u| Subject::User(u.clone()))
            .chain(snap.state.children(id).iter().map(|c| Subject::Group(c.clone())))
            .collect())
    }

    /// Changes a group. Managers of the group may change its description only.
    pub async fn update_group(
        &self,
        ctx: &Ctx,
        id: &GroupId,
        patch: GroupPatch,
    ) -> ServiceResult<Written<(Group, i64)>> {
        self.change(ctx, async |change| {
            let tenant = &change.tenant().clone();
            if change.before.state.group(id).is_none() {
                return Err(not_found(id));
            }
            let guard = Guard::new(ctx, &change.before, self.now());
            let proof = if patch.only_description() {
                guard.require_or_manager(P::GroupsWrite, id)?
            } else {
                guard.require(P::GroupsWrite)?
            };
            change.tx.allow(proof)?;
            let (before, count) =
                change.tx.read().get_group(tenant, id, self.now()).await?.ok_or_else(|| not_found(id))?;
            let mut group = before.clone();
            if let Some(name) = patch.name {
                self.check_name_free(change, &name, Some(id)).await?;
                group.name = name;
            }
            if let Some(slug) = patch.slug {
                if !self.slug_free(change, &slug, Some(id)).await? {
                    return Err(ServiceError::Conflict {
                        field: "slug".to_owned(),
                        reason: format!("group slug `{slug}` is already taken"),
                    });
                }
                group.slug = slug;
            }
            if let Some(parents) = patch.parent_ids {
                check_parents(&change.before.state, Some(id), &parents, self.config.max_depth)?;
                super::cohort_flow::refuse_cohort_parents(
                    &mut change.tx,
                    &change.before.state,
                    "parentIds",
                    id,
                    &parents,
                )
                .await?;
                group.parent_ids = parents.into_iter().collect();
            }
            if let Some(e) = patch.external_id {
                group.external_id = e.map(|e| e.as_str().to_owned());
            }
            group.description = patch.description.unwrap_or(group.description);
            group.apply_privileges = patch.apply_privileges.unwrap_or(group.apply_privileges);
            group.notify_members = patch.notify_members.unwrap_or(group.notify_members);
            if let Some(types) = patch.member_types {
                self.known_types(change, &types).await?;
                group.member_types = types;
            }
            group.updated_at = self.now().next_after(before.updated_at);
            change.tx.write()?.update_group(&group).await?;
            change.touch_group(&group.id);
            if group.member_types != before.member_types {
                self.replan_in(change, ctx.into(), id, group.member_types.clone()).await?;
            }
            self.audit(
                change,
                ctx.into(),
                "group.update",
                ("group", id.as_str()),
                Some(&GroupSnapshot::from(&before)),
                Some(&GroupSnapshot::from(&group)),
            );
            Ok((group, count))
        })
        .await
    }

    /// Archives or unarchives a group; memberships and roles are kept either way.
    pub async fn set_group_status(
        &self,
        ctx: &Ctx,
        id: &GroupId,
        status: GroupStatus,
    ) -> ServiceResult<Written<(Group, i64)>> {
        self.change(ctx, async |change| self.set_group_status_in(change, ctx, id, status).await).await
    }

    /// [`Self::set_group_status`] as one step of a change the caller finishes (batch edits).
    pub async fn set_group_status_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        id: &GroupId,
        status: GroupStatus,
    ) -> ServiceResult<(Group, i64)> {
        let tenant = &change.tenant().clone();
        if change.before.state.group(id).is_none() {
            return Err(not_found(id));
        }
        change.tx.allow(Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?)?;
        let (before, count) = change.tx.read().get_group(tenant, id, self.now()).await?.ok_or_else(|| not_found(id))?;
        if before.status == status {
            return Err(ServiceError::Conflict {
                field: "status".to_owned(),
                reason: format!("the group {} is already {}", before.name, status.as_str()),
            });
        }
        let mut group = before.clone();
        group.status = status;
        group.updated_at = self.now().next_after(before.updated_at);
        change.tx.write()?.update_group(&group).await?;
        change.touch_group(&group.id);
        let action = if status == GroupStatus::Archived { "group.archive" } else { "group.unarchive" };
        self.audit(
            change,
            ctx.into(),
            action,
            ("group", id.as_str()),
            Some(&GroupSnapshot::from(&before)),
            Some(&GroupSnapshot::from(&group)),
        );
        Ok((group, count))
    }

    /// Deletes a group with its memberships, role assignments and nesting edges, at once.
    pub async fn delete_group(&self, ctx: &Ctx, id: &GroupId, expect: &Expect) -> ServiceResult<Written<()>> {
        self.change(ctx, async |change| self.delete_group_in(change, ctx, id, expect).await).await
    }

    /// [`Self::delete_group`] as one step of a change the caller finishes (batch edits).
    pub async fn delete_group_in(
        &self,
        change: &mut Change,
        ctx: &Ctx,
        id: &GroupId,
        expect: &Expect,
    ) -> ServiceResult<()> {
        let tenant = &change.tenant().clone();
        if change.before.state.group(id).is_none() {
            return Err(not_found(id));
        }
        change.tx.allow(Guard::new(ctx, &change.before, self.now()).require(P::GroupsWrite)?)?;
        let (before, _) = change.tx.read().get_group(tenant, id, self.now()).await?.ok_or_else(|| not_found(id))?;
        expect.check(&format!("group `{id}`"), before.updated_at)?;
        change.tx.write()?.delete_group(id).await?;
        change.touch_group(id);
        self.audit(
            change,
            ctx.into(),
            "group.delete",
            ("group", id.as_str()),
            Some(&GroupSnapshot::from(&before)),
            None::<&()>,
        );
        Ok(())
    }
}
