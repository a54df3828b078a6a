//! The team's secret keys: loading (permissions, passphrase), listing, export,
//! generation; and the public keys the configuration names (team members, the
//! keyring). The first team key signs; every team key decrypts, so old keys
//! keep opening mail sent to them after a rotation.
//!
//! Neither a passphrase nor key material ever reaches an error or a log line:
//! errors name the file and the fingerprint only.

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use sequoia_openpgp::cert::amalgamation::key::PrimaryKey;
use sequoia_openpgp::cert::{CertBuilder, CertParser, CipherSuite};
use sequoia_openpgp::crypto::mem::Protected;
use sequoia_openpgp::crypto::{KeyPair, Password};
use sequoia_openpgp::packet::Packet;
use sequoia_openpgp::packet::key::SecretKeyMaterial;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::serialize::{Serialize, SerializeInto};
use sequoia_openpgp::types::KeyFlags;
use sequoia_openpgp::{Cert, Fingerprint, Profile, armor};

use super::policy;

/// The team's secret keys, unlocked and ready.
pub struct TeamKeys {
    /// In configuration order; the first signs.
    certs: Vec<Cert>,
    /// Every usable decryption (sub)key of every cert, with its cert's fingerprint.
    decryptors: Vec<(Fingerprint, KeyPair)>,
    /// The signing key of the first cert.
    signer: KeyPair,
    /// Our `Autocrypt:` header line, per address and day: building the minimal
    /// key for every mail is measurable, and it only changes with the subkeys.
    autocrypt: std::sync::Mutex<Option<(String, jiff::civil::Date, String)>>,
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
    #[error("{path} is open to group or others (mode {mode:04o}); run `chmod 600 {path}`")]
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
    #[error("key {fingerprint} in {path} expired on {at}")]
    Expired {
        path: String,
        fingerprint: String,
        at: Timestamp,
    },
    #[error("{path} already exists; not overwriting it")]
    Exists { path: String },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl TeamKeys {
    /// Loads `[openpgp] secret_keys`, in order, unlocking encrypted secret key
    /// material with the passphrase from `passphrase_file`. `None` when no key
    /// is configured. The first key must be alive and able to sign at `now`;
    /// older keys may have expired (they still decrypt).
    pub fn load(config: &crate::config::OpenPgp, now: Timestamp) -> Result<Option<Self>, KeyError> {
        if config.secret_keys.is_empty() {
            return Ok(None);
        }
        let mut passphrase = Passphrase::new(config.passphrase_file.as_deref());
        let mut certs = Vec::new();
        for (i, path) in config.secret_keys.iter().enumerate() {
            for cert in read_secret_keys(path)? {
                if i == 0 && certs.is_empty() {
                    current_alive(&cert, path, now)?;
                }
                certs.push(unlock(cert, path, &mut passphrase)?);
            }
        }
        Self::from_certs(certs, now).map(Some)
    }

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
            autocrypt: std::sync::Mutex::new(None),
        })
    }

    /// The `Autocrypt:` header line announcing the current key for `addr`.
    pub fn autocrypt_line(
        &self,
        addr: &str,
        now: Timestamp,
    ) -> Result<String, crate::crypto::seal::SealError> {
        let day = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let mut cache = self
            .autocrypt
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((cached_addr, cached_day, line)) = cache.as_ref()
            && cached_addr == addr
            && *cached_day == day
        {
            return Ok(line.clone());
        }
        let line = crate::crypto::autocrypt::header_line(self.current(), addr, now)?;
        *cache = Some((addr.to_owned(), day, line.clone()));
        Ok(line)
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

/// The validity [`generate`] is usually given: two years, after which the key
/// must be extended or rotated.
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(2 * 365 * 24 * 60 * 60);

/// Reads a file of secret keys (armored or binary; one key or a keyring of
/// several): refused when group or others may access it, when it holds no key,
/// or when any key in it lacks secret key material. Secret material that is
/// encrypted stays encrypted; [`TeamKeys::load`] unlocks it.
pub fn read_secret_keys(path: &Path) -> Result<Vec<Cert>, KeyError> {
    let bytes = read_private(path)?;
    let certs = parse_certs(&bytes, path)?;
    if certs.is_empty() {
        return Err(parse_error(path, "no certificate in it"));
    }
    if certs.iter().any(|c| !c.is_tsk()) {
        return Err(KeyError::NoSecret {
            path: path.display().to_string(),
        });
    }
    Ok(certs)
}

/// Reads a passphrase file (permission-checked like a key file): its bytes
/// without one trailing newline.
pub fn read_passphrase(path: &Path) -> Result<Password, KeyError> {
    let bytes = read_private(path)?;
    let mut end = bytes.len();
    if bytes[..end].ends_with(b"\n") {
        end -= 1;
        if bytes[..end].ends_with(b"\r") {
            end -= 1;
        }
    }
    Ok(Password::from(&bytes[..end]))
}

/// Reads `[openpgp] keyring`: public certificates, armored or binary, any
/// number of them. Secret key material in it is dropped. A packet that does
/// not parse fails the whole file, naming it: nothing is skipped silently.
pub fn load_keyring(path: &Path) -> Result<Vec<Cert>, KeyError> {
    let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(parse_certs(&bytes, path)?
        .into_iter()
        .map(Cert::strip_secret_key_material)
        .collect())
}

/// Reads one public certificate (a team member's `key` file). Secret key
/// material in it is dropped.
pub fn load_public_cert(path: &Path) -> Result<Cert, KeyError> {
    let mut certs = load_keyring(path)?;
    match certs.len() {
        1 => Ok(certs.remove(0)),
        0 => Err(parse_error(path, "no certificate in it")),
        n => Err(parse_error(
            path,
            &format!("{n} certificates in it; one is expected"),
        )),
    }
}

/// What `disclosed key list` and `check` show of `cert` at `now`.
pub fn key_info(cert: &Cert, now: Timestamp) -> KeyInfo {
    let p = policy();
    let created = timestamp(cert.primary_key().key().creation_time());
    let user_ids_of = |uids: &mut dyn Iterator<Item = &[u8]>| {
        uids.map(|u| String::from_utf8_lossy(u).into_owned())
            .collect::<Vec<_>>()
    };
    match cert.with_policy(&p, super::system_time(now)) {
        Ok(vc) => {
            let mut user_ids = user_ids_of(&mut vc.userids().map(|u| u.userid().value()));
            if user_ids.is_empty() {
                // Revoked or expired user ids still say whose key it is.
                user_ids = user_ids_of(&mut cert.userids().map(|u| u.userid().value()));
            }
            KeyInfo {
                fingerprint: cert.fingerprint().to_hex(),
                user_ids,
                created,
                expires: vc.primary_key().key_expiration_time().map(timestamp),
                signs: vc
                    .keys()
                    .alive()
                    .revoked(false)
                    .for_signing()
                    .next()
                    .is_some(),
            }
        }
        // No valid self-signature at `now` (created later, or only signatures
        // the policy rejects): nothing about it can be trusted, it cannot sign.
        Err(_) => KeyInfo {
            fingerprint: cert.fingerprint().to_hex(),
            user_ids: user_ids_of(&mut cert.userids().map(|u| u.userid().value())),
            created,
            expires: None,
            signs: false,
        },
    }
}

/// A new team key: a certification-only Cv25519 primary key, a signing subkey
/// and an encryption subkey (transport and storage), in the v4 format that
/// GnuPG 2.2 reads. Created at `now`; the key and its subkeys expire after
/// `validity` (`None`: never, [`DEFAULT_VALIDITY`] is the usual choice). With
/// a `passphrase`, the secret key material is encrypted with it.
pub fn generate(
    userid: &str,
    now: Timestamp,
    validity: Option<Duration>,
    passphrase: Option<&Password>,
) -> Result<Cert, KeyError> {
    let (cert, _revocation) = CertBuilder::new()
        .set_profile(Profile::RFC4880)
        .map_err(|e| KeyError::Other(format!("cannot generate a key: {e}")))?
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_creation_time(super::system_time(now))
        .set_validity_period(validity)
        .add_userid(userid)
        .add_signing_subkey()
        .add_subkey(
            KeyFlags::empty()
                .set_transport_encryption()
                .set_storage_encryption(),
            None,
            None,
        )
        .set_password(passphrase.cloned())
        .generate()
        .map_err(|e| KeyError::Other(format!("cannot generate a key: {e}")))?;
    Ok(cert)
}

/// Writes `cert` with its secret key material, armored, to a new file only
/// its owner may read (0600). An existing file is never overwritten.
pub fn write_secret(path: &Path, cert: &Cert) -> Result<(), KeyError> {
    let shown = || path.display().to_string();
    let armored = cert.as_tsk().armored().to_vec().map_err(|e| {
        KeyError::Other(format!("cannot serialize key {}: {e}", cert.fingerprint()))
    })?;
    let armored = Protected::from(armored);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => KeyError::Exists { path: shown() },
            _ => KeyError::Write {
                path: shown(),
                source,
            },
        })?;
    let written = file.write_all(&armored).and_then(|()| file.sync_all());
    if let Err(source) = written {
        // Half a key is worse than none: it would be refused at load anyway.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(KeyError::Write {
            path: shown(),
            source,
        });
    }
    Ok(())
}

/// `cert`'s public key, armored, without any secret key material: what goes
/// to `/.well-known/pgp-key.txt` and into `security.txt`'s `Encryption:`.
pub fn export_public(cert: &Cert) -> Result<String, KeyError> {
    let public = cert.clone().strip_secret_key_material();
    let bytes = public.armored().to_vec().map_err(|e| {
        KeyError::Other(format!("cannot serialize key {}: {e}", cert.fingerprint()))
    })?;
    String::from_utf8(bytes).map_err(|e| KeyError::Other(e.to_string()))
}

/// Several public keys in one armored block (a keyring), secrets stripped.
pub fn export_public_all(certs: &[Cert]) -> Result<String, KeyError> {
    let failed = |e: &dyn fmt::Display| KeyError::Other(format!("cannot serialize keys: {e}"));
    let mut writer =
        armor::Writer::new(Vec::new(), armor::Kind::PublicKey).map_err(|e| failed(&e))?;
    for cert in certs {
        // `Cert`'s own serialization never includes secret key material.
        cert.serialize(&mut writer).map_err(|e| failed(&e))?;
    }
    let bytes = writer.finalize().map_err(|e| failed(&e))?;
    String::from_utf8(bytes).map_err(|e| failed(&e))
}

/// Opens `path` and refuses it when its mode grants group or others anything;
/// the check is on the open file, so a swap in between cannot slip past it.
/// The bytes are returned in memory sequoia wipes when dropped.
fn read_private(path: &Path) -> Result<Protected, KeyError> {
    let read_error = |source| KeyError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.display().to_string(),
            mode,
        });
    }
    let len = usize::try_from(meta.len()).unwrap_or(0);
    // One read into an allocation of the right size leaves no stray copies.
    let mut bytes = Vec::with_capacity(len.saturating_add(1));
    file.read_to_end(&mut bytes).map_err(read_error)?;
    Ok(Protected::from(bytes))
}

fn parse_certs(bytes: &[u8], path: &Path) -> Result<Vec<Cert>, KeyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    CertParser::from_bytes(bytes)
        .and_then(|parser| parser.collect::<Result<Vec<_>, _>>())
        .map_err(|e| parse_error(path, &format!("{e:#}")))
}

fn parse_error(path: &Path, reason: &str) -> KeyError {
    KeyError::Parse {
        path: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

/// The current key must be usable now; an expired one is named with its date
/// (the generic "no signing key" would send people looking elsewhere).
fn current_alive(cert: &Cert, path: &Path, now: Timestamp) -> Result<(), KeyError> {
    let info = key_info(cert, now);
    match info.expires {
        Some(at) if at <= now => Err(KeyError::Expired {
            path: path.display().to_string(),
            fingerprint: info.fingerprint,
            at,
        }),
        _ => Ok(()),
    }
}

/// The passphrase, read from its file the first time an encrypted key needs it.
struct Passphrase<'a> {
    file: Option<&'a Path>,
    loaded: Option<Password>,
}

impl<'a> Passphrase<'a> {
    fn new(file: Option<&'a Path>) -> Self {
        Self { file, loaded: None }
    }

    fn get(&mut self) -> Result<Option<(&Path, &Password)>, KeyError> {
        let Some(file) = self.file else {
            return Ok(None);
        };
        if self.loaded.is_none() {
            self.loaded = Some(read_passphrase(file)?);
        }
        Ok(self.loaded.as_ref().map(|p| (file, p)))
    }
}

/// Decrypts every encrypted secret (sub)key of `cert`. GnuPG's stubs for keys
/// kept elsewhere (an offline primary key) carry no secret and are left alone.
fn unlock(cert: Cert, path: &Path, passphrase: &mut Passphrase<'_>) -> Result<Cert, KeyError> {
    let locked = |reason: String| KeyError::Locked {
        path: path.display().to_string(),
        fingerprint: cert.fingerprint().to_hex(),
        reason,
    };
    let mut unlocked: Vec<Packet> = Vec::new();
    for ka in cert.keys().secret() {
        let key = ka.key();
        let SecretKeyMaterial::Encrypted(encrypted) = key.secret() else {
            continue;
        };
        if !encrypted.s2k().is_supported() {
            continue;
        }
        let Some((file, password)) = passphrase.get()? else {
            return Err(locked(
                "its secret key material is encrypted and no `openpgp.passphrase_file` is configured"
                    .into(),
            ));
        };
        let key = key.clone().decrypt_secret(password).map_err(|_| {
            locked(format!(
                "the passphrase in {} does not unlock it",
                file.display()
            ))
        })?;
        unlocked.push(if ka.primary() {
            key.role_into_primary().into()
        } else {
            key.role_into_subordinate().into()
        });
    }
    if unlocked.is_empty() {
        return Ok(cert);
    }
    let fingerprint = cert.fingerprint();
    // Inserted packets win over the ones already there: the decrypted keys
    // replace the encrypted ones.
    cert.insert_packets(unlocked)
        .map(|(cert, _)| cert)
        .map_err(|e| KeyError::Other(format!("key {fingerprint}: {e}")))
}

fn timestamp(t: std::time::SystemTime) -> Timestamp {
    Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OpenPgp;

    const DAY: Duration = Duration::from_secs(24 * 60 * 60);

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn now() -> Timestamp {
        at("2026-05-01T10:00:00Z")
    }

    fn write_key(dir: &Path, name: &str, cert: &Cert) -> std::path::PathBuf {
        let path = dir.join(name);
        write_secret(&path, cert).expect("write key");
        path
    }

    fn config(keys: &[&Path], passphrase_file: Option<&Path>) -> OpenPgp {
        OpenPgp {
            secret_keys: keys.iter().map(|p| p.to_path_buf()).collect(),
            passphrase_file: passphrase_file.map(Path::to_path_buf),
            ..OpenPgp::default()
        }
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn nothing_configured_is_none() {
        let keys = TeamKeys::load(&OpenPgp::default(), now()).expect("load");
        assert!(keys.is_none());
    }

    #[test]
    fn generated_key_is_written_0600_and_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = generate(
            "Example Security <security@example.org>",
            now(),
            Some(DEFAULT_VALIDITY),
            None,
        )
        .expect("generate");
        assert_eq!(cert.primary_key().key().version(), 4);
        let path = write_key(dir.path(), "team.key", &cert);
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----"));

        let team = TeamKeys::load(&config(&[&path], None), now())
            .expect("load")
            .expect("some");
        assert_eq!(team.current().fingerprint(), cert.fingerprint());
        assert_eq!(team.decryptors().len(), 1);

        let info = key_info(team.current(), now());
        assert_eq!(info.fingerprint, cert.fingerprint().to_hex());
        assert_eq!(info.user_ids, ["Example Security <security@example.org>"]);
        assert_eq!(info.created, now());
        assert_eq!(info.expires, Some(at("2028-04-30T10:00:00Z")));
        assert!(info.signs);
        let later = key_info(&cert, at("2028-05-01T00:00:00Z"));
        assert!(!later.signs, "an expired key does not sign");

        let err = write_secret(&path, &cert).expect_err("overwrite");
        assert!(matches!(err, KeyError::Exists { .. }), "{err}");
    }

    #[test]
    fn group_or_other_access_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = generate("t <t@example.org>", now(), None, None).expect("generate");
        let path = write_key(dir.path(), "team.key", &cert);
        for mode in [0o644, 0o640, 0o604, 0o620] {
            chmod(&path, mode);
            let err = TeamKeys::load(&config(&[&path], None), now()).expect_err("refused");
            let text = err.to_string();
            assert!(matches!(err, KeyError::Permissions { .. }), "{text}");
            assert!(
                text.contains(&format!("chmod 600 {}", path.display())),
                "{text}"
            );
        }
        chmod(&path, 0o400);
        assert!(TeamKeys::load(&config(&[&path], None), now()).is_ok());
    }

    #[test]
    fn passphrase_unlocks_and_never_shows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = "correct horse battery staple";
        let cert = generate(
            "t <t@example.org>",
            now(),
            None,
            Some(&Password::from(secret)),
        )
        .expect("generate");
        let path = write_key(dir.path(), "team.key", &cert);
        let fingerprint = cert.fingerprint().to_hex();

        let err = TeamKeys::load(&config(&[&path], None), now()).expect_err("locked");
        assert!(matches!(err, KeyError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("passphrase_file"), "{err}");

        let pass = dir.path().join("passphrase");
        std::fs::write(&pass, "wrong horse\n").expect("write");
        chmod(&pass, 0o600);
        let err = TeamKeys::load(&config(&[&path], Some(&pass)), now()).expect_err("wrong");
        let text = format!("{err} {err:?}");
        assert!(matches!(err, KeyError::Locked { .. }), "{text}");
        assert!(text.contains(&fingerprint), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(!text.contains("horse"), "{text}");

        // One trailing newline is not part of the passphrase.
        std::fs::write(&pass, format!("{secret}\n")).expect("write");
        let team = TeamKeys::load(&config(&[&path], Some(&pass)), now())
            .expect("unlocked")
            .expect("some");
        assert_eq!(team.decryptors().len(), 1);
        assert!(!format!("{team:?}").contains(secret));

        chmod(&pass, 0o644);
        let err = TeamKeys::load(&config(&[&path], Some(&pass)), now()).expect_err("perms");
        assert!(matches!(err, KeyError::Permissions { .. }), "{err}");
    }

    #[test]
    fn unencrypted_keys_never_read_the_passphrase_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = generate("t <t@example.org>", now(), None, None).expect("generate");
        let path = write_key(dir.path(), "team.key", &cert);
        let absent = dir.path().join("no-such-passphrase");
        assert!(TeamKeys::load(&config(&[&path], Some(&absent)), now()).is_ok());
    }

    #[test]
    fn public_keys_and_garbage_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = generate("t <t@example.org>", now(), None, None).expect("generate");
        let public = dir.path().join("public.asc");
        std::fs::write(&public, export_public(&cert).expect("export")).expect("write");
        chmod(&public, 0o600);
        let err = TeamKeys::load(&config(&[&public], None), now()).expect_err("public");
        assert!(matches!(err, KeyError::NoSecret { .. }), "{err}");

        let garbage = dir.path().join("garbage.key");
        std::fs::write(&garbage, "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnope\n").expect("write");
        chmod(&garbage, 0o600);
        let err = TeamKeys::load(&config(&[&garbage], None), now()).expect_err("garbage");
        assert!(matches!(err, KeyError::Parse { .. }), "{err}");
        assert!(err.to_string().contains("garbage.key"), "{err}");
        assert!(matches!(
            load_keyring(&garbage).expect_err("garbage"),
            KeyError::Parse { .. }
        ));

        let missing = dir.path().join("missing.key");
        let err = TeamKeys::load(&config(&[&missing], None), now()).expect_err("missing");
        assert!(matches!(err, KeyError::Read { .. }), "{err}");
    }

    #[test]
    fn rotation_old_expired_keys_decrypt_but_the_current_must_be_alive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = generate(
            "old <t@example.org>",
            at("2024-01-01T00:00:00Z"),
            Some(30 * DAY),
            None,
        )
        .expect("generate");
        let new =
            generate("new <t@example.org>", now(), Some(DEFAULT_VALIDITY), None).expect("generate");
        let old_path = write_key(dir.path(), "old.key", &old);
        let new_path = write_key(dir.path(), "new.key", &new);

        let team = TeamKeys::load(&config(&[&new_path, &old_path], None), now())
            .expect("load")
            .expect("some");
        assert_eq!(team.certs().len(), 2);
        assert_eq!(team.decryptors().len(), 2);
        assert_eq!(team.current().fingerprint(), new.fingerprint());

        let err = TeamKeys::load(&config(&[&old_path, &new_path], None), now())
            .expect_err("expired current key");
        assert!(matches!(err, KeyError::Expired { .. }), "{err}");
        assert!(err.to_string().contains("2024-01-31"), "{err}");
    }

    #[test]
    fn a_keyring_file_of_several_secret_keys_loads_them_all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = generate("a <a@example.org>", now(), None, None).expect("generate");
        let b = generate("b <b@example.org>", now(), None, None).expect("generate");
        let mut bytes = a.as_tsk().to_vec().expect("serialize");
        bytes.extend(b.as_tsk().to_vec().expect("serialize"));
        let path = dir.path().join("team.pgp");
        std::fs::write(&path, bytes).expect("write");
        chmod(&path, 0o600);
        let team = TeamKeys::load(&config(&[&path], None), now())
            .expect("load")
            .expect("some");
        let fingerprints: Vec<_> = team.certs().iter().map(Cert::fingerprint).collect();
        assert_eq!(fingerprints, [a.fingerprint(), b.fingerprint()]);
    }

    #[test]
    fn public_certs_lose_their_secrets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = generate("a <a@example.org>", now(), None, None).expect("generate");
        let b = generate("b <b@example.org>", now(), None, None).expect("generate");

        let exported = export_public(&a).expect("export");
        assert!(exported.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        let back = Cert::from_bytes(exported.as_bytes()).expect("parse");
        assert_eq!(back.fingerprint(), a.fingerprint());
        assert!(!back.is_tsk());

        // A member who handed over their secret key by mistake: only the
        // public part is kept.
        let member = dir.path().join("alice.asc");
        std::fs::write(&member, a.as_tsk().armored().to_vec().expect("tsk")).expect("write");
        let cert = load_public_cert(&member).expect("member");
        assert!(!cert.is_tsk());

        let keyring = dir.path().join("keyring.asc");
        std::fs::write(&keyring, export_public_all(&[a, b]).expect("export")).expect("write");
        assert_eq!(load_keyring(&keyring).expect("keyring").len(), 2);
        let err = load_public_cert(&keyring).expect_err("two certs");
        assert!(err.to_string().contains("2 certificates"), "{err}");

        std::fs::write(&keyring, "").expect("write");
        assert!(load_keyring(&keyring).expect("empty").is_empty());
    }
}
