//! The configuration file exactly as written. Unknown keys are errors;
//! [`super::Draft::parse`] turns these into typed values, except the
//! `[[rules]]`, which it hands on as written for the triage stage to compile.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub program: RawProgram,
    pub storage: RawStorage,
    pub source: RawSource,
    pub transport: RawTransport,
    #[serde(default)]
    pub sla: RawSla,
    #[serde(default)]
    pub team: RawTeam,
    #[serde(default)]
    pub templates: RawTemplates,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub openpgp: RawOpenPgp,
    #[serde(default)]
    pub notify_reporter: RawNotifyReporter,
    /// The public site: Hall of Fame, security.txt, advisories.
    #[serde(default)]
    pub publish: RawPublish,
    /// The fields of `/.well-known/security.txt`.
    #[serde(default)]
    pub security_txt: RawSecurityTxt,
    /// Who publishes advisories; without it only Markdown and HTML drafts.
    #[serde(default)]
    pub advisory: Option<RawAdvisory>,
    #[serde(default)]
    pub bulletin: RawBulletin,
    /// The metrics and health listener; off without it.
    #[serde(default)]
    pub metrics: RawMetrics,
    /// What the daemon watches in itself and mails the team about.
    #[serde(default)]
    pub monitor: RawMonitor,
    /// Triage rules for new reports, in order; the first that matches applies.
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenPgp {
    /// Team secret keys: the first signs, all decrypt.
    #[serde(default)]
    pub secret_keys: Vec<String>,
    /// Passphrase protecting the secret keys (a systemd credential).
    pub passphrase_file: Option<String>,
    /// Extra public keys of reporters.
    pub keyring: Option<String>,
    /// Where our public key is published (told to reporters whose mail we
    /// could not decrypt).
    pub key_url: Option<String>,
    /// How long the token of a key confirmation mail may be answered, e.g. "7 days".
    pub key_confirmation_expiry: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProgram {
    /// Shown to reporters in templates.
    pub name: String,
    /// The disclosure address; plus-addresses derive from it.
    pub address: String,
    /// Report ids look like `{id_prefix}-2026-0042`.
    #[serde(default = "default_id_prefix")]
    pub id_prefix: String,
    /// IANA time zone of the program (report years, business time).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// The public disclosure policy, linked from acknowledgements.
    pub policy_url: String,
}

fn default_id_prefix() -> String {
    "SEC".into()
}

fn default_timezone() -> String {
    "UTC".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    /// SQLite database file; created by `disclosed init`.
    pub database: String,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RawSource {
    Maildir(RawMaildirSource),
    Imap(RawImapSource),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaildirSource {
    /// The Maildir holding `new/`, `cur/` and `tmp/`.
    pub path: String,
    /// How often `run` looks for new mail.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: String,
}

fn default_poll_interval() -> String {
    "2s".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImapSource {
    pub host: String,
    /// Default: 993 for `implicit`, 143 otherwise.
    pub port: Option<u16>,
    /// `implicit` (default), `starttls` or `none` (loopback only).
    pub tls: Option<String>,
    /// Extra CA certificate(s), PEM, trusted beside the system roots.
    pub ca_file: Option<String>,
    pub username: String,
    pub password: Option<String>,
    pub password_file: Option<String>,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// Without it, processed mail is flagged `\Seen` and stays in `mailbox`.
    pub processed_mailbox: Option<String>,
    #[serde(default = "default_true")]
    pub idle: bool,
    /// Polling interval without IDLE; with IDLE, the longest wait between checks.
    pub poll_interval: Option<String>,
    /// How long one network operation may take before the connection is dropped.
    pub timeout: Option<String>,
}

fn default_mailbox() -> String {
    "INBOX".into()
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RawTransport {
    File(RawFileTransport),
    Sendmail(RawSendmailTransport),
    Smtp(RawSmtpTransport),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtpTransport {
    pub host: String,
    /// Default: 465 for `implicit`, 587 for `starttls`, 25 for `none`.
    pub port: Option<u16>,
    /// `implicit` (default), `starttls` or `none` (loopback only).
    pub tls: Option<String>,
    pub ca_file: Option<String>,
    /// With a password: AUTH as this user. Without: no AUTH.
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<String>,
    /// How long one delivery may take before it counts as a transient failure.
    pub timeout: Option<String>,
    /// How many connections one batch of due mail may spread over. Default 4.
    pub connections: Option<u32>,
    pub retry_initial: Option<String>,
    pub retry_max: Option<String>,
    pub give_up_after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFileTransport {
    /// Directory that receives one `.eml` file per sent message.
    pub dir: String,
    /// First delay after a failed delivery; doubles per attempt.
    pub retry_initial: Option<String>,
    /// The longest delay between two attempts.
    pub retry_max: Option<String>,
    /// After this long without success a queued mail is marked failed.
    pub give_up_after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSendmailTransport {
    /// Absolute path of a sendmail-compatible program; it is run as
    /// `command -i -f <from> -- <recipients…>` with the message on standard input.
    pub command: String,
    /// First delay after a failed delivery; doubles per attempt.
    pub retry_initial: Option<String>,
    /// The longest delay between two attempts.
    pub retry_max: Option<String>,
    /// After this long without success a queued mail is marked failed.
    pub give_up_after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSla {
    pub business_days: Option<Vec<String>>,
    pub holidays: Option<Vec<String>>,
    pub acknowledge: Option<String>,
    pub triage: Option<String>,
    pub update_every: Option<String>,
    pub fix: Option<String>,
    pub fix_max: Option<String>,
    pub disclose_after_fix: Option<String>,
    pub remind_before: Option<String>,
    pub escalate_to: Option<String>,
    /// Business hours of a business day, "09:00-17:00".
    pub working_hours: Option<String>,
    /// When the weekly digest goes to the team, "Mon 09:00", or "off".
    pub digest: Option<String>,
    /// `[sla.severity.critical]` …: a fix time per severity.
    pub severity: Option<RawSeverities>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeverities {
    pub critical: Option<RawFix>,
    pub high: Option<RawFix>,
    pub medium: Option<RawFix>,
    pub low: Option<RawFix>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFix {
    pub fix: Option<String>,
    pub fix_max: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTeam {
    /// How a member's commands and relays are authenticated: "openpgp" (a valid
    /// signature by the member's configured key) and/or "dkim" (a `dkim=pass`
    /// result from `trusted_authserv_id`). Default: ["openpgp"].
    pub command_auth: Option<Vec<String>>,
    /// The `authserv-id` of our own inbound server, whose
    /// `Authentication-Results` headers are trusted (required for "dkim").
    pub trusted_authserv_id: Option<String>,
    /// Signed command mail older than this is refused (replay window).
    /// Default "7 days".
    pub signature_max_age: Option<String>,
    /// What members without a `key` get: "metadata" (a notice without the
    /// report's text) or "refuse" (every member must have a key). Default
    /// "metadata".
    pub without_key: Option<String>,
    #[serde(default)]
    pub members: Vec<RawMember>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMember {
    pub name: String,
    pub email: String,
    /// The member's OpenPGP public key.
    pub key: Option<String>,
}

/// `[notify_reporter]`: which state changes made by the team's commands tell
/// the reporter. A key left out keeps its default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifyReporter {
    pub triaged: Option<bool>,
    pub accepted: Option<bool>,
    pub fixed: Option<bool>,
    #[serde(rename = "risk-accepted")]
    pub risk_accepted: Option<bool>,
    pub disclosed: Option<bool>,
}

/// `[bulletin]`: where disclosed advisories are announced.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBulletin {
    /// The announcement list's address; without it no bulletin is sent.
    pub address: Option<String>,
    /// Display name of the bulletin's sender; defaults to the program's name.
    pub from_name: Option<String>,
}

/// `[metrics]`: where `/metrics` and `/healthz` are served.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// `host:port` to listen on, e.g. "127.0.0.1:9464"; no listener without it.
    pub listen: Option<String>,
    /// Accept an address other than loopback; metrics reveal the inbox's activity.
    #[serde(default)]
    pub allow_remote: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemplates {
    /// Directory whose `*.hbs` files override the built-in templates.
    pub dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_message_size: Option<String>,
    pub max_header_size: Option<String>,
    pub max_mime_depth: Option<u32>,
    pub max_attachments: Option<u32>,
    pub auto_replies_per_sender: Option<u32>,
    pub auto_reply_window: Option<String>,
    pub auto_replies_total: Option<u32>,
    pub team_notices_per_sender: Option<u32>,
    pub team_notices_total: Option<u32>,
    pub notice_window: Option<String>,
    pub max_decompressed_size: Option<String>,
    pub max_openpgp_depth: Option<u32>,
    pub max_openpgp_recipients: Option<u32>,
    pub max_mailed_attachment_size: Option<String>,
    pub max_report_attachment_bytes: Option<String>,
    pub max_sender_bytes_per_day: Option<String>,
}

/// One `[[rules]]` entry as written in the configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Names the rule in the event log and in replies (`{{rule}}`); unique.
    pub name: String,
    /// A disabled rule is checked at start-up but never matches. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Regex searched in the subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Regex searched in the first 64 KiB of the plain-text body.
    #[serde(default)]
    pub body: Option<String>,
    /// Regex searched in the sender's address.
    #[serde(default)]
    pub sender: Option<String>,
    /// Regex searched in the subject or the body: either may match.
    #[serde(default)]
    pub text: Option<String>,
    /// State to set: `out-of-scope`, `spam`, `rejected` or `triaged`.
    #[serde(default)]
    pub state: Option<String>,
    /// Tags to add: lower-case letters, digits and `-`, 1 to 32 characters.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Template (without `.txt.hbs`) to answer the reporter with.
    #[serde(default)]
    pub reply: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublish {
    /// Where the site is served, e.g. "https://example.org/security".
    pub base_url: Option<String>,
    /// The daemon writes the site here after every change.
    pub dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecurityTxt {
    /// The day the file expires, e.g. "2027-06-30".
    pub expires: Option<String>,
    /// Language tags, e.g. ["en", "de"].
    #[serde(default)]
    pub languages: Vec<String>,
    /// The key's URL; default `{base_url}/pgp-key.txt`, else `[openpgp] key_url`.
    pub encryption: Option<String>,
    /// The disclosure policy; default `program.policy_url`.
    pub policy: Option<String>,
    /// The Hall of Fame; default `{base_url}/hall-of-fame.html`.
    pub acknowledgments: Option<String>,
    /// Where the file is served; default `{base_url}/.well-known/security.txt`.
    pub canonical: Option<String>,
}

/// `[advisory]`: the publisher of advisory drafts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdvisory {
    /// The vendor of the affected products, as advisories name it.
    pub vendor: String,
    /// The product an advisory names when a report records no `#affects`.
    pub product: Option<String>,
    /// The CNA's organisation id in the CVE program (a UUID).
    pub cna_org_id: Option<String>,
    /// The CNA's short name in the CVE program.
    pub cna_short_name: Option<String>,
    /// The CSAF publisher name; default: `vendor`.
    pub csaf_publisher: Option<String>,
    /// The CSAF publisher namespace, e.g. "https://example.org".
    pub csaf_namespace: Option<String>,
    /// The CSAF publisher category; default "vendor".
    pub csaf_category: Option<String>,
    /// The team's registered OSV id prefix (a home database), if any.
    pub osv_prefix: Option<String>,
    /// The OSV ecosystem of the products ("crates.io", "PyPI", …), if any.
    pub osv_ecosystem: Option<String>,
    /// Where each advisory is published, with `{id}` for the report id, e.g.
    /// "https://example.org/advisories/{id}.html".
    pub url: Option<String>,
}

/// `[monitor]`: the daemon's watch on itself.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    /// Whether to watch at all; default true.
    pub enabled: Option<bool>,
    /// How long the IMAP source may fail before the team is told; default "30m".
    pub alert_after: Option<String>,
    /// How long mail may wait unsent in the outbox; default "1h".
    pub outbox_after: Option<String>,
    /// Days without any mail arriving before the team is told; default 7, 0: never.
    pub quiet_days: Option<u32>,
    /// Below this share of free space (percent) on the database's filesystem the
    /// team is told; default 10, 0: never.
    pub min_free_percent: Option<u8>,
    /// Sends a signed test mail from this address to the program address
    /// once a day and alerts when it does not come back within an hour.
    pub canary_address: Option<String>,
}
