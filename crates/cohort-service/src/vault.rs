//! The store behind the guard. A use case reads a tenant's rows through a [`TenantRead`], which
//! is handed out only for a proof ([`Allowed`]) the guard gave for that tenant, as a change's
//! writer is handed out only once the change holds one. Reads with no caller to judge
//! (authenticating one, signing in, the live views' refresh, the workers, first start) go
//! through [`Vault::unguarded`]: one name finds them all. Nothing else reaches the store; a use
//! case that tries does not build:
//!
//! ```compile_fail,E0616
//! async fn skip_the_guard(vault: &cohort_service::vault::Vault) {
//!     let _ = vault.store.read().await;
//! }
//! ```

use crate::Ctx;
use crate::authz::{Allowed, Guard};
use crate::error::ServiceResult;
use cohort_core::TenantId;
use cohort_core::model::Tenant;
use cohort_core::permission::CohortPermission;
use cohort_core::state::TenantState;
use cohort_store::{ChangeListener, ConsistentReader, Reader, Store, StoreError, Writer};
use std::ops::{Deref, DerefMut};

/// The store, reachable only through the doors below.
pub struct Vault {
    store: Store,
}

/// A reader for a read the guard allowed (the proof was for the caller's tenant: the context
/// carries no other).
pub struct TenantRead {
    reader: Reader,
}

impl Deref for TenantRead {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        &self.reader
    }
}

impl DerefMut for TenantRead {
    fn deref_mut(&mut self) -> &mut Reader {
        &mut self.reader
    }
}

impl Vault {
    /// The vault over `store`.
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }

    /// A reader, for a read `proof` allowed.
    pub async fn read(&self, _proof: &Allowed) -> ServiceResult<TenantRead> {
        Ok(TenantRead { reader: self.store.read().await? })
    }

    /// A reader for a read with no caller to judge: authenticating one, signing in, the live
    /// views, the workers, first start.
    pub async fn unguarded(&self) -> Result<Reader, StoreError> {
        self.store.read().await
    }

    /// The same, as one consistent snapshot of several reads.
    pub async fn unguarded_consistent(&self) -> Result<ConsistentReader, StoreError> {
        self.store.read_consistent().await
    }

    /// The writer of a change to `tenant`; the change hands it out only for a proof.
    pub(crate) async fn write(&self, tenant: &TenantId) -> ServiceResult<Writer> {
        Ok(self.store.write(tenant).await?)
    }

    /// The writer that makes a tenant.
    pub(crate) async fn create_tenant(&self, tenant: &Tenant) -> ServiceResult<Writer> {
        Ok(self.store.create_tenant(tenant).await?)
    }

    /// Listens for other servers' commits (PostgreSQL; none on SQLite).
    pub(crate) async fn listen(&self) -> Result<Option<ChangeListener>, StoreError> {
        self.store.listen().await
    }

    /// Closes the store's connections (at shutdown).
    pub async fn close(&self) {
        self.store.close().await;
    }
}

impl crate::Services {
    /// A reader of the caller's tenant for a read `judge` allows: the one opening of a guarded
    /// read. The guard judges the caller against the live view (`judge` may also refuse what
    /// the view says is not there), and the reader is handed out for its proof.
    pub(crate) async fn read_for(
        &self,
        ctx: &Ctx,
        judge: impl FnOnce(&Guard<'_>, &TenantState) -> ServiceResult<Allowed>,
    ) -> ServiceResult<TenantRead> {
        let proof = {
            let live = self.live(ctx.tenant()).await?;
            judge(&Guard::new(ctx, &live, self.now()), &live.state)?
        };
        self.vault.read(&proof).await
    }

    /// [`Self::read_for`] what `subject` (which must exist) holds directly: its readers, a
    /// group's managers, a user themself.
    pub(crate) async fn read_held_by(
        &self,
        ctx: &Ctx,
        subject: &cohort_core::model::Subject,
    ) -> ServiceResult<TenantRead> {
        self.read_for(ctx, |guard, state| {
            crate::subject_exists(state, subject)?;
            guard.require_read_of(subject)
        })
        .await
    }

    /// [`Self::read_for`] a caller who holds `permission`.
    pub(crate) async fn read_holding(&self, ctx: &Ctx, permission: CohortPermission) -> ServiceResult<TenantRead> {
        self.read_for(ctx, |guard, _| guard.require(permission)).await
    }
}
