//! Relaying a member's answer to the reporter: refused when it carries lines
//! of mail sent to the team (see [`crate::respond::leak`]), otherwise sealed
//! for the reporter and queued, with a copy to the other members. The first
//! answer a person sends acknowledges the report.

use jiff::Timestamp;
use serde_json::json;

use super::Authored;
use super::members::{TeamCopy, copy_to_team};
use crate::audit::{Actor, EventKind};
use crate::parse::{self, ParseLimits};
use crate::report::{ReportId, ReportState};
use crate::respond::compose::{self, Original};
use crate::respond::leak;
use crate::respond::protect::Protection;
use crate::respond::queue::{Mailer, ToMember, ToReporter};
use crate::respond::team::TeamMail;
use crate::respond::templates::RelayRefusedData;
use crate::respond::{self, strip};
use crate::store::{StoreError, Tx};

/// Relays `text` from the author of `a` to the reporter of `report`, and copies it to
/// the rest of the team. An HTML body is stripped again from its HTML (the
/// text conversion lost its quotes). Nothing leaves when the text carries
/// lines of mail sent to the team: the member is told which.
pub(super) fn relay(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    a: &Authored<'_>,
    text: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(record) = tx.report_record(report)? else {
        return Ok(());
    };
    let author = a.author;
    let rec = a.recorder(Some(report), now);
    let members = respond::team::team_members(m.config);

    let lines = leak::relay_lines(text, &members);
    let fingerprints = leak::all_fingerprints(&lines);
    let known = leak::Known {
        team: tx.team_line_reports(&fingerprints)?,
        relayed_by_author: tx.relayed_by(author, &fingerprints)?,
    };
    let exempt = if known
        .team
        .keys()
        .any(|f| !known.relayed_by_author.contains(f))
    {
        relay_exemptions(
            m,
            tx,
            report,
            &record.reporter,
            author,
            a.mail.message,
            &members,
        )?
    } else {
        leak::Exempt::default()
    };
    let verdict = leak::check(&lines, report.as_str(), &known, &exempt);
    if !verdict.passes() {
        // Counts only: the lines are internal, the event log is not.
        rec.record(
                tx,
                EventKind::RelayRefused,
                json!({ "reason": "internal-lines", "internal_lines": verdict.internal.len(),
                        "about_other_reports": verdict.internal.iter().filter(|l| l.other_report).count() }),
            )?;
        let (lines, more) = leak::shown_lines(&verdict.internal);
        let data = RelayRefusedData {
            report_id: report.as_str(),
            count: verdict.internal.len(),
            lines: &lines,
            more,
            reply_address: &m.config.program.address.with_tag(report.as_str()),
        };
        // Without a key the member is not shown the lines.
        let headline = "Not relayed: your answer carries internal text";
        let state = Some(record.state.as_str());
        let about = Some(report);
        let bodies = match m.bodies("relay-refused", &data, headline, about, state, Vec::new()) {
            Ok(bodies) => bodies,
            Err(err) => {
                tracing::warn!(report = %report, stored = a.mail.message, error = %err, "cannot render the relay refusal");
                return Ok(());
            }
        };
        let mail = TeamMail {
            references: a.mail.msg.message_id.iter().cloned().collect(),
            auto_submitted: Some("auto-replied"),
            ..m.notice(about, headline, bodies)
        };
        let to = ToMember {
            report: about,
            kind: "relay-refused",
            member: &a.who.member.email,
            rate_key: None,
            message: a.mail.message,
        };
        return m.send_to_member(tx, &to, &mail, now);
    }

    let parent = tx.latest_message_id_from(report, &record.reporter)?;
    let original = Original {
        report,
        reporter: &record.reporter,
        reporter_name: None,
        subject: &record.subject,
        message_id: parent.as_deref(),
        references: &[],
    };
    let mail = match compose::relay(m.config, original, text, now) {
        Ok(mail) => mail,
        Err(err) => {
            rec.record(
                tx,
                EventKind::RelayFailed,
                json!({ "reason": err.to_string() }),
            )?;
            return Ok(());
        }
    };
    let sent = m.to_reporter(
        tx,
        report,
        mail,
        &ToReporter {
            kind: "relay",
            to: &record.reporter,
            rate_key: None,
            content_free: false,
            actor: Actor::Named(author),
            auth: a.who.method.audit(),
            message: a.mail.message,
        },
        now,
    )?;
    let Some((protection, message_id)) = sent else {
        return Ok(());
    };
    tx.record_relayed_lines(author, &verdict.fresh, now)?;
    if protection != Protection::Hold {
        rec.record(
                tx,
                EventKind::RelayedToReporter,
                json!({ "message_id": message_id, "to": record.reporter, "protection": protection.as_str() }),
            )?;
    }
    // The first answer a person sends acknowledges the report.
    if record.state == ReportState::New {
        rec.change_state(
            tx,
            report,
            ReportState::Acknowledged,
            "state: new → acknowledged",
            Some("first answer to the reporter"),
        )?;
    }
    copy_to_team(
        m,
        tx,
        report,
        a,
        TeamCopy {
            kind: "relay-copy",
            template: "relay-copy",
            reporter: &record.reporter,
            text,
            subject: format!("[{report}] {} answered the reporter", a.who.member.name),
            summary: format!("{} answered the reporter", a.who.member.name),
            protection: Some(protection.as_str()),
            auto_submitted: Some("auto-generated"),
            references: Vec::new(),
        },
        now,
    )
}

/// What a relay in `report` by `author` may carry although mail to the team
/// carried it too: the lines of the reporter's messages in the report, and
/// the author's own words (quotes stripped) in their earlier mail there.
/// Read back from the stored messages, the latest hundred of each.
fn relay_exemptions(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    reporter: &str,
    author: &str,
    message: i64,
    members: &strip::Members,
) -> Result<leak::Exempt, StoreError> {
    const LATEST: usize = 100;
    let limits = ParseLimits::from_config(&m.config.limits);
    let mut exempt = leak::Exempt::default();
    for raw in tx.readable_messages_from(report, reporter, message, LATEST)? {
        let msg = parse::parse(&raw, &limits);
        let text = format!("{}\n{}", msg.subject, msg.text);
        exempt.reporter.extend(leak::fingerprints(&text, members));
    }
    let nobody = strip::Members::new(&[]);
    for raw in tx.readable_messages_from(report, author, message, LATEST)? {
        let msg = parse::parse(&raw, &limits);
        let own = strip::relay_body(&msg.text, msg.html.as_deref(), &nobody);
        exempt.author.extend(leak::fingerprints(&own.text, members));
    }
    Ok(exempt)
}
