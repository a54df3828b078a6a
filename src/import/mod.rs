//! `disclosed import`: bring an existing inbox in. The readers ([`mbox`],
//! [`maildir`], [`imap`]) yield each message's bytes with the dates its
//! container knows; [`arrival`] chooses the time it is taken to have arrived;
//! [`Importer`] prepares each message at that time and hands batches to
//! [`crate::ingest::Pipeline::import`], which threads them like live mail and
//! sends nothing.

pub mod imap;
pub mod maildir;
pub mod mbox;

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::config::Limits;
use crate::ingest::{ImportOutcome, Imported, Pipeline, prepare};
use crate::parse::{ParseLimits, parse_headers_only};
use crate::report::ReportState;
use crate::source::{Incoming, Raw};
use crate::store::{Store, StoreError};

/// One message as a reader found it.
#[derive(Debug)]
pub struct Item {
    /// Where in the source, e.g. `inbox.mbox#12` or a Maildir file name.
    pub location: String,
    pub raw: Raw,
    /// When the container says it was delivered: the mbox `From ` line, the
    /// time in a Maildir file name, the IMAP INTERNALDATE.
    pub delivered: Option<Timestamp>,
    /// The file's modification time, when there is a file.
    pub file: Option<Timestamp>,
}

/// A message a reader could not yield, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub location: String,
    pub reason: String,
}

/// Mail dated before this is taken as a wrong date: no disclosure inbox
/// predates it.
pub fn earliest() -> Timestamp {
    Timestamp::from_second(631_152_000).unwrap_or(Timestamp::UNIX_EPOCH) // 1990-01-01
}

/// How far a sender's clock may run ahead of ours.
const CLOCK_AHEAD: SignedDuration = SignedDuration::from_hours(24);

/// When a message is taken to have arrived, and why, when that is not its
/// `Date:` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub at: Timestamp,
    pub note: Option<String>,
}

/// Chooses a message's arrival time: its `Date:` header, else the delivery
/// time its container recorded, else its file's time, else `now`. A time is
/// only taken when it is plausible: not before 1990, not more than a day
/// after `now`; and a `Date:` more than a day after the recorded delivery
/// cannot be when the mail was written. A `Date:` long before the delivery
/// is believed: a folder copied or appended to another server records the
/// copy's time as the delivery, and the mail's own date is the better word.
/// Whatever is not the `Date:` header is recorded with why.
pub fn arrival(
    header: Option<Timestamp>,
    delivered: Option<Timestamp>,
    file: Option<Timestamp>,
    now: Timestamp,
) -> Arrival {
    let shift = |t: Timestamp, by: SignedDuration| t.saturating_add(by).unwrap_or(t);
    let plausible = |t: Timestamp| t >= earliest() && t <= shift(now, CLOCK_AHEAD);
    let delivered = delivered.filter(|t| plausible(*t));
    let header_problem = match (header, delivered) {
        (None, _) => Some("no readable Date: header".to_owned()),
        (Some(h), _) if !plausible(h) => Some(format!("its Date: {h} is implausible")),
        (Some(h), Some(d)) if h > shift(d, CLOCK_AHEAD) => {
            Some(format!("its Date: {h} is after its delivery time {d}"))
        }
        (Some(_), _) => None,
    };
    let Some(problem) = header_problem else {
        let at = header.unwrap_or(now).min(now);
        return Arrival { at, note: None };
    };
    if let Some(d) = delivered {
        return Arrival {
            at: d.min(now),
            note: Some(format!("{problem}: the delivery time is used")),
        };
    }
    if let Some(f) = file.filter(|t| plausible(*t)) {
        return Arrival {
            at: f.min(now),
            note: Some(format!("{problem}: the file's time is used")),
        };
    }
    Arrival {
        at: now,
        note: Some(format!("{problem}: the time of the import is used")),
    }
}

/// What an import did, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Messages found in the source.
    pub read: u64,
    /// Stored now.
    pub imported: u64,
    /// Stored before (by an earlier import or the daemon).
    pub already_present: u64,
    pub reports_opened: u64,
    /// Imported messages that joined a report they did not open.
    pub follow_ups: u64,
    /// Imported messages that joined no report (e.g. unverified bounces).
    pub unattached: u64,
    /// Imported messages whose arrival is not their `Date:` header.
    pub dates_replaced: u64,
    /// Deadlines recorded as breached before import.
    pub historical_breaches: u64,
    /// Mails a stage would have queued and that were dropped (the import
    /// sends nothing).
    pub mail_not_sent: u64,
    pub failures: Vec<Failure>,
}

/// What an import needs beyond the pipeline.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The state imported reports start in.
    pub state: ReportState,
    /// Mail dated before this is never answered, by the import or later by
    /// the daemon.
    pub no_answer_before: Option<Timestamp>,
}

/// Messages per transaction, and the bytes they may hold together.
const BATCH_MESSAGES: usize = 200;
const BATCH_BYTES: usize = 32 << 20;

/// Runs an import: prepares each message at its arrival time and stores
/// them in batches.
pub struct Importer<'a> {
    pub pipeline: &'a Pipeline<'a>,
    pub store: &'a Mutex<Store>,
    /// The store's name for the source, e.g. `import:mbox:/srv/old.mbox`.
    pub source: &'a str,
    pub options: Options,
    /// The time of the import: deadlines past it are breached historically.
    pub now: Timestamp,
}

impl Importer<'_> {
    /// Records the run (its no-answer date binds the daemon from now on), then
    /// imports every item, calling `progress` after each batch with the
    /// number of messages read so far.
    pub fn run(
        &self,
        items: impl Iterator<Item = Result<Item, Failure>>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Summary, StoreError> {
        let o = self.options;
        crate::store::lock(self.store).write(|w| {
            w.tx()
                .record_import_run(self.source, o.state, o.no_answer_before, self.now)
                .map(|_| ())
        })?;
        let mut summary = Summary::default();
        let mut batch: Vec<Imported> = Vec::new();
        let mut bytes = 0;
        for item in items {
            summary.read += 1;
            let item = match item {
                Ok(item) => item,
                Err(failure) => {
                    summary.failures.push(failure);
                    continue;
                }
            };
            // Stored before (a second run): skipped before parsing and opening.
            if self.stored(&item.raw)? {
                summary.already_present += 1;
                continue;
            }
            let imported = self.prepare(item);
            bytes += imported.prepared.memory();
            batch.push(imported);
            if batch.len() >= BATCH_MESSAGES || bytes >= BATCH_BYTES {
                self.store_batch(&mut batch, &mut summary);
                bytes = 0;
                progress(summary.read);
            }
        }
        self.store_batch(&mut batch, &mut summary);
        progress(summary.read);
        Ok(summary)
    }

    /// Whether a message with these bytes is stored (the hash the store
    /// keeps, as [`prepare`] computes it).
    fn stored(&self, raw: &Raw) -> Result<bool, StoreError> {
        let sha256 = match raw {
            Raw::Loaded(bytes) => crate::parse::sha256_hex(bytes),
            Raw::TooLarge { sha256, .. } => sha256.clone(),
        };
        let store = crate::store::lock(self.store);
        Ok(store.read().message_by_hash(&sha256)?.is_some())
    }

    fn prepare(&self, item: Item) -> Imported {
        let config = self.pipeline.config;
        let limits: &Limits = &config.limits;
        let head: &[u8] = match &item.raw {
            Raw::Loaded(bytes) => bytes,
            Raw::TooLarge { head, .. } => head,
        };
        let header = parse_headers_only(head, &ParseLimits::from_config(limits)).date;
        let arrival = arrival(header, item.delivered, item.file, self.now);
        // Signatures are checked as of the arrival: a key that expired since
        // was valid when the mail came.
        let prepared = prepare(
            Incoming {
                location: item.location,
                raw: item.raw,
            },
            limits,
            self.pipeline.crypto,
            arrival.at,
        );
        Imported {
            prepared,
            arrival: arrival.at,
            date_note: arrival.note,
        }
    }

    fn store_batch(&self, batch: &mut Vec<Imported>, summary: &mut Summary) {
        if batch.is_empty() {
            return;
        }
        let done =
            self.pipeline
                .import(self.store, self.source, batch, self.options.state, self.now);
        summary.mail_not_sent += done.dropped;
        summary.historical_breaches += done.breaches as u64;
        for (m, result) in batch.iter().zip(done.results) {
            match result {
                Ok(ImportOutcome::AlreadyStored) => summary.already_present += 1,
                Ok(ImportOutcome::Stored { report, opened, .. }) => {
                    summary.imported += 1;
                    summary.dates_replaced += u64::from(m.date_note.is_some());
                    match (report, opened) {
                        (Some(_), true) => summary.reports_opened += 1,
                        (Some(_), false) => summary.follow_ups += 1,
                        (None, _) => summary.unattached += 1,
                    }
                }
                Err(err) => summary.failures.push(Failure {
                    location: m.prepared.location.clone(),
                    reason: err.to_string(),
                }),
            }
        }
        batch.clear();
    }
}

/// The modification time of `meta`'s file, if the system has one.
pub(crate) fn modified(meta: &std::fs::Metadata) -> Option<Timestamp> {
    let t = meta.modified().ok()?;
    Timestamp::try_from(t).ok()
}

#[cfg(test)]
mod tests;
