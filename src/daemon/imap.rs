//! IMAP → store. One connection; a cycle on start, after every IDLE wake-up (or
//! every `poll_interval` without IDLE). Each cycle:
//!
//! 1. SELECT; compare UIDVALIDITY with the stored cursor (a change re-scans from
//!    UID 1; content hashes keep out duplicates);
//! 2. mark processed what an earlier run stored but could not mark;
//! 3. list UIDs above the cursor with their sizes; fetch them in batches bounded
//!    by count and bytes (headers only above the size limit);
//! 4. commit each batch with the advanced cursor in one transaction, then flag or
//!    move it on the server.
//!
//! A failure anywhere drops the connection; nothing uncommitted was marked, so
//! the next connection picks up where the store says. Connection failures are
//! retried with capped, jittered backoff; each change of state is logged once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::maildir::{BATCH_BYTES, BATCH_MESSAGES, BatchBudget};
use super::{DaemonError, Settings, Shared, Totals};
use crate::config::{ImapConfig, SourceConfig};
use crate::ingest::{Pipeline, prepare};
use crate::net::Backoff;
use crate::source::imap::{Connection, IDLE_RENEW, ImapError, Wake};
use crate::source::{ImapSource, Incoming};
use crate::store::{Cursor, StoreError};

/// First reconnect delay, and the cap (also the retry interval after a
/// permanent error such as a refused login, which a reload or a fix on the
/// server may cure).
const RECONNECT_INITIAL: Duration = Duration::from_secs(1);
pub(super) const RECONNECT_MAX: Duration = Duration::from_secs(300);

fn imap_config(settings: &Settings) -> ImapConfig {
    match &settings.config.source {
        SourceConfig::Imap(i) => i.clone(),
        SourceConfig::Maildir { .. } => unreachable!("the source kind cannot change while running"),
    }
}

/// Logs connection state changes once, not every attempt.
#[derive(Default)]
struct StateLog {
    last: Option<String>,
}

impl StateLog {
    fn connected(&mut self, server: &str, conn: &Connection) {
        let f = conn.features();
        if self.last.is_some() {
            tracing::info!(server, "IMAP connection restored");
        } else {
            tracing::info!(
                server,
                idle = f.idle,
                r#move = f.moves,
                "connected to IMAP server"
            );
        }
        self.last = None;
    }

    fn failed(&mut self, err: &ImapError, retry_in: Duration) {
        // The same kind of failure again is not news.
        let kind = std::mem::discriminant(err);
        let key = format!("{kind:?}");
        if self.last.as_deref() == Some(key.as_str()) {
            tracing::debug!(error = %err, retry_in = ?retry_in, "IMAP still failing");
            return;
        }
        if err.is_permanent() {
            tracing::error!(error = %err, retry_in = ?retry_in, "IMAP source stopped; fix the configuration (SIGHUP reloads it)");
        } else {
            tracing::warn!(error = %err, retry_in = ?retry_in, "IMAP connection failed; retrying with backoff");
        }
        self.last = Some(key);
    }
}

pub(super) async fn ingest_loop(
    shared: Shared,
    once: bool,
    cancel: CancellationToken,
) -> Result<Totals, DaemonError> {
    let mut worker = Worker {
        settings_rx: shared.settings.clone(),
        shared,
        once,
        cancel,
        totals: Totals::default(),
    };
    worker.run().await?;
    Ok(worker.totals)
}

/// How work on one connection ended.
enum Ended {
    Stop,
    /// The configuration was reloaded: connect again with it.
    Reconnect,
    Failed(ImapError),
}

struct Worker {
    shared: Shared,
    settings_rx: watch::Receiver<Arc<Settings>>,
    once: bool,
    cancel: CancellationToken,
    totals: Totals,
}

impl Worker {
    /// Connects, works until the connection fails, and connects again after a
    /// backoff (the cap after a permanent error), until cancelled. With
    /// `once`, any connection failure is returned.
    async fn run(&mut self) -> Result<(), DaemonError> {
        let mut backoff = Backoff::new(RECONNECT_INITIAL, RECONNECT_MAX);
        let mut log = StateLog::default();
        self.shared.telemetry.imap_connected(false);
        while !self.cancel.is_cancelled() {
            let settings = self.settings_rx.borrow_and_update().clone();
            let config = imap_config(&settings);
            let opened = match ImapSource::new(config.clone()) {
                Ok(source) => open(&source).await.map(|conn| (source, conn)),
                Err(err) => Err(err),
            };
            self.shared.readiness.source_started();
            self.shared.telemetry.source_alive(self.shared.clock.now());
            let err = match opened {
                Ok((source, conn)) => {
                    self.shared.telemetry.imap_connected(true);
                    self.shared.health.succeeded();
                    log.connected(&config.server.to_string(), &conn);
                    backoff.reset();
                    match self.session(&settings, &source, conn).await? {
                        Ended::Stop => break,
                        Ended::Reconnect => continue,
                        Ended::Failed(err) => err,
                    }
                }
                Err(err) => err,
            };
            self.shared.telemetry.imap_connected(false);
            self.shared.health.failed(self.shared.clock.now());
            if self.once {
                return Err(err.into());
            }
            let delay = if err.is_permanent() {
                RECONNECT_MAX
            } else {
                backoff.next_delay()
            };
            log.failed(&err, delay);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.cancel.cancelled() => break,
                _ = self.settings_rx.changed() => backoff.reset(),
            }
        }
        Ok(())
    }

    /// Cycles on one connection: at once, then after every IDLE wake-up or
    /// `poll_interval`.
    async fn session(
        &mut self,
        settings: &Arc<Settings>,
        source: &ImapSource,
        mut conn: Connection,
    ) -> Result<Ended, DaemonError> {
        let config = source.config();
        loop {
            match cycle(&self.shared, settings, source, &mut conn, &self.cancel).await {
                Ok(done) => {
                    self.shared.telemetry.polled(self.shared.clock.now());
                    self.shared.health.succeeded();
                    done.log_ingested();
                    self.totals.add(&done);
                }
                Err(CycleError::Imap(err)) => return Ok(Ended::Failed(err)),
                Err(CycleError::Store(err)) if self.once => return Err(err.into()),
                Err(CycleError::Store(err)) => {
                    // The store may recover (disk space freed); the server is fine.
                    self.shared.telemetry.source_alive(self.shared.clock.now());
                    tracing::error!(error = %err, "cannot store fetched mail; it stays on the server");
                    self.totals.failed += 1;
                }
            }
            if self.once || self.cancel.is_cancelled() {
                conn.logout().await;
                return Ok(Ended::Stop);
            }
            let reload = async {
                let _ = self.settings_rx.changed().await;
            };
            let wake = if conn.features().idle && config.idle {
                // Stopping or reloading ends the IDLE politely (DONE), so the
                // session can log out cleanly.
                let stop = self.cancel.child_token();
                let idle = conn.idle(IDLE_RENEW, &stop);
                tokio::pin!(idle);
                let outcome = tokio::select! {
                    r = &mut idle => r,
                    () = reload => { stop.cancel(); idle.await }
                };
                match outcome {
                    Ok(wake) => wake,
                    Err(err) => return Ok(Ended::Failed(err)),
                }
            } else {
                tokio::select! {
                    () = tokio::time::sleep(config.poll_interval) => Wake::Timeout,
                    () = self.cancel.cancelled() => Wake::Cancelled,
                    () = reload => Wake::Cancelled,
                }
            };
            if wake == Wake::Cancelled {
                conn.logout().await;
                return Ok(if self.cancel.is_cancelled() {
                    Ended::Stop
                } else {
                    Ended::Reconnect
                });
            }
        }
    }
}

/// Connects, logs in, selects the mailbox and prepares the processed mailbox.
async fn open(source: &ImapSource) -> Result<Connection, ImapError> {
    let mut conn = source.connect().await?;
    conn.select().await?;
    conn.ensure_processed_mailbox().await?;
    Ok(conn)
}

enum CycleError {
    Imap(ImapError),
    Store(StoreError),
}

impl From<ImapError> for CycleError {
    fn from(err: ImapError) -> Self {
        Self::Imap(err)
    }
}

impl From<StoreError> for CycleError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<tokio::task::JoinError> for CycleError {
    fn from(err: tokio::task::JoinError) -> Self {
        // A panic while storing: treat like a store failure, nothing was marked.
        Self::Store(StoreError::Corrupt {
            what: "ingest worker",
            detail: err.to_string(),
        })
    }
}

async fn cycle(
    shared: &Shared,
    settings: &Arc<Settings>,
    source: &ImapSource,
    conn: &mut Connection,
    cancel: &CancellationToken,
) -> Result<Totals, CycleError> {
    let mut totals = Totals::default();
    let state = conn.select().await?;
    let source_name = source.source_name();
    let mailbox = source.config().mailbox.clone();
    let cursor = {
        let store = shared.store.clone();
        let (name, mailbox) = (source_name.clone(), mailbox.clone());
        tokio::task::spawn_blocking(move || {
            crate::store::lock(&store).read().cursor(&name, &mailbox)
        })
        .await??
    };
    let mut last = match cursor {
        Some(c) if c.uidvalidity == Some(state.uidvalidity) => c.last_uid.unwrap_or(0),
        Some(c) => {
            tracing::warn!(
                mailbox = %mailbox,
                old = ?c.uidvalidity,
                new = state.uidvalidity,
                "UIDVALIDITY changed; scanning the mailbox again (stored messages are recognised by content)"
            );
            0
        }
        None => 0,
    };
    let leftovers = conn.unmarked_up_to(last).await?;
    if !leftovers.is_empty() {
        tracing::info!(
            messages = leftovers.len(),
            "marking mail stored earlier as processed"
        );
        conn.mark_processed(&leftovers).await?;
    }
    let listed = conn.list_after(last).await?;
    let limits = settings.config.limits;
    let mut rest = listed.as_slice();
    // One batch is stored while the next is fetched: the store and the server
    // work at the same time, and at most two batches are in memory.
    let mut storing: Option<tokio::task::JoinHandle<StoredBatch>> = None;
    loop {
        let next = if rest.is_empty() || cancel.is_cancelled() {
            None
        } else {
            let (batch, tail) = rest.split_at(batch_len(rest, limits.max_message_size));
            rest = tail;
            match fetch_batch(conn, batch, limits.max_message_size).await {
                Ok(fetched) => Some(fetched),
                Err(err) => {
                    // Let the batch being stored finish; it is marked next time.
                    if let Some(handle) = storing.take() {
                        let _ = handle.await;
                    }
                    return Err(err.into());
                }
            }
        };
        if let Some(handle) = storing.take() {
            let (committed, failures) = handle.await??;
            shared.wake.notify_one();
            for (uid, err) in &failures {
                tracing::error!(uid, error = %err, "cannot store message; it stays on the server");
            }
            totals.add(&committed.totals);
            conn.mark_processed(&committed.uids).await?;
            if let Some(uid) = committed.cursor {
                last = uid;
            }
            if !failures.is_empty() {
                // The cursor stops before the first failure; the next cycle
                // retries from there (the batch fetched meanwhile included).
                break;
            }
        }
        let Some(fetched) = next else {
            break;
        };
        let shared = shared.clone();
        let settings = settings.clone();
        let (name, mailbox) = (source_name.clone(), mailbox.clone());
        let uidvalidity = state.uidvalidity;
        storing = Some(tokio::task::spawn_blocking(move || {
            store_batch(&shared, &settings, &name, &mailbox, uidvalidity, fetched)
        }));
    }
    tracing::trace!(last, "cycle done");
    Ok(totals)
}

type StoredBatch = Result<(Committed, Vec<(u32, StoreError)>), StoreError>;

/// How many of `rest` go into the next batch: bounded by count and bytes, but
/// never none (one message alone may be up to the size limit).
fn batch_len(rest: &[UidSize], max_message_size: u64) -> usize {
    let mut take = 0;
    let mut bytes = 0u64;
    while take < rest.len() && take < BATCH_MESSAGES {
        let size = u64::from(rest[take].1).min(max_message_size);
        if take > 0 && bytes + size > BATCH_BYTES {
            break;
        }
        bytes += size;
        take += 1;
    }
    take
}

/// Fetches a batch in UID order: whole messages, and only the header block of
/// those above the size limit.
async fn fetch_batch(
    conn: &mut Connection,
    batch: &[UidSize],
    max_message_size: u64,
) -> Result<Vec<(u32, Incoming)>, ImapError> {
    let (whole, heads): (Vec<UidSize>, Vec<UidSize>) = batch
        .iter()
        .partition(|&&(_, size)| u64::from(size) <= max_message_size);
    let mut fetched: Vec<(u32, Incoming)> = Vec::with_capacity(batch.len());
    let uids: Vec<u32> = whole.iter().map(|(u, _)| *u).collect();
    fetched.extend(uids.iter().copied().zip(conn.fetch(&uids).await?));
    let head_uids = heads.iter().map(|(u, _)| *u);
    fetched.extend(head_uids.zip(conn.fetch_heads(&heads).await?));
    // Threading wants arrival order.
    fetched.sort_by_key(|(uid, _)| *uid);
    Ok(fetched)
}

/// A message's UID and its RFC822.SIZE.
type UidSize = (u32, u32);

struct Committed {
    uids: Vec<u32>,
    totals: Totals,
    /// The cursor now stored, if it moved.
    cursor: Option<u32>,
}

/// Parses and stores one batch, advancing the cursor in the same transaction.
/// Blocking. The batch is fetched by the sizes the server reports; once
/// opened, its messages may hold far more (decrypted, decompressed), so it is
/// stored in parts that each stay within the batch budget. A failure stops
/// after the part it is in: the cursor stays before it, and the rest is
/// fetched again next cycle.
fn store_batch(
    shared: &Shared,
    settings: &Settings,
    source: &str,
    mailbox: &str,
    uidvalidity: u32,
    fetched: Vec<(u32, Incoming)>,
) -> Result<(Committed, Vec<(u32, StoreError)>), StoreError> {
    let limits = settings.config.limits;
    let mut committed = Committed {
        uids: Vec::with_capacity(fetched.len()),
        totals: Totals::default(),
        cursor: None,
    };
    let mut failures = Vec::new();
    let mut fetched = fetched.into_iter();
    loop {
        let mut budget = BatchBudget::default();
        let mut part = Vec::new();
        while !budget.full()
            && let Some((uid, incoming)) = fetched.next()
        {
            let opened_at = shared.clock.now();
            let message = prepare(incoming, &limits, &settings.crypto, opened_at);
            budget.add(&message);
            part.push((uid, message));
        }
        if part.is_empty() {
            break;
        }
        let place = Place {
            source,
            mailbox,
            uidvalidity,
        };
        store_part(shared, settings, place, part, &mut committed, &mut failures)?;
        if !failures.is_empty() {
            break;
        }
    }
    Ok((committed, failures))
}

/// Where a batch's cursor is kept.
#[derive(Clone, Copy)]
struct Place<'a> {
    source: &'a str,
    mailbox: &'a str,
    uidvalidity: u32,
}

/// Stores one part of a batch, advancing the cursor in the same transaction.
fn store_part(
    shared: &Shared,
    settings: &Settings,
    place: Place<'_>,
    part: Vec<(u32, crate::ingest::Prepared)>,
    committed: &mut Committed,
    failures: &mut Vec<(u32, StoreError)>,
) -> Result<(), StoreError> {
    let Place {
        source,
        mailbox,
        uidvalidity,
    } = place;
    let (uids, prepared): (Vec<u32>, Vec<_>) = part.into_iter().unzip();
    let pipeline = Pipeline {
        config: &settings.config,
        rules: &settings.rules,
        templates: &settings.templates,
        crypto: &settings.crypto,
    };
    let now = shared.clock.now();
    let cursor_at = |last: u32| Cursor {
        uidvalidity: Some(uidvalidity),
        last_uid: Some(last),
        updated_at: now,
    };
    let max_uid = uids.last().copied();
    let (results, cursor_written) =
        pipeline.ingest_then(&shared.store, source, &prepared, now, |tx| match max_uid {
            Some(uid) => tx.set_cursor(source, mailbox, &cursor_at(uid)),
            None => Ok(()),
        });
    let mut prefix_end = None;
    for (uid, result) in uids.iter().copied().zip(results) {
        if committed.totals.tally(&result) {
            committed.uids.push(uid);
            if failures.is_empty() {
                prefix_end = Some(uid);
            }
        } else if let Err(err) = result {
            failures.push((uid, err));
        }
    }
    if cursor_written {
        committed.cursor = max_uid;
    } else if let Some(uid) = prefix_end {
        // Stored message by message: move the cursor over what is contiguous.
        crate::store::lock(&shared.store)
            .write(|w| w.tx().set_cursor(source, mailbox, &cursor_at(uid)))?;
        committed.cursor = Some(uid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_bounded_by_count_and_bytes_but_never_empty() {
        let small: Vec<UidSize> = (1..=2000).map(|u| (u, 3000)).collect();
        assert_eq!(batch_len(&small, 64 << 20), BATCH_MESSAGES);
        let large: Vec<UidSize> = (1..=10).map(|u| (u, 3 << 20)).collect();
        assert_eq!(batch_len(&large, 64 << 20), 2);
        // Above the limit only the header block is fetched: it counts as the limit.
        let huge = [(1, u32::MAX), (2, 1000)];
        assert_eq!(batch_len(&huge, 1 << 20), 2);
        assert_eq!(batch_len(&[(1, u32::MAX)], 64 << 20), 1);
        assert_eq!(batch_len(&[], 64 << 20), 0);
    }
}
