//! Ingest benchmark: how fast `disclosed run --once` drains a Maildir.
//!
//! This is not a timed test and has no pass/fail threshold on speed. For each
//! scenario it builds a fresh Maildir full of distinct vulnerability reports,
//! initialises a fresh database, then runs the real release binary once and
//! prints its wall-clock time and peak RSS, followed by verdicts against the
//! performance targets. It exits non-zero only when the binary misbehaves
//! (non-zero exit, mail left in `new/`, wrong number of acknowledgements).
//!
//! `DISCLOSED_BENCH_SCALE=0.1 cargo bench --bench ingest` scales every message
//! count down for a quick end-to-end check.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Built by cargo with the bench profile before this benchmark runs.
const BIN: &str = env!("CARGO_BIN_EXE_disclosed");

const TARGET_MSGS_PER_SEC: f64 = 5000.0;
const TARGET_PEAK_RSS_MIB: f64 = 64.0;
const TARGET_LINEARITY: f64 = 1.5;

/// Relative paths resolve against the directory holding this file, so every
/// scenario is fully contained in its own temp dir.
const CONFIG: &str = r#"[program]
name = "Bench"
address = "security@example.org"
id_prefix = "SEC"
timezone = "UTC"
policy_url = "https://example.org/security"

[storage]
database = "state/disclosed.sqlite3"

[source]
kind = "maildir"
path = "maildir"

[transport]
kind = "file"
dir = "outbox"

[sla]
acknowledge = "5 business days"

# Every reporter is acknowledged: far more than the default cap an hour.
[limits]
auto_replies_total = 1000000
"#;

/// Fixed so that runs are reproducible (it is 1700000000, matching the file names).
const DATE: &str = "Tue, 14 Nov 2023 22:13:20 +0000";

/// Size of the random attachment in a large message; base64 turns it into ~1 MB.
const ATTACHMENT_BYTES: usize = 750_000;

/// The text body is padded with paragraphs until it reaches this size; with
/// the last paragraph and the headers a small message ends up near 3 KB.
const BODY_BYTES: usize = 2300;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ~3 KB text/plain report.
    Small,
    /// ~1 MB multipart/mixed report with a base64 attachment.
    Large,
}

#[derive(Clone, Copy)]
struct Scenario {
    kind: Kind,
    count: usize,
}

impl Scenario {
    fn label(self) -> String {
        match self.kind {
            Kind::Small => format!("small-{}", self.count),
            Kind::Large => format!("large-{}", self.count),
        }
    }
}

struct Measurement {
    label: String,
    count: usize,
    elapsed: Duration,
    peak_rss_kib: u64,
}

impl Measurement {
    fn msgs_per_sec(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn per_message_us(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / self.count as f64
    }

    fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

fn main() -> ExitCode {
    let scale = match bench_scale() {
        Ok(scale) => scale,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let scaled = |count: usize| ((count as f64 * scale).round() as usize).max(1);
    let small_a = Scenario {
        kind: Kind::Small,
        count: scaled(1_000),
    };
    let small_b = Scenario {
        kind: Kind::Small,
        count: scaled(10_000),
    };
    let large = Scenario {
        kind: Kind::Large,
        count: scaled(200),
    };

    println!("disclosed ingest benchmark (binary: {BIN}, scale {scale})");
    let mut failed = false;
    // Scenario directories are removed only at the end: ext4 scans past inodes
    // freed in the last minutes when it allocates new ones, so deleting 10,000
    // files between scenarios would slow the next one's file creation.
    let mut keep = Vec::new();
    let mut run = |scenario: Scenario| match run_scenario(scenario, &mut keep) {
        Ok(m) => {
            println!(
                "{}: {} msgs in {:.3} s = {:.0} msg/s, per-message {:.1} µs, peak RSS {:.1} MiB",
                m.label,
                m.count,
                m.elapsed.as_secs_f64(),
                m.msgs_per_sec(),
                m.per_message_us(),
                m.peak_rss_mib(),
            );
            Some(m)
        }
        Err(message) => {
            println!("{}: FAILED: {message}", scenario.label());
            failed = true;
            None
        }
    };
    let small_a = run(small_a);
    let small_b = run(small_b);
    let large = run(large);

    // Per-message cost should stay flat as the store grows; a rising ratio
    // points at something that scans or re-reads earlier mail.
    let linearity = match (&small_a, &small_b) {
        (Some(a), Some(b)) => {
            let ratio = b.per_message_us() / a.per_message_us();
            println!(
                "linearity {}/{}: {ratio:.2}x (target <= {TARGET_LINEARITY}x)",
                b.count, a.count
            );
            Some((format!("{}/{}", b.count, a.count), ratio))
        }
        _ => None,
    };

    println!("verdicts:");
    if let Some(m) = &small_b {
        verdict(
            &format!("throughput {}", m.label),
            format!(
                "{:.0} msg/s (target >= {TARGET_MSGS_PER_SEC:.0})",
                m.msgs_per_sec()
            ),
            m.msgs_per_sec() >= TARGET_MSGS_PER_SEC,
        );
    }
    for m in [&small_b, &large].into_iter().flatten() {
        verdict(
            &format!("peak RSS {}", m.label),
            format!(
                "{:.1} MiB (target < {TARGET_PEAK_RSS_MIB} MiB)",
                m.peak_rss_mib()
            ),
            m.peak_rss_mib() < TARGET_PEAK_RSS_MIB,
        );
    }
    if let Some((counts, ratio)) = linearity {
        verdict(
            &format!("linearity {counts}"),
            format!("{ratio:.2}x (target <= {TARGET_LINEARITY}x)"),
            ratio <= TARGET_LINEARITY,
        );
    }
    if scale != 1.0 {
        println!(
            "  (scaled run: the targets are defined for scale 1.0, so these are indicative only)"
        );
    }

    if failed {
        println!("functional failure: see FAILED lines above");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn bench_scale() -> Result<f64, String> {
    match std::env::var("DISCLOSED_BENCH_SCALE") {
        Err(std::env::VarError::NotPresent) => Ok(1.0),
        Err(e) => Err(format!("DISCLOSED_BENCH_SCALE: {e}")),
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(scale) if scale.is_finite() && scale > 0.0 => Ok(scale),
            _ => Err(format!(
                "DISCLOSED_BENCH_SCALE must be a positive number, got {text:?}"
            )),
        },
    }
}

fn verdict(what: &str, figure: String, met: bool) {
    let word = if met { "PASS" } else { "MISS" };
    println!("  {word}  {what}: {figure}");
}

/// Runs one scenario in its own temp dir. On failure the dir is kept and its
/// path is part of the error, so the database, logs and outbox can be inspected.
fn run_scenario(
    scenario: Scenario,
    keep: &mut Vec<tempfile::TempDir>,
) -> Result<Measurement, String> {
    let label = scenario.label();
    // Beside the build rather than in /tmp: like /var/mail and /var/lib on a
    // server, and away from whatever else watches /tmp.
    let dir = tempfile::Builder::new()
        .prefix(&format!("disclosed-bench-{label}-"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .map_err(|e| format!("creating temp dir: {e}"))?;
    match measure(scenario, dir.path()) {
        Ok(m) => {
            keep.push(dir);
            Ok(m)
        }
        Err(message) => {
            let kept = dir.keep();
            Err(format!("{message}\n  (files kept in {})", kept.display()))
        }
    }
}

fn measure(scenario: Scenario, root: &Path) -> Result<Measurement, String> {
    let label = scenario.label();
    let maildir = root.join("maildir");
    for sub in ["new", "cur", "tmp"] {
        let path = maildir.join(sub);
        fs::create_dir_all(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    }
    let config = root.join("config.toml");
    fs::write(&config, CONFIG).map_err(|e| format!("writing {}: {e}", config.display()))?;

    eprintln!("{label}: generating {} messages", scenario.count);
    let new = maildir.join("new");
    let mut attachment = Vec::new();
    for i in 0..scenario.count {
        let message = match scenario.kind {
            Kind::Small => small_message(i),
            Kind::Large => large_message(i, &mut attachment),
        };
        // Unique per message and without a colon, as Maildir requires in new/.
        let path = new.join(format!("1700000000.M{i}P1.bench"));
        fs::write(&path, message).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }

    let init = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("init")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("starting {BIN} init: {e}"))?;
    if !init.status.success() {
        return Err(format!(
            "`disclosed init` failed ({})\n  stdout: {}\n  stderr: {}",
            init.status,
            String::from_utf8_lossy(&init.stdout).trim(),
            String::from_utf8_lossy(&init.stderr).trim(),
        ));
    }

    // Flush the generated mail and the new database to disk now, so that the
    // timed run does not pay for writing back our setup when it fsyncs.
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };

    // Logs go to files rather than pipes: nobody reads a pipe while we block
    // in wait4, so a chatty child would stall on a full pipe buffer.
    let stdout_log = root.join("run.stdout.log");
    let stderr_log = root.join("run.stderr.log");
    let stdout = fs::File::create(&stdout_log)
        .map_err(|e| format!("creating {}: {e}", stdout_log.display()))?;
    let stderr = fs::File::create(&stderr_log)
        .map_err(|e| format!("creating {}: {e}", stderr_log.display()))?;

    eprintln!("{label}: running `disclosed run --once`");
    let started = Instant::now();
    let child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .args(["run", "--once"])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("starting {BIN} run --once: {e}"))?;
    let (status, usage) = wait_with_rusage(child).map_err(|e| format!("wait4: {e}"))?;
    let elapsed = started.elapsed();

    if !status.success() {
        return Err(format!(
            "`disclosed run --once` failed ({status})\n  stderr tail:\n{}",
            log_tail(&stderr_log, 20)
        ));
    }
    verify(root, scenario).map_err(|e| {
        format!(
            "{e}\n  stderr tail of `disclosed run --once`:\n{}",
            log_tail(&stderr_log, 20)
        )
    })?;

    Ok(Measurement {
        label,
        count: scenario.count,
        elapsed,
        // ru_maxrss is in KiB on Linux.
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// Reaps `child` with wait4(2) instead of `Child::wait`, because only wait4
/// reports the resource usage, and with it the peak RSS, of that one child.
fn wait_with_rusage(child: Child) -> io::Result<(ExitStatus, libc::rusage)> {
    let pid = libc::pid_t::try_from(child.id()).expect("child pid fits in pid_t");
    let mut status: libc::c_int = 0;
    let mut usage = MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (`child` is never
        // waited on through std), and both out-pointers are valid for writes.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
        if rc == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    // The process is reaped; dropping the handle neither waits nor kills.
    drop(child);
    // SAFETY: rusage is plain integers, so the zeroed value was already valid,
    // and wait4 succeeded, so it has been filled in.
    let usage = unsafe { usage.assume_init() };
    Ok((ExitStatus::from_raw(status), usage))
}

/// Checks the functional outcome: every message taken out of `new/`, and one
/// acknowledgement per reporter in the outbox.
fn verify(root: &Path, scenario: Scenario) -> Result<(), String> {
    let new = root.join("maildir").join("new");
    let left = fs::read_dir(&new)
        .map_err(|e| format!("reading {}: {e}", new.display()))?
        .count();
    if left != 0 {
        return Err(format!(
            "{left} of {} messages still in {}",
            scenario.count,
            new.display()
        ));
    }

    let outbox = root.join("outbox");
    let mut emls = Vec::new();
    for entry in fs::read_dir(&outbox).map_err(|e| format!("reading {}: {e}", outbox.display()))? {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", outbox.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "eml") && path.is_file() {
            emls.push(path);
        }
    }
    if emls.len() != scenario.count {
        return Err(format!(
            "expected {} .eml files in {}, found {}",
            scenario.count,
            outbox.display(),
            emls.len()
        ));
    }

    // Same count could still hide one reporter acknowledged twice and another
    // not at all, so match each acknowledgement to its reporter.
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for path in &emls {
        let bytes = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let recipients = researchers_in_to(&String::from_utf8_lossy(&bytes));
        match recipients.as_slice() {
            [i] if *i < scenario.count => {
                if !seen.insert(*i) {
                    problems.push(format!("researcher{i} acknowledged twice"));
                }
            }
            _ => problems.push(format!(
                "{}: To: names researchers {recipients:?}, expected exactly one",
                path.display()
            )),
        }
    }
    if let Some(missing) = (0..scenario.count).find(|i| !seen.contains(i)) {
        problems.push(format!(
            "reporters not acknowledged: {}, e.g. researcher{missing}@example.net",
            scenario.count - seen.len()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let shown: Vec<_> = problems.iter().take(5).map(String::as_str).collect();
        Err(format!(
            "{} problems in the outbox, first: {}",
            problems.len(),
            shown.join("; ")
        ))
    }
}

/// The `researcher{N}@example.net` indices named in the `To:` header(s) of a
/// message, after unfolding continuation lines.
fn researchers_in_to(message: &str) -> Vec<usize> {
    let mut headers: Vec<String> = Vec::new();
    for line in message.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        match headers.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
            _ => headers.push(line.to_owned()),
        }
    }
    let mut found = Vec::new();
    for header in &headers {
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("to") {
            continue;
        }
        let value = value.to_ascii_lowercase();
        for (start, _) in value.match_indices("researcher") {
            let rest = &value[start + "researcher".len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0
                && rest[digits..].starts_with("@example.net")
                && let Ok(i) = rest[..digits].parse()
            {
                found.push(i);
            }
        }
    }
    found
}

fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            if tail.is_empty() {
                "    (empty)".to_owned()
            } else {
                let indented: Vec<String> = tail.iter().map(|l| format!("    {l}")).collect();
                indented.join("\n")
            }
        }
        Err(e) => format!("    (cannot read {}: {e})", path.display()),
    }
}

// ---------------------------------------------------------------------------
// Message generation. Everything is derived from the message index through a
// seeded PRNG, so runs are reproducible and messages differ from each other
// (no two bodies hash alike, which matters for content-hash deduplication).
// ---------------------------------------------------------------------------

/// xorshift64*: tiny, deterministic and good enough to vary text and fill
/// attachments with incompressible bytes.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Mix the seed so neighbouring indices do not start out correlated;
        // the state must never be zero.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
}

const COMPONENTS: &[&str] = &[
    "the login form",
    "the password reset flow",
    "the REST API v2",
    "the file upload endpoint",
    "the admin dashboard",
    "the OAuth callback handler",
    "the image thumbnailer",
    "the webhook dispatcher",
    "the CSV export",
    "the session cookie handling",
    "the search endpoint",
    "the mobile sync service",
];

const FLAWS: &[&str] = &[
    "stored cross-site scripting",
    "SQL injection",
    "server-side request forgery",
    "an insecure direct object reference",
    "a path traversal",
    "an open redirect",
    "a missing authorisation check",
    "XML external entity expansion",
    "a race condition in token validation",
    "a heap buffer overflow",
    "an authentication bypass",
    "a denial of service through unbounded recursion",
];

const SENTENCES: &[&str] = &[
    "The issue can be triggered by an unauthenticated attacker with a single crafted request.",
    "I was able to reproduce it reliably on the current production deployment as well as on a fresh local installation.",
    "The vulnerable parameter is reflected without encoding when the error page is rendered.",
    "Input length is not validated before it is copied into a fixed-size buffer.",
    "An attacker who controls the value can read files outside the intended directory.",
    "The server follows redirects to internal addresses, including the cloud metadata service.",
    "Object identifiers are sequential, so enumerating other customers' records is trivial.",
    "The session token remains valid after logout and after a password change.",
    "I have not accessed any data beyond what was needed to confirm the behaviour.",
    "Rate limiting does not apply to this endpoint, which makes brute force practical.",
    "The response time differs measurably depending on whether the account exists.",
    "Headers such as Content-Security-Policy would mitigate part of the impact but are absent.",
    "The same pattern appears in two other handlers, which may be worth auditing as well.",
    "The fix is probably to use parameterised queries instead of string concatenation.",
    "Validating the redirect target against an allow-list would close this hole.",
    "Please let me know if you need a screen recording or further details.",
    "I intend to follow your published disclosure policy and will not share details before a fix is available.",
    "Tested with Firefox 119 and Chromium 118 on Debian 12; curl works as well.",
    "Version information from the footer suggests the instance runs release 4.2.1.",
    "Logs on your side should show the requests from my test account around 14:05 UTC.",
    "Impact: an attacker could take over accounts of users who open the crafted link.",
    "Severity in my estimate is high, CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N.",
    "Steps: log in, open the settings page, intercept the request and change the identifier.",
    "The payload survives a round trip through the export and executes in the admin view.",
    "Grüße aus Berlin — mit freundlichen Grüßen, and thanks for running a disclosure programme.",
    "A minimal proof of concept is included below; it only reads harmless metadata.",
];

const PROOF_LINES: &[&str] = &[
    "curl -s 'https://app.example.org/api/v2/items?id=1%27%20OR%201=1--' -H 'Accept: application/json'",
    "GET /download?file=../../../../etc/passwd HTTP/1.1",
    "POST /hooks/test {\"url\": \"http://169.254.169.254/latest/meta-data/\"}",
    "<img src=x onerror=alert(document.domain)>",
    "for i in $(seq 1 1000); do curl -s https://app.example.org/api/users/$i; done",
    "python3 poc.py --target https://app.example.org --depth 10000",
];

fn subject(rng: &mut XorShift, i: usize) -> (String, &'static str, &'static str) {
    let flaw = rng.pick(FLAWS);
    let component = rng.pick(COMPONENTS);
    (
        format!("Vulnerability report {i}: {flaw} in {component}"),
        flaw,
        component,
    )
}

/// A plausible ~3 KB report body with CRLF line endings, wrapped at 72 columns.
fn body(rng: &mut XorShift, i: usize, flaw: &str, component: &str) -> String {
    let mut paragraphs = vec![
        "Hello security team,".to_owned(),
        format!(
            "I would like to report {flaw} in {component}. \
             This is report number {i} from me; my reference is RSRCH-{i:05}."
        ),
    ];
    let mut length: usize = paragraphs.iter().map(String::len).sum();
    while length < BODY_BYTES {
        // No sentence twice in one paragraph; that would read like a bug.
        let sentences = 3 + (rng.next_u64() % 3) as usize;
        let mut chosen: Vec<&str> = Vec::with_capacity(sentences);
        while chosen.len() < sentences {
            let sentence = rng.pick(SENTENCES);
            if !chosen.contains(&sentence) {
                chosen.push(sentence);
            }
        }
        let paragraph = chosen.join(" ");
        length += paragraph.len();
        paragraphs.push(paragraph);
        // Now and then a proof-of-concept line, kept unwrapped like real PoCs.
        if rng.next_u64().is_multiple_of(3) {
            let proof = format!("    {}", rng.pick(PROOF_LINES));
            length += proof.len();
            paragraphs.push(proof);
        }
    }
    paragraphs.push(format!("Best regards,\r\nResearcher {i}"));

    let mut out = String::with_capacity(length + length / 16);
    for paragraph in &paragraphs {
        if paragraph.starts_with("    ") || paragraph.contains("\r\n") {
            out.push_str(paragraph);
            out.push_str("\r\n");
        } else {
            wrap_into(&mut out, paragraph, 72);
        }
        out.push_str("\r\n");
    }
    out
}

fn wrap_into(out: &mut String, text: &str, width: usize) {
    let mut column = 0;
    for word in text.split(' ') {
        let chars = word.chars().count();
        if column > 0 && column + 1 + chars > width {
            out.push_str("\r\n");
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += chars;
    }
    out.push_str("\r\n");
}

fn headers(i: usize, subject: &str, content_type: &str) -> String {
    format!(
        "Return-Path: <researcher{i}@example.net>\r\n\
         Received: from mail.example.net (mail.example.net [192.0.2.25])\r\n\
         \tby mx.example.org with ESMTPS id bench{i}; {DATE}\r\n\
         From: Researcher {i} <researcher{i}@example.net>\r\n\
         To: security@example.org\r\n\
         Subject: {subject}\r\n\
         Date: {DATE}\r\n\
         Message-ID: <bench-{i}@example.net>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: {content_type}\r\n"
    )
}

fn small_message(i: usize) -> Vec<u8> {
    let mut rng = XorShift::new(i as u64);
    let (subject, flaw, component) = subject(&mut rng, i);
    let mut message = headers(i, &subject, "text/plain; charset=utf-8");
    message.push_str("Content-Transfer-Encoding: 8bit\r\n\r\n");
    message.push_str(&body(&mut rng, i, flaw, component));
    message.into_bytes()
}

/// `attachment` is a scratch buffer reused across messages to avoid
/// reallocating 750 KB each time.
fn large_message(i: usize, attachment: &mut Vec<u8>) -> Vec<u8> {
    let mut rng = XorShift::new(i as u64);
    let (subject, flaw, component) = subject(&mut rng, i);
    let boundary = format!("=_bench_boundary_{i}");
    let mut message = headers(
        i,
        &subject,
        &format!("multipart/mixed; boundary=\"{boundary}\""),
    );
    message.push_str("\r\nThis is a multi-part message in MIME format.\r\n\r\n");
    message.push_str(&format!(
        "--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n"
    ));
    message.push_str(&body(&mut rng, i, flaw, component));
    message.push_str(&format!(
        "\r\n--{boundary}\r\n\
         Content-Type: application/octet-stream; name=\"crash-{i}.bin\"\r\n\
         Content-Disposition: attachment; filename=\"crash-{i}.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    ));
    attachment.clear();
    while attachment.len() < ATTACHMENT_BYTES {
        attachment.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    attachment.truncate(ATTACHMENT_BYTES);
    base64_lines_into(&mut message, attachment);
    message.push_str(&format!("--{boundary}--\r\n"));
    message.into_bytes()
}

/// Base64 (RFC 2045) in CRLF-terminated lines of 76 characters.
fn base64_lines_into(out: &mut String, data: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // 57 input bytes make exactly one 76-character line.
    for line in data.chunks(57) {
        for group in line.chunks(3) {
            let b = [
                group[0],
                group.get(1).copied().unwrap_or(0),
                group.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let sextets = [n >> 18, n >> 12, n >> 6, n];
            for (k, sextet) in sextets.into_iter().enumerate() {
                // A group of g bytes yields g + 1 significant characters.
                if k <= group.len() {
                    out.push(char::from(ALPHABET[(sextet & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out.push_str("\r\n");
    }
}
