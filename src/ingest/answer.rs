//! A matched triage rule's changes to a new report. The answer to the
//! reporter is [`crate::respond::ack`]'s.

use jiff::Timestamp;
use serde_json::json;

use crate::audit::{Actor, Auth, EventKind};
use crate::report::ReportId;
use crate::store::{NewEvent, StoreError, Tx};

/// Applies a matched triage rule: its state and tags, and the event.
pub(super) fn apply_rule(
    tx: &Tx<'_>,
    report: &ReportId,
    rule: &crate::triage::Rule,
    message: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    if let Some(state) = rule.state() {
        tx.set_state(report, state, now)?;
    }
    tx.add_tags(report, rule.tags())?;
    tx.append_event(&NewEvent {
        report_id: Some(report),
        at: now,
        actor: Actor::Daemon,
        auth: Auth::None,
        kind: EventKind::RuleApplied,
        detail: json!({ "rule": rule.name(), "state": rule.state().map(|s| s.as_str()),
                            "tags": rule.tags(), "reply": rule.reply() }),
        message: Some(message),
    })?;
    Ok(())
}
