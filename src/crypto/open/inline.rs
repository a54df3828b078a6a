//! Inline PGP: armored blocks in text bodies (`BEGIN PGP MESSAGE`, decrypted;
//! `BEGIN PGP SIGNED MESSAGE`, verified) and encrypted `.pgp`/`.gpg`/`.asc`
//! attachments. The readable result is a new `multipart/mixed` entity: the
//! original's headers, the text with each block replaced by its plaintext,
//! each decrypted file, and the other attachments as they were.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use sequoia_openpgp::Cert;

use super::super::{Encryption, FailReason, KeySource, Signature, Signed};
use super::found::{ARMOR_KEY, Found};
use super::mime;
use super::pgp::{self, Ctx, Failure};

const BEGIN_MESSAGE: &str = "-----BEGIN PGP MESSAGE-----";
const END_MESSAGE: &str = "-----END PGP MESSAGE-----";
const BEGIN_SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const END_SIGNATURE: &str = "-----END PGP SIGNATURE-----";

/// Most encrypted or signed blocks and files opened in one message.
const MAX_BLOCKS: usize = 64;

/// Which inline PGP a message holds, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inline {
    /// Encrypted blocks or files (perhaps signed blocks as well).
    Encrypted,
    /// Cleartext-signed blocks only.
    Signed,
}

/// What [`open`] made of an inline PGP message.
pub(super) struct Outcome {
    pub encryption: Encryption,
    pub signature: Signature,
    pub inner: Option<Vec<u8>>,
    pub signed: Option<Signed>,
}

pub(super) fn scan(message: &Message<'_>) -> Option<Inline> {
    let layout = Layout::of(message);
    if layout
        .others
        .iter()
        .filter_map(|id| message.part(*id))
        .any(|p| encrypted_file_name(p).is_some())
    {
        return Some(Inline::Encrypted);
    }
    let mut signed = false;
    for text in layout.texts.iter().filter_map(|id| text_of(message, *id)) {
        for line in text.lines().map(str::trim_end) {
            if line == BEGIN_MESSAGE {
                return Some(Inline::Encrypted);
            }
            signed |= line == BEGIN_SIGNED;
        }
    }
    signed.then_some(Inline::Signed)
}

pub(super) fn open(ctx: &Ctx<'_>, message: &Message<'_>, found: &mut Found) -> Outcome {
    let layout = Layout::of(message);
    let mut state = State {
        ctx,
        extra: found.certs(),
        budget: ctx.limits.max_decompressed_size,
        blocks: 0,
        failure: None,
        decrypted: None,
        signatures: Vec::new(),
        covered: Vec::new(),
        unsigned: false,
    };
    let texts: Vec<String> = layout
        .texts
        .iter()
        .filter_map(|id| text_of(message, *id))
        .map(|text| state.text(text, true, false))
        .collect();
    let mut files = Vec::new();
    for id in &layout.others {
        let Some(part) = message.part(*id) else {
            continue;
        };
        let Some(name) = encrypted_file_name(part) else {
            files.push(File::Original(*id));
            continue;
        };
        if let Some((plain, _)) = state.decrypt(part.contents()) {
            if plain.trim_ascii_start().starts_with(ARMOR_KEY) {
                found.add_bytes(&plain, KeySource::Encrypted);
            }
            files.push(File::Decrypted { name, data: plain });
        }
    }
    let signature = pgp::best(std::mem::take(&mut state.signatures));
    match state.failure {
        Some(failure) => Outcome {
            encryption: failure.into_encryption(),
            signature,
            inner: None,
            signed: None,
        },
        None => Outcome {
            encryption: state.decrypted.unwrap_or(Encryption::None),
            signed: signed_entity(state.covered, state.unsigned),
            signature,
            inner: Some(rebuild(message, &texts, &files)),
        },
    }
}

/// The text one signer signed, as a `text/plain` entity: the blocks of the best
/// valid signer, in order. Blocks of other signers count as unsigned.
fn signed_entity(covered: Vec<(Signature, String)>, mut unsigned: bool) -> Option<Signed> {
    let chosen = pgp::best(covered.iter().map(|(s, _)| s.clone()));
    let signer = chosen.signer()?.to_owned();
    let mut text = String::new();
    for (signature, block) in &covered {
        if signature.signer() == Some(signer.as_str()) {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(block);
        } else {
            unsigned = true;
        }
    }
    let mut entity =
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            .to_vec();
    mime::base64_lines(text.as_bytes(), &mut entity);
    Some(Signed {
        signature: chosen,
        entity,
        unsigned_rest: unsigned,
    })
}

/// Which parts are the body text and which are kept as they are.
struct Layout {
    /// `text/plain` body parts.
    texts: Vec<u32>,
    /// Attachments, and HTML bodies when there is no plain text.
    others: Vec<u32>,
}

impl Layout {
    fn of(message: &Message<'_>) -> Self {
        let attachments = &message.attachments;
        let texts: Vec<u32> = message
            .text_body
            .iter()
            .copied()
            .filter(|id| !attachments.contains(id))
            .filter(|id| {
                message
                    .part(*id)
                    .is_some_and(|p| matches!(p.body, PartType::Text(_)))
            })
            .collect();
        let mut others = Vec::new();
        if texts.is_empty() {
            others.extend(
                message
                    .html_body
                    .iter()
                    .filter(|id| !attachments.contains(id)),
            );
        }
        others.extend(attachments.iter().filter(|id| !texts.contains(id)));
        Self { texts, others }
    }
}

fn text_of<'m>(message: &'m Message<'_>, id: u32) -> Option<&'m str> {
    message.part(id).and_then(MessagePart::text_contents)
}

/// A file of the rebuilt entity.
enum File {
    Decrypted {
        name: String,
        data: Vec<u8>,
    },
    /// A part of the original, copied unchanged.
    Original(u32),
}

/// The name without its `.pgp`/`.gpg`/`.asc` suffix, when `part` is a file
/// that holds encrypted OpenPGP data.
fn encrypted_file_name(part: &MessagePart<'_>) -> Option<String> {
    if mime::is_type(part, "application", "pgp-keys", "")
        || mime::is_type(part, "application", "pgp-signature", "")
    {
        return None;
    }
    let name = part.attachment_name()?;
    let cut = name.len().checked_sub(4)?;
    let (stem, suffix) = (name.get(..cut)?, name.get(cut..)?);
    if ![".pgp", ".gpg", ".asc"]
        .iter()
        .any(|s| suffix.eq_ignore_ascii_case(s))
        || !looks_encrypted(part.contents())
    {
        return None;
    }
    Some(if stem.is_empty() {
        "attachment".to_owned()
    } else {
        stem.to_owned()
    })
}

/// Armored `PGP MESSAGE`, or binary data starting with a PKESK or SKESK.
pub(super) fn looks_encrypted(data: &[u8]) -> bool {
    if data
        .trim_ascii_start()
        .starts_with(BEGIN_MESSAGE.as_bytes())
    {
        return true;
    }
    let Some(&first) = data.first() else {
        return false;
    };
    if first & 0x80 == 0 {
        return false;
    }
    let tag = if first & 0x40 != 0 {
        first & 0x3f
    } else {
        (first >> 2) & 0x0f
    };
    matches!(tag, 1 | 3)
}

/// A piece of a text body.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Block<'t> {
    Text(&'t str),
    /// From `BEGIN PGP MESSAGE` to `END PGP MESSAGE` (or the end of the text).
    Message(&'t str),
    /// From `BEGIN PGP SIGNED MESSAGE` to `END PGP SIGNATURE`.
    Cleartext(&'t str),
}

/// Splits `text` into plain text and armored blocks. A marker counts only
/// at the start of a line; the line break after a block stays in the text.
pub(super) fn blocks(text: &str) -> Vec<Block<'_>> {
    let line_end = |at: usize| text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while at < text.len() {
        let next = line_end(at);
        let line = text[at..next].trim_end();
        let end_marker = match line {
            BEGIN_MESSAGE => END_MESSAGE,
            BEGIN_SIGNED => END_SIGNATURE,
            _ => {
                at = next;
                continue;
            }
        };
        let mut block_end = text.len();
        let mut scan = next;
        while scan < text.len() {
            let scan_next = line_end(scan);
            let candidate = text[scan..scan_next].trim_end();
            if candidate == end_marker {
                block_end = scan + candidate.len();
                break;
            }
            scan = scan_next;
        }
        if plain_from < at {
            out.push(Block::Text(&text[plain_from..at]));
        }
        let block = &text[at..block_end];
        out.push(if end_marker == END_MESSAGE {
            Block::Message(block)
        } else {
            Block::Cleartext(block)
        });
        plain_from = block_end;
        at = block_end;
    }
    if plain_from < text.len() {
        out.push(Block::Text(&text[plain_from..]));
    }
    out
}

/// The `Charset:` armor header of a block, if any.
pub(super) fn armor_charset(block: &str) -> Option<&str> {
    block
        .lines()
        .skip(1)
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("charset")
                .then_some(value.trim())
        })
}

/// Decrypted text as a string: in the armor's charset if it named one,
/// else UTF-8, else Latin-1 (every byte is a character).
pub(super) fn decode_text(data: Vec<u8>, charset: Option<&str>) -> String {
    if let Some(charset) = charset
        && !charset.eq_ignore_ascii_case("utf-8")
        && !charset.eq_ignore_ascii_case("utf8")
        && let Some(decoder) = charset_decoder(charset.as_bytes())
    {
        return decoder(&data);
    }
    match String::from_utf8(data) {
        Ok(text) => text,
        Err(err) => err.into_bytes().iter().map(|&b| char::from(b)).collect(),
    }
}

/// Results gathered over the blocks and files of one message.
struct State<'c> {
    ctx: &'c Ctx<'c>,
    extra: Vec<Cert>,
    /// Plaintext still allowed for the whole message.
    budget: u64,
    blocks: usize,
    /// The first failure; after it nothing more is decrypted.
    failure: Option<Failure>,
    /// The first decryption (its key and algorithm are reported).
    decrypted: Option<Encryption>,
    signatures: Vec<Signature>,
    /// Readable text each valid signature covers, in order.
    covered: Vec<(Signature, String)>,
    /// Whether any readable text is outside every valid signature.
    unsigned: bool,
}

impl State<'_> {
    /// Whether another block may be opened; records the limit otherwise.
    fn admit(&mut self) -> bool {
        if self.failure.is_some() {
            return false;
        }
        self.blocks += 1;
        if self.blocks > MAX_BLOCKS {
            self.failure = Some(Failure::new(
                FailReason::Limit,
                format!("more than {MAX_BLOCKS} OpenPGP blocks and files"),
            ));
            return false;
        }
        true
    }

    /// The plaintext of an encrypted block or file and the signature inside it.
    fn decrypt(&mut self, data: &[u8]) -> Option<(Vec<u8>, Signature)> {
        if !self.admit() {
            return None;
        }
        match pgp::decrypt(self.ctx, data, &self.extra, self.budget) {
            Ok(plain) => {
                self.budget = self.budget.saturating_sub(plain.data.len() as u64);
                if self.decrypted.is_none() && plain.encryption.was_encrypted() {
                    self.decrypted = Some(plain.encryption);
                }
                self.signatures.push(plain.signature.clone());
                Some((plain.data, plain.signature))
            }
            Err(failure) => {
                self.failure = Some(failure);
                None
            }
        }
    }

    /// `text` with its blocks replaced by their plaintext. `decrypt` is
    /// false inside decrypted text: only cleartext signatures are opened
    /// there. `inside_signed` says an enclosing block's valid signature covers
    /// all of `text`, so nothing in it is recorded as covered or unsigned again.
    fn text(&mut self, text: &str, decrypt: bool, inside_signed: bool) -> String {
        let mut out = String::with_capacity(text.len());
        for block in blocks(text) {
            match block {
                Block::Text(t) => {
                    self.unsigned |= !inside_signed && !t.trim().is_empty();
                    out.push_str(t);
                }
                Block::Message(b) if decrypt => match self.decrypt(b.as_bytes()) {
                    Some((plain, signature)) => {
                        let plain = decode_text(plain, armor_charset(b));
                        let valid = matches!(signature, Signature::Valid { .. });
                        let readable = self.text(&plain, false, inside_signed || valid);
                        if valid && !inside_signed {
                            self.covered.push((signature, readable.clone()));
                        }
                        out.push_str(&readable);
                    }
                    None => {
                        self.unsigned |= !inside_signed;
                        out.push_str(b);
                    }
                },
                Block::Message(b) => {
                    self.unsigned |= !inside_signed;
                    out.push_str(b);
                }
                Block::Cleartext(b) => {
                    let (readable, signature) = self.cleartext(b);
                    match signature {
                        _ if inside_signed => {}
                        Signature::Valid { .. } => self.covered.push((signature, readable.clone())),
                        _ => self.unsigned |= !readable.trim().is_empty(),
                    }
                    out.push_str(&readable);
                }
            }
        }
        out
    }

    /// The readable text of a cleartext-signed block and its signature.
    fn cleartext(&mut self, block: &str) -> (String, Signature) {
        if !self.admit() {
            return (block.to_owned(), Signature::None);
        }
        match pgp::cleartext(self.ctx, block.as_bytes(), &self.extra, self.budget) {
            Ok(plain) => {
                self.signatures.push(plain.signature.clone());
                (decode_text(plain.data, None), plain.signature)
            }
            // The text is already readable; only the signature failed.
            Err(failure) => {
                let bad = Signature::Bad {
                    signer: None,
                    reason: failure.detail,
                };
                self.signatures.push(bad.clone());
                (block.to_owned(), bad)
            }
        }
    }
}

/// The readable entity: original headers, the text, then the files.
fn rebuild(message: &Message<'_>, texts: &[String], files: &[File]) -> Vec<u8> {
    let boundary = mime::boundary(message.raw_message());
    let mut out = Vec::new();
    mime::copy_headers(message, &mut out);
    out.extend_from_slice(
        format!(
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
        )
        .as_bytes(),
    );
    if !texts.is_empty() {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n"
            )
            .as_bytes(),
        );
        mime::base64_lines(texts.join("\r\n").as_bytes(), &mut out);
    }
    for file in files {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            File::Decrypted { name, data } => encoded_file(name, data, &mut out),
            // The root is an attachment only in a single-part message; its
            // raw bytes would repeat the whole message's headers.
            File::Original(0) => {
                let root = message.root_part();
                let name = root.attachment_name().unwrap_or("attachment");
                encoded_file(name, root.contents(), &mut out);
            }
            File::Original(id) => {
                if let Some(part) = message.part(*id) {
                    out.extend_from_slice(&mime::to_crlf(mime::raw_part(message, part)));
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

fn encoded_file(name: &str, data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(
        format!(
            "Content-Type: application/octet-stream; {}\r\n\
             Content-Disposition: attachment; {}\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n",
            mime::filename_param("name", name),
            mime::filename_param("filename", name),
        )
        .as_bytes(),
    );
    mime::base64_lines(data, out);
}
