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
        Change::State { to, reason, .. } => {
            if *to == ReportState::RiskAccepted {
                tx.set_risk_reason(report, reason.as_deref())?;
            }
            rec.change_state(tx, report, *to, &change.describe(), reason.as_deref())?;
        }
        Change::CreditKey(key) => {
            tx.set_credit_key(report, key.as_deref())?;
            record(report, EventKind::CreditRecorded, detail())?;
        }
        Change::Affects { all, .. } => {
            tx.set_affects(report, all)?;
            record(report, EventKind::AffectsSet, detail())?;
        }
        Change::Cwe(cwe) => {
            tx.set_cwe(report, cwe.as_deref())?;
            record(report, EventKind::CweSet, detail())?;
        }
        Change::Summary(text) => {
            tx.set_public_summary(report, text.as_deref())?;
            // The log says that it changed; the text itself is in the report.
            record(
                report,
                EventKind::SummarySet,
                json!({ "change": if text.is_some() { "public summary set" } else { "public summary cleared" } }),
            )?;
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
                    affiliation: c.affiliation.clone(),
                    url: c.url.clone(),
                    key: None,
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
        | Change::Attach(_)
        | Change::Notify(_)
        | Change::Help
        | Change::List(_)
        | Change::Show(_)
        | Change::Digest
        | Change::Stats
        | Change::HallOfFame
        | Change::Outbox
        | Change::Advisory(_)
        | Change::Search(_) => {}
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

#[cfg(test)]
mod closing_tests {
    use super::*;
    use crate::command::{Affects, Credit as CommandCredit};
    use crate::report::Affected;
    use crate::store::{NewMessage, Store};

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + second).expect("time")
    }

    fn mail(tx: &Tx<'_>) -> Result<i64, StoreError> {
        tx.insert_message(&NewMessage {
            sha256: "01",
            raw: Some(b"x"),
            size: 1,
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

    #[test]
    fn the_closing_commands_are_stored_on_the_report() {
        let mut store = Store::open_in_memory().expect("store");
        let record = store
            .write(|w| {
                let tx = w.tx();
                let by = Author {
                    actor: "alice@example.org",
                    auth: Auth::OpenPgp,
                    message: mail(&tx)?,
                };
                let id = tx.create_report("SEC", 2026, "r@x", "one", at(0))?;
                tx.set_state(&id, ReportState::Accepted, at(0))?;
                let server = Affected {
                    product: "server".into(),
                    versions: "< 9.5.3".into(),
                };
                let changes = [
                    Change::State {
                        from: ReportState::Accepted,
                        to: ReportState::RiskAccepted,
                        reason: Some("removed in 10.0".into()),
                    },
                    Change::Affects {
                        line: Affects::Add(server.clone()),
                        all: vec![server],
                    },
                    Change::Cwe(Some("CWE-79".into())),
                    Change::Summary(Some("Stored XSS.".into())),
                    Change::Credit(Some(CommandCredit {
                        name: "Yoni Ramon".into(),
                        affiliation: Some("Tesla security team".into()),
                        url: None,
                    })),
                    Change::CreditKey(Some("yoni".into())),
                ];
                for change in &changes {
                    apply(&tx, &id, change, &changes, by, at(1))?;
                }
                tx.report_record(&id)
            })
            .expect("write")
            .expect("report");
        assert_eq!(record.state, ReportState::RiskAccepted);
        assert_eq!(record.risk_reason.as_deref(), Some("removed in 10.0"));
        assert_eq!(record.affects.len(), 1);
        assert_eq!(record.affects[0].versions, "< 9.5.3");
        assert_eq!(record.cwe.as_deref(), Some("CWE-79"));
        assert_eq!(record.public_summary.as_deref(), Some("Stored XSS."));
        assert_eq!(
            record.credit,
            Credit::Named {
                name: "Yoni Ramon".into(),
                affiliation: Some("Tesla security team".into()),
                url: None,
                key: Some("yoni".into()),
            }
        );
    }

    #[test]
    fn the_reporters_latest_credit_answer_decides_consent() {
        let mut store = Store::open_in_memory().expect("store");
        let answers = store
            .write(|w| {
                let tx = w.tx();
                let id = tx.create_report("SEC", 2026, "r@x", "one", at(0))?;
                let reporter = Recorder {
                    report: Some(&id),
                    at: at(1),
                    actor: Actor::Named("r@x"),
                    auth: Auth::None,
                    message: None,
                };
                let mut answers = vec![tx.reporter_declined_credit(&id)?];
                reporter.record(&tx, EventKind::CreditRecorded, json!(Credit::None))?;
                answers.push(tx.reporter_declined_credit(&id)?);
                // The team's own `#credit none` or `#credit …` is not the reporter's answer.
                let team = Recorder {
                    actor: Actor::Named("alice@example.org"),
                    auth: Auth::OpenPgp,
                    ..reporter
                };
                team.record(
                    &tx,
                    EventKind::CreditRecorded,
                    json!({ "change": "credit: Jane" }),
                )?;
                answers.push(tx.reporter_declined_credit(&id)?);
                let named = Credit::Named {
                    name: "Jane".into(),
                    affiliation: None,
                    url: None,
                    key: None,
                };
                reporter.record(&tx, EventKind::CreditRecorded, json!(named))?;
                answers.push(tx.reporter_declined_credit(&id)?);
                Ok::<_, StoreError>(answers)
            })
            .expect("write");
        assert_eq!(answers, [false, true, true, false]);
    }
}
