//! Mail to the team: one message per member, encrypted to that member's key.
//! A member without a usable key gets only what may travel in clear.
//! Every mail to the team carries the fingerprints of its lines to the outbox,
//! where they are recorded with it: no relay may carry them to a reporter
//! ([`super::leak`]).

use std::time::SystemTime;

use jiff::Timestamp;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};

use super::compose::{
    ComposeError, Outgoing, ReturnPath, formatted, mailbox, new_message_id, threaded,
};
use super::leak;
use super::protect::Protection;
use super::strip::Members;
use crate::config::{Address, Config, Member};
use crate::crypto::{Crypto, seal};
use crate::parse::AttachmentContent;

/// What one mail to the team says.
#[derive(Debug, Clone)]
pub struct TeamMail<'a> {
    pub subject: String,
    /// The whole body.
    pub body: String,
    /// Whether the subject, body or attachments hold report content. Then a
    /// member without a key gets `metadata` (subject and body) instead, or
    /// nothing if that is `None`.
    pub secret: bool,
    pub metadata: Option<(String, String)>,
    pub attachments: &'a [AttachmentContent],
    /// Where a reply goes (the report's internal address).
    pub reply_to: Option<String>,
    /// Display name of the sender, e.g. "Alice via Example security".
    pub from_name: String,
    /// Message-IDs (without brackets) this mail follows, for threading.
    pub references: Vec<String>,
    /// `Auto-Submitted` value; `None` for mail a person wrote (a relayed note).
    pub auto_submitted: Option<&'static str>,
}

/// One member's copy.
#[derive(Debug, Clone)]
pub struct MemberMail {
    pub member: Address,
    pub mail: Outgoing,
    pub protection: Protection,
}

#[derive(Debug, thiserror::Error)]
pub enum TeamMailError {
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error("cannot encrypt the team mail to {member}: {source}")]
    Seal {
        member: Address,
        source: seal::SealError,
    },
}

/// Renders `mail` for each member except `except`. Members who get nothing
/// (no key, and the mail is secret without a metadata version) are listed in
/// the second value.
pub fn to_members(
    config: &Config,
    crypto: &Crypto,
    mail: &TeamMail<'_>,
    except: Option<&Address>,
    now: Timestamp,
) -> Result<(Vec<MemberMail>, Vec<Address>), TeamMailError> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let team = team_members(config);
    for member in config
        .team
        .members
        .iter()
        .filter(|m| Some(&m.email) != except)
    {
        match for_member(config, crypto, mail, member, &team, now)? {
            Some(m) => out.push(m),
            None => skipped.push(member.email.clone()),
        }
    }
    Ok((out, skipped))
}

/// Renders `mail` for the member with `address`; `None` if they get nothing.
pub fn to_member(
    config: &Config,
    crypto: &Crypto,
    mail: &TeamMail<'_>,
    address: &Address,
    now: Timestamp,
) -> Result<Option<MemberMail>, TeamMailError> {
    match config.team.members.iter().find(|m| &m.email == address) {
        Some(member) => for_member(config, crypto, mail, member, &team_members(config), now),
        None => Ok(None),
    }
}

/// Renders `mail` for an address outside the team (e.g. `[sla] escalate_to`):
/// encrypted if it is a member's, else what may travel in clear.
pub fn to_address(
    config: &Config,
    crypto: &Crypto,
    mail: &TeamMail<'_>,
    address: &Address,
    now: Timestamp,
) -> Result<Option<MemberMail>, TeamMailError> {
    let outsider = Member {
        name: String::new(),
        email: address.clone(),
        key: None,
    };
    let member = config
        .team
        .members
        .iter()
        .find(|m| &m.email == address)
        .unwrap_or(&outsider);
    for_member(config, crypto, mail, member, &team_members(config), now)
}

/// Every member's address and name, as relays replace them: the lines of team
/// mail are fingerprinted the same way.
pub fn team_members(config: &Config) -> Members {
    let entries: Vec<String> = config
        .team
        .members
        .iter()
        .flat_map(|m| [m.email.to_string(), m.name.clone()])
        .collect();
    let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
    Members::new(&entries)
}

fn for_member(
    config: &Config,
    crypto: &Crypto,
    mail: &TeamMail<'_>,
    member: &Member,
    team_members: &Members,
    now: Timestamp,
) -> Result<Option<MemberMail>, TeamMailError> {
    let key = crypto
        .member_cert(&member.email.to_string())
        .filter(|c| seal::usable_for_encryption(c, now));
    let team = crypto.team.as_deref();
    let full = (mail.subject.as_str(), mail.body.as_str(), mail.attachments);
    let (content, encrypt) = match (key, team) {
        (Some(key), Some(team)) => (full, Some((key, team))),
        _ if !mail.secret => (full, None),
        _ => match &mail.metadata {
            Some((subject, body)) => ((subject.as_str(), body.as_str(), &[][..]), None),
            None => return Ok(None),
        },
    };
    let (message_id, plain) = render(config, mail, member, content, now)?;
    // What this member reads, subject included, as the relay check knows it.
    let team_lines = leak::fingerprints(&format!("{}\n{}", content.0, content.1), team_members);
    let seal_err = |source| TeamMailError::Seal {
        member: member.email.clone(),
        source,
    };
    let (raw, protection) = match (encrypt, team) {
        (Some((key, team)), _) => (
            seal::encrypt(&plain, std::slice::from_ref(key), team, now).map_err(seal_err)?,
            Protection::Encrypt,
        ),
        (None, Some(team)) => (
            seal::sign(&plain, team, now).map_err(seal_err)?,
            Protection::Sign,
        ),
        (None, None) => (plain, Protection::Clear),
    };
    let path = ReturnPath::new(&config.program.address);
    Ok(Some(MemberMail {
        member: member.email.clone(),
        mail: Outgoing {
            message_id,
            envelope_from: path.address,
            return_token: path.token,
            recipients: vec![member.email.to_string()],
            raw,
            team_lines,
        },
        protection,
    }))
}

fn render(
    config: &Config,
    mail: &TeamMail<'_>,
    member: &Member,
    (subject, body, attachments): (&str, &str, &[AttachmentContent]),
    now: Timestamp,
) -> Result<(String, Vec<u8>), ComposeError> {
    let program = &config.program;
    let message_id = new_message_id(&program.address.domain, now);
    let mut builder = Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .header(super::shape::From::new(mailbox(
            Some(&mail.from_name),
            &program.address.to_string(),
        )?))
        .header(super::shape::To::new(mailbox(
            Some(&member.name)
                .filter(|n| !n.is_empty())
                .map(String::as_str),
            &member.email.to_string(),
        )?))
        .date(SystemTime::try_from(now).map_err(|err| ComposeError::Build(err.to_string()))?)
        .header(super::shape::Subject::new(subject));
    if let Some(auto) = mail.auto_submitted {
        builder = builder.header(super::compose::AutoSubmitted(auto));
    }
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.header(super::shape::ReplyTo::new(mailbox(None, reply_to)?));
    }
    if let Some((parent, earlier)) = mail.references.split_last() {
        builder = threaded(builder, earlier, Some(parent));
    }
    let build = |err: lettre::error::Error| ComposeError::Build(err.to_string());
    let message = if attachments.is_empty() {
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(build)?
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body.to_owned()));
        for a in attachments {
            // A type longer than any real one would make an unfoldable line.
            let content_type = Some(&a.content_type)
                .filter(|t| t.len() <= 100)
                .and_then(|t| ContentType::parse(t).ok())
                .unwrap_or_else(|| {
                    ContentType::parse("application/octet-stream")
                        .unwrap_or(ContentType::TEXT_PLAIN)
                });
            let name = a.name.clone().unwrap_or_else(|| "attachment".into());
            parts = parts.singlepart(Attachment::new(name).body(a.data.clone(), content_type));
        }
        builder.multipart(parts).map_err(build)?
    };
    Ok((message_id, formatted(&message)?))
}
