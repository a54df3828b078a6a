//! Outbox → transport. The worker sleeps until the earliest queued mail is due,
//! or until it is woken: ingest and the SLA tick wake it after they queue mail, a
//! reload wakes it to take up a new transport, a stop request wakes it to finish.
//! There is no fixed poll. After a stop request it gets [`super::SHUTDOWN_GRACE`]
//! to send what is queued.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio_util::sync::CancellationToken;

use super::{DaemonError, SHUTDOWN_GRACE, Settings, Shared};
use crate::clock::Clock;
use crate::respond::{self, DeliveryRun, Sender};
use crate::store::Store;
use crate::transport::Transport;

const DELIVERY_BATCH: usize = 512;

/// Mail queued by another process (`disclosed sla tick` from cron, a second
/// `run --once`) wakes nobody here, and a timed wait drifts when the wall clock
/// steps (suspend, NTP): a re-check this often bounds both. It can be long
/// because all mail this process queues wakes the worker at once.
const RECHECK: Duration = Duration::from_secs(60);

/// After a pass that left due mail it could not move (another sender holds
/// it), the next one waits this long rather than spinning.
const PAUSE: Duration = Duration::from_secs(5);

/// After passes that failed (the store cannot be written, or mail sent is not
/// recorded yet), the next waits from the first of these, doubling up to the
/// second.
const FAILED_PAUSE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

/// The wait after the `failures`-th failed pass in a row.
pub(super) fn failed_pause(failures: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failures.saturating_sub(1))
        .unwrap_or(u32::MAX);
    FAILED_PAUSE.0.saturating_mul(factor).min(FAILED_PAUSE.1)
}

/// What the worker waits for after a pass, besides a wake or a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Until {
    /// Mail became due during the pass: go again at once.
    Now,
    /// The earliest queued mail's next attempt.
    Due(Timestamp),
    /// Nothing is queued.
    Woken,
    /// See [`PAUSE`].
    Pause,
    /// The pass failed: see [`failed_pause`].
    Failed(Duration),
}

/// One pass: what it did and when queued mail is next due.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pass {
    pub run: DeliveryRun,
    pub next: Option<Timestamp>,
}

impl Until {
    /// After a pass, or after `failures` failed passes in a row.
    pub(super) fn after(pass: Option<&Pass>, failures: u32, now: Timestamp) -> Self {
        let Some(pass) = pass else {
            return Self::Failed(failed_pause(failures));
        };
        let moved = pass.run.sent + pass.run.retrying + pass.run.failed > 0;
        match pass.next {
            None => Self::Woken,
            Some(next) if next > now => Self::Due(next),
            Some(_) if moved => Self::Now,
            Some(_) => Self::Pause,
        }
    }

    /// Waits for this (a wake or a stop is the caller's to add).
    async fn wait(self, clock: &dyn Clock) {
        match self {
            Self::Now => {}
            Self::Due(at) => {
                tokio::select! {
                    () = clock.sleep_until(at) => {}
                    () = tokio::time::sleep(RECHECK) => {}
                }
            }
            Self::Woken => tokio::time::sleep(RECHECK).await,
            Self::Pause => tokio::time::sleep(PAUSE).await,
            Self::Failed(wait) => tokio::time::sleep(wait).await,
        }
    }
}

struct DeliveryWorker {
    shared: Shared,
    /// A second connection: reads due mail and checkpoints the WAL beside the
    /// writer, so neither waits for the shared store's lock.
    reader: Store,
    transport: Arc<Transport>,
    settings: Arc<Settings>,
    sender: Sender,
}

impl DeliveryWorker {
    fn pass(&mut self) -> Result<Pass, DaemonError> {
        let run = respond::deliver_due(
            &self.shared.store,
            &self.transport,
            respond::deliver::Setup {
                config: &self.settings.config,
                templates: &self.settings.templates,
                crypto: &self.settings.crypto,
            },
            self.shared.clock.now(),
            DELIVERY_BATCH,
            &mut self.sender,
        )?;
        self.reader.checkpoint()?;
        let next = self.reader.read().next_attempt_at()?;
        Ok(Pass { run, next })
    }

    fn take_up(&mut self, settings: Arc<Settings>) {
        match transport_for(&settings) {
            Ok(t) => {
                self.transport = Arc::new(t);
                self.settings = settings;
            }
            Err(err) => tracing::error!(error = %err, "keeping the previous transport"),
        }
    }
}

fn transport_for(settings: &Settings) -> Result<Transport, DaemonError> {
    let config = &settings.config;
    Ok(Transport::from_config(
        &config.transport.kind,
        &config.program.address.domain,
    )?)
}

/// Sends due mail until cancelled; with `once`, until ingest is done and
/// nothing due is left. Returns (sent, failed attempts).
pub(super) async fn deliver_loop(
    shared: Shared,
    reader: Store,
    once: bool,
    cancel: CancellationToken,
    ingest_done: CancellationToken,
) -> Result<(u64, u64), DaemonError> {
    let mut settings_rx = shared.settings.clone();
    let settings = settings_rx.borrow_and_update().clone();
    let transport = Arc::new(transport_for(&settings)?);
    tracing::info!(transport = %transport.describe(), "delivery ready");
    let wake = shared.wake.clone();
    let clock = shared.clock.clone();
    let sender = Sender::new(
        reader.path(),
        if once { "run --once" } else { "daemon" },
        clock.clone(),
    )?;
    let mut worker = DeliveryWorker {
        shared,
        reader,
        transport,
        settings,
        sender,
    };
    let mut failures = 0u32;
    let (mut sent, mut send_failures) = (0u64, 0u64);
    let telemetry = worker.shared.telemetry.clone();
    let mut record = |result: Result<Pass, DaemonError>| -> Result<Option<Pass>, DaemonError> {
        match result {
            Ok(pass) => {
                let run = pass.run;
                telemetry.delivered(run.sent, run.retrying, run.failed);
                if run.sent + run.retrying + run.failed > 0 {
                    tracing::info!(
                        sent = run.sent,
                        retrying = run.retrying,
                        failed = run.failed,
                        "delivered"
                    );
                }
                sent += u64::from(run.sent);
                send_failures += u64::from(run.retrying + run.failed);
                Ok(Some(pass))
            }
            Err(err) if !once => {
                tracing::error!(error = %err, "delivery failed; retrying");
                Ok(None)
            }
            Err(err) => Err(err),
        }
    };
    // A closed channel (no one can reload any more) would wake the loop forever.
    let mut reloadable = true;
    loop {
        // Read this before the pass: a pass that starts after ingest is done has
        // seen every row ingest committed.
        let finished = ingest_done.is_cancelled();
        let (back, result) = tokio::task::spawn_blocking(move || {
            let result = worker.pass();
            (worker, result)
        })
        .await?;
        worker = back;
        let pass = record(result)?;
        if (once && finished) || cancel.is_cancelled() {
            break;
        }
        failures = if pass.is_some() {
            0
        } else {
            failures.saturating_add(1)
        };
        let until = Until::after(pass.as_ref(), failures, clock.now());
        tokio::select! {
            // After a failed pass only its pause ends the wait: ingest's wakes
            // (it wakes after every attempt) must not make the retries spin.
            () = wake.notified(), if failures == 0 => {}
            () = ingest_done.cancelled(), if !finished => {}
            () = cancel.cancelled() => {}
            changed = settings_rx.changed(), if reloadable => {
                if changed.is_ok() {
                    worker.take_up(settings_rx.borrow_and_update().clone());
                } else {
                    reloadable = false;
                }
            }
            // `run --once` sends what is due now, and does not wait for retries.
            () = until.wait(clock.as_ref()), if !once => {}
        }
    }
    // Stopping: ingest's last batch may queue mail. Send what can be sent within
    // the grace period; the rest waits in the outbox for the next start.
    if cancel.is_cancelled() && !once {
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        // Ingest is told to stop too, and says when its batch in hand is done.
        let _ = tokio::time::timeout_at(deadline, ingest_done.cancelled()).await;
        let last = tokio::task::spawn_blocking(move || worker.pass());
        match tokio::time::timeout_at(deadline, last).await {
            Ok(result) => {
                record(result?)?;
            }
            Err(_) => tracing::warn!(
                grace = ?SHUTDOWN_GRACE,
                "stopping with mail still being sent; what was not confirmed is sent again at the next start"
            ),
        }
    }
    Ok((sent, send_failures))
}
