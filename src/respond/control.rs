//! The answers to the control address's queries `#list` and `#show` as plain
//! text for a mail (`#digest` and `#stats` are the SLA engine's).

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::report::{Credit, ReportState, Severity};
use crate::store::ReportRecord;

fn day(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d")
        .to_string()
}

/// One line per report: id, state, reporter, subject. Without a state, the
/// open reports.
pub fn list(records: &[ReportRecord], state: Option<ReportState>, tz: &TimeZone) -> String {
    let shown: Vec<&ReportRecord> = records
        .iter()
        .filter(|r| state.map_or(r.state.is_open(), |s| r.state == s))
        .collect();
    let mut out = match state {
        Some(s) => format!("Reports in state {s}: {}\n\n", shown.len()),
        None => format!("Open reports: {}\n\n", shown.len()),
    };
    for r in shown {
        let _ = writeln!(
            out,
            "{}  {:<12}  {}  {}  {}",
            r.id,
            r.state.as_str(),
            day(r.created_at, tz),
            r.reporter,
            if r.subject.is_empty() {
                "(no subject)"
            } else {
                &r.subject
            }
        );
    }
    out
}

/// Everything the team set on one report.
pub fn show(r: &ReportRecord, tz: &TimeZone) -> String {
    let none = "-";
    let credit = match &r.credit {
        Credit::Unknown => "not said yet".to_owned(),
        Credit::None => "not to be credited".to_owned(),
        Credit::Named {
            name,
            affiliation,
            url,
            key,
        } => {
            let mut text = name.clone();
            if let Some(affiliation) = affiliation {
                text.push_str(&format!(" from {affiliation}"));
            }
            if let Some(url) = url {
                text.push_str(&format!(" <{url}>"));
            }
            if let Some(key) = key {
                text.push_str(&format!(" (merged as {key})"));
            }
            text
        }
    };
    let cvss = match (&r.cvss_vector, r.cvss_score, &r.cvss_severity) {
        (Some(v), Some(score), Some(sev)) => format!("{score:.1} ({sev}) {v}"),
        _ => none.to_owned(),
    };
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(out, "    {k:<14}{v}");
    };
    line("Report:", r.id.as_str());
    line("State:", r.state.as_str());
    line("Reporter:", &r.reporter);
    line("Subject:", &r.subject);
    line("Opened:", &day(r.created_at, tz));
    line("Last activity:", &day(r.updated_at, tz));
    line("Severity:", r.severity.map_or(none, Severity::as_str));
    line("CVSS:", &cvss);
    line("Assignee:", r.assignee.as_deref().unwrap_or(none));
    line(
        "Duplicate of:",
        r.duplicate_of.as_ref().map_or(none, |d| d.as_str()),
    );
    line("CVE:", r.cve.as_deref().unwrap_or(none));
    line("CWE:", r.cwe.as_deref().unwrap_or(none));
    let affects: Vec<String> = r
        .affects
        .iter()
        .map(|a| format!("{} {}", a.product, a.versions))
        .collect();
    line(
        "Affects:",
        &if affects.is_empty() {
            none.to_owned()
        } else {
            affects.join("; ")
        },
    );
    line("Credit:", &credit);
    line("Fixed in:", r.fixed_in.as_deref().unwrap_or(none));
    let disclose_on = r.disclose_on.map(|d| d.to_string());
    line("Disclose on:", disclose_on.as_deref().unwrap_or(none));
    line(
        "Fix extended:",
        &match r.fix_extension_days {
            0 => none.to_owned(),
            d => format!("{d} days"),
        },
    );
    line("Risk reason:", r.risk_reason.as_deref().unwrap_or(none));
    line("Summary:", r.public_summary.as_deref().unwrap_or(none));
    line(
        "Waiting:",
        if r.waiting {
            "yes, for the reporter"
        } else {
            "no"
        },
    );
    line(
        "Tags:",
        &if r.tags.is_empty() {
            none.to_owned()
        } else {
            r.tags.join(", ")
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u32, state: ReportState, waiting: bool) -> ReportRecord {
        ReportRecord {
            state,
            waiting,
            ..ReportRecord::sample(seq, Timestamp::from_second(1_795_000_000).expect("time"))
        }
    }

    #[test]
    fn queries_render_what_the_store_holds() {
        let records = [
            record(1, ReportState::Triaged, false),
            record(2, ReportState::Spam, false),
            record(3, ReportState::Accepted, true),
        ];
        let tz = TimeZone::UTC;
        let listed = list(&records, None, &tz);
        assert!(listed.starts_with("Open reports: 2"), "{listed}");
        assert!(!listed.contains("SEC-2026-0002"), "{listed}");
        let spam = list(&records, Some(ReportState::Spam), &tz);
        assert!(spam.starts_with("Reports in state spam: 1"), "{spam}");
        assert!(spam.contains("SEC-2026-0002  spam"), "{spam}");

        let mut published = records[2].clone();
        published.cwe = Some("CWE-79".into());
        published.affects = vec![crate::report::Affected {
            product: "server".into(),
            versions: "< 9.5.3".into(),
        }];
        published.credit = Credit::Named {
            name: "Yoni Ramon".into(),
            affiliation: Some("Tesla security team".into()),
            url: None,
            key: Some("yoni-ramon".into()),
        };
        published.risk_reason = Some("legacy only".into());
        let shown = show(&published, &tz);
        for expected in [
            "CWE:          CWE-79",
            "Affects:      server < 9.5.3",
            "Credit:       Yoni Ramon from Tesla security team (merged as yoni-ramon)",
            "Risk reason:  legacy only",
        ] {
            assert!(shown.contains(expected), "no {expected:?} in:\n{shown}");
        }
        let shown = show(&records[2], &tz);
        assert!(shown.contains("State:        accepted"), "{shown}");
        assert!(shown.contains("yes, for the reporter"), "{shown}");
    }
}
