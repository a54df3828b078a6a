//! Publishing benchmark: how long rendering and writing the whole site takes
//! for many disclosed reports, and how large its pages are. Not a timed
//! test: it prints figures and a verdict against the target, and exits
//! non-zero only if publishing misbehaves (a second run rewrites a file).
//!
//! `cargo bench --bench publish` (1,000 reports; `DISCLOSED_BENCH_REPORTS=N`
//! for another count).

use std::process::ExitCode;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

use disclosed::audit::{Actor, Auth};
use disclosed::config::Config;
use disclosed::crypto::{TeamKeys, keys};
use disclosed::publish::{self, SiteTemplates, collect, pages, site};
use disclosed::report::{Affected, Credit, ReportState};
use disclosed::store::{OpenMode, Recorder, Store, StoreError};

/// Rendering and writing the whole site for 1,000 reports.
const TARGET_MS: f64 = 1000.0;

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

[publish]
base_url = "https://example.org/security"

[security_txt]
expires = "2027-06-30"
languages = ["en"]

[advisory]
vendor = "Bench Org"
product = "Bench Server"
cna_org_id = "b3476cb9-2e3d-41a6-98d0-0f47421a65b6"
cna_short_name = "bench"
csaf_namespace = "https://example.org"
"#;

fn main() -> ExitCode {
    let n: usize = std::env::var("DISCLOSED_BENCH_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    match run(n) {
        Ok(ok) => {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("bench publish: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(n: usize) -> Result<bool, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let config = Config::parse(CONFIG, &dir.path().join("config.toml"))?;
    let now: Timestamp = "2027-01-10T09:00:00Z".parse()?;
    let cert = keys::generate(
        "Bench <security@example.org>",
        now - SignedDuration::from_hours(24),
        None,
        None,
    )?;
    let team = TeamKeys::from_certs(vec![cert], now)?;
    let mut store = Store::open(&config.storage.database, OpenMode::Create)?;
    let base: Timestamp = "2025-01-01T08:00:00Z".parse()?;
    let seeded = Instant::now();
    store.write(|batch| {
        let tx = batch.tx();
        for i in 0..n {
            let opened = base + SignedDuration::from_mins(i as i64 * 487);
            let id =
                tx.create_report("SEC", 2025 + (i / 700) as i16, "r@x.example", "s", opened)?;
            let rec = |hours: i64| Recorder {
                report: Some(&id),
                at: opened + SignedDuration::from_hours(hours),
                actor: Actor::Named("alice@example.org"),
                auth: Auth::None,
                message: None,
            };
            // Half the people report twice.
            let person = i % (n / 2).max(1);
            tx.set_credit(
                &id,
                &Credit::Named {
                    name: format!("Researcher {person}"),
                    affiliation: person
                        .is_multiple_of(4)
                        .then(|| format!("Team {}", person % 7)),
                    key: None,
                    url: person
                        .is_multiple_of(3)
                        .then(|| format!("https://r{person}.example")),
                },
            )?;
            let fixed_in = format!("{}.{}.{}", 1 + i / 300, (i / 20) % 15, i % 20);
            tx.set_fixed_in(&id, &fixed_in)?;
            // What the team records for publication, so that every advisory
            // format is drafted: CVE, CVSS, CWE and the affected range.
            tx.set_cve(&id, &format!("CVE-1900-{:04}", 1000 + i))?;
            tx.set_cvss(
                &id,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                6.1,
                "medium",
            )?;
            tx.set_cwe(&id, Some("CWE-79"))?;
            tx.set_affects(
                &id,
                &[Affected {
                    product: "Bench Server".into(),
                    versions: format!("< {fixed_in}"),
                }],
            )?;
            rec(3).change_state(&tx, &id, ReportState::Accepted, "state", None)?;
            rec(24 * (2 + (i % 60) as i64)).change_state(
                &tx,
                &id,
                ReportState::Fixed,
                "state",
                None,
            )?;
            rec(24 * 90).change_state(&tx, &id, ReportState::Disclosed, "state", None)?;
        }
        Ok::<_, StoreError>(())
    })?;
    println!("seeded {n} disclosed reports in {:.0} ms", ms(seeded));

    let templates = SiteTemplates::builtin();
    let out = dir.path().join("site");

    let started = Instant::now();
    let input = store.snapshot(|tx| collect::site(tx, &config, Some(&team), now))?;
    let collected = ms(started);
    let files = pages::render_site(&templates, &input)?;
    let rendered = ms(started) - collected;
    let first = site::write_site(&out, &files)?;
    let total = ms(started);
    println!(
        "whole site: {total:.0} ms (read and sign {collected:.0} ms, render {rendered:.0} ms, write {:.0} ms); {} files",
        total - collected - rendered,
        first.written.len()
    );

    let again = Instant::now();
    let second = publish::publish(&store.read(), &config, Some(&team), &templates, &out, now)?;
    println!(
        "second run: {:.0} ms, {} written, {} unchanged",
        ms(again),
        second.written.len(),
        second.unchanged
    );

    let size = |path: &str| {
        files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.bytes.len())
            .unwrap_or(0)
    };
    for page in [
        "hall-of-fame.html",
        "security-updates.html",
        "statistics.html",
        ".well-known/security.txt",
        "pgp-key.txt",
    ] {
        println!("{page}: {} bytes", size(page));
    }
    let advisories: Vec<usize> = files
        .iter()
        .filter(|f| f.path.starts_with("advisories/"))
        .map(|f| f.bytes.len())
        .collect();
    let all: usize = files.iter().map(|f| f.bytes.len()).sum();
    println!(
        "advisories/: {} files, {} bytes (largest {}); site total {} bytes",
        advisories.len(),
        advisories.iter().sum::<usize>(),
        advisories.iter().max().copied().unwrap_or(0),
        all
    );
    let verdict = if total < TARGET_MS { "met" } else { "MISSED" };
    println!("target < {TARGET_MS:.0} ms for the whole site: {verdict}");
    Ok(second.written.is_empty())
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
