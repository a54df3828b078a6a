//! The team's secret keys: loading (permissions, passphrase), listing, export,
//! generation. The first key signs; every key decrypts, so old keys keep
//! opening mail sent to them after a rotation.

use std::fmt;

use jiff::Timestamp;
use sequoia_openpgp::crypto::KeyPair;
use sequoia_openpgp::{Cert, Fingerprint};

use super::policy;

/// The team's secret keys, unlocked and ready.
pub struct TeamKeys {
    /// In configuration order; the first signs.
    certs: Vec<Cert>,
    /// Every usable decryption (sub)key of every cert, with its cert's fingerprint.
    decryptors: Vec<(Fingerprint, KeyPair)>,
    /// The signing key of the first cert.
    signer: KeyPair,
}

impl fmt::Debug for TeamKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never key material: fingerprints only.
        f.debug_struct("TeamKeys")
            .field(
                "certs",
                &self.certs.iter().map(Cert::fingerprint).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "key file {path} is readable by group or others (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    Permissions { path: String, mode: u32 },
    #[error("key file {path} holds no OpenPGP key: {reason}")]
    Parse { path: String, reason: String },
    #[error("key file {path} has no secret key material")]
    NoSecret { path: String },
    #[error("key {fingerprint} in {path} is locked: {reason}")]
    Locked {
        path: String,
        fingerprint: String,
        reason: String,
    },
    #[error("key {fingerprint} has no {what} key that is valid now")]
    Unusable {
        fingerprint: String,
        what: &'static str,
    },
    #[error("{0}")]
    Other(String),
}

impl TeamKeys {
    /// Builds from certificates whose secret key material is already unlocked.
    /// The first must be able to sign at `now`.
    pub fn from_certs(certs: Vec<Cert>, now: Timestamp) -> Result<Self, KeyError> {
        let p = policy();
        let time = super::system_time(now);
        let mut decryptors = Vec::new();
        for cert in &certs {
            // Decryption ignores expiry and revocation: mail encrypted to a key
            // before it expired must still open.
            for ka in cert
                .keys()
                .unencrypted_secret()
                .with_policy(&p, None)
                .for_storage_encryption()
                .for_transport_encryption()
            {
                let pair = ka
                    .key()
                    .clone()
                    .into_keypair()
                    .map_err(|e| KeyError::Other(format!("key {}: {e}", cert.fingerprint())))?;
                decryptors.push((cert.fingerprint(), pair));
            }
        }
        let first = certs
            .first()
            .ok_or_else(|| KeyError::Other("no team key configured".into()))?;
        let signer = first
            .keys()
            .unencrypted_secret()
            .with_policy(&p, Some(time))
            .alive()
            .revoked(false)
            .for_signing()
            .next()
            .ok_or_else(|| KeyError::Unusable {
                fingerprint: first.fingerprint().to_hex(),
                what: "signing",
            })?
            .key()
            .clone()
            .into_keypair()
            .map_err(|e| KeyError::Other(format!("key {}: {e}", first.fingerprint())))?;
        Ok(Self {
            certs,
            decryptors,
            signer,
        })
    }

    /// All team certs (with secrets), first = current.
    pub fn certs(&self) -> &[Cert] {
        &self.certs
    }

    /// The current (signing) cert.
    pub fn current(&self) -> &Cert {
        &self.certs[0]
    }

    /// Decryption key pairs with the fingerprint of the cert each belongs to.
    pub fn decryptors(&self) -> &[(Fingerprint, KeyPair)] {
        &self.decryptors
    }

    /// The signing key pair of the current cert.
    pub fn signer(&self) -> &KeyPair {
        &self.signer
    }
}

/// What `disclosed key list` shows of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub fingerprint: String,
    pub user_ids: Vec<String>,
    pub created: Timestamp,
    /// `None`: never expires.
    pub expires: Option<Timestamp>,
    pub signs: bool,
}

// TEMPORARY until the keys branch is merged.
impl TeamKeys {
    pub fn load(config: &crate::config::OpenPgp, now: Timestamp) -> Result<Option<Self>, KeyError> {
        use sequoia_openpgp::parse::Parse;
        let Some(first) = config.secret_keys.first() else {
            return Ok(None);
        };
        let cert = Cert::from_file(first).map_err(|e| KeyError::Other(e.to_string()))?;
        Self::from_certs(vec![cert], now).map(Some)
    }
}
pub fn load_keyring(path: &std::path::Path) -> Result<Vec<Cert>, KeyError> {
    let _ = path;
    Ok(Vec::new())
}
