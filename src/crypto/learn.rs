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
    let names_address = super::names_address(&found.cert, address);
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

#[cfg(test)]
mod tests {
    use sequoia_openpgp::cert::CertBuilder;

    use super::*;
    use crate::crypto::system_time;

    fn now() -> Timestamp {
        "2026-11-23T12:00:00Z".parse().expect("time")
    }

    fn cert(userid: &str) -> Cert {
        let created = now() - jiff::SignedDuration::from_hours(24);
        CertBuilder::general_purpose(Some(userid))
            .set_creation_time(system_time(created))
            .generate()
            .expect("generate")
            .0
    }

    fn found(cert: &Cert, source: KeySource, addr: Option<&str>) -> FoundKey {
        FoundKey {
            cert: cert.clone(),
            source,
            addr: addr.map(str::to_owned),
        }
    }

    fn record(id: i64, cert: &Cert, status: &str) -> KeyRecord {
        KeyRecord {
            id,
            address: "jane@researcher.example".into(),
            fingerprint: cert.fingerprint().to_hex(),
            cert: to_bytes(cert),
            source: "attachment".into(),
            status: status.into(),
            first_seen: now(),
            last_seen: now(),
        }
    }

    #[test]
    fn keys_are_learned_rotated_or_held_back() {
        let jane = "jane@researcher.example";
        let old = cert("Jane <jane@researcher.example>");
        let new = cert("Jane <JANE@researcher.example>");
        let stranger = cert("Mallory <mallory@evil.example>");
        let stored = [record(1, &old, "current")];
        let signed_by_old = Signature::Valid {
            signer: old.fingerprint().to_hex(),
            from_matches: true,
            created: None,
            digest: String::new(),
        };
        let attached = |c| found(c, KeySource::Attachment, None);

        assert_eq!(
            decide(jane, &attached(&old), &[], &Signature::None, now()),
            KeyDecision::First
        );
        assert_eq!(
            decide(jane, &attached(&old), &stored, &Signature::None, now()),
            KeyDecision::Seen { id: 1 }
        );
        // A different key is not swapped in because a mail carried it…
        assert_eq!(
            decide(jane, &attached(&new), &stored, &Signature::None, now()),
            KeyDecision::Changed {
                current: old.fingerprint().to_hex()
            }
        );
        // …only when the key in use signed that mail.
        assert_eq!(
            decide(jane, &attached(&new), &stored, &signed_by_old, now()),
            KeyDecision::Rotate {
                old: old.fingerprint().to_hex()
            }
        );
        // A key for someone else is not recorded for the sender, unless Autocrypt
        // announced it for the sender's address.
        assert!(matches!(
            decide(jane, &attached(&stranger), &[], &Signature::None, now()),
            KeyDecision::Ignore(_)
        ));
        assert_eq!(
            decide(
                jane,
                &found(&stranger, KeySource::Autocrypt, Some(jane)),
                &[],
                &Signature::None,
                now()
            ),
            KeyDecision::First
        );
        // A key that cannot encrypt now is not learned.
        let expired = CertBuilder::general_purpose(Some("Jane <jane@researcher.example>"))
            .set_creation_time(system_time(now() - jiff::SignedDuration::from_hours(48)))
            .set_validity_period(std::time::Duration::from_secs(3600))
            .generate()
            .expect("generate")
            .0;
        assert!(matches!(
            decide(jane, &attached(&expired), &[], &Signature::None, now()),
            KeyDecision::Ignore(_)
        ));
    }

    #[test]
    fn stored_certificates_round_trip_without_secrets_and_merge() {
        let c = cert("Jane <jane@researcher.example>");
        assert!(c.is_tsk());
        let bytes = to_bytes(&c);
        let back = from_bytes(&bytes).expect("parses");
        assert_eq!(back.fingerprint(), c.fingerprint());
        assert!(!back.is_tsk(), "secret key material was stored");
        assert_eq!(from_bytes(b"not a key"), None);
        let merged = from_bytes(&merge(&bytes, &c)).expect("merged");
        assert_eq!(merged.fingerprint(), c.fingerprint());
    }
}
