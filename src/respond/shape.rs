//! The shape of the headers we write. Whatever a correspondent sent, every
//! header line of an outgoing mail stays within RFC 5322: at most 998 octets,
//! folded near 78 wherever the header allows folding, non-ASCII text in RFC
//! 2047 encoded words (written by `email-encoding`, lettre's own encoder), no
//! control character that could end the line early. What we echo is bounded:
//! a subject is cut to [`MAX_SUBJECT_CHARS`] (the whole outgoing `Subject` to
//! [`MAX_SUBJECT_LINE_CHARS`]), a display name to [`MAX_NAME_CHARS`], and
//! `References` keeps the thread's first id and the last few.

use std::borrow::Cow;

use std::fmt::Write as _;
use std::marker::PhantomData;

use email_encoding::headers::writer::EmailWriter;
use email_encoding::headers::{quoted_string, rfc2047};
use lettre::message::Mailbox;
use lettre::message::header::{Header, HeaderName, HeaderValue};

pub use crate::parse::{MAX_NAME_CHARS, MAX_SUBJECT_CHARS};

/// The whole outgoing `Subject`, in characters: an echoed subject plus room
/// for our tag and prefix (`[SEC-2026-0042] Re: `, `New report: `).
pub const MAX_SUBJECT_LINE_CHARS: usize = MAX_SUBJECT_CHARS + 100;

/// Ids kept in `References`: the thread's first and the last nine, as common
/// mail clients do (RFC 5322 §3.6.4 allows trimming; the ends are what
/// threading needs).
pub const MAX_REFERENCES: usize = 10;

/// Longest Message-ID we repeat, in octets (without brackets): a msg-id cannot
/// be folded, so this bounds the line that holds it.
pub const MAX_MESSAGE_ID_LEN: usize = 250;

/// RFC 5322 §2.1.1: no line may be longer, without its CRLF.
pub const MAX_LINE_OCTETS: usize = 998;

/// Where lettre's and `email-encoding`'s writers fold.
const FOLD_AT: usize = 76;

/// `text` without control characters (each becomes a space) and without
/// surrounding spaces: no CR or LF can end a header line early, and no
/// escape sequence reaches a reader's terminal through a header.
pub fn header_text(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .trim()
                .to_owned(),
        )
    } else {
        match text.trim() {
            trimmed if trimmed.len() == text.len() => Cow::Borrowed(text),
            trimmed => Cow::Owned(trimmed.to_owned()),
        }
    }
}

/// A correspondent's subject as we echo it, in a header or a body.
pub fn echoed_subject(subject: &str) -> String {
    crate::parse::clip(&header_text(subject), MAX_SUBJECT_CHARS).into_owned()
}

/// A display name as we write it in `To:` or `From:`; `None` when nothing is left.
pub fn display_name(name: &str) -> Option<String> {
    let name = crate::parse::clip(&header_text(name), MAX_NAME_CHARS).into_owned();
    (!name.is_empty()).then_some(name)
}

/// Whether `id` (without brackets) is a Message-ID we repeat: printable
/// ASCII without spaces or angle brackets, at most [`MAX_MESSAGE_ID_LEN`]
/// octets. Anything else would need encoding or break the line. Ids without
/// an `@` are kept: some mailers write them, and threading matches them.
pub fn is_message_id(id: &str) -> bool {
    let printable = id
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    !id.is_empty() && id.len() <= MAX_MESSAGE_ID_LEN && printable
}

/// The ids of an answer's `References` (without brackets): `earlier` (what the
/// answered mail referred to) then `parent`, invalid ids dropped, each once, the
/// parent last; beyond [`MAX_REFERENCES`], the first id and the last ones.
pub fn references<'a>(earlier: &'a [String], parent: Option<&'a str>) -> Vec<&'a str> {
    let parent = parent.filter(|p| is_message_id(p));
    let mut ids: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in earlier.iter().map(String::as_str) {
        if is_message_id(id) && Some(id) != parent && seen.insert(id) {
            ids.push(id);
        }
    }
    ids.extend(parent);
    if ids.len() > MAX_REFERENCES {
        ids.drain(1..ids.len() - (MAX_REFERENCES - 1));
    }
    ids
}

/// `ids` as a header value: bracketed, separated by spaces (where lettre folds).
pub fn id_list(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("<{id}>"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `Subject` folded and encoded so that no line outgrows [`FOLD_AT`]: like
/// lettre's own, plus a word too long for any line goes into encoded words,
/// which may be split where plain text may not. It holds at most
/// [`MAX_SUBJECT_LINE_CHARS`] characters, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn new(text: &str) -> Self {
        Self(crate::parse::clip(&header_text(text), MAX_SUBJECT_LINE_CHARS).into_owned())
    }
}

impl Header for Subject {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Subject")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self::new(s))
    }

    fn display(&self) -> HeaderValue {
        let name = Self::name();
        let encoded = unstructured(&name, &self.0);
        HeaderValue::dangerous_new_pre_encoded(name, self.0.clone(), encoded)
    }
}

/// Which mailbox header an [`Addressed`] is.
pub trait MailboxField: Send + Sync + 'static {
    const NAME: &'static str;
}

#[derive(Debug)]
pub enum FromField {}
impl MailboxField for FromField {
    const NAME: &'static str = "From";
}

#[derive(Debug)]
pub enum ToField {}
impl MailboxField for ToField {
    const NAME: &'static str = "To";
}

#[derive(Debug)]
pub enum ReplyToField {}
impl MailboxField for ReplyToField {
    const NAME: &'static str = "Reply-To";
}

/// A header naming one mailbox, written as lettre writes it except that the
/// address moves to a continuation line when the line would outgrow
/// [`FOLD_AT`], and a display name too long for one line is written as encoded
/// words, which fold. The name is shaped by [`display_name`].
#[derive(Debug)]
pub struct Addressed<F>(Mailbox, PhantomData<F>);

pub type From = Addressed<FromField>;
pub type To = Addressed<ToField>;
pub type ReplyTo = Addressed<ReplyToField>;

impl<F> Addressed<F> {
    pub fn new(mailbox: Mailbox) -> Self {
        let name = mailbox.name.as_deref().and_then(display_name);
        Self(Mailbox::new(name, mailbox.email), PhantomData)
    }
}

impl<F> Clone for Addressed<F> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<F: MailboxField> Header for Addressed<F> {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(F::NAME)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self::new(s.parse::<Mailbox>()?))
    }

    fn display(&self) -> HeaderValue {
        let mut encoded = String::new();
        {
            let first_line = F::NAME.len() + ": ".len();
            let mut writer = EmailWriter::new(&mut encoded, first_line, 0, false);
            // Writing to a `String` cannot fail.
            let _ = write_mailbox(&self.0, first_line, &mut writer);
        }
        HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.to_string(), encoded)
    }
}

fn write_mailbox(
    mailbox: &Mailbox,
    first_line: usize,
    w: &mut EmailWriter<'_>,
) -> std::fmt::Result {
    let address = mailbox.email.as_ref();
    let Some(name) = &mailbox.name else {
        return w.write_str(address);
    };
    // `"name"` where it fits on the first line, as lettre writes it; else
    // encoded words, which may be split across lines.
    if first_line + name.len() + 2 <= FOLD_AT || !name.is_ascii() {
        quoted_string::encode(name, w)?;
    } else {
        rfc2047::encode(name, w)?;
    }
    w.space();
    w.folding().write_str(&format!("<{address}>"))
}

/// `value` as an unstructured header body (RFC 5322 §3.2.5) after `name: `:
/// plain words where they fit, folded at spaces; runs of words with non-ASCII
/// or with no room on a line of their own become encoded words. For ordinary
/// text the result is exactly lettre's.
fn unstructured(name: &str, value: &str) -> String {
    let first_line = name.len() + ": ".len();
    // The longest plain word that fits even as the first word of the first line.
    let longest_plain = FOLD_AT.saturating_sub(first_line);
    let mut out = String::with_capacity(value.len() + value.len() / 2);
    {
        let mut writer = EmailWriter::new(&mut out, first_line, 0, false);
        let mut pending = String::new();
        for word in value.split_inclusive(' ') {
            let bare = word.trim_end_matches(' ');
            let plain = bare.len() <= longest_plain && bare.bytes().all(|b| b.is_ascii_graphic());
            if plain {
                // Writing to a `String` cannot fail.
                let _ = encode_words(&mut pending, &mut writer);
                let _ = std::fmt::Write::write_str(&mut writer.folding(), word);
            } else {
                pending.push_str(word);
            }
        }
        let _ = encode_words(&mut pending, &mut writer);
    }
    out
}

/// Writes `pending` as encoded words, keeping its trailing spaces as foldable
/// spaces, and empties it.
fn encode_words(pending: &mut String, writer: &mut EmailWriter<'_>) -> std::fmt::Result {
    if pending.is_empty() {
        return Ok(());
    }
    let text = pending.trim_end_matches(' ');
    rfc2047::encode(text, writer)?;
    for _ in text.len()..pending.len() {
        writer.space();
    }
    pending.clear();
    Ok(())
}

/// The first header line of `raw` longer than [`MAX_LINE_OCTETS`] (1-based), if any.
pub fn overlong_header_line(raw: &[u8]) -> Option<usize> {
    let head_end = crate::parse::scan_headers(raw).header_len.min(raw.len());
    raw[..head_end]
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .position(|line| line.len() > MAX_LINE_OCTETS)
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject_lines(text: &str) -> String {
        let value = Subject::new(text).display();
        let mut headers = lettre::message::header::Headers::new();
        headers.insert_raw(value);
        headers.to_string()
    }

    #[test]
    fn ordinary_subjects_are_written_as_lettre_writes_them() {
        for text in [
            "[SEC-2026-0042] Re: Stored XSS in profile",
            "Grüße aus Köln: ein Fehler im Login",
            "[SEC-2026-0001] Re: a rather long subject that goes on and on and on past the fold",
            "two  spaces",
        ] {
            let ours = subject_lines(text);
            let mut headers = lettre::message::header::Headers::new();
            headers.set(lettre::message::header::Subject::from(text.to_owned()));
            assert_eq!(ours, headers.to_string(), "{text}");
        }
    }

    #[test]
    fn a_word_longer_than_a_line_is_encoded_and_folded() {
        let text = format!("[SEC-2026-0001] Re: {}", "A".repeat(150));
        let lines = subject_lines(&text);
        assert!(lines.lines().all(|l| l.len() <= 78), "{lines}");
        assert!(lines.contains("=?utf-8?b?"), "{lines}");
        let raw = format!("{lines}\r\n");
        let parsed = mail_parser::MessageParser::default()
            .parse_headers(raw.as_bytes())
            .expect("parses");
        assert_eq!(parsed.subject(), Some(text.as_str()));
    }

    #[test]
    fn a_hundred_thousand_character_subject_becomes_a_few_short_lines() {
        let lines = subject_lines(&"x".repeat(100_000));
        assert!(lines.len() < 2 * MAX_SUBJECT_LINE_CHARS, "{}", lines.len());
        assert!(lines.lines().all(|l| l.len() <= 78), "{lines}");
    }

    #[test]
    fn a_subject_with_line_breaks_cannot_add_a_header() {
        let lines = subject_lines("hello\r\nBcc: victim@example.net\r\n\r\nbody");
        assert_eq!(lines.matches("\r\n").count(), 1, "{lines:?}");
        assert!(lines.starts_with("Subject: hello  Bcc:"), "{lines:?}");
        let escape = subject_lines("a \u{1b}]8;;https://evil.example\u{7}link\u{9b}2J");
        assert!(
            !escape.contains(['\u{1b}', '\u{7}', '\u{9b}']),
            "{escape:?}"
        );
    }

    #[test]
    fn references_keep_the_first_and_the_last_ids_once_each() {
        let earlier: Vec<String> = (0..20_000).map(|i| format!("r{i}@example.net")).collect();
        let ids = references(&earlier, Some("parent@example.net"));
        assert_eq!(ids.len(), MAX_REFERENCES);
        assert_eq!(ids[0], "r0@example.net");
        assert_eq!(ids[1], "r19992@example.net");
        assert_eq!(ids[MAX_REFERENCES - 1], "parent@example.net");

        let earlier: Vec<String> = ["a@x", "not an id", "b@x", "a@x", "p@x", "", "ü@x", "a@x>"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([format!("{}@x", "l".repeat(MAX_MESSAGE_ID_LEN))])
            .collect();
        assert_eq!(references(&earlier, Some("p@x")), ["a@x", "b@x", "p@x"]);
        assert_eq!(references(&earlier, Some("bad id")), ["a@x", "b@x", "p@x"]);
        assert!(references(&[], None).is_empty());
    }

    #[test]
    fn message_ids() {
        assert!(is_message_id("disclosed.0190@example.org"));
        assert!(is_message_id("CAF=x+y/z@mail.gmail.com"));
        assert!(is_message_id("report-1-researcher.example"));
        for bad in ["", "a b@x", "a<b@x", "a\r\n@x", "ä@x"] {
            assert!(!is_message_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_are_bounded_and_single_line() {
        assert_eq!(
            display_name("Jane\r\nBcc: x").as_deref(),
            Some("Jane  Bcc: x")
        );
        assert_eq!(display_name(" \t "), None);
        let long = display_name(&"n".repeat(10_000)).expect("name");
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
    }

    fn to_lines(name: Option<&str>) -> String {
        let address = "rita@researcher.example".parse().expect("address");
        let mut headers = lettre::message::header::Headers::new();
        headers.set(To::new(Mailbox::new(name.map(str::to_owned), address)));
        headers.to_string()
    }

    #[test]
    fn ordinary_mailboxes_are_written_as_lettre_writes_them() {
        for name in [
            None,
            Some("Rita"),
            Some("Rita Researcher"),
            Some("Renée Ölmann"),
        ] {
            let address = "rita@researcher.example".parse().expect("address");
            let mut headers = lettre::message::header::Headers::new();
            headers.set(lettre::message::header::To::from(
                lettre::message::Mailboxes::from(Mailbox::new(name.map(str::to_owned), address)),
            ));
            assert_eq!(to_lines(name), headers.to_string(), "{name:?}");
        }
    }

    #[test]
    fn a_long_display_name_folds_before_the_address_or_inside() {
        // 70 characters: quoted on the first line, the address on the next.
        // 90: encoded words over several lines.
        for name in ["Rita ".repeat(14), "Rita ".repeat(18)] {
            let name = name.trim();
            let lines = to_lines(Some(name));
            assert!(lines.lines().all(|l| l.len() <= 78), "{lines}");
            assert!(lines.lines().count() > 1, "{lines}");
            let raw = format!("{lines}\r\n");
            let parsed = mail_parser::MessageParser::default()
                .parse_headers(raw.as_bytes())
                .expect("parses");
            let to = parsed.to().and_then(|a| a.first()).expect("To");
            assert_eq!(to.name(), Some(name));
            assert_eq!(to.address(), Some("rita@researcher.example"));
        }
        assert!(to_lines(Some(&"Rita ".repeat(14))).contains("\"\r\n <rita@"));
    }

    #[test]
    fn overlong_header_lines_are_found() {
        assert_eq!(overlong_header_line(b"A: b\r\nC: d\r\n\r\nbody"), None);
        let long = format!("A: b\r\nC: {}\r\n\r\n", "d".repeat(MAX_LINE_OCTETS));
        assert_eq!(overlong_header_line(long.as_bytes()), Some(2));
        let body = format!("A: b\r\n\r\n{}\r\n", "d".repeat(5000));
        assert_eq!(overlong_header_line(body.as_bytes()), None);
    }
}
