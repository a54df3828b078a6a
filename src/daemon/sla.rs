//! The SLA clock: a tick at start and every [`SLA_TICK`] queues the reminders,
//! escalations and digest that are due, then wakes delivery. The tick remembers
//! what it sent, so ticking often (or after a restart) sends nothing twice.

use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::sla;
use crate::store::lock;

/// Reminders are due at a minute's precision at best; a deadline is days.
pub const SLA_TICK: Duration = Duration::from_secs(60);

pub(super) async fn tick_loop(shared: Shared, cancel: CancellationToken) {
    let mut interval = tokio::time::interval(SLA_TICK);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = interval.tick() => {}
        }
        let settings = shared.settings.borrow().clone();
        let store = shared.store.clone();
        let now = shared.clock.now();
        let ticked = tokio::task::spawn_blocking(move || {
            sla::tick(&mut lock(&store), &settings.config, &settings.crypto, now)
        })
        .await;
        match ticked {
            Ok(Ok(outcome)) if outcome.queued_anything() => {
                tracing::info!(
                    reminders = outcome.reminders,
                    escalations = outcome.escalations,
                    digests = outcome.digests,
                    "SLA notices queued"
                );
                shared.wake.notify_one();
            }
            Ok(Ok(_)) => {}
            // The next tick tries again; nothing was recorded as sent.
            Ok(Err(err)) => tracing::error!(error = %err, "SLA tick failed"),
            Err(err) => tracing::error!(error = %err, "SLA tick panicked"),
        }
    }
}
