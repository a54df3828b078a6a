//! `disclosed sla`, `sla tick` and `stats`: the deadlines as the store holds
//! them at a given time, and the tick that sends what is due.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use super::output::{out, outln};
use super::{CliError, load_crypto, open_existing, output, runtime};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::respond;
use crate::sla;
use crate::transport::Transport;

/// `sla [--now T] [--json]`: every open report with its pending deadlines.
pub fn list(config: &Config, now: Timestamp, as_json: bool) -> Result<(), CliError> {
    let store = open_existing(config)?;
    let reports = sla::survey(&store.read(), config, None, now).map_err(anyhow::Error::from)?;
    let cal = sla::calendar(config);
    if as_json {
        let mut views: Vec<sla::ReportView> = reports
            .iter()
            .filter(|r| r.record.state.is_open())
            .map(|r| r.view(&cal, now))
            .collect();
        let historical = store
            .read()
            .historical_breaches(None)
            .map_err(anyhow::Error::from)?;
        sla::mark_historical(&mut views, &historical);
        output::json(&serde_json::json!({ "now": now, "reports": views }));
    } else {
        out!("{}", sla::text::table(&reports, &cal, now));
    }
    Ok(())
}

/// `stats [--json]`.
pub fn stats(config: &Config, now: Timestamp, as_json: bool) -> Result<(), CliError> {
    let store = open_existing(config)?;
    let reports = sla::survey(&store.read(), config, None, now).map_err(anyhow::Error::from)?;
    let stats = sla::stats::compute(&reports);
    if as_json {
        output::json(&stats);
    } else {
        out!("{}", sla::text::stats(&stats));
    }
    Ok(())
}

/// How far ahead of the clock `sla tick --now` may act without `--force`: a
/// little, for a clock a few seconds behind the caller's.
pub const FUTURE_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_secs(5 * 60);

/// Why a real tick at `now` is refused at `clock`: a tick records every
/// notice it sends, so one run at a future time would send tomorrow's
/// reminder today and the real one would never go out.
pub fn refuse_future(now: Timestamp, clock: Timestamp) -> Option<String> {
    (now.duration_since(clock) > FUTURE_SLACK).then(|| {
        format!(
            "--now {now} is ahead of the clock ({clock}): a tick records what it sends, so the \
             real notices would never go out; see what it would send with `sla tick --dry-run \
             --now {now}`, or add --force to send and record them now"
        )
    })
}

/// `sla tick --dry-run [--now T] [--json]`: what a tick at `now` would queue,
/// read from one snapshot; nothing is recorded, queued or sent.
pub fn dry_run(config: &Config, now: Timestamp, as_json: bool) -> Result<(), CliError> {
    let crypto = load_crypto(config, now)?;
    let mut store = open_existing(config)?;
    let due = store
        .snapshot(|tx| sla::tick::survey_due(tx, config, &crypto, now))
        .map_err(anyhow::Error::from)?;
    let would = due.preview();
    if as_json {
        output::json(&serde_json::json!({ "now": now, "dry_run": true, "would_send": would }));
        return Ok(());
    }
    if would.is_empty() {
        outln!("nothing due at {now}; nothing sent or recorded");
        return Ok(());
    }
    outln!(
        "{:<16} {:<15} {:<12} {:<26} RECIPIENTS",
        "KIND",
        "REPORT",
        "DEADLINE",
        "DUE"
    );
    for w in &would {
        let due = match (w.due, w.day) {
            (_, Some(day)) => day.to_string(),
            (Some(due), None) => output::local(due, config),
            (None, None) => "-".to_owned(),
        };
        outln!(
            "{:<16} {:<15} {:<12} {:<26} {}",
            w.kind,
            w.report
                .as_ref()
                .map_or("-", crate::report::ReportId::as_str),
            w.deadline,
            due,
            match &w.error {
                Some(err) => format!("(cannot be composed: {err})"),
                None => w.recipients.join(", "),
            }
        );
    }
    outln!(
        "dry run: {} mail(s) would be queued; nothing sent or recorded",
        would.len()
    );
    Ok(())
}

/// `sla tick [--now T]`: queue the reminders, escalations and digest due at
/// `now`, then send the outbox.
pub fn tick(loaded: &crate::settings::Loaded, now: Timestamp) -> Result<(), CliError> {
    let config = &loaded.config;
    let crypto = load_crypto(config, now)?;
    let mut store = open_existing(config)?;
    let outcome = sla::tick(&mut store, config, &crypto, now).map_err(anyhow::Error::from)?;
    // The daemon or another `run --once` may be sending beside this: only the
    // rows this process claims go to its transport.
    let mut sender = respond::Sender::new(store.path(), "sla tick", Arc::new(SystemClock))
        .map_err(anyhow::Error::from)?;
    // The SMTP transport drives its client on the runtime from this thread.
    let runtime = runtime()?;
    let _entered = runtime.enter();
    let transport = Transport::from_config(&config.transport.kind, &config.program.address.domain)
        .map_err(|err| anyhow::anyhow!("cannot set up the transport: {err}"))?;
    let store = Mutex::new(store);
    let run = respond::deliver_due(
        &store,
        &transport,
        respond::deliver::Setup {
            config,
            templates: &loaded.templates,
            crypto: &crypto,
        },
        now,
        512,
        &mut sender,
    )
    .map_err(anyhow::Error::from)?;
    outln!(
        "queued {} reminder(s), {} escalation(s), {} digest(s){}; sent {} mail(s){}",
        outcome.reminders,
        outcome.escalations,
        outcome.digests,
        match outcome.disclosure_days {
            0 => String::new(),
            n => format!(", {n} disclosure-day advisory mail(s)"),
        },
        run.sent,
        if run.retrying + run.failed > 0 {
            format!(", {} delivery failure(s)", run.retrying + run.failed)
        } else {
            String::new()
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::refuse_future;

    #[test]
    fn a_tick_ahead_of_the_clock_is_refused_beyond_a_few_minutes() {
        let clock: Timestamp = "2027-01-04T09:00:00Z".parse().expect("time");
        let at = |secs| clock + SignedDuration::from_secs(secs);
        assert!(
            refuse_future(at(-86_400), clock).is_none(),
            "the past is allowed"
        );
        assert!(refuse_future(at(0), clock).is_none());
        assert!(
            refuse_future(at(300), clock).is_none(),
            "a clock a little off"
        );
        let refused = refuse_future(at(301), clock).expect("refused");
        assert!(
            refused.contains("--dry-run") && refused.contains("--force"),
            "{refused}"
        );
        assert!(refuse_future(at(86_400), clock).is_some());
    }
}
