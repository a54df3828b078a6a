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
