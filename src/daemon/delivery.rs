//! Outbox → transport: sends due mail whenever ingest commits, and at least every
//! [`DELIVERY_POLL`] (retries become due with time). After a stop request it gets
//! [`super::SHUTDOWN_GRACE`] to send what is queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{DaemonError, SHUTDOWN_GRACE, Settings, Shared};
use crate::respond::{self, DeliveryRun};
use crate::store::Store;
use crate::transport::Transport;

const DELIVERY_BATCH: usize = 512;
const DELIVERY_POLL: Duration = Duration::from_secs(5);

struct DeliveryWorker {
    shared: Shared,
    /// A second connection: reads due mail and checkpoints the WAL beside the
    /// writer, so neither waits for the shared store's lock.
    reader: Store,
    transport: Arc<Transport>,
    settings: Arc<Settings>,
}

impl DeliveryWorker {
    fn pass(&mut self) -> Result<DeliveryRun, DaemonError> {
        let run = respond::deliver_due(
            &self.shared.store,
            &self.reader,
            &self.transport,
            respond::deliver::Setup {
                config: &self.settings.config,
                templates: &self.settings.templates,
                crypto: &self.settings.crypto,
            },
            self.shared.clock.now(),
            DELIVERY_BATCH,
        )?;
        self.reader.checkpoint()?;
        Ok(run)
    }
}

fn transport_for(settings: &Settings) -> Result<Transport, DaemonError> {
    let config = &settings.config;
    Ok(Transport::from_config(
        &config.transport.kind,
        &config.program.address.domain,
    )?)
}

/// Sends due mail until cancelled; with `once`, until ingest has finished and
/// nothing due is left. Returns (sent, failed attempts).
pub(super) async fn deliver_loop(
    shared: Shared,
    reader: Store,
    once: bool,
    cancel: CancellationToken,
    ingest_finished: Arc<AtomicBool>,
) -> Result<(u64, u64), DaemonError> {
    let mut settings_rx = shared.settings.clone();
    let settings = settings_rx.borrow_and_update().clone();
    let transport = Arc::new(transport_for(&settings)?);
    tracing::info!(transport = %transport.describe(), "delivery ready");
    let wake = shared.wake.clone();
    let mut worker = DeliveryWorker {
        shared,
        reader,
        transport,
        settings,
    };
    let (mut sent, mut failures) = (0u64, 0u64);
    let mut record = |result: Result<DeliveryRun, DaemonError>| -> Result<(), DaemonError> {
        match result {
            Ok(run) => {
                if run.sent + run.retrying + run.failed > 0 {
                    tracing::info!(
                        sent = run.sent,
                        retrying = run.retrying,
                        failed = run.failed,
                        "delivered"
                    );
                }
                sent += u64::from(run.sent);
                failures += u64::from(run.retrying + run.failed);
                Ok(())
            }
            Err(err) if !once => {
                tracing::error!(error = %err, "delivery failed; retrying");
                Ok(())
            }
            Err(err) => Err(err),
        }
    };
    loop {
        if settings_rx.has_changed().unwrap_or(false) {
            let settings = settings_rx.borrow_and_update().clone();
            match transport_for(&settings) {
                Ok(t) => {
                    worker.transport = Arc::new(t);
                    worker.settings = settings;
                }
                Err(err) => tracing::error!(error = %err, "keeping the previous transport"),
            }
        }
        // Read the flag before the pass: a pass that starts after ingest
        // finished has seen every row ingest committed.
        let finished = ingest_finished.load(Ordering::SeqCst);
        let (back, result) = tokio::task::spawn_blocking(move || {
            let result = worker.pass();
            (worker, result)
        })
        .await?;
        worker = back;
        record(result)?;
        if (once && finished) || cancel.is_cancelled() {
            break;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(DELIVERY_POLL), if !once => {}
            () = cancel.cancelled() => {}
        }
    }
    // Stopping: ingest's last batch may have queued mail. Send what can be sent
    // within the grace period; the rest waits in the outbox for the next start.
    if cancel.is_cancelled() && !once {
        // Wait for ingest to finish its batch in hand first.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while !ingest_finished.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let last = tokio::task::spawn_blocking(move || worker.pass());
        match tokio::time::timeout_at(deadline, last).await {
            Ok(result) => record(result?)?,
            Err(_) => tracing::warn!(
                grace = ?SHUTDOWN_GRACE,
                "stopping with mail still being sent; what was not confirmed is sent again at the next start"
            ),
        }
    }
    Ok((sent, failures))
}
