//! Metrics benchmark: how long one `/metrics` scrape takes over a large store
//! (the store's counts read in one snapshot, then the OpenMetrics text
//! rendered), as the daemon's listener does it minus the socket. Not a timed
//! test: it prints figures and a verdict against the target, and exits
//! non-zero only if the counts are wrong.
//!
//! `cargo bench --bench metrics` (10,000 reports; `DISCLOSED_BENCH_REPORTS=N`
//! for another count).

mod common;

use std::process::ExitCode;
use std::time::Instant;

use disclosed::metrics::{self, Snapshot, Telemetry};
use disclosed::report::ReportState;
use disclosed::store::{NewMail, NewMessage, NoticeKind, OpenMode, Store, StoreError, ThreadedBy};

use common::{at, percentile, report_count};

/// A scrape must stay far inside Prometheus's default 10 s timeout and never
/// hold the listener's connection long.
const TARGET_P95_MS: f64 = 100.0;

/// Scrapes timed.
const RUNS: usize = 200;

/// Message classes, in the proportion a busy inbox sees them.
const KINDS: [&str; 5] = ["report", "follow-up", "follow-up", "team", "bounce"];

/// States reports end up in.
const STATES: [ReportState; 4] = [
    ReportState::Acknowledged,
    ReportState::Triaged,
    ReportState::Fixed,
    ReportState::Disclosed,
];

/// What the fill put in, for checking the scrape.
#[derive(Default)]
struct Filled {
    messages: u64,
    queued: u64,
    escalations: u64,
}

/// Stores `reports` reports, each with 1 to 5 messages, two outbox rows
/// (one sent; every 100th report's second row still queued) and, for every
/// tenth, an escalated deadline.
fn fill(store: &mut Store, reports: usize) -> Result<Filled, StoreError> {
    let mut filled = Filled::default();
    let per_batch = 500;
    for start in (0..reports).step_by(per_batch) {
        let batch_filled = store.write(|batch| {
            let tx = batch.tx();
            let mut f = Filled::default();
            for r in start..(start + per_batch).min(reports) {
                let reporter = format!("researcher{r}@example.net");
                let t = at(r as i64 * 60);
                let id = tx.create_report("SEC", 2026, &reporter, "A report", t)?;
                tx.set_state(&id, STATES[r % STATES.len()], t)?;
                for (m, kind) in KINDS.iter().enumerate().take(1 + r % 5) {
                    let raw =
                        format!("Subject: A report\r\nMessage-ID: <{r}.{m}@x>\r\n\r\nText\r\n");
                    tx.insert_message(&NewMessage {
                        sha256: &disclosed::parse::sha256_hex(raw.as_bytes()),
                        raw: Some(raw.as_bytes()),
                        size: raw.len() as u64,
                        source: "bench",
                        location: "m",
                        message_id: None,
                        in_reply_to: None,
                        references: &[],
                        from_addr: Some(&reporter),
                        from_name: None,
                        to_addrs: &[],
                        subject: "A report",
                        date: None,
                        kind,
                        report_id: Some(&id),
                        threaded_by: ThreadedBy::NewReport,
                        problems: &[],
                        received_at: t,
                    })?;
                    f.messages += 1;
                }
                let recipients = vec![reporter.clone()];
                for k in 0..2 {
                    let row = tx.enqueue(
                        &NewMail {
                            report_id: Some(&id),
                            kind: "acknowledgement",
                            message_id: &format!("ack{r}.{k}@example.org"),
                            envelope_from: "security@example.org",
                            return_token: None,
                            recipients: &recipients,
                            rate_key: None,
                            raw: b"raw",
                            held: false,
                            team_lines: &[],
                        },
                        t,
                    )?;
                    if k == 0 || r % 100 != 0 {
                        tx.mark_sent(row, t)?;
                    } else {
                        f.queued += 1;
                    }
                }
                if r % 10 == 0 {
                    tx.record_notice(Some(&id), "triage", t, NoticeKind::Escalation, t)?;
                    f.escalations += 1;
                }
            }
            Ok::<_, StoreError>(f)
        })?;
        filled.messages += batch_filled.messages;
        filled.queued += batch_filled.queued;
        filled.escalations += batch_filled.escalations;
    }
    Ok(filled)
}

fn main() -> ExitCode {
    let reports = report_count(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("disclosed.sqlite3");
    let mut writer = Store::open(&path, OpenMode::Create).expect("store");
    let started = Instant::now();
    let filled = fill(&mut writer, reports).expect("fill");
    println!(
        "{reports} reports, {} messages, {} outbox rows stored in {:.1} s",
        filled.messages,
        reports * 2,
        started.elapsed().as_secs_f64()
    );
    drop(writer);

    // The listener reads through its own connection, as here.
    let mut reader = Store::open(&path, OpenMode::Existing).expect("reader");
    let telemetry = Telemetry::default();
    let now = at(reports as i64 * 60 + 3600);
    let mut scrape = || -> String {
        let store = reader
            .snapshot(|tx| tx.store_gauges())
            .expect("store gauges");
        metrics::render(&Snapshot {
            now,
            store,
            telemetry: &telemetry,
            team_key_expires: None,
        })
        .expect("render")
    };

    let text = scrape();
    let messages: f64 = ["report", "follow-up", "team", "bounce"]
        .iter()
        .filter_map(|class| {
            metrics::sample(
                &text,
                "disclosed_messages_ingested_total",
                &[("class", class)],
            )
        })
        .sum();
    let queued = metrics::sample(&text, "disclosed_outbox_queued", &[]);
    let breached = metrics::sample(
        &text,
        "disclosed_deadlines_breached_total",
        &[("deadline", "triage")],
    );
    let mut wrong = Vec::new();
    if messages != filled.messages as f64 {
        wrong.push(format!("messages {messages}, stored {}", filled.messages));
    }
    if queued != Some(filled.queued as f64) {
        wrong.push(format!("queued {queued:?}, stored {}", filled.queued));
    }
    if breached != Some(filled.escalations as f64) {
        wrong.push(format!(
            "breached {breached:?}, stored {}",
            filled.escalations
        ));
    }
    if !wrong.is_empty() {
        eprintln!(
            "metrics bench: the scrape disagrees with the store: {}",
            wrong.join("; ")
        );
        return ExitCode::FAILURE;
    }

    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        std::hint::black_box(scrape());
        times.push(t.elapsed());
    }
    times.sort();
    let p95 = percentile(&times, 0.95);
    println!(
        "scrape ({} bytes): p50 {:.2} ms, p95 {p95:.2} ms, max {:.2} ms over {RUNS} runs",
        text.len(),
        percentile(&times, 0.5),
        percentile(&times, 1.0),
    );
    println!(
        "target p95 < {TARGET_P95_MS:.0} ms: {}",
        if p95 < TARGET_P95_MS { "met" } else { "MISSED" }
    );
    ExitCode::SUCCESS
}
