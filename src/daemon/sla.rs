//! The SLA clock: a tick at start and every [`SLA_TICK`] queues the reminders,
//! escalations and digest that are due, then wakes delivery. The tick surveys
//! on a read-only connection of its own, so ingest goes on writing meanwhile,
//! and takes the shared writer only for the transaction that records what it
//! queues. It remembers what it sent, so ticking often (or after a restart)
//! sends nothing twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::{Settings, Shared};
use crate::sla::tick::{DueNotices, TickOutcome, survey_due};
use crate::store::{Store, StoreError, lock};

/// Reminders are due at a minute's precision at best; a deadline is days.
pub const SLA_TICK: Duration = Duration::from_secs(60);

pub(super) async fn tick_loop(shared: Shared, reader: Store, cancel: CancellationToken) {
    // Behind a lock only so that a panicking tick cannot take it away.
    let reader = Arc::new(Mutex::new(reader));
    let published = Arc::new(Mutex::new(super::publish::Published::default()));
    let mut interval = tokio::time::interval(SLA_TICK);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = interval.tick() => {}
        }
        let settings = shared.settings.borrow().clone();
        let (reader, writer) = (reader.clone(), shared.store.clone());
        let now = shared.clock.now();
        let published = published.clone();
        let wake = shared.wake.clone();
        let health = shared.health.clone();
        let ticked = tokio::task::spawn_blocking(move || {
            let outcome = tick(&reader, &writer, &settings, now);
            let warned = after_tick(&reader, &writer, &settings, &published, now);
            if watch(&reader, &writer, &settings, &health, now) || warned {
                wake.notify_one();
            }
            outcome
        })
        .await;
        if matches!(ticked, Ok(Ok(_))) {
            shared.telemetry.ticked(now);
        }
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

/// The publishing hooks after a tick: expiry warnings, then the site if it
/// changed. Their failures are logged and tried again on the next tick; true
/// if a warning was queued.
fn after_tick(
    reader: &Mutex<Store>,
    writer: &Mutex<Store>,
    settings: &Arc<Settings>,
    published: &Mutex<super::publish::Published>,
    now: Timestamp,
) -> bool {
    let warned = match super::publish::warn(reader, writer, settings, now) {
        Ok(n) => n > 0,
        Err(err) => {
            tracing::error!(error = %err, "cannot check what expires");
            false
        }
    };
    let mut last = published.lock().unwrap_or_else(|p| p.into_inner());
    match super::publish::republish(reader, settings, &mut last, now) {
        Ok(Some(written)) if !written.written.is_empty() || !written.removed.is_empty() => {
            tracing::info!(
                written = written.written.len(),
                removed = written.removed.len(),
                "site published"
            );
        }
        Ok(_) => {}
        Err(err) => tracing::error!(error = %err, "cannot publish the site"),
    }
    warned
}

/// The daemon's watch on itself; true if an alert or the canary was queued. A failure is
/// logged and tried again on the next tick.
fn watch(
    reader: &Mutex<Store>,
    writer: &Mutex<Store>,
    settings: &Settings,
    health: &super::SourceHealth,
    now: Timestamp,
) -> bool {
    let observed = super::monitor::observe(reader, health);
    match super::monitor::check_and_queue(reader, writer, settings, &observed, now) {
        Ok((alerts, canary)) => alerts > 0 || canary,
        Err(err) => {
            tracing::error!(error = %err, "cannot check the daemon's own health");
            false
        }
    }
}

/// One tick: the survey and the rendering on `reader`, then `writer` for one
/// transaction if anything is due.
pub(super) fn tick(
    reader: &Mutex<Store>,
    writer: &Mutex<Store>,
    settings: &Settings,
    now: Timestamp,
) -> Result<TickOutcome, StoreError> {
    let due = survey(reader, settings, now)?;
    if due.is_empty() {
        return Ok(TickOutcome::default());
    }
    lock(writer).write(|batch| due.record(&batch.tx()))
}

/// What is due at `now`, read on `reader` alone.
pub(super) fn survey(
    reader: &Mutex<Store>,
    settings: &Settings,
    now: Timestamp,
) -> Result<DueNotices, StoreError> {
    lock(reader).snapshot(|tx| survey_due(tx, &settings.config, &settings.crypto, now))
}
