//! Our own mail, recognised by what we sent rather than by what it claims.
//!
//! Anyone can write `From: security@…` or a Message-ID that starts like ours.
//! A message is ours only when its Message-ID is one of our outbox rows *and*
//! its body is the body of that row: a recipient who copies our Message-ID
//! into a mail of their own does not make it ours. Headers are not compared,
//! since every server on the way adds some.

use super::is_program_address;
use crate::config::Address;
use crate::parse::ParsedMessage;

/// True for Message-IDs shaped like the ones [`crate::respond`] generates. Only
/// a reason for suspicion: it proves nothing.
pub fn is_our_message_id(id: &str, program: &Address) -> bool {
    id.starts_with("disclosed.")
        && id
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(&program.domain))
}

/// Whether `msg` claims to be our mail: sent from a program address, or
/// bearing a Message-ID shaped like ours.
pub fn claims_to_be_ours(msg: &ParsedMessage, program: &Address) -> bool {
    msg.from
        .as_ref()
        .is_some_and(|m| is_program_address(&m.address, program))
        || msg
            .message_id
            .as_deref()
            .is_some_and(|id| is_our_message_id(id, program))
}

/// Whether `received` carries the same body as `sent` (a mail from our
/// outbox), ignoring line endings and trailing blank lines, which transports
/// may change.
pub fn same_body(received: &[u8], sent: &[u8]) -> bool {
    match (body(received), body(sent)) {
        (Some(a), Some(b)) => !b.is_empty() && a == b,
        _ => false,
    }
}

/// The body of a raw mail with LF line endings and no trailing blank lines.
fn body(raw: &[u8]) -> Option<Vec<u8>> {
    let mut lf = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter().peekable();
    while let Some(&b) = bytes.next() {
        if b == b'\r' && bytes.peek() == Some(&&b'\n') {
            continue;
        }
        lf.push(b);
    }
    let start = lf.windows(2).position(|w| w == b"\n\n")? + 2;
    let mut body = lf.split_off(start);
    while body.last().is_some_and(|b| b.is_ascii_whitespace()) {
        body.pop();
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{ParseLimits, parse};

    fn program() -> Address {
        Address::parse("security@example.org").expect("address")
    }

    fn parsed(raw: &str) -> ParsedMessage {
        let limits = ParseLimits {
            max_header_size: 1 << 20,
            max_mime_depth: 32,
            max_attachments: 10,
            max_text_len: 1 << 20,
        };
        parse(raw.as_bytes(), &limits)
    }

    #[test]
    fn a_claim_is_a_from_or_a_message_id_of_ours() {
        let p = program();
        for (raw, claims) in [
            (
                "From: security@example.org\r\nMessage-ID: <x@y>\r\n\r\n.",
                true,
            ),
            ("From: Security+SEC-2026-0001@Example.org\r\n\r\n.", true),
            (
                "From: r@x.net\r\nMessage-ID: <disclosed.abc@example.org>\r\n\r\n.",
                true,
            ),
            (
                "From: r@x.net\r\nMessage-ID: <disclosed.abc@example.net>\r\n\r\n.",
                false,
            ),
            (
                "From: r@x.net\r\nMessage-ID: <x@example.org>\r\n\r\n.",
                false,
            ),
        ] {
            assert_eq!(claims_to_be_ours(&parsed(raw), &p), claims, "{raw}");
        }
    }

    #[test]
    fn the_same_body_survives_added_headers_and_line_endings_only() {
        let sent = b"From: security@example.org\r\nMessage-ID: <disclosed.1@example.org>\r\n\r\nHello\r\nthere\r\n";
        let delivered = b"Return-Path: <security+bounce-x@example.org>\nDelivered-To: a@b\nFrom: security@example.org\nMessage-ID: <disclosed.1@example.org>\n\nHello\nthere\n\n";
        assert!(same_body(delivered, sent));
        let forged = b"From: security@example.org\r\nMessage-ID: <disclosed.1@example.org>\r\n\r\nHello\r\nthere, attacker here\r\n";
        assert!(!same_body(forged, sent));
        assert!(!same_body(b"no body at all", sent));
        assert!(
            !same_body(b"A: b\r\n\r\n", b"A: b\r\n\r\n"),
            "an empty body proves nothing"
        );
    }
}
