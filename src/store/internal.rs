//! What the team was sent, as fingerprints of lines (never text), for the check
//! that a relay carries nothing internal (`respond::leak`): the lines of every
//! mail to a member, per report, and the lines each member relayed that were
//! new then. Also the earlier mail of one sender in a report, which that check
//! reads back.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::Timestamp;
use rusqlite::params;

use super::{Result, Tx, ctx, ms};
use crate::report::ReportId;

/// A 16-byte prefix of the SHA-256 of a folded line.
pub type LineFingerprint = [u8; 16];

impl Tx<'_> {
    /// Records that mail to the team about `report` (`None`: about no single
    /// report, such as an answer to the control address or a digest) carried
    /// lines with `fingerprints`. Each is kept once per report.
    pub fn record_team_lines(
        &self,
        report: Option<&ReportId>,
        fingerprints: &[LineFingerprint],
        at: Timestamp,
    ) -> Result<()> {
        self.insert_fingerprints(
            "INSERT OR IGNORE INTO team_lines (fingerprint, report_id, first_seen)
             VALUES (?1, ?2, ?3)",
            report.map_or("", ReportId::as_str),
            fingerprints,
            at,
            "recording the lines of team mail",
        )
    }

    /// Runs `sql` (an insert of fingerprint, `key`, time) once per fingerprint.
    fn insert_fingerprints(
        &self,
        sql: &str,
        key: &str,
        fingerprints: &[LineFingerprint],
        at: Timestamp,
        what: &'static str,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(ctx(what))?;
        for fingerprint in fingerprints {
            stmt.execute(params![&fingerprint[..], key, ms(at)])
                .map_err(ctx(what))?;
        }
        Ok(())
    }

    /// For each of `fingerprints` that mail to the team carried: the reports
    /// that mail was about (`""` for mail about no single report).
    pub fn team_line_reports(
        &self,
        fingerprints: &[LineFingerprint],
    ) -> Result<HashMap<LineFingerprint, BTreeSet<String>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT report_id FROM team_lines WHERE fingerprint = ?1")
            .map_err(ctx("looking up the lines of team mail"))?;
        let mut found: HashMap<LineFingerprint, BTreeSet<String>> = HashMap::new();
        for fingerprint in fingerprints {
            let reports = stmt
                .query_map([&fingerprint[..]], |row| row.get::<_, String>(0))
                .and_then(Iterator::collect::<rusqlite::Result<BTreeSet<String>>>)
                .map_err(ctx("looking up the lines of team mail"))?;
            if !reports.is_empty() {
                found.insert(*fingerprint, reports);
            }
        }
        Ok(found)
    }

    /// Records that `author` relayed lines with `fingerprints` to a reporter
    /// when no mail to the team had carried them: the member's own words.
    pub fn record_relayed_lines(
        &self,
        author: &str,
        fingerprints: &[LineFingerprint],
        at: Timestamp,
    ) -> Result<()> {
        self.insert_fingerprints(
            "INSERT OR IGNORE INTO relayed_lines (fingerprint, author, first_seen)
             VALUES (?1, ?2, ?3)",
            author,
            fingerprints,
            at,
            "recording relayed lines",
        )
    }

    /// Which of `fingerprints` `author` relayed before as their own words.
    pub fn relayed_by(
        &self,
        author: &str,
        fingerprints: &[LineFingerprint],
    ) -> Result<HashSet<LineFingerprint>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM relayed_lines WHERE fingerprint = ?1 AND author = ?2")
            .map_err(ctx("looking up relayed lines"))?;
        let mut found = HashSet::new();
        for fingerprint in fingerprints {
            let known = stmt
                .exists(params![&fingerprint[..], author])
                .map_err(ctx("looking up relayed lines"))?;
            if known {
                found.insert(*fingerprint);
            }
        }
        Ok(found)
    }

    /// The readable bytes (the decrypted entity where there is one, else the
    /// raw message) of the latest `limit` messages from `address` in `report`,
    /// other than `except`, newest first.
    pub fn readable_messages_from(
        &self,
        report: &ReportId,
        address: &str,
        except: i64,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(d.data, r.data)
                 FROM messages m
                 LEFT JOIN decrypted_messages d ON d.message = m.id
                 LEFT JOIN raw_messages r ON r.message = m.id
                 WHERE m.report_id = ?1 AND lower(m.from_addr) = lower(?2) AND m.id != ?3
                     AND (d.data IS NOT NULL OR r.data IS NOT NULL)
                 ORDER BY m.id DESC LIMIT ?4",
            )
            .map_err(ctx("reading a sender's messages"))?;
        stmt.query_map(
            params![report.as_str(), address, except, limit as i64],
            |row| row.get::<_, Vec<u8>>(0),
        )
        .and_then(Iterator::collect)
        .map_err(ctx("reading a sender's messages"))
    }
}
