//! The OpenPGP steps of ingest: open a message (off the store's lock in
//! [`super::prepare`], again with stored keys when needed), record what it was,
//! learn the keys it carried, and release mail held for a key.

use std::borrow::Cow;

use jiff::Timestamp;
use sequoia_openpgp::Cert;
use serde_json::json;

use super::{Pipeline, Prepared};
use crate::crypto::learn::{self, KeyDecision};
use crate::crypto::{self, Crypto, CryptoLimits, Encryption, Opened, Signature};
use crate::parse::{self, ParseLimits, ParsedMessage, Problem};
use crate::report::ReportId;
use crate::respond;
use crate::store::{MessageCrypto, NewEvent, StoreError, Tx};

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

    /// Keys for `address`: stored ones (only the current one when
    /// `current_only`) and the keyring's.
    pub(super) fn known_keys(
        &self,
        tx: &Tx<'_>,
        address: &str,
        current_only: bool,
    ) -> Result<Vec<Cert>, StoreError> {
        let mut certs: Vec<Cert> = tx
            .keys_for_address(address)?
            .iter()
            .filter(|k| !current_only || k.status == "current")
            .filter_map(|k| learn::from_bytes(&k.cert))
            .collect();
        certs.extend(self.crypto.keyring_for(address).map(|f| f.cert));
        Ok(certs)
    }

    /// Records the keys `opened` carried for `address` (and the keyring's), per
    /// [`learn::decide`]; releases mail held for a key.
    pub(super) fn learn_keys(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        address: &str,
        opened: &Opened,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut found: Vec<crypto::FoundKey> = opened.keys.clone();
        found.extend(self.crypto.keyring_for(address));
        let mut seen = std::collections::HashSet::new();
        found.retain(|f| seen.insert(f.cert.fingerprint()));
        let event = |kind: &'static str, detail| NewEvent {
            report_id: report,
            at: now,
            actor: "disclosed",
            auth: "none",
            kind,
            detail,
            message: Some(message),
        };
        for key in found {
            let fingerprint = key.cert.fingerprint().to_hex();
            let source = key.source.as_str();
            let stored = tx.keys_for_address(address)?;
            let bytes = learn::to_bytes(&key.cert);
            let insert_pending = || {
                let status = "pending";
                tx.insert_key(
                    address,
                    &fingerprint,
                    &bytes,
                    source,
                    status,
                    now,
                    Some(message),
                )
            };
            match learn::decide(address, &key, &stored, &opened.signature, now) {
                KeyDecision::Ignore(reason) => {
                    if key.source != crypto::KeySource::Keyring {
                        tx.append_event(&event(
                            "key-ignored",
                            json!({ "address": address, "fingerprint": fingerprint, "source": source, "reason": reason }),
                        ))?;
                    }
                }
                KeyDecision::Seen { id } => {
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
                }
                KeyDecision::First => {
                    tx.insert_key(
                        address,
                        &fingerprint,
                        &bytes,
                        source,
                        "current",
                        now,
                        Some(message),
                    )?;
                    tx.append_event(&event(
                        "key-learned",
                        json!({ "address": address, "fingerprint": fingerprint, "source": source }),
                    ))?;
                    self.release_held(tx, address, &key.cert, report, message, now)?;
                }
                KeyDecision::Rotate { old } => {
                    insert_pending()?;
                    tx.make_key_current(address, &fingerprint)?;
                    tx.append_event(&event(
                        "key-rotated",
                        json!({ "address": address, "old": old, "new": fingerprint, "source": source, "proof": "signed by the old key" }),
                    ))?;
                }
                KeyDecision::Changed { current } => {
                    insert_pending()?;
                    tx.append_event(&event(
                        "key-changed",
                        json!({ "address": address, "current": current, "new": fingerprint, "source": source }),
                    ))?;
                    let data = respond::templates::KeyChangedData {
                        address,
                        report_id: report.map(ReportId::as_str),
                        current: &current,
                        new: &fingerprint,
                        source,
                    };
                    match self.templates.render("key-changed", &data) {
                        Ok(body) => {
                            let program = &self.config.program;
                            let mail = respond::team::TeamMail {
                                subject: match report {
                                    Some(id) => format!("[{id}] Key changed for {address}"),
                                    None => format!("Key changed for {address}"),
                                },
                                body,
                                secret: false,
                                metadata: None,
                                attachments: &[],
                                reply_to: report
                                    .map(|id| program.address.with_tag(&format!("{id}-internal"))),
                                from_name: format!("{} disclosed", program.name),
                                references: Vec::new(),
                                auto_submitted: Some("auto-generated"),
                            };
                            self.send_to_team(
                                tx,
                                report,
                                "key-changed",
                                &mail,
                                None,
                                message,
                                now,
                            )?;
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "cannot compose the key-change notice");
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Seals and queues the mail held for `address` now that `key` is known.
    fn release_held(
        &self,
        tx: &Tx<'_>,
        address: &str,
        key: &Cert,
        report: Option<&ReportId>,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(team) = self.crypto.team.as_deref() else {
            return Ok(());
        };
        if !crypto::seal::usable_for_encryption(key, now) {
            return Ok(());
        }
        let program = self.config.program.address.to_string();
        for held in tx.held_mail_for(address)? {
            let (id, held_report) = (held.id, held.report_id);
            match respond::protect::seal_held(&held.raw, key, team, &program, now) {
                Ok(sealed) => {
                    tx.release_held(id, &sealed, now)?;
                    // On the held mail's own report, and on the one whose
                    // message brought the key, when they differ.
                    let mut reports = vec![held_report.as_ref()];
                    if report != held_report.as_ref() {
                        reports.push(report);
                    }
                    for on in reports {
                        tx.append_event(&NewEvent {
                            report_id: on,
                            at: now,
                            actor: "disclosed",
                            auth: "none",
                            kind: "held-mail-released",
                            detail: json!({ "outbox": id, "to": address, "key": key.fingerprint().to_hex() }),
                            message: Some(message),
                        })?;
                    }
                }
                Err(err) => tracing::warn!(outbox = id, error = %err, "cannot seal held mail"),
            }
        }
        Ok(())
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
