//! Who is calling, in which tenant and request: the context every use case takes.

use cohort_core::model::{Tenant, TokenScope};
use cohort_core::{TenantId, TokenId, UserId};

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
