//! Grants of a level on a resource to a group or a user, and who holds a resource and why.

use super::authz::Guard;
use super::resource::{invalid, not_found};
use super::{Change, Ctx, Live, Services, Written, subject_exists, subject_target};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::index::Verdict;
use cohort_core::model::{Grant, Subject};
use cohort_core::name::Keyword;
use cohort_core::permission::CohortPermission as P;
use cohort_core::resolve::{describe_via, resolve};
use cohort_core::{ResourceId, UserId};
use serde::Serialize;

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrantRecord<'a> {
    resource_id: &'a str,
    level: &'a str,
}

impl Services {
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
            return Err(crate::error::archived("groupId", &live.state, g));
        }
        let g = Grant {
            resource_id: resource.clone(),
            subject: subject.clone(),
            level: Keyword::parse("level", level)?,
            granted_by: ctx.user().cloned(),
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
        let Some(before) = before else {
            let holder = change.subject_name(subject).await?;
            let on = change.before.state.resource(resource).map_or_else(|| resource.to_string(), |r| r.name.clone());
            return Err(ServiceError::NotFound(format!("a level of {holder} on {on}")));
        };
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
        Ok(self.read_held_by(ctx, subject).await?.grants_of(ctx.tenant(), subject).await?)
    }

    /// Every grant on a resource.
    pub async fn grants_on(&self, ctx: &Ctx, resource: &ResourceId) -> ServiceResult<Vec<Grant>> {
        let mut r = self
            .read_for(ctx, |guard, state| {
                state.resource(resource).ok_or_else(|| not_found(resource))?;
                guard.require(P::ResourcesRead)
            })
            .await?;
        Ok(r.grants_on(ctx.tenant(), resource).await?)
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
}
