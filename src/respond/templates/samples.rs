//! Sample data for every built-in template, to render a replacement against
//! when it is loaded: a misspelt variable fails `check`, not a reply.

use serde::Serialize;

use super::*;

/// Sample data for template `name`, as complete as real data can be (every
/// option set, every list filled) and as empty as it can be, so strict mode
/// finds a misspelt variable on either side of an `{{#if}}`. `None` for a name
/// that is not a template.
pub(super) fn samples(name: &str) -> Option<[serde_json::Value; 2]> {
    use crate::respond::leak::ShownLine;
    fn pair(full: &impl Serialize, empty: &impl Serialize) -> [serde_json::Value; 2] {
        [
            serde_json::to_value(full).unwrap_or_default(),
            serde_json::to_value(empty).unwrap_or_default(),
        ]
    }
    const ID: &str = "SEC-2026-0042";
    const REPLY: &str = "security+SEC-2026-0042@example.org";
    const PROGRAM: &str = "Example";
    const POLICY: &str = "https://example.org/security";
    let lines = |n: usize| vec!["a line".to_owned(); n];
    let shown = [ShownLine {
        text: "Report SEC-2026-0001".into(),
        cut: true,
        other_report: true,
    }];
    Some(match name {
        "acknowledgement" => {
            let ack = |reporter_name| AckData {
                report_id: ID,
                subject: "XSS in search",
                program_name: PROGRAM,
                program_address: "security@example.org",
                policy_url: POLICY,
                response_time: "5 business days".into(),
                reply_address: REPLY,
                reporter_name,
            };
            pair(&ack(Some("Rita")), &ack(None))
        }
        "delivery-failed" => {
            let d = |report_id| DeliveryFailedData {
                program_name: PROGRAM,
                report_id,
                kind: "acknowledgement",
                recipients: "rita@researcher.example".into(),
                message_id: "m@example.org",
                queued_at: "2026-12-04 10:00".into(),
                attempts: 3,
                reason: "550 no such user",
            };
            pair(&d(Some(ID)), &d(None))
        }
        "delivery-problem" => {
            let d = |report_id, n| DeliveryProblemData {
                report_id,
                kind: "acknowledgement",
                message_id: "m@example.org",
                recipients: "rita@researcher.example".into(),
                statuses: vec![lines(n); n],
            };
            pair(&d(Some(ID), 2), &d(None, 0))
        }
        "flood-summary" => {
            let d = |sender| FloodSummaryData {
                headline: "Flood",
                sender,
                limit: 5,
                window: "1h".into(),
            };
            pair(&d(Some("rita@researcher.example")), &d(None))
        }
        "team-metadata" => {
            let d = |report_id, state, n| MetadataNoticeData {
                headline: "New report: SEC-2026-0042",
                report_id,
                state,
                deadlines: lines(n),
                results: Vec::new(),
            };
            pair(&d(Some(ID), Some("new"), 2), &d(None, None, 0))
        }
        "acknowledgement-undecryptable" => {
            let d = UndecryptableData {
                report_id: ID,
                program_name: PROGRAM,
                policy_url: POLICY,
                reply_address: REPLY,
                reason: "it was encrypted to a key we do not have",
                key_fingerprint: "ABCD 1234".into(),
                key_url: "https://example.org/key.asc",
            };
            pair(&d, &d)
        }
        "key-changed" => {
            let d = |report_id| KeyChangedData {
                address: "rita@researcher.example",
                report_id,
                current: "ABCD",
                new: "EF01",
                source: "autocrypt",
            };
            pair(&d(Some(ID)), &d(None))
        }
        "key-confirmation" => {
            let d = |report_id| KeyConfirmationData {
                program_name: PROGRAM,
                address: "rita@researcher.example",
                fingerprint: "ABCD 1234".into(),
                token: "confirm-key abc",
                expires: "2026-12-11 10:00".into(),
                report_id,
            };
            pair(&d(Some(ID)), &d(None))
        }
        "notification" => {
            let d = |n: usize, text, flag: bool| NotificationData {
                headline: "New report".into(),
                report_id: ID,
                state: "new",
                reporter: "Rita <rita@researcher.example>".into(),
                subject: "XSS in search",
                encryption: "encrypted".into(),
                signature: "signed".into(),
                attachments: lines(n),
                problems: lines(n),
                deadlines: lines(n),
                reply_address: REPLY,
                internal_address: "security+SEC-2026-0042-internal@example.org",
                help: "#state triaged",
                text,
                withheld: flag,
                ack_failed: flag,
            };
            pair(&d(2, Some("Details"), true), &d(0, None, false))
        }
        "relay-copy" | "internal-note" => {
            let d = |protection| TeamCopyData {
                author: "Alice <alice@example.org>".into(),
                report_id: ID,
                reporter: "rita@researcher.example",
                text: "Thanks",
                reply_address: REPLY,
                internal_address: "security+SEC-2026-0042-internal@example.org",
                protection,
            };
            pair(&d(Some("encrypted")), &d(None))
        }
        "command-reply" => {
            let refused = |n| {
                vec![
                    RefusedLine {
                        line: "#state nope".into(),
                        reason: "no such state".into(),
                    };
                    n
                ]
            };
            let d = |n, output: Option<String>, help| CommandReplyData {
                target: ID,
                applied: lines(n),
                refused: refused(n),
                output,
                help,
            };
            pair(
                &d(2, Some("output".into()), Some("#help")),
                &d(0, None, None),
            )
        }
        "refusal" => {
            let d = |dkim| RefusalData {
                program_name: PROGRAM,
                member: "alice@example.org",
                reason: "no valid signature",
                to: REPLY.into(),
                message_id: "m@example.org",
                date: "2026-12-04 10:00".into(),
                dkim,
            };
            pair(&d(true), &d(false))
        }
        "route-unproven" => {
            let d = RouteUnprovenData {
                program_name: PROGRAM,
                member: "alice@example.org",
                report_id: ID,
                reply_address: REPLY,
                message_id: "m@example.org",
                directive: "#reply",
            };
            pair(&d, &d)
        }
        "relay-refused" => {
            let d = |lines, more| RelayRefusedData {
                report_id: ID,
                count: 2,
                lines,
                more,
                reply_address: REPLY,
            };
            pair(&d(&shown, 1), &d(&[], 0))
        }
        "duplicate" | "out-of-scope" => {
            let d = |reporter_name, rule| ReporterReplyData {
                report_id: ID,
                subject: "XSS in search",
                program_name: PROGRAM,
                policy_url: POLICY,
                reply_address: REPLY,
                reporter_name,
                rule,
            };
            pair(&d(Some("Rita"), Some("dmarc")), &d(None, None))
        }
        "reporter-triaged"
        | "reporter-accepted"
        | "reporter-fixed"
        | "reporter-risk-accepted"
        | "reporter-disclosed" => {
            use crate::respond::progress::ProgressData;
            let full = ProgressData {
                report_id: ID,
                subject: "XSS in search",
                program_name: PROGRAM,
                policy_url: POLICY,
                reply_address: REPLY,
                reporter_name: Some("Rita"),
                fix_target: Some("2027-03-04".into()),
                fixed_in: Some("3.1.1"),
                disclosure_date: Some("2027-04-03".into()),
                reason: Some("only an administrator can reach it"),
                advisory_url: Some("https://example.org/advisories/SEC-2026-0042.html"),
                credit: Some("Rita Researcher (https://rita.example)".into()),
            };
            let empty = ProgressData {
                reporter_name: None,
                fix_target: None,
                fixed_in: None,
                disclosure_date: None,
                reason: None,
                advisory_url: None,
                credit: None,
                ..full.clone()
            };
            pair(&full, &empty)
        }
        _ => return None,
    })
}

/// The variables sample data offers a template, for an error message.
pub(super) fn variables(sample: &serde_json::Value) -> String {
    match sample {
        serde_json::Value::Object(map) => map
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}
