//! cohort's use cases. Every method takes the acting caller and the tenant explicitly, checks
//! permission in one place before any write, and commits the change with its audit events in
//! one transaction. The workers that run beside the server and the outbound client of the
//! tenant's identity provider live here too; nothing here speaks HTTP to a caller (the faces
//! are `cohort-web`'s).

pub mod error;
pub mod format;
mod oidc;
pub mod outbound;
pub mod runtime;
pub mod worker;

mod access;
mod audit;
mod authn;
pub mod authz;
mod batch;
mod change;
mod cohort_flow;
mod data_scope;
mod expiry;
mod export;
mod grant;
mod group;
mod holdings;
mod identity;
mod import;
mod live;
mod membership;
mod password;
mod provisioning;
mod resource;
mod resource_type;
mod role;
mod rule;
mod session;
mod sign_in_limit;
mod snapshot;
mod sso;
mod tenant;
mod token;
mod user;
mod user_type;

pub use access::{
    CheckInput, CheckOutcome, EffectiveMemberRow, GroupAccess, LevelAccess, PathWords, RoleAccess, UserAccess, ViaWords,
};
pub use audit::AuditQuery;
pub use batch::{BatchEdit, BatchOutcome, MAX_BATCH_GROUPS};
pub use change::Change;
pub use grant::Holder;
pub use group::{GroupPatch, NewGroup};
pub use holdings::Holdings;
pub use identity::ProviderInput;
pub use import::{
    IMPORT_HEADER, ImportOutcome, ImportPreview, PreviewRow, RowError, SkippedRow, USER_IMPORT_HEADER,
    UserImportPreview, UserPreviewRow,
};
pub use live::{Live, LiveRead};
pub use membership::{MemberPatch, NewMember, RemovedMembership};
pub use password::{InvitationCreated, MIN_PASSWORD};
pub use provisioning::GroupEdits;
pub use resource::{NewResource, ResourcePatch};
pub use role::{NewRole, RolePatch};
pub use rule::{MAX_RULES_PER_GROUP, PlannedMember, RuleDraft, RulePlan, SavedRule};
pub use session::{Resume, SessionEnd, SessionLimits, SignedIn};
pub use tenant::{Bootstrap, NewTenant, TenantCreated};
pub use token::TokenCreated;
pub use user::{NewUser, UserPatch};
pub use user_type::{MAX_USER_TYPES, UserTypeUse};

use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::Subject;
use cohort_core::model::{Tenant, TokenScope};
use cohort_core::{Clock, IdSource, TenantId, Timestamp, TokenId, UserId};
use cohort_store::Store;
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
    /// How long console sessions live.
    pub sessions: SessionLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_depth: cohort_core::graph::DEFAULT_MAX_DEPTH,
            max_body_bytes: 1024 * 1024,
            max_import_rows: 1000,
            public_url: None,
            sessions: SessionLimits::default(),
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
    /// The token, when the caller came with one (a console session opened through the
    /// identity provider or with a password has none).
    pub token: Option<TokenId>,
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
pub struct Origin<'a> {
    /// The acting user, absent for cohort itself.
    pub actor: Option<&'a UserId>,
    /// The request id.
    pub request_id: &'a str,
}

impl<'a> From<&'a Ctx> for Origin<'a> {
    fn from(ctx: &'a Ctx) -> Self {
        Self { actor: Some(&ctx.principal.user), request_id: &ctx.request_id }
    }
}

/// The versions of a resource a conditional write expects (SCIM's `If-Match`). The resource's
/// version is its `updatedAt`; it is compared inside the write's transaction, holding the
/// tenant's write lock, so two writers expecting the same version cannot both pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Expect {
    /// Whatever the version (no `If-Match`, or `*`).
    #[default]
    Any,
    /// One of these versions.
    OneOf(Vec<Timestamp>),
}

impl Expect {
    /// Refuses the write when `what` is at version `at` and that is not expected.
    pub fn check(&self, what: &str, at: Timestamp) -> ServiceResult<()> {
        match self {
            Self::OneOf(wanted) if !wanted.contains(&at) => Err(ServiceError::PreconditionFailed(format!(
                "{what} has changed: it is at version {}, not the one expected",
                at.millis()
            ))),
            _ => Ok(()),
        }
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
    sign_ins: sign_in_limit::FailedSignIns<std::net::IpAddr>,
    account_sign_ins: sign_in_limit::FailedSignIns<(TenantId, String)>,
    oidc: crate::oidc::Oidc,
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
            sign_ins: sign_in_limit::FailedSignIns::default(),
            account_sign_ins: sign_in_limit::FailedSignIns::default(),
            oidc: crate::oidc::Oidc::default(),
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

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn ids(&self) -> &dyn IdSource {
        self.ids.as_ref()
    }
}

/// Refuses a subject that does not exist in the tenant, as not found.
pub fn subject_exists(state: &cohort_core::state::TenantState, subject: &Subject) -> ServiceResult<()> {
    match subject {
        Subject::Group(g) if state.group(g).is_none() => Err(ServiceError::NotFound(format!("group `{g}`"))),
        Subject::User(u) if state.user(u).is_none() => Err(ServiceError::NotFound(format!("user `{u}`"))),
        _ => Ok(()),
    }
}

/// The audit target of a subject: its kind and id.
pub fn subject_target(subject: &Subject) -> (&'static str, String) {
    match subject {
        Subject::Group(g) => ("group", g.to_string()),
        Subject::User(u) => ("user", u.to_string()),
    }
}
