//! A throw-away installation: a Maildir, a config file, a database, an outbox dir.

use std::path::PathBuf;
use std::process::{Command, Output};

use disclosed::store::{MessageView, OpenMode, OutboxView, ReportDetail, Store};

pub const BIN: &str = env!("CARGO_BIN_EXE_disclosed");

/// The one team member of every installation (no OpenPGP key unless a test
/// configures one).
pub const ALICE: &str = "alice@example.org";

pub struct Env {
    pub dir: tempfile::TempDir,
    seq: std::cell::Cell<u32>,
}

impl Env {
    /// A Maildir installation with `extra` (which names the transport) appended
    /// to the config.
    pub fn new(extra: &str) -> Self {
        Self::with_sections(
            "security@example.org",
            "[source]\nkind = \"maildir\"\npath = \"maildir\"\npoll_interval = \"100ms\"\n",
            extra,
        )
    }

    /// An installation for program `address`, with its own `[source]` section;
    /// `extra` names the transport and anything else.
    pub fn with_sections(address: &str, source: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.path().join("maildir").join(sub)).expect("maildir");
        }
        let env = Self {
            dir,
            seq: std::cell::Cell::new(0),
        };
        // The weekly digest would add team mail to daemon tests that run on a
        // Monday morning; tests that want it name their own `[sla]`.
        let sla = if extra.contains("[sla]") {
            ""
        } else {
            "[sla]\ndigest = \"off\"\n"
        };
        // The daemon's watch on itself would mail the team when the host's
        // disk runs low or a test queues mail dated long ago; tests that
        // want it name their own `[monitor]`.
        let monitor = if extra.contains("[monitor]") {
            ""
        } else {
            "[monitor]\nenabled = false\n"
        };
        env.write_config(&format!(
            r#"
[program]
name = "Example"
address = "{address}"
id_prefix = "SEC"
timezone = "Europe/Berlin"
policy_url = "https://example.org/security"

[storage]
database = "state/disclosed.sqlite3"

{source}
{sla}
{monitor}
[[team.members]]
name = "Alice"
email = "alice@example.org"
{extra}
"#
        ));
        env
    }

    /// With the file transport (the usual case).
    pub fn with_file_transport(extra: &str) -> Self {
        Self::new(&format!(
            "[transport]\nkind = \"file\"\ndir = \"outbox\"\n{extra}"
        ))
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).expect("write config");
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs `disclosed --config <config> args…`.
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run disclosed")
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "disclosed {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `disclosed run` (the watching daemon) as a child process.
    pub fn spawn_daemon(&self) -> std::process::Child {
        Command::new(BIN)
            .arg("--config")
            .arg(self.config())
            .arg("run")
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("spawn disclosed run")
    }

    pub fn init(&self) {
        self.ok(&["init"]);
    }

    pub fn run_once(&self) -> String {
        self.ok(&["run", "--once"])
    }

    /// Runs `run --once` and asserts it exits 1 naming `failed` messages that
    /// could not be read or stored.
    pub fn run_once_failing(&self, failed: usize) {
        let out = self.cmd(&["run", "--once"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("{failed} message(s) could not be read or stored")),
            "{stderr}"
        );
    }

    /// Delivers a message into `new/` the Maildir way (write in tmp/, rename).
    pub fn deliver(&self, bytes: &[u8]) -> String {
        let n = self.seq.get() + 1;
        self.seq.set(n);
        let name = format!("{}.M{n}P1.test", 1_700_000_000 + n);
        let tmp = self.path("maildir/tmp").join(&name);
        std::fs::write(&tmp, bytes).expect("write tmp");
        std::fs::rename(&tmp, self.path("maildir/new").join(&name)).expect("deliver");
        name
    }

    pub fn store(&self) -> Store {
        Store::open(&self.path("state/disclosed.sqlite3"), OpenMode::Existing).expect("store")
    }

    /// Report number `seq` of this year.
    pub fn report(&self, seq: u32) -> ReportDetail {
        let id = disclosed::report::ReportId::new("SEC", year(), seq);
        self.store()
            .read()
            .report_detail(&id)
            .expect("read")
            .unwrap_or_else(|| panic!("no report {id}"))
    }

    pub fn messages(&self) -> Vec<MessageView> {
        self.store().read().all_messages().expect("messages")
    }

    /// The `.eml` files the file transport wrote, parsed.
    pub fn sent(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let dir = self.path("outbox");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .map(|p| {
                let bytes = std::fs::read(&p).expect("read eml");
                (p, bytes)
            })
            .collect();
        files.sort();
        files
    }

    /// The mail the file transport wrote whose `To:` names `address`.
    pub fn sent_to(&self, address: &str) -> Vec<Vec<u8>> {
        self.sent()
            .into_iter()
            .map(|(_, raw)| raw)
            .filter(|raw| header(raw, "To").is_some_and(|to| to.contains(address)))
            .collect()
    }

    /// The mail the file transport wrote for `report`'s outbox rows of `kind`
    /// (matched by Message-ID), in row order; rows not written are left out.
    pub fn sent_of(&self, report: &ReportDetail, kind: &str) -> Vec<Vec<u8>> {
        let sent = self.sent();
        outbox(report, kind)
            .into_iter()
            .filter_map(|row| {
                let id = format!("<{}>", row.message_id);
                sent.iter()
                    .find(|(_, raw)| header(raw, "Message-ID").as_deref() == Some(id.as_str()))
                    .map(|(_, raw)| raw.clone())
            })
            .collect()
    }

    pub fn count_files(&self, rel: &str) -> usize {
        std::fs::read_dir(self.path(rel))
            .map(|d| d.filter_map(|e| e.ok()).count())
            .unwrap_or(0)
    }
}

/// `report`'s outbox rows of `kind` (`acknowledgement`, `notification`, …).
pub fn outbox<'a>(report: &'a ReportDetail, kind: &str) -> Vec<&'a OutboxView> {
    report.outbox.iter().filter(|o| o.kind == kind).collect()
}

/// `report`'s one acknowledgement row.
pub fn the_ack_row(report: &ReportDetail) -> &OutboxView {
    let acks = outbox(report, "acknowledgement");
    assert_eq!(acks.len(), 1, "one acknowledgement: {:?}", report.outbox);
    acks[0]
}

/// Asserts the team (Alice) was sent `n` notifications of `report`: new report
/// and reporter follow-ups, one mail per member each.
pub fn assert_team_notified(report: &ReportDetail, n: usize) {
    let rows = outbox(report, "notification");
    assert_eq!(rows.len(), n, "notifications: {:?}", report.outbox);
    for row in rows {
        assert_eq!(row.recipients, [ALICE], "{row:?}");
    }
}

/// Asserts `raw`, a team notice of report `report_id` to a member without a
/// key, is metadata only: it names the report but holds none of `secrets`
/// (the report's subject, text, attachment names).
pub fn assert_metadata_only(raw: &[u8], report_id: &str, secrets: &[&str]) {
    let text = body_text(raw);
    assert!(
        text.contains(report_id),
        "the notice does not name {report_id}:\n{text}"
    );
    let subject = parse_subject(raw).unwrap_or_default();
    let whole = String::from_utf8_lossy(raw);
    for secret in secrets {
        assert!(
            !text.contains(secret) && !subject.contains(secret) && !whole.contains(secret),
            "the notice to a member without a key shows {secret:?}:\n{subject}\n{text}"
        );
    }
}

/// Sends `sig` to a child process.
pub fn signal(child: &std::process::Child, sig: i32) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid, sig) };
}

/// Stops a daemon with SIGTERM and asserts it exits 0.
pub fn stop(mut child: std::process::Child) {
    signal(&child, libc::SIGTERM);
    let status = child.wait().expect("wait for the daemon");
    assert!(status.success(), "daemon exited with {status}");
}

/// A simple message.
pub fn mail(from: &str, to: &str, subject: &str, message_id: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <{message_id}>\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Details of the problem.\r\n"
    )
    .into_bytes()
}

/// The value of header `name` in a raw mail, unfolded.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    msg.header_raw(name)
        .map(|v| v.replace("\r\n", "").replace('\n', "").trim().to_owned())
}

pub fn parse_subject(raw: &[u8]) -> Option<String> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    msg.subject().map(str::to_owned)
}

pub fn body_text(raw: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(raw)
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default()
}

/// This year in the program's time zone: report ids carry it.
pub fn year() -> i16 {
    use disclosed::clock::Clock;
    disclosed::clock::SystemClock
        .now()
        .in_tz("Europe/Berlin")
        .map(|now| now.year())
        .expect("Europe/Berlin is known")
}

/// `text` with the year in report ids (written as 2026 in the tests) made this year's.
pub fn y(text: &str) -> String {
    let year = year();
    text.replace("SEC-2026-", &format!("SEC-{year}-"))
        .replace("sec-2026-", &format!("sec-{year}-"))
}

/// The config of an installation on a Maildir with the file transport and the
/// team key in `team.key`, for the program `security@example.org`; `rest` adds
/// the sections after `[openpgp]` (the team, its members, the SLA).
pub fn keyed_file_config(rest: &str) -> String {
    keyed_config(
        "security@example.org",
        "[source]\nkind = \"maildir\"\npath = \"maildir\"\n\n[transport]\nkind = \"file\"\ndir = \"outbox\"\n",
        rest,
    )
}

/// The config of the program `address` with the team key in `team.key`:
/// `sections` are its `[source]` and `[transport]`, `rest` adds the sections
/// after `[openpgp]`.
pub fn keyed_config(address: &str, sections: &str, rest: &str) -> String {
    format!(
        r#"
[program]
name = "Example"
address = "{address}"
id_prefix = "SEC"
timezone = "Europe/Berlin"
policy_url = "https://example.org/security"

[storage]
database = "state/disclosed.sqlite3"

{sections}
[openpgp]
secret_keys = ["team.key"]
{rest}"#
    )
}
