//! Reports, their participants and the append-only event log.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::{Result, StoreError, Tx, ctx, ms};
use crate::audit::{Actor, Auth, EventKind};
use crate::report::{ReportId, ReportState};

/// One entry for the audit log.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub report_id: Option<&'a ReportId>,
    pub at: Timestamp,
    /// Who: an address, or the daemon itself.
    pub actor: Actor<'a>,
    /// How the actor was authenticated.
    pub auth: Auth,
    pub kind: EventKind,
    pub detail: Value,
    pub message: Option<i64>,
}

/// Records the events one message (or one act of the daemon) causes: the
/// report, time, actor, authentication and message are fixed once, and each
/// event adds only its kind and detail.
#[derive(Debug, Clone, Copy)]
pub struct Recorder<'a> {
    pub report: Option<&'a ReportId>,
    pub at: Timestamp,
    pub actor: Actor<'a>,
    pub auth: Auth,
    pub message: Option<i64>,
}

impl<'a> Recorder<'a> {
    /// Appends one event.
    pub fn record(&self, tx: &Tx<'_>, kind: EventKind, detail: Value) -> Result<i64> {
        tx.append_event(&NewEvent {
            report_id: self.report,
            at: self.at,
            actor: self.actor,
            auth: self.auth,
            kind,
            detail,
            message: self.message,
        })
    }

    /// The same recorder for events about `report`.
    pub fn about<'b>(&self, report: Option<&'b ReportId>) -> Recorder<'b>
    where
        'a: 'b,
    {
        Recorder { report, ..*self }
    }

    /// The same recorder for the daemon's own doing.
    pub fn by_daemon(&self) -> Self {
        Recorder {
            actor: Actor::Daemon,
            auth: Auth::None,
            ..*self
        }
    }

    /// Moves `report` to `to` and records it as `state-changed`, with what
    /// changed and, when given, why.
    pub fn change_state(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        to: ReportState,
        change: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        tx.set_state(report, to, self.at)?;
        let mut detail = serde_json::json!({ "to": to.as_str(), "change": change });
        if let Some(reason) = reason {
            detail["reason"] = Value::from(reason);
        }
        self.about(Some(report))
            .record(tx, EventKind::StateChanged, detail)?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Allocates the next id of `year` and creates the report in state `new`.
    pub fn create_report(
        &self,
        prefix: &str,
        year: i16,
        reporter: &str,
        subject: &str,
        at: Timestamp,
    ) -> Result<ReportId> {
        let last: i64 = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM reports WHERE year = ?1")
            .and_then(|mut stmt| stmt.query_row([year], |row| row.get(0)))
            .map_err(ctx("allocating a report id"))?;
        let seq = u32::try_from(last + 1).map_err(|_| StoreError::Corrupt {
            what: "report sequence",
            detail: format!("sequence {last} of {year} is out of range"),
        })?;
        let id = ReportId::new(prefix, year, seq);
        self.conn
            .prepare_cached(
                "INSERT INTO reports (id, year, seq, state, reporter, subject, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'new', ?4, ?5, ?6, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![id.as_str(), year, seq, reporter, subject, ms(at)])
            })
            .map_err(ctx("creating a report"))?;
        Ok(id)
    }

    /// The state of a report, or `None` if there is no such report.
    pub fn report_state(&self, id: &ReportId) -> Result<Option<ReportState>> {
        let state: Option<String> = self
            .conn
            .prepare_cached("SELECT state FROM reports WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([id.as_str()], |row| row.get(0)).optional())
            .map_err(ctx("reading a report's state"))?;
        state
            .map(|s| {
                s.parse().map_err(|_| StoreError::Corrupt {
                    what: "report state",
                    detail: s,
                })
            })
            .transpose()
    }

    /// Marks the report as having seen activity at `at`.
    pub fn touch_report(&self, id: &ReportId, at: Timestamp) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE reports SET updated_at = MAX(updated_at, ?2) WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id.as_str(), ms(at)]))
            .map_err(ctx("updating a report's activity time"))?;
        Ok(())
    }

    /// The role of `address` in the report, if it takes part.
    pub fn participant_role(&self, id: &ReportId, address: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT role FROM participants WHERE report_id = ?1 AND address = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![id.as_str(), address], |row| row.get(0))
                    .optional()
            })
            .map_err(ctx("looking up a participant"))
    }

    /// Adds a participant, or notes that it was seen again.
    pub fn upsert_participant(
        &self,
        id: &ReportId,
        address: &str,
        name: Option<&str>,
        role: &str,
        at: Timestamp,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO participants (report_id, address, name, role, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (report_id, address) DO UPDATE SET
                     last_seen = MAX(last_seen, excluded.last_seen),
                     name = COALESCE(participants.name, excluded.name)",
            )
            .and_then(|mut stmt| stmt.execute(params![id.as_str(), address, name, role, ms(at)]))
            .map_err(ctx("recording a participant"))?;
        Ok(())
    }

    /// The reports `address` takes part in.
    pub fn reports_with_participant(&self, address: &str) -> Result<Vec<ReportId>> {
        self.conn
            .prepare_cached(
                "SELECT report_id FROM participants WHERE address = ?1 ORDER BY report_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([address], |row| row.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map(|ids| ids.into_iter().map(ReportId::from_stored).collect())
            .map_err(ctx("listing the reports of a participant"))
    }

    /// Appends to the audit log.
    pub fn append_event(&self, e: &NewEvent<'_>) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO events (report_id, at, actor, auth, kind, detail, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    e.report_id.map(ReportId::as_str),
                    ms(e.at),
                    e.actor.as_str(),
                    e.auth.as_str(),
                    e.kind.as_str(),
                    e.detail.to_string(),
                    e.message,
                ])
            })
            .map_err(ctx("appending to the event log"))?;
        Ok(self.conn.last_insert_rowid())
    }
}
