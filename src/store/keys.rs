//! OpenPGP facts: each message's encryption and signature, its readable
//! (decrypted) entity, the public keys learned per correspondent address with
//! their trust level, and the one-time tokens that confirm a key.
//! Certificates are stored as bytes; the store does not interpret them.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Result, Tx, ctx, from_ms, ms};
use crate::report::ReportId;

/// What `crypto::open` found, as stored with the message.
#[derive(Debug, Clone)]
pub struct MessageCrypto<'a> {
    /// `plain`, `pgp-mime`, `signed`, `inline`.
    pub form: &'a str,
    /// `none`, `decrypted`, `undecryptable`.
    pub encryption: &'a str,
    /// JSON: the key and algorithm, or why it could not be read.
    pub encryption_detail: Option<&'a str>,
    /// `none`, `valid`, `unknown-key`, `bad`.
    pub signature: &'a str,
    pub signer: Option<&'a str>,
    pub signer_matches_from: Option<bool>,
    /// The readable MIME entity, when it differs from the raw bytes.
    pub decrypted: Option<&'a [u8]>,
}

/// Where a correspondent's key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// The key mail to the address is encrypted to.
    Current,
    /// Arrived later and waits: not used until it is proven.
    Pending,
    /// Was current once; another key took its place.
    Replaced,
}

impl KeyStatus {
    /// The stored name: `current`, `pending` or `replaced`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Pending => "pending",
            Self::Replaced => "replaced",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Current, Self::Pending, Self::Replaced]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl rusqlite::types::FromSql for KeyStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Self::parse(text).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("unknown key status `{text}`").into())
        })
    }
}

/// A stored public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: i64,
    pub address: String,
    pub fingerprint: String,
    pub cert: Vec<u8>,
    pub source: String,
    pub status: KeyStatus,
    /// How far it is trusted (`crypto::learn::Trust`): `keyring`, `confirmed`,
    /// or, unproven, `signed`, `encrypted`, `attached`, `autocrypt`.
    pub trust: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// A key to record.
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub address: &'a str,
    pub fingerprint: &'a str,
    pub cert: &'a [u8],
    pub source: &'a str,
    pub status: KeyStatus,
    pub trust: &'a str,
    /// The message that carried it.
    pub message: Option<i64>,
}

/// A confirmation token sent to `address`, encrypted to the key `fingerprint`.
/// Only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyConfirmation {
    pub id: i64,
    pub address: String,
    pub fingerprint: String,
    /// The report whose held mail asked for it.
    pub report_id: Option<ReportId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// When it was spent (confirmed, or refused because it travelled in clear).
    pub used_at: Option<Timestamp>,
}

/// A token to record.
#[derive(Debug, Clone)]
pub struct NewKeyConfirmation<'a> {
    pub address: &'a str,
    pub fingerprint: &'a str,
    pub token_sha256: &'a str,
    pub report_id: Option<&'a ReportId>,
    /// The confirmation mail's outbox row.
    pub outbox: i64,
    pub expires_at: Timestamp,
}

const CONFIRMATION_COLUMNS: &str =
    "id, address, fingerprint, report_id, created_at, expires_at, used_at";

fn key_confirmation(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyConfirmation> {
    Ok(KeyConfirmation {
        id: row.get(0)?,
        address: row.get(1)?,
        fingerprint: row.get(2)?,
        report_id: row.get::<_, Option<String>>(3)?.map(ReportId::from_stored),
        created_at: from_ms(row.get(4)?),
        expires_at: from_ms(row.get(5)?),
        used_at: row.get::<_, Option<i64>>(6)?.map(from_ms),
    })
}

fn key_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: row.get(0)?,
        address: row.get(1)?,
        fingerprint: row.get(2)?,
        cert: row.get(3)?,
        source: row.get(4)?,
        status: row.get(5)?,
        trust: row.get(6)?,
        first_seen: from_ms(row.get(7)?),
        last_seen: from_ms(row.get(8)?),
    })
}

/// Outgoing mail held as `needs-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldMail {
    pub id: i64,
    pub report_id: Option<ReportId>,
    /// The rendered mail, in clear: sealed before it may leave.
    pub raw: Vec<u8>,
}

const KEY_COLUMNS: &str =
    "id, address, fingerprint, cert, source, status, trust, first_seen, last_seen";

impl Tx<'_> {
    pub fn record_message_crypto(&self, message: i64, c: &MessageCrypto<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE messages SET crypto_form = ?2, encryption = ?3, encryption_detail = ?4,
                     signature = ?5, signer = ?6, signer_matches_from = ?7
                 WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    message,
                    c.form,
                    c.encryption,
                    c.encryption_detail,
                    c.signature,
                    c.signer,
                    c.signer_matches_from,
                ])
            })
            .map_err(ctx("recording a message's encryption and signature"))?;
        if let Some(data) = c.decrypted {
            self.insert_blob("decrypted_messages", message, data)
                .map_err(ctx("storing a decrypted message"))?;
        }
        // The document written with the raw bytes becomes the readable
        // entity's, confidential when it was encrypted.
        if c.decrypted.is_some() || c.encryption != "none" {
            self.index_message(message, c.decrypted)?;
        }
        Ok(())
    }

    /// The readable entity of an encrypted message.
    pub fn decrypted_message(&self, message: i64) -> Result<Option<Vec<u8>>> {
        self.conn
            .prepare_cached("SELECT data FROM decrypted_messages WHERE message = ?1")
            .and_then(|mut stmt| stmt.query_row([message], |row| row.get(0)).optional())
            .map_err(ctx("reading a decrypted message"))
    }

    /// Whether `address` ever wrote to us encrypted (then nothing goes to it in clear).
    pub fn wrote_encrypted(&self, address: &str) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM messages
                 WHERE from_addr = ?1 AND encryption != 'none')",
            )
            .and_then(|mut stmt| stmt.query_row([address], |row| row.get(0)))
            .map_err(ctx("looking up whether an address wrote encrypted"))
    }

    /// The keys stored for `address` that are not replaced: `current` first.
    pub fn keys_for_address(&self, address: &str) -> Result<Vec<KeyRecord>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM participant_keys
                 WHERE address = ?1 AND status != 'replaced'
                 ORDER BY status = 'current' DESC, last_seen DESC"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([address], key_record)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(ctx("reading the keys of an address"))
    }

    /// Every stored key of `address`, replaced ones included, oldest first.
    pub fn key_history(&self, address: &str) -> Result<Vec<KeyRecord>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM participant_keys WHERE address = ?1
                 ORDER BY first_seen, id"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([address], key_record)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(ctx("reading the key history of an address"))
    }

    /// Records a key not seen before for its address.
    pub fn insert_key(&self, key: &NewKey<'_>, at: Timestamp) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO participant_keys (address, fingerprint, cert, source, status, trust,
                     first_seen, last_seen, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    key.address,
                    key.fingerprint,
                    key.cert,
                    key.source,
                    key.status.as_str(),
                    key.trust,
                    ms(at),
                    key.message
                ])
            })
            .map_err(ctx("storing a public key"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A known key seen again: its (merged) certificate and last-seen time.
    pub fn touch_key(&self, id: i64, cert: &[u8], at: Timestamp) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE participant_keys SET cert = ?2, last_seen = MAX(last_seen, ?3) WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute(params![id, cert, ms(at)]))
            .map_err(ctx("updating a public key"))?;
        Ok(())
    }

    pub fn set_key_status(&self, id: i64, status: KeyStatus) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE participant_keys SET status = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, status.as_str()]))
            .map_err(ctx("changing a public key's status"))?;
        Ok(())
    }

    /// Records how far a stored key is trusted.
    pub fn set_key_trust(&self, id: i64, trust: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE participant_keys SET trust = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, trust]))
            .map_err(ctx("changing a public key's trust"))?;
        Ok(())
    }

    /// Makes the key `fingerprint` of `address` the current one, the old current
    /// one replaced. Returns false when no such key is stored.
    pub fn make_key_current(&self, address: &str, fingerprint: &str) -> Result<bool> {
        let found: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM participant_keys WHERE address = ?1 AND fingerprint = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row([address, fingerprint], |row| row.get(0))
                    .optional()
            })
            .map_err(ctx("looking up a public key"))?;
        let Some(id) = found else {
            return Ok(false);
        };
        self.conn
            .prepare_cached(
                "UPDATE participant_keys SET status = 'replaced'
                 WHERE address = ?1 AND status = 'current' AND id != ?2",
            )
            .and_then(|mut stmt| stmt.execute(params![address, id]))
            .map_err(ctx("replacing a public key"))?;
        self.set_key_status(id, KeyStatus::Current)?;
        Ok(true)
    }

    /// Mail held as `needs-key` for `address`.
    pub fn held_mail_for(&self, address: &str) -> Result<Vec<HeldMail>> {
        self.conn
            .prepare_cached(
                "SELECT o.id, o.report_id, r.raw FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
                 WHERE o.status = 'needs-key'
                   AND EXISTS (SELECT 1 FROM json_each(o.recipients) WHERE value = ?1)
                 ORDER BY o.id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([address], |row| {
                    Ok(HeldMail {
                        id: row.get(0)?,
                        report_id: row.get::<_, Option<String>>(1)?.map(ReportId::from_stored),
                        raw: row.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(ctx("reading mail held for a key"))
    }

    /// Queues held mail, now sealed to the key that arrived.
    pub fn release_held(&self, id: i64, raw: &[u8], at: Timestamp) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'queued', next_attempt_at = ?2
                 WHERE id = ?1 AND status = 'needs-key'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, ms(at)]))
            .map_err(ctx("releasing held mail"))?;
        self.conn
            .prepare_cached("UPDATE outbox_raw SET raw = ?2 WHERE outbox = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, raw]))
            .map_err(ctx("releasing held mail"))?;
        Ok(())
    }

    /// Records a confirmation token (its hash) just sent.
    pub fn insert_key_confirmation(
        &self,
        c: &NewKeyConfirmation<'_>,
        at: Timestamp,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO key_confirmations (address, fingerprint, token_sha256, report_id,
                     outbox, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    c.address,
                    c.fingerprint,
                    c.token_sha256,
                    c.report_id.map(ReportId::as_str),
                    c.outbox,
                    ms(at),
                    ms(c.expires_at)
                ])
            })
            .map_err(ctx("storing a key confirmation token"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Whether a token for the key `fingerprint` of `address` is still
    /// waiting for its answer at `now` (then no second one is sent).
    pub fn confirmation_pending(
        &self,
        address: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM key_confirmations
                 WHERE address = ?1 AND fingerprint = ?2 AND used_at IS NULL AND expires_at > ?3)",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![address, fingerprint, ms(now)], |row| row.get(0))
            })
            .map_err(ctx("looking up a pending key confirmation"))
    }

    /// The token whose hash is `token_sha256`, whoever it was sent to.
    pub fn key_confirmation_by_hash(&self, token_sha256: &str) -> Result<Option<KeyConfirmation>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {CONFIRMATION_COLUMNS} FROM key_confirmations WHERE token_sha256 = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([token_sha256], key_confirmation).optional())
            .map_err(ctx("looking up a key confirmation token"))
    }

    /// Spends a token: `message` answered it, `outcome` says how
    /// (`confirmed`, or `exposed` when it arrived in clear).
    pub fn spend_key_confirmation(
        &self,
        id: i64,
        message: i64,
        outcome: &str,
        at: Timestamp,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE key_confirmations SET used_at = ?2, used_by = ?3, outcome = ?4
                 WHERE id = ?1 AND used_at IS NULL",
            )
            .and_then(|mut stmt| stmt.execute(params![id, ms(at), message, outcome]))
            .map_err(ctx("spending a key confirmation token"))?;
        Ok(())
    }
}
