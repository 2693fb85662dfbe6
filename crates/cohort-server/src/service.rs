//! Use cases. Every method takes the acting caller and the tenant explicitly, checks
//! permission in one place before any write, and commits the change with its audit events in
//! one transaction.

mod access;
mod audit;
mod authn;
pub(crate) mod authz;
mod batch;
mod group;
mod import;
mod live;
mod membership;
mod resource;
mod role;
mod rule;
mod tenant;
mod token;
mod user;

pub use access::{CheckInput, CheckOutcome, EffectiveMemberRow};
pub use audit::AuditQuery;
pub use batch::{BatchEdit, BatchOutcome, MAX_BATCH_GROUPS};
pub use group::{GroupPatch, NewGroup};
pub use import::{
    IMPORT_HEADER, ImportOutcome, ImportPreview, PreviewRow, RowError, SkippedRow, USER_IMPORT_HEADER,
    UserImportPreview, UserPreviewRow,
};
pub use live::{Live, LiveRead};
pub use membership::{GroupEdits, MemberPatch, NewMember, RemovedMembership};
pub use resource::{Holder, NewResource, ResourcePatch};
pub use role::{NewRole, RolePatch};
pub use rule::{MAX_RULES_PER_GROUP, PlannedMember, RuleDraft, RulePlan, SavedRule};
pub use tenant::{Bootstrap, NewTenant, TenantCreated};
pub use token::TokenCreated;
pub use user::{NewUser, UserPatch};

use crate::error::{ServiceError, ServiceResult};
use authz::Allowed;
use cohort_core::index::Touched;
use cohort_core::model::Subject;
use cohort_core::model::{Tenant, TokenScope};
use cohort_core::{Clock, EventId, GroupId, IdSource, ResourceId, RoleId, TenantId, Timestamp, TokenId, UserId};
use cohort_store::{NewAuditEvent, Store, Writer};
use serde::Serialize;
use std::sync::Arc;

/// Limits and defaults of one deployment.
#[derive(Clone, Debug)]
pub struct Config {
    /// Longest allowed chain of nested groups.
    pub max_depth: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Most rows one CSV import may hold.
    pub max_import_rows: usize,
    /// The URL clients reach the server at (`https://access.example.com`), for the links it
    /// hands out (SCIM `meta.location`); without it, `http://` and the request's `Host`.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_depth: cohort_core::graph::DEFAULT_MAX_DEPTH,
            max_body_bytes: 1024 * 1024,
            max_import_rows: 1000,
            public_url: None,
        }
    }
}

/// Who is calling: a token of a user in a tenant.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The tenant the token belongs to.
    pub tenant: Tenant,
    /// The user the token acts as.
    pub user: UserId,
    /// The token.
    pub token: TokenId,
    /// Whether the token may also manage tenants.
    pub system: bool,
    /// Which face the token opens.
    pub scope: TokenScope,
}

/// The caller of one request.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Who (shared with the token cache: looking it up copies nothing).
    pub principal: std::sync::Arc<Principal>,
    /// The request's id, recorded in audit events.
    pub request_id: String,
}

impl Ctx {
    /// The caller's tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.principal.tenant.id
    }
}

/// Who made a change and in which request, for its audit events.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    /// The acting user, absent for cohort itself.
    pub(crate) actor: Option<&'a UserId>,
    /// The request id.
    pub(crate) request_id: &'a str,
}

impl<'a> From<&'a Ctx> for Origin<'a> {
    fn from(ctx: &'a Ctx) -> Self {
        Self { actor: Some(&ctx.principal.user), request_id: &ctx.request_id }
    }
}

/// A value together with the revision its write committed at.
#[derive(Debug)]
pub struct Written<T> {
    /// The result.
    pub value: T,
    /// The revision of the commit.
    pub revision: i64,
}

/// The use cases, over one store.
pub struct Services {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    config: Config,
    live: live::Registry,
    tokens: authn::TokenCache,
    rules: rule::RuleCompiler,
}

/// An open change to one tenant: the writer, the facts before the change, and its events.
pub(crate) struct Change {
    pub(crate) w: Writer,
    pub(crate) before: LiveRead,
    pub(crate) touched: Touched,
    pub(crate) events: Vec<NewAuditEvent>,
}

impl Change {
    /// Notes that the change touched a user (their facts, memberships, roles or grants).
    pub(crate) fn touch_user(&mut self, u: &UserId) {
        self.touched.users.insert(u.clone());
    }

    /// Notes that the change rewrote many membership rows of a group (readers re-read them all).
    pub(crate) fn touch_members(&mut self, g: &GroupId) {
        self.touched.members.insert(g.clone());
    }

    /// Notes that the change touched a group (its facts, parents, roles, grants or scopes).
    pub(crate) fn touch_group(&mut self, g: &GroupId) {
        self.touched.groups.insert(g.clone());
    }

    /// Notes that the change touched a role's permissions.
    pub(crate) fn touch_role(&mut self, r: &RoleId) {
        self.touched.roles.insert(r.clone());
    }

    /// Notes that the change touched a resource.
    pub(crate) fn touch_resource(&mut self, r: &ResourceId) {
        self.touched.resources.insert(r.clone());
    }

    /// Notes that the change touched whoever holds what was assigned.
    pub(crate) fn touch_subject(&mut self, s: &Subject) {
        match s {
            Subject::User(u) => self.touch_user(u),
            Subject::Group(g) => self.touch_group(g),
        }
    }
}

impl Services {
    /// Builds the services.
    pub fn new(store: Store, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>, config: Config) -> Self {
        Self {
            store,
            clock,
            ids,
            config,
            live: live::Registry::default(),
            tokens: authn::TokenCache::default(),
            rules: rule::RuleCompiler::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn ids(&self) -> &dyn IdSource {
        self.ids.as_ref()
    }

    /// Opens a change to `tenant`, holding its write lock, with the facts as they stand.
    pub(crate) async fn begin(&self, tenant: &TenantId) -> ServiceResult<Change> {
        let w = self.store.write(tenant).await?;
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
        Ok(Change { w, before, touched: Touched::default(), events: Vec::new() })
    }

    /// Commits a change with its audit events and change record, the live view brought up to it
    /// before answering. `Allowed` proves the caller was authorised for it; the change is then
    /// held to the conferral rule ([`authz::Conferral`]) against the state it commits on, and a
    /// refusal rolls it back, is audited as a refused attempt and answers 403.
    pub(crate) async fn finish(&self, change: Change, proof: Allowed) -> ServiceResult<i64> {
        let Change { mut w, before, touched, events } = change;
        w.insert_audit(&events).await?;
        w.record_change(&touched).await?;
        let tenant = w.tenant().clone();
        match self.commit_judged(w, before, &touched, &proof).await {
            Err(live::Outcome::Refused(refusal)) => {
                let tenant_target = ("tenant".to_owned(), tenant.to_string());
                let first = events.first();
                let (kind, id) = first.map_or(tenant_target, |e| (e.target_type.clone(), e.target_id.clone()));
                let origin = Origin { actor: proof.actor(), request_id: first.map_or("", |e| e.request_id.as_str()) };
                let attempted = first.and_then(|e| e.after.as_deref()).and_then(|a| serde_json::from_str(a).ok());
                let action = first.map_or("change", |e| e.action.as_str());
                self.record_refusal(&tenant, origin, action, (&kind, &id), attempted, &refusal.detail).await;
                Err(ServiceError::Forbidden(refusal.detail))
            }
            Err(live::Outcome::Failed(e)) => Err(e),
            Ok(revision) => Ok(revision),
        }
    }

    /// Gives up `change` because the caller may not make it (`e`), auditing the refused attempt
    /// (see [`Self::record_refusal`]); returns `e` to answer with.
    pub(crate) async fn refused(
        &self,
        change: Change,
        ctx: &Ctx,
        action: &str,
        target: (&str, &str),
        attempted: serde_json::Value,
        e: ServiceError,
    ) -> ServiceError {
        let Change { w, before, .. } = change;
        let tenant = w.tenant().clone();
        drop(before);
        if let Err(e) = w.rollback().await {
            tracing::warn!(tenant = %tenant, error = %e, "rolling a refused change back failed");
        }
        self.record_refusal(&tenant, ctx.into(), action, target, Some(attempted), &e.to_string()).await;
        e
    }

    /// Writes a refused attempt to the audit log as `<action>.refused`, with the reason and
    /// what was attempted, in a change of its own (the attempt itself was rolled back or never
    /// began). A failure here is logged: the refusal stands either way.
    pub(crate) async fn record_refusal(
        &self,
        tenant: &TenantId,
        origin: Origin<'_>,
        action: &str,
        target: (&str, &str),
        attempted: Option<serde_json::Value>,
        reason: &str,
    ) {
        let at = self.now();
        let event = NewAuditEvent {
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
            let Change { mut w, before, .. } = self.begin(tenant).await?;
            drop(before);
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
    pub(crate) fn audit<B: Serialize, A: Serialize>(
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

/// Refuses a subject that does not exist in the tenant, as not found.
pub(crate) fn subject_exists(state: &cohort_core::state::TenantState, subject: &Subject) -> ServiceResult<()> {
    match subject {
        Subject::Group(g) if state.group(g).is_none() => Err(ServiceError::NotFound(format!("group `{g}`"))),
        Subject::User(u) if state.user(u).is_none() => Err(ServiceError::NotFound(format!("user `{u}`"))),
        _ => Ok(()),
    }
}

/// The audit target of a subject: its kind and id.
pub(crate) fn subject_target(subject: &Subject) -> (&'static str, String) {
    match subject {
        Subject::Group(g) => ("group", g.to_string()),
        Subject::User(u) => ("user", u.to_string()),
    }
}
