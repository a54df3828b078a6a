//! Public keys a message carries: `application/pgp-keys` attachments and
//! `Autocrypt:` headers, outside and inside the encryption. Secret key
//! material a sender attached by mistake is dropped at once.

use mail_parser::{Message, MimeHeaders};
use sequoia_openpgp::Cert;
use sequoia_openpgp::cert::CertParser;
use sequoia_openpgp::parse::Parse;

use super::super::{FoundKey, KeySource, autocrypt};

pub(super) const ARMOR_KEY: &[u8] = b"-----BEGIN PGP PUBLIC KEY BLOCK-----";

/// Most keys kept from one message; the rest are ignored.
const MAX_KEYS: usize = 16;

#[derive(Default)]
pub(super) struct Found {
    keys: Vec<FoundKey>,
}

impl Found {
    /// Collects the keys of `message`: its `Autocrypt:` header and its key
    /// attachments, recorded as `attachments` (outside or inside the
    /// encryption).
    pub(super) fn collect(&mut self, message: &Message<'_>, attachments: KeySource) {
        self.autocrypt(message);
        for part in message.attachments() {
            if is_key_part(part) {
                self.add_bytes(part.contents(), attachments);
            }
        }
    }

    /// Every certificate found so far (for signature checks).
    pub(super) fn certs(&self) -> Vec<Cert> {
        self.keys.iter().map(|k| k.cert.clone()).collect()
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Forgets the keys found after the first `len`.
    pub(super) fn truncate(&mut self, len: usize) {
        self.keys.truncate(len);
    }

    pub(super) fn into_vec(self) -> Vec<FoundKey> {
        self.keys
    }

    /// Adds every certificate in `data` (armored or binary, one or several);
    /// garbage is skipped.
    pub(super) fn add_bytes(&mut self, data: &[u8], source: KeySource) {
        let Ok(parser) = CertParser::from_bytes(data) else {
            return;
        };
        for cert in parser.flatten().take(MAX_KEYS) {
            self.add(cert, source, None);
        }
    }

    fn add(&mut self, cert: Cert, source: KeySource, addr: Option<String>) {
        let fingerprint = cert.fingerprint();
        if self.keys.len() >= MAX_KEYS
            || self
                .keys
                .iter()
                .any(|k| k.source == source && k.cert.fingerprint() == fingerprint)
        {
            return;
        }
        tracing::debug!(fingerprint = %fingerprint, source = source.as_str(), "found a key");
        self.keys.push(FoundKey {
            cert: cert.strip_secret_key_material(),
            source,
            addr,
        });
    }

    /// The message's `Autocrypt:` header. Autocrypt Level 1 says to ignore
    /// them all when there is more than one valid header.
    fn autocrypt(&mut self, message: &Message<'_>) {
        let raw = message.raw_message();
        let mut valid = message
            .headers()
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case("autocrypt"))
            .filter_map(|h| raw.get(h.offset_start as usize..h.offset_end as usize))
            .filter_map(|value| autocrypt::parse_header(&String::from_utf8_lossy(value)));
        if let Some((addr, cert)) = valid.next()
            && valid.next().is_none()
        {
            self.add(cert, KeySource::Autocrypt, Some(addr));
        }
    }
}

/// An `application/pgp-keys` part, or an `.asc` file holding an armored key.
pub(super) fn is_key_part(part: &mail_parser::MessagePart<'_>) -> bool {
    if part.is_content_type("application", "pgp-keys") {
        return true;
    }
    part.attachment_name()
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".asc"))
        && part.contents().trim_ascii_start().starts_with(ARMOR_KEY)
}
