//! A change to one tenant: opened holding the tenant's write lock, given the proof that its
//! caller may make it, then finished (judged by the conferral rule, committed with its audit
//! events) or abandoned. Only this module reaches a change's writer.

use super::authz::Allowed;
use super::{Actor, Ctx, LiveRead, Origin, Services, Written, live};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::index::Touched;
use cohort_core::model::Subject;
use cohort_core::{EventId, GroupId, ResourceId, RoleId, TenantId, UserId};
use cohort_store::{NewAuditEvent, TxReader, Writer};
use serde::Serialize;

/// An open change to one tenant: the facts before the change, its transaction, and its
/// events. Anyone may read through its transaction; its writer is handed out only once the
/// transaction holds a proof ([`Allowed`]) for its own tenant, and it commits only with one.
pub struct Change {
    pub tx: Gate,
    pub before: LiveRead,
    pub touched: Touched,
    pub events: Vec<NewAuditEvent>,
    /// A refused attempt to audit when the change is given up.
    refusal: Option<Attempt>,
}

/// What a caller attempted and was refused, for the audit log.
struct Attempt {
    action: String,
    target: (String, String),
    attempted: serde_json::Value,
}

/// A change's transaction, whose writer is behind the proof.
pub struct Gate {
    w: Writer,
    proof: Option<Allowed>,
}

impl Gate {
    /// The tenant being changed.
    pub fn tenant(&self) -> &TenantId {
        self.w.tenant()
    }

    /// Reads inside the transaction (they see the change's own writes).
    pub fn read(&mut self) -> &mut TxReader {
        &mut self.w
    }

    /// Takes the proof that the change's caller may make it. A proof for another tenant, or
    /// (in a change of several steps) for another actor than the first step's, is refused.
    pub fn allow(&mut self, proof: Allowed) -> ServiceResult<()> {
        if proof.tenant() != self.w.tenant() {
            tracing::error!(tenant = %self.w.tenant(), proof = %proof.tenant(), "a proof for another tenant");
            return Err(ServiceError::Internal);
        }
        match &self.proof {
            Some(held) if held.actor() != proof.actor() => {
                tracing::error!(tenant = %self.w.tenant(), "a change of several steps with several actors");
                Err(ServiceError::Internal)
            }
            Some(_) => Ok(()),
            None => {
                self.proof = Some(proof);
                Ok(())
            }
        }
    }

    /// The writer, once the transaction holds a proof.
    pub fn write(&mut self) -> ServiceResult<&mut Writer> {
        if self.proof.is_none() {
            tracing::error!(tenant = %self.w.tenant(), "a write before the change was allowed");
            return Err(ServiceError::Internal);
        }
        Ok(&mut self.w)
    }
}

impl Change {
    /// A change over writer `w`, with the facts `before` it; it holds no proof yet.
    pub fn new(w: Writer, before: LiveRead) -> Self {
        Self { tx: Gate { w, proof: None }, before, touched: Touched::default(), events: Vec::new(), refusal: None }
    }

    /// Refuses the change because the caller may not make it (`e`), and has the refused
    /// attempt audited when the change is given up ([`Services::change`] does that); returns
    /// `e` to fail with.
    pub fn refuse(
        &mut self,
        action: &str,
        target: (&str, &str),
        attempted: serde_json::Value,
        e: ServiceError,
    ) -> ServiceError {
        self.refusal =
            Some(Attempt { action: action.to_owned(), target: (target.0.to_owned(), target.1.to_owned()), attempted });
        e
    }

    /// The tenant being changed.
    pub fn tenant(&self) -> &TenantId {
        self.tx.w.tenant()
    }

    /// User `id` as this change sees it; not found is a 404.
    pub async fn user(&mut self, id: &UserId) -> ServiceResult<cohort_core::model::User> {
        let tenant = self.tenant().clone();
        let found = self.tx.w.get_user(&tenant, id).await?;
        found.ok_or_else(|| ServiceError::NotFound(format!("user `{id}`")))
    }

    /// How messages name a group or a user as this change sees them: a group by its name, a
    /// user by [`cohort_core::model::User::name`]; the id when it is gone.
    pub async fn subject_name(&mut self, subject: &cohort_core::model::Subject) -> ServiceResult<String> {
        Ok(match subject {
            cohort_core::model::Subject::Group(g) => {
                self.before.state.group(g).map_or_else(|| g.to_string(), |f| f.name.clone())
            }
            cohort_core::model::Subject::User(u) => match self.user(u).await {
                Ok(user) => user.name(),
                Err(ServiceError::NotFound(_)) => u.to_string(),
                Err(e) => return Err(e),
            },
        })
    }

    /// Token `id` as this change sees it; not found is a 404.
    pub async fn token(&mut self, id: &cohort_core::TokenId) -> ServiceResult<cohort_core::model::ApiToken> {
        let tenant = self.tenant().clone();
        let found = self.tx.w.get_token(&tenant, id).await?;
        found.ok_or_else(|| ServiceError::NotFound(format!("token `{id}`")))
    }

    /// Notes that the change touched a user (their facts, memberships, roles or grants).
    pub fn touch_user(&mut self, u: &UserId) {
        self.touched.users.insert(u.clone());
    }

    /// Notes that the change rewrote many membership rows of a group (readers re-read them all).
    pub fn touch_members(&mut self, g: &GroupId) {
        self.touched.members.insert(g.clone());
    }

    /// Notes that the change touched a group (its facts, parents, roles, grants or scopes).
    pub fn touch_group(&mut self, g: &GroupId) {
        self.touched.groups.insert(g.clone());
    }

    /// Notes that the change touched a role's permissions.
    pub fn touch_role(&mut self, r: &RoleId) {
        self.touched.roles.insert(r.clone());
    }

    /// Notes that the change touched a resource.
    pub fn touch_resource(&mut self, r: &ResourceId) {
        self.touched.resources.insert(r.clone());
    }

    /// Notes that the change touched whoever holds what was assigned.
    pub fn touch_subject(&mut self, s: &Subject) {
        match s {
            Subject::User(u) => self.touch_user(u),
            Subject::Group(g) => self.touch_group(g),
        }
    }
}

impl Services {
    /// Opens a change to `tenant`, holding its write lock, with the facts as they stand.
    pub async fn begin(&self, tenant: &TenantId) -> ServiceResult<Change> {
        let w = self.vault.write(tenant).await?;
        let prior = w.revision() - 1;
        // Holding the tenant's write lock, nobody else can commit: catching up reaches `prior`.
        if self.live(tenant).await?.revision != prior {
            self.catch_up(tenant).await?;
        }
        let before = self.live(tenant).await?;
        if before.revision != prior {
            return Err(ServiceError::Unavailable(cohort_store::StoreError::Unavailable(format!(
                "tenant view is at revision {} while the database is at {prior}",
                before.revision
            ))));
        }
        Ok(Change::new(w, before))
    }

    /// Runs one change in the caller's tenant (the context carries it; no method takes another):
    /// opens the change, runs `step` on it (which checks the caller's permission, gives the change its proof, and writes) and
    /// finishes it. A failing step leaves nothing behind; one the step refused
    /// ([`Change::refuse`]) is audited as a refused attempt.
    pub async fn change<T>(
        &self,
        ctx: &Ctx,
        step: impl AsyncFnOnce(&mut Change) -> ServiceResult<T>,
    ) -> ServiceResult<Written<T>> {
        let tenant = ctx.tenant();
        let mut change = self.begin(tenant).await?;
        if let Some(confirmed) = ctx.confirmed_at
            && confirmed != change.before.revision
        {
            let moved = ServiceError::PreconditionFailed(format!(
                "the tenant has changed since you confirmed (revision {confirmed}, now {})",
                change.before.revision
            ));
            return Err(self.give_up(change, ctx, moved).await);
        }
        match step(&mut change).await {
            Ok(value) => Ok(Written { value, revision: self.finish_or_try(change, !ctx.trial).await? }),
            Err(e) => Err(self.give_up(change, ctx, e).await),
        }
    }

    /// Commits a change with its audit events and change record, the live view brought up to it
    /// before answering. The change must hold a proof that its caller was authorised for it
    /// ([`Change::allow`]); it is then held to the conferral rule ([`authz::Conferral`]) against
    /// the state it commits on, and a refusal rolls it back, is audited as a refused attempt
    /// and answers 403.
    pub async fn finish(&self, change: Change) -> ServiceResult<i64> {
        self.finish_or_try(change, true).await
    }

    /// [`Self::finish`], or when `commit` is false everything it does but committing: the
    /// change is judged by the conferral rule (a refusal audited as in `finish`) and rolled
    /// back, answering the revision it was tried at. How a change is tried before a person is
    /// asked to confirm it ([`Ctx::trying`]).
    async fn finish_or_try(&self, change: Change, commit: bool) -> ServiceResult<i64> {
        let Change { tx: Gate { mut w, proof }, before, touched, mut events, .. } = change;
        let Some(proof) = proof else {
            tracing::error!(tenant = %w.tenant(), "a change finished without a proof");
            return Err(ServiceError::Internal);
        };
        tracing::debug!(tenant = %w.tenant(), grounds = ?proof.grounds(), "committing a change");
        let tenant = w.tenant().clone();
        crate::audit::name_events(&mut w, &tenant, &mut events).await?;
        w.insert_audit(&events).await?;
        w.record_change(&touched).await?;
        match self.commit_judged(w, before, &touched, &proof, commit).await {
            Err(live::Outcome::Refused(refusal)) => {
                let tenant_target = ("tenant".to_owned(), tenant.to_string());
                let first = events.first();
                let (kind, id) = first.map_or(tenant_target, |e| (e.target_type.clone(), e.target_id.clone()));
                let origin = Origin {
                    actor: proof.actor().map(Actor::id),
                    request_id: first.map_or("", |e| e.request_id.as_str()),
                };
                let attempted = first.and_then(|e| e.after.as_deref()).and_then(|a| serde_json::from_str(a).ok());
                let action = first.map_or("change", |e| e.action.as_str());
                self.record_refusal(&tenant, origin, action, (&kind, &id), attempted, &refusal.detail).await;
                Err(ServiceError::Forbidden(refusal.detail))
            }
            Err(live::Outcome::Failed(e)) => Err(e),
            Ok(revision) => Ok(revision),
        }
    }

    /// Gives up `change`, which failed with `e`: rolled back now, and its refused attempt, if
    /// the step refused one, audited (see [`Self::record_refusal`]); returns `e` to answer with.
    async fn give_up(&self, mut change: Change, ctx: &Ctx, e: ServiceError) -> ServiceError {
        let refusal = change.refusal.take();
        let tenant = change.tenant().clone();
        self.roll_back(change).await;
        if let Some(a) = refusal {
            let target = (a.target.0.as_str(), a.target.1.as_str());
            self.record_refusal(&tenant, ctx.into(), &a.action, target, Some(a.attempted), &e.to_string()).await;
        }
        e
    }

    /// Rolls a change back: nothing of it stays.
    async fn roll_back(&self, change: Change) {
        let Change { tx: Gate { w, .. }, before, .. } = change;
        let tenant = w.tenant().clone();
        drop(before);
        if let Err(e) = w.rollback().await {
            tracing::warn!(tenant = %tenant, error = %e, "rolling a change back failed");
        }
    }

    /// Writes a refused attempt to the audit log as `<action>.refused`, with the reason and
    /// what was attempted, in a change of its own (the attempt itself was rolled back or never
    /// began). A failure here is logged: the refusal stands either way.
    pub async fn record_refusal(
        &self,
        tenant: &TenantId,
        origin: Origin<'_>,
        action: &str,
        target: (&str, &str),
        attempted: Option<serde_json::Value>,
        reason: &str,
    ) {
        let at = self.now();
        let mut event = NewAuditEvent {
            names: None,
            id: EventId::at(at, self.ids()),
            at,
            actor_id: origin.actor.map(ToString::to_string),
            action: format!("{action}.refused"),
            target_type: target.0.to_owned(),
            target_id: target.1.to_owned(),
            before: None,
            after: Some(serde_json::json!({ "reason": reason, "attempted": attempted }).to_string()),
            request_id: origin.request_id.to_owned(),
        };
        let written = async {
            let Change { tx: Gate { mut w, .. }, before, .. } = self.begin(tenant).await?;
            drop(before);
            // The record of a refusal, which confers nothing, needs no proof.
            crate::audit::name_events(&mut w, tenant, std::slice::from_mut(&mut event)).await?;
            w.insert_audit(std::slice::from_ref(&event)).await?;
            w.record_change(&Touched::default()).await?;
            w.commit().await?;
            self.catch_up(tenant).await
        };
        if let Err(e) = written.await {
            tracing::warn!(tenant = %tenant, error = %e, "recording a refused attempt failed");
        }
    }

    /// Records an audit event in `change`.
    pub fn audit<B: Serialize, A: Serialize>(
        &self,
        change: &mut Change,
        origin: Origin<'_>,
        action: &str,
        target: (&str, &str),
        before: Option<&B>,
        after: Option<&A>,
    ) {
        let json = |v: String| Some(v).filter(|s| !s.is_empty());
        let at = self.now();
        change.events.push(NewAuditEvent {
            names: None,
            id: EventId::at(at, self.ids()),
            at,
            actor_id: origin.actor.map(ToString::to_string),
            action: action.to_owned(),
            target_type: target.0.to_owned(),
            target_id: target.1.to_owned(),
            before: before.and_then(|b| json(serde_json::to_string(b).unwrap_or_default())),
            after: after.and_then(|a| json(serde_json::to_string(a).unwrap_or_default())),
            request_id: origin.request_id.to_owned(),
        });
    }
}
