//! Ingesting an old inbox (`disclosed import`): each message goes through the
//! live stages (store, open, classify, thread) at its own arrival time, in a
//! transaction that sends nothing ([`crate::store::Batch::tx_sending_nothing`]),
//! and the plan keeps only what records ([`super::plan::imported`]). Imported
//! reports start in the state the operator names; the deadlines already past
//! when the batch commits are recorded as breached before import, in the same
//! transaction, so no SLA tick ever sees them unrecorded and escalates them.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::json;

use super::{Mode, Outcome, Pipeline, Prepared};
use crate::audit::{Actor, Auth, EventKind};
use crate::command::parse_block;
use crate::parse::ParsedMessage;
use crate::report::{ReportId, ReportState};
use crate::store::{NoticeKind, Recorder, Store, StoreError, Tx, lock};

/// The actor of what the import itself records (the starting state).
pub const IMPORT_ACTOR: &str = "import";

/// One message of an old inbox, prepared, with the time it is taken to have
/// arrived and why that is not its `Date:`, if it is not.
#[derive(Debug)]
pub struct Imported {
    pub prepared: Prepared,
    pub arrival: Timestamp,
    pub date_note: Option<String>,
}

/// What became of one imported message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Stored before: the same bytes, or the same Message-ID, sender and date.
    AlreadyStored,
    Stored {
        message: i64,
        report: Option<ReportId>,
        opened: bool,
    },
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct ImportBatch {
    pub results: Vec<Result<ImportOutcome, StoreError>>,
    /// Mails a stage would have queued and that were dropped instead.
    pub dropped: u64,
    /// Deadlines recorded as breached before import.
    pub breaches: usize,
}

impl Pipeline<'_> {
    /// Imports `batch` from `source` in one transaction; if that fails, each
    /// message in one of its own, so one bad message never stops the import.
    /// Imported reports start in `state`; deadlines past at `now` (the time
    /// of the import) are recorded as breached before import.
    pub fn import(
        &self,
        store: &Mutex<Store>,
        source: &str,
        batch: &[Imported],
        state: ReportState,
        now: Timestamp,
    ) -> ImportBatch {
        let mut store = lock(store);
        let dropped = Cell::new(0);
        let whole = store.write(|w| {
            let tx = w.tx_sending_nothing(&dropped);
            let results = batch
                .iter()
                .map(|m| self.import_one(&tx, source, m, state))
                .collect::<Result<Vec<_>, _>>()?;
            let breaches = self.mark_breaches(&tx, &results, now)?;
            Ok::<_, StoreError>((results, breaches))
        });
        match whole {
            Ok((results, breaches)) => ImportBatch {
                results: results.into_iter().map(Ok).collect(),
                dropped: dropped.get(),
                breaches,
            },
            Err(err) if batch.len() == 1 => ImportBatch {
                results: vec![Err(err)],
                ..ImportBatch::default()
            },
            Err(err) => {
                tracing::warn!(error = %err, messages = batch.len(), "import batch failed; storing its messages one by one");
                // What the failed attempt counted was rolled back with it.
                dropped.set(0);
                let mut out = ImportBatch::default();
                for m in batch {
                    let one = store.write(|w| {
                        let tx = w.tx_sending_nothing(&dropped);
                        let outcome = self.import_one(&tx, source, m, state)?;
                        let breaches =
                            self.mark_breaches(&tx, std::slice::from_ref(&outcome), now)?;
                        Ok::<_, StoreError>((outcome, breaches))
                    });
                    out.results.push(one.map(|(outcome, breaches)| {
                        out.breaches += breaches;
                        outcome
                    }));
                }
                out.dropped = dropped.get();
                out
            }
        }
    }

    fn import_one(
        &self,
        tx: &Tx<'_>,
        source: &str,
        m: &Imported,
        state: ReportState,
    ) -> Result<ImportOutcome, StoreError> {
        let parsed = &m.prepared.parsed;
        if let (Some(id), Some(from), Some(date)) =
            (&parsed.message_id, parsed.from.as_ref(), parsed.date)
            && tx.same_message_stored(id, &from.address, date)?
        {
            return Ok(ImportOutcome::AlreadyStored);
        }
        let mode = Mode::Imported {
            date_note: m.date_note.as_deref(),
        };
        let (message, report, opened) =
            match self.ingest_one(tx, source, &m.prepared, m.arrival, mode)? {
                Outcome::AlreadyStored => return Ok(ImportOutcome::AlreadyStored),
                Outcome::Stored {
                    message,
                    report,
                    opened,
                    ..
                } => (message, report, opened),
            };
        if opened
            && state != ReportState::New
            && let Some(id) = &report
            && tx
                .report_record(id)?
                .is_some_and(|r| r.state == ReportState::New)
        {
            let rec = Recorder {
                report: Some(id),
                at: m.arrival,
                actor: Actor::Named(IMPORT_ACTOR),
                auth: Auth::Local,
                message: Some(message),
            };
            rec.change_state(
                tx,
                id,
                state,
                &format!("state: new → {state}"),
                Some("the state imported reports start in"),
            )?;
        }
        Ok(ImportOutcome::Stored {
            message,
            report,
            opened,
        })
    }

    /// Records each open report's deadlines that `results` touched and that
    /// are past due at `now` as breached before import, and as escalated, so
    /// the SLA tick never mails about them. Returns how many it recorded.
    fn mark_breaches(
        &self,
        tx: &Tx<'_>,
        results: &[ImportOutcome],
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let touched: BTreeSet<&ReportId> = results
            .iter()
            .filter_map(|r| match r {
                ImportOutcome::Stored {
                    report: Some(id), ..
                } => Some(id),
                _ => None,
            })
            .collect();
        let mut recorded = 0;
        for id in touched {
            for r in crate::sla::survey(tx, self.config, Some(id), now)? {
                if !r.record.state.is_open() {
                    continue;
                }
                for (deadline, due) in past_due(&r.deadlines) {
                    if !tx.record_historical_breach(id, deadline, due, now)? {
                        continue;
                    }
                    tx.record_notice(Some(id), deadline, due, NoticeKind::Escalation, now)?;
                    let rec = Recorder {
                        report: Some(id),
                        at: now,
                        actor: Actor::Named(IMPORT_ACTOR),
                        auth: Auth::Local,
                        message: None,
                    };
                    rec.record(
                        tx,
                        EventKind::BreachedBeforeImport,
                        json!({ "deadline": deadline, "due": due.to_string() }),
                    )?;
                    recorded += 1;
                }
            }
        }
        Ok(recorded)
    }
}

/// The deadlines that still ask something of the team and are past due: the
/// ones an import records as breached before it, by kind and due time.
pub fn past_due(deadlines: &[crate::sla::Deadline]) -> Vec<(&'static str, Timestamp)> {
    crate::sla::deadlines::pending(deadlines)
        .into_iter()
        .filter(|d| d.status == crate::sla::Status::Breached)
        .filter_map(|d| Some((d.kind.as_str(), d.due?)))
        .collect()
}

/// A member's imported mail: mail they sent the reporter counts as the
/// team's answer for the deadlines; commands in it are recorded as not
/// applied (the team acted on them back then, and replaying an old command
/// today could undo what happened since).
pub(super) fn team_mail(
    tx: &Tx<'_>,
    report: &ReportId,
    msg: &ParsedMessage,
    message: i64,
    now: Timestamp,
    prefix: &str,
) -> Result<(), StoreError> {
    let author = msg.from.as_ref().map_or("unknown", |m| m.address.as_str());
    let rec = Recorder {
        report: Some(report),
        at: now,
        actor: Actor::Named(author),
        auth: Auth::None,
        message: Some(message),
    };
    let mut to_reporter = Vec::new();
    for r in &msg.recipients {
        if tx.participant_role(report, &r.address)?.as_deref() == Some("reporter") {
            to_reporter.push(r.address.clone());
        }
    }
    if !to_reporter.is_empty() {
        rec.record(
            tx,
            EventKind::RelayedToReporter,
            json!({ "imported": true, "to": to_reporter }),
        )?;
    }
    let block = parse_block(&msg.text, prefix);
    if !block.entries.is_empty() {
        let lines: Vec<&str> = block.entries.iter().map(|e| e.line.as_str()).collect();
        rec.record(
            tx,
            EventKind::CommandsRefused,
            json!({ "reason": "imported: commands in old mail are recorded, not applied", "commands": lines }),
        )?;
    }
    Ok(())
}
