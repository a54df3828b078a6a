//! Maildir → store: a reader thread loads and parses the next batch while the
//! writer stores this one, and marks committed batches processed.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{DaemonError, Settings, Shared, Totals};
use crate::config::SourceConfig;
use crate::ingest::{Pipeline, Prepared, prepare};
use crate::source::{Maildir, Pending, SourceError};

/// At most this many messages, and about this many bytes, per transaction.
pub(super) const BATCH_MESSAGES: usize = 512;
pub(super) const BATCH_BYTES: u64 = 8 << 20;

/// What a batch holds so far against its budget: messages, and the bytes
/// they hold once prepared ([`Prepared::memory`]: decrypted and decompressed
/// content included, not only what arrived). The batch is closed as soon as
/// either passes its bound, so a message that inflates to many megabytes is
/// stored alone.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct BatchBudget {
    messages: usize,
    bytes: u64,
}

impl BatchBudget {
    pub(super) fn add(&mut self, message: &Prepared) {
        self.add_bytes(message.memory() as u64);
    }

    fn add_bytes(&mut self, bytes: u64) {
        self.messages += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }

    /// Whether no further message may join the batch.
    pub(super) fn full(&self) -> bool {
        self.messages >= BATCH_MESSAGES || self.bytes >= BATCH_BYTES
    }
}

/// A batch read from the source, ready to store.
#[derive(Debug, Default)]
struct LoadedBatch {
    pending: Vec<Pending>,
    prepared: Vec<Prepared>,
    /// Files that could not be read this time.
    unreadable: u64,
}

struct IngestWorker {
    shared: Shared,
    settings: Arc<Settings>,
    maildir: Maildir,
}

impl IngestWorker {
    /// Ingests everything pending, batch by batch. One batch is in flight at a
    /// time, so memory stays bounded.
    fn cycle(&self, cancel: &CancellationToken) -> Result<Totals, DaemonError> {
        let pending = self.maildir.pending()?;
        // The usual poll finds nothing: no reader thread for that.
        if pending.is_empty() {
            return Ok(Totals::default());
        }
        let maildir = &self.maildir;
        std::thread::scope(|scope| {
            // A rendezvous: the reader prepares the next batch while this one is
            // stored, then waits to hand it over, so at most two batches are
            // held (one stored, one prepared), not a third queued between.
            let (batches, received) = std::sync::mpsc::sync_channel(0);
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
        let limits = self.settings.config.limits;
        let mut loaded = LoadedBatch::default();
        let mut budget = BatchBudget::default();
        while let Some((p, tail)) = rest.split_first() {
            if budget.full() {
                break;
            }
            *rest = tail;
            match self.maildir.load(p, limits.max_message_size) {
                Ok(Some(incoming)) => {
                    let now = self.shared.clock.now();
                    let message = prepare(incoming, &limits, &self.settings.crypto, now);
                    budget.add(&message);
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
            config: &self.settings.config,
            rules: &self.settings.rules,
            templates: &self.settings.templates,
            crypto: &self.settings.crypto,
        };
        let mut totals = Totals::default();
        for loaded in received {
            totals.failed += loaded.unreadable;
            let (batch, prepared) = (loaded.pending, loaded.prepared);
            let started = std::time::Instant::now();
            let results = pipeline.ingest(
                &self.shared.store,
                &source,
                &prepared,
                self.shared.clock.now(),
            );
            self.shared.wake.notify_one();
            let mut done = Vec::with_capacity(batch.len());
            for ((p, message), result) in batch.into_iter().zip(&prepared).zip(results) {
                if totals.tally(&result) {
                    done.push(p);
                } else if let Err(err) = result {
                    tracing::error!(message = %message.location, error = %err, "cannot store message; it stays on the source");
                }
            }
            tracing::debug!(messages = done.len(), elapsed = ?started.elapsed(), "batch committed");
            // The reader outlives this loop, so the send cannot fail.
            let _ = committed.send(done);
        }
        Ok(totals)
    }
}

/// Scans the Maildir every `poll_interval` (and at once on start) until
/// cancelled; with `once`, a single scan.
pub(super) async fn ingest_loop(
    shared: Shared,
    once: bool,
    cancel: CancellationToken,
) -> Result<Totals, DaemonError> {
    let mut totals = Totals::default();
    let mut settings_rx = shared.settings.clone();
    let mut worker: Option<IngestWorker> = None;
    loop {
        let settings = settings_rx.borrow_and_update().clone();
        let SourceConfig::Maildir {
            path,
            poll_interval,
        } = &settings.config.source
        else {
            unreachable!("the source kind cannot change while running");
        };
        let poll_interval = *poll_interval;
        let w = match worker.take() {
            Some(w) if w.maildir.root() == path => IngestWorker { settings, ..w },
            _ => match Maildir::open(path) {
                Ok(maildir) => IngestWorker {
                    shared: shared.clone(),
                    settings,
                    maildir,
                },
                Err(err) if once => return Err(err.into()),
                Err(err) => {
                    tracing::error!(error = %err, "cannot open the Maildir; retrying");
                    shared.telemetry.source_alive(shared.clock.now());
                    shared.readiness.source_started();
                    tokio::select! {
                        () = tokio::time::sleep(poll_interval) => continue,
                        () = cancel.cancelled() => break,
                        _ = settings_rx.changed() => continue,
                    }
                }
            },
        };
        shared.readiness.source_started();
        let token = cancel.clone();
        let (w, result) = tokio::task::spawn_blocking(move || {
            let result = w.cycle(&token);
            (w, result)
        })
        .await?;
        worker = Some(w);
        match result {
            Ok(cycle) => {
                shared.telemetry.polled(shared.clock.now());
                cycle.log_ingested();
                totals.add(&cycle);
            }
            // In the service a failed cycle is retried at the next poll; nothing
            // was marked processed that is not committed.
            Err(err) if !once => {
                shared.telemetry.source_alive(shared.clock.now());
                tracing::error!(error = %err, "ingest failed; retrying");
            }
            Err(err) => return Err(err),
        }
        if once || cancel.is_cancelled() {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(poll_interval) => {}
            () = cancel.cancelled() => break,
            _ = settings_rx.changed() => {}
        }
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_closes_at_its_message_count_or_its_bytes() {
        let mut small = BatchBudget::default();
        for _ in 0..BATCH_MESSAGES - 1 {
            small.add_bytes(4 << 10);
        }
        assert!(!small.full());
        small.add_bytes(4 << 10);
        assert!(small.full());

        let mut big = BatchBudget::default();
        big.add_bytes(BATCH_BYTES - 1);
        assert!(!big.full());
        big.add_bytes(1);
        assert!(big.full());
    }

    #[test]
    fn a_message_that_inflates_to_the_limit_closes_its_batch() {
        // A few kilobytes each on the source, just under 64 MiB each once
        // opened: the first one closes the batch.
        let mut budget = BatchBudget::default();
        budget.add_bytes((64 << 20) - 1);
        assert!(budget.full());
        assert_eq!(budget.messages, 1);
    }
}
