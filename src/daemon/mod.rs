//! The service: an ingest worker (source → store) and a delivery worker (outbox →
//! transport) run side by side on blocking threads under one cancellation token.
//! They share one write connection behind a mutex (SQLite has one writer anyway,
//! and a mutex hands over at once where its busy handler sleeps); the delivery
//! worker reads through a second connection. Ingest wakes delivery after every
//! commit. SIGTERM/SIGINT stop both after the batch in hand; a second signal exits
//! at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{Config, Retry, SourceConfig};
use crate::ingest::{Outcome, Pipeline, Prepared, prepare};
use crate::respond::{self, Templates};
use crate::source::{Maildir, Pending, SourceError};
use crate::store::{OpenMode, Store, StoreError};
use crate::transport::Transport;

/// At most this many messages, and about this many bytes, per transaction.
const BATCH_MESSAGES: usize = 512;
const BATCH_BYTES: u64 = 8 << 20;
const DELIVERY_BATCH: usize = 512;
/// Retries become due with time: look at the outbox at least this often.
const DELIVERY_POLL: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("a worker thread failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub stored: u64,
    pub already_stored: u64,
    pub reports_opened: u64,
    pub acknowledgements: u64,
    pub sent: u64,
    pub send_failures: u64,
    /// Messages that could not be read or stored; they stay on the source for
    /// the next cycle.
    pub failed: u64,
}

/// A batch read from the source, ready to store.
#[derive(Debug, Default)]
struct LoadedBatch {
    pending: Vec<Pending>,
    prepared: Vec<Prepared>,
    /// Files that could not be read this time.
    unreadable: u64,
}

/// Source → store.
struct IngestWorker {
    config: Config,
    templates: Templates,
    store: Arc<Mutex<Store>>,
    maildir: Maildir,
    clock: Arc<dyn Clock>,
    /// Tells the delivery worker there may be new mail to send.
    wake: Arc<Notify>,
}

impl IngestWorker {
    /// Ingests everything pending, batch by batch. A reader thread loads and
    /// parses the next batch while this one is stored, and marks committed
    /// batches processed on the source. One batch is in flight at a time, so
    /// memory stays bounded.
    fn cycle(&self, cancel: &CancellationToken) -> Result<Totals, DaemonError> {
        let pending = self.maildir.pending()?;
        let maildir = &self.maildir;
        std::thread::scope(|scope| {
            let (batches, received) = std::sync::mpsc::sync_channel(1);
            let (committed, to_mark) = std::sync::mpsc::channel::<Vec<Pending>>();
            let reader = scope.spawn(move || -> Result<(), SourceError> {
                let mark =
                    |done: Vec<Pending>| done.iter().try_for_each(|p| maildir.mark_processed(p));
                let mut rest = pending.as_slice();
                while !rest.is_empty() && !cancel.is_cancelled() {
                    while let Ok(done) = to_mark.try_recv() {
                        mark(done)?;
                    }
                    let batch = self.load_batch(&mut rest);
                    // The receiver is gone only if storing failed: stop reading.
                    if batches.send(batch).is_err() {
                        break;
                    }
                }
                drop(batches);
                // Until the writer is done, every committed batch still comes here.
                to_mark.into_iter().try_for_each(mark)
            });
            let stored = self.store_batches(received, &committed);
            drop(committed);
            let marked = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let totals = stored?;
            marked?;
            Ok(totals)
        })
    }

    /// Loads and parses the next batch from the front of `rest`. A file that
    /// cannot be read is logged, counted and left where it is for the next cycle:
    /// it must not hold up the others.
    fn load_batch(&self, rest: &mut &[Pending]) -> LoadedBatch {
        let limits = self.config.limits;
        let mut loaded = LoadedBatch::default();
        let mut bytes = 0;
        while let Some((p, tail)) = rest.split_first() {
            if loaded.pending.len() >= BATCH_MESSAGES || bytes >= BATCH_BYTES {
                break;
            }
            *rest = tail;
            match self.maildir.load(p, limits.max_message_size) {
                Ok(Some(incoming)) => {
                    let message = prepare(incoming, &limits);
                    bytes += message.memory() as u64;
                    loaded.prepared.push(message);
                    loaded.pending.push(p.clone());
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::error!(error = %err, "cannot read a message; it stays on the source");
                    loaded.unreadable += 1;
                }
            }
        }
        loaded
    }

    /// Stores each batch as it arrives and hands the committed messages back to
    /// be marked processed — only those: a message the store refused stays.
    fn store_batches(
        &self,
        received: std::sync::mpsc::Receiver<LoadedBatch>,
        committed: &std::sync::mpsc::Sender<Vec<Pending>>,
    ) -> Result<Totals, DaemonError> {
        let source = self.maildir.source_name();
        let pipeline = Pipeline {
            config: &self.config,
            templates: &self.templates,
        };
        let mut totals = Totals::default();
        for loaded in received {
            totals.failed += loaded.unreadable;
            let (batch, prepared) = (loaded.pending, loaded.prepared);
            let started = std::time::Instant::now();
            let results = pipeline.ingest(&self.store, &source, &prepared, self.clock.now());
            self.wake.notify_one();
            let mut done = Vec::with_capacity(batch.len());
            for ((p, message), result) in batch.into_iter().zip(&prepared).zip(results) {
                match result {
                    Ok(Outcome::AlreadyStored) => {
                        totals.already_stored += 1;
                        done.push(p);
                    }
                    Ok(Outcome::Stored {
                        opened,
                        acknowledged,
                        ..
                    }) => {
                        totals.stored += 1;
                        totals.reports_opened += u64::from(opened);
                        totals.acknowledgements += u64::from(acknowledged);
                        done.push(p);
                    }
                    Err(err) => {
                        tracing::error!(message = %message.location, error = %err, "cannot store message; it stays on the source");
                        totals.failed += 1;
                    }
                }
            }
            tracing::debug!(messages = done.len(), elapsed = ?started.elapsed(), "batch committed");
            // The reader outlives this loop, so the send cannot fail.
            let _ = committed.send(done);
        }
        Ok(totals)
    }
}

/// Outbox → transport.
struct DeliveryWorker {
    store: Arc<Mutex<Store>>,
    /// A second connection: reads due mail and checkpoints the WAL beside the
    /// writer, so neither waits for the shared store's lock.
    reader: Store,
    transport: Transport,
    retry: Retry,
    clock: Arc<dyn Clock>,
}

impl DeliveryWorker {
    fn pass(&mut self) -> Result<respond::DeliveryRun, DaemonError> {
        let run = respond::deliver_due(
            &self.store,
            &self.reader,
            &self.transport,
            &self.retry,
            self.clock.now(),
            DELIVERY_BATCH,
        )?;
        self.reader.checkpoint()?;
        Ok(run)
    }
}

/// Runs the daemon. With `once`, processes what is pending, sends what is due and
/// returns; otherwise keeps going until `cancel` fires.
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
    let poll_interval = *poll_interval;
    let transport = Transport::from_config(&config.transport.kind);
    tracing::info!(
        source = %maildir.root().display(),
        transport = %transport.describe(),
        database = %store.path().display(),
        "disclosed started"
    );
    let wake = Arc::new(Notify::new());
    let ingest_finished = Arc::new(AtomicBool::new(false));
    // One connection, shared: SQLite allows one writer at a time anyway, and a
    // mutex hands over at once where SQLite's busy handler sleeps and polls.
    let reader = Store::open(store.path(), OpenMode::Existing)?;
    let store = Arc::new(Mutex::new(store));
    let delivery = DeliveryWorker {
        store: store.clone(),
        reader,
        transport,
        retry: config.transport.retry,
        clock: clock.clone(),
    };
    let ingest = IngestWorker {
        config,
        templates,
        store,
        maildir,
        clock,
        wake: wake.clone(),
    };

    let delivering = tokio::spawn(deliver_loop(
        delivery,
        once,
        cancel.clone(),
        wake.clone(),
        ingest_finished.clone(),
    ));
    let ingested = ingest_loop(ingest, once, poll_interval, cancel.clone()).await;
    ingest_finished.store(true, Ordering::SeqCst);
    wake.notify_one();
    if ingested.is_err() {
        cancel.cancel();
    }
    let (sent, send_failures) = delivering.await??;
    let mut totals = ingested?;
    totals.sent = sent;
    totals.send_failures = send_failures;
    tracing::info!("disclosed stopped");
    Ok(totals)
}

async fn ingest_loop(
    worker: IngestWorker,
    once: bool,
    poll_interval: Duration,
    cancel: CancellationToken,
) -> Result<Totals, DaemonError> {
    let mut totals = Totals::default();
    let mut worker = Some(worker);
    while let Some(w) = worker.take() {
        let token = cancel.clone();
        let (w, result) = tokio::task::spawn_blocking(move || {
            let result = w.cycle(&token);
            (w, result)
        })
        .await?;
        worker = Some(w);
        match result {
            Ok(cycle) => {
                if cycle.stored + cycle.already_stored > 0 {
                    tracing::info!(
                        stored = cycle.stored,
                        duplicates = cycle.already_stored,
                        reports = cycle.reports_opened,
                        acknowledgements = cycle.acknowledgements,
                        "ingested"
                    );
                }
                totals.stored += cycle.stored;
                totals.already_stored += cycle.already_stored;
                totals.reports_opened += cycle.reports_opened;
                totals.acknowledgements += cycle.acknowledgements;
                totals.failed += cycle.failed;
            }
            // In the service a failed cycle is retried at the next poll; nothing
            // was marked processed that is not committed.
            Err(err) if !once => tracing::error!(error = %err, "ingest failed; retrying"),
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
    Ok(totals)
}

/// Sends due mail whenever woken, and at least every [`DELIVERY_POLL`]. With
/// `once` it stops when ingest has finished and nothing is left that is due.
async fn deliver_loop(
    worker: DeliveryWorker,
    once: bool,
    cancel: CancellationToken,
    wake: Arc<Notify>,
    ingest_finished: Arc<AtomicBool>,
) -> Result<(u64, u64), DaemonError> {
    let (mut sent, mut failures) = (0u64, 0u64);
    let mut worker = Some(worker);
    while let Some(mut w) = worker.take() {
        // Read the flag before the pass: a pass that starts after ingest
        // finished has seen every row ingest committed.
        let finished = ingest_finished.load(Ordering::SeqCst);
        let (w, result) = tokio::task::spawn_blocking(move || {
            let result = w.pass();
            (w, result)
        })
        .await?;
        worker = Some(w);
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
            }
            Err(err) if !once => tracing::error!(error = %err, "delivery failed; retrying"),
            Err(err) => return Err(err),
        }
        if (once && finished) || cancel.is_cancelled() {
            break;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(DELIVERY_POLL), if !once => {}
            () = cancel.cancelled() => break,
        }
    }
    Ok((sent, failures))
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
