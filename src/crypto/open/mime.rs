//! Small MIME helpers for opening: line-ending canonicalisation and the
//! signed part of a `multipart/signed`.

use mail_parser::{Message, MessagePart, MimeHeaders};

/// `data` with every bare LF turned into CRLF (RFC 3156 §5: signatures are
/// over the canonical form; Maildir files often have bare LF).
pub(super) fn to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut previous = 0u8;
    for &b in data {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

/// Appends CRLF when `data` does not end in a line break (mail-parser reads
/// the last header of an unterminated entity as empty).
pub(super) fn ensure_final_crlf(mut data: Vec<u8>) -> Vec<u8> {
    if !data.ends_with(b"\n") {
        data.extend_from_slice(b"\r\n");
    }
    data
}

/// Whether `part` has the MIME type `ctype/subtype`, and, if `protocol` is
/// given, that `protocol` parameter (all case-insensitive).
pub(super) fn is_type(part: &MessagePart<'_>, ctype: &str, subtype: &str, protocol: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
            && (protocol.is_empty()
                || ct
                    .attribute("protocol")
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case(protocol)))
    })
}

/// The signed bytes of a `multipart/signed` message (its first part: MIME
/// headers and body, without the CRLF before the next boundary), in
/// canonical CRLF form, and the detached signature of its second part.
pub(super) fn signed_parts<'m>(message: &'m Message<'_>) -> Option<(Vec<u8>, &'m [u8])> {
    let ids = message.root_part().sub_parts()?;
    let signed = message.part(*ids.first()?)?;
    let signature = message.part(*ids.get(1)?)?;
    // mail-parser's part range stops before the CRLF that belongs to the
    // boundary delimiter (checked by `signed_range_excludes_delimiter`).
    let bytes = message
        .raw_message()
        .get(signed.raw_header_offset() as usize..signed.raw_end_offset() as usize)?;
    Some((to_crlf(bytes), signature.contents()))
}
