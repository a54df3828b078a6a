//! Sealing outgoing mail: PGP/MIME (RFC 3156) encrypted and signed, with protected
//! headers (RFC 9788, compatible with `protected-headers="v1"`), or signed only.
//!
//! Both are byte-level transformations of a complete mail as lettre formats it:
//! the header block, a blank line, and a single body whose `Content-*` headers
//! sit in the header block. Nothing here logs: the input is plaintext and the
//! keys are secret.

use std::collections::HashSet;
use std::fmt::Display;
use std::io::Write as _;

use jiff::Timestamp;
use lettre::message::Body;
use lettre::message::header::ContentTransferEncoding;
use sequoia_openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation;
use sequoia_openpgp::packet::Packet;
use sequoia_openpgp::packet::key::PublicParts;
use sequoia_openpgp::parse::Parse as _;
use sequoia_openpgp::policy::Policy;
use sequoia_openpgp::serialize::stream::{
    Armorer, Encryptor, LiteralWriter, Message, Recipient, Signer,
};
use sequoia_openpgp::types::{HashAlgorithm, RevocationStatus};
use sequoia_openpgp::{Cert, Fingerprint};

use super::{TeamKeys, policy, system_time, to_crlf};

/// The outer `Subject` of an encrypted mail: the real one is only inside.
pub const OUTER_SUBJECT: &str = "...";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no recipient certificate to encrypt to")]
    NoRecipients,
    /// The recipient's certificate is revoked, expired, or has no live
    /// encryption subkey: send signed only, or ask for a new key.
    #[error("certificate {fingerprint} has no key usable for encryption at {at}")]
    NoEncryptionKey { fingerprint: String, at: Timestamp },
    /// Our own copy could not be encrypted: a configuration problem.
    #[error("team key {fingerprint} has no key usable for encryption at {at}")]
    TeamCannotEncrypt { fingerprint: String, at: Timestamp },
    #[error("certificate {fingerprint} has no user id valid at {at}")]
    NoUserId { fingerprint: String, at: Timestamp },
    #[error("`{addr}` cannot be an Autocrypt address")]
    Address { addr: String },
    #[error("cannot seal the mail: {0}")]
    Mail(String),
    #[error("OpenPGP {what} failed: {reason}")]
    OpenPgp { what: &'static str, reason: String },
}

/// Maps a sequoia or I/O error; their texts name packets and algorithms, never
/// key material.
fn pgp<E: Display>(what: &'static str) -> impl FnOnce(E) -> SealError {
    move |err| SealError::OpenPgp {
        what,
        reason: format!("{err:#}"),
    }
}

/// Whether `cert` can be encrypted to at `now`: valid under [`policy`], not
/// revoked, not expired, with at least one live, unrevoked transport-encryption
/// (sub)key.
pub fn usable_for_encryption(cert: &Cert, now: Timestamp) -> bool {
    let p = policy();
    !encryption_keys(cert, &p, now).is_empty()
}

/// The keys to encrypt to in `cert` at `now`; empty when the cert itself is
/// invalid, expired or revoked.
fn encryption_keys<'a>(
    cert: &'a Cert,
    p: &'a dyn Policy,
    now: Timestamp,
) -> Vec<ValidErasedKeyAmalgamation<'a, PublicParts>> {
    let Ok(valid) = cert.with_policy(p, Some(system_time(now))) else {
        return Vec::new();
    };
    if valid.alive().is_err() || matches!(valid.revocation_status(), RevocationStatus::Revoked(_)) {
        return Vec::new();
    }
    valid
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .collect()
}

/// Encrypts and signs `plain` as PGP/MIME: to every encryption key of each of
/// `recipients` and of the team's current key (so the sent copy stays
/// readable), signed by the team. The real headers move inside
/// (`protected-headers="v1"`, RFC 9788 `hp="cipher"`), the outer `Subject` becomes
/// [`OUTER_SUBJECT`].
///
/// The message format follows the keys: SEIPDv2 (AEAD) only when every key
/// announces it, else SEIPDv1 with MDC, which GnuPG 2.2 reads.
pub fn encrypt(
    plain: &[u8],
    recipients: &[Cert],
    team: &TeamKeys,
    now: Timestamp,
) -> Result<Vec<u8>, SealError> {
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    let mail = Mail::split(plain)?;

    // The outer header block as it will be sent; the inner entity records it
    // in `HP-Outer` so a reader can tell which headers were hidden.
    let mut outer_fields: Vec<Vec<u8>> = Vec::new();
    let mut subject_done = false;
    for field in mail.fields.iter().filter(|f| !f.is_structural()) {
        if field.is("Subject") {
            if !subject_done {
                outer_fields.push(format!("Subject: {OUTER_SUBJECT}\r\n").into_bytes());
                subject_done = true;
            }
        } else {
            outer_fields.push(field.to_bytes());
        }
    }
    if !subject_done {
        outer_fields.push(format!("Subject: {OUTER_SUBJECT}\r\n").into_bytes());
    }

    let inner = protected_entity(&mail, &outer_fields);
    let armored = encrypt_and_sign(&inner, recipients, team, now)?;
    let armored = to_crlf(&armored);
    let boundary = boundary(&[&armored]);

    let mut out = Vec::with_capacity(armored.len() + 1024);
    for field in &outer_fields {
        out.extend_from_slice(field);
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    out.extend_from_slice(
        format!(
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n \
             boundary=\"{boundary}\"\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(b"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n");
    out.extend_from_slice(
        format!(
            "--{boundary}\r\n\
             Content-Type: application/pgp-encrypted\r\n\
             Content-Description: PGP/MIME version identification\r\n\
             \r\n\
             Version: 1\r\n\
             \r\n\
             --{boundary}\r\n\
             Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
             Content-Description: OpenPGP encrypted message\r\n\
             Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\
             \r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(&armored);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(out)
}

/// The entity that gets encrypted: the body with its content headers, every
/// non-structural header of the original but `Bcc` (From, To, Subject, …), and
/// one `HP-Outer` per outer header (RFC 9788 §2.2), so a reader can tell which
/// headers the outside hid or changed.
fn protected_entity(mail: &Mail<'_>, outer_fields: &[Vec<u8>]) -> Vec<u8> {
    const PARAMS: &str = "protected-headers=\"v1\"; hp=\"cipher\"";
    let mut inner = Vec::with_capacity(mail.body.len() + 2048);
    let mut has_type = false;
    for field in &mail.fields {
        // Every recipient decrypts the same entity: it must not tell them who
        // else got a blind copy.
        if field.is("MIME-Version") || field.is("Bcc") {
            continue;
        }
        if field.is("Content-Type") && !has_type {
            has_type = true;
            let mut bytes = field.to_bytes();
            // Drop the line end and any trailing `;`, then add our parameters
            // on a continuation line so no line grows past its original length.
            while bytes
                .last()
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b';')
            {
                bytes.pop();
            }
            inner.extend_from_slice(&bytes);
            inner.extend_from_slice(format!(";\r\n {PARAMS}\r\n").as_bytes());
        } else {
            inner.extend_from_slice(&field.to_bytes());
        }
    }
    if !has_type {
        inner.extend_from_slice(
            format!("Content-Type: text/plain; charset=us-ascii;\r\n {PARAMS}\r\n").as_bytes(),
        );
    }
    for field in outer_fields {
        if field
            .get(..4)
            .is_some_and(|name| name.eq_ignore_ascii_case(b"bcc:"))
        {
            continue;
        }
        inner.extend_from_slice(b"HP-Outer: ");
        inner.extend_from_slice(field);
    }
    inner.extend_from_slice(b"\r\n");
    if mail.transfer_encoding().as_deref() == Some("binary") {
        inner.extend_from_slice(mail.body);
    } else {
        inner.extend_from_slice(&to_crlf(mail.body));
    }
    inner
}

/// One OpenPGP message, armored: signed by the team inside, encrypted outside.
fn encrypt_and_sign(
    inner: &[u8],
    recipients: &[Cert],
    team: &TeamKeys,
    now: Timestamp,
) -> Result<Vec<u8>, SealError> {
    let p = policy();
    let own = team.current();
    let mut keys: Vec<Recipient<'_>> = Vec::new();
    // A team member may also be a recipient: one PKESK per key is enough.
    let mut seen: HashSet<Fingerprint> = HashSet::new();
    let ours = std::iter::once((own, true));
    for (cert, is_team) in recipients.iter().map(|c| (c, false)).chain(ours) {
        let found = encryption_keys(cert, &p, now);
        if found.is_empty() {
            let (fingerprint, at) = (cert.fingerprint().to_hex(), now);
            return Err(if is_team {
                SealError::TeamCannotEncrypt { fingerprint, at }
            } else {
                SealError::NoEncryptionKey { fingerprint, at }
            });
        }
        keys.extend(
            found
                .into_iter()
                .filter(|ka| seen.insert(ka.key().fingerprint()))
                .map(Recipient::from),
        );
    }

    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Armorer::new(message).build().map_err(pgp("armoring"))?;
    let message = Encryptor::for_recipients(message, keys)
        .build()
        .map_err(pgp("encryption"))?;
    let mut signer = Signer::new(message, team.signer().clone())
        .map_err(pgp("signing"))?
        .creation_time(system_time(now));
    let mut intended: HashSet<Fingerprint> = HashSet::new();
    for cert in recipients.iter().chain(std::iter::once(own)) {
        if intended.insert(cert.fingerprint()) {
            signer = signer.add_intended_recipient(cert);
        }
    }
    let message = signer.build().map_err(pgp("signing"))?;
    let mut message = LiteralWriter::new(message)
        .build()
        .map_err(pgp("encryption"))?;
    message.write_all(inner).map_err(pgp("encryption"))?;
    message.finalize().map_err(pgp("encryption"))?;
    Ok(sink)
}

/// Signs `plain` as RFC 3156 `multipart/signed`: the body with its content
/// headers (made 7-bit safe first) is part 1, a detached signature by the team
/// over its CRLF form part 2. The other headers stay as they are.
pub fn sign(plain: &[u8], team: &TeamKeys, now: Timestamp) -> Result<Vec<u8>, SealError> {
    let mail = Mail::split(plain)?;
    let part = signed_part(&mail)?;

    let mut armored = Vec::new();
    {
        let message = Message::new(&mut armored);
        let message = Armorer::new(message)
            .kind(sequoia_openpgp::armor::Kind::Signature)
            .build()
            .map_err(pgp("armoring"))?;
        let mut message = Signer::new(message, team.signer().clone())
            .map_err(pgp("signing"))?
            .creation_time(system_time(now))
            .detached()
            .build()
            .map_err(pgp("signing"))?;
        message.write_all(&part).map_err(pgp("signing"))?;
        message.finalize().map_err(pgp("signing"))?;
    }
    let hash = match Packet::from_bytes(&armored).map_err(pgp("reading the signature"))? {
        Packet::Signature(sig) => sig.hash_algo(),
        other => {
            return Err(SealError::OpenPgp {
                what: "signing",
                reason: format!("produced a {} packet instead of a signature", other.tag()),
            });
        }
    };
    let micalg = micalg(hash)?;
    let armored = to_crlf(&armored);
    let boundary = boundary(&[&part, &armored]);

    let mut out = Vec::with_capacity(part.len() + armored.len() + 1024);
    for field in mail.fields.iter().filter(|f| !f.is_structural()) {
        out.extend_from_slice(&field.to_bytes());
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    out.extend_from_slice(
        format!(
            "Content-Type: multipart/signed; micalg={micalg};\r\n \
             protocol=\"application/pgp-signature\";\r\n boundary=\"{boundary}\"\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(b"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n");
    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    out.extend_from_slice(&part);
    out.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\n\
             Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\
             Content-Description: OpenPGP digital signature\r\n\
             Content-Disposition: attachment; filename=\"signature.asc\"\r\n\
             \r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(&armored);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(out)
}

/// Part 1 of `multipart/signed`: the content headers and the body, 7-bit safe
/// (RFC 3156 §3: no transport may alter what was signed), with CRLF line ends.
fn signed_part(mail: &Mail<'_>) -> Result<Vec<u8>, SealError> {
    let encoding = mail.transfer_encoding();
    let reencode = match encoding.as_deref() {
        Some("8bit" | "binary") => true,
        None | Some("7bit") => !is_7bit(mail.body),
        // quoted-printable, base64: already 7-bit.
        Some(_) => false,
    };
    let content_type = mail
        .value_of("Content-Type")
        .map(|v| v.to_ascii_lowercase());
    let mut body = mail.body.to_vec();
    let mut new_encoding = None;
    let mut add_type = None;
    if reencode {
        let media = content_type.as_deref().unwrap_or("text/plain");
        if media.starts_with("multipart/") || media.starts_with("message/") {
            return Err(SealError::Mail(
                "an 8-bit multipart or message body cannot be re-encoded for signing".into(),
            ));
        }
        let text = media.starts_with("text/");
        let encoded = match String::from_utf8(body) {
            Ok(string) if text => {
                new_encoding = Some("quoted-printable");
                if content_type.is_none() {
                    add_type = Some("text/plain; charset=utf-8");
                }
                Body::new_with_encoding(string, ContentTransferEncoding::QuotedPrintable)
            }
            Ok(string) => {
                new_encoding = Some("base64");
                Body::new_with_encoding(string.into_bytes(), ContentTransferEncoding::Base64)
            }
            Err(err) => {
                new_encoding = Some("base64");
                Body::new_with_encoding(err.into_bytes(), ContentTransferEncoding::Base64)
            }
        };
        body = encoded
            .map_err(|_| SealError::Mail("the body cannot be re-encoded".into()))?
            .into_vec();
    }

    let mut part = Vec::with_capacity(body.len() + 512);
    for field in mail.fields.iter().filter(|f| f.is_structural()) {
        if field.is("MIME-Version") {
            continue;
        }
        match new_encoding {
            Some(cte) if field.is("Content-Transfer-Encoding") => {
                part.extend_from_slice(format!("Content-Transfer-Encoding: {cte}\r\n").as_bytes());
            }
            _ => part.extend_from_slice(&field.to_bytes()),
        }
    }
    if let Some(media) = add_type {
        part.extend_from_slice(format!("Content-Type: {media}\r\n").as_bytes());
    }
    if let (Some(cte), None) = (new_encoding, encoding) {
        part.extend_from_slice(format!("Content-Transfer-Encoding: {cte}\r\n").as_bytes());
    }
    part.extend_from_slice(b"\r\n");
    part.extend_from_slice(&body);
    Ok(to_crlf(&part))
}

/// The RFC 3156 `micalg` name of `hash`.
fn micalg(hash: HashAlgorithm) -> Result<&'static str, SealError> {
    Ok(match hash {
        HashAlgorithm::SHA256 => "pgp-sha256",
        HashAlgorithm::SHA384 => "pgp-sha384",
        HashAlgorithm::SHA512 => "pgp-sha512",
        HashAlgorithm::SHA224 => "pgp-sha224",
        HashAlgorithm::SHA3_256 => "pgp-sha3-256",
        HashAlgorithm::SHA3_512 => "pgp-sha3-512",
        other => {
            return Err(SealError::OpenPgp {
                what: "signing",
                reason: format!("signed with {other}, which has no micalg name here"),
            });
        }
    })
}

/// Whether `body` may travel as `7bit`: ASCII without NUL, lines of at most 998
/// octets.
fn is_7bit(body: &[u8]) -> bool {
    body.iter().all(|b| (1..0x80).contains(b))
        && body
            .split(|b| *b == b'\n')
            .all(|line| line.strip_suffix(b"\r").unwrap_or(line).len() <= 998)
}

/// A multipart boundary that occurs in none of `parts`.
fn boundary(parts: &[&[u8]]) -> String {
    loop {
        let candidate = format!("disclosed-{}", uuid::Uuid::new_v4().simple());
        let needle = candidate.as_bytes();
        if !parts
            .iter()
            .any(|part| part.windows(needle.len()).any(|w| w == needle))
        {
            return candidate;
        }
    }
}

/// Where `mail`'s header block ends: the offset of the blank line that
/// separates it from the body, or the length of `mail` if there is none.
pub(crate) fn header_end(mail: &[u8]) -> usize {
    let mut start = 0;
    while start < mail.len() {
        let rest = &mail[start..];
        if rest.starts_with(b"\r\n") || rest.starts_with(b"\n") {
            return start;
        }
        match rest.iter().position(|b| *b == b'\n') {
            Some(end) => start += end + 1,
            None => return mail.len(),
        }
    }
    mail.len()
}

/// A mail split into its header fields and its body.
struct Mail<'a> {
    fields: Vec<Field<'a>>,
    body: &'a [u8],
}

/// One header field: its name and its lines (the first with the name, then any
/// continuation lines), without line ends.
struct Field<'a> {
    name: &'a [u8],
    lines: Vec<&'a [u8]>,
}

impl<'a> Mail<'a> {
    fn split(raw: &'a [u8]) -> Result<Self, SealError> {
        let end = header_end(raw);
        let body = match raw.get(end..) {
            Some(rest) if rest.starts_with(b"\r\n") => &rest[2..],
            Some(rest) if rest.starts_with(b"\n") => &rest[1..],
            _ => &[],
        };
        let mut fields: Vec<Field<'a>> = Vec::new();
        for line in raw[..end].split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                // Only the split's tail after the block's last line end.
                continue;
            }
            if line[0] == b' ' || line[0] == b'\t' {
                match fields.last_mut() {
                    Some(field) => field.lines.push(line),
                    None => {
                        return Err(SealError::Mail(
                            "the mail starts with a continuation line".into(),
                        ));
                    }
                }
                continue;
            }
            let name = line
                .iter()
                .position(|b| *b == b':')
                .map(|colon| &line[..colon])
                .filter(|name| !name.is_empty() && name.iter().all(|b| (33..127).contains(b)))
                .ok_or_else(|| SealError::Mail("a header line is not a header field".into()))?;
            fields.push(Field {
                name,
                lines: vec![line],
            });
        }
        if fields.is_empty() {
            return Err(SealError::Mail("the mail has no header fields".into()));
        }
        Ok(Self { fields, body })
    }

    /// The unfolded value of the first field called `name`.
    fn value_of(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|f| f.is(name)).map(Field::value)
    }

    /// The lower-cased `Content-Transfer-Encoding`, if there is one.
    fn transfer_encoding(&self) -> Option<String> {
        self.value_of("Content-Transfer-Encoding")
            .map(|v| v.trim().to_ascii_lowercase())
    }
}

impl Field<'_> {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// `Content-*` and `MIME-Version` describe the body (RFC 9787 calls them
    /// structural): they travel with it, not with the message.
    fn is_structural(&self) -> bool {
        self.is("MIME-Version")
            || self
                .name
                .get(..8)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"content-"))
    }

    /// The field as it appeared, each line ended by CRLF.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for line in &self.lines {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// The value after the colon, unfolded and trimmed.
    fn value(&self) -> String {
        let mut value = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let part = if i == 0 {
                &line[self.name.len() + 1..]
            } else {
                line
            };
            value.extend_from_slice(part);
        }
        String::from_utf8_lossy(&value).trim().to_owned()
    }
}

#[cfg(test)]
mod tests;
