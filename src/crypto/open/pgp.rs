//! The OpenPGP side of opening: decrypting one message with the team keys,
//! checking inline, cleartext and detached signatures, and turning sequoia's
//! results and errors into recorded states. Plaintext is read in chunks and
//! dropped as soon as a limit is hit; the caller gets it only when the whole
//! message was read and checked.

use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::cert::ValidCert;
use openpgp::cert::amalgamation::ValidAmalgamation;
use openpgp::crypto::{KeyPair, SessionKey};
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, DetachedVerifierBuilder, MessageLayer, MessageStructure,
    VerificationError, VerificationHelper, VerificationResult, VerifierBuilder,
};
use openpgp::parse::{PacketParser, Parse};
use openpgp::policy::StandardPolicy;
use openpgp::types::{AEADAlgorithm, SymmetricAlgorithm};
use openpgp::{Cert, Fingerprint, KeyHandle};

use super::super::{CertLookup, CryptoLimits, Encryption, FailReason, Signature, TeamKeys};

/// Plaintext sequoia holds back until the signatures are checked. We keep
/// nothing before the whole message was read and checked anyway, so this
/// only bounds sequoia's own buffer (which grows to twice this size). Measured:
/// 256 KiB made decryption a third slower than 4 MiB.
const HOLD_BACK: usize = 4 << 20;

/// What opening needs besides the bytes: keys, limits, time.
pub(super) struct Ctx<'a> {
    pub from: Option<&'a str>,
    pub team: Option<&'a TeamKeys>,
    pub lookup: &'a dyn CertLookup,
    pub limits: &'a CryptoLimits,
    pub policy: StandardPolicy<'static>,
    pub time: SystemTime,
}

/// sequoia's hold-back buffer for a message of at most `limit` bytes.
fn buffer_size(limit: u64) -> usize {
    usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1)
        .min(HOLD_BACK)
}

/// One OpenPGP message, read and checked.
pub(super) struct Plain {
    pub data: Vec<u8>,
    /// `Decrypted` or, for a message that was only signed, `None`.
    pub encryption: Encryption,
    pub signature: Signature,
}

/// Why an OpenPGP message could not be read.
#[derive(Debug)]
pub(super) struct Failure {
    pub reason: FailReason,
    pub detail: String,
    pub recipients: Vec<String>,
}

impl Failure {
    pub(super) fn new(reason: FailReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            recipients: Vec::new(),
        }
    }

    pub(super) fn into_encryption(self) -> Encryption {
        Encryption::Failed {
            reason: self.reason,
            detail: self.detail,
            recipients: self.recipients,
        }
    }
}

/// Decrypts (or, if it is only signed, verifies) one OpenPGP message, armored
/// or binary. `extra` are certificates found in the mail itself; `limit` is
/// the most plaintext accepted.
pub(super) fn decrypt(
    ctx: &Ctx<'_>,
    data: &[u8],
    extra: &[Cert],
    limit: u64,
) -> Result<Plain, Failure> {
    guarded("decrypting", || {
        let mut record = Record::default();
        let read = run_decrypt(ctx, data, extra, limit, &mut record);
        record.finish(read)
    })
}

/// Verifies a cleartext-signed (`BEGIN PGP SIGNED MESSAGE`) block and returns
/// its dash-unescaped text.
pub(super) fn cleartext(
    ctx: &Ctx<'_>,
    data: &[u8],
    extra: &[Cert],
    limit: u64,
) -> Result<Plain, Failure> {
    guarded("verifying", || {
        let mut record = Record::default();
        let read = run_cleartext(ctx, data, extra, limit, &mut record);
        record.finish(read)
    })
}

/// Checks a detached signature (`application/pgp-signature`) over `data`.
pub(super) fn verify_detached(
    ctx: &Ctx<'_>,
    signature: &[u8],
    data: &[u8],
    extra: &[Cert],
) -> Signature {
    let checked = guarded("verifying", || {
        let mut record = Record::default();
        match run_detached(ctx, signature, data, extra, &mut record) {
            Ok(()) => Ok(best(record.signatures)),
            Err(err) if record.signatures.is_empty() => Err(Failure::new(
                FailReason::Corrupt,
                format!("unreadable signature: {err:#}"),
            )),
            Err(_) => Ok(best(record.signatures)),
        }
    });
    checked.unwrap_or_else(|failure| Signature::Bad {
        signer: None,
        reason: failure.detail,
    })
}

/// The best of several signature results: a valid one (by the `From`
/// address's key first), then a bad one, then one by an unknown key.
pub(super) fn best(signatures: impl IntoIterator<Item = Signature>) -> Signature {
    fn rank(s: &Signature) -> u8 {
        match s {
            Signature::Valid {
                from_matches: true, ..
            } => 4,
            Signature::Valid { .. } => 3,
            Signature::Bad { .. } => 2,
            Signature::UnknownKey { .. } => 1,
            Signature::None => 0,
        }
    }
    let mut best = Signature::None;
    for s in signatures {
        if rank(&s) > rank(&best) {
            best = s;
        }
    }
    best
}

/// Runs `f`, turning a panic inside sequoia (a bug reachable by crafted
/// input) into a recorded failure instead of taking the daemon down.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Failure::new(
            FailReason::Corrupt,
            format!("internal error while {what} the message"),
        ))
    })
}

/// Why reading stopped early.
enum Stop {
    Limit(String),
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Stop {
    fn from(err: anyhow::Error) -> Self {
        Self::Error(err)
    }
}

fn run_decrypt(
    ctx: &Ctx<'_>,
    data: &[u8],
    extra: &[Cert],
    limit: u64,
    record: &mut Record,
) -> Result<Vec<u8>, Stop> {
    let helper = Helper { ctx, extra, record };
    let mut decryptor = DecryptorBuilder::from_bytes(data)?
        .buffer_size(buffer_size(limit))
        .with_policy(&ctx.policy, ctx.time, helper)?;
    read_limited(&mut decryptor, limit)
}

fn run_cleartext(
    ctx: &Ctx<'_>,
    data: &[u8],
    extra: &[Cert],
    limit: u64,
    record: &mut Record,
) -> Result<Vec<u8>, Stop> {
    let helper = Helper { ctx, extra, record };
    let mut verifier = VerifierBuilder::from_bytes(data)?
        .buffer_size(buffer_size(limit))
        .with_policy(&ctx.policy, ctx.time, helper)?;
    read_limited(&mut verifier, limit)
}

fn run_detached(
    ctx: &Ctx<'_>,
    signature: &[u8],
    data: &[u8],
    extra: &[Cert],
    record: &mut Record,
) -> anyhow::Result<()> {
    let helper = Helper { ctx, extra, record };
    let mut verifier = DetachedVerifierBuilder::from_bytes(signature)?.with_policy(
        &ctx.policy,
        ctx.time,
        helper,
    )?;
    verifier.verify_bytes(data)
}

/// Reads everything, but never more than `limit` bytes: a compression bomb
/// stops here with bounded memory.
fn read_limited(reader: &mut dyn Read, limit: u64) -> Result<Vec<u8>, Stop> {
    let mut out = Vec::new();
    let mut chunk = vec![0; 64 << 10];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => {
                // Doubling may have left up to half of it unused.
                out.shrink_to_fit();
                return Ok(out);
            }
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(Stop::Error(err.into())),
        };
        if out.len() as u64 + n as u64 > limit {
            return Err(Stop::Limit(format!(
                "plaintext larger than the limit of {limit} bytes"
            )));
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// What the helper learned while sequoia ran; it outlives the helper, which
/// sequoia drops on error.
#[derive(Default)]
struct Record {
    /// PKESK recipients (key id or fingerprint, hex).
    recipients: Vec<String>,
    /// A limit was hit (sequoia then sees an error from us).
    limit: Option<String>,
    /// None of our keys opened a PKESK.
    no_key: bool,
    /// A PKESK opened, but its session key did not fit the data.
    wrong_session_key: bool,
    /// The team cert whose subkey decrypted the message.
    key: Option<Fingerprint>,
    algorithm: Option<String>,
    signatures: Vec<Signature>,
}

impl Record {
    fn finish(self, read: Result<Vec<u8>, Stop>) -> Result<Plain, Failure> {
        let failure = |reason, detail: String, recipients| Failure {
            reason,
            detail,
            recipients,
        };
        match read {
            Ok(data) => {
                let encryption = match self.key {
                    Some(key) => Encryption::Decrypted {
                        key: key.to_hex(),
                        algorithm: self.algorithm.unwrap_or_else(|| "unknown".into()),
                    },
                    None => Encryption::None,
                };
                Ok(Plain {
                    data,
                    encryption,
                    signature: best(self.signatures),
                })
            }
            Err(_) if self.limit.is_some() => Err(failure(
                FailReason::Limit,
                self.limit.unwrap_or_default(),
                self.recipients,
            )),
            Err(Stop::Limit(detail)) => Err(failure(FailReason::Limit, detail, self.recipients)),
            Err(Stop::Error(_)) if self.no_key => Err(failure(
                FailReason::NoKey,
                "encrypted to keys we do not hold".into(),
                self.recipients,
            )),
            Err(Stop::Error(_)) if self.wrong_session_key => Err(failure(
                FailReason::Corrupt,
                "the session key does not fit the encrypted data".into(),
                self.recipients,
            )),
            Err(Stop::Error(err)) => {
                Err(failure(classify(&err), format!("{err:#}"), self.recipients))
            }
        }
    }
}

/// Sorts a sequoia error into a [`FailReason`]. Errors that came through
/// `io::Read` lost their type, so their text decides.
fn classify(err: &anyhow::Error) -> FailReason {
    use openpgp::Error as E;
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<E>() {
            return match e {
                E::UnsupportedHashAlgorithm(_)
                | E::UnsupportedPublicKeyAlgorithm(_)
                | E::UnsupportedEllipticCurve(_)
                | E::UnsupportedSymmetricAlgorithm(_)
                | E::UnsupportedAEADAlgorithm(_)
                | E::UnsupportedCompressionAlgorithm(_)
                | E::UnsupportedPacketType(_)
                | E::PolicyViolation(..) => FailReason::Unsupported,
                _ => FailReason::Corrupt,
            };
        }
    }
    let text = format!("{err:#}");
    if text.contains("Unsupported") || text.contains("not considered secure") {
        FailReason::Unsupported
    } else {
        FailReason::Corrupt
    }
}

/// "AES256", or "AES256/OCB" for AEAD (RFC 9580) encryption.
fn algorithm_name(sym: SymmetricAlgorithm, aead: Option<AEADAlgorithm>) -> String {
    match aead {
        Some(aead) => format!("{sym:?}/{aead:?}"),
        None => format!("{sym:?}"),
    }
}

struct Helper<'h> {
    ctx: &'h Ctx<'h>,
    extra: &'h [Cert],
    record: &'h mut Record,
}

impl Helper<'_> {
    /// Tries one PKESK with one key pair; records the team cert on success.
    fn try_pkesk(
        &mut self,
        pkesk: &PKESK,
        cert: &Fingerprint,
        pair: &KeyPair,
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> bool {
        let mut pair = pair.clone();
        let Some((algo, session_key)) = pkesk.decrypt(&mut pair, sym_algo) else {
            return false;
        };
        if decrypt(algo, &session_key) {
            self.record.key = Some(cert.clone());
            true
        } else {
            self.record.wrong_session_key = true;
            false
        }
    }

    fn team_cert(&self, fingerprint: &Fingerprint) -> Option<Cert> {
        self.ctx
            .team?
            .certs()
            .iter()
            .find(|c| c.fingerprint() == *fingerprint)
            .cloned()
    }

    fn signature(&self, result: VerificationResult<'_>) -> Signature {
        match result {
            Ok(good) => Signature::Valid {
                signer: good.ka.cert().fingerprint().to_hex(),
                from_matches: has_email(good.ka.valid_cert(), self.ctx.from),
                created: good
                    .sig
                    .signature_creation_time()
                    .and_then(|t| jiff::Timestamp::try_from(t).ok()),
                digest: signature_digest(good.sig),
            },
            Err(VerificationError::MissingKey { sig }) => Signature::UnknownKey {
                issuer: sig
                    .get_issuers()
                    .first()
                    .map_or_else(|| "unknown".into(), KeyHandle::to_hex),
            },
            Err(VerificationError::UnboundKey { cert, error, .. }) => Signature::Bad {
                signer: Some(cert.fingerprint().to_hex()),
                reason: format!("key not bound: {error}"),
            },
            Err(VerificationError::BadKey { ka, error, .. }) => Signature::Bad {
                signer: Some(ka.cert().fingerprint().to_hex()),
                reason: format!("bad key: {error}"),
            },
            Err(VerificationError::BadSignature { ka, error, .. }) => Signature::Bad {
                signer: Some(ka.cert().fingerprint().to_hex()),
                reason: format!("bad signature: {error}"),
            },
            Err(other) => Signature::Bad {
                signer: None,
                reason: other.to_string(),
            },
        }
    }
}

/// SHA-256 of the signature packet: the same signed mail sent again carries the
/// same packet, so this is what replay protection remembers.
fn signature_digest(sig: &openpgp::packet::Signature) -> String {
    use openpgp::serialize::MarshalInto;
    use sha2::{Digest, Sha256};
    let bytes = sig.to_vec().unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// Whether `cert` has a valid user id with the address `from`.
fn has_email(cert: &ValidCert<'_>, from: Option<&str>) -> bool {
    let Some(from) = from else {
        return false;
    };
    cert.userids().any(|u| {
        u.userid()
            .email()
            .ok()
            .flatten()
            .is_some_and(|e| e.eq_ignore_ascii_case(from))
    })
}

impl VerificationHelper for Helper<'_> {
    fn inspect(&mut self, pp: &PacketParser<'_>) -> openpgp::Result<()> {
        let depth = u32::try_from(pp.recursion_depth()).unwrap_or(0);
        if depth > self.ctx.limits.max_depth {
            let detail = format!(
                "OpenPGP containers nested deeper than the limit of {}",
                self.ctx.limits.max_depth
            );
            self.record.limit = Some(detail.clone());
            return Err(anyhow::anyhow!(detail));
        }
        Ok(())
    }

    fn get_certs(&mut self, ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        let mut certs = self.ctx.lookup.lookup(ids);
        certs.extend(self.extra.lookup(ids));
        Ok(certs)
    }

    fn check(&mut self, structure: MessageStructure<'_>) -> openpgp::Result<()> {
        for layer in structure {
            match layer {
                MessageLayer::Encryption {
                    sym_algo,
                    aead_algo,
                } => {
                    if self.record.algorithm.is_none() {
                        self.record.algorithm = Some(algorithm_name(sym_algo, aead_algo));
                    }
                }
                MessageLayer::Compression { .. } => {}
                MessageLayer::SignatureGroup { results } => {
                    for result in results {
                        let signature = self.signature(result);
                        self.record.signatures.push(signature);
                    }
                }
            }
        }
        // Unsigned mail and unknown signers are normal here: the result is
        // recorded, never a reason to reject the message.
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        self.record.recipients = pkesks
            .iter()
            .filter_map(PKESK::recipient)
            .map(|h| h.to_hex())
            .collect();
        let count = pkesks.len() + skesks.len();
        let max = self.ctx.limits.max_recipients;
        if u32::try_from(count).unwrap_or(u32::MAX) > max {
            let detail = format!("{count} recipients, more than the limit of {max}");
            self.record.limit = Some(detail.clone());
            return Err(anyhow::anyhow!(detail));
        }
        let decryptors = self.ctx.team.map(TeamKeys::decryptors).unwrap_or_default();
        // First the PKESKs addressed to one of our keys…
        for pkesk in pkesks {
            let Some(recipient) = pkesk.recipient() else {
                continue;
            };
            for (cert, pair) in decryptors {
                if recipient.aliases(pair.public().key_handle())
                    && self.try_pkesk(pkesk, cert, pair, sym_algo, decrypt)
                {
                    return Ok(self.team_cert(cert));
                }
            }
        }
        // …then the anonymous ones with every key.
        for pkesk in pkesks.iter().filter(|p| p.recipient().is_none()) {
            for (cert, pair) in decryptors {
                if self.try_pkesk(pkesk, cert, pair, sym_algo, decrypt) {
                    return Ok(self.team_cert(cert));
                }
            }
        }
        self.record.no_key = !self.record.wrong_session_key;
        Err(anyhow::anyhow!("no team key opens this message"))
    }
}
