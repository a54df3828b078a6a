//! SLA benchmark: how long the daemon's minute tick takes with many open
//! reports. Not a timed test: it prints figures and verdicts against the
//! targets, and exits non-zero only if the engine misbehaves (a notice sent
//! twice, or missing).
//!
//! `DISCLOSED_BENCH_REPORTS=1000 cargo bench --bench sla` for a quick run.

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

use disclosed::config::Config;
use disclosed::crypto::Crypto;
use disclosed::ingest::{self, Pipeline};
use disclosed::respond::Templates;
use disclosed::sla;
use disclosed::source::{Incoming, Raw};
use disclosed::store::{OpenMode, Store};

/// An idle tick (nothing due) must leave the minute almost wholly free.
const TARGET_IDLE_TICK_MS: f64 = 1000.0;

const CONFIG: &str = r#"[program]
name = "Bench"
address = "security@example.org"
id_prefix = "SEC"
timezone = "Europe/Berlin"
policy_url = "https://example.org/security"

[storage]
database = "disclosed.sqlite3"

[source]
kind = "maildir"
path = "maildir"

[transport]
kind = "file"
dir = "outbox"

[[team.members]]
name = "Alice"
email = "alice@example.org"

[sla]
holidays = ["2027-01-01"]
digest = "off"
"#;

fn main() -> ExitCode {
    let reports: usize = std::env::var("DISCLOSED_BENCH_REPORTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, CONFIG).expect("config");
    let config = Config::parse(CONFIG, &path).expect("config");
    let templates = Templates::load(None).expect("templates");
    let crypto = Crypto::default();
    let store = Mutex::new(
        Store::open(&dir.path().join("disclosed.sqlite3"), OpenMode::Create).expect("store"),
    );
    let pipeline = Pipeline {
        config: &config,
        rules: &Default::default(),
        templates: &templates,
        crypto: &crypto,
    };
    // Mon 4 Jan 2027 09:00 local, a second per batch of 500.
    let start: Timestamp = "2027-01-04T08:00:00Z".parse().expect("time");
    let opened = Instant::now();
    for chunk in (0..reports).collect::<Vec<_>>().chunks(500) {
        let prepared: Vec<_> = chunk
            .iter()
            .map(|n| {
                let raw = format!(
                    "From: r{n}@reporter.example\r\nTo: security@example.org\r\n\
                     Subject: Finding {n}\r\nMessage-ID: <f{n}@reporter.example>\r\n\r\nDetails {n}.\r\n"
                );
                ingest::prepare(
                    Incoming {
                        location: format!("m{n}"),
                        raw: Raw::Loaded(raw.into_bytes()),
                    },
                    &config.limits,
                    &crypto,
                    start,
                )
            })
            .collect();
        let at = start + SignedDuration::from_secs(chunk[0] as i64 / 500);
        for r in pipeline.ingest(&store, "bench", &prepared, at) {
            r.expect("stored");
        }
    }
    println!(
        "{reports} open reports stored in {:.1} s",
        opened.elapsed().as_secs_f64()
    );
    let mut store = store.into_inner().expect("store");
    let mut tick = |at: Timestamp| {
        let t = Instant::now();
        let outcome = sla::tick(&mut store, &config, &crypto, at).expect("tick");
        (t.elapsed().as_secs_f64() * 1000.0, outcome)
    };
    // The day before anything is due: nothing to send.
    let (idle_ms, idle) = tick("2027-01-05T12:00:00Z".parse().expect("time"));
    // Three business days later every acknowledgement is two days off: one
    // reminder per report.
    let (busy_ms, busy) = tick("2027-01-07T23:00:00Z".parse().expect("time"));
    let (again_ms, again) = tick("2027-01-07T23:01:00Z".parse().expect("time"));
    println!("idle tick:      {idle_ms:>9.1} ms  {idle:?}");
    println!("reminder tick:  {busy_ms:>9.1} ms  {busy:?}");
    println!("repeated tick:  {again_ms:>9.1} ms  {again:?}");
    let verdict = if idle_ms <= TARGET_IDLE_TICK_MS {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "target: an idle tick over {reports} open reports within {TARGET_IDLE_TICK_MS} ms: {verdict}"
    );
    let ok =
        idle.reminders == 0 && busy.reminders == reports && again == sla::TickOutcome::default();
    if ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("wrong notices: every report needs exactly one reminder");
        ExitCode::FAILURE
    }
}
