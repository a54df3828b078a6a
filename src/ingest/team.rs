//! Mail from the team (SPEC §3, §5): authenticate the member, apply the
//! commands at the top of the body, relay the answer to the reporter or pass an
//! internal note to the other members, and answer the commands. A mail that
//! cannot be authenticated changes nothing: the member it names is told.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::Pipeline;
use super::notify::Stored;
use crate::auth::{self, Authenticated, Evidence, Policy, Refusal};
use crate::config::{Address, AuthMethod};
use crate::crypto::Signature;
use crate::parse::{self, ParseLimits};
use crate::report::{ReportId, ReportState};
use crate::respond::compose::Original;
use crate::respond::protect::Protection;
use crate::respond::team::TeamMail;
use crate::respond::templates::{CommandReplyData, RefusalData, RefusedLine, TeamCopyData};
use crate::respond::{self, strip};
use crate::store::{NewEvent, StoreError, Tx};

/// Where a team member's mail went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// The report's reply address: relayed to the reporter.
    Reply(ReportId),
    /// The report's internal address (or the report named only by subject or
    /// references): to the other members only.
    Internal(ReportId),
    /// `security+control@`.
    Control,
}

impl Route {
    fn report(&self) -> Option<&ReportId> {
        match self {
            Self::Reply(id) | Self::Internal(id) => Some(id),
            Self::Control => None,
        }
    }
}

/// How far a signature may be dated ahead of our clock.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

impl Pipeline<'_> {
    /// Handles an authenticated-or-not mail from a team member's address.
    pub(super) fn team_mail(
        &self,
        tx: &Tx<'_>,
        route: &Route,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let who = match self.authenticate(tx, route, s, now)? {
            Ok(who) => who,
            Err(refusal) => return self.refuse(tx, route.report(), &refusal, s, now),
        };
        let author = who.member.email.to_string();
        let auth = who.method.as_str();
        let event = |kind: &'static str, detail| NewEvent {
            report_id: route.report(),
            at: now,
            actor: &author,
            auth,
            kind,
            detail,
            message: Some(s.message),
        };
        tx.append_event(&event(
            "team-mail-authenticated",
            json!({ "method": who.method.to_string() }),
        ))?;

        let outcome = self.commands(tx, route, &who, s, now)?;
        if !outcome.refused {
            // Every member's address and name: a relay must not reveal who is
            // on the team.
            let members: Vec<String> = self
                .config
                .team
                .members
                .iter()
                .flat_map(|m| [m.email.to_string(), m.name.clone()])
                .collect();
            let names: Vec<&str> = members.iter().map(String::as_str).collect();
            let stripped = strip::relay_text(&s.msg.text, &names);
            match route {
                Route::Reply(id) if !stripped.is_empty() => {
                    tx.append_event(&event(
                        "relay-stripped",
                        json!({ "command_lines": stripped.removed.command_lines,
                                "quoted_lines": stripped.removed.quoted_lines,
                                "cut_at": stripped.removed.tail.map(strip::Tail::as_str),
                                "cut_lines": stripped.removed.tail_lines,
                                "member_mentions": stripped.removed.member_mentions }),
                    ))?;
                    self.relay(tx, id, &who, &stripped.text, s, now)?;
                }
                // Inside the team, names and addresses may stay.
                Route::Internal(id) if !strip::relay_text(&s.msg.text, &[]).is_empty() => {
                    let note = strip::relay_text(&s.msg.text, &[]);
                    self.internal_note(tx, id, &who, &note.text, s, now)?;
                }
                Route::Reply(_) | Route::Internal(_) if !outcome.any => {
                    tx.append_event(&event(
                        "team-mail-empty",
                        json!({ "reason": "nothing left to pass on after removing quotes, signature and commands" }),
                    ))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Who sent the mail, if it proves it, and whether it may act on `route`
    /// (bound to the report, not a replay). Only store errors are `Err`.
    fn authenticate(
        &self,
        tx: &Tx<'_>,
        route: &Route,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<Result<Authenticated, Refusal>, StoreError> {
        let team = &self.config.team;
        let from = s
            .msg
            .from
            .as_ref()
            .map(|m| m.address.clone())
            .unwrap_or_default();
        let (valid_signer, signed_at, digest) = match s.pgp.map(|o| &o.signature) {
            Some(Signature::Valid {
                signer,
                created,
                digest,
                ..
            }) => (Some(signer.clone()), *created, Some(digest.as_str())),
            _ => (None, None, None),
        };
        let member_fingerprints = self
            .crypto
            .member_cert(&from)
            .map(|cert| {
                cert.keys()
                    .map(|k| k.key().fingerprint().to_hex())
                    .collect()
            })
            .unwrap_or_default();
        let evidence = Evidence {
            from,
            valid_signer,
            signed_at,
            member_fingerprints,
            auth_results: s.raw.map(parse::authentication_results).unwrap_or_default(),
        };
        let policy = Policy {
            openpgp: team.command_auth.contains(&AuthMethod::OpenPgp),
            dkim: team.command_auth.contains(&AuthMethod::Dkim),
            trusted_authserv_id: team.trusted_authserv_id.clone(),
            max_signature_age: SignedDuration::try_from(team.signature_max_age)
                .unwrap_or(SignedDuration::MAX),
            clock_skew: CLOCK_SKEW,
        };
        let who = match auth::authenticate(&evidence, &policy, team, now) {
            Ok(who) => who,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if let Some(report) = route.report() {
            let signed = self.signed_texts(&who, s);
            let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
            if let Err(refusal) = auth::require_bound(report, &signed, &who.member.email) {
                return Ok(Err(refusal));
            }
        }
        let Some(key) = auth::replay_key(&who.method, digest, s.msg.message_id.as_deref()) else {
            return Ok(Err(Refusal::NoReplayKey {
                member: who.member.email.clone(),
            }));
        };
        if !tx.remember_applied(&key, s.message, now)? {
            return Ok(Err(Refusal::Replayed {
                member: who.member.email.clone(),
            }));
        }
        Ok(Ok(who))
    }

    /// What the proof covers. OpenPGP: the signed (readable) text and the
    /// protected headers inside the signed entity. DKIM: the body and Subject.
    fn signed_texts(&self, who: &Authenticated, s: Stored<'_>) -> Vec<String> {
        let mut texts = vec![s.msg.text.clone()];
        match who.method {
            auth::Method::OpenPgp { .. } => {
                if let Some(inner) = s.pgp.and_then(|o| o.inner.as_deref()) {
                    let limits = ParseLimits::from_config(&self.config.limits);
                    let head = parse::parse_headers_only(inner, &limits);
                    if head.has_subject_header {
                        texts.push(head.subject);
                    }
                    texts.extend(head.recipients.into_iter().map(|r| r.address));
                }
            }
            auth::Method::Dkim { .. } => texts.push(s.msg.subject.clone()),
        }
        texts
    }

    /// Records the refusal and tells the member the mail named (at their
    /// configured address, never the mail's own Reply-To), within the rate
    /// limit of automatic mail.
    fn refuse(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        refusal: &Refusal,
        s: Stored<'_>,
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
            actor: from,
            auth: "none",
            kind: "team-mail-refused",
            detail: json!({ "code": refusal.code(), "reason": refusal.to_string() }),
            message: Some(s.message),
        })?;
        let Some(member) = refusal.member() else {
            return Ok(());
        };
        let rate_key = format!("refusal:{member}");
        let limits = &self.config.limits;
        let window =
            SignedDuration::try_from(limits.auto_reply_window).unwrap_or(SignedDuration::MAX);
        let since = now.checked_sub(window).unwrap_or(Timestamp::MIN);
        if tx.auto_replies_since(&rate_key, since)? >= limits.auto_replies_per_sender {
            return Ok(());
        }
        let program = &self.config.program;
        let body = self.templates.render(
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
                dkim: self.config.team.command_auth.contains(&AuthMethod::Dkim),
            },
        );
        let body = match body {
            Ok(body) => body,
            Err(err) => {
                tracing::warn!(error = %err, "cannot render the refusal");
                return Ok(());
            }
        };
        let subject = match report {
            Some(id) => format!("[{id}] Not accepted: a mail in your name"),
            None => "Not accepted: a mail in your name".to_owned(),
        };
        let mail = TeamMail {
            subject,
            body,
            secret: false,
            metadata: None,
            attachments: &[],
            reply_to: None,
            from_name: format!("{} disclosed", program.name),
            references: Vec::new(),
            auto_submitted: Some("auto-replied"),
        };
        self.send_to_member(
            tx,
            report,
            "refusal",
            &mail,
            member,
            Some(&rate_key),
            s.message,
            now,
        )
    }

    /// Relays `text` from `who` to the reporter of `report`, and copies it to
    /// the rest of the team.
    fn relay(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        who: &Authenticated,
        text: &str,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(record) = tx.report_record(report)? else {
            return Ok(());
        };
        let author = who.member.email.to_string();
        let event = |kind: &'static str, detail| NewEvent {
            report_id: Some(report),
            at: now,
            actor: &author,
            auth: who.method.as_str(),
            kind,
            detail,
            message: Some(s.message),
        };
        let parent = tx.latest_message_id_from(report, &record.reporter)?;
        let original = Original {
            report,
            reporter: &record.reporter,
            reporter_name: None,
            subject: &record.subject,
            message_id: parent.as_deref(),
            references: &[],
        };
        let mail = match respond::compose::relay(self.config, original, text, now) {
            Ok(mail) => mail,
            Err(err) => {
                tx.append_event(&event("relay-failed", json!({ "reason": err.to_string() })))?;
                return Ok(());
            }
        };
        let Some(protection) = self.to_reporter(
            tx,
            report,
            "relay",
            mail,
            &record.reporter,
            None,
            s.message,
            &author,
            who.method.as_str(),
            now,
        )?
        else {
            return Ok(());
        };
        // The first answer a person sends acknowledges the report (SPEC §1).
        if record.state == ReportState::New {
            tx.set_state(report, ReportState::Acknowledged, now)?;
            tx.append_event(&event(
                "state-changed",
                json!({ "to": "acknowledged", "change": "state: new → acknowledged",
                        "reason": "first answer to the reporter" }),
            ))?;
        }
        let program = &self.config.program;
        let reply_address = program.address.with_tag(report.as_str());
        let internal_address = program.address.with_tag(&format!("{report}-internal"));
        let author_line = format!("{} <{}>", who.member.name, who.member.email);
        let body = self.templates.render(
            "relay-copy",
            &TeamCopyData {
                author: author_line.clone(),
                report_id: report.as_str(),
                reporter: &record.reporter,
                text,
                reply_address: &reply_address,
                internal_address: &internal_address,
                protection: Some(protection.as_str()),
            },
        );
        let body = match body {
            Ok(body) => body,
            Err(err) => {
                tracing::warn!(report = %report, error = %err, "cannot render the relay copy");
                return Ok(());
            }
        };
        let mail = TeamMail {
            subject: format!("[{report}] {} answered the reporter", who.member.name),
            body,
            secret: true,
            metadata: Some((
                format!("[{report}] {} answered the reporter", who.member.name),
                format!(
                    "{author_line} answered the reporter of {report}.\n\nThe text is not in this mail because no OpenPGP key is configured for you.\nRead it with `disclosed report {report}`.\n\n-- \ndisclosed\n"
                ),
            )),
            attachments: &[],
            reply_to: Some(internal_address),
            from_name: format!("{} via {}", who.member.name, program.name),
            references: Vec::new(),
            auto_submitted: Some("auto-generated"),
        };
        self.send_to_team(
            tx,
            Some(report),
            "relay-copy",
            &mail,
            Some(&who.member.email),
            s.message,
            now,
        )
    }

    /// Passes an internal note to the other members; never to the reporter.
    fn internal_note(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        who: &Authenticated,
        text: &str,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let Some(record) = tx.report_record(report)? else {
            return Ok(());
        };
        let program = &self.config.program;
        let reply_address = program.address.with_tag(report.as_str());
        let internal_address = program.address.with_tag(&format!("{report}-internal"));
        let author_line = format!("{} <{}>", who.member.name, who.member.email);
        let author = who.member.email.to_string();
        tx.append_event(&NewEvent {
            report_id: Some(report),
            at: now,
            actor: &author,
            auth: who.method.as_str(),
            kind: "internal-note",
            detail: json!({ "chars": text.chars().count() }),
            message: Some(s.message),
        })?;
        let body = match self.templates.render(
            "internal-note",
            &TeamCopyData {
                author: author_line.clone(),
                report_id: report.as_str(),
                reporter: &record.reporter,
                text,
                reply_address: &reply_address,
                internal_address: &internal_address,
                protection: None,
            },
        ) {
            Ok(body) => body,
            Err(err) => {
                tracing::warn!(report = %report, error = %err, "cannot render the internal note");
                return Ok(());
            }
        };
        let subject = format!("[{report}] Note from {}", who.member.name);
        let mail = TeamMail {
            subject: subject.clone(),
            body,
            secret: true,
            metadata: Some((
                subject,
                format!(
                    "{author_line} wrote a note about {report}.\n\nIt is not in this mail because no OpenPGP key is configured for you.\nRead it with `disclosed report {report}`.\n\n-- \ndisclosed\n"
                ),
            )),
            attachments: &[],
            reply_to: Some(internal_address),
            from_name: format!("{} via {}", who.member.name, program.name),
            references: s.msg.message_id.iter().cloned().collect(),
            auto_submitted: None,
        };
        self.send_to_team(
            tx,
            Some(report),
            "internal-note",
            &mail,
            Some(&who.member.email),
            s.message,
            now,
        )
    }

    /// Protects `mail` for the reporter (encrypted to their key, held until one
    /// is known, or signed) and queues it. `None` if it could not be sealed.
    #[expect(
        clippy::too_many_arguments,
        reason = "the outbox row's and the event's facts"
    )]
    pub(super) fn to_reporter(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        kind: &'static str,
        mail: respond::Outgoing,
        reporter: &str,
        rate_key: Option<&str>,
        message: i64,
        actor: &str,
        auth: &str,
        now: Timestamp,
    ) -> Result<Option<Protection>, StoreError> {
        let event = |name: &'static str, detail| NewEvent {
            report_id: Some(report),
            at: now,
            actor,
            auth,
            kind: name,
            detail,
            message: Some(message),
        };
        let keys = self.known_keys(tx, reporter, true)?;
        let wrote_encrypted = tx.wrote_encrypted(reporter)?;
        let team = self.crypto.team.as_deref();
        let protected = match respond::protect::protect(
            mail.raw.clone(),
            &keys,
            wrote_encrypted,
            false,
            team,
            &self.config.program.address.to_string(),
            now,
        ) {
            Ok(p) => p,
            Err(err) => {
                tracing::warn!(report = %report, kind, error = %err, "cannot seal mail to the reporter");
                tx.append_event(&event(
                    "reporter-mail-failed",
                    json!({ "kind": kind, "reason": format!("cannot seal it: {err}") }),
                ))?;
                return Ok(None);
            }
        };
        let held = protected.protection == Protection::Hold;
        let sealed = respond::Outgoing {
            raw: protected.raw,
            ..mail
        };
        self.enqueue(tx, Some(report), kind, &sealed, rate_key, held, now)?;
        let detail = json!({ "kind": kind, "message_id": sealed.message_id, "to": reporter,
                             "protection": protected.protection.as_str() });
        if held {
            tx.append_event(&event("reply-held", detail))?;
        } else if kind == "relay" {
            tx.append_event(&event("relayed-to-reporter", detail))?;
        } else {
            tx.append_event(&event("reporter-mail-queued", detail))?;
        }
        Ok(Some(protected.protection))
    }

    /// Queues `mail` for one member.
    #[expect(clippy::too_many_arguments, reason = "the outbox row's facts")]
    fn send_to_member(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        kind: &'static str,
        mail: &TeamMail<'_>,
        member: &Address,
        rate_key: Option<&str>,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        match crate::respond::team::to_member(self.config, self.crypto, mail, member, now) {
            Ok(Some(m)) => {
                self.enqueue(tx, report, kind, &m.mail, rate_key, false, now)?;
                tx.append_event(&NewEvent {
                    report_id: report,
                    at: now,
                    actor: "disclosed",
                    auth: "none",
                    kind: "team-mail-queued",
                    detail: json!({ "kind": kind, "sent": [{ "to": member.to_string(), "message_id": m.mail.message_id,
                                     "protection": m.protection.as_str() }] }),
                    message: Some(message),
                })?;
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(kind, error = %err, "cannot compose mail to a member");
            }
        }
        Ok(())
    }
}

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
    fn commands(
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
        let auth = who.method.as_str();
        let report = route.report();
        let event = |kind: &'static str, detail| NewEvent {
            report_id: report,
            at: now,
            actor: &author,
            auth,
            kind,
            detail,
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
                tx.append_event(&event(
                    "commands-refused",
                    json!({ "refused": refused.iter().map(|r| json!({"line": r.line, "reason": r.reason})).collect::<Vec<_>>() }),
                ))?;
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
        for change in &changes {
            let detail = json!({ "change": change.describe() });
            match (change, report) {
                (Change::State { to, .. }, Some(id)) => {
                    tx.set_state(id, *to, now)?;
                    tx.append_event(&event(
                        "state-changed",
                        json!({ "to": to.as_str(), "change": change.describe() }),
                    ))?;
                }
                (Change::Severity(severity), Some(id)) => {
                    tx.set_severity(id, Some(severity.as_str()))?;
                    tx.append_event(&event("severity-set", detail))?;
                }
                (Change::Cvss(score), Some(id)) => {
                    tx.set_cvss(id, &score.vector, score.score, score.severity.as_str())?;
                    tx.append_event(&event("cvss-set", detail))?;
                    // The score rates the report unless the team set a severity.
                    let explicit = changes.iter().any(|c| matches!(c, Change::Severity(_)));
                    if !explicit && tx.report_record(id)?.is_some_and(|r| r.severity.is_none()) {
                        tx.set_severity(id, Some(score.severity.as_str()))?;
                        tx.append_event(&event(
                            "severity-set",
                            json!({ "change": format!("severity: {} (from the CVSS score)", score.severity.as_str()) }),
                        ))?;
                    }
                }
                (Change::Assign(assignee), Some(id)) => {
                    let email = assignee.as_ref().map(|a| a.email.to_string());
                    tx.set_assignee(id, email.as_deref())?;
                    tx.append_event(&event("assigned", detail))?;
                }
                (Change::Duplicate { of, reply, .. }, Some(id)) => {
                    tx.set_duplicate_of(id, of)?;
                    tx.set_state(id, crate::report::ReportState::Duplicate, now)?;
                    tx.append_event(&event(
                        "marked-duplicate",
                        json!({ "of": of.as_str(), "reply": reply }),
                    ))?;
                    // The original knows its duplicates too.
                    tx.append_event(&NewEvent {
                        report_id: Some(of),
                        ..event("duplicate-linked", json!({ "duplicate": id.as_str() }))
                    })?;
                    if *reply && let Some(r) = &record {
                        self.duplicate_reply(tx, r, &author, auth, s.message, now)?;
                    }
                }
                (Change::Cve(cve), Some(id)) => {
                    tx.set_cve(id, cve)?;
                    tx.append_event(&event("cve-set", detail))?;
                }
                (Change::Credit(credit), Some(id)) => {
                    let credit = match credit {
                        Some(c) => crate::report::Credit::Named {
                            name: c.name.clone(),
                            url: c.url.clone(),
                        },
                        None => crate::report::Credit::None,
                    };
                    tx.set_credit(id, &credit)?;
                    tx.append_event(&event("credit-recorded", detail))?;
                }
                (Change::FixedIn(version), Some(id)) => {
                    tx.set_fixed_in(id, version)?;
                    tx.append_event(&event("fixed-in-set", detail))?;
                }
                (Change::Disclose(date), Some(id)) => {
                    tx.set_disclose_on(id, *date)?;
                    tx.append_event(&event("disclosure-date-set", detail))?;
                }
                (Change::Extend { days, reason, .. }, Some(id)) => {
                    tx.add_fix_extension(id, *days)?;
                    tx.append_event(&event(
                        "fix-extended",
                        json!({ "days": days, "reason": reason }),
                    ))?;
                }
                (Change::Waiting, Some(id)) => {
                    tx.set_waiting(id, true)?;
                    tx.append_event(&event("waiting-started", detail))?;
                }
                (Change::Help, _) => help = true,
                (Change::List(state), _) => {
                    let records = tx.report_records(*state)?;
                    output.push(respond::control::list(&records, *state, tz));
                }
                (Change::Show(id), _) => match tx.report_record(id)? {
                    Some(r) => output.push(respond::control::show(&r, tz)),
                    None => output.push(format!("There is no report {id}.")),
                },
                (Change::Digest, _) => {
                    let records = tx.report_records(None)?;
                    output.push(respond::control::digest(&records, tz));
                }
                (Change::Stats, _) => {
                    let records = tx.report_records(None)?;
                    output.push(respond::control::stats(&records));
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
        let mail = TeamMail {
            subject,
            body,
            secret: true,
            metadata: Some((
                match report {
                    Some(id) => format!("[{id}] {verdict}: your commands"),
                    None => format!("{verdict}: your commands"),
                },
                "Your commands were processed. The answer is not in this mail because no OpenPGP key is configured for you; see `disclosed report`.\n\n-- \ndisclosed\n".to_owned(),
            )),
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
        auth: &str,
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
                self.to_reporter(
                    tx,
                    &r.id,
                    "duplicate",
                    mail,
                    &r.reporter,
                    None,
                    message,
                    actor,
                    auth,
                    now,
                )?;
            }
            Err(err) => {
                tracing::warn!(report = %r.id, error = %err, "cannot compose the duplicate reply")
            }
        }
        Ok(())
    }
}
