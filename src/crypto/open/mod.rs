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
    CertLookup, CryptoLimits, Encryption, FailReason, Form, KeySource, Opened, Signature, TeamKeys,
    policy, system_time,
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
        }
        Form::Signed => opened.signature = verify_signed(&ctx, &message, &found),
        Form::Inline => {
            let outcome = inline::open(&ctx, &message, &mut found);
            opened.encryption = outcome.encryption;
            opened.signature = outcome.signature;
            opened.inner = outcome.inner;
        }
        Form::Plain => {}
    }
    if matches!(opened.encryption, Encryption::Failed { .. }) {
        // Nothing from inside a message we could not fully read is kept.
        found.truncate(outside);
    }
    opened.keys = found.into_vec();
    tracing::debug!(
        form = form.as_str(),
        encryption = opened.encryption.code(),
        signature = opened.signature.code(),
        signer = opened.signature.signer(),
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
}

impl Layer {
    fn failed(failure: Failure) -> Self {
        Self {
            encryption: failure.into_encryption(),
            signature: Signature::None,
            inner: None,
        }
    }
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
            signature = pgp::best([signature, verify_signed(ctx, &entity, found)]);
            None
        }
        Form::Inline | Form::Plain => None,
    };
    match next {
        Some(nested) if matches!(nested.encryption, Encryption::Failed { .. }) => nested,
        Some(nested) => Layer {
            encryption: plain.encryption,
            signature: pgp::best([signature, nested.signature]),
            inner: nested.inner,
        },
        None => Layer {
            encryption: plain.encryption,
            signature,
            inner: Some(inner),
        },
    }
}

/// Checks the detached signature of a `multipart/signed` message over its
/// first part.
fn verify_signed(ctx: &Ctx<'_>, message: &Message<'_>, found: &Found) -> Signature {
    match mime::signed_parts(message) {
        Some((data, signature)) => pgp::verify_detached(ctx, signature, &data, &found.certs()),
        None => Signature::Bad {
            signer: None,
            reason: "multipart/signed without a signature part".into(),
        },
    }
}
