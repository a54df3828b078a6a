//! The team's mail commands: parse the lines at the top of an
//! authenticated mail, apply all of them or none, and answer the author.

use jiff::Timestamp;
use serde_json::json;

use super::Pipeline;
use super::answer::ToReporter;
use super::notify::Stored;
use super::team::Route;
use crate::audit::{Actor, Auth, EventKind};
use crate::auth::Authenticated;
use crate::report::ReportId;
use crate::respond;
use crate::respond::compose::Original;
use crate::respond::team::TeamMail;
use crate::respond::templates::{CommandReplyData, RefusedLine};
use crate::sla;
use crate::store::{NewEvent, Recorder, StoreError, Tx};

/// What the commands of one mail came to.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CommandOutcome {
    /// The mail had command lines.
    pub any: bool,
    /// They were refused: nothing was applied, nothing is passed on.
    pub refused: bool,
}

impl Pipeline<'_> {
    /// Parses the command lines at the top of the mail, applies all of them or
    /// none, and answers the author with what was done.
    pub(super) fn commands(
        &self,
        tx: &Tx<'_>,
        route: &Route,
        who: &Authenticated,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<CommandOutcome, StoreError> {
        use crate::command::{self, Change, Scope};

        let prefix = &self.config.program.id_prefix;
        let block = command::parse_block(&s.msg.text, prefix);
        if block.is_empty() {
            return Ok(CommandOutcome::default());
        }
        let record = match route.report() {
            Some(id) => tx.report_record(id)?,
            None => None,
        };
        let scope = match (&record, route) {
            (Some(r), _) => Scope::Report(command::ReportFacts {
                id: r.id.clone(),
                state: r.state,
                extension_days: r.fix_extension_days,
                waiting: r.waiting,
            }),
            _ => Scope::Control,
        };
        let mut states = std::collections::HashMap::new();
        for entry in &block.entries {
            if let Ok(command::Command::Duplicate { of, .. }) = &entry.command {
                states.insert(of.clone(), tx.report_state(of)?);
            }
        }
        let lookup = |id: &ReportId| states.get(id).copied().flatten();
        let today = now
            .to_zoned_datetime(self.config.program.timezone.clone())
            .date();
        let author = who.member.email.to_string();
        let auth = who.method.audit();
        let report = route.report();
        let rec = Recorder {
            report,
            at: now,
            actor: Actor::Named(&author),
            auth,
            message: Some(s.message),
        };
        let target = report.map_or_else(|| "the control address".to_owned(), ToString::to_string);
        let planned = command::plan(
            &block.entries,
            &scope,
            &lookup,
            &self.config.team,
            &self.config.sla,
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
                self.command_reply(
                    tx,
                    &scope,
                    report,
                    who,
                    &target,
                    Vec::new(),
                    refused,
                    None,
                    false,
                    s,
                    now,
                )?;
                return Ok(CommandOutcome {
                    any: true,
                    refused: true,
                });
            }
        };

        let mut applied = Vec::new();
        let mut output: Vec<String> = Vec::new();
        let mut help = false;
        let tz = &self.config.program.timezone;
        let by = command::apply::Author {
            actor: &author,
            auth,
            message: s.message,
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
                        for line in sla::deadline_lines(tx, self.config, id, now)? {
                            text.push_str(&format!("    {line}\n"));
                        }
                        output.push(text);
                    }
                    None => output.push(format!("There is no report {id}.")),
                },
                (Change::Digest, _) => {
                    let reports = sla::survey(tx, self.config, None, now)?;
                    let cal = sla::calendar(self.config);
                    output.push(sla::text::digest(&reports, &cal, now));
                }
                (Change::Stats, _) => {
                    let reports = sla::survey(tx, self.config, None, now)?;
                    output.push(sla::text::stats(&sla::stats::compute(&reports)));
                }
                (change, Some(id)) => {
                    let follow_up = command::apply::apply(tx, id, change, &changes, by, now)?;
                    if follow_up == command::apply::FollowUp::DuplicateReply
                        && let Some(r) = &record
                    {
                        self.duplicate_reply(tx, r, &author, auth, s.message, now)?;
                    }
                }
                // `plan` only lets report commands through with a report.
                (_, None) => continue,
            }
            if !matches!(
                change,
                Change::Help | Change::List(_) | Change::Show(_) | Change::Digest | Change::Stats
            ) {
                applied.push(change.describe());
            }
        }
        let output = (!output.is_empty()).then(|| output.join("\n"));
        self.command_reply(
            tx,
            &scope,
            report,
            who,
            &target,
            applied,
            Vec::new(),
            output,
            help,
            s,
            now,
        )?;
        Ok(CommandOutcome {
            any: true,
            refused: false,
        })
    }

    /// Answers a command mail, to its author only.
    #[expect(clippy::too_many_arguments, reason = "what the answer says")]
    fn command_reply(
        &self,
        tx: &Tx<'_>,
        scope: &crate::command::Scope,
        report: Option<&ReportId>,
        who: &Authenticated,
        target: &str,
        applied: Vec<String>,
        refused: Vec<RefusedLine>,
        output: Option<String>,
        help: bool,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let help_text = help.then(|| crate::command::help(scope));
        let nothing = applied.is_empty() && refused.is_empty() && output.is_none();
        let body = self.templates.render(
            "command-reply",
            &CommandReplyData {
                target,
                applied,
                refused: refused.clone(),
                output,
                help: help_text.as_deref(),
            },
        );
        let body = match body {
            Ok(body) => body,
            Err(err) => {
                tracing::warn!(error = %err, "cannot render the command reply");
                return Ok(());
            }
        };
        let verdict = if !refused.is_empty() {
            "Refused"
        } else if nothing {
            "Help"
        } else {
            "Done"
        };
        let subject = match report {
            Some(id) => format!("[{id}] {verdict}: your commands"),
            None => format!("{verdict}: your commands"),
        };
        let program = &self.config.program;
        // A member without a key learns what every metadata notice says.
        let state = match report {
            Some(id) => tx.report_state(id)?,
            None => None,
        };
        let metadata = match respond::compose::metadata_notice(
            self.templates,
            &format!("{verdict}: your commands"),
            report,
            state.map(|s| s.as_str()),
            Vec::new(),
        ) {
            Ok(metadata) => metadata,
            Err(err) => {
                tracing::warn!(error = %err, "cannot render the command answer's notice");
                return Ok(());
            }
        };
        let mail = TeamMail {
            subject,
            body,
            secret: true,
            metadata: Some(metadata),
            attachments: &[],
            reply_to: report.map(|id| program.address.with_tag(&format!("{id}-internal"))),
            from_name: format!("{} disclosed", program.name),
            references: s.msg.message_id.iter().cloned().collect(),
            auto_submitted: Some("auto-replied"),
        };
        self.send_to_member(
            tx,
            report,
            "command-reply",
            &mail,
            &who.member.email,
            None,
            s.message,
            now,
        )
    }

    /// The duplicate template to the reporter of `r`.
    fn duplicate_reply(
        &self,
        tx: &Tx<'_>,
        r: &crate::store::ReportRecord,
        actor: &str,
        auth: Auth,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let parent = tx.latest_message_id_from(&r.id, &r.reporter)?;
        let original = Original {
            report: &r.id,
            reporter: &r.reporter,
            reporter_name: None,
            subject: &r.subject,
            message_id: parent.as_deref(),
            references: &[],
        };
        match respond::compose::reporter_reply(
            self.config,
            self.templates,
            "duplicate",
            original,
            None,
            now,
        ) {
            Ok(mail) => {
                let sent = self.to_reporter(
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
                    && protection != crate::respond::protect::Protection::Hold
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
}
