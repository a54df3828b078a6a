//! The OpenPGP steps of ingest: open a message (off the store's lock in
//! [`super::prepare`], again with stored keys when needed), record what it was,
//! learn the keys it carried at the trust their origin earns, confirm keys by
//! a round trip, and release mail held for a key once a proven one is known.

use std::borrow::Cow;

use jiff::Timestamp;
use sequoia_openpgp::Cert;
use serde_json::json;

use super::{Pipeline, Prepared};
use crate::audit::{Actor, Auth, EventKind};
use crate::crypto::learn::{self, KeyDecision, Trust};
use crate::crypto::{self, Crypto, CryptoLimits, Encryption, Opened, Signature};
use crate::parse::{self, ParseLimits, ParsedMessage, Problem};
use crate::report::ReportId;
use crate::respond;
use crate::store::{
    KeyRecord, KeyStatus, MessageCrypto, NewEvent, NewKey, NewKeyConfirmation, NewMail, Recorder,
    StoreError, Tx,
};

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

impl Pipeline<'_> {
    /// The message as OpenPGP left it (opened in [`prepare`]). A signature by
    /// a key we could not see there, while keys of the sender are stored, is
    /// checked again with those.
    pub(super) fn open<'p>(
        &self,
        tx: &Tx<'_>,
        p: &'p Prepared,
        now: Timestamp,
    ) -> Result<(Cow<'p, ParsedMessage>, Option<Opened>), StoreError> {
        let (Some((opened, merged)), Some(raw)) = (&p.pgp, p.raw.as_deref()) else {
            return Ok((Cow::Borrowed(&p.parsed), None));
        };
        let sender = p.parsed.from.as_ref().map(|m| m.address.as_str());
        if let (Signature::UnknownKey { .. }, Some(address)) = (&opened.signature, sender)
            && !tx.keys_for_address(address)?.is_empty()
        {
            let known = self.known_keys(tx, address, false)?;
            let (opened, merged) = open_and_merge(
                raw,
                &p.parsed,
                self.crypto,
                &known,
                &self.config.limits,
                now,
            );
            return Ok((Cow::Owned(merged), Some(opened)));
        }
        Ok((Cow::Borrowed(merged), Some(opened.clone())))
    }

    /// Keys for `address` to verify its signatures with: stored ones (only
    /// the current one when `current_only`), whatever their trust, and the
    /// keyring's.
    pub(super) fn known_keys(
        &self,
        tx: &Tx<'_>,
        address: &str,
        current_only: bool,
    ) -> Result<Vec<Cert>, StoreError> {
        let mut certs: Vec<Cert> = tx
            .keys_for_address(address)?
            .iter()
            .filter(|k| !current_only || k.status == KeyStatus::Current)
            .filter_map(|k| learn::from_bytes(&k.cert))
            .collect();
        certs.extend(self.crypto.keyring_for(address).map(|f| f.cert));
        Ok(certs)
    }

    /// Keys mail to `address` may be encrypted to: the current key and the
    /// keyring's. For `confidential` mail (they wrote to us encrypted, and the
    /// mail carries content) only a proven key counts: one a mail merely
    /// carried may be anyone's, and the mail is held instead.
    pub(super) fn reporter_keys(
        &self,
        tx: &Tx<'_>,
        address: &str,
        confidential: bool,
    ) -> Result<Vec<Cert>, StoreError> {
        let mut certs: Vec<Cert> = tx
            .keys_for_address(address)?
            .iter()
            .filter(|k| k.status == KeyStatus::Current)
            .filter(|k| !confidential || Trust::parse(&k.trust).is_proven())
            .filter_map(|k| learn::from_bytes(&k.cert))
            .collect();
        certs.extend(self.crypto.keyring_for(address).map(|f| f.cert));
        Ok(certs)
    }

    /// Confirms a key whose token `opened` carries back, then records the keys
    /// `opened` carried for `address` (and the keyring's), per
    /// [`learn::decide`]. Mail held for `address` is released to a key that
    /// becomes proven; while mail is held and only unproven keys are known,
    /// each of them is sent a confirmation. `outer` is the message as it
    /// arrived, before its encrypted part was opened.
    #[expect(clippy::too_many_arguments, reason = "the facts of one message")]
    pub(super) fn learn_keys(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        address: &str,
        opened: &Opened,
        outer: &ParsedMessage,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.confirm_by_reply(tx, report, address, opened, outer, message, now)?;
        let mut found: Vec<crypto::FoundKey> = opened.keys.clone();
        found.extend(self.crypto.keyring_for(address));
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
                        self.release_held(tx, address, &key.cert, report, Some(message), now)?;
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
                        self.release_held(tx, address, &key.cert, report, Some(message), now)?;
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
                        self.release_held(tx, address, &key.cert, report, Some(message), now)?;
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
                    self.release_held(tx, address, &key.cert, report, Some(message), now)?;
                }
                KeyDecision::Changed { current, trust } => {
                    tx.insert_key(&new_key(KeyStatus::Pending, trust), now)?;
                    rec.record(
                        tx,
                        EventKind::KeyChanged,
                        json!({ "address": address, "current": current, "new": fingerprint, "source": source,
                                "trust": trust.as_str() }),
                    )?;
                    self.key_changed_notice(
                        tx,
                        report,
                        address,
                        &current,
                        &fingerprint,
                        source,
                        message,
                        now,
                    )?;
                }
            }
        }
        let carried: Vec<String> = found
            .iter()
            .map(|f| f.cert.fingerprint().to_hex())
            .collect();
        self.request_confirmations(tx, report, address, &carried, message, now)
    }

    /// Tells the team a different key arrived for `address` while `current`
    /// is in use.
    #[expect(clippy::too_many_arguments, reason = "the facts of the notice")]
    fn key_changed_notice(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        address: &str,
        current: &str,
        new: &str,
        source: &str,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let data = respond::templates::KeyChangedData {
            address,
            report_id: report.map(ReportId::as_str),
            current,
            new,
            source,
        };
        let state = match report {
            Some(id) => tx.report_state(id)?,
            None => None,
        };
        // A member without a key learns only that something changed, never
        // whose key or which fingerprints.
        let rendered = self
            .templates
            .render("key-changed", &data)
            .map_err(respond::compose::ComposeError::from)
            .and_then(|body| {
                let metadata = respond::compose::metadata_notice(
                    self.templates,
                    "A reporter's key changed",
                    report,
                    state.map(|s| s.as_str()),
                    Vec::new(),
                )?;
                Ok((body, metadata))
            });
        match rendered {
            Ok((body, metadata)) => {
                let program = &self.config.program;
                let mail = respond::team::TeamMail {
                    subject: match report {
                        Some(id) => format!("[{id}] Key changed for {address}"),
                        None => format!("Key changed for {address}"),
                    },
                    body,
                    secret: true,
                    metadata: Some(metadata),
                    attachments: &[],
                    reply_to: report.map(|id| program.address.with_tag(&format!("{id}-internal"))),
                    from_name: format!("{} disclosed", program.name),
                    references: Vec::new(),
                    auto_submitted: Some("auto-generated"),
                };
                self.send_to_team(tx, report, "key-changed", &mail, None, message, now)?;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot compose the key-change notice");
            }
        }
        Ok(())
    }

    /// Looks for confirmation tokens in a message from `address`. A token
    /// confirms its key only when it arrived inside the decrypted content
    /// (so only the holder of the key, reading the mailbox, could write it),
    /// from the address it was sent to, once, before it expired. A token seen
    /// in clear is spent without confirming anything: it was exposed.
    #[expect(clippy::too_many_arguments, reason = "the facts of one message")]
    fn confirm_by_reply(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        address: &str,
        opened: &Opened,
        outer: &ParsedMessage,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
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
                &ParseLimits::from_config(&self.config.limits),
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
            self.release_held(tx, address, &cert, report, Some(message), now)?;
        }
        Ok(())
    }

    /// While mail is held for `address` and no proven key is known, sends
    /// each unproven key (those `carried` by the current message first) a
    /// confirmation mail, encrypted to it, with a one-time token: one
    /// unanswered token per key at a time, and each counted against the
    /// address's automatic replies, so a flood of forged keys cannot make a
    /// flood of mail.
    pub(super) fn request_confirmations(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        address: &str,
        carried: &[String],
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(team) = self.crypto.team.as_deref() else {
            return Ok(());
        };
        let held = tx.held_mail_for(address)?;
        let Some(first) = held.first() else {
            return Ok(());
        };
        let on = first.report_id.clone().or_else(|| report.cloned());
        let keys = tx.keys_for_address(address)?;
        if keys
            .iter()
            .any(|k| k.status == KeyStatus::Current && Trust::parse(&k.trust).is_proven())
        {
            return Ok(());
        }
        let mut candidates: Vec<&KeyRecord> = keys
            .iter()
            .filter(|k| !Trust::parse(&k.trust).is_proven())
            .collect();
        // Stable: the keys this message carried, then current, then newest.
        candidates.sort_by_key(|k| !carried.contains(&k.fingerprint));
        let expiry = jiff::SignedDuration::try_from(self.config.openpgp.key_confirmation_expiry)
            .unwrap_or(jiff::SignedDuration::from_hours(7 * 24));
        let expires = now.checked_add(expiry).unwrap_or(Timestamp::MAX);
        let limit = self.config.limits.auto_replies_per_sender;
        let rec = Recorder {
            report: on.as_ref(),
            at: now,
            actor: Actor::Daemon,
            auth: Auth::None,
            message: Some(message),
        };
        for key in candidates {
            if tx.confirmation_pending(address, &key.fingerprint, now)? {
                continue;
            }
            let Some(cert) = learn::from_bytes(&key.cert)
                .filter(|c| crypto::seal::usable_for_encryption(c, now))
            else {
                continue;
            };
            let sent = self.automatic_replies_in_window(tx, address, now)?;
            if !crate::thread::within_rate_limit(sent, limit) {
                rec.record(
                    tx,
                    EventKind::KeyConfirmationSkipped,
                    json!({ "address": address, "fingerprint": key.fingerprint, "reason": "rate limit",
                            "sent_in_window": sent, "limit": limit }),
                )?;
                break;
            }
            let token = match learn::new_token() {
                Ok(token) => token,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot make a key confirmation token");
                    return Ok(());
                }
            };
            let request = respond::compose::KeyConfirmationRequest {
                to: address,
                fingerprint: &key.fingerprint,
                token: &token,
                expires,
                report: on.as_ref(),
            };
            let program = self.config.program.address.to_string();
            let sealed =
                respond::compose::key_confirmation(self.config, self.templates, request, now)
                    .map_err(|err| err.to_string())
                    .and_then(|mail| {
                        respond::protect::seal_held(&mail.raw, &cert, team, &program, now)
                            .map(|raw| (mail, raw))
                            .map_err(|err| err.to_string())
                    });
            let (mail, raw) = match sealed {
                Ok(sealed) => sealed,
                Err(reason) => {
                    tracing::warn!(error = %reason, "cannot compose the key confirmation");
                    rec.record(
                        tx,
                        EventKind::KeyConfirmationFailed,
                        json!({ "address": address, "fingerprint": key.fingerprint, "reason": reason }),
                    )?;
                    continue;
                }
            };
            let outbox = tx.enqueue(
                &NewMail {
                    rate_key: Some(address),
                    raw: &raw,
                    ..mail.to_queue(on.as_ref(), "key-confirmation")
                },
                now,
            )?;
            tx.insert_key_confirmation(
                &NewKeyConfirmation {
                    address,
                    fingerprint: &key.fingerprint,
                    token_sha256: &learn::token_hash(&token),
                    report_id: on.as_ref(),
                    outbox,
                    expires_at: expires,
                },
                now,
            )?;
            rec.record(
                tx,
                EventKind::KeyConfirmationSent,
                json!({ "address": address, "fingerprint": key.fingerprint, "message_id": mail.message_id,
                        "expires": expires, "trust": key.trust }),
            )?;
        }
        Ok(())
    }

    /// Seals and queues the mail held for `address` to `key`, which must be
    /// a proven key of that address (stored as `keyring` or `confirmed`, or in
    /// the keyring): anything else releases nothing. Returns how many mails
    /// were released. `message` brought the proof (`None` for the team's
    /// `key accept`).
    fn release_held(
        &self,
        tx: &Tx<'_>,
        address: &str,
        key: &Cert,
        report: Option<&ReportId>,
        message: Option<i64>,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let Some(team) = self.crypto.team.as_deref() else {
            return Ok(0);
        };
        let fingerprint = key.fingerprint().to_hex();
        // The one place held mail leaves: check the proof here as well, so no
        // caller can release to a key a mail merely carried.
        let proven = tx
            .key_history(address)?
            .iter()
            .any(|k| k.fingerprint == fingerprint && Trust::parse(&k.trust).is_proven())
            || self
                .crypto
                .keyring_for(address)
                .any(|f| f.cert.fingerprint() == key.fingerprint());
        if !proven || !crypto::seal::usable_for_encryption(key, now) {
            return Ok(0);
        }
        let program = self.config.program.address.to_string();
        let mut released = 0;
        for held in tx.held_mail_for(address)? {
            let (id, held_report) = (held.id, held.report_id);
            match respond::protect::seal_held(&held.raw, key, team, &program, now) {
                Ok(sealed) => {
                    tx.release_held(id, &sealed, now)?;
                    released += 1;
                    // On the held mail's own report, and on the one whose
                    // message brought the key, when they differ.
                    let mut reports = vec![held_report.as_ref()];
                    if report.is_some() && report != held_report.as_ref() {
                        reports.push(report);
                    }
                    for on in reports {
                        tx.append_event(&NewEvent {
                            report_id: on,
                            at: now,
                            actor: Actor::Daemon,
                            auth: Auth::None,
                            kind: EventKind::HeldMailReleased,
                            detail: json!({ "outbox": id, "to": address, "key": fingerprint }),
                            message,
                        })?;
                    }
                }
                Err(err) => tracing::warn!(outbox = id, error = %err, "cannot seal held mail"),
            }
        }
        Ok(released)
    }

    /// The team vouches for the stored key `fingerprint` of `address`
    /// (`disclosed key accept`): it becomes `confirmed` (a keyring key stays
    /// `keyring`) and current, each report `address` takes part in records who
    /// accepted it (`by`) and when, and mail held for the address is sealed to
    /// it and queued at once. `None` when no such key is stored.
    pub fn accept_key(
        &self,
        tx: &Tx<'_>,
        address: &str,
        fingerprint: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<Option<KeyAccepted>, StoreError> {
        let known = tx.key_history(address)?;
        let Some(key) = known.iter().find(|k| k.fingerprint == fingerprint) else {
            return Ok(None);
        };
        let trust = Trust::parse(&key.trust);
        if key.status == KeyStatus::Current && trust.is_proven() {
            return Ok(Some(KeyAccepted {
                replaces: None,
                released: 0,
                already: true,
            }));
        }
        let replaces = current_of(&known).filter(|c| c != fingerprint);
        tx.set_key_trust(key.id, trust.max(Trust::Confirmed).as_str())?;
        tx.make_key_current(address, fingerprint)?;
        for report in tx.reports_with_participant(address)? {
            tx.append_event(&NewEvent {
                report_id: Some(&report),
                at: now,
                actor: Actor::Named("cli"),
                auth: Auth::Local,
                kind: EventKind::KeyAccepted,
                detail: json!({ "address": address, "fingerprint": fingerprint, "replaces": replaces,
                                "by": by, "trust": trust.max(Trust::Confirmed).as_str() }),
                message: None,
            })?;
        }
        let released = match learn::from_bytes(&key.cert) {
            Some(cert) => self.release_held(tx, address, &cert, None, None, now)?,
            None => 0,
        };
        Ok(Some(KeyAccepted {
            replaces,
            released,
            already: false,
        }))
    }
}

/// What [`Pipeline::accept_key`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAccepted {
    /// The key that was in use before, if another.
    pub replaces: Option<String>,
    /// How many held mails were sealed to the key and queued.
    pub released: usize,
    /// It already was the confirmed key in use: nothing changed.
    pub already: bool,
}

/// The fingerprint of the current key among `keys`.
/// What key learning needs of a stored key.
fn known_key(k: &KeyRecord) -> learn::KnownKey {
    learn::KnownKey {
        id: k.id,
        fingerprint: k.fingerprint.clone(),
        current: k.status == KeyStatus::Current,
        trust: Trust::parse(&k.trust),
    }
}

fn current_of(keys: &[KeyRecord]) -> Option<String> {
    keys.iter()
        .find(|k| k.status == KeyStatus::Current)
        .map(|k| k.fingerprint.clone())
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

pub(super) fn record_crypto(tx: &Tx<'_>, message: i64, o: &Opened) -> Result<(), StoreError> {
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
            decrypted: o.inner.as_deref(),
        },
    )
}
