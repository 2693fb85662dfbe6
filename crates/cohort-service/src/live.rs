//! The live view of each tenant: its access facts and access index in memory, at a known
//! revision, kept in step with the database by replaying the change log. Local writes, other
//! servers' notifications and `atLeastRevision` reads all come through [`Services::catch_up`].

use super::Services;
use super::authz::{Allowed, Conferral, Refusal};
use crate::error::{ServiceError, ServiceResult};
use cohort_core::index::{AccessIndex, Footprint, Touched};
use cohort_core::state::TenantState;
use cohort_core::{TenantId, Timestamp};
use cohort_store::{Notice, StoreError, Writer};
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
pub struct Registry(std::sync::Mutex<HashMap<TenantId, Arc<RwLock<Live>>>>);

/// How a change that was judged before committing ended without committing.
pub enum Outcome {
    /// The conferral rule refused it.
    Refused(Refusal),
    /// Something failed.
    Failed(ServiceError),
}

impl<E: Into<ServiceError>> From<E> for Outcome {
    fn from(e: E) -> Self {
        Self::Failed(e.into())
    }
}

/// A change touching more users than this (and over a tenth of the tenant) is read back whole.
const WHOLE_FROM_USERS: usize = 10_000;

fn read_back_whole(touched: &Touched, state: &TenantState) -> bool {
    touched.users.len() > WHOLE_FROM_USERS && touched.users.len() * 10 > state.user_ids().count()
}

/// How long a read waits for a revision it was asked to reflect before answering 503.
const REVISION_WAIT: Duration = Duration::from_secs(2);

impl Services {
    fn slot(&self, tenant: &TenantId) -> Arc<RwLock<Live>> {
        let mut map = match self.live.0.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(slot) = map.get(tenant) {
            return slot.clone();
        }
        map.entry(tenant.clone()).or_insert_with(|| Arc::new(RwLock::new(Live::empty()))).clone()
    }

    /// The tenant as this server knows it, loading it on first use.
    pub async fn live(&self, tenant: &TenantId) -> ServiceResult<LiveRead> {
        let slot = self.slot(tenant);
        let read = slot.clone().read_owned().await;
        if read.revision != 0 {
            return Ok(read);
        }
        drop(read);
        self.catch_up(tenant).await?;
        Ok(slot.read_owned().await)
    }

    /// The tenant reflecting at least revision `min`: a revision the database has not committed
    /// is the client's mistake (400, at once, as is a negative one); one it has committed that
    /// this server has not applied yet is waited for a bounded time (then 503).
    pub async fn live_at_least(&self, tenant: &TenantId, min: Option<i64>) -> ServiceResult<LiveRead> {
        if let Some(m) = min.filter(|m| *m < 0) {
            return Err(ServiceError::BadRequest(format!("`atLeastRevision` must be 0 or more, not {m}")));
        }
        let live = self.live(tenant).await?;
        let Some(min) = min.filter(|m| *m > live.revision) else { return Ok(live) };
        drop(live);
        let committed = self.vault.unguarded().await?.revision(tenant).await?;
        if min > committed {
            return Err(ServiceError::BadRequest(format!(
                "revision {min} has not been committed; the latest is {committed}"
            )));
        }
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
        let mut r = self.vault.unguarded_consistent().await?;
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
        let touched = touched.filter(|t| !read_back_whole(t, &live.state));
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

    /// Commits `w`, a change opened on the live view `before`, after applying it to that view
    /// from inside its own transaction and judging it there by the conferral rule: the view
    /// stays write-locked from before the change is applied until it commits, so no reader sees
    /// it early. A refused or failed change is rolled back and the view restored; so is one
    /// only tried (`commit` false), which answers the revision it was tried at.
    pub(crate) async fn commit_judged(
        &self,
        mut w: Writer,
        before: LiveRead,
        touched: &Touched,
        proof: &Allowed,
        commit: bool,
    ) -> Result<i64, Outcome> {
        let tenant = w.tenant().clone();
        let slot = OwnedRwLockReadGuard::rwlock(&before).clone();
        let base = before.revision;
        drop(before);
        if base == 0 && commit {
            // A tenant being created: nothing is in memory yet; it is loaded whole once committed.
            let revision = w.commit().await?;
            self.catch_up(&tenant).await?;
            return Ok(revision);
        }
        let mut live = slot.write_owned().await;
        if live.revision != base || w.revision() != base + 1 {
            // INVARIANT: nobody else commits to the tenant while `w` holds its write lock.
            return Err(Outcome::Failed(ServiceError::Unavailable(StoreError::Unavailable(format!(
                "tenant view moved from revision {base} to {} during a change",
                live.revision
            )))));
        }
        let now = self.now();
        let undo = undo_footprint(&live.state, touched);
        let judged = Self::apply_judged(&mut w, &mut live, touched, proof, now).await;
        let committed = match judged {
            Ok(()) if !commit => {
                if let Err(e) = w.rollback().await {
                    tracing::warn!(tenant = %tenant, error = %e, "rolling a tried change back failed");
                }
                self.restore(&tenant, &mut live, &undo, now).await;
                return Ok(base);
            }
            Ok(()) => w.commit().await.map_err(Outcome::from),
            Err(o) => {
                if let Err(e) = w.rollback().await {
                    tracing::warn!(tenant = %tenant, error = %e, "rolling a refused change back failed");
                }
                Err(o)
            }
        };
        match committed {
            Ok(revision) => {
                live.revision = revision;
                Ok(revision)
            }
            Err(o) => {
                self.restore(&tenant, &mut live, &undo, now).await;
                Err(o)
            }
        }
    }

    /// Applies what `touched` names to `live` from the open change `w`, and judges it.
    async fn apply_judged(
        w: &mut Writer,
        live: &mut Live,
        touched: &Touched,
        proof: &Allowed,
        now: Timestamp,
    ) -> Result<(), Outcome> {
        let tenant = w.tenant().clone();
        {
            let Live { state, index, .. } = &mut *live;
            index.refresh_expired(state, now);
        }
        let whole = read_back_whole(touched, &live.state);
        let mut footprint =
            if whole { Footprint::everything(&live.state) } else { AccessIndex::footprint(&live.state, touched) };
        let mut judge = Conferral::start(proof, live, &footprint, now);
        if whole {
            let state = w.load_state(&tenant).await?;
            footprint.merge(Footprint::everything(&state));
            judge.note_before(&live.index, &footprint);
            live.index = AccessIndex::build(&state, now);
            live.state = state;
        } else {
            w.apply_touched(&tenant, &mut live.state, touched).await?;
            footprint.merge(AccessIndex::footprint(&live.state, touched));
            judge.note_before(&live.index, &footprint);
            let Live { state, index, .. } = &mut *live;
            index.refresh(state, &footprint, now);
        }
        // Every group admits only the user types it lists, whichever face or source added the
        // row or changed the user's type or the group's list.
        let groups = touched.groups.iter().chain(&touched.members);
        if let Some(e) = live.state.first_refused_member(&touched.users, groups) {
            return Err(Outcome::Failed(e.into()));
        }
        judge.decide(live, &footprint, now).map_err(Outcome::Refused)
    }

    /// Puts back in `live` what the database has committed for what `touched` names (an
    /// [`undo_footprint`]), after a change applied to it did not commit; when that fails, the tenant is loaded whole at its
    /// next use.
    async fn restore(&self, tenant: &TenantId, live: &mut Live, touched: &Touched, now: Timestamp) {
        let restored = async {
            if read_back_whole(touched, &live.state) {
                return Err(StoreError::Unavailable("large change: reload whole".to_owned()));
            }
            let mut r = self.vault.unguarded_consistent().await?;
            let mut footprint = AccessIndex::footprint(&live.state, touched);
            r.apply_touched(tenant, &mut live.state, touched).await?;
            footprint.merge(AccessIndex::footprint(&live.state, touched));
            let Live { state, index, .. } = &mut *live;
            index.refresh(state, &footprint, now);
            Ok(())
        };
        if let Err(e) = restored.await {
            tracing::info!(tenant = %tenant, reason = %e, "the tenant's view is reloaded whole at its next use");
            live.revision = 0;
        }
    }

    /// Loads every tenant, so the first request to each is as fast as the rest.
    pub async fn warm_up(&self) -> ServiceResult<usize> {
        let tenants = self.vault.unguarded().await?.list_tenants().await?;
        for t in &tenants {
            self.catch_up(&t.id).await?;
        }
        Ok(tenants.len())
    }

    /// Brings every tenant this server holds up to the database (after missed notifications).
    pub async fn resync(&self) -> ServiceResult<()> {
        let known: Vec<TenantId> = match self.live.0.lock() {
            Ok(m) => m.keys().cloned().collect(),
            Err(p) => p.into_inner().keys().cloned().collect(),
        };
        for t in known {
            self.catch_up(&t).await?;
        }
        Ok(())
    }

    /// Applies one notice of another server's commit.
    pub async fn apply_notice(&self, notice: Notice) -> ServiceResult<()> {
        match notice {
            Notice::Tenant(t) => {
                if let Err(e) = self.catch_up(&t).await {
                    tracing::warn!(tenant = %t, error = %e, "catching up after a notification failed");
                }
                Ok(())
            }
            Notice::Resync => self.resync().await,
        }
    }
}

/// What must be read back to undo, in a live view, a change to what `touched` names, from the
/// view before it: a deleted group takes its membership rows and its children's edges with it,
/// a deleted role or resource its assignments and grants, which come back only if read again.
fn undo_footprint(state: &TenantState, touched: &Touched) -> Touched {
    let mut undo = touched.clone();
    for g in &touched.groups {
        undo.members.insert(g.clone());
        undo.groups.extend(state.children(g).iter().cloned());
    }
    for r in &touched.roles {
        undo.groups.extend(state.groups_with_role(r).cloned());
        undo.users.extend(state.users_with_role(r).cloned());
    }
    for r in &touched.resources {
        undo.groups.extend(state.groups_granted(r).cloned());
        undo.users.extend(state.users_granted(r).cloned());
    }
    undo
}
