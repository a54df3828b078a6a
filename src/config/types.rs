//! The typed configuration: what the rest of the program reads. Every value
//! here has been checked; defaults are filled in and paths resolved.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

use super::PolicyDuration;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (error messages name it).
    pub path: PathBuf,
    pub program: Program,
    pub storage: Storage,
    pub source: SourceConfig,
    pub transport: TransportConfig,
    pub sla: Sla,
    pub team: Team,
    pub templates: Templates,
    pub limits: Limits,
    pub openpgp: OpenPgp,
    pub notify_reporter: NotifyReporter,
    pub publish: Publish,
    pub security_txt: SecurityTxt,
    /// `[advisory]`: who publishes advisory drafts; `None` when absent.
    pub advisory: Option<crate::advisory::Publisher>,
    /// `[bulletin]`; `None` when no announcement list is configured.
    pub bulletin: Option<Bulletin>,
    /// `[metrics]`: the metrics and health listener; `None` when off.
    pub metrics: Option<Metrics>,
    /// `[monitor]`: what the daemon watches in itself.
    pub monitor: Monitor,
}

/// `[metrics]`: the address `/metrics` and `/healthz` are served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metrics {
    /// Loopback unless `allow_remote` was set.
    pub listen: std::net::SocketAddr,
}

/// `[monitor]`: the conditions under which the daemon mails the team about
/// itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitor {
    pub enabled: bool,
    /// How long the IMAP source may fail before it is an alert.
    pub alert_after: Duration,
    /// How long a mail may wait unsent in the outbox.
    pub outbox_after: Duration,
    /// Days without any mail; 0 turns the check off.
    pub quiet_days: u32,
    /// The least free space, in percent of the filesystem; 0 turns it off.
    pub min_free_percent: u8,
    /// Where the daily canary is sent from; `None`: no canary.
    pub canary_address: Option<Address>,
}

impl Default for Monitor {
    fn default() -> Self {
        Self {
            enabled: true,
            alert_after: Duration::from_secs(30 * 60),
            outbox_after: Duration::from_secs(60 * 60),
            quiet_days: 7,
            min_free_percent: 10,
            canary_address: None,
        }
    }
}

/// `[bulletin]`: the public announcement list that is sent each advisory,
/// signed by the team key, when a report is disclosed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bulletin {
    /// The list's posting address.
    pub address: Address,
    /// The display name of the bulletin's `From:` (the program address).
    pub from_name: String,
}

/// `[notify_reporter]`: whether the reporter is told, by default, when a team
/// command moves their report into each of these states. `#notify` and
/// `#quiet` decide for one mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyReporter {
    pub triaged: bool,
    pub accepted: bool,
    pub fixed: bool,
    pub risk_accepted: bool,
    pub disclosed: bool,
}

impl Default for NotifyReporter {
    /// Triage is often quick and says little; the later steps are what a
    /// reporter waits for.
    fn default() -> Self {
        Self {
            triaged: false,
            accepted: true,
            fixed: true,
            risk_accepted: true,
            disclosed: true,
        }
    }
}

/// `[openpgp]`: where the team's keys are. Empty when the section is absent.
#[derive(Debug, Clone)]
pub struct OpenPgp {
    /// The first signs; all decrypt.
    pub secret_keys: Vec<PathBuf>,
    pub passphrase_file: Option<PathBuf>,
    pub keyring: Option<PathBuf>,
    /// Where the public key is published; default
    /// `https://<program domain>/.well-known/pgp-key.txt`.
    pub key_url: Option<String>,
    /// How long a key confirmation token may be answered.
    pub key_confirmation_expiry: Duration,
}

impl Default for OpenPgp {
    fn default() -> Self {
        Self {
            secret_keys: Vec::new(),
            passphrase_file: None,
            keyring: None,
            key_url: None,
            key_confirmation_expiry: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Program {
    pub name: String,
    pub address: Address,
    pub id_prefix: String,
    pub timezone: TimeZone,
    pub timezone_name: String,
    pub policy_url: String,
}

/// An address split at its `@`, lower-cased for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub local: String,
    pub domain: String,
}

impl Address {
    /// Parses `local@domain` (no display name, no plus part).
    pub fn parse(input: &str) -> Option<Self> {
        let (local, domain) = input.trim().rsplit_once('@')?;
        let ok_local = !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        let ok_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
        (ok_local && ok_domain).then(|| Self {
            local: local.to_ascii_lowercase(),
            domain: domain.to_ascii_lowercase(),
        })
    }

    /// The plus-address `local+tag@domain`.
    pub fn with_tag(&self, tag: &str) -> String {
        format!("{}+{tag}@{}", self.local, self.domain)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[derive(Debug, Clone)]
pub struct Storage {
    pub database: PathBuf,
}

#[derive(Debug, Clone)]
pub enum SourceConfig {
    Maildir {
        path: PathBuf,
        poll_interval: Duration,
    },
    Imap(ImapConfig),
}

/// How a connection to a mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain connection upgraded with STARTTLS before anything else is sent.
    Starttls,
    /// No TLS; accepted only for loopback hosts.
    None,
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Implicit => "implicit TLS",
            Self::Starttls => "STARTTLS",
            Self::None => "no TLS",
        })
    }
}

/// A mail server to connect to.
#[derive(Debug, Clone)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// PEM certificates trusted beside the system roots.
    pub ca_file: Option<PathBuf>,
    /// The longest one network operation may take.
    pub timeout: Duration,
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A user name and its password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub server: Server,
    pub credentials: Credentials,
    pub mailbox: String,
    /// Where processed mail is moved; without it, it is flagged `\Seen`.
    pub processed_mailbox: Option<String>,
    pub idle: bool,
    pub poll_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub server: Server,
    pub credentials: Option<Credentials>,
    /// The most connections one batch of due mail goes over at once (1 to 32).
    pub connections: usize,
}

impl SmtpConfig {
    /// Connections per batch unless `[transport] connections` says otherwise.
    pub const DEFAULT_CONNECTIONS: usize = 4;
    /// More would only queue at the server (Postfix allows 100 sessions in all).
    pub const MAX_CONNECTIONS: usize = 32;
}

#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub kind: TransportKind,
    pub retry: Retry,
}

#[derive(Debug, Clone)]
pub enum TransportKind {
    File { dir: PathBuf },
    Sendmail { command: PathBuf },
    Smtp(SmtpConfig),
}

/// Backoff for failed deliveries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub initial: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

#[derive(Debug, Clone)]
pub struct Sla {
    pub business_days: Vec<Weekday>,
    pub holidays: Vec<Date>,
    pub acknowledge: PolicyDuration,
    pub triage: PolicyDuration,
    pub update_every: PolicyDuration,
    pub fix: PolicyDuration,
    pub fix_max: PolicyDuration,
    pub disclose_after_fix: PolicyDuration,
    pub remind_before: PolicyDuration,
    pub escalate_to: Option<String>,
    /// Start and end of business hours on a business day (program time).
    pub working_hours: (Time, Time),
    /// Weekday and time of the weekly digest; `None` sends none.
    pub digest: Option<(Weekday, Time)>,
    /// `[sla.severity.*]`: the fix time and its maximum per severity; a
    /// severity without an entry (or a report without one) uses `fix` and
    /// `fix_max`.
    pub by_severity: std::collections::BTreeMap<crate::report::Severity, FixPolicy>,
}

/// A fix deadline and how far `#extend` may move it.
#[derive(Debug, Clone, PartialEq)]
pub struct FixPolicy {
    pub fix: PolicyDuration,
    pub fix_max: PolicyDuration,
}

impl Sla {
    /// The fix policy for a report of `severity`, and the severity whose own
    /// entry it is (`None`: the plain `fix` and `fix_max`).
    pub fn fix_policy(
        &self,
        severity: Option<crate::report::Severity>,
    ) -> (FixPolicy, Option<crate::report::Severity>) {
        match severity.and_then(|s| self.by_severity.get(&s).map(|p| (p, s))) {
            Some((policy, s)) => (policy.clone(), Some(s)),
            None => (
                FixPolicy {
                    fix: self.fix.clone(),
                    fix_max: self.fix_max.clone(),
                },
                None,
            ),
        }
    }
}

/// Business hours when `[sla] working_hours` is not set.
pub const DEFAULT_WORKING_HOURS: (Time, Time) =
    (Time::constant(9, 0, 0, 0), Time::constant(17, 0, 0, 0));

/// The weekly digest when `[sla] digest` is not set: Monday 09:00.
pub const DEFAULT_DIGEST: (Weekday, Time) = (Weekday::Monday, Time::constant(9, 0, 0, 0));

impl Default for Sla {
    /// The policy a disclosure program usually promises, when the config says nothing.
    fn default() -> Self {
        let days = |n| PolicyDuration::Calendar(jiff::Span::new().days(n));
        Self {
            business_days: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            holidays: Vec::new(),
            acknowledge: PolicyDuration::BusinessDays(5),
            triage: PolicyDuration::BusinessDays(10),
            update_every: days(14),
            fix: days(90),
            fix_max: days(120),
            disclose_after_fix: days(30),
            remind_before: PolicyDuration::BusinessDays(2),
            escalate_to: None,
            working_hours: DEFAULT_WORKING_HOURS,
            digest: Some(DEFAULT_DIGEST),
            by_severity: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Team {
    pub members: Vec<Member>,
    /// Accepted proofs that mail claiming a member's address is theirs.
    pub command_auth: Vec<AuthMethod>,
    pub trusted_authserv_id: Option<String>,
    /// How old a signed command mail may be.
    pub signature_max_age: Duration,
    pub without_key: WithoutKey,
}

impl Default for Team {
    fn default() -> Self {
        Self {
            members: Vec::new(),
            command_auth: vec![AuthMethod::OpenPgp],
            trusted_authserv_id: None,
            signature_max_age: Duration::from_secs(7 * 24 * 3600),
            without_key: WithoutKey::Metadata,
        }
    }
}

/// `[team] command_auth` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    OpenPgp,
    Dkim,
}

/// `[team] without_key`: what a member without an OpenPGP key receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithoutKey {
    /// A notice naming the report and its facts, never its text.
    Metadata,
    /// Nothing: every member must have a key (checked when the config loads).
    Refuse,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub email: Address,
    pub key: Option<PathBuf>,
}

impl Team {
    pub fn member(&self, email: &str) -> Option<&Member> {
        let email = Address::parse(email)?;
        self.members.iter().find(|m| m.email == email)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Templates {
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message_size: u64,
    pub max_header_size: u64,
    pub max_mime_depth: u32,
    pub max_attachments: u32,
    pub auto_replies_per_sender: u32,
    pub auto_reply_window: Duration,
    /// Automatic replies to anyone within `auto_reply_window`: a bound on
    /// backscatter when many forged senders write at once.
    pub auto_replies_total: u32,
    /// Team notices (new reports, follow-ups) one sender's mail may cause
    /// within `notice_window`; past it the team gets one summary instead.
    pub team_notices_per_sender: u32,
    /// Team notices everyone's mail may cause within `notice_window`.
    pub team_notices_total: u32,
    pub notice_window: Duration,
    /// Largest plaintext an OpenPGP message may inflate to (compression bombs).
    pub max_decompressed_size: u64,
    /// Deepest nesting of OpenPGP containers (encryption, compression, signatures).
    pub max_openpgp_depth: u32,
    /// Most recipients (PKESKs and SKESKs) one message may list.
    pub max_openpgp_recipients: u32,
    /// An attachment larger than this is never mailed to each member: it is
    /// kept once, in the stored message, and the notification says how to
    /// fetch it.
    pub max_mailed_attachment_size: u64,
    /// Attachment bytes one report may hold (mailed or not) and still have its
    /// attachments mailed to each member; past it, they are kept once and not
    /// mailed.
    pub max_report_attachment_bytes: u64,
    /// Bytes one sender may add to the store in a day (messages as received,
    /// decrypted entities included); past it, no decrypted entity is stored
    /// for them (it is decrypted again when read) and no attachment of theirs
    /// is mailed.
    pub max_sender_bytes_per_day: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 64 << 20,
            max_header_size: 256 << 10,
            max_mime_depth: 32,
            max_attachments: 256,
            auto_replies_per_sender: 5,
            auto_reply_window: Duration::from_secs(3600),
            auto_replies_total: 100,
            team_notices_per_sender: 20,
            team_notices_total: 100,
            notice_window: Duration::from_secs(3600),
            max_decompressed_size: 64 << 20,
            max_openpgp_depth: 8,
            max_openpgp_recipients: 64,
            max_mailed_attachment_size: 10 << 20,
            max_report_attachment_bytes: 32 << 20,
            max_sender_bytes_per_day: 256 << 20,
        }
    }
}

/// Whether `host` names this machine: only then may mail and passwords travel
/// without TLS.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A password or passphrase; its `Debug` never shows it.
#[derive(Clone)]
/// Built only by validation, from the file or a `*_file`.
pub struct Secret(pub(super) String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// `[publish]`: the public site.
#[derive(Debug, Clone, Default)]
pub struct Publish {
    /// `https://…` without a trailing slash; public URLs derive from it.
    pub base_url: Option<String>,
    /// Where the daemon writes the site after a change; `None`: it does not.
    pub dir: Option<PathBuf>,
}

/// `[security_txt]`: the fields of `/.well-known/security.txt` that are not
/// derived from elsewhere. URLs default to ones under `[publish] base_url`.
#[derive(Debug, Clone, Default)]
pub struct SecurityTxt {
    /// The file expires at the start of this day (UTC). A fixed day rather
    /// than a span from now: the file and its signature then only change
    /// when the team moves the day, and the expiry warning has a date.
    pub expires: Option<Date>,
    pub languages: Vec<String>,
    pub encryption: Option<String>,
    pub policy: Option<String>,
    pub acknowledgments: Option<String>,
    pub canonical: Option<String>,
}
