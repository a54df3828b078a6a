//! Small MIME helpers for opening: line-ending canonicalisation, the signed
//! part of a `multipart/signed`, and the pieces of the entity rebuilt from
//! inline PGP (headers copied, base64 bodies, a boundary that cannot collide).

use mail_parser::{Message, MessagePart, MimeHeaders};

pub(super) use crate::crypto::to_crlf;

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

/// The raw bytes of `part` (headers and body) as they were in the message.
pub(super) fn raw_part<'m>(message: &'m Message<'_>, part: &MessagePart<'_>) -> &'m [u8] {
    message
        .raw_message()
        .get(part.raw_header_offset() as usize..part.raw_end_offset() as usize)
        .unwrap_or_default()
}

/// Headers copied from the original into a rebuilt entity, so it still shows
/// who wrote it, when, and which thread it belongs to.
const COPIED_HEADERS: [&str; 10] = [
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
];

/// Appends the original's copied headers (raw, in CRLF form) to `out`.
pub(super) fn copy_headers(message: &Message<'_>, out: &mut Vec<u8>) {
    let raw = message.raw_message();
    for header in message.headers() {
        let name = header.name.as_str();
        if COPIED_HEADERS.iter().any(|n| n.eq_ignore_ascii_case(name))
            && let Some(bytes) = raw.get(header.offset_field as usize..header.offset_end as usize)
        {
            out.extend_from_slice(&ensure_final_crlf(to_crlf(bytes)));
        }
    }
}

/// A boundary that appears nowhere in `raw`; base64 bodies cannot contain
/// `=_`, so neither can the parts we encode ourselves.
pub(super) fn boundary(raw: &[u8]) -> String {
    let mut n = 0u32;
    loop {
        let candidate = format!("=_disclosed_inline_{n}");
        if !raw
            .windows(candidate.len())
            .any(|w| w == candidate.as_bytes())
        {
            return candidate;
        }
        n += 1;
    }
}

/// `data` in base64, 76 characters a line, each line ending in CRLF.
pub(super) fn base64_lines(data: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbol = |v: u32| ALPHABET[(v & 63) as usize];
    // 57 input bytes make one 76-character line.
    for line in data.chunks(57) {
        for group in line.chunks(3) {
            let b = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
            let v = (b(0) << 16) | (b(1) << 8) | b(2);
            out.push(symbol(v >> 18));
            out.push(symbol(v >> 12));
            out.push(if group.len() > 1 {
                symbol(v >> 6)
            } else {
                b'='
            });
            out.push(if group.len() > 2 { symbol(v) } else { b'=' });
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// `filename` parameter for a Content-Disposition: quoted when plain ASCII,
/// RFC 2231 encoded otherwise. Control characters are dropped.
pub(super) fn filename_param(attribute: &str, name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    if name
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ')
    {
        return format!("{attribute}=\"{name}\"");
    }
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{attribute}*=utf-8''{encoded}")
}
