//! `Autocrypt:` headers (Autocrypt Level 1): reading a sender's key, writing ours.

use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse;

/// Reads one `Autocrypt:` header value (the raw value, folding allowed):
/// the announced address (lower-cased) and the certificate, without any
/// secret key material. `None` when the header is not valid Level 1: no
/// `addr` or `keydata`, an unknown critical attribute (one whose name does not
/// start with `_`), or key data that is not one OpenPGP certificate.
pub fn parse_header(value: &str) -> Option<(String, Cert)> {
    let mut addr = None;
    let mut keydata = None;
    for attribute in value.split(';') {
        let attribute = attribute.trim();
        if attribute.is_empty() {
            continue;
        }
        let (name, val) = attribute.split_once('=')?;
        let name = name.trim();
        match name.to_ascii_lowercase().as_str() {
            "addr" => addr = Some(val.trim().to_lowercase()),
            "keydata" => keydata = Some(val),
            "prefer-encrypt" => {}
            // Non-critical: may be ignored.
            _ if name.starts_with('_') => {}
            // An attribute we do not understand that says it matters.
            _ => return None,
        }
    }
    let addr = addr.filter(|a| a.contains('@'))?;
    let compact: Vec<u8> = keydata?
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = mail_parser::decoders::base64::base64_decode(&compact)?;
    let cert = Cert::from_bytes(&bytes).ok()?;
    Some((addr, cert.strip_secret_key_material()))
}

// Writing our own `Autocrypt:` header.

/// The longest header line we write, as RFC 5322 recommends.
const HEADER_LINE_MAX: usize = 78;

/// The value of an `Autocrypt:` header announcing `cert` for `addr`, unfolded:
/// `addr=…; prefer-encrypt=mutual; keydata=…`. The key data is the minimal
/// certificate Autocrypt asks for (primary key, the user id for `addr` or the
/// primary one, the current encryption subkey, their self-signatures) without
/// any secret key material.
pub fn header_value(
    cert: &sequoia_openpgp::Cert,
    addr: &str,
    now: jiff::Timestamp,
) -> Result<String, super::seal::SealError> {
    let keydata = keydata(cert, addr, now)?;
    Ok(format!(
        "addr={addr}; prefer-encrypt=mutual; keydata={keydata}"
    ))
}

/// The checked `addr` and the base64 of the minimal certificate for it.
fn keydata(
    cert: &sequoia_openpgp::Cert,
    addr: &str,
    now: jiff::Timestamp,
) -> Result<String, super::seal::SealError> {
    use base64::Engine as _;
    check_addr(addr)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(minimal_cert(cert, addr, now)?))
}

/// The whole `Autocrypt: …\r\n` header field for `cert` and `addr`, folded to
/// lines of at most 78 characters, ready for [`add_header`].
pub fn header_line(
    cert: &sequoia_openpgp::Cert,
    addr: &str,
    now: jiff::Timestamp,
) -> Result<String, super::seal::SealError> {
    let keydata = keydata(cert, addr, now)?;
    let mut out = String::with_capacity(keydata.len() + keydata.len() / 30 + 128);
    let mut line = String::from("Autocrypt:");
    let addr = format!("addr={addr};");
    for token in [addr.as_str(), "prefer-encrypt=mutual;", "keydata="] {
        if line.len() + 1 + token.len() > HEADER_LINE_MAX && line != "Autocrypt:" {
            out.push_str(&line);
            out.push_str("\r\n");
            line.clear();
        }
        line.push(' ');
        line.push_str(token);
    }
    out.push_str(&line);
    out.push_str("\r\n");
    // Autocrypt ignores whitespace in `keydata`, so folding may split it anywhere.
    for chunk in keydata.as_bytes().chunks(HEADER_LINE_MAX - 2) {
        out.push(' ');
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// Inserts the header field `line` at the end of `mail`'s header block, before
/// the blank line. `line` gets a CRLF if it has none. Add our `Autocrypt:` header
/// after sealing, so the key is not copied into the protected headers.
pub fn add_header(mail: &[u8], line: &str) -> Vec<u8> {
    let at = super::seal::header_end(mail);
    let (head, rest) = mail.split_at(at);
    let mut out = Vec::with_capacity(mail.len() + line.len() + 4);
    out.extend_from_slice(head);
    if !head.is_empty() && !head.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(line.trim_end_matches(['\r', '\n']).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(rest);
    out
}

/// An `addr=` value must be one plain address: no separators, no whitespace
/// that would break the header.
fn check_addr(addr: &str) -> Result<(), super::seal::SealError> {
    let plain = addr.contains('@')
        && addr
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | '<' | '>' | '"' | ','));
    if plain {
        Ok(())
    } else {
        Err(super::seal::SealError::Address {
            addr: addr.escape_debug().to_string(),
        })
    }
}

/// The minimal public certificate for `addr`, serialized.
fn minimal_cert(
    cert: &sequoia_openpgp::Cert,
    addr: &str,
    now: jiff::Timestamp,
) -> Result<Vec<u8>, super::seal::SealError> {
    use sequoia_openpgp::packet::Packet;
    use sequoia_openpgp::serialize::MarshalInto as _;

    use super::seal::SealError;

    let p = super::policy();
    let cert = cert.clone().strip_secret_key_material();
    let valid = cert
        .with_policy(&p, Some(super::system_time(now)))
        .map_err(|err| SealError::OpenPgp {
            what: "validating the certificate",
            reason: format!("{err:#}"),
        })?;
    let wanted = addr.to_lowercase();
    let userid = valid
        .userids()
        .find(|u| {
            u.userid()
                .email_normalized()
                .ok()
                .flatten()
                .is_some_and(|email| email == wanted)
        })
        .or_else(|| valid.primary_userid().ok())
        .ok_or_else(|| SealError::NoUserId {
            fingerprint: cert.fingerprint().to_hex(),
            at: now,
        })?;
    let subkey = valid
        .keys()
        .subkeys()
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .max_by_key(|ka| ka.key().creation_time())
        .ok_or_else(|| SealError::NoEncryptionKey {
            fingerprint: cert.fingerprint().to_hex(),
            at: now,
        })?;

    let mut packets: Vec<Packet> = vec![valid.primary_key().key().clone().into()];
    if let Ok(sig) = valid.direct_key_signature() {
        packets.push(sig.clone().into());
    }
    packets.push(userid.userid().clone().into());
    packets.push(userid.binding_signature().clone().into());
    packets.push(subkey.key().clone().into());
    packets.push(subkey.binding_signature().clone().into());
    let minimal = sequoia_openpgp::Cert::from_packets(packets.into_iter()).map_err(|err| {
        SealError::OpenPgp {
            what: "building the Autocrypt key",
            reason: format!("{err:#}"),
        }
    })?;
    minimal.to_vec().map_err(|err| SealError::OpenPgp {
        what: "serializing the Autocrypt key",
        reason: format!("{err:#}"),
    })
}
