//! MIME parsing: from raw bytes to the facts later stages need (ids, addresses,
//! text, attachments, loop signals), with every oddity noted as a [`Problem`].
//!
//! mail-parser does the MIME work and never gives up on bad input; what we add is a
//! look at the raw header block (size, malformed lines) and limits on depth and
//! attachment count. Parsing never fails: a hopeless message still yields a
//! [`ParsedMessage`] with its problems listed.

mod headers;
mod problem;

use std::borrow::Cow;

use jiff::Timestamp;
use mail_parser::{HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

pub use headers::{HeaderScan, scan_headers};
pub use problem::Problem;

/// Longest subject kept, in characters: what the store holds and every mail
/// echoes. A longer one is cut at a character boundary and ends in `…`, so a
/// megabyte `Subject` costs a few hundred bytes downstream; the raw message
/// keeps it whole.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// Longest display name kept, in characters (cut like a subject).
pub const MAX_NAME_CHARS: usize = 100;

/// Longest attachment file name kept, in characters (cut like a subject).
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// Limits the parser enforces (from `[limits]`).
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    pub max_header_size: u64,
    pub max_mime_depth: u32,
    pub max_attachments: u32,
    /// Longest readable text kept in the store; the raw message is always whole.
    pub max_text_len: usize,
}

impl ParseLimits {
    pub fn from_config(limits: &crate::config::Limits) -> Self {
        Self {
            max_header_size: limits.max_header_size,
            max_mime_depth: limits.max_mime_depth,
            max_attachments: limits.max_attachments,
            max_text_len: 1 << 20,
        }
    }
}

/// A sender or recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Lower-cased.
    pub address: String,
    pub name: Option<String>,
}

/// What the envelope's `Return-Path` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnPath {
    Missing,
    /// `<>`: a bounce or other automatic mail (RFC 5321 §4.5.5).
    Empty,
    Address(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// The facts of one message.
#[derive(Debug, Clone)]
pub struct ParsedMessage {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from: Option<Mailbox>,
    pub return_path: ReturnPath,
    /// To and Cc.
    pub recipients: Vec<Mailbox>,
    /// `Delivered-To`, `X-Original-To`, `Envelope-To`: where the MTA delivered it.
    pub delivered_to: Vec<String>,
    pub subject: String,
    pub date: Option<Timestamp>,
    pub text: String,
    /// The readable body as HTML when any of its parts is HTML (plain parts
    /// are wrapped in `<pre>`), else `None`. `text` converts HTML and loses
    /// the structure that marks quoted mail; what is relayed from a member is
    /// stripped from this instead.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// `Auto-Submitted` value, lower-cased, when present and not `no`.
    pub auto_submitted: Option<String>,
    /// `X-Autoreply`/`X-Autorespond` present.
    pub auto_reply_header: bool,
    /// `Precedence`, lower-cased.
    pub precedence: Option<String>,
    pub list_id: Option<String>,
    /// A delivery status notification (`multipart/report; report-type=delivery-status`).
    pub is_dsn: bool,
    /// Message-IDs of the original mail a DSN returns.
    pub returned_message_ids: Vec<String>,
    /// The message may carry OpenPGP (encrypted or signed parts, armor, keys,
    /// an Autocrypt header): worth handing to `crypto::open`.
    pub openpgp_hint: bool,
    /// The top-level header block has a `Subject` / `From` (for an inner
    /// entity: protected headers that replace the outer ones).
    pub has_subject_header: bool,
    pub has_from_header: bool,
    pub problems: Vec<Problem>,
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Parses `raw`. Never fails; see [`ParsedMessage::problems`].
pub fn parse(raw: &[u8], limits: &ParseLimits) -> ParsedMessage {
    let scan = scan_headers(raw);
    let mut problems = Vec::new();
    if scan.header_len as u64 > limits.max_header_size {
        problems.push(Problem::HeaderTooLarge {
            size: scan.header_len as u64,
            limit: limits.max_header_size,
        });
    }
    if let Some(line) = scan.first_malformed_line {
        problems.push(Problem::MalformedHeader {
            line,
            count: scan.malformed_lines,
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        problems.push(Problem::Empty);
    }

    let Some(message) = MessageParser::default().parse(raw) else {
        problems.extend([
            Problem::Unparseable,
            Problem::NoMessageId,
            Problem::NoSender,
        ]);
        return ParsedMessage::empty(problems);
    };

    let message_id = message
        .message_id()
        .map(clean_id)
        .filter(|id| !id.is_empty());
    if message_id.is_none() {
        problems.push(Problem::NoMessageId);
    }
    let in_reply_to = id_list(message.in_reply_to()).into_iter().next();
    let references = id_list(message.references());

    let from = message
        .from()
        .or_else(|| message.sender())
        .and_then(|a| a.first())
        .and_then(|addr| {
            Some(Mailbox {
                address: clean_address(addr.address()?)?,
                name: addr
                    .name()
                    .map(|n| clip(&clean_text(n), MAX_NAME_CHARS).into_owned())
                    .filter(|n| !n.is_empty()),
            })
        });
    if from.is_none() {
        problems.push(Problem::NoSender);
    }
    let recipients = message
        .all_to()
        .chain(message.all_cc())
        .flat_map(|list| list.iter())
        .filter_map(|addr| {
            Some(Mailbox {
                address: clean_address(addr.address()?)?,
                name: addr
                    .name()
                    .map(|n| clip(&clean_text(n), MAX_NAME_CHARS).into_owned()),
            })
        })
        .collect();

    let mut delivered_to = Vec::new();
    let mut return_path = ReturnPath::Missing;
    let mut auto_submitted = None;
    let mut auto_reply_header = false;
    let mut precedence = None;
    let mut list_id = None;
    let mut openpgp_hint = false;
    for header in message.headers() {
        let name = header.name.as_str();
        if name.eq_ignore_ascii_case("Autocrypt") {
            openpgp_hint = true;
        }
        let text = || header_text(&header.value);
        if name.eq_ignore_ascii_case("Delivered-To")
            || name.eq_ignore_ascii_case("X-Original-To")
            || name.eq_ignore_ascii_case("Envelope-To")
        {
            delivered_to.extend(text().and_then(|t| clean_address(&t)));
        } else if name.eq_ignore_ascii_case("Return-Path") {
            return_path = match text() {
                Some(t) if t.trim().trim_matches(['<', '>']).trim().is_empty() => ReturnPath::Empty,
                Some(t) => clean_address(&t).map_or(ReturnPath::Empty, ReturnPath::Address),
                None => ReturnPath::Empty,
            };
        } else if name.eq_ignore_ascii_case("Auto-Submitted") {
            let value = text().unwrap_or_default();
            let value = value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if value != "no" && !value.is_empty() {
                auto_submitted = Some(value);
            }
        } else if name.eq_ignore_ascii_case("X-Autoreply")
            || name.eq_ignore_ascii_case("X-Autorespond")
        {
            auto_reply_header = true;
        } else if name.eq_ignore_ascii_case("Precedence") {
            precedence = text().map(|t| t.trim().to_ascii_lowercase());
        } else if name.eq_ignore_ascii_case("List-Id") {
            list_id = text().map(|t| clean_text(&t));
        }
    }

    let subject = message
        .subject()
        .map(|s| clip(&clean_text(s), MAX_SUBJECT_CHARS).into_owned())
        .unwrap_or_default();
    let date = match message.date() {
        Some(d) if d.is_valid() => Timestamp::from_second(d.to_timestamp()).ok(),
        _ => None,
    };
    if date.is_none() && message.header(HeaderName::Date).is_some() {
        problems.push(Problem::BadDate);
    }

    let root_type = message.content_type();
    let is_dsn = root_type.is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"))
    });

    let depth = mime_depth(&message, limits.max_mime_depth);
    if depth > limits.max_mime_depth {
        problems.push(Problem::MimeTooDeep {
            depth,
            limit: limits.max_mime_depth,
        });
    }

    let mut text = String::new();
    for i in 0..message.text_body_count().max(1) {
        if let Some(part) = message.body_text(i) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&part);
        }
        if text.len() > limits.max_text_len {
            break;
        }
    }
    if text.contains('\u{FFFD}') || message.parts.iter().any(|p| p.is_encoding_problem) {
        problems.push(Problem::UndecodableText);
    }
    if text.len() > limits.max_text_len {
        let mut cut = limits.max_text_len;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        problems.push(Problem::TextTruncated {
            limit: limits.max_text_len,
        });
    }
    let text = text.replace('\0', "");
    let html = body_html(&message, limits.max_text_len);

    openpgp_hint |= root_type.is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .attribute("protocol")
                .is_some_and(|p| p.to_ascii_lowercase().starts_with("application/pgp"))
    }) || text.contains("-----BEGIN PGP ");
    let mut attachments = Vec::new();
    let mut returned_message_ids = Vec::new();
    for part in message.attachments() {
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        if is_dsn {
            returned_message_ids.extend(returned_id(part, &content_type));
        }
        if attachments.len() >= limits.max_attachments as usize {
            problems.push(Problem::TooManyAttachments {
                limit: limits.max_attachments,
            });
            break;
        }
        let contents = part.contents();
        let name = part.attachment_name().unwrap_or("").to_ascii_lowercase();
        openpgp_hint |= content_type.starts_with("application/pgp")
            || [".pgp", ".gpg", ".asc"]
                .iter()
                .any(|ext| name.ends_with(ext));
        attachments.push(Attachment {
            name: part.attachment_name().map(file_name),
            content_type,
            size: contents.len() as u64,
            sha256: sha256_hex(contents),
        });
    }

    ParsedMessage {
        message_id,
        in_reply_to,
        references,
        from,
        return_path,
        recipients,
        delivered_to,
        subject,
        date,
        text,
        html,
        attachments,
        auto_submitted,
        auto_reply_header,
        precedence,
        list_id,
        is_dsn,
        returned_message_ids,
        openpgp_hint,
        has_subject_header: message.header(HeaderName::Subject).is_some(),
        has_from_header: message.header(HeaderName::From).is_some(),
        problems,
    }
}

/// `outer` with what its readable inner entity says (a decrypted PGP/MIME part,
/// or one rebuilt from inline PGP): the inner text and attachments, and the
/// inner `Subject` when present there (a protected subject wins over the outer
/// placeholder). The sender, ids and routing headers stay the outer ones; a
/// protected `From` that differs is recorded as a problem.
pub fn merge_inner(outer: &ParsedMessage, inner: ParsedMessage) -> ParsedMessage {
    let mut merged = outer.clone();
    merged.text = inner.text;
    merged.html = inner.html;
    merged.attachments = inner.attachments;
    if inner.has_subject_header && !inner.subject.is_empty() {
        merged.subject = inner.subject;
    }
    // The outer From is the one the receiving server checked (DKIM, SPF) and
    // the one replies go to: a protected From never replaces it, nor fills in
    // a missing one (a domain's DKIM pass would then vouch for any name in it).
    if inner.has_from_header
        && let Some(inner_from) = inner.from
        && merged
            .from
            .as_ref()
            .is_none_or(|outer| !outer.address.eq_ignore_ascii_case(&inner_from.address))
    {
        merged.problems.push(Problem::ProtectedFromMismatch {
            inner: inner_from.address,
        });
    }
    merged
        .problems
        .extend(inner.problems.into_iter().filter(|p| {
            matches!(
                p,
                Problem::UndecodableText
                    | Problem::TextTruncated { .. }
                    | Problem::MimeTooDeep { .. }
                    | Problem::TooManyAttachments { .. }
            )
        }));
    merged
}

/// An attachment with its decoded bytes, for forwarding it to the team.
#[derive(Debug, Clone)]
pub struct AttachmentContent {
    pub name: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The attachments of `raw` (a whole mail or a readable inner entity) with their
/// bytes, at most `limits.max_attachments`, in the order [`parse`] lists them.
pub fn attachment_contents(raw: &[u8], limits: &ParseLimits) -> Vec<AttachmentContent> {
    attachment_contents_where(raw, limits, |_| true)
}

/// Like [`attachment_contents`], but only the attachments whose position (from
/// 0, in the order [`parse`] lists them) `wanted` accepts: the bytes of the
/// others are not copied.
pub fn attachment_contents_where(
    raw: &[u8],
    limits: &ParseLimits,
    wanted: impl Fn(usize) -> bool,
) -> Vec<AttachmentContent> {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    message
        .attachments()
        .take(limits.max_attachments as usize)
        .enumerate()
        .filter(|(i, _)| wanted(*i))
        .map(|(_, part)| AttachmentContent {
            name: part.attachment_name().map(file_name),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                    None => ct.ctype().to_ascii_lowercase(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            data: part.contents().to_vec(),
        })
        .collect()
}

/// The values of the top-level `Authentication-Results` headers of `raw`, top
/// first. Only the outer header block counts: headers inside an encrypted or
/// signed entity were written by the sender, not by our server.
pub fn authentication_results(raw: &[u8]) -> Vec<String> {
    let head = &raw[..scan_headers(raw).header_len.min(raw.len())];
    let Some(message) = MessageParser::default().parse_headers(head) else {
        return Vec::new();
    };
    message
        .headers()
        .iter()
        .filter(|h| {
            h.name
                .as_str()
                .eq_ignore_ascii_case("Authentication-Results")
        })
        .filter_map(|h| head.get(h.offset_start as usize..h.offset_end as usize))
        .map(|value| String::from_utf8_lossy(value).trim().to_owned())
        .collect()
}

/// The addresses of the outer `To:` header of `raw` alone (not `Cc:`), lower
/// case: what a DKIM signature listing `to` covers.
pub fn to_addresses(raw: &[u8]) -> Vec<String> {
    let head = &raw[..scan_headers(raw).header_len.min(raw.len())];
    let Some(message) = MessageParser::default().parse_headers(head) else {
        return Vec::new();
    };
    message
        .all_to()
        .flat_map(|list| list.iter())
        .filter_map(|addr| clean_address(addr.address()?))
        .collect()
}

/// Parses only the header block (for messages too large to load whole).
pub fn parse_headers_only(head: &[u8], limits: &ParseLimits) -> ParsedMessage {
    let mut parsed = parse(head, limits);
    parsed.text.clear();
    parsed.html = None;
    parsed.attachments.clear();
    parsed
        .problems
        .retain(|p| !matches!(p, Problem::UndecodableText | Problem::Empty));
    parsed
}

impl ParsedMessage {
    fn empty(problems: Vec<Problem>) -> Self {
        Self {
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            from: None,
            return_path: ReturnPath::Missing,
            recipients: Vec::new(),
            delivered_to: Vec::new(),
            subject: String::new(),
            date: None,
            text: String::new(),
            html: None,
            attachments: Vec::new(),
            auto_submitted: None,
            auto_reply_header: false,
            precedence: None,
            list_id: None,
            is_dsn: false,
            returned_message_ids: Vec::new(),
            openpgp_hint: false,
            has_subject_header: false,
            has_from_header: false,
            problems,
        }
    }

    /// Every Message-ID this message refers to, most specific first.
    pub fn referenced_ids(&self) -> impl Iterator<Item = &str> {
        self.in_reply_to
            .iter()
            .chain(self.references.iter().rev())
            .chain(self.returned_message_ids.iter())
            .map(String::as_str)
    }
}

/// The Message-ID of the original in a DSN part (`message/rfc822` or `text/rfc822-headers`).
fn returned_id(part: &mail_parser::MessagePart<'_>, content_type: &str) -> Option<String> {
    match &part.body {
        PartType::Message(inner) => inner.message_id().map(clean_id),
        _ if content_type == "text/rfc822-headers" || content_type == "message/rfc822" => {
            MessageParser::default()
                .parse_headers(part.contents())
                .and_then(|m| m.message_id().map(clean_id))
        }
        _ => None,
    }
}

/// The text body parts as one HTML document, when any of them is HTML; at most
/// about `limit` bytes (a longer body is cut, never passed on whole).
fn body_html(message: &mail_parser::Message<'_>, limit: usize) -> Option<String> {
    let parts: Vec<&PartType<'_>> = message
        .text_body
        .iter()
        .filter_map(|&id| message.parts.get(id as usize))
        .map(|part| &part.body)
        .collect();
    if !parts.iter().any(|body| matches!(body, PartType::Html(_))) {
        return None;
    }
    let mut html = String::new();
    for body in parts {
        match body {
            PartType::Html(part) => html.push_str(part),
            PartType::Text(part) => {
                html.push_str("<pre>");
                for c in part.chars() {
                    match c {
                        '<' => html.push_str("&lt;"),
                        '>' => html.push_str("&gt;"),
                        '&' => html.push_str("&amp;"),
                        c => html.push(c),
                    }
                }
                html.push_str("</pre>");
            }
            _ => {}
        }
        if html.len() > limit {
            let mut cut = limit;
            while !html.is_char_boundary(cut) {
                cut -= 1;
            }
            html.truncate(cut);
            break;
        }
    }
    Some(html.replace('\0', ""))
}

/// Nesting depth of multiparts and of messages inside messages
/// (`message/rfc822`, whose own parts nest one level below it), walked without
/// recursion so hostile input cannot exhaust the stack. The walk stops one
/// level past `limit`: a deeper message is too deep either way, and its inner
/// parts are never looked at.
fn mime_depth(message: &mail_parser::Message<'_>, limit: u32) -> u32 {
    let mut deepest = 0;
    let mut stack = vec![(message, 0u32, 1u32)];
    let mut visited = 0usize;
    while let Some((msg, id, depth)) = stack.pop() {
        visited += 1;
        deepest = deepest.max(depth);
        if depth > limit || visited > MAX_PARTS_WALKED {
            // Past the limit nothing more is learned; a cycle would be a parser bug.
            continue;
        }
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Multipart(children) => {
                stack.extend(children.iter().map(|c| (msg, *c, depth + 1)));
            }
            PartType::Message(inner) => stack.push((inner, 0, depth + 1)),
            _ => {}
        }
    }
    deepest
}

/// Most parts [`mime_depth`] visits, nested messages included.
const MAX_PARTS_WALKED: usize = 100_000;

/// `text` cut to at most `max` characters, on a character boundary, the last
/// one an ellipsis when anything was cut.
pub fn clip(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            let mut cut = text[..end].trim_end().to_owned();
            cut.push('…');
            Cow::Owned(cut)
        }
    }
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![clean_id(t)],
        HeaderValue::TextList(list) => list.iter().map(|t| clean_id(t)).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|id| !id.is_empty())
    .collect()
}

fn header_text(value: &HeaderValue<'_>) -> Option<String> {
    match value {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(list) => list.first().map(|t| t.to_string()),
        HeaderValue::Address(a) => a.first().and_then(|a| a.address()).map(str::to_owned),
        HeaderValue::ContentType(ct) => Some(ct.ctype().to_owned()),
        HeaderValue::Empty => Some(String::new()),
        _ => None,
    }
}

/// A Message-ID without brackets or whitespace.
fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect()
}

/// A lower-cased bare address, or `None` if it is not one.
fn clean_address(addr: &str) -> Option<String> {
    let addr = addr
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let (local, domain) = addr.rsplit_once('@')?;
    let valid = !local.is_empty()
        && !domain.is_empty()
        && !addr
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    valid.then(|| addr.to_lowercase())
}

/// An attachment's file name as we keep and forward it.
fn file_name(name: &str) -> String {
    clip(&clean_text(name), MAX_FILE_NAME_CHARS).into_owned()
}

/// Display text without control characters (they could forge header lines later).
pub fn clean_text(text: &str) -> String {
    let cleaned: Cow<'_, str> = if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    };
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
