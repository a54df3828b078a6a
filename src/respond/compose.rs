//! Builds complete RFC 5322 mails with lettre, ready to queue byte for byte.

use std::time::SystemTime;

use jiff::Timestamp;
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};

use super::shape;
use super::templates::{
    AckData, DeliveryFailedData, MetadataNoticeData, TemplateError, Templates, UndecryptableData,
};
use crate::config::{Address, Config};
use crate::report::ReportId;
use crate::store::{LineFingerprint, NewMail};

/// A rendered mail for the outbox.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Without angle brackets.
    pub message_id: String,
    /// The SMTP envelope sender: this mail's own return path (see
    /// [`ReturnPath`]), so a bounce names the mail it returns.
    pub envelope_from: String,
    /// The token in `envelope_from`, stored on the outbox row.
    pub return_token: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    /// For mail to the team: the fingerprints of its lines (see
    /// [`super::leak`]), recorded when it is queued. Empty for other mail.
    pub team_lines: Vec<LineFingerprint>,
}

impl Outgoing {
    /// The outbox row for this mail: queued (not held), without a rate key.
    pub fn to_queue<'a>(&'a self, report: Option<&'a ReportId>, kind: &'a str) -> NewMail<'a> {
        NewMail {
            report_id: report,
            kind,
            message_id: &self.message_id,
            envelope_from: &self.envelope_from,
            return_token: Some(&self.return_token),
            recipients: &self.recipients,
            rate_key: None,
            raw: &self.raw,
            held: false,
            team_lines: &self.team_lines,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("cannot address mail to `{address}`: {reason}")]
    Address { address: String, reason: String },
    #[error("cannot build the mail: {0}")]
    Build(String),
}

/// `Auto-Submitted` (RFC 3834), which lettre has no type for.
#[derive(Debug, Clone)]
pub(crate) struct AutoSubmitted(pub(crate) &'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        match s.trim() {
            "auto-replied" => Ok(Self("auto-replied")),
            "auto-generated" => Ok(Self("auto-generated")),
            other => Err(format!("unsupported Auto-Submitted value `{other}`").into()),
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

/// A fresh Message-ID in our domain; [`crate::thread::is_our_message_id`] knows it.
/// It is a UUIDv7 (time first, then random), so ids sort by creation and the
/// outbox's Message-ID index grows at its end instead of at random pages.
pub fn new_message_id(domain: &str, now: Timestamp) -> String {
    let random = uuid::Uuid::new_v4();
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random.as_bytes()[..10]);
    let millis = u64::try_from(now.as_millisecond()).unwrap_or(0);
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid();
    format!("disclosed.{}@{domain}", id.simple())
}

/// A fresh per-message return path, `security+bounce-<token>@domain`: the token
/// holds 122 random bits (a UUIDv4), so only who saw the mail can name it; it is stored
/// with the mail's outbox row, so a bounce to it finds exactly that row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath {
    pub token: String,
    pub address: String,
}

impl ReturnPath {
    pub fn new(program: &Address) -> Self {
        let token = uuid::Uuid::new_v4().as_u128();
        let token = format!("{token:032x}");
        Self {
            address: crate::thread::bounce::return_path(program, &token),
            token,
        }
    }
}

/// `[SEC-…] Re: <original>`, without piling up reply prefixes; the original
/// as [`shape::echoed_subject`] bounds it.
pub fn reply_subject(id: &ReportId, original: &str) -> String {
    let original = shape::echoed_subject(original);
    let mut rest = original.trim();
    loop {
        let lower = rest.get(..3).map(str::to_ascii_lowercase);
        match lower.as_deref() {
            Some("re:" | "aw:" | "sv:") => rest = rest[3..].trim_start(),
            _ => break,
        }
    }
    let rest = rest.replace(&format!("[{id}]"), "");
    let rest = rest.trim();
    if rest.is_empty() {
        format!("[{id}] Re: (no subject)")
    } else {
        format!("[{id}] Re: {rest}")
    }
}

pub(crate) fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, ComposeError> {
    let parsed = address
        .parse()
        .map_err(|err: lettre::address::AddressError| ComposeError::Address {
            address: address.to_owned(),
            reason: err.to_string(),
        })?;
    Ok(Mailbox::new(name.and_then(shape::display_name), parsed))
}

/// What an acknowledgement answers.
#[derive(Debug, Clone, Copy)]
pub struct Original<'a> {
    pub report: &'a ReportId,
    pub reporter: &'a str,
    pub reporter_name: Option<&'a str>,
    pub subject: &'a str,
    pub message_id: Option<&'a str>,
    pub references: &'a [String],
}

/// What every automatic mail from the program starts with: a new Message-ID,
/// `From: <program name> <role> <program address>`, the date, `Auto-Submitted`
/// and a plain-text body.
fn automatic(
    config: &Config,
    role: &str,
    auto_submitted: &'static str,
    now: Timestamp,
) -> Result<(String, lettre::message::MessageBuilder), ComposeError> {
    let program = &config.program;
    let message_id = new_message_id(&program.address.domain, now);
    let builder = Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .header(shape::From::new(mailbox(
            Some(&format!("{} {role}", program.name)),
            &program.address.to_string(),
        )?))
        .date(SystemTime::try_from(now).map_err(|err| ComposeError::Build(err.to_string()))?)
        .header(AutoSubmitted(auto_submitted))
        .header(ContentType::TEXT_PLAIN);
    Ok((message_id, builder))
}

/// The acknowledgement of a new report.
pub fn acknowledgement(
    config: &Config,
    templates: &Templates,
    original: Original<'_>,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    let program = &config.program;
    let address = program.address.to_string();
    let reply_address = program.address.with_tag(original.report.as_str());
    let echoed = shape::echoed_subject(original.subject);
    let body = templates.render(
        "acknowledgement",
        &AckData {
            report_id: original.report.as_str(),
            subject: if echoed.is_empty() {
                "(no subject)"
            } else {
                &echoed
            },
            program_name: &program.name,
            program_address: &address,
            policy_url: &program.policy_url,
            response_time: config.sla.acknowledge.to_string(),
            reply_address: &reply_address,
            reporter_name: original.reporter_name,
        },
    )?;
    let subject = reply_subject(original.report, original.subject);
    automatic_reply(config, &original, &reply_address, subject, body, now)
}

/// An automatic reply to the reporter of `original`: `Reply-To` the report's
/// reply address, threaded under their message.
fn automatic_reply(
    config: &Config,
    original: &Original<'_>,
    reply_address: &str,
    subject: String,
    body: String,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    automatic_to_reporter(
        config,
        original,
        reply_address,
        subject,
        body,
        "auto-replied",
        now,
    )
}

/// A progress update to the reporter of `original` (see
/// [`super::progress`]): like an automatic reply, but `auto-generated`, since
/// the team's command caused it, not the reporter's mail.
pub(super) fn progress_update(
    config: &Config,
    original: Original<'_>,
    reply_address: &str,
    body: String,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    let subject = reply_subject(original.report, original.subject);
    automatic_to_reporter(
        config,
        &original,
        reply_address,
        subject,
        body,
        "auto-generated",
        now,
    )
}

fn automatic_to_reporter(
    config: &Config,
    original: &Original<'_>,
    reply_address: &str,
    subject: String,
    body: String,
    auto_submitted: &'static str,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    let (message_id, builder) = automatic(config, "Security", auto_submitted, now)?;
    let builder = builder
        .header(shape::ReplyTo::new(mailbox(None, reply_address)?))
        .header(shape::To::new(mailbox(
            original.reporter_name,
            original.reporter,
        )?))
        .header(shape::Subject::new(&subject));
    let message = in_reply_to(builder, original)
        .body(body)
        .map_err(|err| ComposeError::Build(err.to_string()))?;
    let path = ReturnPath::new(&config.program.address);
    Ok(Outgoing {
        message_id,
        envelope_from: path.address,
        return_token: path.token,
        recipients: vec![original.reporter.to_owned()],
        raw: formatted(&message)?,
        team_lines: Vec::new(),
    })
}

/// A team member's answer, relayed to the reporter from the program address:
/// no trace of the member's address, and no `Auto-Submitted` (a person wrote it).
pub fn relay(
    config: &Config,
    original: Original<'_>,
    text: &str,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    let program = &config.program;
    let message_id = new_message_id(&program.address.domain, now);
    let reply_address = program.address.with_tag(original.report.as_str());
    let builder = Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .header(shape::From::new(mailbox(
            Some(&format!("{} Security", program.name)),
            &program.address.to_string(),
        )?))
        .header(shape::ReplyTo::new(mailbox(None, &reply_address)?))
        .header(shape::To::new(mailbox(
            original.reporter_name,
            original.reporter,
        )?))
        .header(shape::Subject::new(&reply_subject(
            original.report,
            original.subject,
        )))
        .date(SystemTime::try_from(now).map_err(|err| ComposeError::Build(err.to_string()))?)
        .header(ContentType::TEXT_PLAIN);
    let mut body = text.trim_end().to_owned();
    body.push('\n');
    let message = in_reply_to(builder, &original)
        .body(body)
        .map_err(|err| ComposeError::Build(err.to_string()))?;
    let path = ReturnPath::new(&program.address);
    Ok(Outgoing {
        message_id,
        envelope_from: path.address,
        return_token: path.token,
        recipients: vec![original.reporter.to_owned()],
        raw: formatted(&message)?,
        team_lines: Vec::new(),
    })
}

/// A templated answer to the reporter (`duplicate`, `out-of-scope`…), sent
/// automatically.
pub fn reporter_reply(
    config: &Config,
    templates: &Templates,
    template: &'static str,
    original: Original<'_>,
    rule: Option<&str>,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    let program = &config.program;
    let reply_address = program.address.with_tag(original.report.as_str());
    let echoed = shape::echoed_subject(original.subject);
    let body = templates.render(
        template,
        &super::templates::ReporterReplyData {
            report_id: original.report.as_str(),
            subject: if echoed.is_empty() {
                "(no subject)"
            } else {
                &echoed
            },
            program_name: &program.name,
            policy_url: &program.policy_url,
            reply_address: &reply_address,
            reporter_name: original.reporter_name,
            rule,
        },
    )?;
    let subject = reply_subject(original.report, original.subject);
    automatic_reply(config, &original, &reply_address, subject, body, now)
}

/// Sets `In-Reply-To` and `References` so the reporter's client threads the
/// reply: the ids as [`shape::references`] keeps them.
fn in_reply_to(
    builder: lettre::message::MessageBuilder,
    original: &Original<'_>,
) -> lettre::message::MessageBuilder {
    threaded(builder, original.references, original.message_id)
}

/// `builder` with `In-Reply-To: <parent>` (when it is a valid id) and the
/// `References` [`shape::references`] keeps.
pub(crate) fn threaded(
    mut builder: lettre::message::MessageBuilder,
    earlier: &[String],
    parent: Option<&str>,
) -> lettre::message::MessageBuilder {
    let Some(parent) = parent else {
        return builder;
    };
    if shape::is_message_id(parent) {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    let ids = shape::references(earlier, Some(parent));
    if !ids.is_empty() {
        builder = builder.references(shape::id_list(&ids));
    }
    builder
}

/// The bytes of `message`, refused if a header line is still longer than RFC
/// 5322 allows (an address no display name shortening could fix).
pub(crate) fn formatted(message: &Message) -> Result<Vec<u8>, ComposeError> {
    let raw = message.formatted();
    match shape::overlong_header_line(&raw) {
        None => Ok(raw),
        Some(line) => Err(ComposeError::Build(format!(
            "header line {line} would be longer than {} octets",
            shape::MAX_LINE_OCTETS
        ))),
    }
}

/// Why an encrypted report could not be read, for the reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Encrypted to a key we do not have.
    WrongKey,
    /// Damaged, truncated, or beyond our limits.
    Damaged,
}

/// The acknowledgement of a report we could not decrypt: it says only that,
/// and which key to use; nothing of the reporter's message (not even its subject).
pub fn undecryptable_acknowledgement(
    config: &Config,
    templates: &Templates,
    original: Original<'_>,
    why: Unreadable,
    key_fingerprint: &str,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    let program = &config.program;
    let reply_address = program.address.with_tag(original.report.as_str());
    let grouped: Vec<String> = key_fingerprint
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let key_url =
        config.openpgp.key_url.clone().unwrap_or_else(|| {
            format!("https://{}/.well-known/pgp-key.txt", program.address.domain)
        });
    let body = templates.render(
        "acknowledgement-undecryptable",
        &UndecryptableData {
            report_id: original.report.as_str(),
            program_name: &program.name,
            policy_url: &program.policy_url,
            reply_address: &reply_address,
            reason: match why {
                Unreadable::WrongKey => "it was encrypted to a key we do not have",
                Unreadable::Damaged => "the encrypted data was damaged or incomplete",
            },
            key_fingerprint: grouped.join(" "),
            key_url: &key_url,
        },
    )?;
    let subject = format!(
        "[{}] We could not read your encrypted message",
        original.report
    );
    automatic_reply(config, &original, &reply_address, subject, body, now)
}

/// What a key confirmation mail is about.
#[derive(Debug, Clone, Copy)]
pub struct KeyConfirmationRequest<'a> {
    /// The correspondent's address, which the key names.
    pub to: &'a str,
    /// The key to confirm (upper-case hex); the mail is encrypted to it.
    pub fingerprint: &'a str,
    /// The one-time token the reply must carry back.
    pub token: &'a str,
    pub expires: Timestamp,
    /// The report whose held mail waits for the key: replies go to its address.
    pub report: Option<&'a ReportId>,
}

/// The mail asking `r.to` to prove the key `r.fingerprint` by replying with
/// `r.token`: from the program address, `Auto-Submitted: auto-generated`,
/// `Reply-To` the report's reply address so the answer joins that report.
/// It holds nothing of any report but its id.
pub fn key_confirmation(
    config: &Config,
    templates: &Templates,
    r: KeyConfirmationRequest<'_>,
    now: Timestamp,
) -> Result<Outgoing, ComposeError> {
    let program = &config.program;
    let reply_address = match r.report {
        Some(id) => program.address.with_tag(id.as_str()),
        None => program.address.to_string(),
    };
    let grouped: Vec<String> = r
        .fingerprint
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let body = templates.render(
        "key-confirmation",
        &super::templates::KeyConfirmationData {
            program_name: &program.name,
            address: r.to,
            fingerprint: grouped.join(" "),
            token: r.token,
            expires: r
                .expires
                .to_zoned_datetime(program.timezone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string(),
            report_id: r.report.map(ReportId::as_str),
        },
    )?;
    let subject = match r.report {
        Some(id) => format!("[{id}] Please confirm your OpenPGP key"),
        None => "Please confirm your OpenPGP key".to_owned(),
    };
    let (message_id, builder) = automatic(config, "Security", "auto-generated", now)?;
    let message = builder
        .header(shape::ReplyTo::new(mailbox(None, &reply_address)?))
        .header(shape::To::new(mailbox(None, r.to)?))
        .header(shape::Subject::new(&subject))
        .body(body)
        .map_err(|err| ComposeError::Build(err.to_string()))?;
    let path = ReturnPath::new(&program.address);
    Ok(Outgoing {
        message_id,
        envelope_from: path.address,
        return_token: path.token,
        recipients: vec![r.to.to_owned()],
        raw: formatted(&message)?,
        team_lines: Vec::new(),
    })
}

/// The text telling the team that `failed` could not be delivered, and why.
pub fn delivery_failure(
    config: &Config,
    templates: &Templates,
    failed: &crate::store::QueuedMail,
    reason: &str,
) -> Result<String, ComposeError> {
    let program = &config.program;
    let report = failed.report_id.as_deref();
    let body = templates.render(
        "delivery-failed",
        &DeliveryFailedData {
            program_name: &program.name,
            report_id: report,
            kind: &failed.kind,
            recipients: failed.recipients.join(", "),
            message_id: &failed.message_id,
            queued_at: failed
                .created_at
                .to_zoned_datetime(program.timezone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string(),
            attempts: failed.attempts + 1,
            reason,
        },
    )?;
    Ok(body)
}

/// The subject and text of the notice a member without an OpenPGP key gets in
/// place of a team mail about `report`: what happened (`headline`, which must
/// hold no report content), the report's id, state and deadlines, nothing more.
pub fn metadata_notice(
    templates: &Templates,
    headline: &str,
    report: Option<&ReportId>,
    state: Option<&str>,
    deadlines: Vec<String>,
) -> Result<(String, String), ComposeError> {
    metadata_notice_listing(templates, headline, report, state, deadlines, Vec::new())
}

/// [`metadata_notice`] that also lists `results`, the reports a `#search`
/// found, each as its id and state only.
pub fn metadata_notice_listing(
    templates: &Templates,
    headline: &str,
    report: Option<&ReportId>,
    state: Option<&str>,
    deadlines: Vec<String>,
    results: Vec<String>,
) -> Result<(String, String), ComposeError> {
    let body = templates.render(
        "team-metadata",
        &MetadataNoticeData {
            headline,
            report_id: report.map(ReportId::as_str),
            state,
            deadlines,
            results,
        },
    )?;
    let subject = match report {
        Some(id) => format!("[{id}] {headline}"),
        None => headline.to_owned(),
    };
    Ok((subject, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_subjects() {
        let id = ReportId::new("SEC", 2026, 7);
        assert_eq!(
            reply_subject(&id, "XSS in login"),
            "[SEC-2026-0007] Re: XSS in login"
        );
        assert_eq!(
            reply_subject(&id, "Re: RE: aw: XSS"),
            "[SEC-2026-0007] Re: XSS"
        );
        assert_eq!(reply_subject(&id, ""), "[SEC-2026-0007] Re: (no subject)");
        assert_eq!(
            reply_subject(&id, "[SEC-2026-0007] follow-up"),
            "[SEC-2026-0007] Re: follow-up"
        );
    }

    #[test]
    fn message_ids_are_unique_and_ours() {
        let now = Timestamp::from_second(1_795_000_000).expect("time");
        let later = Timestamp::from_second(1_795_000_001).expect("time");
        let a = new_message_id("example.org", now);
        assert_ne!(a, new_message_id("example.org", now));
        assert!(a < new_message_id("example.org", later), "ids sort by time");
        let program = crate::config::Address::parse("security@example.org").expect("address");
        assert!(crate::thread::is_our_message_id(&a, &program));
    }

    #[test]
    fn every_mail_gets_its_own_return_path() {
        let program = Address::parse("security@example.org").expect("address");
        let a = ReturnPath::new(&program);
        let b = ReturnPath::new(&program);
        assert_ne!(a.token, b.token);
        assert_eq!(
            crate::thread::bounce::return_token([a.address.as_str()], &program).as_deref(),
            Some(a.token.as_str())
        );
        assert_eq!(a.token.len(), crate::thread::bounce::TOKEN_LEN);
    }
}
