//! Applying a planned [`Change`] to its report: the store's update and the
//! event that records it, in the caller's transaction. [`super::plan`] decided
//! that every change of a mail may apply; this only writes them.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Change;
use crate::audit::{Actor, Auth, EventKind};
use crate::report::{Credit, ReportId, ReportState};
use crate::store::{Recorder, StoreError, Tx};

/// Who applies changes, for their events.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    /// The member's configured address.
    pub actor: &'a str,
    /// How the member was authenticated.
    pub auth: Auth,
    /// The stored mail that carried the commands.
    pub message: i64,
}

/// What an applied change asks of the caller beyond the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    None,
    /// Tell the reporter their report duplicates another (`#duplicate … reply`).
    DuplicateReply,
}

/// Applies one report-changing `change` to `report`; `all` is every change of
/// the same mail (a CVSS score rates the report only when no `#severity` came
/// with it). Query changes (`#list`, `#show`, `#digest`, `#stats`, `#help`)
/// change nothing here.
pub fn apply(
    tx: &Tx<'_>,
    report: &ReportId,
    change: &Change,
    all: &[Change],
    by: Author<'_>,
    now: Timestamp,
) -> Result<FollowUp, StoreError> {
    let rec = Recorder {
        report: Some(report),
        at: now,
        actor: Actor::Named(by.actor),
        auth: by.auth,
        message: Some(by.message),
    };
    let record = |report_id: &ReportId, kind: EventKind, detail: Value| {
        rec.about(Some(report_id))
            .record(tx, kind, detail)
            .map(|_| ())
    };
    let detail = || json!({ "change": change.describe() });
    match change {
        Change::State { to, .. } => {
            rec.change_state(tx, report, *to, &change.describe(), None)?;
        }
        Change::Severity(severity) => {
            tx.set_severity(report, Some(severity.as_str()))?;
            record(report, EventKind::SeveritySet, detail())?;
        }
        Change::Cvss(score) => {
            tx.set_cvss(report, &score.vector, score.score, score.severity.as_str())?;
            record(report, EventKind::CvssSet, detail())?;
            // The score rates the report unless the team set a severity.
            let explicit = all.iter().any(|c| matches!(c, Change::Severity(_)));
            if !explicit
                && tx
                    .report_record(report)?
                    .is_some_and(|r| r.severity.is_none())
            {
                tx.set_severity(report, Some(score.severity.as_str()))?;
                record(
                    report,
                    EventKind::SeveritySet,
                    json!({ "change": format!("severity: {} (from the CVSS score)", score.severity.as_str()) }),
                )?;
            }
        }
        Change::Assign(assignee) => {
            let email = assignee.as_ref().map(|a| a.email.to_string());
            tx.set_assignee(report, email.as_deref())?;
            record(report, EventKind::Assigned, detail())?;
        }
        Change::Duplicate { of, reply, .. } => {
            tx.set_duplicate_of(report, of)?;
            tx.set_state(report, ReportState::Duplicate, now)?;
            record(
                report,
                EventKind::MarkedDuplicate,
                json!({ "of": of.as_str(), "reply": reply }),
            )?;
            // The original knows its duplicates too.
            record(
                of,
                EventKind::DuplicateLinked,
                json!({ "duplicate": report.as_str() }),
            )?;
            if *reply {
                return Ok(FollowUp::DuplicateReply);
            }
        }
        Change::Cve(cve) => {
            tx.set_cve(report, cve)?;
            record(report, EventKind::CveSet, detail())?;
        }
        Change::Credit(credit) => {
            let credit = match credit {
                Some(c) => Credit::Named {
                    name: c.name.clone(),
                    url: c.url.clone(),
                },
                None => Credit::None,
            };
            tx.set_credit(report, &credit)?;
            record(report, EventKind::CreditRecorded, detail())?;
        }
        Change::FixedIn(version) => {
            tx.set_fixed_in(report, version)?;
            record(report, EventKind::FixedInSet, detail())?;
        }
        Change::Disclose(date) => {
            tx.set_disclose_on(report, *date)?;
            record(report, EventKind::DisclosureDateSet, detail())?;
        }
        Change::Extend { days, reason, .. } => {
            tx.add_fix_extension(report, *days)?;
            record(
                report,
                EventKind::FixExtended,
                json!({ "days": days, "reason": reason }),
            )?;
        }
        Change::Waiting => {
            tx.set_waiting(report, true)?;
            record(report, EventKind::WaitingStarted, detail())?;
        }
        // Composing mail is the team stage's.
        Change::ResendAck
        | Change::Notify(_)
        | Change::Help
        | Change::List(_)
        | Change::Show(_)
        | Change::Digest
        | Change::Stats
        | Change::HallOfFame
        | Change::Advisory(_) => {}
    }
    Ok(FollowUp::None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewMessage, Store};

    /// The member's command mail the events point to.
    fn command_mail(tx: &Tx<'_>) -> Result<i64, StoreError> {
        tx.insert_message(&NewMessage {
            sha256: "00",
            raw: Some(b"From: alice@example.org\r\n\r\n#state triaged\r\n"),
            size: 40,
            source: "test",
            location: "m1",
            message_id: None,
            in_reply_to: None,
            references: &[],
            from_addr: Some("alice@example.org"),
            from_name: None,
            to_addrs: &[],
            subject: "",
            date: None,
            kind: "team",
            report_id: None,
            threaded_by: crate::store::ThreadedBy::None,
            problems: &[],
            received_at: at(0),
        })
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + second).expect("time")
    }

    fn by(message: i64) -> Author<'static> {
        Author {
            actor: "alice@example.org",
            auth: Auth::OpenPgp,
            message,
        }
    }

    fn kinds(store: &Store, id: &ReportId) -> Vec<String> {
        let detail = store
            .read()
            .report_detail(id)
            .expect("read")
            .expect("report");
        detail.events.into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn a_cvss_score_rates_the_report_only_without_a_severity_in_the_same_mail() {
        let mut store = Store::open_in_memory().expect("store");
        let score = super::super::cvss::parse_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
            .expect("vector");
        let (a, b) = store
            .write(|w| {
                let tx = w.tx();
                let by = by(command_mail(&tx)?);
                let a = tx.create_report("SEC", 2026, "r@x", "one", at(0))?;
                let b = tx.create_report("SEC", 2026, "r@x", "two", at(0))?;
                let alone = [Change::Cvss(score.clone())];
                apply(&tx, &a, &alone[0], &alone, by, at(1))?;
                let both = [
                    Change::Cvss(score.clone()),
                    Change::Severity(super::super::Severity::Low),
                ];
                for change in &both {
                    apply(&tx, &b, change, &both, by, at(1))?;
                }
                Ok::<_, StoreError>((a, b))
            })
            .expect("write");
        let severity = |id: &ReportId| {
            store
                .read()
                .report_detail(id)
                .expect("read")
                .and_then(|d| d.team)
                .and_then(|t| t.severity)
        };
        assert_eq!(severity(&a), Some(crate::report::Severity::Critical));
        assert_eq!(severity(&b), Some(crate::report::Severity::Low));
        assert_eq!(kinds(&store, &a), ["cvss-set", "severity-set"]);
    }

    #[test]
    fn a_duplicate_is_linked_both_ways_and_asks_for_the_reply_only_when_told() {
        let mut store = Store::open_in_memory().expect("store");
        let (dup, original, follow_ups) = store
            .write(|w| {
                let tx = w.tx();
                let by = by(command_mail(&tx)?);
                let original = tx.create_report("SEC", 2026, "r@x", "one", at(0))?;
                let dup = tx.create_report("SEC", 2026, "s@x", "two", at(0))?;
                let mut follow_ups = Vec::new();
                for reply in [false, true] {
                    let change = Change::Duplicate {
                        of: original.clone(),
                        from: ReportState::New,
                        reply,
                    };
                    follow_ups.push(apply(&tx, &dup, &change, &[], by, at(1))?);
                }
                Ok::<_, StoreError>((dup, original, follow_ups))
            })
            .expect("write");
        assert_eq!(follow_ups, [FollowUp::None, FollowUp::DuplicateReply]);
        let d = store
            .read()
            .report_detail(&dup)
            .expect("read")
            .expect("report");
        assert_eq!(d.summary.state, ReportState::Duplicate);
        assert!(kinds(&store, &dup).contains(&"marked-duplicate".to_owned()));
        assert!(kinds(&store, &original).contains(&"duplicate-linked".to_owned()));
    }
}
