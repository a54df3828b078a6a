//! Preparing a message outside the store's transaction: hashing, parsing and
//! opening it, and counting what it holds for the batch budget.

use jiff::Timestamp;
use sequoia_openpgp::Cert;

use super::pgp::open_and_merge;
use crate::crypto::{Crypto, Opened};
use crate::parse::{self, ParseLimits, ParsedMessage, Problem};
use crate::source::{Incoming, Raw};

/// A message parsed and ready for the store; it owns its bytes so that parsing
/// can run on another thread than storing.
#[derive(Debug)]
pub struct Prepared {
    /// Where on the source (e.g. the Maildir file name).
    pub location: String,
    pub(super) sha256: String,
    pub(super) size: u64,
    pub(super) raw: Option<Vec<u8>>,
    pub(super) parsed: ParsedMessage,
    /// What OpenPGP made of it, opened here (off the store's lock, on the
    /// reader's thread) with the keyring's keys: the result, and the message
    /// merged with its readable inner entity.
    pub(super) pgp: Option<(Opened, ParsedMessage)>,
}

impl Prepared {
    /// Bytes held in memory, for batch sizing: the raw message and everything
    /// derived from it that stays with it until it is stored, the decrypted or
    /// decompressed entity and what was parsed from that included. A few
    /// kilobytes of compressed, encrypted mail may hold the whole of
    /// `max_decompressed_size` here, so counting only the raw bytes would let
    /// a batch hold many such messages at once.
    pub fn memory(&self) -> usize {
        let opened = self.pgp.as_ref().map_or(0, |(opened, merged)| {
            opened_memory(opened) + parsed_memory(merged)
        });
        self.raw.as_ref().map_or(0, Vec::len) + parsed_memory(&self.parsed) + opened
    }
}

/// The bytes an OpenPGP result holds: the readable entity, the signed entity
/// and the keys found (counted by their serialised size, roughly).
fn opened_memory(o: &Opened) -> usize {
    o.inner.as_ref().map_or(0, Vec::len)
        + o.signed.as_ref().map_or(0, |s| s.entity.len())
        + o.keys
            .iter()
            .map(|k| k.cert.keys().map(|_| KEY_MEMORY).sum::<usize>())
            .sum::<usize>()
}

/// About what one (sub)key of a parsed certificate holds, with its signatures.
const KEY_MEMORY: usize = 2 << 10;

/// The text a parsed message holds: its bodies, subject and header values.
fn parsed_memory(m: &ParsedMessage) -> usize {
    m.text.len()
        + m.html.as_ref().map_or(0, String::len)
        + m.subject.len()
        + m.references.iter().map(String::len).sum::<usize>()
        + m.attachments
            .iter()
            .map(|a| a.content_type.len() + a.name.as_ref().map_or(0, String::len) + 64)
            .sum::<usize>()
}

/// Hashes and parses a message, and opens it when it shows signs of OpenPGP.
/// Needs no store: callers do it before taking the store's lock, or on another
/// thread.
pub fn prepare(
    incoming: Incoming,
    limits: &crate::config::Limits,
    crypto: &Crypto,
    now: Timestamp,
) -> Prepared {
    let parse_limits = ParseLimits::from_config(limits);
    match incoming.raw {
        Raw::Loaded(bytes) => {
            let parsed = parse::parse(&bytes, &parse_limits);
            let pgp = parsed.openpgp_hint.then(|| {
                let from = parsed.from.as_ref().map(|m| m.address.as_str());
                let keyring: Vec<Cert> = from
                    .map(|address| crypto.verification_keys(address))
                    .unwrap_or_default();
                open_and_merge(&bytes, &parsed, crypto, &keyring, limits, now)
            });
            Prepared {
                location: incoming.location,
                sha256: parse::sha256_hex(&bytes),
                size: bytes.len() as u64,
                parsed,
                raw: Some(bytes),
                pgp,
            }
        }
        Raw::TooLarge { size, head, sha256 } => {
            let mut parsed = parse::parse_headers_only(&head, &parse_limits);
            parsed.problems.push(Problem::Oversized {
                size,
                limit: limits.max_message_size,
            });
            Prepared {
                location: incoming.location,
                sha256,
                size,
                raw: None,
                parsed,
                pgp: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::path::Path;
    use std::sync::Arc;

    use sequoia_openpgp::policy::StandardPolicy;
    use sequoia_openpgp::serialize::stream::{
        Armorer, Compressor, Encryptor, LiteralWriter, Message,
    };
    use sequoia_openpgp::types::CompressionAlgorithm;

    use super::*;
    use crate::config::Config;
    use crate::crypto::TeamKeys;
    use crate::source::{Incoming, Raw};

    fn now() -> Timestamp {
        "2026-11-23T12:00:00Z".parse().expect("time")
    }

    /// A PGP/MIME mail of a few kilobytes whose bzip2-compressed inner
    /// entity carries `inflated` bytes of zeros as a base64 attachment.
    fn bomb(team: &Cert, inflated: usize) -> Vec<u8> {
        let mut entity = b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
            Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n\
            Content-Type: application/octet-stream; name=\"z.bin\"\r\n\
            Content-Disposition: attachment; filename=\"z.bin\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\n"
            .to_vec();
        let line = b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n";
        while entity.len() < inflated {
            entity.extend_from_slice(line);
        }
        entity.extend_from_slice(b"--b--\r\n");
        let policy = StandardPolicy::new();
        let recipients: Vec<_> = team
            .keys()
            .with_policy(&policy, None)
            .supported()
            .for_transport_encryption()
            .collect();
        let mut sink = Vec::new();
        let message = Armorer::new(Message::new(&mut sink))
            .build()
            .expect("armor");
        let message = Encryptor::for_recipients(message, recipients)
            .build()
            .expect("encrypt");
        let message = Compressor::new(message)
            .algo(CompressionAlgorithm::BZip2)
            .build()
            .expect("compress");
        let mut message = LiteralWriter::new(message).build().expect("literal");
        message.write_all(&entity).expect("write");
        message.finalize().expect("finalize");
        let mut mail = b"From: Mallory <m@attacker.example>\r\nTo: security@example.org\r\n\
            Subject: ...\r\nMessage-ID: <bomb@attacker.example>\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\n\
            --enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n\
            --enc\r\nContent-Type: application/octet-stream\r\n\r\n"
            .to_vec();
        mail.extend_from_slice(&sink);
        mail.extend_from_slice(b"\r\n--enc--\r\n");
        mail
    }

    #[test]
    fn a_decompression_bomb_counts_what_it_inflates_to_not_what_arrived() {
        let cert = crate::crypto::keys::generate(
            "Example Security <security@example.org>",
            now() - jiff::SignedDuration::from_hours(1),
            None,
            None,
        )
        .expect("generate");
        let crypto = Crypto {
            team: Some(Arc::new(
                TeamKeys::from_certs(vec![cert.clone()], now()).expect("team"),
            )),
            ..Crypto::default()
        };
        let config = Config::parse(
            crate::config::tests::MINIMAL,
            Path::new("/etc/disclosed/config.toml"),
        )
        .expect("config");
        let inflated = 8 << 20;
        let raw = bomb(&cert, inflated);
        assert!(raw.len() < 8 << 10, "the bomb is {} bytes", raw.len());
        let prepared = prepare(
            Incoming {
                location: "bomb".into(),
                raw: Raw::Loaded(raw),
            },
            &config.limits,
            &crypto,
            now(),
        );
        let opened = prepared.pgp.as_ref().map(|(o, _)| o);
        assert!(
            opened.is_some_and(|o| o.inner.as_ref().is_some_and(|i| i.len() >= inflated)),
            "the bomb was not opened"
        );
        assert!(
            prepared.memory() >= inflated,
            "counted {} bytes",
            prepared.memory()
        );
    }
}
