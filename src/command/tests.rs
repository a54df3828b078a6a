//! Tables of command lines and bodies, and the rules of `plan`, one case each.

mod advisory;
mod block;
mod closing;
mod lines;
mod notify;
mod rules;

use jiff::Span;
use jiff::civil::{Date, date};

use super::*;
use crate::config::{Member, PolicyDuration, Sla, Team};

const PREFIX: &str = "SEC";

fn id(text: &str) -> ReportId {
    ReportId::parse(PREFIX, text).expect("test id")
}

fn parse(line: &str) -> Result<Command, CommandError> {
    parse_command(line, PREFIX)
}

fn team() -> Team {
    Team {
        members: vec![Member {
            name: "Alice".to_owned(),
            email: Address::parse("alice@example.org").expect("address"),
            key: None,
        }],
        ..Team::default()
    }
}

fn sla(fix: PolicyDuration, fix_max: PolicyDuration) -> Sla {
    Sla {
        fix,
        fix_max,
        ..Sla::default()
    }
}

fn default_sla() -> Sla {
    sla(
        PolicyDuration::Calendar(Span::new().days(90)),
        PolicyDuration::Calendar(Span::new().days(120)),
    )
}

const TODAY: Date = date(2026, 6, 15);

fn report(state: ReportState) -> ReportFacts {
    ReportFacts {
        id: id("SEC-2026-0042"),
        state,
        extension_days: 0,
        waiting: false,
        ack_failed: false,
        severity: None,
        cvss_severity: None,
        credited: false,
        credit_declined: false,
        affects: Vec::new(),
        attachable: vec![7],
    }
}

/// Known reports for `#duplicate`: only SEC-2026-0012 exists besides 0042.
fn lookup(other: &ReportId) -> Option<ReportState> {
    match other.as_str() {
        "SEC-2026-0012" => Some(ReportState::Triaged),
        "SEC-2026-0042" => Some(ReportState::Acknowledged),
        _ => None,
    }
}

/// Plans the command block of `body` with the default team and SLA.
fn plan_body(body: &str, scope: &Scope) -> Result<Vec<Change>, Vec<Refusal>> {
    plan_with(body, scope, &default_sla())
}

fn plan_with(body: &str, scope: &Scope, sla: &Sla) -> Result<Vec<Change>, Vec<Refusal>> {
    let block = parse_block(body, PREFIX);
    plan(&block.entries, scope, &lookup, &team(), sla, TODAY)
}

/// The single refusal `body` must produce, as text.
fn refused(body: &str, scope: &Scope) -> String {
    match plan_body(body, scope) {
        Ok(changes) => panic!("{body:?} was accepted: {changes:?}"),
        Err(refusals) => {
            assert_eq!(refusals.len(), 1, "{body:?}: {refusals:?}");
            refusals[0].reason.to_string()
        }
    }
}
