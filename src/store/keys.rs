//! OpenPGP facts: each message's encryption and signature, its readable
//! (decrypted) entity, and the public keys learned per correspondent address.
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

/// A stored public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: i64,
    pub address: String,
    pub fingerprint: String,
    pub cert: Vec<u8>,
    pub source: String,
    /// `current`, `pending` or `replaced`.
    pub status: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

fn key_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: row.get(0)?,
        address: row.get(1)?,
        fingerprint: row.get(2)?,
        cert: row.get(3)?,
        source: row.get(4)?,
        status: row.get(5)?,
        first_seen: from_ms(row.get(6)?),
        last_seen: from_ms(row.get(7)?),
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

const KEY_COLUMNS: &str = "id, address, fingerprint, cert, source, status, first_seen, last_seen";

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
            self.conn
                .prepare_cached("INSERT INTO decrypted_messages (message, data) VALUES (?1, ?2)")
                .and_then(|mut stmt| stmt.execute(params![message, data]))
                .map_err(ctx("storing a decrypted message"))?;
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

    /// Records a key not seen before for `address`.
    #[expect(clippy::too_many_arguments, reason = "one column each")]
    pub fn insert_key(
        &self,
        address: &str,
        fingerprint: &str,
        cert: &[u8],
        source: &str,
        status: &str,
        at: Timestamp,
        message: Option<i64>,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO participant_keys (address, fingerprint, cert, source, status,
                     first_seen, last_seen, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    address,
                    fingerprint,
                    cert,
                    source,
                    status,
                    ms(at),
                    message
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

    pub fn set_key_status(&self, id: i64, status: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE participant_keys SET status = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, status]))
            .map_err(ctx("changing a public key's status"))?;
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
        self.set_key_status(id, "current")?;
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
}
