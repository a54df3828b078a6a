//! Entry points for coverage-guided fuzzing: each function takes arbitrary
//! bytes, runs one stage that reads untrusted input the way the daemon runs
//! it, and must return without panicking whatever the bytes are. The fuzz
//! targets in `fuzz/` are one-line wrappers around them, and the corpus replay
//! test calls them on every checked-in input, so a crash found by the fuzzer
//! stays fixed.
//!
//! Not part of the daemon's interface: nothing else calls these.

use std::path::Path;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::Date;
use sequoia_openpgp::Cert;
use sequoia_openpgp::cert::CertParser;
use sequoia_openpgp::parse::Parse;

use crate::auth;
use crate::command::{self, ReportFacts, Scope};
use crate::config::{Address, Config, Draft, Member, Sla, Team};
use crate::crypto::{self, CryptoLimits, KeyError, Opened, TeamKeys};
use crate::parse::{self, ParseLimits};
use crate::report::{ReportId, ReportState};
use crate::respond::{strip, templates};
use crate::thread;
use crate::triage::Rules;

/// The instant every target runs at: after the test keys were made, so they
/// are valid, and fixed, so a run is reproducible.
const NOW: &str = "2027-01-01T00:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The daemon's default limits, small enough that one input stays fast.
fn parse_limits() -> ParseLimits {
    ParseLimits {
        max_header_size: 256 << 10,
        max_mime_depth: 32,
        max_attachments: 64,
        max_text_len: 1 << 20,
    }
}

fn crypto_limits() -> CryptoLimits {
    CryptoLimits {
        max_decompressed_size: 8 << 20,
        max_depth: 8,
        max_recipients: 16,
    }
}

fn program() -> Option<Address> {
    Address::parse("security@example.org")
}

fn team() -> Team {
    let members = [
        ("Alice Example", "alice@example.org"),
        ("Bob", "bob@example.com"),
    ]
    .into_iter()
    .filter_map(|(name, email)| {
        Some(Member {
            name: name.to_owned(),
            email: Address::parse(email)?,
            key: None,
        })
    })
    .collect();
    Team {
        members,
        trusted_authserv_id: Some("mx.example.org".to_owned()),
        ..Team::default()
    }
}

/// Splits `data` at its first NUL byte: one input carries two strings.
fn split(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    }
}

/// MIME parsing and classification: the message as ingest first sees it
/// (parse, classify, a bounce's delivery status, the header-only parse of an oversized mail, attachment
/// contents, the header fields authentication reads, the encrypted-form check).
pub fn mime(data: &[u8]) {
    let limits = parse_limits();
    let parsed = parse::parse(data, &limits);
    if let Some(program) = program() {
        let team = team();
        let _ = thread::classify(&parsed, &program, &team, false);
        let _ = thread::find_token(thread::addresses(&parsed), &program, "SEC");
        let _ = thread::subject_tag(&parsed.subject, "SEC");
        let _ = thread::claims_to_be_ours(&parsed, &program);
        let _ = thread::bounce::to_return_path(thread::addresses(&parsed), &program);
    }
    for status in thread::bounce::delivery_status(data) {
        let _ = status.lines();
    }
    let head = &data[..parse::scan_headers(data).header_len.min(data.len())];
    let _ = parse::parse_headers_only(head, &limits);
    let _ = parse::attachment_contents(data, &limits);
    let _ = parse::authentication_results(data);
    let _ = parse::to_addresses(data);
    let _ = crypto::open::is_encrypted_form(data);
}

/// The fixed keys the OpenPGP target opens mail with: the team's secret key and
/// a keyring of public certificates (the reporter's).
pub struct Keyring {
    team: TeamKeys,
    certs: Vec<Cert>,
}

impl Keyring {
    /// The test keyring in `dir`: `team-secret.asc` (the team's unprotected
    /// secret keys) and `keyring.asc` (public certificates). Read as plain
    /// test data: a checkout does not keep the owner-only mode the daemon
    /// requires of key files.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let team = TeamKeys::from_certs(read_certs(&dir.join("team-secret.asc"))?, now())?;
        let certs = read_certs(&dir.join("keyring.asc"))?
            .into_iter()
            .map(Cert::strip_secret_key_material)
            .collect();
        Ok(Self { team, certs })
    }
}

fn read_certs(path: &Path) -> Result<Vec<Cert>, KeyError> {
    let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    CertParser::from_bytes(&bytes)
        .and_then(|parser| parser.collect::<Result<Vec<_>, _>>())
        .map_err(|err| KeyError::Parse {
            path: path.display().to_string(),
            reason: format!("{err:#}"),
        })
}

/// OpenPGP opening (PGP/MIME, multipart/signed, inline armor, encrypted
/// attachments, carried keys), with the team key, as ingest opens mail. The
/// outcome is returned for tests that check what an input opened to.
pub fn openpgp(data: &[u8], keys: &Keyring) -> Opened {
    let limits = parse_limits();
    let parsed = parse::parse(data, &limits);
    let from = parsed.from.as_ref().map(|m| m.address.as_str());
    let opened = crypto::open::open(
        data,
        from,
        Some(&keys.team),
        &keys.certs,
        &crypto_limits(),
        now(),
    );
    if let Some(inner) = &opened.inner {
        let _ = parse::merge_inner(&parsed, parse::parse(inner, &limits));
    }
    opened
}

/// `Authentication-Results` parsing: the input as one header value, as a list
/// of values (one a line), and as a message whose header block is read.
pub fn auth_results(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = auth::parse_results(&text);
    let values: Vec<&str> = text.lines().collect();
    let _ = auth::trusted_results(&values, "mx.example.org");
    let _ = auth::dkim_pass_domains(&values, "mx.example.org");
    let headers = parse::authentication_results(data);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let _ = auth::dkim_pass_domains(&headers, "mx.example.org");
    let _ = auth::dkim_coverage(data, "example.org");
}

/// Mail-command parsing: the command block at the top of a body, the reply
/// directive, and the plan the parsed commands make for a report and for the
/// control address.
pub fn command(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (_, body) = command::take_reply_directive(&text);
    let block = command::parse_block(&body, "SEC");
    for line in text.lines().take(64) {
        let _ = command::parse_command(line, "SEC");
    }
    let team = team();
    let sla = Sla::default();
    let today = Date::constant(2027, 1, 1);
    let lookup = |_: &ReportId| Some(ReportState::Triaged);
    if let Some(id) = ReportId::parse("SEC", "SEC-2026-0042") {
        let scope = Scope::Report(ReportFacts {
            id,
            state: ReportState::Acknowledged,
            extension_days: 3,
            waiting: false,
            ack_failed: true,
            severity: Some(crate::report::Severity::High),
            cvss_severity: None,
            credited: false,
            credit_declined: true,
            affects: Vec::new(),
            attachable: vec![1],
        });
        let _ = command::plan(&block.entries, &scope, &lookup, &team, &sla, today);
    }
    let _ = command::plan(&block.entries, &Scope::Control, &lookup, &team, &sla, today);
}

/// Reply stripping: before the first NUL the plain-text body, after it (when
/// present) the HTML body; stripped as a team answer relayed to the reporter.
pub fn strip(data: &[u8]) {
    let (text, html) = split(data);
    let text = String::from_utf8_lossy(text);
    let html = html.map(String::from_utf8_lossy);
    // Compiling the members' patterns costs more than stripping one input.
    static MEMBERS: OnceLock<strip::Members> = OnceLock::new();
    let members = MEMBERS.get_or_init(|| {
        strip::Members::new(&[
            "alice@example.org",
            "Alice Example",
            "bob@example.com",
            "Bob",
        ])
    });
    let _ = strip::relay_body(&text, html.as_deref(), members);
    // `relay_text` is `relay_body` without HTML.
    let _ = strip::relay_body(&text, None, members);
    if let Some(html) = html.as_deref() {
        let _ = strip::html_to_text(html);
    }
    let _ = strip::fold(&text);
}

/// Config parsing: the input as the configuration file, checked key by key,
/// with its triage rules compiled. Relative paths resolve in a directory that
/// does not exist.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent/disclosed/config.toml");
    let Ok(mut draft) = Draft::parse(text, path) else {
        return;
    };
    let known: Vec<&str> = templates::names().collect();
    let _ = Rules::compile(draft.take_rules(), &known);
    let _: Result<Config, _> = draft.finish();
}

/// The body of a fuzz target that needs no setup.
pub type Target = fn(&[u8]);

/// The targets that need no setup, by the name of their fuzz target and
/// corpus directory (`openpgp` needs a [`Keyring`]).
pub const TARGETS: &[(&str, Target)] = &[
    ("mime", mime),
    ("auth_results", auth_results),
    ("command", command),
    ("strip", strip),
    ("config", config),
];
