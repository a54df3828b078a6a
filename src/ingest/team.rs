//! Mail from the team: authenticate the member, apply the
//! commands at the top of the body, relay the answer to the reporter or pass an
//! internal note to the other members, and answer the commands. A mail that
//! cannot be authenticated changes nothing: the member it names is told.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::Pipeline;
use super::answer::ToReporter;
use super::notify::Stored;
pub(super) use super::plan::Route;
use crate::audit::{Actor, Auth, EventKind};
use crate::auth::{self, Authenticated, Evidence, Policy, Refusal};
use crate::command;
use crate::config::{Address, AuthMethod};
use crate::crypto::Signature;
use crate::parse::{self, ParseLimits, ParsedMessage};
use crate::report::{ReportId, ReportState};
use crate::respond::compose::Original;
use crate::respond::protect::Protection;
use crate::respond::team::TeamMail;
use crate::respond::templates::{RefusalData, RelayRefusedData, RouteUnprovenData, TeamCopyData};
use crate::respond::{self, strip};
use crate::store::{NewEvent, Recorder, StoreError, Tx};
use crate::thread;

/// A member's words as the other members get them.
struct TeamCopy {
    kind: &'static str,
    template: &'static str,
    subject: String,
    /// The headline of the metadata notice for members without a key.
    summary: String,
    /// How the relay left, for the copy of a relay.
    protection: Option<&'static str>,
    auto_submitted: Option<&'static str>,
    references: Vec<String>,
}

/// How far a signature may be dated ahead of our clock.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// What a member's proof covers, so what may act. Commands, the report binding,
/// the route to the reporter and the relayed text are read from here alone.
struct Covered {
    /// The mail as the team stages read it, its text (and attachments) taken
    /// from the covered content only, without a `#reply` line.
    msg: ParsedMessage,
    /// Texts the proof covers in which the report must be named (binding).
    bound_texts: Vec<String>,
    /// Whether the covered content sends the mail to the reporter: a `#reply`
    /// line, or the reply address in signed (protected) `To`/`Cc` headers.
    to_reporter: bool,
    /// Readable content outside the proof was left out.
    unsigned_rest: bool,
    /// For DKIM: what the domain's signatures leave uncovered that the mail
    /// needs (its whole body, its one `From:`); such a mail is refused.
    dkim_gap: Option<&'static str>,
}

impl Pipeline<'_> {
    /// Handles an authenticated-or-not mail from a team member's address.
    pub(super) fn team_mail(
        &self,
        tx: &Tx<'_>,
        route: &Route,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (who, covered) = match self.authenticate(tx, route, s, now)? {
            Ok(found) => found,
            Err(refusal) => return self.refuse(tx, route.report(), &refusal, s, now),
        };
        let author = who.member.email.to_string();
        let auth = who.method.audit();
        let rec = Recorder {
            report: route.report(),
            at: now,
            actor: Actor::Named(&author),
            auth,
            message: Some(s.message),
        };
        rec.record(
            tx,
            EventKind::TeamMailAuthenticated,
            json!({ "method": who.method.to_string() }),
        )?;
        if covered.unsigned_rest {
            rec.record(
                tx,
                EventKind::UnsignedContentIgnored,
                json!({ "reason": "text outside the signature is not read for commands, binding or relay" }),
            )?;
        }
        let route = match route {
            Route::Reply(id) if !covered.to_reporter => {
                self.route_unproven(tx, id, &who, s, now)?;
                Route::Internal(id.clone())
            }
            other => other.clone(),
        };
        let route = &route;
        let s = Stored {
            msg: &covered.msg,
            ..s
        };

        let outcome = self.commands(tx, route, &who, s, now)?;
        if !outcome.refused {
            // Every member's address and name: a relay must not reveal who is
            // on the team. An HTML answer is stripped from its HTML, where the
            // quoting still shows.
            let members = respond::team::team_members(self.config);
            let stripped = strip::relay_body(&s.msg.text, s.msg.html.as_deref(), &members);
            let note = strip::relay_text(&s.msg.text, &[]);
            match route {
                Route::Reply(id) if !stripped.is_empty() => {
                    rec.record(
                        tx,
                        EventKind::RelayStripped,
                        json!({ "command_lines": stripped.removed.command_lines,
                                "quoted_lines": stripped.removed.quoted_lines,
                                "cut_at": stripped.removed.tail.map(strip::Tail::as_str),
                                "cut_lines": stripped.removed.tail_lines,
                                "member_mentions": stripped.removed.member_mentions }),
                    )?;
                    self.relay(tx, id, &who, &stripped.text, s, now)?;
                }
                // Inside the team, names and addresses may stay.
                Route::Internal(id) if !note.is_empty() => {
                    self.internal_note(tx, id, &who, &note.text, s, now)?;
                }
                Route::Reply(_) | Route::Internal(_) if !outcome.any => {
                    rec.record(
                        tx,
                        EventKind::TeamMailEmpty,
                        json!({ "reason": "nothing left to pass on after removing quotes, signature and commands" }),
                    )?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Who sent the mail, if it proves it, what the proof covers, and whether
    /// it may act on `route` (bound to the report, not a replay). Only store
    /// errors are `Err`.
    fn authenticate(
        &self,
        tx: &Tx<'_>,
        route: &Route,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<Result<(Authenticated, Covered), Refusal>, StoreError> {
        let team = &self.config.team;
        let from = s
            .msg
            .from
            .as_ref()
            .map(|m| m.address.clone())
            .unwrap_or_default();
        // Only a signature whose covered content we have counts.
        let (valid_signer, signed_at, digest) =
            match s.pgp.and_then(|o| o.signed.as_ref()).map(|c| &c.signature) {
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
        let covered = self.covered(&who, route, s);
        if let (auth::Method::Dkim { domain }, Some(gap)) = (&who.method, covered.dkim_gap) {
            return Ok(Err(Refusal::DkimIncomplete {
                member: who.member.email.clone(),
                domain: domain.clone(),
                gap,
            }));
        }
        if let Some(report) = route.report() {
            let bound: Vec<&str> = covered.bound_texts.iter().map(String::as_str).collect();
            if let Err(refusal) = auth::require_bound(report, &bound, &who.member.email) {
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
        Ok(Ok((who, covered)))
    }

    /// What the proof covers. OpenPGP: exactly the signed entity (its text and
    /// protected `Subject`/`To`/`Cc`), never text around it. DKIM: what every
    /// `DKIM-Signature` of the passing domain lists (see [`auth::dkim_coverage`]):
    /// the body when no signature limits its length, `Subject` and `To` when
    /// signed; a `#reply` line in a covered body also chooses the reporter.
    fn covered(&self, who: &Authenticated, route: &Route, s: Stored<'_>) -> Covered {
        let limits = ParseLimits::from_config(&self.config.limits);
        let program = &self.config.program;
        let mut dkim_gap = None;
        let (mut msg, mut bound_texts, signed_recipients, unsigned_rest) = match &who.method {
            auth::Method::OpenPgp { .. } => {
                let signed = s.pgp.and_then(|o| o.signed.as_ref());
                // OpenPGP authenticates only from a signature with covered content.
                let entity = parse::parse(signed.map_or(&[][..], |c| &c.entity), &limits);
                let mut bound = Vec::new();
                if entity.has_subject_header {
                    bound.push(entity.subject.clone());
                }
                let recipients: Vec<String> = entity
                    .recipients
                    .iter()
                    .map(|r| r.address.clone())
                    .collect();
                bound.extend(recipients.iter().cloned());
                let msg = ParsedMessage {
                    text: entity.text,
                    html: entity.html,
                    attachments: entity.attachments,
                    ..s.msg.clone()
                };
                (
                    msg,
                    bound,
                    recipients,
                    signed.is_some_and(|c| c.unsigned_rest),
                )
            }
            auth::Method::Dkim { domain } => {
                let coverage = s
                    .raw
                    .map(|raw| auth::dkim_coverage(raw, domain))
                    .unwrap_or_default();
                dkim_gap = if !coverage.whole_body {
                    Some("the whole body (a signature has an l= length limit, or none was found)")
                } else if !coverage.from {
                    Some("exactly one From header")
                } else {
                    None
                };
                let subject = coverage.subject.then(|| s.msg.subject.clone());
                // Only a signed `To:` shows where the member sent it.
                let recipients = match s.raw {
                    Some(raw) if coverage.to => parse::to_addresses(raw),
                    _ => Vec::new(),
                };
                (
                    s.msg.clone(),
                    subject.into_iter().collect(),
                    recipients,
                    false,
                )
            }
        };
        let (directive, text) = command::take_reply_directive(&msg.text);
        msg.text = text;
        bound_texts.push(msg.text.clone());
        let signed_token = thread::find_token(
            signed_recipients.iter().map(String::as_str),
            &program.address,
            &program.id_prefix,
        );
        let to_reporter = match route {
            Route::Reply(id) => directive || signed_token == Some(thread::Token::Reply(id.clone())),
            Route::Internal(_) | Route::Control => false,
        };
        Covered {
            msg,
            bound_texts,
            to_reporter,
            unsigned_rest,
            dkim_gap,
        }
    }

    /// A member's mail reached the reply address, but nothing the proof covers
    /// says it is meant for the reporter: the outer `To:` could have been changed
    /// on the way. It stays inside the team, and the member is told how to
    /// relay it.
    fn route_unproven(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        who: &Authenticated,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let author = who.member.email.to_string();
        tx.append_event(&NewEvent {
            report_id: Some(report),
            at: now,
            actor: Actor::Named(&author),
            auth: who.method.audit(),
            kind: EventKind::RelayRouteUnproven,
            detail: json!({ "reason": "the reply address is outside the signed content; kept inside the team" }),
            message: Some(s.message),
        })?;
        let program = &self.config.program;
        let body = self.templates.render(
            "route-unproven",
            &RouteUnprovenData {
                program_name: &program.name,
                member: &author,
                report_id: report.as_str(),
                reply_address: &program.address.with_tag(report.as_str()),
                message_id: s.msg.message_id.as_deref().unwrap_or("(none)"),
                directive: command::REPLY_DIRECTIVE,
            },
        );
        let body = match body {
            Ok(body) => body,
            Err(err) => {
                tracing::warn!(error = %err, "cannot render the unproven-route notice");
                return Ok(());
            }
        };
        let mail = TeamMail {
            subject: format!("[{report}] Not relayed: kept inside the team"),
            body,
            secret: false,
            metadata: None,
            attachments: &[],
            reply_to: None,
            from_name: format!("{} disclosed", program.name),
            references: s.msg.message_id.iter().cloned().collect(),
            auto_submitted: Some("auto-replied"),
        };
        self.send_to_member(
            tx,
            Some(report),
            "route-unproven",
            &mail,
            &who.member.email,
            None,
            s.message,
            now,
        )
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
        let sent = self.automatic_replies_in_window(tx, &rate_key, now)?;
        if !thread::within_rate_limit(sent, self.config.limits.auto_replies_per_sender) {
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
    /// the rest of the team. An HTML body is stripped again from its HTML (the
    /// text conversion lost its quotes). Nothing leaves when the text carries
    /// lines of mail sent to the team: the member is told which.
    fn relay(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        who: &Authenticated,
        text: &str,
        s: Stored<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        use crate::respond::leak;

        let Some(record) = tx.report_record(report)? else {
            return Ok(());
        };
        let author = who.member.email.to_string();
        let rec = Recorder {
            report: Some(report),
            at: now,
            actor: Actor::Named(&author),
            auth: who.method.audit(),
            message: Some(s.message),
        };
        let members = respond::team::team_members(self.config);

        let lines = leak::relay_lines(text, &members);
        let fingerprints = leak::all_fingerprints(&lines);
        let known = leak::Known {
            team: tx.team_line_reports(&fingerprints)?,
            relayed_by_author: tx.relayed_by(&author, &fingerprints)?,
        };
        let exempt = if known
            .team
            .keys()
            .any(|f| !known.relayed_by_author.contains(f))
        {
            self.relay_exemptions(tx, report, &record.reporter, &author, s.message, &members)?
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
            let program = &self.config.program;
            let (lines, more) = leak::shown_lines(&verdict.internal);
            let rendered = self
                .templates
                .render(
                    "relay-refused",
                    &RelayRefusedData {
                        report_id: report.as_str(),
                        count: verdict.internal.len(),
                        lines: &lines,
                        more,
                        reply_address: &program.address.with_tag(report.as_str()),
                    },
                )
                .map_err(respond::compose::ComposeError::from)
                .and_then(|body| {
                    // Without a key the member is not shown the lines.
                    let metadata = respond::compose::metadata_notice(
                        self.templates,
                        "Not relayed: your answer carries internal text",
                        Some(report),
                        Some(record.state.as_str()),
                        Vec::new(),
                    )?;
                    Ok((body, metadata))
                });
            let (body, metadata) = match rendered {
                Ok(bodies) => bodies,
                Err(err) => {
                    tracing::warn!(report = %report, error = %err, "cannot render the relay refusal");
                    return Ok(());
                }
            };
            let subject = format!("[{report}] Not relayed: your answer carries internal text");
            let mail = TeamMail {
                subject,
                body,
                secret: true,
                metadata: Some(metadata),
                attachments: &[],
                reply_to: Some(program.address.with_tag(&format!("{report}-internal"))),
                from_name: format!("{} disclosed", program.name),
                references: s.msg.message_id.iter().cloned().collect(),
                auto_submitted: Some("auto-replied"),
            };
            return self.send_to_member(
                tx,
                Some(report),
                "relay-refused",
                &mail,
                &who.member.email,
                None,
                s.message,
                now,
            );
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
        let mail = match respond::compose::relay(self.config, original, text, now) {
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
        let sent = self.to_reporter(
            tx,
            report,
            mail,
            &ToReporter {
                kind: "relay",
                to: &record.reporter,
                rate_key: None,
                content_free: false,
                actor: Actor::Named(&author),
                auth: who.method.audit(),
                message: s.message,
            },
            now,
        )?;
        let Some((protection, message_id)) = sent else {
            return Ok(());
        };
        tx.record_relayed_lines(&author, &verdict.fresh, now)?;
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
        self.copy_to_team(
            tx,
            report,
            &record.reporter,
            who,
            text,
            TeamCopy {
                kind: "relay-copy",
                template: "relay-copy",
                subject: format!("[{report}] {} answered the reporter", who.member.name),
                summary: format!("{} answered the reporter", who.member.name),
                protection: Some(protection.as_str()),
                auto_submitted: Some("auto-generated"),
                references: Vec::new(),
            },
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
        let author = who.member.email.to_string();
        tx.append_event(&NewEvent {
            report_id: Some(report),
            at: now,
            actor: Actor::Named(&author),
            auth: who.method.audit(),
            kind: EventKind::InternalNote,
            detail: json!({ "chars": text.chars().count() }),
            message: Some(s.message),
        })?;
        self.copy_to_team(
            tx,
            report,
            &record.reporter,
            who,
            text,
            TeamCopy {
                kind: "internal-note",
                template: "internal-note",
                subject: format!("[{report}] Note from {}", who.member.name),
                summary: format!("{} wrote a note", who.member.name),
                protection: None,
                // A person wrote it: a member's auto-responder may answer it
                // (to the internal address, where it changes nothing).
                auto_submitted: None,
                references: s.msg.message_id.iter().cloned().collect(),
            },
            s.message,
            now,
        )
    }

    /// Passes a member's words to the other members, encrypted to each.
    #[expect(
        clippy::too_many_arguments,
        reason = "whose words, about what, and how"
    )]
    fn copy_to_team(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        reporter: &str,
        who: &Authenticated,
        text: &str,
        copy: TeamCopy,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let program = &self.config.program;
        let reply_address = program.address.with_tag(report.as_str());
        let internal_address = program.address.with_tag(&format!("{report}-internal"));
        let body = match self.templates.render(
            copy.template,
            &TeamCopyData {
                author: format!("{} <{}>", who.member.name, who.member.email),
                report_id: report.as_str(),
                reporter,
                text,
                reply_address: &reply_address,
                internal_address: &internal_address,
                protection: copy.protection,
            },
        ) {
            Ok(body) => body,
            Err(err) => {
                tracing::warn!(report = %report, error = %err, template = copy.template, "cannot render mail to the team");
                return Ok(());
            }
        };
        // A member without a key learns what every metadata notice says.
        let state = tx.report_state(report)?;
        let metadata = match respond::compose::metadata_notice(
            self.templates,
            &copy.summary,
            Some(report),
            state.map(|s| s.as_str()),
            Vec::new(),
        ) {
            Ok(metadata) => metadata,
            Err(err) => {
                tracing::warn!(report = %report, error = %err, "cannot render the notice to members without a key");
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
            from_name: format!("{} via {}", who.member.name, program.name),
            references: copy.references,
            auto_submitted: copy.auto_submitted,
        };
        self.send_to_team(
            tx,
            Some(report),
            copy.kind,
            &mail,
            Some(&who.member.email),
            message,
            now,
        )
    }

    /// Queues `mail` for one member.
    #[expect(clippy::too_many_arguments, reason = "the outbox row's facts")]
    pub(super) fn send_to_member(
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
                    actor: Actor::Daemon,
                    auth: Auth::None,
                    kind: EventKind::TeamMailQueued,
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

    /// What a relay in `report` by `author` may carry although mail to the team
    /// carried it too: the lines of the reporter's messages in the report, and
    /// the author's own words (quotes stripped) in their earlier mail there.
    /// Read back from the stored messages, the latest hundred of each.
    fn relay_exemptions(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        reporter: &str,
        author: &str,
        message: i64,
        members: &strip::Members,
    ) -> Result<crate::respond::leak::Exempt, StoreError> {
        use crate::respond::leak;

        const LATEST: usize = 100;
        let limits = ParseLimits::from_config(&self.config.limits);
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
}
