//! The one place that reads a report from the store into a [`Draft`]: the
//! `advisory` command, the bulletin and the site all draft from here.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{AdvisoryError, Draft, Format, Milestone, TimelineEntry};
use crate::advisory;
use crate::audit::EventKind;
use crate::config::Config;
use crate::report::{Credit, ReportId, ReportState};
use crate::store::{StoreError, Tx};

/// Why the advisory of a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportAdvisoryError {
    #[error("no report {0}")]
    NoReport(ReportId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Advisory(#[from] AdvisoryError),
}

/// The public facts of report `id` as a draft, or `None` if there is no such
/// report. `advisory_url` is where the advisory is (to be) published.
///
/// Only the columns the team set for publication are read: never the
/// reporter's address or name, the subject, a message, a note or a member.
pub fn draft_from_store(
    tx: &Tx<'_>,
    config: &Config,
    id: &ReportId,
    advisory_url: Option<&str>,
) -> Result<Option<Draft>, StoreError> {
    let Some(record) = tx.report_record(id)? else {
        return Ok(None);
    };
    let events = tx.sla_events(Some(id))?;
    let tz = &config.program.timezone;
    let mut timeline = vec![entry(Milestone::Reported, record.created_at, tz)];
    let mut acknowledged: Option<Timestamp> = None;
    let (mut fixed, mut risk_accepted, mut disclosed) = (None, None, None);
    for event in &events {
        let to = (event.kind == EventKind::StateChanged)
            .then(|| event.detail.get("to").and_then(|v| v.as_str()))
            .flatten()
            .and_then(|s| s.parse::<ReportState>().ok());
        // A member's first answer, or the first move past `new`, acknowledges.
        let acknowledges =
            event.kind == EventKind::RelayedToReporter || to.is_some_and(|s| s != ReportState::New);
        if acknowledges && acknowledged.is_none() {
            acknowledged = Some(event.at);
        }
        match to {
            Some(ReportState::Fixed) => fixed = Some(event.at),
            Some(ReportState::RiskAccepted) => risk_accepted = Some(event.at),
            Some(ReportState::Disclosed) => disclosed = Some(event.at),
            // Reopened: an earlier fix or accepted risk no longer stands.
            Some(ReportState::Accepted) => (fixed, risk_accepted) = (None, None),
            _ => {}
        }
    }
    for (milestone, at) in [
        (Milestone::Acknowledged, acknowledged),
        (Milestone::Fixed, fixed),
        (Milestone::RiskAccepted, risk_accepted),
        (Milestone::Disclosed, disclosed),
    ] {
        if let Some(at) = at {
            timeline.push(entry(milestone, at, tz));
        }
    }
    timeline.sort_by_key(|e| e.date);
    let date_public = disclosed.or_else(|| {
        record
            .disclose_on
            .and_then(|day| day.to_zoned_datetime(tz.clone()).ok())
            .map(|zoned| zoned.timestamp())
    });
    let credit = match record.credit {
        Credit::Named {
            name,
            affiliation,
            url,
            ..
        } => Some(advisory::Credit {
            name,
            affiliation,
            url,
        }),
        Credit::Unknown | Credit::None => None,
    };
    let mut draft = Draft {
        id: record.id.as_str().to_owned(),
        title: String::new(),
        summary: record.public_summary,
        cve: record.cve,
        cwe: record.cwe,
        severity: record.severity,
        cvss: record
            .cvss_vector
            .as_deref()
            .zip(record.cvss_score)
            .and_then(|(vector, score)| advisory::Cvss::from_vector(vector, score)),
        affected: record
            .affects
            .into_iter()
            .map(|a| advisory::Affected {
                product: a.product,
                versions: a.versions,
            })
            .collect(),
        fixed_in: record.fixed_in,
        credit,
        timeline,
        state: record.state,
        risk_reason: record.risk_reason,
        date_public,
        references: advisory_url.map(str::to_owned).into_iter().collect(),
    };
    let publisher = config.advisory.clone().unwrap_or_default();
    draft.title = Draft::derived_title(
        draft.cwe.as_deref(),
        draft.public_severity(),
        &draft.products(&publisher),
    );
    Ok(Some(draft))
}

fn entry(milestone: Milestone, at: Timestamp, tz: &TimeZone) -> TimelineEntry {
    TimelineEntry {
        milestone,
        date: at.to_zoned_datetime(tz.clone()).date(),
    }
}

/// Where the advisory of `id` is published: `[advisory] url`, else the page
/// the site writes, `{[publish] base_url}/advisories/ID.html`.
pub fn advisory_url(config: &Config, id: &ReportId) -> Option<String> {
    config
        .advisory
        .as_ref()
        .and_then(|p| p.advisory_url(id.as_str()))
        .or_else(|| {
            config
                .publish
                .base_url
                .as_deref()
                .map(|base| format!("{base}/advisories/{id}.html"))
        })
}

/// The Markdown advisory of report `id` (the text a bulletin carries).
pub fn markdown_for_report(
    tx: &Tx<'_>,
    config: &Config,
    templates: &advisory::Templates,
    id: &ReportId,
    now: Timestamp,
) -> Result<String, ReportAdvisoryError> {
    let url = advisory_url(config, id);
    let draft = draft_from_store(tx, config, id, url.as_deref())?
        .ok_or_else(|| ReportAdvisoryError::NoReport(id.clone()))?;
    let publisher = config.advisory.clone().unwrap_or_default();
    Ok(advisory::render(
        Format::Md,
        &draft,
        &publisher,
        templates,
        now,
    )?)
}
