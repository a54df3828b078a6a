//! What an operator repairs by hand: `outbox` (the mail queue as a list),
//! `outbox retry` (failed mail queued again), `messages --unattached` (mail
//! that joined no report) and `attach` (one of those put in a report).
//!
//! None of them sends mail: a retried row goes out with the daemon's (or
//! `run --once`'s) next pass, through the same claims as any other, so a
//! command run beside a daemon never sends a row twice.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::output::{self, outln};
use super::{CliError, open_existing};
use crate::audit::{Actor, Auth, EventKind};
use crate::config::Config;
use crate::report::ReportId;
use crate::store::{Attached, OutboxFilter, Recorder, Retried, StoreError};

/// Who ran a command, for the event log: `$USER`, else `operator`.
pub(super) fn operator() -> String {
    std::env::var("USER")
        .ok()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "operator".to_owned())
}

/// `outbox [--failed] [--json]`.
pub(super) fn list(
    config: &Config,
    failed: bool,
    as_json: bool,
    now: Timestamp,
) -> Result<(), CliError> {
    let store = open_existing(config)?;
    let filter = if failed {
        OutboxFilter::Failed
    } else {
        OutboxFilter::All
    };
    let rows = store
        .read()
        .outbox_rows(filter)
        .map_err(anyhow::Error::from)?;
    if as_json {
        output::json(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        outln!("{}", if failed { "no failed mail" } else { "no mail" });
        return Ok(());
    }
    outln!(
        "{:>6}  {:<15} {:<22} {:<30} {:<9} {:>3}  {:<10} {:>5}  ERROR",
        "ROW",
        "REPORT",
        "KIND",
        "TO",
        "STATUS",
        "TRY",
        "NEXT",
        "AGE"
    );
    for r in &rows {
        let next = if r.status == "queued" {
            if r.next_attempt_at <= now {
                "due".to_owned()
            } else {
                format!("in {}", age(r.next_attempt_at.duration_since(now)))
            }
        } else {
            "-".to_owned()
        };
        outln!(
            "{:>6}  {:<15} {:<22} {:<30} {:<9} {:>3}  {:<10} {:>5}  {}",
            r.id,
            r.report_id.as_ref().map_or("-", ReportId::as_str),
            r.kind,
            r.recipients.join(", "),
            r.status,
            r.attempts,
            next,
            age(now.duration_since(r.created_at)),
            r.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// A duration the way the list shows ages: `45s`, `12m`, `5h`, `3d`.
fn age(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// `outbox retry ROW|ID`: the row, or every failed row of the report, queued
/// again in one transaction.
pub(super) fn retry(config: &Config, target: &str, now: Timestamp) -> Result<(), CliError> {
    let mut store = open_existing(config)?;
    let rows: Vec<i64> = if let Ok(row) = target.parse::<i64>() {
        vec![row]
    } else if let Some(report) = ReportId::parse(&config.program.id_prefix, target) {
        if store
            .read()
            .report_record(&report)
            .map_err(anyhow::Error::from)?
            .is_none()
        {
            return Err(CliError::Other(anyhow::anyhow!("no report {report}")));
        }
        store
            .read()
            .outbox_ids_of(&report)
            .map_err(anyhow::Error::from)?
    } else {
        return Err(CliError::Usage(format!(
            "`{target}` is neither an outbox row number nor a report id like {}-2026-0042",
            config.program.id_prefix
        )));
    };
    let by = operator();
    let results = store
        .write(|batch| {
            let tx = batch.tx();
            let mut results = Vec::new();
            for id in &rows {
                let done = tx.retry_outbox_row(*id, now, now)?;
                if done == Retried::Queued
                    && let Some(row) = tx.outbox_row(*id)?
                {
                    Recorder {
                        report: row.report_id.as_ref(),
                        at: now,
                        actor: Actor::Named(&by),
                        auth: Auth::Local,
                        message: None,
                    }
                    .record(
                        &tx,
                        EventKind::OutboxRetried,
                        json!({ "row": id, "kind": row.kind, "recipients": row.recipients }),
                    )?;
                }
                results.push((*id, done));
            }
            Ok::<_, StoreError>(results)
        })
        .map_err(anyhow::Error::from)?;
    // For a report, only what was done or refused says anything; its sent
    // mail is the usual case, not news.
    let single = target.parse::<i64>().is_ok();
    let mut queued = 0;
    for (id, done) in &results {
        if *done == Retried::Queued {
            queued += 1;
        }
        if single || !matches!(done, Retried::AlreadySent | Retried::AlreadyQueued) {
            outln!("row {id}: {}", done.as_str());
        }
    }
    outln!("{queued} row(s) queued again; the daemon (or `run --once`) sends them");
    match (single, results.first()) {
        (true, Some((_, Retried::Missing))) => {
            Err(CliError::Other(anyhow::anyhow!("no outbox row {target}")))
        }
        (true, Some((_, done))) if *done != Retried::Queued => {
            Err(CliError::Usage(format!("row {target}: {}", done.as_str())))
        }
        (false, _) if queued == 0 => Err(CliError::Usage(format!(
            "{target}: no failed mail to queue again"
        ))),
        _ => Ok(()),
    }
}

/// `messages [--unattached] [--json]`.
pub(super) fn messages(config: &Config, unattached: bool, as_json: bool) -> Result<(), CliError> {
    let store = open_existing(config)?;
    if !unattached {
        let all = store.read().all_messages().map_err(anyhow::Error::from)?;
        if as_json {
            output::json(&all);
            return Ok(());
        }
        outln!("{:>6}  {:<15} {:<30} SUBJECT", "MSG", "REPORT", "FROM");
        for m in &all {
            outln!(
                "{:>6}  {:<15} {:<30} {}",
                m.id,
                m.report_id.as_ref().map_or("-", ReportId::as_str),
                m.from.as_deref().unwrap_or("-"),
                m.subject
            );
        }
        return Ok(());
    }
    let list = store
        .read()
        .unattached_messages()
        .map_err(anyhow::Error::from)?;
    if as_json {
        output::json(&list);
        return Ok(());
    }
    if list.is_empty() {
        outln!("no message outside the reports");
        return Ok(());
    }
    outln!(
        "{:>6}  {:<22} {:<30} {:<12} {:<40} PROBLEMS",
        "MSG",
        "RECEIVED",
        "FROM",
        "KIND",
        "SUBJECT"
    );
    for m in &list {
        outln!(
            "{:>6}  {:<22} {:<30} {:<12} {:<40} {}",
            m.id,
            output::local(m.received_at, config),
            m.from.as_deref().unwrap_or("-"),
            m.kind,
            m.subject,
            m.problems.join(",")
        );
    }
    outln!("\nattach one with `disclosed attach MSG ID`");
    Ok(())
}

/// `attach MSG ID`: a message in no report put in report `id`, logged as the
/// operator's doing. A message in a report already is never moved: moving one
/// would take it from a report the team may have answered from.
pub(super) fn attach(
    config: &Config,
    message: i64,
    id: &str,
    now: Timestamp,
) -> Result<(), CliError> {
    let Some(report) = ReportId::parse(&config.program.id_prefix, id) else {
        return Err(CliError::Usage(format!(
            "`{id}` is not a report id like {}-2026-0042",
            config.program.id_prefix
        )));
    };
    let mut store = open_existing(config)?;
    let by = operator();
    let done = store
        .write(|batch| {
            let tx = batch.tx();
            let done = tx.attach_message(message, &report)?;
            if done == Attached::Attached {
                Recorder {
                    report: Some(&report),
                    at: now,
                    actor: Actor::Named(&by),
                    auth: Auth::Local,
                    message: Some(message),
                }
                .record(
                    &tx,
                    EventKind::MessageAttached,
                    json!({ "message": message }),
                )?;
            }
            Ok::<_, StoreError>(done)
        })
        .map_err(anyhow::Error::from)?;
    match done {
        Attached::Attached => {
            outln!("attached message {message} to {report}; nothing was sent");
            Ok(())
        }
        Attached::AlreadyIn(other) => Err(CliError::Usage(format!(
            "message {message} is in {other} already; a message is never moved"
        ))),
        Attached::NoMessage => Err(CliError::Other(anyhow::anyhow!("no message {message}"))),
        Attached::NoReport => Err(CliError::Other(anyhow::anyhow!("no report {report}"))),
    }
}
