//! Bounces that can be trusted: per-message return paths (VERP) and the
//! machine-readable part of a delivery status notification (RFC 3464).
//!
//! Every mail we send carries its own envelope sender,
//! `security+bounce-<token>@domain`, whose token is random and stored on the
//! mail's outbox row. A bounce counts only when it was delivered to such an
//! address with a token we issued: nobody who has not seen that mail can name
//! it. What a bounce says is shown to the team only through the delivery-status
//! fields, each cleaned to one short line, never through its free text.

use mail_parser::{MessageParser, MimeHeaders};

use crate::config::Address;

/// The plus-tag that marks a return path.
const TAG: &str = "bounce-";
/// A token is this many lower-case hex digits (a UUIDv4: 122 random bits).
pub const TOKEN_LEN: usize = 32;
/// The longest field value shown to the team, in characters.
pub const FIELD_MAX: usize = 200;
/// At most this many recipients of one DSN are shown.
pub const RECIPIENTS_MAX: usize = 10;

/// The return path for the mail whose outbox row holds `token`.
pub fn return_path(program: &Address, token: &str) -> String {
    program.with_tag(&format!("{TAG}{token}"))
}

/// Whether a plus-tag is a well-formed return-path tag (`bounce-<token>`);
/// its token, lower-cased.
pub fn token_of_tag(tag: &str) -> Option<String> {
    let rest = strip_tag(tag)?;
    (rest.len() == TOKEN_LEN && rest.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| rest.to_ascii_lowercase())
}

/// What follows `bounce-` in a plus-tag, if it starts so.
fn strip_tag(tag: &str) -> Option<&str> {
    let (head, rest) = tag.split_at_checked(TAG.len())?;
    head.eq_ignore_ascii_case(TAG).then_some(rest)
}

/// The plus-tag of `addr` if it is a plus-address of the program.
fn program_tag<'a>(addr: &'a str, program: &Address) -> Option<&'a str> {
    let (local, domain) = addr.rsplit_once('@')?;
    let (base, tag) = local.split_once('+')?;
    (base.eq_ignore_ascii_case(&program.local) && domain.eq_ignore_ascii_case(&program.domain))
        .then_some(tag)
}

/// The token of the first of `addresses` that is one of the program's return
/// paths.
pub fn return_token<'a>(
    addresses: impl IntoIterator<Item = &'a str>,
    program: &Address,
) -> Option<String> {
    addresses
        .into_iter()
        .find_map(|addr| token_of_tag(program_tag(addr, program)?))
}

/// Whether any of `addresses` is a return path of the program, well-formed or
/// not: only mail servers and auto-responders write there.
pub fn to_return_path<'a>(addresses: impl IntoIterator<Item = &'a str>, program: &Address) -> bool {
    addresses
        .into_iter()
        .any(|addr| program_tag(addr, program).and_then(strip_tag).is_some())
}

/// What a DSN says about one recipient: only the fields the team may see,
/// each on one line, without control characters, at most [`FIELD_MAX`]
/// characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecipientStatus {
    pub final_recipient: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub remote_mta: Option<String>,
    pub diagnostic_code: Option<String>,
}

impl RecipientStatus {
    /// `Name: value` lines for the fields present.
    pub fn lines(&self) -> Vec<String> {
        [
            ("Final-Recipient", &self.final_recipient),
            ("Action", &self.action),
            ("Status", &self.status),
            ("Remote-MTA", &self.remote_mta),
            ("Diagnostic-Code", &self.diagnostic_code),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}: {v}")))
        .collect()
    }
}

/// The per-recipient fields of the `message/delivery-status` part of `raw`, a
/// `multipart/report` DSN (at most [`RECIPIENTS_MAX`]). Empty when there is no
/// such part directly in the report: the free text and the returned message are
/// never read.
pub fn delivery_status(raw: &[u8]) -> Vec<RecipientStatus> {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    let is_report = root.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let Some(children) = root.sub_parts().filter(|_| is_report) else {
        return Vec::new();
    };
    let Some(part) = children
        .iter()
        .filter_map(|id| message.parts.get(*id as usize))
        .find(|p| {
            p.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct.subtype().is_some_and(|s| {
                        s.eq_ignore_ascii_case("delivery-status")
                            || s.eq_ignore_ascii_case("global-delivery-status")
                    })
            })
        })
    else {
        return Vec::new();
    };
    parse_fields(&String::from_utf8_lossy(part.contents()))
}

/// Parses the field blocks of a `message/delivery-status` body: the first is
/// about the message, each further one about a recipient.
fn parse_fields(text: &str) -> Vec<RecipientStatus> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .skip(1)
        .map(block)
        .filter(|r| *r != RecipientStatus::default())
        .take(RECIPIENTS_MAX)
        .collect()
}

/// One block's fields; folded lines are unfolded first.
fn block(text: &str) -> RecipientStatus {
    let mut fields: Vec<String> = Vec::new();
    for line in text.lines() {
        match fields.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => fields.push(line.to_owned()),
        }
    }
    let mut status = RecipientStatus::default();
    for field in &fields {
        let Some((name, value)) = field.split_once(':') else {
            continue;
        };
        let slot = match name.trim().to_ascii_lowercase().as_str() {
            "final-recipient" => &mut status.final_recipient,
            "action" => &mut status.action,
            "status" => &mut status.status,
            "remote-mta" => &mut status.remote_mta,
            "diagnostic-code" => &mut status.diagnostic_code,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(clean_field(value)).filter(|v| !v.is_empty());
        }
    }
    status
}

/// One line, no control characters, at most [`FIELD_MAX`] characters.
pub fn clean_field(value: &str) -> String {
    let line = crate::parse::clean_text(value);
    if line.chars().count() <= FIELD_MAX {
        line
    } else {
        let mut cut: String = line.chars().take(FIELD_MAX - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Address {
        Address::parse("security@example.org").expect("address")
    }

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn return_paths_round_trip_and_need_a_well_formed_token() {
        let p = program();
        let path = return_path(&p, TOKEN);
        assert_eq!(
            path,
            "security+bounce-0123456789abcdef0123456789abcdef@example.org"
        );
        assert_eq!(return_token([path.as_str()], &p).as_deref(), Some(TOKEN));
        let upper = path.to_ascii_uppercase();
        assert_eq!(return_token([upper.as_str()], &p).as_deref(), Some(TOKEN));
        for other in [
            "security+bounce-0123@example.org",
            "security+bounce-0123456789abcdef0123456789abcdeg@example.org",
            "security+bounce-0123456789abcdef0123456789abcdef0@example.org",
            "security+bounce-0123456789abcdef0123456789abcdef@example.net",
            "other+bounce-0123456789abcdef0123456789abcdef@example.org",
            "security+SEC-2026-0001@example.org",
            "security@example.org",
        ] {
            assert_eq!(return_token([other], &p), None, "{other}");
        }
        assert!(to_return_path(["security+bounce-garbled@example.org"], &p));
        assert!(!to_return_path(["security+SEC-2026-0001@example.org"], &p));
    }

    fn dsn(status: &str) -> Vec<u8> {
        format!(
            "From: MAILER-DAEMON@mx.example.net\r\nTo: security@example.org\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n\
             --B\r\nContent-Type: text/plain\r\n\r\nSECRET FREE TEXT\r\n\
             --B\r\nContent-Type: message/delivery-status\r\n\r\n{status}\r\n\
             --B\r\nContent-Type: message/rfc822\r\n\r\nSubject: SECRET RETURNED\r\n\r\nSECRET BODY\r\n\
             --B--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn only_the_delivery_status_fields_are_read() {
        let raw = dsn("Reporting-MTA: dns; mx.example.net\r\n\r\n\
             Final-Recipient: rfc822; jane@r.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
             Remote-MTA: dns; mx.r.example\r\nDiagnostic-Code: smtp; 550 5.1.1 no such\r\n  user here\r\n\
             X-Other: SECRET OTHER\r\n\r\n\
             Final-Recipient: rfc822; bob@r.example\r\nAction: delayed\r\nStatus: 4.4.1");
        let found = delivery_status(&raw);
        assert_eq!(
            found,
            [
                RecipientStatus {
                    final_recipient: Some("rfc822; jane@r.example".into()),
                    action: Some("failed".into()),
                    status: Some("5.1.1".into()),
                    remote_mta: Some("dns; mx.r.example".into()),
                    diagnostic_code: Some("smtp; 550 5.1.1 no such user here".into()),
                },
                RecipientStatus {
                    final_recipient: Some("rfc822; bob@r.example".into()),
                    action: Some("delayed".into()),
                    status: Some("4.4.1".into()),
                    ..RecipientStatus::default()
                },
            ]
        );
        let shown = found
            .iter()
            .flat_map(RecipientStatus::lines)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn fields_are_one_short_line_without_control_characters() {
        let long = "x".repeat(5000);
        let raw = dsn(&format!(
            "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@b\x1b[31m\r\n\
             Diagnostic-Code: smtp; {long}\r\nStatus: 5.0.0\x07\x00"
        ));
        let found = delivery_status(&raw);
        assert_eq!(found.len(), 1);
        let r = &found[0];
        for value in [&r.final_recipient, &r.diagnostic_code, &r.status]
            .into_iter()
            .flatten()
        {
            assert!(value.chars().count() <= FIELD_MAX, "{value}");
            assert!(!value.chars().any(char::is_control), "{value:?}");
            assert!(!value.contains('\n'));
        }
        assert_eq!(r.status.as_deref(), Some("5.0.0"));
    }

    #[test]
    fn a_mail_without_a_report_part_yields_nothing() {
        let plain = b"From: MAILER-DAEMON@mx\r\nSubject: Undelivered\r\n\r\n\
            Final-Recipient: rfc822; jane@r.example\r\n\r\nFinal-Recipient: rfc822; x@y\r\n";
        assert!(delivery_status(plain).is_empty());
        // A delivery-status part that is not directly in a multipart/report.
        let nested = b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\
            Content-Type: message/delivery-status\r\n\r\nReporting-MTA: x\r\n\r\n\
            Final-Recipient: rfc822; x@y\r\n--B--\r\n";
        assert!(delivery_status(nested).is_empty());
        let many: String = (0..50)
            .map(|i| format!("\r\n\r\nFinal-Recipient: rfc822; r{i}@x"))
            .collect();
        let raw = dsn(&format!("Reporting-MTA: dns; mx{many}"));
        assert_eq!(delivery_status(&raw).len(), RECIPIENTS_MAX);
    }
}
