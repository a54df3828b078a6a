//! Talks to systemd: `READY=1` once the store is open and the source's first
//! connection succeeded or was scheduled for retry, `WATCHDOG=1` keep-alives
//! while the service is healthy, `STATUS=` lines, `STOPPING=1`. Without
//! `NOTIFY_SOCKET` (not under systemd) every notification is a no-op.

use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Shared;

/// Set once the source has made its first attempt.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    started: Arc<std::sync::OnceLock<()>>,
    notify: Arc<Notify>,
}

impl Readiness {
    pub fn source_started(&self) {
        // One waiter (the supervisor); `notify_one` keeps a permit for it if it
        // is not waiting yet.
        if self.started.set(()).is_ok() {
            self.notify.notify_one();
        }
    }

    async fn wait(&self) {
        while self.started.get().is_none() {
            self.notify.notified().await;
        }
    }
}

/// How long the store lock may stay taken before the service counts as wedged.
const STORE_STALL: Duration = Duration::from_secs(60);

pub(super) async fn supervise(shared: Shared, cancel: CancellationToken) {
    tokio::select! {
        () = shared.readiness.wait() => {}
        () = cancel.cancelled() => return,
    }
    notify(&[NotifyState::Ready, NotifyState::Status("running")]);
    tracing::debug!("ready");
    let Some(watchdog) = sd_notify::watchdog_enabled() else {
        return;
    };
    // Keep-alives at a third of the watchdog interval, and only while the store
    // can be taken: a worker that hangs holding it stops them, and systemd
    // restarts us.
    let every = (watchdog / 3).max(Duration::from_millis(100));
    let mut interval = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = cancel.cancelled() => return,
        }
        let store = shared.store.clone();
        let healthy = tokio::time::timeout(
            STORE_STALL.min(watchdog),
            tokio::task::spawn_blocking(move || drop(crate::store::lock(&store))),
        )
        .await
        .is_ok_and(|joined| joined.is_ok());
        if healthy {
            notify(&[NotifyState::Watchdog]);
        } else {
            tracing::error!(
                "the store has been locked for too long; withholding the watchdog keep-alive"
            );
        }
    }
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(err) = sd_notify::notify(states) {
        tracing::warn!(error = %err, "cannot notify systemd");
    }
}
