//! Opening incoming mail: find the OpenPGP form (PGP/MIME encrypted, multipart/signed,
//! inline armor, encrypted `.pgp`/`.asc` attachments), decrypt with the team keys,
//! verify signatures, collect the keys the message carries, and rebuild the
//! readable MIME entity. Never fails: every problem is a recorded [`Encryption`]
//! or [`Signature`] state.
//!
//! `pgp` talks to sequoia, `inline` handles armor in text and attachments,
//! `found` collects keys, `mime` holds the byte-level MIME helpers.

mod found;
mod inline;
mod mime;
mod pgp;

#[cfg(test)]
mod tests;

use jiff::Timestamp;
use mail_parser::{Message, MessageParser};

use super::{
    CertLookup, CryptoLimits, Encryption, FailReason, Form, KeySource, Opened, Signature, Signed,
    TeamKeys, policy, system_time,
};
use found::Found;
use pgp::{Ctx, Failure};

/// Opens `raw` (a whole RFC 5322 message). `from` is the lower-cased `From`
/// address (for [`super::Signature::Valid::from_matches`]). `team` is `None` when no
/// secret keys are configured (encrypted mail is then undecryptable, `NoKey`).
pub fn open(
    raw: &[u8],
    from: Option<&str>,
    team: Option<&TeamKeys>,
    lookup: &dyn CertLookup,
    limits: &CryptoLimits,
    now: Timestamp,
) -> Opened {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Opened::plain();
    };
    let ctx = Ctx {
        from,
        team,
        lookup,
        limits,
        policy: policy(),
        time: system_time(now),
    };
    let mut found = Found::default();
    found.collect(&message, KeySource::Attachment);
    let outside = found.len();
    let form = detect(&message);
    let mut opened = Opened::plain();
    opened.form = form;
    match form {
        Form::PgpMime => {
            let layer = pgp_mime(&ctx, &message, &mut found, 1);
            opened.encryption = layer.encryption;
            opened.signature = layer.signature;
            opened.inner = layer.inner;
            opened.signed = layer.signed;
        }
        Form::Signed => {
            let (signature, signed) = verify_signed(&ctx, &message, &found);
            opened.signature = signature;
            opened.signed = signed;
        }
        Form::Inline => {
            let outcome = inline::open(&ctx, &message, &mut found);
            opened.encryption = outcome.encryption;
            opened.signature = outcome.signature;
            opened.inner = outcome.inner;
            opened.signed = outcome.signed;
        }
        Form::Plain => {}
    }
    if matches!(opened.encryption, Encryption::Failed { .. }) {
        // Nothing from inside a message we could not fully read is kept.
        found.truncate(outside);
        opened.signed = None;
    }
    opened.keys = found.into_vec();
    tracing::debug!(
        form = form.as_str(),
        encryption = opened.encryption.code(),
        signature = opened.signature.code(),
        signer = opened.signature.signer(),
        unsigned_rest = opened.signed.as_ref().map(|s| s.unsigned_rest),
        keys = opened.keys.len(),
        "opened message"
    );
    opened
}

/// Whether `raw` is encrypted: PGP/MIME, an armored `PGP MESSAGE` in a text
/// body, or an encrypted `.pgp`/`.gpg`/`.asc` attachment.
pub fn is_encrypted_form(raw: &[u8]) -> bool {
    MessageParser::default()
        .parse(raw)
        .is_some_and(|m| match detect(&m) {
            Form::PgpMime => true,
            Form::Inline => inline::scan(&m) == Some(inline::Inline::Encrypted),
            Form::Signed | Form::Plain => false,
        })
}

fn detect(message: &Message<'_>) -> Form {
    let root = message.root_part();
    if mime::is_type(root, "multipart", "encrypted", "application/pgp-encrypted") {
        Form::PgpMime
    } else if mime::is_type(root, "multipart", "signed", "application/pgp-signature") {
        Form::Signed
    } else if inline::scan(message).is_some() {
        Form::Inline
    } else {
        Form::Plain
    }
}

/// One PGP/MIME layer opened.
struct Layer {
    encryption: Encryption,
    signature: Signature,
    inner: Option<Vec<u8>>,
    signed: Option<Signed>,
}

impl Layer {
    fn failed(failure: Failure) -> Self {
        Self {
            encryption: failure.into_encryption(),
            signature: Signature::None,
            inner: None,
            signed: None,
        }
    }
}

/// The covered content to use when several signatures cover different parts:
/// the best signature (by the `From` address's key first, see [`pgp::best`]);
/// between equals, the first, which is the outermost and covers the most.
fn pick(candidates: impl IntoIterator<Item = Option<Signed>>) -> Option<Signed> {
    let mut chosen: Option<Signed> = None;
    for candidate in candidates.into_iter().flatten() {
        let better = chosen.as_ref().is_none_or(|c| {
            pgp::best([c.signature.clone(), candidate.signature.clone()]) != c.signature
        });
        if better {
            chosen = Some(candidate);
        }
    }
    chosen
}

/// `entity` as covered by `signature`, when that signature is valid.
fn covered(signature: &Signature, entity: &[u8], unsigned_rest: bool) -> Option<Signed> {
    matches!(signature, Signature::Valid { .. }).then(|| Signed {
        signature: signature.clone(),
        entity: entity.to_vec(),
        unsigned_rest,
    })
}

/// Decrypts a `multipart/encrypted` message; its inner entity may again be
/// encrypted (`depth` counts those layers) or `multipart/signed`.
fn pgp_mime(ctx: &Ctx<'_>, message: &Message<'_>, found: &mut Found, depth: u32) -> Layer {
    // RFC 3156 §4: the second part holds the encrypted data.
    let Some(payload) = message
        .root_part()
        .sub_parts()
        .and_then(|ids| ids.get(1))
        .and_then(|id| message.part(*id))
        .map(mail_parser::MessagePart::contents)
    else {
        return Layer::failed(Failure::new(
            FailReason::Corrupt,
            "multipart/encrypted without an encrypted part",
        ));
    };
    let limit = ctx.limits.max_decompressed_size;
    let plain = match pgp::decrypt(ctx, payload, &found.certs(), limit) {
        Ok(plain) => plain,
        Err(failure) => return Layer::failed(failure),
    };
    if !plain.encryption.was_encrypted() {
        return Layer::failed(Failure::new(
            FailReason::Corrupt,
            "multipart/encrypted holds no encrypted data",
        ));
    }
    let inner = mime::ensure_final_crlf(plain.data);
    let mut signature = plain.signature;
    let Some(entity) = MessageParser::default().parse(&inner) else {
        return Layer {
            encryption: plain.encryption,
            signed: covered(&signature, &inner, false),
            signature,
            inner: Some(inner),
        };
    };
    let known = found.len();
    found.collect(&entity, KeySource::Encrypted);
    // The signer's key may have come inside the encryption: check again
    // now that we have it.
    if matches!(signature, Signature::UnknownKey { .. })
        && found.len() > known
        && let Ok(again) = pgp::decrypt(ctx, payload, &found.certs(), limit)
    {
        signature = again.signature;
    }
    // The signature inside the encryption, before any detached one joins it.
    let onepass = signature.clone();
    // A signature inside the encryption covers the whole decrypted entity.
    let mut inner_signed = None;
    let next = match detect(&entity) {
        Form::PgpMime if depth >= ctx.limits.max_depth => {
            return Layer::failed(Failure::new(
                FailReason::Limit,
                format!(
                    "encrypted entities nested deeper than the limit of {}",
                    ctx.limits.max_depth
                ),
            ));
        }
        Form::PgpMime => Some(pgp_mime(ctx, &entity, found, depth + 1)),
        // Encrypted after multipart/signed (RFC 3156 §6.1): the whole
        // entity reads fine; the signature is the detached one.
        Form::Signed => {
            let (detached, signed) = verify_signed(ctx, &entity, found);
            inner_signed = signed;
            signature = pgp::best([signature, detached]);
            None
        }
        Form::Inline | Form::Plain => None,
    };
    match next {
        Some(nested) if matches!(nested.encryption, Encryption::Failed { .. }) => nested,
        Some(nested) => {
            let readable = nested.inner.as_deref().unwrap_or_default();
            let outer = covered(&onepass, readable, false);
            Layer {
                encryption: plain.encryption,
                signature: pgp::best([signature, nested.signature]),
                signed: pick([outer, nested.signed]),
                inner: nested.inner,
            }
        }
        None => Layer {
            encryption: plain.encryption,
            signed: pick([covered(&onepass, &inner, false), inner_signed]),
            signature,
            inner: Some(inner),
        },
    }
}

/// Checks the detached signature of a `multipart/signed` message over its
/// first part; when it is valid, that part is what it covers. Parts after the
/// signature are not covered.
fn verify_signed(
    ctx: &Ctx<'_>,
    message: &Message<'_>,
    found: &Found,
) -> (Signature, Option<Signed>) {
    match mime::signed_parts(message) {
        Some((data, signature)) => {
            let signature = pgp::verify_detached(ctx, signature, &data, &found.certs());
            let extra_parts = message
                .root_part()
                .sub_parts()
                .is_some_and(|ids| ids.len() > 2);
            let signed = covered(&signature, &data, extra_parts);
            (signature, signed)
        }
        None => (
            Signature::Bad {
                signer: None,
                reason: "multipart/signed without a signature part".into(),
            },
            None,
        ),
    }
}
