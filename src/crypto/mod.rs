//! OpenPGP, with sequoia-openpgp: the team's keys, opening incoming mail
//! (decrypt, verify, find the sender's keys) and sealing outgoing mail (sign,
//! encrypt to the reporter and to ourselves, protected headers, Autocrypt).
//!
//! A crypto failure is a recorded fact about a message, never an error that stops
//! ingest: [`open::open`] always returns an [`Opened`], and partial plaintext is
//! never kept.

pub mod autocrypt;
pub mod keys;
pub mod learn;
pub mod open;
pub mod seal;

use std::sync::Arc;

use sequoia_openpgp::policy::StandardPolicy;
use sequoia_openpgp::{Cert, KeyHandle};

pub use keys::{KeyError, KeyInfo, TeamKeys};

/// The policy every check uses: sequoia's standard one (no SHA-1 signatures,
/// no weak keys), evaluated at the time we are given.
pub fn policy() -> StandardPolicy<'static> {
    StandardPolicy::new()
}

/// Bounds on what one incoming OpenPGP message may cost (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoLimits {
    /// Largest plaintext after decompression; beyond it decryption stops.
    pub max_decompressed_size: u64,
    /// Deepest nesting of encryption/compression/signature containers and of
    /// encrypted entities inside encrypted entities.
    pub max_depth: u32,
    /// Most PKESK + SKESK packets one message may carry.
    pub max_recipients: u32,
}

impl CryptoLimits {
    pub fn from_config(limits: &crate::config::Limits) -> Self {
        Self {
            max_decompressed_size: limits.max_decompressed_size,
            max_depth: limits.max_openpgp_depth,
            max_recipients: limits.max_openpgp_recipients,
        }
    }
}

/// Which OpenPGP form a message came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// No OpenPGP at all.
    Plain,
    /// RFC 3156 `multipart/encrypted`.
    PgpMime,
    /// RFC 3156 `multipart/signed` (not encrypted).
    Signed,
    /// Armored blocks in a text body and/or `.pgp`/`.asc` attachments.
    Inline,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::PgpMime => "pgp-mime",
            Self::Signed => "signed",
            Self::Inline => "inline",
        }
    }
}

/// Whether we could read an encrypted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// Not encrypted.
    None,
    Decrypted {
        /// The team key (fingerprint, upper-case hex) whose subkey decrypted it.
        key: String,
        /// e.g. "AES256", with the AEAD mode for RFC 9580 messages ("AES256/OCB").
        algorithm: String,
    },
    /// Encrypted, but we could not read it. Nothing of the plaintext is kept.
    Failed {
        reason: FailReason,
        /// Human-readable detail (sequoia's error text or the limit hit).
        detail: String,
        /// Key ids / fingerprints the message was encrypted to (empty for wildcards).
        recipients: Vec<String>,
    },
}

impl Encryption {
    pub fn code(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Decrypted { .. } => "decrypted",
            Self::Failed { .. } => "undecryptable",
        }
    }
    pub fn was_encrypted(&self) -> bool {
        !matches!(self, Self::None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// Encrypted to keys we do not hold (an old or wrong key).
    NoKey,
    /// Ciphertext corrupt, truncated or manipulated (MDC/AEAD failure).
    Corrupt,
    /// A limit of [`CryptoLimits`] was hit (compression bomb, nesting, recipients).
    Limit,
    /// An algorithm we cannot use.
    Unsupported,
}

impl FailReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoKey => "no-key",
            Self::Corrupt => "corrupt",
            Self::Limit => "limit",
            Self::Unsupported => "unsupported",
        }
    }
}

/// The outcome of checking a message's signature(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Not signed.
    None,
    /// A good signature by a key we have.
    Valid {
        /// The signing certificate's fingerprint (upper-case hex).
        signer: String,
        /// Whether that certificate has a user id with the `From` address.
        from_matches: bool,
        /// When the signature says it was made.
        created: Option<jiff::Timestamp>,
        /// SHA-256 (hex) of the signature packet, to recognise a replay.
        digest: String,
    },
    /// Signed by a key we do not have.
    UnknownKey {
        /// The issuer fingerprint or key id from the signature.
        issuer: String,
    },
    /// A signature that does not verify (altered content, revoked or expired
    /// key, rejected algorithm).
    Bad {
        signer: Option<String>,
        reason: String,
    },
}

impl Signature {
    pub fn code(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Valid { .. } => "valid",
            Self::UnknownKey { .. } => "unknown-key",
            Self::Bad { .. } => "bad",
        }
    }
    pub fn signer(&self) -> Option<&str> {
        match self {
            Self::Valid { signer, .. } => Some(signer),
            Self::UnknownKey { issuer } => Some(issuer),
            Self::Bad { signer, .. } => signer.as_deref(),
            Self::None => None,
        }
    }
    pub fn from_matches(&self) -> Option<bool> {
        match self {
            Self::Valid { from_matches, .. } => Some(*from_matches),
            _ => None,
        }
    }
}

/// Where a public key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// An `application/pgp-keys` attachment outside the encryption.
    Attachment,
    /// An `application/pgp-keys` attachment inside the encrypted part.
    Encrypted,
    /// An `Autocrypt:` header (outer, or protected inside the encryption).
    Autocrypt,
    /// `[openpgp] keyring`.
    Keyring,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attachment => "attachment",
            Self::Encrypted => "encrypted-attachment",
            Self::Autocrypt => "autocrypt",
            Self::Keyring => "keyring",
        }
    }
}

/// A public key found in a message.
#[derive(Debug, Clone)]
pub struct FoundKey {
    pub cert: Cert,
    pub source: KeySource,
    /// For Autocrypt: the `addr=` it was announced for (lower-cased).
    pub addr: Option<String>,
}

/// What [`open::open`] learned about one message.
#[derive(Debug, Clone)]
pub struct Opened {
    pub form: Form,
    pub encryption: Encryption,
    pub signature: Signature,
    /// The readable MIME entity when it differs from the raw message: the
    /// decrypted inner entity (PGP/MIME), the signed part (multipart/signed),
    /// or one rebuilt from decrypted inline blocks and attachments. Always ends
    /// in CRLF. `None` for plain mail and for mail we could not decrypt.
    pub inner: Option<Vec<u8>>,
    /// Public keys the message carried (outer and inner).
    pub keys: Vec<FoundKey>,
    /// Exactly what a valid signature covers; `None` when no signature is valid.
    /// Commands, the report binding, the reply route and relayed text are read
    /// from here alone, never from [`Self::inner`], which may mix signed and
    /// unsigned content.
    pub signed: Option<Signed>,
}

impl Opened {
    pub fn plain() -> Self {
        Self {
            form: Form::Plain,
            encryption: Encryption::None,
            signature: Signature::None,
            inner: None,
            keys: Vec::new(),
            signed: None,
        }
    }
}

/// The content one valid signature covers.
///
/// For PGP/MIME the whole decrypted entity (a signature inside the encryption)
/// or the first part of a `multipart/signed`, with its protected headers; for
/// inline PGP a `text/plain` entity of the blocks that one signer signed, in
/// order. Text around the blocks, extra MIME parts and the outer headers are
/// never part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Always [`Signature::Valid`]: the signature whose content `entity` is.
    pub signature: Signature,
    /// A MIME entity (headers and body, CRLF) of exactly the signed content.
    pub entity: Vec<u8>,
    /// Whether the mail holds readable content outside `entity` (unsigned text
    /// around inline blocks, unsigned parts beside a `multipart/signed`, blocks
    /// signed by another key). It is ignored; the flag lets the caller say so.
    pub unsigned_rest: bool,
}

impl Signed {
    /// The signer's fingerprint, upper-case hex.
    pub fn signer(&self) -> &str {
        self.signature.signer().unwrap_or_default()
    }
}

/// Public keys the verifier may consult besides those in the message itself:
/// keys stored for earlier senders and the configured keyring.
pub trait CertLookup {
    /// Certificates that contain any of `handles` (primary key or subkey).
    fn lookup(&self, handles: &[KeyHandle]) -> Vec<Cert>;
}

/// No keys at all.
impl CertLookup for () {
    fn lookup(&self, _: &[KeyHandle]) -> Vec<Cert> {
        Vec::new()
    }
}

/// A fixed set of certificates (the keyring, test fixtures).
impl CertLookup for [Cert] {
    fn lookup(&self, handles: &[KeyHandle]) -> Vec<Cert> {
        self.iter()
            .filter(|c| {
                c.keys()
                    .any(|k| handles.iter().any(|h| h.aliases(k.key().key_handle())))
            })
            .cloned()
            .collect()
    }
}

impl CertLookup for Vec<Cert> {
    fn lookup(&self, handles: &[KeyHandle]) -> Vec<Cert> {
        self.as_slice().lookup(handles)
    }
}

/// The team's keys and the keyring, shared by every stage that needs them.
#[derive(Debug, Clone, Default)]
pub struct Crypto {
    /// `None` when `[openpgp] secret_keys` is empty: no decryption, no signing.
    pub team: Option<Arc<TeamKeys>>,
    /// `[openpgp] keyring`.
    pub keyring: Arc<Vec<Cert>>,
    /// Each `[[team.members]]` key, by the member's address: the only keys that
    /// authenticate a member's commands, and the keys team mail is encrypted to.
    pub members: Arc<Vec<(crate::config::Address, Cert)>>,
}

/// Whether `cert` has a user id with the e-mail address `address`.
pub fn names_address(cert: &Cert, address: &str) -> bool {
    cert.userids().any(|u| {
        u.userid()
            .email()
            .ok()
            .flatten()
            .is_some_and(|e| e.eq_ignore_ascii_case(address))
    })
}

impl Crypto {
    /// The keyring's certificates for `address`.
    pub fn keyring_for<'k>(&'k self, address: &'k str) -> impl Iterator<Item = FoundKey> + 'k {
        self.keyring
            .iter()
            .filter(move |c| names_address(c, address))
            .map(|cert| FoundKey {
                cert: cert.clone(),
                source: KeySource::Keyring,
                addr: None,
            })
    }

    /// The configured key of the team member with `address`.
    pub fn member_cert(&self, address: &str) -> Option<&Cert> {
        let address = crate::config::Address::parse(address)?;
        self.members
            .iter()
            .find(|(a, _)| *a == address)
            .map(|(_, c)| c)
    }

    /// Keys to verify mail from `address` with before anything is stored: the
    /// keyring's, or the member's configured key for a team member.
    pub fn verification_keys(&self, address: &str) -> Vec<Cert> {
        let mut certs: Vec<Cert> = self.keyring_for(address).map(|f| f.cert).collect();
        certs.extend(self.member_cert(address).cloned());
        certs
    }

    /// Loads `[openpgp]` (the team keys, checked and unlocked, and the keyring)
    /// and the team members' keys.
    pub fn load(
        config: &crate::config::OpenPgp,
        team: &crate::config::Team,
        now: jiff::Timestamp,
    ) -> Result<Self, KeyError> {
        let team_keys = TeamKeys::load(config, now)?.map(Arc::new);
        let keyring = match &config.keyring {
            Some(path) => keys::load_keyring(path)?,
            None => Vec::new(),
        };
        let mut members = Vec::new();
        for m in &team.members {
            if let Some(path) = &m.key {
                members.push((m.email.clone(), keys::load_public_cert(path)?));
            }
        }
        Ok(Self {
            team: team_keys,
            keyring: Arc::new(keyring),
            members: Arc::new(members),
        })
    }
}

/// `ts` as the `SystemTime` sequoia's policies take.
pub fn system_time(ts: jiff::Timestamp) -> std::time::SystemTime {
    let since_epoch = std::time::Duration::new(
        u64::try_from(ts.as_second()).unwrap_or(0),
        u32::try_from(ts.subsec_nanosecond()).unwrap_or(0),
    );
    std::time::UNIX_EPOCH + since_epoch
}

/// `data` with every bare LF turned into CRLF (RFC 3156 §5: signatures are over
/// the canonical form, and Maildir files often have bare LF).
pub fn to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut previous = 0u8;
    for &b in data {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}
