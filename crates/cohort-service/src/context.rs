//! Who is calling, in which tenant and request: the context every use case takes.

use cohort_core::model::{Tenant, TokenScope};
use cohort_core::permission::Permission;
use cohort_core::{AppId, TenantId, TokenId, UserId};

/// Who acts: a person, or an app acting as itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A user: holds what their roles and groups give them.
    User(UserId),
    /// An app with its own credentials: holds exactly the permissions its registration gives
    /// it, belongs to no group, and owns nothing a user owns (tokens, a password, a session).
    App {
        /// The app.
        id: AppId,
        /// What its registration allows it.
        permissions: Vec<Permission>,
    },
}

impl Actor {
    /// The actor's id, as the audit log records it.
    pub fn id(&self) -> &str {
        match self {
            Self::User(u) => u.as_str(),
            Self::App { id, .. } => id.as_str(),
        }
    }

    /// The user acting, if a user acts.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Self::User(u) => Some(u),
            Self::App { .. } => None,
        }
    }
}

/// Who is calling: a user's or an app's credential in a tenant.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The tenant the credential belongs to.
    pub tenant: Tenant,
    /// Who the credential acts as.
    pub actor: Actor,
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
    /// The revision a person confirmed this request's change at, after being told what it
    /// does and to how many users: the change is refused if the tenant has moved on since.
    pub confirmed_at: Option<i64>,
    /// Whether the change is only tried: judged and written as if it were made, then rolled
    /// back (what a confirmation page asks before it counts, so that a person who may not make
    /// the change is refused rather than asked).
    pub trial: bool,
}

impl Ctx {
    /// The context of one request by `principal`.
    pub fn new(principal: std::sync::Arc<Principal>, request_id: &str) -> Self {
        Self { principal, request_id: request_id.to_owned(), confirmed_at: None, trial: false }
    }

    /// The same caller, only trying a change.
    pub fn trying(&self) -> Self {
        Self { trial: true, ..self.clone() }
    }

    /// The same caller, making a change they confirmed at `revision`.
    pub fn confirmed_at(&self, revision: i64) -> Self {
        Self { confirmed_at: Some(revision), ..self.clone() }
    }

    /// The caller's tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.principal.tenant.id
    }

    /// The user calling, if a user calls (an app is nobody's user).
    pub fn user(&self) -> Option<&UserId> {
        self.principal.actor.user()
    }

    /// Whether the caller is the user `id`.
    pub fn is_user(&self, id: &UserId) -> bool {
        self.user() == Some(id)
    }

    /// The user calling, for what only a user has (their own profile, tokens and sessions):
    /// an app is refused.
    pub fn own_user(&self) -> crate::error::ServiceResult<&UserId> {
        self.user().ok_or_else(|| crate::error::ServiceError::Forbidden("an app has no user of its own".to_owned()))
    }
}

/// Who made a change and in which request, for its audit events.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    /// The acting user's or app's id, absent for cohort itself.
    pub actor: Option<&'a str>,
    /// The request id.
    pub request_id: &'a str,
}

impl<'a> From<&'a Ctx> for Origin<'a> {
    fn from(ctx: &'a Ctx) -> Self {
        Self { actor: Some(ctx.principal.actor.id()), request_id: &ctx.request_id }
    }
}
