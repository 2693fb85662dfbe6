//! cohort's use cases. Every method takes the acting caller and the tenant explicitly, checks
//! permission in one place before any write, and commits the change with its audit events in
//! one transaction. The workers that run beside the server and the outbound client of the
//! tenant's identity provider live here too; nothing here speaks HTTP to a caller (the faces
//! are `cohort-web`'s).

mod config;
mod context;
pub mod error;
pub mod format;
mod oidc;
pub mod outbound;
pub mod runtime;
pub mod vault;
pub mod worker;

mod access;
pub mod audit;
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
mod nesting;
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
mod time_zone;
mod token;
mod user;
mod user_type;

pub use access::{
    CheckInput, CheckOutcome, EffectiveMemberRow, GroupAccess, LevelAccess, PathWords, Reach, Reached, RoleAccess,
    UserAccess, ViaWords,
};
pub use audit::AuditQuery;
pub use batch::{BatchEdit, BatchOutcome, MAX_BATCH_GROUPS};
pub use change::Change;
pub use config::Config;
pub use context::{Actor, Ctx, Origin, Principal};
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
pub use nesting::{GroupRef, MAX_CHILDREN, MAX_PATHS, Nesting};
pub use password::{InvitationCreated, MIN_PASSWORD};
pub use provisioning::GroupEdits;
pub use resource::{NewResource, ResourcePatch};
pub use role::{NewRole, RolePatch};
pub use rule::{MAX_RULES_PER_GROUP, PlannedMember, RuleDraft, RulePlan, SavedRule};
pub use session::{Resume, SessionEnd, SessionLimits, SignedIn};
pub use tenant::{Bootstrap, NewTenant, TenantCreated};
pub use time_zone::Reader;
pub use token::TokenCreated;
pub use user::{NewUser, UserPatch};
pub use user_type::{MAX_USER_TYPES, UserTypeUse};

use crate::error::{ServiceError, ServiceResult};
use cohort_core::model::Subject;
use cohort_core::{Clock, IdSource, TenantId, Timestamp};
use cohort_store::Store;
use std::sync::Arc;

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
    vault: vault::Vault,
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
            vault: vault::Vault::new(store),
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

    /// Closes the store's connections (at shutdown).
    pub async fn close(&self) {
        self.vault.close().await;
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
