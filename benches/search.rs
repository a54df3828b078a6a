//! Search benchmark: `disclosed search` latency over a store of many reports
//! with realistic text, for a few query shapes, and the index's size. Not a
//! timed test: it prints figures and verdicts against the target, and exits
//! non-zero only if a search finds nothing that it must find.
//!
//! `DISCLOSED_BENCH_REPORTS=1000 cargo bench --bench search` for a quick run;
//! `cargo test --bench search` runs it unoptimised.

mod common;

use std::process::ExitCode;
use std::time::Instant;

use disclosed::report::ReportId;
use disclosed::store::{
    NewMessage, OpenMode, SearchFilter, SearchQuery, Store, StoreError, ThreadedBy,
};

use common::{at, percentile, report_count};

/// The p95 a search must stay under.
const TARGET_P95_MS: f64 = 50.0;

/// Runs of each query shape.
const RUNS: usize = 60;

/// Words of vulnerability reports, most frequent first (drawn Zipf-like).
const WORDS: &str = "the a to of and in is this that it for on with you be as can an by \
    request server user page when not if parameter application version response \
    endpoint attacker login token session file upload admin account password api \
    value header cookie input script html url redirect access data browser \
    vulnerability issue report found allows code execution remote injection query \
    sql database payload exploit proof concept steps reproduce impact affected \
    authentication authorization bypass privilege escalation cross site scripting \
    forgery csrf xss ssrf internal network metadata cloud bucket permission \
    configuration default debug mode exposed leak information disclosure stack trace \
    error message timing attack race condition deserialization object java python \
    php node template rendering sandbox escape path traversal directory zip archive \
    symlink denial service memory corruption overflow buffer heap integer pointer \
    null dereference crash fuzzing sanitizer asan report kernel driver firmware \
    update signature verification certificate tls downgrade cipher hash collision \
    random predictable nonce replay jwt oauth saml sso email reset link host \
    poisoning cache smuggling proxy websocket graphql introspection rate limit \
    brute force enumeration mobile android ios intent webview deeplink plugin \
    extension dependency supply chain package registry typosquat docker container \
    kubernetes secret environment variable log injection clickjacking frame";

/// A xorshift generator: the same store every run, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Zipf-like: low indexes far more often.
    fn word<'w>(&mut self, words: &[&'w str]) -> &'w str {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        let i = (words.len() as f64).powf(u) as usize - 1;
        words[i.min(words.len() - 1)]
    }
}

fn text(rng: &mut Rng, words: &[&str], n: usize) -> String {
    let mut out = String::with_capacity(n * 8);
    for i in 0..n {
        out.push_str(rng.word(words));
        out.push(if i % 14 == 13 { '\n' } else { ' ' });
    }
    out
}

/// Stores `reports` reports of 1 to 4 messages of 80 to 900 words each;
/// every 50th is tagged `rce` with a CVE id. How many messages.
fn fill(store: &mut Store, reports: usize) -> Result<usize, StoreError> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut messages = 0;
    let per_batch = 250;
    for start in (0..reports).step_by(per_batch) {
        messages += store.write(|batch| {
            let tx = batch.tx();
            let mut n = 0;
            for r in start..(start + per_batch).min(reports) {
                let reporter = format!("researcher{}@example{}.net", r, r % 97);
                let subject = format!(
                    "{} {} in {} {}",
                    rng.word(&words[40..]),
                    rng.word(&words[40..]),
                    rng.word(&words[20..]),
                    rng.word(&words[20..])
                );
                let id: ReportId =
                    tx.create_report("SEC", 2026, &reporter, &subject, at(r as i64 * 60))?;
                tx.upsert_participant(&id, &reporter, Some("Rita Researcher"), "reporter", at(0))?;
                for m in 0..1 + rng.below(4) {
                    let length = 80 + rng.below(820);
                    let body = text(&mut rng, &words, length);
                    let raw = format!(
                        "From: Rita Researcher <{reporter}>\r\nTo: security@example.org\r\n\
                         Subject: {subject}\r\nMessage-ID: <{r}.{m}@example.net>\r\n\
                         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
                    );
                    let sha = disclosed::parse::sha256_hex(raw.as_bytes());
                    tx.insert_message(&NewMessage {
                        sha256: &sha,
                        raw: Some(raw.as_bytes()),
                        size: raw.len() as u64,
                        source: "bench",
                        location: "m",
                        message_id: None,
                        in_reply_to: None,
                        references: &[],
                        from_addr: Some(&reporter),
                        from_name: Some("Rita Researcher"),
                        to_addrs: &[],
                        subject: &subject,
                        date: None,
                        kind: "report",
                        report_id: Some(&id),
                        threaded_by: ThreadedBy::NewReport,
                        problems: &[],
                        received_at: at(r as i64 * 60),
                    })?;
                    n += 1;
                }
                if r % 50 == 0 {
                    tx.add_tags(&id, &["rce".to_owned()])?;
                    tx.set_cve(&id, &format!("CVE-2026-{:05}", r))?;
                }
            }
            Ok::<_, StoreError>(n)
        })?;
    }
    Ok(messages)
}

fn main() -> ExitCode {
    let reports = report_count(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.sqlite3");
    let mut store = Store::open(&path, OpenMode::Create).expect("store");
    let started = Instant::now();
    let messages = fill(&mut store, reports).expect("fill the store");
    let filled = started.elapsed();
    store.checkpoint().expect("checkpoint");
    let index = store.read().search_index_bytes().expect("index size");
    let db = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{reports} reports, {messages} messages stored and indexed in {:.1} s",
        filled.as_secs_f64()
    );
    println!(
        "database {:.1} MiB, of which the search index {:.1} MiB",
        db as f64 / 1048576.0,
        index as f64 / 1048576.0
    );

    let shapes = [
        ("one common word", "request"),
        ("one rare word", "typosquat"),
        ("two words", "upload admin"),
        ("phrase", "\"path traversal\""),
        ("prefix", "deserial*"),
        ("either word", "xss OR csrf"),
        ("field", "tag:rce"),
        ("id", "CVE-2026-00050"),
        ("exclusion", "injection -sql"),
    ];
    let mut worst: f64 = 0.0;
    let mut ok = true;
    println!(
        "{:<16} {:>8} {:>8} {:>8}  QUERY",
        "SHAPE", "LISTED", "p50 ms", "p95 ms"
    );
    for (confidential, label) in [(true, "local"), (false, "in clear")] {
        println!(
            "-- {label} (decrypted text {}searched, snippets {})",
            if confidential { "" } else { "not " },
            if confidential { "made" } else { "none" }
        );
        for (shape, text) in shapes {
            let query = SearchQuery::parse(text).expect("query");
            let filter = SearchFilter {
                state: None,
                limit: 20,
                confidential,
                snippets: confidential,
            };
            let mut times = Vec::with_capacity(RUNS);
            let mut total = 0;
            for _ in 0..RUNS {
                let t = Instant::now();
                let found = store.read().search(&query, &filter).expect("search");
                times.push(t.elapsed());
                total = found.hits.len();
            }
            times.sort();
            let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
            worst = worst.max(p95);
            println!("{shape:<16} {total:>8} {p50:>8.2} {p95:>8.2}  {text}");
            if total == 0 {
                ok = false;
            }
        }
    }
    println!(
        "worst p95 {worst:.2} ms (target < {TARGET_P95_MS} ms): {}",
        if worst < TARGET_P95_MS {
            "met"
        } else {
            "MISSED"
        }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        println!("a query shape found nothing");
        ExitCode::FAILURE
    }
}
