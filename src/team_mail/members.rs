//! Mail from the team stage to members: the notice that a mail in a member's
//! name was refused, the notice that a mail to the reply address was kept
//! inside the team, and a member's words passed to the other members (an
//! internal note, or the copy of a relay).

use jiff::Timestamp;
use serde_json::json;

use super::{Authored, Mail};
use crate::audit::{Actor, Auth, EventKind};
use crate::auth::Refusal;
use crate::command;
use crate::config::AuthMethod;
use crate::report::ReportId;
use crate::respond::queue::{Mailer, ToMember, ToTeam, automatic_replies_in_window};
use crate::respond::team::TeamMail;
use crate::respond::templates::{RefusalData, RouteUnprovenData, TeamCopyData};
use crate::store::{NewEvent, StoreError, Tx};
use crate::thread;

/// A member's words as the other members get them.
pub(super) struct TeamCopy<'a> {
    pub kind: &'static str,
    pub template: &'static str,
    /// The report's reporter, as the template names them.
    pub reporter: &'a str,
    /// The member's words.
    pub text: &'a str,
    pub subject: String,
    /// The headline of the metadata notice for members without a key.
    pub summary: String,
    /// How the relay left, for the copy of a relay.
    pub protection: Option<&'static str>,
    pub auto_submitted: Option<&'static str>,
    pub references: Vec<String>,
}

/// A member's mail reached the reply address, but nothing the proof covers
/// says it is meant for the reporter: the outer `To:` could have been changed
/// on the way. It stays inside the team, and the member is told how to
/// relay it.
pub(super) fn route_unproven(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    a: &Authored<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    a.recorder(Some(report), now).record(
        tx,
        EventKind::RelayRouteUnproven,
        json!({ "reason": "the reply address is outside the signed content; kept inside the team" }),
    )?;
    let program = &m.config.program;
    let body = m.templates.render(
        "route-unproven",
        &RouteUnprovenData {
            program_name: &program.name,
            member: a.author,
            report_id: report.as_str(),
            reply_address: &program.address.with_tag(report.as_str()),
            message_id: a.mail.msg.message_id.as_deref().unwrap_or("(none)"),
            directive: command::REPLY_DIRECTIVE,
        },
    );
    let body = match body {
        Ok(body) => body,
        Err(err) => {
            tracing::warn!(report = %report, stored = a.mail.message, error = %err, "cannot render the unproven-route notice");
            return Ok(());
        }
    };
    let mail = m.plain_answer(
        Some(report),
        "Not relayed: kept inside the team",
        body,
        a.mail.msg.message_id.iter().cloned().collect(),
    );
    let to = ToMember {
        report: Some(report),
        kind: "route-unproven",
        member: &a.who.member.email,
        rate_key: None,
        message: a.mail.message,
    };
    m.send_to_member(tx, &to, &mail, now)
}

/// Records the refusal and tells the member the mail named (at their
/// configured address, never the mail's own Reply-To), within the rate
/// limit of automatic mail.
pub(super) fn refuse(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: Option<&ReportId>,
    refusal: &Refusal,
    s: Mail<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let from = s
        .msg
        .from
        .as_ref()
        .map_or("unknown", |m| m.address.as_str());
    tx.append_event(&NewEvent {
        report_id: report,
        at: now,
        actor: Actor::Named(from),
        auth: Auth::None,
        kind: EventKind::TeamMailRefused,
        detail: json!({ "code": refusal.code(), "reason": refusal.to_string() }),
        message: Some(s.message),
    })?;
    let Some(member) = refusal.member() else {
        return Ok(());
    };
    let rate_key = format!("refusal:{member}");
    let sent = automatic_replies_in_window(tx, &m.config.limits, &rate_key, now)?;
    if !thread::within_rate_limit(sent, m.config.limits.auto_replies_per_sender) {
        return Ok(());
    }
    let program = &m.config.program;
    let body = m.templates.render(
        "refusal",
        &RefusalData {
            program_name: &program.name,
            member: &member.to_string(),
            reason: &refusal.to_string(),
            to: s
                .msg
                .recipients
                .iter()
                .map(|r| r.address.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            message_id: s.msg.message_id.as_deref().unwrap_or("(none)"),
            date: s
                .msg
                .date
                .map_or_else(|| "(none)".into(), |d| d.to_string()),
            dkim: m.config.team.command_auth.contains(&AuthMethod::Dkim),
        },
    );
    let body = match body {
        Ok(body) => body,
        Err(err) => {
            tracing::warn!(report = report.map(ReportId::as_str), stored = s.message, error = %err, "cannot render the refusal");
            return Ok(());
        }
    };
    let headline = "Not accepted: a mail in your name";
    let mail = m.plain_answer(report, headline, body, Vec::new());
    let to = ToMember {
        report,
        kind: "refusal",
        member,
        rate_key: Some(&rate_key),
        message: s.message,
    };
    m.send_to_member(tx, &to, &mail, now)
}

/// Passes an internal note to the other members; never to the reporter.
pub(super) fn internal_note(
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
    a.recorder(Some(report), now).record(
        tx,
        EventKind::InternalNote,
        json!({ "chars": text.chars().count() }),
    )?;
    copy_to_team(
        m,
        tx,
        report,
        a,
        TeamCopy {
            kind: "internal-note",
            template: "internal-note",
            reporter: &record.reporter,
            text,
            subject: format!("[{report}] Note from {}", a.who.member.name),
            summary: format!("{} wrote a note", a.who.member.name),
            protection: None,
            // A person wrote it: a member's auto-responder may answer it
            // (to the internal address, where it changes nothing).
            auto_submitted: None,
            references: a.mail.msg.message_id.iter().cloned().collect(),
        },
        now,
    )
}

/// Passes a member's words to the other members, encrypted to each.
pub(super) fn copy_to_team(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    report: &ReportId,
    a: &Authored<'_>,
    copy: TeamCopy<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let program = &m.config.program;
    let reply_address = program.address.with_tag(report.as_str());
    let internal_address = program.address.with_tag(&format!("{report}-internal"));
    let data = TeamCopyData {
        author: format!("{} <{}>", a.who.member.name, a.who.member.email),
        report_id: report.as_str(),
        reporter: copy.reporter,
        text: copy.text,
        reply_address: &reply_address,
        internal_address: &internal_address,
        protection: copy.protection,
    };
    // A member without a key learns what every metadata notice says.
    let state = tx.report_state(report)?.map(|s| s.as_str());
    let about = Some(report);
    let (body, metadata) = match m.bodies(
        copy.template,
        &data,
        &copy.summary,
        about,
        state,
        Vec::new(),
    ) {
        Ok(bodies) => bodies,
        Err(err) => {
            tracing::warn!(report = %report, error = %err, template = copy.template, "cannot render mail to the team");
            return Ok(());
        }
    };
    let mail = TeamMail {
        subject: copy.subject,
        body,
        secret: true,
        metadata: Some(metadata),
        attachments: &[],
        reply_to: Some(internal_address),
        from_name: format!("{} via {}", a.who.member.name, program.name),
        references: copy.references,
        auto_submitted: copy.auto_submitted,
    };
    let to = ToTeam {
        report: Some(report),
        kind: copy.kind,
        except: Some(&a.who.member.email),
        message: a.mail.message,
    };
    m.send_to_team(tx, &to, &mail, now)
}
