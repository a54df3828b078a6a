//! The outbox: every mail we send is a row first, rendered and with its Message-ID
//! fixed, in the same transaction as the change that caused it. It is also how
//! we know our own mail when it comes back (by Message-ID) and which mail a
//! bounce returns (by the token of its return path).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{LineFingerprint, Result, StoreError, Tx, ctx, from_ms, ms};
use crate::report::ReportId;

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    pub report_id: Option<&'a ReportId>,
    /// What it is, e.g. `acknowledgement`.
    pub kind: &'a str,
    /// Without angle brackets.
    pub message_id: &'a str,
    pub envelope_from: &'a str,
    /// The token of `envelope_from` when it is a per-message return path.
    pub return_token: Option<&'a str>,
    pub recipients: &'a [String],
    /// Set for automatic replies: the address they are rate-limited by.
    pub rate_key: Option<&'a str>,
    pub raw: &'a [u8],
    /// Held as `needs-key` instead of queued: it may not go out in clear and
    /// no key for its recipient is known yet.
    pub held: bool,
    /// For mail to the team: the fingerprints of its lines, recorded with the
    /// row so that no relay can carry them to a reporter.
    pub team_lines: &'a [LineFingerprint],
}

/// A mail we queued (in any state), as a returned copy or a bounce finds it.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub id: i64,
    pub report_id: Option<ReportId>,
    /// What it is, e.g. `acknowledgement`.
    pub kind: String,
    pub message_id: String,
    pub recipients: Vec<String>,
    /// The mail as rendered (sealed, when it was).
    pub raw: Vec<u8>,
}

/// A sender's claim on due rows: who, at which scheduling time, and the lease.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The claiming process's token.
    pub claimant: &'a str,
    /// Rows due at this time are taken.
    pub now: Timestamp,
    /// The wall-clock time leases are measured against (`now` may be a
    /// simulated time, as with `sla tick --now`).
    pub lease_now: Timestamp,
    /// Until when the claim holds without renewal.
    pub lease_until: Timestamp,
}

/// A queued mail that is due.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: i64,
    pub report_id: Option<String>,
    /// What it is, e.g. `acknowledgement`.
    pub kind: String,
    pub message_id: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    pub attempts: u32,
    pub created_at: Timestamp,
}

impl Tx<'_> {
    pub fn enqueue(&self, mail: &NewMail<'_>, at: Timestamp) -> Result<i64> {
        // An imported inbox sends nothing, whichever stage would have.
        if let Some(dropped) = self.quiet {
            dropped.set(dropped.get().saturating_add(1));
            tracing::debug!(kind = mail.kind, "imported mail: nothing queued");
            return Ok(0);
        }
        let recipients =
            serde_json::to_string(mail.recipients).map_err(|err| StoreError::Corrupt {
                what: "outbox recipients",
                detail: err.to_string(),
            })?;
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (report_id, kind, message_id, envelope_from, recipients,
                     rate_key, status, attempts, next_attempt_at, created_at, return_token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, 0, ?7, ?7, ?9)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    mail.report_id.map(ReportId::as_str),
                    mail.kind,
                    mail.message_id,
                    mail.envelope_from,
                    recipients,
                    mail.rate_key,
                    ms(at),
                    if mail.held { "needs-key" } else { "queued" },
                    mail.return_token,
                ])
            })
            .map_err(ctx("queueing a mail"))?;
        let id = self.conn.last_insert_rowid();
        self.conn
            .prepare_cached("INSERT INTO outbox_raw (outbox, raw) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute(params![id, mail.raw]))
            .map_err(ctx("queueing a mail"))?;
        self.record_team_lines(mail.report_id, mail.team_lines, at)?;
        Ok(id)
    }

    /// The mail we queued with `message_id` (without brackets).
    pub fn sent_by_message_id(&self, message_id: &str) -> Result<Option<SentMail>> {
        self.sent_where("o.message_id = ?1", message_id)
    }

    /// The mail whose return path holds `token` (lower-case hex).
    pub fn sent_by_return_token(&self, token: &str) -> Result<Option<SentMail>> {
        self.sent_where("o.return_token = ?1", token)
    }

    fn sent_where(&self, condition: &str, value: &str) -> Result<Option<SentMail>> {
        let what = "looking up a mail we sent";
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT o.id, o.report_id, o.kind, o.message_id, o.recipients, r.raw
                 FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
                 WHERE {condition}"
            ))
            .and_then(|mut stmt| {
                stmt.query_row([value], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, Vec<u8>>(5)?,
                    ))
                })
                .optional()
            })
            .map_err(ctx(what))?;
        let Some((id, report_id, kind, message_id, recipients, raw)) = row else {
            return Ok(None);
        };
        let recipients = serde_json::from_str(&recipients).map_err(|err| StoreError::Corrupt {
            what: "outbox recipients",
            detail: format!("row {id}: {err}"),
        })?;
        Ok(Some(SentMail {
            id,
            report_id: report_id.map(ReportId::from_stored),
            kind,
            message_id,
            recipients,
            raw,
        }))
    }

    /// Automatic replies queued for `rate_key` since `since`.
    pub fn auto_replies_since(&self, rate_key: &str, since: Timestamp) -> Result<u32> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM outbox WHERE rate_key = ?1 AND created_at > ?2")
            .and_then(|mut stmt| stmt.query_row(params![rate_key, ms(since)], |row| row.get(0)))
            .map_err(ctx("counting automatic replies"))
    }

    /// Queued mail whose next attempt is due at `now`, with ids above `after`, in
    /// id order (callers walk the queue by passing the last id they saw). Only
    /// a view: a sender takes rows with [`Tx::claim_due`].
    pub fn due_mail(&self, now: Timestamp, after: i64, limit: usize) -> Result<Vec<QueuedMail>> {
        self.queued_where(
            "o.status = 'queued' AND o.next_attempt_at <= ?1 AND o.id > ?2
             ORDER BY o.id LIMIT ?3",
            params![ms(now), after, limit as i64],
        )
    }

    /// Claims for `claimant` up to `limit` queued rows due at `now` with ids
    /// above `after` (in id order) that no one else holds, or whose holder's
    /// lease ended before `lease_now`, until `lease_until`; returns them. Call it
    /// in a write transaction: two senders never get the same row.
    pub fn claim_due(
        &self,
        claim: &Claim<'_>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<QueuedMail>> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET claimed_by = ?1, claimed_until = ?2
                 WHERE id IN (
                     SELECT id FROM outbox
                     WHERE status = 'queued' AND next_attempt_at <= ?3 AND id > ?4
                         AND (claimed_by IS NULL OR claimed_by = ?1 OR claimed_until < ?5)
                     ORDER BY id LIMIT ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    claim.claimant,
                    ms(claim.lease_until),
                    ms(claim.now),
                    after,
                    ms(claim.lease_now),
                    limit as i64,
                ])
            })
            .map_err(ctx("claiming due mail"))?;
        self.queued_where(
            "o.status = 'queued' AND o.claimed_by = ?1 AND o.next_attempt_at <= ?2 AND o.id > ?3
             ORDER BY o.id LIMIT ?4",
            params![claim.claimant, ms(claim.now), after, limit as i64],
        )
    }

    /// The processes that hold claims on queued rows.
    pub fn claimants(&self) -> Result<Vec<String>> {
        let what = "listing the senders holding mail";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT claimed_by FROM outbox
                 WHERE claimed_by IS NOT NULL AND status = 'queued'",
            )
            .map_err(ctx(what))?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(ctx(what))?;
        rows.collect::<rusqlite::Result<_>>().map_err(ctx(what))
    }

    /// Ends every claim `claimant` holds (it has exited); returns how many.
    pub fn release_claims(&self, claimant: &str) -> Result<usize> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?1",
            )
            .and_then(|mut stmt| stmt.execute([claimant]))
            .map_err(ctx("releasing the claims of an exited sender"))
    }

    /// Extends the lease on the queued rows `claimant` holds.
    pub fn renew_claims(&self, claimant: &str, until: Timestamp) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET claimed_until = ?2 WHERE claimed_by = ?1 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![claimant, ms(until)]))
            .map_err(ctx("renewing the claims on mail being sent"))?;
        Ok(())
    }

    fn queued_where(
        &self,
        condition: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<QueuedMail>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT o.id, o.message_id, o.envelope_from, o.recipients, r.raw, o.attempts,
                     o.created_at, o.report_id, o.kind
                 FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
                 WHERE {condition}"
            ))
            .map_err(ctx("reading due mail"))?;
        let rows = stmt
            .query_map(values, |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Vec<u8>>(4)?,
                    row.get::<_, u32>(5)?,
                    row.get::<_, i64>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get::<_, String>(8)?,
                ))
            })
            .map_err(ctx("reading due mail"))?;
        let mut due = Vec::new();
        for row in rows {
            let (
                id,
                message_id,
                envelope_from,
                recipients,
                raw,
                attempts,
                created,
                report_id,
                kind,
            ) = row.map_err(ctx("reading due mail"))?;
            let recipients =
                serde_json::from_str(&recipients).map_err(|err| StoreError::Corrupt {
                    what: "outbox recipients",
                    detail: format!("row {id}: {err}"),
                })?;
            due.push(QueuedMail {
                id,
                report_id,
                kind,
                message_id,
                envelope_from,
                recipients,
                raw,
                attempts,
                created_at: from_ms(created),
            });
        }
        Ok(due)
    }

    /// When the earliest queued mail is next due (it may be already), or `None`
    /// if nothing is queued. The same rows as [`Tx::due_mail`] reads.
    pub fn next_attempt_at(&self) -> Result<Option<Timestamp>> {
        self.conn
            .prepare_cached(
                "SELECT MIN(o.next_attempt_at)
                 FROM outbox o JOIN outbox_raw r ON r.outbox = o.id
                 WHERE o.status = 'queued'",
            )
            .and_then(|mut stmt| stmt.query_row([], |row| row.get::<_, Option<i64>>(0)))
            .map(|next| next.map(from_ms))
            .map_err(ctx("reading when mail is next due"))
    }

    /// Records a delivery. Only a queued row can become sent, so a row is never
    /// recorded as sent twice; returns whether this call did it.
    pub fn mark_sent(&self, id: i64, at: Timestamp) -> Result<bool> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                     last_error = NULL, claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, ms(at)]))
            .map(|n| n == 1)
            .map_err(ctx("recording a delivery"))
    }

    /// Records a delivery the transport accepted earlier while the store could
    /// not write: like [`Tx::mark_sent`], and only if row `id` is still the mail
    /// with `message_id`.
    pub fn mark_sent_earlier(&self, id: i64, message_id: &str, at: Timestamp) -> Result<bool> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?3, attempts = attempts + 1,
                     last_error = NULL, claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?1 AND message_id = ?2 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, message_id, ms(at)]))
            .map(|n| n == 1)
            .map_err(ctx(
                "recording a delivery made while the store could not write",
            ))
    }

    /// Records a failed attempt and when to try again.
    pub fn mark_retry(&self, id: i64, next: Timestamp, error: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3,
                     claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, ms(next), error]))
            .map_err(ctx("recording a failed delivery"))?;
        Ok(())
    }

    /// Gives up on a mail.
    pub fn mark_failed(&self, id: i64, error: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2,
                     claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, error]))
            .map_err(ctx("recording an undeliverable mail"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::{Claim, NewMail};
    use crate::store::Store;

    fn at(secs: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_secs(1_800_000_000 + secs)
    }

    fn claim(claimant: &str, now: i64) -> Claim<'_> {
        Claim {
            claimant,
            now: at(now),
            lease_now: at(now),
            lease_until: at(now + 900),
        }
    }

    fn queue(store: &mut Store, n: usize) {
        let recipients = vec!["r@x.net".to_owned()];
        store
            .write(|w| {
                for i in 0..n {
                    w.tx().enqueue(
                        &NewMail {
                            report_id: None,
                            kind: "acknowledgement",
                            message_id: &format!("disclosed.{i}@example.org"),
                            envelope_from: "security@example.org",
                            return_token: None,
                            recipients: &recipients,
                            rate_key: None,
                            raw: b"raw",
                            held: false,
                            team_lines: &[],
                        },
                        at(0),
                    )?;
                }
                Ok::<_, crate::store::StoreError>(())
            })
            .expect("enqueue");
    }

    fn take(store: &mut Store, c: &Claim<'_>) -> Vec<i64> {
        store
            .write(|w| w.tx().claim_due(c, 0, 100))
            .expect("claim")
            .iter()
            .map(|m| m.id)
            .collect()
    }

    #[test]
    fn a_claimed_row_goes_to_one_sender_until_its_result_or_its_lease_ends() {
        let mut store = Store::open_in_memory().expect("store");
        queue(&mut store, 3);
        let first = take(&mut store, &claim("a", 0));
        assert_eq!(first.len(), 3);
        assert!(take(&mut store, &claim("b", 1)).is_empty(), "all held by a");
        assert_eq!(take(&mut store, &claim("a", 1)), first, "a keeps its own");
        assert_eq!(store.read().claimants().expect("claimants"), ["a"]);

        // A result ends the claim: sent is never taken again, a retry waits
        // for its time and then goes to whoever claims it.
        store
            .write(|w| {
                let tx = w.tx();
                assert!(tx.mark_sent(first[0], at(2))?);
                tx.mark_retry(first[1], at(10), "later")
            })
            .expect("record");
        assert!(take(&mut store, &claim("b", 5)).is_empty());
        assert_eq!(take(&mut store, &claim("b", 10)), [first[1]]);

        // a's lease on the third ends after 900 s unless renewed.
        store
            .write(|w| w.tx().renew_claims("a", at(1000)))
            .expect("renew");
        assert_eq!(
            take(&mut store, &claim("b", 950)),
            [first[1]],
            "a renewed its claim; b has only its own"
        );
        assert_eq!(take(&mut store, &claim("b", 1001)), [first[1], first[2]]);

        // An exited sender's claims are released at once.
        assert_eq!(
            store
                .write(|w| w.tx().release_claims("b"))
                .expect("release"),
            2
        );
        assert_eq!(take(&mut store, &claim("c", 1002)), [first[1], first[2]]);
    }

    #[test]
    fn a_send_recorded_late_marks_only_the_row_with_its_message_id() {
        let mut store = Store::open_in_memory().expect("store");
        queue(&mut store, 2);
        let ids = take(&mut store, &claim("a", 0));
        store
            .write(|w| {
                let tx = w.tx();
                assert!(!tx.mark_sent_earlier(ids[0], "disclosed.1@example.org", at(1))?);
                assert!(tx.mark_sent_earlier(ids[0], "disclosed.0@example.org", at(1))?);
                assert!(!tx.mark_sent_earlier(ids[0], "disclosed.0@example.org", at(2))?);
                Ok::<_, crate::store::StoreError>(())
            })
            .expect("record");
        assert_eq!(take(&mut store, &claim("b", 3000)), [ids[1]]);
    }
}
