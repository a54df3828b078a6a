//! What `disclosed import` keeps beside the messages: each run's settings
//! (the date before which nothing is answered, read by the live daemon too)
//! and the deadlines that were already past when their report was imported.

use jiff::Timestamp;
use rusqlite::params;

use super::{Result, Tx, ctx, from_ms, ms};
use crate::report::{ReportId, ReportState};

/// A deadline that was past due when its report was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalBreach {
    pub report_id: ReportId,
    /// The deadline's kind, e.g. `acknowledge`.
    pub deadline: String,
    pub due: Timestamp,
}

impl Tx<'_> {
    /// Records that an import of `source` started at `at`.
    pub fn record_import_run(
        &self,
        source: &str,
        state: ReportState,
        no_answer_before: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_runs (started_at, source, state, no_answer_before)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    ms(at),
                    source,
                    state.as_str(),
                    no_answer_before.map(ms)
                ])
            })
            .map_err(ctx("recording an import"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The latest date before which no mail is answered, of every import.
    pub fn no_answer_before(&self) -> Result<Option<Timestamp>> {
        self.conn
            .prepare_cached("SELECT MAX(no_answer_before) FROM import_runs")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get::<_, Option<i64>>(0)))
            .map(|v| v.map(from_ms))
            .map_err(ctx("reading the no-answer date"))
    }

    /// Whether a message with this Message-ID, sender and `Date:` is stored:
    /// the same mail exported again with other bytes (a mail client's status
    /// headers, other line ends). All three must match, so a stranger who
    /// cannot know a message's id and date cannot keep it out.
    pub fn same_message_stored(
        &self,
        message_id: &str,
        from: &str,
        date: Timestamp,
    ) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM messages
                 WHERE message_id = ?1 AND from_addr = ?2 AND date = ?3)",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![message_id, from, ms(date)], |row| row.get(0))
            })
            .map_err(ctx("looking up an imported message"))
    }

    /// Records that `report`'s `deadline` due at `due` was past when it was
    /// imported; false if it was recorded before.
    pub fn record_historical_breach(
        &self,
        report: &ReportId,
        deadline: &str,
        due: Timestamp,
        at: Timestamp,
    ) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO historical_breaches (report_id, deadline, due, recorded_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| stmt.execute(params![report.as_str(), deadline, ms(due), ms(at)]))
            .map_err(ctx("recording a deadline breached before import"))?;
        Ok(changed == 1)
    }

    /// The deadlines breached before import, of one report or all.
    pub fn historical_breaches(&self, report: Option<&ReportId>) -> Result<Vec<HistoricalBreach>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT report_id, deadline, due FROM historical_breaches
                 WHERE ?1 IS NULL OR report_id = ?1 ORDER BY report_id, due",
            )
            .map_err(ctx("reading deadlines breached before import"))?;
        let rows = stmt
            .query_map(params![report.map(ReportId::as_str)], |row| {
                Ok(HistoricalBreach {
                    report_id: ReportId::from_stored(row.get(0)?),
                    deadline: row.get(1)?,
                    due: from_ms(row.get(2)?),
                })
            })
            .map_err(ctx("reading deadlines breached before import"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(ctx("reading deadlines breached before import"))
    }
}
