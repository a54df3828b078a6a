//! The team's mail commands: parse the lines at the top of an
//! authenticated mail, plan all of them or none ([`command::plan`]), apply
//! them ([`command::apply`]), and answer the author.

use jiff::Timestamp;
use serde_json::json;

use super::members::{TeamCopy, copy_to_team};
use super::{Authored, Route};
use crate::audit::{Actor, EventKind};
use crate::command::{self, Change, Scope};
use crate::report::ReportId;
use crate::respond;
use crate::respond::compose::Original;
use crate::respond::protect::Protection;
use crate::respond::queue::{Mailer, ToMember, ToReporter};
use crate::respond::team::TeamMail;
use crate::respond::templates::{CommandReplyData, RefusedLine};
use crate::sla;
use crate::store::{NewEvent, ReportRecord, StoreError, Tx};

/// What the commands of one mail came to.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Outcome {
    /// The mail had command lines.
    pub any: bool,
    /// They were refused: nothing was applied, nothing is passed on.
    pub refused: bool,
}

/// Parses the command lines at the top of the mail, applies all of them or
/// none, and answers the author with what was done.
pub(super) fn commands(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    route: &Route,
    a: &Authored<'_>,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let prefix = &m.config.program.id_prefix;
    let block = command::parse_block(&a.mail.msg.text, prefix);
    if block.is_empty() {
        return Ok(Outcome::default());
    }
    let record = match route.report() {
        Some(id) => tx.report_record(id)?,
        None => None,
    };
    let mut scope = match (&record, route) {
        (Some(r), _) => Scope::Report(command::ReportFacts::of(
            r,
            tx.acknowledgement_failed(&r.id)?,
            tx.reporter_declined_credit(&r.id)?,
        )),
        _ => Scope::Control,
    };
    if let Scope::Report(facts) = &mut scope {
        for entry in &block.entries {
            if let Ok(command::Command::Attach(message)) = &entry.command
                && tx.is_unattached(*message)?
            {
                facts.attachable.push(*message);
            }
        }
    }
    let mut states = std::collections::HashMap::new();
    for entry in &block.entries {
        if let Ok(command::Command::Duplicate { of, .. } | command::Command::Advisory(of)) =
            &entry.command
        {
            states.insert(of.clone(), tx.report_state(of)?);
        }
    }
    let lookup = |id: &ReportId| states.get(id).copied().flatten();
    let today = now
        .to_zoned_datetime(m.config.program.timezone.clone())
        .date();
    let report = route.report();
    let rec = a.recorder(report, now);
    let target = report.map_or_else(|| "the control address".to_owned(), ToString::to_string);
    let planned = command::plan(
        &block.entries,
        &scope,
        &lookup,
        &m.config.team,
        &m.config.sla,
        today,
    );
    let changes = match planned {
        Ok(changes) => changes,
        Err(refusals) => {
            let refused: Vec<RefusedLine> = refusals
                .iter()
                .map(|r| RefusedLine {
                    line: r.line.clone(),
                    reason: r.reason.to_string(),
                })
                .collect();
            rec.record(
                    tx,
                    EventKind::CommandsRefused,
                    json!({ "refused": refused.iter().map(|r| json!({"line": r.line, "reason": r.reason})).collect::<Vec<_>>() }),
                )?;
            let reply = CommandReply {
                scope: &scope,
                report,
                target: &target,
                applied: Vec::new(),
                refused,
                output: None,
                help: false,
                results: None,
            };
            command_reply(m, tx, reply, a, now)?;
            return Ok(Outcome {
                any: true,
                refused: true,
            });
        }
    };

    let mut applied = Vec::new();
    let mut output: Vec<String> = Vec::new();
    let mut help = false;
    let mut results: Option<Vec<String>> = None;
    let tz = &m.config.program.timezone;
    let by = command::apply::Author {
        actor: a.author,
        auth: a.who.method.audit(),
        message: a.mail.message,
    };
    for change in &changes {
        match (change, report) {
            (Change::Help, _) => help = true,
            (Change::List(state), _) => {
                let records = tx.report_records(*state)?;
                output.push(respond::control::list(&records, *state, tz));
            }
            (Change::Show(id), _) => match tx.report_record(id)? {
                Some(r) => {
                    let mut text = respond::control::show(&r, tz);
                    text.push_str("\nDeadlines:\n");
                    for line in sla::deadline_lines(tx, m.config, id, now)? {
                        text.push_str(&format!("    {line}\n"));
                    }
                    output.push(text);
                }
                None => output.push(format!("There is no report {id}.")),
            },
            (Change::Digest, _) => {
                let reports = sla::survey(tx, m.config, None, now)?;
                let cal = sla::calendar(m.config);
                output.push(sla::text::digest(&reports, &cal, now));
            }
            (Change::Stats, _) => {
                let reports = sla::survey(tx, m.config, None, now)?;
                output.push(sla::text::stats(&sla::stats::compute(&reports)));
            }
            (Change::HallOfFame, _) => {
                output.push(
                    match respond::bulletin::hall_of_fame_text(tx, m.config, now) {
                        Ok(text) => text,
                        Err(respond::bulletin::BulletinError::Store(err)) => return Err(err),
                        Err(err) => format!("Cannot render the Hall of Fame: {err}"),
                    },
                );
            }
            (Change::Advisory(id), _) => output.push(advisory(m, tx, id, now)?),
            (Change::Outbox, _) => output.push(failed_mail(tx, now)?),
            (Change::Search(text), _) => {
                let found = search(tx, text, tz)?;
                output.push(found.text);
                results.get_or_insert_with(Vec::new).extend(found.in_clear);
            }
            (Change::ResendAck, Some(id)) => {
                output.push(respond::ack::resend(m, tx, id, now)?.to_string());
            }
            (Change::Attach(message), Some(id)) => {
                if let Some(line) = attach(m, tx, id, *message, a, now)? {
                    output.push(line);
                    continue;
                }
            }
            // Decided below, once every change is applied.
            (Change::Notify(_), _) => continue,
            (change, Some(id)) => {
                let follow_up = command::apply::apply(tx, id, change, &changes, by, now)?;
                if follow_up == command::apply::FollowUp::DuplicateReply
                    && let Some(r) = &record
                {
                    duplicate_reply(m, tx, r, by, now)?;
                }
            }
            // `plan` only lets report commands through with a report.
            (_, None) => continue,
        }
        if !matches!(
            change,
            Change::Help
                | Change::List(_)
                | Change::Show(_)
                | Change::Digest
                | Change::Stats
                | Change::HallOfFame
                | Change::Outbox
                | Change::Advisory(_)
                | Change::Search(_)
        ) {
            applied.push(change.describe());
        }
    }
    if let Some(id) = report {
        output.extend(progress_update(m, tx, id, a, &changes, by, now)?);
        output.extend(bulletin(m, tx, id, &changes, now)?);
    }
    let output = (!output.is_empty()).then(|| output.join("\n"));
    let reply = CommandReply {
        scope: &scope,
        report,
        target: &target,
        applied,
        refused: Vec::new(),
        output,
        help,
        results,
    };
    command_reply(m, tx, reply, a, now)?;
    Ok(Outcome {
        any: true,
        refused: false,
    })
}

/// The reporter's update for the state the mail's `changes` left report `id`
/// in, if any ([`respond::progress`]), queued in this transaction, with the
/// usual copy to the other members: the line the command reply shows, or
/// none when the mail moved no state.
fn progress_update(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    id: &ReportId,
    a: &Authored<'_>,
    changes: &[Change],
    by: command::apply::Author<'_>,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    use respond::progress::{self, Outcome};
    let Some(reached) = command::state_reached(changes) else {
        return Ok(None);
    };
    let flag = changes.iter().find_map(|c| match c {
        Change::Notify(flag) => Some(*flag),
        _ => None,
    });
    let decision = progress::decide(Some(reached), &m.config.notify_reporter, flag);
    let Some(record) = tx.report_record(id)? else {
        return Ok(None);
    };
    let outcome = progress::notify(m, tx, &record, decision, by, now)?;
    if let Outcome::Queued {
        update,
        protection,
        text,
        ..
    } = &outcome
    {
        copy_to_team(
            m,
            tx,
            id,
            a,
            TeamCopy {
                kind: "progress-copy",
                template: "relay-copy",
                reporter: &record.reporter,
                text,
                subject: format!("[{id}] The reporter was told: {}", update.state()),
                summary: format!("the reporter was told: {}", update.state()),
                protection: Some(protection.as_str()),
                auto_submitted: Some("auto-generated"),
                references: Vec::new(),
            },
            now,
        )?;
    }
    Ok(Some(outcome.describe()))
}

/// The bulletin to the announcement list when the mail's `changes` disclosed
/// report `id`, queued in this transaction: the line the command reply shows.
fn bulletin(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    id: &ReportId,
    changes: &[Change],
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    if command::state_reached(changes) != Some(crate::report::ReportState::Disclosed) {
        return Ok(None);
    }
    let Some(record) = tx.report_record(id)? else {
        return Ok(None);
    };
    let outcome = respond::bulletin::queue_bulletin(m.config, m.crypto, tx, &record, now)?;
    Ok(Some(outcome.describe()))
}

/// `#outbox`: the failed mail and the mail held for a key, one line each,
/// oldest first; what it was and to whom, never its text.
fn failed_mail(tx: &Tx<'_>, now: Timestamp) -> Result<String, StoreError> {
    let rows = tx.outbox_rows(crate::store::OutboxFilter::Failed)?;
    let mut out = format!("Failed or held mail: {}\n\n", rows.len());
    for r in &rows {
        let hours = now.duration_since(r.created_at).as_hours().max(0);
        out.push_str(&format!(
            "row {}  {}  {}  {}  to {}  attempts {}  {}h old{}\n",
            r.id,
            r.report_id.as_ref().map_or("-", ReportId::as_str),
            r.kind,
            r.status,
            r.recipients.join(", "),
            r.attempts,
            hours,
            r.last_error
                .as_deref()
                .map(|e| format!("  error: {}", command::shorten(e)))
                .unwrap_or_default(),
        ));
    }
    if !rows.is_empty() {
        out.push_str("\nQueue one again on the host: disclosed outbox retry ROW|ID\n");
    }
    Ok(out)
}

/// `#attach MSG` on report `id`: the message joins the report (it is not
/// relayed: the reporter never sees it), the event names the member, and the
/// other members get a note of it. `Some` says why nothing was attached (the
/// message joined a report since the plan looked).
fn attach(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    id: &ReportId,
    message: i64,
    a: &Authored<'_>,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    match tx.attach_message(message, id)? {
        crate::store::Attached::Attached => {}
        crate::store::Attached::AlreadyIn(other) => {
            return Ok(Some(format!(
                "message {message} was not attached: it is in {other} already"
            )));
        }
        _ => {
            return Ok(Some(format!(
                "message {message} was not attached: no such message"
            )));
        }
    }
    a.recorder(Some(id), now).record(
        tx,
        EventKind::MessageAttached,
        json!({ "message": message }),
    )?;
    let Some(record) = tx.report_record(id)? else {
        return Ok(None);
    };
    let (from, subject) = tx.message_headline(message)?.unwrap_or_default();
    let text = format!(
        "Message {message} (from {}, subject \"{}\") was attached to {id} with #attach.\n\
         It was not sent to the reporter.\n",
        from.as_deref().unwrap_or("no address"),
        command::shorten(&subject),
    );
    copy_to_team(
        m,
        tx,
        id,
        a,
        TeamCopy {
            kind: "internal-note",
            template: "internal-note",
            reporter: &record.reporter,
            text: &text,
            subject: format!("[{id}] Message {message} attached by {}", a.who.member.name),
            summary: format!("{} attached message {message}", a.who.member.name),
            protection: None,
            auto_submitted: Some("auto-generated"),
            references: Vec::new(),
        },
        now,
    )?;
    Ok(None)
}

/// `#advisory ID`: the advisory's text, or why there is none (the report
/// may have moved since the plan looked).
fn advisory(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    id: &ReportId,
    now: Timestamp,
) -> Result<String, StoreError> {
    let Some(record) = tx.report_record(id)? else {
        return Ok(format!("There is no report {id}."));
    };
    Ok(
        match respond::bulletin::advisory_text(tx, m.config, &record, now) {
            Ok(text) => text,
            Err(respond::bulletin::BulletinError::Store(err)) => return Err(err),
            Err(err) => format!("Cannot render the advisory of {id}: {err}"),
        },
    )
}

/// Most reports one `#search` lists.
const SEARCH_LIMIT: usize = 20;

/// What a `#search` answers.
struct Searched {
    /// For a member with a key (the reply is encrypted to them): the reports
    /// found in everything the store holds, with snippets.
    text: String,
    /// For a member without one: `ID  state` of the reports found in what
    /// was not encrypted, no snippet.
    in_clear: Vec<String>,
}

/// `#search QUERY`: the reports matching, best first.
fn search(tx: &Tx<'_>, text: &str, tz: &jiff::tz::TimeZone) -> Result<Searched, StoreError> {
    use crate::store::{SearchFilter, SearchQuery};
    let query = match SearchQuery::parse(text) {
        Ok(query) => query,
        // Checked when the line was parsed; kept an answer, not a failure.
        Err(err) => {
            return Ok(Searched {
                text: format!("Cannot search for that: {err}"),
                in_clear: Vec::new(),
            });
        }
    };
    let filter = |confidential| SearchFilter {
        state: None,
        limit: SEARCH_LIMIT,
        confidential,
        snippets: confidential,
    };
    let all = tx.search(&query, &filter(true))?;
    let mut out = match (all.hits.len(), all.more) {
        (0, _) => "Search: no report matches".to_owned(),
        (1, false) => "Search: 1 report matches".to_owned(),
        (n, false) => format!("Search: {n} reports match"),
        (n, true) => format!("Search: the best {n} of the reports that match"),
    };
    out.push('\n');
    for hit in &all.hits {
        let opened = hit.opened.to_zoned_datetime(tz.clone()).date();
        out.push_str(&format!(
            "\n    {}  {}  opened {opened}\n",
            hit.report, hit.state
        ));
        if let Some(snippet) = &hit.snippet {
            out.push_str(&format!("        {snippet}\n"));
        }
    }
    let in_clear = tx
        .search(&query, &filter(false))?
        .hits
        .iter()
        .map(|hit| format!("{}  {}", hit.report, hit.state))
        .collect();
    Ok(Searched {
        text: out,
        in_clear,
    })
}

/// Answers a command mail, to its author only.
fn command_reply(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    reply: CommandReply<'_>,
    a: &Authored<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let verdict = reply.verdict();
    let CommandReply {
        scope,
        report,
        target,
        applied,
        refused,
        output,
        help,
        results,
    } = reply;
    let help_text = help.then(|| command::help(scope));
    let data = CommandReplyData {
        target,
        applied,
        refused,
        output,
        help: help_text.as_deref(),
    };
    // A member without a key learns what every metadata notice says.
    let state = match report {
        Some(id) => tx.report_state(id)?,
        None => None,
    };
    let headline = format!("{verdict}: your commands");
    let state = state.map(|s| s.as_str());
    let rendered = m.bodies("command-reply", &data, &headline, report, state, Vec::new());
    // A member without a key reads the reply in clear: of a search, only the
    // ids and states of what matched outside encrypted mail.
    let rendered = match results {
        Some(mut results) => rendered.and_then(|(body, _)| {
            if results.is_empty() {
                results.push("(none)".to_owned());
            }
            let metadata = respond::compose::metadata_notice_listing(
                m.templates,
                &headline,
                report,
                state,
                Vec::new(),
                results,
            )?;
            Ok((body, metadata))
        }),
        None => rendered,
    };
    let bodies = match rendered {
        Ok(bodies) => bodies,
        Err(err) => {
            tracing::warn!(report = report.map(ReportId::as_str), stored = a.mail.message, error = %err, "cannot render the command reply");
            return Ok(());
        }
    };
    let mail = TeamMail {
        references: a.mail.msg.message_id.iter().cloned().collect(),
        auto_submitted: Some("auto-replied"),
        ..m.notice(report, &headline, bodies)
    };
    let to = ToMember {
        report,
        kind: "command-reply",
        member: &a.who.member.email,
        rate_key: None,
        message: a.mail.message,
    };
    m.send_to_member(tx, &to, &mail, now)
}

/// The duplicate template to the reporter of `r`.
fn duplicate_reply(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    r: &ReportRecord,
    by: command::apply::Author<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let command::apply::Author {
        actor,
        auth,
        message,
    } = by;
    let parent = tx.latest_message_id_from(&r.id, &r.reporter)?;
    let original = Original {
        report: &r.id,
        reporter: &r.reporter,
        reporter_name: None,
        subject: &r.subject,
        message_id: parent.as_deref(),
        references: &[],
    };
    match respond::compose::reporter_reply(m.config, m.templates, "duplicate", original, None, now)
    {
        Ok(mail) => {
            let sent = m.to_reporter(
                tx,
                &r.id,
                mail,
                &ToReporter {
                    kind: "duplicate",
                    to: &r.reporter,
                    rate_key: None,
                    content_free: false,
                    actor: Actor::Named(actor),
                    auth,
                    message,
                },
                now,
            )?;
            if let Some((protection, message_id)) = sent
                && protection != Protection::Hold
            {
                tx.append_event(&NewEvent {
                    report_id: Some(&r.id),
                    at: now,
                    actor: Actor::Named(actor),
                    auth,
                    kind: EventKind::ReporterMailQueued,
                    detail: json!({ "kind": "duplicate", "message_id": message_id, "to": r.reporter,
                                        "protection": protection.as_str() }),
                    message: Some(message),
                })?;
            }
        }
        Err(err) => {
            tracing::warn!(report = %r.id, error = %err, "cannot compose the duplicate reply")
        }
    }
    Ok(())
}

/// What the answer to a command mail says.
#[derive(Debug, Clone)]
pub(super) struct CommandReply<'a> {
    /// What the commands could name: a report, or the control address.
    pub scope: &'a Scope,
    pub report: Option<&'a ReportId>,
    /// What the commands acted on, as the answer names it.
    pub target: &'a str,
    /// What each applied change did.
    pub applied: Vec<String>,
    /// The lines refused, and why; then nothing was applied.
    pub refused: Vec<RefusedLine>,
    /// What the query commands (`#list`, `#show`, …) printed.
    pub output: Option<String>,
    /// `#help` was asked for.
    pub help: bool,
    /// `#search`: what a member without a key is told, the ids and states
    /// of the reports found without decrypted text.
    pub results: Option<Vec<String>>,
}

impl CommandReply<'_> {
    /// The answer's headline: refused, only help (nothing else to say), or done.
    pub fn verdict(&self) -> &'static str {
        if !self.refused.is_empty() {
            "Refused"
        } else if self.applied.is_empty() && self.output.is_none() {
            "Help"
        } else {
            "Done"
        }
    }
}
