//! Learning correspondents' keys: which key found in a message is recorded for
//! which address, and whether it may replace the key in use. A different key
//! for the same address is never swapped in silently: only a message signed by
//! the key in use may rotate it; otherwise the new key waits for the team.

use jiff::Timestamp;
use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::serialize::Serialize;

use super::{FoundKey, KeySource, Signature, seal};
use crate::store::KeyRecord;

/// What to do with one key found for `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDecision {
    /// Not recorded, and why.
    Ignore(&'static str),
    /// The address's first key: record it as current.
    First,
    /// A key we have: refresh it (merged with what arrived) and its last-seen time.
    Seen { id: i64 },
    /// A different key, in a message signed by the key in use: it replaces it.
    Rotate { old: String },
    /// A different key without that proof: recorded as pending, the team is told.
    Changed { current: String },
}

/// Decides for one `found` key of a message from `address`. `stored` are the
/// address's keys that are not replaced (see `Tx::keys_for_address`).
pub fn decide(
    address: &str,
    found: &FoundKey,
    stored: &[KeyRecord],
    signature: &Signature,
    now: Timestamp,
) -> KeyDecision {
    let fingerprint = found.cert.fingerprint().to_hex();
    let names_address = found.cert.userids().any(|u| {
        u.userid()
            .email()
            .ok()
            .flatten()
            .is_some_and(|e| e.eq_ignore_ascii_case(address))
    });
    let announced = found.source == KeySource::Autocrypt
        && found
            .addr
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(address));
    if !names_address && !announced {
        return KeyDecision::Ignore("the key has no user id with the sender's address");
    }
    if let Some(known) = stored.iter().find(|k| k.fingerprint == fingerprint) {
        return KeyDecision::Seen { id: known.id };
    }
    if !seal::usable_for_encryption(&found.cert, now) {
        return KeyDecision::Ignore("the key cannot encrypt now (expired, revoked or weak)");
    }
    match stored.iter().find(|k| k.status == "current") {
        None => KeyDecision::First,
        Some(current) => match signature {
            Signature::Valid { signer, .. } if *signer == current.fingerprint => {
                KeyDecision::Rotate {
                    old: current.fingerprint.clone(),
                }
            }
            _ => KeyDecision::Changed {
                current: current.fingerprint.clone(),
            },
        },
    }
}

/// A certificate as stored: binary, public parts only.
pub fn to_bytes(cert: &Cert) -> Vec<u8> {
    let mut out = Vec::new();
    // Serialising a public cert into memory cannot fail short of allocation.
    if cert
        .clone()
        .strip_secret_key_material()
        .serialize(&mut out)
        .is_err()
    {
        out.clear();
    }
    out
}

/// A stored certificate, or `None` when the bytes are not one.
pub fn from_bytes(bytes: &[u8]) -> Option<Cert> {
    Cert::from_bytes(bytes).ok()
}

/// `stored` updated with what arrived (new subkeys, signatures, revocations).
pub fn merge(stored: &[u8], arrived: &Cert) -> Vec<u8> {
    match from_bytes(stored).and_then(|c| c.merge_public(arrived.clone()).ok()) {
        Some(merged) => to_bytes(&merged),
        None => to_bytes(arrived),
    }
}
