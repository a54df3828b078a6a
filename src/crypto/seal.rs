//! Sealing outgoing mail: PGP/MIME (RFC 3156) encrypted and signed, with protected
//! headers (RFC 9788, compatible with `protected-headers="v1"`), or signed only.
// TEMPORARY placeholder until the sealing branch is merged.
use jiff::Timestamp;
use sequoia_openpgp::Cert;

use super::TeamKeys;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("{0}")]
    Other(String),
}

pub fn encrypt(
    plain: &[u8],
    recipients: &[Cert],
    team: &TeamKeys,
    now: Timestamp,
) -> Result<Vec<u8>, SealError> {
    let _ = (plain, recipients, team, now);
    Err(SealError::Other("not yet".into()))
}

pub fn sign(plain: &[u8], team: &TeamKeys, now: Timestamp) -> Result<Vec<u8>, SealError> {
    let _ = (plain, team, now);
    Err(SealError::Other("not yet".into()))
}

pub fn usable_for_encryption(cert: &Cert, now: Timestamp) -> bool {
    let _ = (cert, now);
    false
}
