//! The OpenPGP steps of ingest: open a message (off the store's lock in
//! [`super::prepare`], again with stored keys when needed), record what it was,
//! learn the keys it carried at the trust their origin earns, and take a
//! confirmation token it carries back. Mail held for a key is released, and
//! confirmations are requested, by [`crate::respond::held`].

use std::borrow::Cow;

use jiff::Timestamp;
use sequoia_openpgp::Cert;
use serde_json::json;

use super::Prepared;
use crate::audit::{Actor, Auth, EventKind};
use crate::config::Limits;
use crate::crypto::learn::{self, KeyDecision, Trust};
use crate::crypto::{self, Crypto, CryptoLimits, Encryption, Opened, Signature};
use crate::parse::{self, ParseLimits, ParsedMessage, Problem};
use crate::report::ReportId;
use crate::respond::held::current_of;
use crate::respond::queue::{Mailer, ToTeam};
use crate::respond::templates::KeyChangedData;
use crate::store::{KeyRecord, KeyStatus, MessageCrypto, NewKey, Recorder, StoreError, Tx};

/// A message from an outsider, as key learning reads it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Arrival<'a> {
    /// The report it joined or opened.
    pub report: Option<&'a ReportId>,
    /// Its sender.
    pub address: &'a str,
    /// What OpenPGP made of it: the keys it carried, its signature.
    pub opened: &'a Opened,
    /// The message as it arrived, before its encrypted part was opened.
    pub outer: &'a ParsedMessage,
    /// The stored message.
    pub message: i64,
}

/// A different key that arrived for an address while another is in use.
#[derive(Debug, Clone, Copy)]
struct KeyChange<'a> {
    current: &'a str,
    new: &'a str,
    source: &'a str,
}

/// Opens `raw` with the team keys and `known` certificates, and merges what the
/// readable inner entity says into `parsed`.
pub(super) fn open_and_merge(
    raw: &[u8],
    parsed: &ParsedMessage,
    crypto: &Crypto,
    known: &dyn crypto::CertLookup,
    limits: &crate::config::Limits,
    now: Timestamp,
) -> (Opened, ParsedMessage) {
    let from = parsed.from.as_ref().map(|m| m.address.as_str());
    let opened = crypto::open::open(
        raw,
        from,
        crypto.team.as_deref(),
        known,
        &CryptoLimits::from_config(limits),
        now,
    );
    let merged = match &opened.inner {
        Some(inner) => parse::merge_inner(
            parsed,
            parse::parse(inner, &ParseLimits::from_config(limits)),
        ),
        None => parsed.clone(),
    };
    (opened, merged)
}

/// The message as OpenPGP left it (opened in [`super::prepare`]). A signature
/// by a key we could not see there, while keys of the sender are stored, is
/// checked again with those.
pub(super) fn open<'p>(
    tx: &Tx<'_>,
    crypto: &Crypto,
    limits: &Limits,
    p: &'p Prepared,
    now: Timestamp,
) -> Result<(Cow<'p, ParsedMessage>, Option<Cow<'p, Opened>>), StoreError> {
    let (Some((opened, merged)), Some(raw)) = (&p.pgp, p.raw.as_deref()) else {
        return Ok((Cow::Borrowed(&p.parsed), None));
    };
    let sender = p.parsed.from.as_ref().map(|m| m.address.as_str());
    if let (Signature::UnknownKey { .. }, Some(address)) = (&opened.signature, sender)
        && !tx.keys_for_address(address)?.is_empty()
    {
        let known = known_keys(tx, crypto, address)?;
        let (opened, merged) = open_and_merge(raw, &p.parsed, crypto, &known, limits, now);
        return Ok((Cow::Owned(merged), Some(Cow::Owned(opened))));
    }
    // Borrowed: the decrypted entity may be as large as `max_decompressed_size`.
    Ok((Cow::Borrowed(merged), Some(Cow::Borrowed(opened))))
}

/// Keys for `address` to verify its signatures with: the stored ones,
/// whatever their trust, and the keyring's.
fn known_keys(tx: &Tx<'_>, crypto: &Crypto, address: &str) -> Result<Vec<Cert>, StoreError> {
    let mut certs: Vec<Cert> = tx
        .keys_for_address(address)?
        .iter()
        .filter_map(|k| learn::from_bytes(&k.cert))
        .collect();
    certs.extend(crypto.keyring_for(address).map(|f| f.cert));
    Ok(certs)
}

/// Confirms a key whose token the message carries back, then records the
/// keys it carried for its sender (and the keyring's), per
/// [`learn::decide`]. Mail held for `address` is released to a key that
/// becomes proven; while mail is held and only unproven keys are known,
/// each of them is sent a confirmation. `outer` is the message as it
/// arrived, before its encrypted part was opened.
pub(super) fn learn_keys(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    a: &Arrival<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    confirm_by_reply(m, tx, a, now)?;
    let Arrival {
        report,
        address,
        opened,
        message,
        ..
    } = *a;
    let mut found: Vec<crypto::FoundKey> = opened.keys.clone();
    found.extend(m.crypto.keyring_for(address));
    let mut seen = std::collections::HashSet::new();
    found.retain(|f| seen.insert(f.cert.fingerprint()));
    let rec = Recorder {
        report,
        at: now,
        actor: Actor::Daemon,
        auth: Auth::None,
        message: Some(message),
    };
    for key in &found {
        let fingerprint = key.cert.fingerprint().to_hex();
        let source = key.source.as_str();
        let stored = tx.key_history(address)?;
        let bytes = learn::to_bytes(&key.cert);
        let new_key = |status, trust: Trust| NewKey {
            address,
            fingerprint: &fingerprint,
            cert: &bytes,
            source,
            status,
            trust: trust.as_str(),
            message: Some(message),
        };
        let known: Vec<learn::KnownKey> = stored.iter().map(known_key).collect();
        match learn::decide(address, key, &known, &opened.signature, now) {
            KeyDecision::Ignore(reason) => {
                if key.source != crypto::KeySource::Keyring {
                    rec.record(
                            tx,
                            EventKind::KeyIgnored,
                            json!({ "address": address, "fingerprint": fingerprint, "source": source, "reason": reason }),
                        )?;
                }
            }
            KeyDecision::Seen {
                id,
                raise,
                make_current,
            } => {
                let old = stored
                    .iter()
                    .find(|k| k.id == id)
                    .map(|k| k.cert.as_slice());
                // The same bytes again (the usual case) need no merge.
                let merged = match old {
                    Some(old) if old != bytes.as_slice() => learn::merge(old, &key.cert),
                    _ => bytes.clone(),
                };
                tx.touch_key(id, &merged, now)?;
                if let Some(trust) = raise {
                    tx.set_key_trust(id, trust.as_str())?;
                }
                if make_current {
                    let old = current_of(&stored);
                    tx.make_key_current(address, &fingerprint)?;
                    rec.record(
                            tx,
                            EventKind::KeySuperseded,
                            json!({ "address": address, "old": old, "new": fingerprint, "source": source,
                                    "trust": raise.map(Trust::as_str) }),
                        )?;
                    m.release_held(tx, address, &key.cert, report, Some(message), now)?;
                }
            }
            KeyDecision::First { trust } => {
                tx.insert_key(&new_key(KeyStatus::Current, trust), now)?;
                rec.record(
                        tx,
                        EventKind::KeyLearned,
                        json!({ "address": address, "fingerprint": fingerprint, "source": source, "trust": trust.as_str() }),
                    )?;
                if trust.is_proven() {
                    m.release_held(tx, address, &key.cert, report, Some(message), now)?;
                }
            }
            KeyDecision::Rotate { old, trust } => {
                tx.insert_key(&new_key(KeyStatus::Pending, trust), now)?;
                tx.make_key_current(address, &fingerprint)?;
                rec.record(
                    tx,
                    EventKind::KeyRotated,
                    json!({ "address": address, "old": old, "new": fingerprint, "source": source,
                                "trust": trust.as_str(), "proof": "signed by the old key" }),
                )?;
                if trust.is_proven() {
                    m.release_held(tx, address, &key.cert, report, Some(message), now)?;
                }
            }
            KeyDecision::Supersede { old, trust } => {
                tx.insert_key(&new_key(KeyStatus::Pending, trust), now)?;
                tx.make_key_current(address, &fingerprint)?;
                rec.record(
                    tx,
                    EventKind::KeySuperseded,
                    json!({ "address": address, "old": old, "new": fingerprint, "source": source,
                                "trust": trust.as_str() }),
                )?;
                m.release_held(tx, address, &key.cert, report, Some(message), now)?;
            }
            KeyDecision::Changed { current, trust } => {
                tx.insert_key(&new_key(KeyStatus::Pending, trust), now)?;
                rec.record(
                        tx,
                        EventKind::KeyChanged,
                        json!({ "address": address, "current": current, "new": fingerprint, "source": source,
                                "trust": trust.as_str() }),
                    )?;
                let change = KeyChange {
                    current: &current,
                    new: &fingerprint,
                    source,
                };
                key_changed_notice(m, tx, a, change, now)?;
            }
        }
    }
    let carried: Vec<String> = found
        .iter()
        .map(|f| f.cert.fingerprint().to_hex())
        .collect();
    m.request_confirmations(tx, report, address, &carried, message, now)
}

/// Tells the team a different key arrived for the sender of `a` while
/// another is in use.
fn key_changed_notice(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    a: &Arrival<'_>,
    change: KeyChange<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Arrival {
        report,
        address,
        message,
        ..
    } = *a;
    let data = KeyChangedData {
        address,
        report_id: report.map(ReportId::as_str),
        current: change.current,
        new: change.new,
        source: change.source,
    };
    let state = match report {
        Some(id) => tx.report_state(id)?,
        None => None,
    };
    // A member without a key learns only that something changed, never
    // whose key or which fingerprints.
    let state = state.map(|s| s.as_str());
    let headline = "A reporter's key changed";
    match m.bodies("key-changed", &data, headline, report, state, Vec::new()) {
        Ok(bodies) => {
            let mail = m.notice(report, &format!("Key changed for {address}"), bodies);
            let to = ToTeam {
                report,
                kind: "key-changed",
                except: None,
                message,
            };
            m.send_to_team(tx, &to, &mail, now)?;
        }
        Err(err) => {
            tracing::warn!(report = report.map(ReportId::as_str), stored = message, error = %err, "cannot compose the key-change notice");
        }
    }
    Ok(())
}

/// Looks for confirmation tokens in a message from an outsider. A token
/// confirms its key only when it arrived inside the decrypted content
/// (so only the holder of the key, reading the mailbox, could write it),
/// from the address it was sent to, once, before it expired. A token seen
/// in clear is spent without confirming anything: it was exposed.
fn confirm_by_reply(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    a: &Arrival<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Arrival {
        report,
        address,
        opened,
        outer,
        message,
    } = *a;
    let ours = Recorder {
        report,
        at: now,
        actor: Actor::Daemon,
        auth: Auth::None,
        message: Some(message),
    };
    let outside = [outer.subject.as_str(), outer.text.as_str()];
    let inner = match (&opened.encryption, &opened.inner) {
        (Encryption::Decrypted { .. }, Some(inner)) => Some(parse::parse(
            inner,
            &ParseLimits::from_config(&m.config.limits),
        )),
        _ => None,
    };
    let inside = inner.as_ref().map_or_else(Vec::new, |p| {
        learn::tokens_only_inside(&[&p.subject, &p.text], &outside)
    });
    let exposed: Vec<String> = outside.iter().flat_map(|t| learn::tokens_in(t)).collect();
    for (token, in_clear) in exposed
        .iter()
        .map(|t| (t, true))
        .chain(inside.iter().map(|t| (t, false)))
    {
        let Some(c) = tx.key_confirmation_by_hash(&learn::token_hash(token))? else {
            continue;
        };
        let mut on = vec![report];
        if c.report_id.as_ref() != report {
            on.push(c.report_id.as_ref());
        }
        let refusal = if in_clear {
            Some("the token arrived unencrypted")
        } else {
            learn::token_refusal(
                &learn::SentToken {
                    address: &c.address,
                    expires_at: c.expires_at,
                    used: c.used_at.is_some(),
                },
                address,
                now,
            )
        };
        let key = tx
            .key_history(&c.address)?
            .into_iter()
            .find(|k| k.fingerprint == c.fingerprint);
        let cert = key
            .as_ref()
            .filter(|k| k.status != KeyStatus::Replaced)
            .and_then(|k| learn::from_bytes(&k.cert))
            .filter(|cert| crypto::seal::usable_for_encryption(cert, now));
        let refusal = refusal.or(match cert {
            None => Some("the key was replaced, or can no longer encrypt"),
            Some(_) => None,
        });
        if let Some(reason) = refusal {
            // A token someone else holds, or that crossed the network in
            // clear, is spent: it must not confirm later.
            if c.used_at.is_none() && (in_clear || !c.address.eq_ignore_ascii_case(address)) {
                tx.spend_key_confirmation(c.id, message, "exposed", now)?;
            }
            for r in &on {
                ours.about(*r).record(
                    tx,
                    EventKind::KeyConfirmationRefused,
                    json!({ "address": address, "fingerprint": c.fingerprint, "reason": reason }),
                )?;
            }
            continue;
        }
        let (Some(key), Some(cert)) = (key, cert) else {
            continue;
        };
        let old = current_of(&tx.keys_for_address(address)?);
        tx.spend_key_confirmation(c.id, message, "confirmed", now)?;
        let trust = Trust::parse(&key.trust).max(Trust::Confirmed);
        tx.set_key_trust(key.id, trust.as_str())?;
        tx.make_key_current(address, &key.fingerprint)?;
        for r in &on {
            ours.about(*r).record(
                    tx,
                    EventKind::KeyConfirmed,
                    json!({ "address": address, "fingerprint": key.fingerprint, "replaces": old.as_ref().filter(|o| **o != key.fingerprint),
                            "proof": "the confirmation token came back encrypted from the address" }),
                )?;
        }
        m.release_held(tx, address, &cert, report, Some(message), now)?;
    }
    Ok(())
}

/// What key learning needs of a stored key.
fn known_key(k: &KeyRecord) -> learn::KnownKey {
    learn::KnownKey {
        id: k.id,
        fingerprint: k.fingerprint.clone(),
        current: k.status == KeyStatus::Current,
        trust: Trust::parse(&k.trust),
    }
}

/// The problems an OpenPGP result adds to a message.
pub(super) fn crypto_problems(o: &Opened) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Encryption::Failed { reason, detail, .. } = &o.encryption {
        problems.push(Problem::Undecryptable {
            reason: reason.code(),
            detail: detail.clone(),
        });
    }
    if let Signature::Bad { reason, .. } = &o.signature {
        problems.push(Problem::BadSignature {
            reason: reason.clone(),
        });
    }
    problems
}

/// Records what OpenPGP made of `message`; its decrypted entity only when
/// `keep_decrypted` (a sender past their daily quota gets none stored: it is
/// decrypted again when read).
pub(super) fn record_crypto(
    tx: &Tx<'_>,
    message: i64,
    o: &Opened,
    keep_decrypted: bool,
) -> Result<(), StoreError> {
    let detail = match &o.encryption {
        Encryption::None => None,
        Encryption::Decrypted { key, algorithm } => {
            Some(json!({ "key": key, "algorithm": algorithm }).to_string())
        }
        Encryption::Failed {
            reason,
            detail,
            recipients,
        } => Some(
            json!({ "reason": reason.code(), "detail": detail, "recipients": recipients })
                .to_string(),
        ),
    };
    tx.record_message_crypto(
        message,
        &MessageCrypto {
            form: o.form.as_str(),
            encryption: o.encryption.code(),
            encryption_detail: detail.as_deref(),
            signature: o.signature.code(),
            signer: o.signature.signer(),
            signer_matches_from: o.signature.from_matches(),
            decrypted: o.inner.as_deref().filter(|_| keep_decrypted),
        },
    )
}
