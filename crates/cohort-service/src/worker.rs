//! The worker room: the work the server does without being asked, with one lifecycle. `serve`
//! starts it; at shutdown every worker is told to stop, finishes the unit of work it is in
//! (a sweep, a catch-up) and returns, and [`Workers::stop`] waits for all of them. A new
//! background job (the notification outbox) is one more function here, started by
//! [`Workers::start`].

use crate::Services;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How often the workers act.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// Time between sweeps of expired memberships.
    pub sweep_every: Duration,
}

/// The running workers.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// A worker's view of the stop signal.
#[derive(Clone)]
struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Resolves once the server is stopping.
    async fn requested(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Waits `d`, or less when the server stops meanwhile; whether to go on.
    async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            () = self.requested() => false,
            () = tokio::time::sleep(d) => true,
        }
    }
}

impl Workers {
    /// Starts every worker.
    pub fn start(services: Arc<Services>, schedule: Schedule) -> Self {
        let (stop, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(follow_changes(services.clone(), Stop(rx.clone())));
        tasks.spawn(sweep_expired(services, Stop(rx), schedule.sweep_every.max(Duration::from_millis(10))));
        Self { stop, tasks }
    }

    /// Tells every worker to stop and waits until each has finished what it was doing.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while let Some(done) = self.tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a worker ended abnormally");
            }
        }
    }
}

/// Follows other servers' commits (PostgreSQL `LISTEN`), listening again after a failure and
/// catching every known tenant up when notices may have been lost. Nothing to do on SQLite.
async fn follow_changes(services: Arc<Services>, mut stop: Stop) {
    loop {
        let listener = match services.vault.listen().await {
            Ok(None) => return,
            Ok(Some(l)) => Ok(l),
            Err(e) => Err(e),
        };
        let failure = match listener {
            Ok(mut listener) => loop {
                let notice = tokio::select! {
                    () = stop.requested() => return,
                    n = listener.next() => n,
                };
                let applied = match notice {
                    Ok(n) => services.apply_notice(n).await,
                    Err(e) => Err(e.into()),
                };
                if let Err(e) = applied {
                    break e;
                }
            },
            Err(e) => e.into(),
        };
        tracing::warn!(error = %failure, "listening for changes failed; retrying");
        if !stop.sleep(Duration::from_secs(1)).await {
            return;
        }
        if let Err(e) = services.resync().await {
            tracing::warn!(error = %e, "catching up after a listener failure failed");
        }
    }
}

/// Removes expired memberships of every tenant, every `every`. Access already ends at the
/// expiry; the sweep clears the rows and audits their removal. A sweep under way is finished
/// before the worker stops.
async fn sweep_expired(services: Arc<Services>, mut stop: Stop, every: Duration) {
    while stop.sleep(every).await {
        let tenants = match services.vault.unguarded().await {
            Ok(mut r) => r.list_tenants().await,
            Err(e) => Err(e),
        };
        let tenants = tenants.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "listing tenants for the expiry sweep failed");
            Vec::new()
        });
        for t in tenants {
            match services.sweep_expired(&t.id).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(tenant = %t.slug, removed = n, "expired memberships removed"),
                Err(e) => tracing::warn!(tenant = %t.slug, error = %e, "sweeping expired memberships failed"),
            }
        }
    }
}
