//! The report row: a report with what the team's commands and the triage rules
//! set on it, read whole as a [`ReportRecord`] and changed one field at a time.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError, Tx, ctx, from_ms};
use jiff::civil::Date;

use crate::report::{Affected, Credit, ReportId, ReportState, Severity};

/// One report with the team's facts about it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRecord {
    pub id: ReportId,
    pub state: ReportState,
    pub reporter: String,
    pub subject: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub severity: Option<Severity>,
    pub cvss_vector: Option<String>,
    pub cvss_score: Option<f64>,
    pub cvss_severity: Option<Severity>,
    pub assignee: Option<String>,
    pub duplicate_of: Option<ReportId>,
    pub cve: Option<String>,
    pub credit: Credit,
    pub fixed_in: Option<String>,
    /// The agreed disclosure day, program time (`YYYY-MM-DD` in JSON).
    pub disclose_on: Option<Date>,
    pub fix_extension_days: u32,
    /// `#waiting`: the SLA waits for the reporter.
    pub waiting: bool,
    pub tags: Vec<String>,
    /// `#affects`: the products and version ranges, in the order given.
    pub affects: Vec<Affected>,
    /// `#cwe`, e.g. `CWE-79`.
    pub cwe: Option<String>,
    /// `#summary`: the text written for publication.
    pub public_summary: Option<String>,
    /// Why the team accepted the risk (`#state risk-accepted because …`).
    pub risk_reason: Option<String>,
}

#[cfg(test)]
impl ReportRecord {
    /// Report `seq` of 2026 as it stands after its first mail, for unit tests.
    pub(crate) fn sample(seq: u32, created_at: Timestamp) -> Self {
        Self {
            id: ReportId::new("SEC", 2026, seq),
            state: ReportState::New,
            reporter: format!("r{seq}@x.example"),
            subject: format!("Issue {seq}"),
            created_at,
            updated_at: created_at,
            severity: None,
            cvss_vector: None,
            cvss_score: None,
            cvss_severity: None,
            assignee: None,
            duplicate_of: None,
            cve: None,
            credit: Credit::Unknown,
            fixed_in: None,
            disclose_on: None,
            fix_extension_days: 0,
            waiting: false,
            tags: vec![],
            affects: vec![],
            cwe: None,
            public_summary: None,
            risk_reason: None,
        }
    }
}

/// The columns of `reports` that [`record`] reads, in its order.
pub(super) const RECORD_COLUMNS: &str = "id, state, reporter, subject, created_at, updated_at,
    severity, cvss_vector, cvss_score, cvss_severity, assignee, duplicate_of, cve, credit,
    credit_name, credit_url, fixed_in, disclose_on, fix_extension_days, waiting, tags,
    affects, cwe, public_summary, risk_reason, credit_affiliation, credit_key";

/// The text columns of a row that [`finish`] checks and types.
pub(super) struct Stored {
    state: String,
    tags: String,
    severity: Option<String>,
    cvss_severity: Option<String>,
    disclose_on: Option<String>,
    affects: String,
}

/// A row of [`RECORD_COLUMNS`] (columns after them are left alone), with the
/// columns that need checking as stored; [`finish`] checks them.
pub(super) fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<(ReportRecord, Stored)> {
    let credit = match row.get::<_, String>(13)?.as_str() {
        "named" => Credit::Named {
            name: row.get::<_, Option<String>>(14)?.unwrap_or_default(),
            affiliation: row.get(25)?,
            url: row.get(15)?,
            key: row.get(26)?,
        },
        "none" => Credit::None,
        _ => Credit::Unknown,
    };
    let stored = Stored {
        state: row.get(1)?,
        tags: row.get(20)?,
        severity: row.get(6)?,
        cvss_severity: row.get(9)?,
        disclose_on: row.get(17)?,
        affects: row.get(21)?,
    };
    Ok((
        ReportRecord {
            id: ReportId::from_stored(row.get(0)?),
            state: ReportState::New,
            reporter: row.get(2)?,
            subject: row.get(3)?,
            created_at: from_ms(row.get(4)?),
            updated_at: from_ms(row.get(5)?),
            severity: None,
            cvss_vector: row.get(7)?,
            cvss_score: row.get(8)?,
            cvss_severity: None,
            assignee: row.get(10)?,
            duplicate_of: row.get::<_, Option<String>>(11)?.map(ReportId::from_stored),
            cve: row.get(12)?,
            credit,
            fixed_in: row.get(16)?,
            disclose_on: None,
            fix_extension_days: row.get(18)?,
            waiting: row.get::<_, i64>(19)? != 0,
            tags: Vec::new(),
            affects: Vec::new(),
            cwe: row.get(22)?,
            public_summary: row.get(23)?,
            risk_reason: row.get(24)?,
        },
        stored,
    ))
}

pub(super) fn finish((mut r, stored): (ReportRecord, Stored)) -> Result<ReportRecord> {
    r.state = stored.state.parse().map_err(|_| StoreError::Corrupt {
        what: "report state",
        detail: stored.state.clone(),
    })?;
    r.tags = serde_json::from_str(&stored.tags).map_err(|err| StoreError::Corrupt {
        what: "report tags",
        detail: err.to_string(),
    })?;
    r.affects = serde_json::from_str(&stored.affects).map_err(|err| StoreError::Corrupt {
        what: "affected products",
        detail: err.to_string(),
    })?;
    let severity = |text: Option<String>, what| {
        text.map(|t| Severity::parse(&t).ok_or(StoreError::Corrupt { what, detail: t }))
            .transpose()
    };
    r.severity = severity(stored.severity, "report severity")?;
    r.cvss_severity = severity(stored.cvss_severity, "report CVSS severity")?;
    r.disclose_on = stored
        .disclose_on
        .map(|d| {
            d.parse::<Date>().map_err(|err| StoreError::Corrupt {
                what: "disclosure date",
                detail: format!("{d}: {err}"),
            })
        })
        .transpose()?;
    Ok(r)
}

impl Tx<'_> {
    /// A report and the team's facts about it.
    pub fn report_record(&self, id: &ReportId) -> Result<Option<ReportRecord>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM reports WHERE id = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([id.as_str()], record).optional())
            .map_err(ctx("reading a report"))?
            .map(finish)
            .transpose()
    }

    /// Every report, oldest first, optionally only those in `state`.
    pub fn report_records(&self, state: Option<ReportState>) -> Result<Vec<ReportRecord>> {
        let what = "listing reports";
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM reports
                 WHERE (?1 IS NULL OR state = ?1) ORDER BY created_at, id"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([state.map(ReportState::as_str)], record)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(ctx(what))?;
        rows.into_iter().map(finish).collect()
    }

    fn update(
        &self,
        what: &'static str,
        sql: &str,
        id: &ReportId,
        value: &dyn rusqlite::ToSql,
    ) -> Result<()> {
        let changed = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params![id.as_str(), value]))
            .map_err(ctx(what))?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                what,
                detail: format!("no report {id}"),
            })
        }
    }

    pub fn set_state(&self, id: &ReportId, state: ReportState, at: Timestamp) -> Result<()> {
        self.update(
            "changing a report's state",
            "UPDATE reports SET state = ?2 WHERE id = ?1",
            id,
            &state.as_str(),
        )?;
        self.touch_report(id, at)
    }

    pub fn set_severity(&self, id: &ReportId, severity: Option<&str>) -> Result<()> {
        self.update(
            "setting a report's severity",
            "UPDATE reports SET severity = ?2 WHERE id = ?1",
            id,
            &severity,
        )
    }

    pub fn set_cvss(&self, id: &ReportId, vector: &str, score: f64, severity: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE reports SET cvss_vector = ?2, cvss_score = ?3, cvss_severity = ?4 WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute(params![id.as_str(), vector, score, severity]))
            .map_err(ctx("setting a report's CVSS score"))?;
        Ok(())
    }

    pub fn set_assignee(&self, id: &ReportId, assignee: Option<&str>) -> Result<()> {
        self.update(
            "assigning a report",
            "UPDATE reports SET assignee = ?2 WHERE id = ?1",
            id,
            &assignee,
        )
    }

    pub fn set_duplicate_of(&self, id: &ReportId, of: &ReportId) -> Result<()> {
        self.update(
            "marking a report as a duplicate",
            "UPDATE reports SET duplicate_of = ?2 WHERE id = ?1",
            id,
            &of.as_str(),
        )
    }

    pub fn set_cve(&self, id: &ReportId, cve: &str) -> Result<()> {
        self.update(
            "setting a report's CVE",
            "UPDATE reports SET cve = ?2 WHERE id = ?1",
            id,
            &cve,
        )
    }

    /// Records how the reporter is credited. The credit's `key` is not
    /// written: it is the team's, set only by [`Self::set_credit_key`].
    pub fn set_credit(&self, id: &ReportId, credit: &Credit) -> Result<()> {
        let (kind, name, affiliation, url) = match credit {
            Credit::Unknown => ("unknown", None, None, None),
            Credit::Named {
                name,
                affiliation,
                url,
                ..
            } => (
                "named",
                Some(name.as_str()),
                affiliation.as_deref(),
                url.as_deref(),
            ),
            Credit::None => ("none", None, None, None),
        };
        self.conn
            .prepare_cached(
                "UPDATE reports SET credit = ?2, credit_name = ?3, credit_url = ?4,
                     credit_affiliation = ?5 WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute(params![id.as_str(), kind, name, url, affiliation]))
            .map_err(ctx("recording how a reporter is credited"))?;
        Ok(())
    }

    /// The stable name the reporter's credits merge by; `None` derives it
    /// from the credit name again.
    pub fn set_credit_key(&self, id: &ReportId, key: Option<&str>) -> Result<()> {
        self.update(
            "setting a report's credit key",
            "UPDATE reports SET credit_key = ?2 WHERE id = ?1",
            id,
            &key,
        )
    }

    /// Replaces the products and version ranges the report affects.
    pub fn set_affects(&self, id: &ReportId, affects: &[Affected]) -> Result<()> {
        let json = serde_json::to_string(affects).map_err(|err| StoreError::Corrupt {
            what: "affected products",
            detail: err.to_string(),
        })?;
        self.update(
            "setting a report's affected products",
            "UPDATE reports SET affects = ?2 WHERE id = ?1",
            id,
            &json,
        )
    }

    pub fn set_cwe(&self, id: &ReportId, cwe: Option<&str>) -> Result<()> {
        self.update(
            "setting a report's CWE",
            "UPDATE reports SET cwe = ?2 WHERE id = ?1",
            id,
            &cwe,
        )
    }

    pub fn set_public_summary(&self, id: &ReportId, summary: Option<&str>) -> Result<()> {
        self.update(
            "setting a report's public summary",
            "UPDATE reports SET public_summary = ?2 WHERE id = ?1",
            id,
            &summary,
        )
    }

    pub fn set_risk_reason(&self, id: &ReportId, reason: Option<&str>) -> Result<()> {
        self.update(
            "recording why a report's risk was accepted",
            "UPDATE reports SET risk_reason = ?2 WHERE id = ?1",
            id,
            &reason,
        )
    }

    /// Whether the reporter's latest `Credit:` answer was `none`: then the
    /// team may not credit them, whatever it recorded since. The reporter's
    /// answers are the unauthenticated `credit-recorded` events that carry
    /// the credit itself; a member's carry only the change they made.
    pub fn reporter_declined_credit(&self, id: &ReportId) -> Result<bool> {
        let last: Option<Option<String>> = self
            .conn
            .prepare_cached(
                "SELECT json_extract(detail, '$.credit') FROM events
                 WHERE report_id = ?1 AND kind = 'credit-recorded' AND auth = 'none'
                   AND json_extract(detail, '$.credit') IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut stmt| stmt.query_row([id.as_str()], |row| row.get(0)).optional())
            .map_err(ctx("reading the reporter's credit answer"))?;
        Ok(last.flatten().as_deref() == Some("none"))
    }

    pub fn set_fixed_in(&self, id: &ReportId, version: &str) -> Result<()> {
        self.update(
            "setting a report's fixed version",
            "UPDATE reports SET fixed_in = ?2 WHERE id = ?1",
            id,
            &version,
        )
    }

    pub fn set_disclose_on(&self, id: &ReportId, date: jiff::civil::Date) -> Result<()> {
        self.update(
            "setting a report's disclosure date",
            "UPDATE reports SET disclose_on = ?2 WHERE id = ?1",
            id,
            &date.to_string(),
        )
    }

    pub fn add_fix_extension(&self, id: &ReportId, days: u32) -> Result<()> {
        self.update(
            "extending a report's fix deadline",
            "UPDATE reports SET fix_extension_days = fix_extension_days + ?2 WHERE id = ?1",
            id,
            &days,
        )
    }

    pub fn set_waiting(&self, id: &ReportId, waiting: bool) -> Result<()> {
        self.update(
            "pausing or resuming a report's clock",
            "UPDATE reports SET waiting = ?2 WHERE id = ?1",
            id,
            &i64::from(waiting),
        )
    }

    /// Adds `tags` to the report's, keeping each once.
    pub fn add_tags(&self, id: &ReportId, tags: &[String]) -> Result<()> {
        let Some(record) = self.report_record(id)? else {
            return Err(StoreError::Corrupt {
                what: "tagging a report",
                detail: format!("no report {id}"),
            });
        };
        let mut all = record.tags;
        for tag in tags {
            if !all.contains(tag) {
                all.push(tag.clone());
            }
        }
        let json = serde_json::to_string(&all).map_err(|err| StoreError::Corrupt {
            what: "report tags",
            detail: err.to_string(),
        })?;
        self.update(
            "tagging a report",
            "UPDATE reports SET tags = ?2 WHERE id = ?1",
            id,
            &json,
        )
    }
}
