//! What the SLA engine reads (the events its clocks run on) and writes (the
//! notices it sent, each once).

use jiff::Timestamp;
use rusqlite::params;

use super::{Result, StoreError, Tx, ctx, from_ms, ms};
use crate::audit::EventKind;
use crate::report::ReportId;

/// One event of a report's clock history.
#[derive(Debug, Clone)]
pub struct SlaEvent {
    pub report_id: ReportId,
    pub at: Timestamp,
    /// One of [`EventKind::CLOCK`].
    pub kind: EventKind,
    pub detail: serde_json::Value,
}

/// What a notice was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Reminder,
    Escalation,
    Digest,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Escalation => "escalation",
            Self::Digest => "digest",
        }
    }
}

impl Tx<'_> {
    /// The clock events of one report, or of all reports, oldest first.
    pub fn sla_events(&self, report: Option<&ReportId>) -> Result<Vec<SlaEvent>> {
        // The clock kinds as SQL literals: names of our own enum, never input.
        let clock_events = EventKind::CLOCK
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        // One report's events are found through its index; `?1 IS NULL OR`
        // would make SQLite read every report's clock events each time.
        let which = match report {
            Some(_) => "report_id = ?1",
            None => "report_id IS NOT NULL AND ?1 IS NULL",
        };
        let sql = format!(
            "SELECT report_id, at, kind, detail FROM events
             WHERE kind IN ({clock_events}) AND {which}
             ORDER BY report_id, at, id"
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(ctx("read clock events"))?;
        let rows = stmt
            .query_map(params![report.map(ReportId::as_str)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .map_err(ctx("read clock events"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, kind, detail) = row.map_err(ctx("read clock events"))?;
            let Some(kind) = EventKind::parse(&kind) else {
                continue;
            };
            let detail = serde_json::from_str(&detail).map_err(|err| StoreError::Corrupt {
                what: "event detail",
                detail: err.to_string(),
            })?;
            out.push(SlaEvent {
                report_id: ReportId::from_stored(id),
                at: from_ms(at),
                kind,
                detail,
            });
        }
        Ok(out)
    }

    /// Whether a notice about `deadline` due at `due` was recorded already.
    pub fn notice_recorded(
        &self,
        report: Option<&ReportId>,
        deadline: &str,
        due: Timestamp,
        kind: NoticeKind,
    ) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM sla_notices
                 WHERE report_id = ?1 AND deadline = ?2 AND due = ?3 AND kind = ?4)",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![
                        report.map_or("", ReportId::as_str),
                        deadline,
                        ms(due),
                        kind.as_str()
                    ],
                    |row| row.get(0),
                )
            })
            .map_err(ctx("looking up an SLA notice"))
    }

    /// Records that a notice about `deadline` due at `due` went out; false if
    /// it already had (then nothing is to be sent).
    pub fn record_notice(
        &self,
        report: Option<&ReportId>,
        deadline: &str,
        due: Timestamp,
        kind: NoticeKind,
        at: Timestamp,
    ) -> Result<bool> {
        let changed = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO sla_notices (report_id, deadline, due, kind, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    report.map_or("", ReportId::as_str),
                    deadline,
                    ms(due),
                    kind.as_str(),
                    ms(at)
                ],
            )
            .map_err(ctx("record an SLA notice"))?;
        Ok(changed == 1)
    }
}
