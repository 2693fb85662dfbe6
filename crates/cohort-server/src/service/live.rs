//! The live view of each tenant: its access facts and access index in memory, at a known
//! revision, kept in step with the database by replaying the change log. Local writes, other
//! servers' notifications and `atLeastRevision` reads all come through [`Services::catch_up`].

use super::Services;
use crate::error::{ServiceError, ServiceResult};
use cohort_core::TenantId;
use cohort_core::index::AccessIndex;
use cohort_core::state::TenantState;
use cohort_store::Notice;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

/// One tenant in memory.
#[derive(Debug)]
pub struct Live {
    /// The revision it reflects.
    pub revision: i64,
    /// Its access facts.
    pub state: TenantState,
    /// Its access index.
    pub index: AccessIndex,
}

impl Live {
    /// An empty tenant at revision 0.
    pub fn empty() -> Self {
        Self { revision: 0, state: TenantState::default(), index: AccessIndex::default() }
    }
}

/// A read view of one tenant.
pub type LiveRead = OwnedRwLockReadGuard<Live>;

/// The registry of live tenants.
#[derive(Default)]
pub(crate) struct Registry(std::sync::Mutex<HashMap<TenantId, Arc<RwLock<Live>>>>);

/// How long a read waits for a revision it was asked to reflect before answering 503.
const REVISION_WAIT: Duration = Duration::from_secs(2);

impl Services {
    fn slot(&self, tenant: &TenantId) -> Arc<RwLock<Live>> {
        let mut map = match self.live.0.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(tenant.clone()).or_insert_with(|| Arc::new(RwLock::new(Live::empty()))).clone()
    }

    /// The tenant as this server knows it, loading it on first use.
    pub async fn live(&self, tenant: &TenantId) -> ServiceResult<LiveRead> {
        let slot = self.slot(tenant);
        if slot.read().await.revision == 0 {
            self.catch_up(tenant).await?;
        }
        Ok(slot.read_owned().await)
    }

    /// The tenant reflecting at least revision `min` (catching up, then waiting a bounded
    /// time for it to exist); 503 when it does not come.
    pub async fn live_at_least(&self, tenant: &TenantId, min: Option<i64>) -> ServiceResult<LiveRead> {
        let live = self.live(tenant).await?;
        let Some(min) = min.filter(|m| *m > live.revision) else { return Ok(live) };
        drop(live);
        let deadline = tokio::time::Instant::now() + REVISION_WAIT;
        loop {
            self.catch_up(tenant).await?;
            let live = self.live(tenant).await?;
            if live.revision >= min {
                return Ok(live);
            }
            drop(live);
            if tokio::time::Instant::now() >= deadline {
                return Err(ServiceError::Unavailable(cohort_store::StoreError::Unavailable(format!(
                    "revision {min} is not visible yet"
                ))));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Brings the tenant up to the database's latest committed revision: replays what the
    /// missing revisions touched, or loads the tenant whole the first time.
    pub async fn catch_up(&self, tenant: &TenantId) -> ServiceResult<()> {
        let slot = self.slot(tenant);
        let mut r = self.store.read_consistent().await?;
        let latest = r.revision(tenant).await?;
        if slot.read().await.revision >= latest {
            return Ok(());
        }
        let mut live = slot.write().await;
        let current = live.revision;
        if current >= latest {
            return Ok(());
        }
        let now = self.now();
        let touched = if current == 0 { None } else { r.changes_between(tenant, current, latest).await? };
        // A change that touched a large part of the tenant user by user is read back faster
        // whole. (A rule applied to everyone names its group's rows instead, read in one go.)
        let touched =
            touched.filter(|t| t.users.len() <= 10_000 || t.users.len() * 10 <= live.state.user_ids().count());
        match touched {
            Some(touched) => {
                let mut footprint = AccessIndex::footprint(&live.state, &touched);
                r.apply_touched(tenant, &mut live.state, &touched).await?;
                footprint.merge(AccessIndex::footprint(&live.state, &touched));
                let Live { state, index, .. } = &mut *live;
                index.refresh(state, &footprint, now);
            }
            None => {
                let state = r.load_state(tenant).await?;
                live.index = AccessIndex::build(&state, now);
                live.state = state;
            }
        }
        live.revision = latest;
        Ok(())
    }

    /// Loads every tenant, so the first request to each is as fast as the rest.
    pub async fn warm_up(&self) -> ServiceResult<usize> {
        let tenants = self.store.read().await?.list_tenants().await?;
        for t in &tenants {
            self.catch_up(&t.id).await?;
        }
        Ok(tenants.len())
    }

    /// Follows other servers' changes (PostgreSQL) for as long as the server runs, listening
    /// again after a failure and catching every known tenant up when notices may have been lost.
    pub async fn follow_changes(self: Arc<Self>) {
        loop {
            match self.follow_once().await {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "listening for changes failed; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Err(e) = self.resync().await {
                tracing::warn!(error = %e, "catching up after a listener failure failed");
            }
        }
    }

    async fn resync(&self) -> ServiceResult<()> {
        let known: Vec<TenantId> = match self.live.0.lock() {
            Ok(m) => m.keys().cloned().collect(),
            Err(p) => p.into_inner().keys().cloned().collect(),
        };
        for t in known {
            self.catch_up(&t).await?;
        }
        Ok(())
    }

    async fn follow_once(&self) -> ServiceResult<()> {
        let Some(mut listener) = self.store.listen().await? else { return Ok(()) };
        loop {
            match listener.next().await? {
                Notice::Tenant(t) => {
                    if let Err(e) = self.catch_up(&t).await {
                        tracing::warn!(tenant = %t, error = %e, "catching up after a notification failed");
                    }
                }
                Notice::Resync => self.resync().await?,
            }
        }
    }
}
