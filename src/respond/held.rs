//! Mail held for a correspondent's key: which keys mail to an address may be
//! sealed to, the confirmation round trip that proves a key a mail merely
//! carried, and the release of held mail once a proven key is known (by a
//! confirmation, the keyring, or the team's `key accept`).

use jiff::{SignedDuration, Timestamp};
use sequoia_openpgp::Cert;
use serde_json::json;

use super::queue::{Mailer, count_reply, reply_refused};
use super::{compose, protect};
use crate::audit::{Actor, Auth, EventKind};
use crate::crypto::learn::{self, Trust};
use crate::crypto::{self, Crypto};
use crate::report::ReportId;
use crate::store::{
    KeyRecord, KeyStatus, NewEvent, NewKeyConfirmation, NewMail, Recorder, StoreError, Tx,
};

/// Keys mail to `address` may be encrypted to: the current key and the
/// keyring's. For `confidential` mail (they wrote to us encrypted, and the
/// mail carries content) only a proven key counts: one a mail merely
/// carried may be anyone's, and the mail is held instead.
pub fn reporter_keys(
    tx: &Tx<'_>,
    crypto: &Crypto,
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
    certs.extend(crypto.keyring_for(address).map(|f| f.cert));
    Ok(certs)
}

impl Mailer<'_> {
    /// While mail is held for `address` and no proven key is known, sends
    /// each unproven key (those `carried` by the current message first) a
    /// confirmation mail, encrypted to it, with a one-time token: one
    /// unanswered token per key at a time, and each counted against the
    /// address's automatic replies, so a flood of forged keys cannot make a
    /// flood of mail.
    pub fn request_confirmations(
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
        let expiry = SignedDuration::try_from(self.config.openpgp.key_confirmation_expiry)
            .unwrap_or(SignedDuration::from_hours(7 * 24));
        let expires = now.checked_add(expiry).unwrap_or(Timestamp::MAX);
        let mailbox = crate::thread::mailbox(address);
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
            if let Some(refused) = reply_refused(tx, &self.config.limits, address, now)? {
                rec.record(
                    tx,
                    EventKind::KeyConfirmationSkipped,
                    json!({ "address": address, "fingerprint": key.fingerprint, "reason": refused.reason,
                            "sent_in_window": refused.sent_in_window, "limit": refused.limit }),
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
            let request = compose::KeyConfirmationRequest {
                to: address,
                fingerprint: &key.fingerprint,
                token: &token,
                expires,
                report: on.as_ref(),
            };
            let program = self.config.program.address.to_string();
            let sealed = compose::key_confirmation(self.config, self.templates, request, now)
                .map_err(|err| err.to_string())
                .and_then(|mail| {
                    protect::seal_held(&mail.raw, &cert, team, &program, now)
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
                    rate_key: Some(&mailbox),
                    raw: &raw,
                    ..mail.to_queue(on.as_ref(), "key-confirmation")
                },
                now,
            )?;
            count_reply(tx, now)?;
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
    pub fn release_held(
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
            match protect::seal_held(&held.raw, key, team, &program, now) {
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

/// What [`Mailer::accept_key`] did.
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
pub fn current_of(keys: &[KeyRecord]) -> Option<String> {
    keys.iter()
        .find(|k| k.status == KeyStatus::Current)
        .map(|k| k.fingerprint.clone())
}
