//! The service: poll the source, ingest in batches, deliver the outbox, until
//! told to stop. SIGTERM/SIGINT cancel the loop after the batch in hand; a second
//! signal exits at once. Store, parser and files are synchronous, so each cycle
//! runs on a blocking thread and the async side only waits and listens.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{Config, SourceConfig};
use crate::ingest::{Outcome, Pipeline};
use crate::respond::{self, Templates};
use crate::source::{Incoming, Maildir, SourceError};
use crate::store::{Store, StoreError};
use crate::transport::Transport;

/// At most this many messages, and about this many bytes, per transaction.
const BATCH_MESSAGES: usize = 1024;
const BATCH_BYTES: u64 = 8 << 20;
const DELIVERY_BATCH: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("a worker thread failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Totals of one or more cycles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub stored: u64,
    pub already_stored: u64,
    pub reports_opened: u64,
    pub acknowledgements: u64,
    pub sent: u64,
    pub send_failures: u64,
}

impl Totals {
    fn add(&mut self, other: Totals) {
        self.stored += other.stored;
        self.already_stored += other.already_stored;
        self.reports_opened += other.reports_opened;
        self.acknowledgements += other.acknowledgements;
        self.sent += other.sent;
        self.send_failures += other.send_failures;
    }
}

/// Everything one cycle needs; moved onto a blocking thread and back.
struct Worker {
    config: Config,
    templates: Templates,
    store: Store,
    maildir: Maildir,
    transport: Transport,
    clock: Arc<dyn Clock>,
}

impl Worker {
    /// Ingests everything pending, batch by batch, then delivers what is due.
    fn cycle(&mut self, cancel: &CancellationToken) -> Result<Totals, DaemonError> {
        let mut totals = Totals::default();
        let pending = self.maildir.pending()?;
        let source = self.maildir.source_name();
        let max_size = self.config.limits.max_message_size;
        let mut rest = pending.as_slice();
        while !rest.is_empty() && !cancel.is_cancelled() {
            let mut batch = Vec::new();
            let mut loaded = Vec::<Incoming>::new();
            let mut bytes = 0u64;
            while let Some((p, tail)) = rest.split_first() {
                if batch.len() >= BATCH_MESSAGES || (bytes >= BATCH_BYTES && !batch.is_empty()) {
                    break;
                }
                rest = tail;
                if let Some(incoming) = self.maildir.load(p, max_size)? {
                    bytes += match &incoming.raw {
                        crate::source::Raw::Loaded(b) => b.len() as u64,
                        crate::source::Raw::TooLarge { head, .. } => head.len() as u64,
                    };
                    loaded.push(incoming);
                    batch.push(p);
                }
            }
            let pipeline = Pipeline {
                config: &self.config,
                templates: &self.templates,
            };
            let outcomes = pipeline.ingest(&mut self.store, &source, &loaded, self.clock.now())?;
            drop(loaded);
            // Only now, with the batch committed, may the source forget the messages.
            for p in batch {
                self.maildir.mark_processed(p)?;
            }
            for outcome in outcomes {
                match outcome {
                    Outcome::AlreadyStored => totals.already_stored += 1,
                    Outcome::Stored {
                        opened,
                        acknowledged,
                        ..
                    } => {
                        totals.stored += 1;
                        totals.reports_opened += u64::from(opened);
                        totals.acknowledgements += u64::from(acknowledged);
                    }
                }
            }
        }
        let run = respond::deliver_due(
            &mut self.store,
            &self.transport,
            &self.config.transport.retry,
            self.clock.now(),
            DELIVERY_BATCH,
        )?;
        totals.sent += u64::from(run.sent);
        totals.send_failures += u64::from(run.retrying + run.failed);
        Ok(totals)
    }
}

/// Runs the daemon. With `once`, processes what is pending, sends what is due and
/// returns; otherwise keeps polling until `cancel` fires.
pub async fn run(
    config: Config,
    templates: Templates,
    store: Store,
    clock: Arc<dyn Clock>,
    once: bool,
    cancel: CancellationToken,
) -> Result<Totals, DaemonError> {
    let SourceConfig::Maildir {
        path,
        poll_interval,
    } = &config.source;
    let maildir = Maildir::open(path)?;
    let poll_interval: Duration = *poll_interval;
    let transport = Transport::from_config(&config.transport.kind);
    tracing::info!(
        source = %maildir.root().display(),
        transport = %transport.describe(),
        database = %store.path().display(),
        "disclosed started"
    );
    let mut worker = Some(Worker {
        config,
        templates,
        store,
        maildir,
        transport,
        clock,
    });
    let mut totals = Totals::default();
    loop {
        let Some(mut w) = worker.take() else {
            break;
        };
        let token = cancel.clone();
        let (w, result) = tokio::task::spawn_blocking(move || {
            let result = w.cycle(&token);
            (w, result)
        })
        .await?;
        worker = Some(w);
        match result {
            Ok(cycle) => {
                if cycle.stored + cycle.sent + cycle.send_failures > 0 {
                    tracing::info!(
                        stored = cycle.stored,
                        duplicates = cycle.already_stored,
                        reports = cycle.reports_opened,
                        acknowledgements = cycle.acknowledgements,
                        sent = cycle.sent,
                        send_failures = cycle.send_failures,
                        "cycle done"
                    );
                }
                totals.add(cycle);
            }
            // In the service a failed cycle is retried at the next poll; nothing
            // was marked processed that is not committed.
            Err(err) if !once => tracing::error!(error = %err, "cycle failed; retrying"),
            Err(err) => return Err(err),
        }
        if once || cancel.is_cancelled() {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(poll_interval) => {}
            () = cancel.cancelled() => break,
        }
    }
    tracing::info!("disclosed stopped");
    Ok(totals)
}

/// Cancels `cancel` on the first SIGTERM/SIGINT and exits the process on the second.
pub fn spawn_signal_handler(cancel: CancellationToken) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let mut received = 0;
        loop {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            received += 1;
            if received == 1 {
                tracing::info!(
                    "stop requested; finishing the batch in hand (signal again to quit at once)"
                );
                cancel.cancel();
            } else {
                tracing::warn!("second stop signal; exiting now");
                std::process::exit(130);
            }
        }
    });
    Ok(())
}
