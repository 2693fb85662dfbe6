//! Use cases. Every method takes the acting caller and the tenant explicitly, checks
//! permission in one place before any write, and commits the change with its audit events in
//! one transaction.

mod access;
mod audit;
mod authn;
pub(crate) mod authz;
mod group;
mod membership;
mod role;
mod tenant;
mod token;
mod user;

pub use access::{CheckInput, CheckOutcome, EffectiveMemberRow};
pub use audit::AuditQuery;
pub use group::{GroupPatch, NewGroup};
pub use membership::{MemberPatch, NewMember, RemovedMembership};
pub use role::{NewRole, RolePatch};
pub use tenant::{Bootstrap, NewTenant, TenantCreated};
pub use token::TokenCreated;
pub use user::{NewUser, UserPatch};

use crate::error::ServiceResult;
use authz::Allowed;
use cohort_core::model::Tenant;
use cohort_core::state::TenantState;
use cohort_core::{Clock, EventId, IdSource, TenantId, Timestamp, TokenId, UserId};
use cohort_store::{NewAuditEvent, Store, Writer};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Limits and defaults of one deployment.
#[derive(Clone, Debug)]
pub struct Config {
    /// Longest allowed chain of nested groups.
    pub max_depth: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { max_depth: cohort_core::graph::DEFAULT_MAX_DEPTH, max_body_bytes: 1024 * 1024 }
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
}

/// The caller of one request.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Who.
    pub principal: Principal,
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

/// A tenant's access facts at one revision.
#[derive(Debug)]
pub struct Snapshot {
    /// The revision.
    pub revision: i64,
    /// The facts.
    pub state: TenantState,
}

/// The use cases, over one store.
pub struct Services {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    config: Config,
    snapshots: Mutex<HashMap<TenantId, Arc<Snapshot>>>,
}

/// An open change to one tenant: the writer, the facts before the change, and its events.
pub(crate) struct Change {
    pub(crate) w: Writer,
    pub(crate) before: Arc<Snapshot>,
    events: Vec<NewAuditEvent>,
}

impl Services {
    /// Builds the services.
    pub fn new(store: Store, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>, config: Config) -> Self {
        Self { store, clock, ids, config, snapshots: Mutex::new(HashMap::new()) }
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

    /// The tenant's access facts at its latest committed revision.
    pub(crate) async fn snapshot(&self, tenant: &TenantId) -> ServiceResult<Arc<Snapshot>> {
        let mut r = self.store.read_consistent().await?;
        let revision = r.revision(tenant).await?;
        if let Some(s) = self.cached(tenant).filter(|s| s.revision == revision) {
            return Ok(s);
        }
        let snap = Arc::new(Snapshot { revision, state: r.load_state(tenant).await? });
        self.remember(tenant, &snap);
        Ok(snap)
    }

    fn cached(&self, tenant: &TenantId) -> Option<Arc<Snapshot>> {
        self.snapshots.lock().ok().and_then(|m| m.get(tenant).cloned())
    }

    fn remember(&self, tenant: &TenantId, snap: &Arc<Snapshot>) {
        if let Ok(mut m) = self.snapshots.lock() {
            let newer = m.get(tenant).is_some_and(|s| s.revision > snap.revision);
            if !newer {
                m.insert(tenant.clone(), snap.clone());
            }
        }
    }

    /// Opens a change to `tenant`, holding its write lock, with the facts as they stand.
    pub(crate) async fn begin(&self, tenant: &TenantId) -> ServiceResult<Change> {
        let mut w = self.store.write(tenant).await?;
        let prior = w.revision() - 1;
        let before = match self.cached(tenant).filter(|s| s.revision == prior) {
            Some(s) => s,
            None => Arc::new(Snapshot { revision: prior, state: w.load_state(tenant).await? }),
        };
        Ok(Change { w, before, events: Vec::new() })
    }

    /// Commits a change; `Allowed` proves the caller was authorised for it.
    pub(crate) async fn finish(&self, mut change: Change, _proof: Allowed) -> ServiceResult<i64> {
        for e in &change.events {
            change.w.insert_audit(e).await?;
        }
        let tenant = change.w.tenant().clone();
        let revision = change.w.commit().await?;
        if let Ok(mut m) = self.snapshots.lock() {
            m.remove(&tenant);
        }
        Ok(revision)
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
        change.events.push(NewAuditEvent {
            id: EventId::generate(self.ids()),
            at: self.now(),
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
