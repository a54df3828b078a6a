//! Orders the stages for a batch of incoming messages and draws the transaction
//! boundary: parse outside the transaction, then thread, store and queue replies
//! for the whole batch in one transaction.
//! Decisions are made by the pure functions of `thread` and `respond`; the
//! OpenPGP steps (opening, learning keys, releasing held mail) are in `pgp`.

mod commands;
mod notify;
mod pgp;
mod team;

use std::sync::Mutex;

use jiff::Timestamp;
use sequoia_openpgp::Cert;
use serde_json::json;

use crate::config::Config;
use crate::crypto::{Crypto, Encryption, FailReason, Opened};
use crate::parse::{self, ParseLimits, ParsedMessage, Problem};
use crate::report::ReportId;
use crate::respond::protect::Protection;
use crate::respond::{self, Templates, compose::Original};
use crate::source::{Incoming, Raw};
use crate::store::{
    Batch, NewAttachment, NewEvent, NewMail, NewMessage, SentMail, Store, StoreError, Tx, lock,
};
use crate::thread::{self, Automation, Candidate, Class, Decision, Sender, Token, Via, bounce};
use pgp::{crypto_problems, open_and_merge, record_crypto};

/// What the daemon needs to ingest: config, compiled templates and keys.
#[derive(Debug)]
pub struct Pipeline<'a> {
    pub config: &'a Config,
    pub rules: &'a crate::triage::Rules,
    pub templates: &'a Templates,
    pub crypto: &'a Crypto,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its content was stored before (a redelivery or a restart): nothing new.
    AlreadyStored,
    Stored {
        message: i64,
        report: Option<ReportId>,
        opened: bool,
        acknowledged: bool,
    },
}

/// A message parsed and ready for the store; it owns its bytes so that parsing
/// can run on another thread than storing.
#[derive(Debug)]
pub struct Prepared {
    /// Where on the source (e.g. the Maildir file name).
    pub location: String,
    sha256: String,
    size: u64,
    raw: Option<Vec<u8>>,
    parsed: ParsedMessage,
    /// What OpenPGP made of it, opened here (off the store's lock, on the
    /// reader's thread) with the keyring's keys: the result, and the message
    /// merged with its readable inner entity.
    pgp: Option<(Opened, ParsedMessage)>,
}

impl Prepared {
    /// Bytes held in memory, for batch sizing.
    pub fn memory(&self) -> usize {
        self.raw.as_ref().map_or(0, Vec::len)
            + self.parsed.text.len()
            + self.parsed.html.as_ref().map_or(0, String::len)
    }
}

/// Hashes and parses a message, and opens it when it shows signs of OpenPGP.
/// Needs no store: callers do it before taking the store's lock, or on another
/// thread.
pub fn prepare(
    incoming: Incoming,
    limits: &crate::config::Limits,
    crypto: &Crypto,
    now: Timestamp,
) -> Prepared {
    let parse_limits = ParseLimits::from_config(limits);
    match incoming.raw {
        Raw::Loaded(bytes) => {
            let parsed = parse::parse(&bytes, &parse_limits);
            let pgp = parsed.openpgp_hint.then(|| {
                let from = parsed.from.as_ref().map(|m| m.address.as_str());
                let keyring: Vec<Cert> = from
                    .map(|address| crypto.verification_keys(address))
                    .unwrap_or_default();
                open_and_merge(&bytes, &parsed, crypto, &keyring, limits, now)
            });
            Prepared {
                location: incoming.location,
                sha256: parse::sha256_hex(&bytes),
                size: bytes.len() as u64,
                parsed,
                raw: Some(bytes),
                pgp,
            }
        }
        Raw::TooLarge { size, head, sha256 } => {
            let mut parsed = parse::parse_headers_only(&head, &parse_limits);
            parsed.problems.push(Problem::Oversized {
                size,
                limit: limits.max_message_size,
            });
            Prepared {
                location: incoming.location,
                sha256,
                size,
                raw: None,
                parsed,
                pgp: None,
            }
        }
    }
}

impl Pipeline<'_> {
    /// Ingests `batch` from `source`, all in one transaction. If that fails, each
    /// message is tried in a transaction of its own, so one message the store
    /// cannot take never holds up the others. Only messages whose result is `Ok`
    /// may be marked processed on the source.
    pub fn ingest(
        &self,
        store: &Mutex<Store>,
        source: &str,
        prepared: &[Prepared],
        now: Timestamp,
    ) -> Vec<Result<Outcome, StoreError>> {
        self.ingest_then(store, source, prepared, now, |_| Ok(())).0
    }

    /// Like [`Self::ingest`], and runs `also` (e.g. advancing the source's
    /// cursor) in the batch's transaction. The flag says whether it ran: not
    /// when the batch had to be stored message by message.
    pub fn ingest_then(
        &self,
        store: &Mutex<Store>,
        source: &str,
        prepared: &[Prepared],
        now: Timestamp,
        also: impl FnOnce(&Tx<'_>) -> Result<(), StoreError>,
    ) -> (Vec<Result<Outcome, StoreError>>, bool) {
        let mut store = lock(store);
        let whole = store.write(|w: &mut Batch<'_>| {
            let tx = w.tx();
            let outcomes = prepared
                .iter()
                .map(|p| self.ingest_one(&tx, source, p, now))
                .collect::<Result<Vec<_>, _>>()?;
            also(&tx)?;
            Ok::<_, StoreError>(outcomes)
        });
        match whole {
            Ok(outcomes) => (outcomes.into_iter().map(Ok).collect(), true),
            Err(err) if prepared.len() == 1 => (vec![Err(err)], false),
            Err(err) => {
                tracing::warn!(error = %err, messages = prepared.len(), "batch failed; storing its messages one by one");
                let results = prepared
                    .iter()
                    .map(|p| store.write(|w| self.ingest_one(&w.tx(), source, p, now)))
                    .collect();
                (results, false)
            }
        }
    }

    fn ingest_one(
        &self,
        tx: &Tx<'_>,
        source: &str,
        p: &Prepared,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        if tx.message_by_hash(&p.sha256)?.is_some() {
            return Ok(Outcome::AlreadyStored);
        }
        let config = self.config;
        let program = &config.program;
        let prefix = program.id_prefix.as_str();
        let (msg, pgp) = self.open(tx, p, now)?;
        let msg = msg.as_ref();
        let mut problems = msg.problems.clone();
        if let Some(o) = &pgp {
            problems.extend(crypto_problems(o));
        }

        if let Some(id) = &msg.message_id
            && let Some(first) = tx.first_message_with_id(id)?
        {
            problems.push(Problem::DuplicateMessageId { first });
        }

        let own = self.own_copy(tx, msg, p.raw.as_deref())?;
        let class = thread::classify(msg, &program.address, &config.team, own.is_some());
        let Threading {
            candidate,
            token,
            returned,
        } = self.candidate(tx, msg, class, own)?;
        match (class.sender, class.automation) {
            (Sender::Spoofed, _) => problems.push(Problem::SpoofedOwnAddress),
            (Sender::External, Some(Automation::Bounce)) if returned.is_none() => {
                problems.push(Problem::UnverifiedBounce);
            }
            _ => {}
        }
        if let Some(Token::Reply(id) | Token::Internal(id)) = &token
            && candidate.as_ref().is_none_or(|c| c.via != Via::PlusAddress)
        {
            problems.push(Problem::UnknownReportToken {
                token: id.to_string(),
            });
        }
        let sender = msg.from.as_ref().map(|m| m.address.as_str());
        let participates = match (&candidate, sender) {
            (Some(c), Some(addr)) => tx.participant_role(&c.report, addr)?.is_some(),
            _ => false,
        };
        let decision = thread::decide(class, candidate, participates);

        let (report, opened, via, mentioned) = match &decision {
            Decision::Attach(c) => (Some(c.report.clone()), false, c.via.as_str(), None),
            Decision::Open { mentioned } => {
                let year = now.to_zoned_datetime(program.timezone.clone()).year();
                let reporter = sender.unwrap_or("unknown");
                let id = tx.create_report(prefix, year, reporter, &msg.subject, now)?;
                (Some(id), true, "new-report", mentioned.clone())
            }
            Decision::Unattached { .. } => (None, false, "none", None),
        };

        let answer = if opened {
            thread::may_auto_reply(class, sender.is_some())
        } else {
            Err("only new reports are acknowledged automatically")
        };
        if let Decision::Unattached { reason } = decision {
            problems.push(Problem::NotAnswered { reason });
        } else if class.automation.is_some()
            && let Err(reason) = thread::may_auto_reply(class, true)
        {
            problems.push(Problem::NotAnswered { reason });
        }

        let problem_texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let recipients: Vec<String> = msg.recipients.iter().map(|m| m.address.clone()).collect();
        let kind = class.kind(opened, participates);
        let message = tx.insert_message(&NewMessage {
            sha256: &p.sha256,
            raw: p.raw.as_deref(),
            size: p.size,
            source,
            location: &p.location,
            message_id: msg.message_id.as_deref(),
            in_reply_to: msg.in_reply_to.as_deref(),
            references: &msg.references,
            from_addr: sender,
            from_name: msg.from.as_ref().and_then(|m| m.name.as_deref()),
            to_addrs: &recipients,
            subject: &msg.subject,
            date: msg.date,
            kind,
            report_id: report.as_ref(),
            threaded_by: via,
            problems: &problem_texts,
            received_at: now,
        })?;
        if let Some(o) = &pgp {
            record_crypto(tx, message, o)?;
        }
        for a in &msg.attachments {
            tx.insert_attachment(
                message,
                &NewAttachment {
                    name: a.name.as_deref(),
                    content_type: &a.content_type,
                    size: a.size,
                    sha256: &a.sha256,
                },
            )?;
        }

        let actor = sender.unwrap_or("unknown");
        let event = |report_id, kind, detail| NewEvent {
            report_id,
            at: now,
            actor,
            auth: "none",
            kind,
            detail,
            message: Some(message),
        };
        let codes: Vec<&str> = problems.iter().map(Problem::code).collect();
        if opened && let Some(id) = &report {
            tx.append_event(&event(
                Some(id),
                "report-opened",
                json!({ "subject": msg.subject, "mentioned": mentioned.as_ref().map(ReportId::as_str) }),
            ))?;
            if let Some(from) = &msg.from {
                tx.upsert_participant(id, &from.address, from.name.as_deref(), "reporter", now)?;
            }
            for cc in msg
                .recipients
                .iter()
                .filter(|r| self.is_outsider(&r.address))
            {
                tx.upsert_participant(id, &cc.address, cc.name.as_deref(), "cc", now)?;
            }
        } else if let Some(id) = &report {
            tx.touch_report(id, now)?;
            if participates && let Some(from) = &msg.from {
                tx.upsert_participant(id, &from.address, None, "reporter", now)?;
            }
        }
        let crypto_detail = pgp.as_ref().map(|o| {
            json!({
                "form": o.form.as_str(),
                "encryption": o.encryption.code(),
                "signature": o.signature.code(),
                "signer": o.signature.signer(),
            })
        });
        tx.append_event(&event(
            report.as_ref(),
            "message-received",
            json!({ "kind": kind, "via": via, "problems": codes, "openpgp": crypto_detail }),
        ))?;
        if let Some(from) = &msg.from
            && self.is_outsider(&from.address)
        {
            let empty = Opened::plain();
            let found = pgp.as_ref().unwrap_or(&empty);
            self.learn_keys(
                tx,
                report.as_ref(),
                &from.address,
                found,
                &p.parsed,
                message,
                now,
            )?;
        }

        let unreadable = pgp.as_ref().and_then(|o| match &o.encryption {
            Encryption::Failed { reason, .. } => Some(match reason {
                FailReason::NoKey => respond::Unreadable::WrongKey,
                _ => respond::Unreadable::Damaged,
            }),
            _ => None,
        });
        // Triage rules look at new reports from outside only, and never at
        // one we could not read.
        let rule = match (&report, class.sender, class.automation, unreadable) {
            (Some(_), Sender::External, None, None) if opened => {
                self.rules
                    .first_match(&msg.subject, &msg.text, sender.unwrap_or(""))
            }
            _ => None,
        };
        if let (Some(rule), Some(id)) = (rule, &report) {
            if let Some(state) = rule.state() {
                tx.set_state(id, state, now)?;
            }
            tx.add_tags(id, rule.tags())?;
            tx.append_event(&NewEvent {
                actor: "disclosed",
                ..event(
                    Some(id),
                    "rule-applied",
                    json!({ "rule": rule.name(), "state": rule.state().map(|s| s.as_str()),
                            "tags": rule.tags(), "reply": rule.reply() }),
                )
            })?;
        }
        let reply_template = rule
            .and_then(|r| r.reply())
            .and_then(|name| respond::templates::names().find(|n| *n == name))
            .zip(rule.map(|r| r.name()));
        let mut acknowledged = false;
        if let (true, Ok(()), Some(id), Some(from)) = (opened, answer, &report, &msg.from) {
            acknowledged =
                self.acknowledge(tx, id, from, msg, unreadable, reply_template, message, now)?;
        } else if let (true, Err(reason), Some(id)) = (opened, answer, &report) {
            tx.append_event(&event(
                Some(id),
                "acknowledgement-skipped",
                json!({ "reason": reason }),
            ))?;
        }
        let stored = notify::Stored {
            message,
            msg,
            pgp: pgp.as_ref(),
            raw: p.raw.as_deref(),
            problems: &problem_texts,
        };
        match (&report, class.sender, class.automation) {
            (Some(id), Sender::External, None) if opened => {
                self.notify_team(tx, id, stored, "New report", now)?;
            }
            (Some(id), Sender::External, None) => {
                let is_reporter = match sender {
                    Some(address) => {
                        tx.participant_role(id, address)?.as_deref() == Some("reporter")
                    }
                    None => false,
                };
                self.reporter_followup(tx, id, stored, is_reporter, now)?;
            }
            // Automatic mail never counts as the reporter answering. A bounce
            // of a mail we sent (found by its return path) is a delivery
            // problem for the team to see; any other stays where it is stored.
            (report, Sender::External, Some(Automation::Bounce)) => {
                if let Some(sent) = &returned {
                    self.delivery_problem(tx, report.as_ref(), stored, sent, now)?;
                }
            }
            // A member's out-of-office reply to a notification acts on nothing.
            (_, Sender::Team, None) => {
                let route = match (&token, &report, via) {
                    (Some(Token::Reply(id)), Some(r), "plus-address") if id == r => {
                        Some(team::Route::Reply(id.clone()))
                    }
                    (Some(Token::Control), _, _) => Some(team::Route::Control),
                    // The internal address, or a report named only by subject or
                    // references: team only, never relayed.
                    (_, Some(r), _) => Some(team::Route::Internal(r.clone())),
                    _ => None,
                };
                if let Some(route) = route {
                    self.team_mail(tx, &route, stored, now)?;
                }
            }
            _ => {}
        }
        Ok(Outcome::Stored {
            message,
            report,
            opened,
            acknowledged,
        })
    }

    /// The outbox row `msg` is a copy of: its Message-ID is the row's and so
    /// is its body. Nothing else (our From, a Message-ID shaped like ours)
    /// makes mail ours; a message only known by its headers is not.
    fn own_copy(
        &self,
        tx: &Tx<'_>,
        msg: &ParsedMessage,
        raw: Option<&[u8]>,
    ) -> Result<Option<SentMail>, StoreError> {
        let (Some(id), Some(raw)) = (&msg.message_id, raw) else {
            return Ok(None);
        };
        Ok(tx
            .sent_by_message_id(id)?
            .filter(|sent| thread::own::same_body(raw, &sent.raw)))
    }

    /// Where `msg` points. Our own mail: the report of the outbox row it
    /// copies. Mail claiming to be ours: nowhere. Automatic mail to a return
    /// path: the report of the row whose token it names, and for a bounce
    /// nothing else counts. Otherwise SPEC §3 in order: plus-address token,
    /// subject tag, references.
    fn candidate(
        &self,
        tx: &Tx<'_>,
        msg: &ParsedMessage,
        class: Class,
        own: Option<SentMail>,
    ) -> Result<Threading, StoreError> {
        let program = &self.config.program;
        let prefix = program.id_prefix.as_str();
        match class.sender {
            Sender::Own => {
                let candidate = own.and_then(|sent| sent.report_id).map(|report| Candidate {
                    report,
                    via: Via::Outbox,
                });
                return Ok(Threading {
                    candidate,
                    ..Threading::default()
                });
            }
            Sender::Spoofed => return Ok(Threading::default()),
            Sender::Team | Sender::External => {}
        }
        if class.automation.is_some()
            && let Some(token) = bounce::return_token(thread::addresses(msg), &program.address)
            && let Some(sent) = tx.sent_by_return_token(&token)?
        {
            let candidate = sent.report_id.clone().map(|report| Candidate {
                report,
                via: Via::ReturnPath,
            });
            return Ok(Threading {
                candidate,
                token: None,
                returned: Some(sent),
            });
        }
        if class.sender == Sender::External && class.automation == Some(Automation::Bounce) {
            return Ok(Threading::default());
        }
        let token = thread::find_token(thread::addresses(msg), &program.address, prefix);
        let threading = |candidate| Threading {
            candidate: Some(candidate),
            token: token.clone(),
            returned: None,
        };
        if let Some(Token::Reply(id) | Token::Internal(id)) = &token
            && tx.report_state(id)?.is_some()
        {
            return Ok(threading(Candidate {
                report: id.clone(),
                via: Via::PlusAddress,
            }));
        }
        if let Some(id) = thread::subject_tag(&msg.subject, prefix)
            && tx.report_state(&id)?.is_some()
        {
            return Ok(threading(Candidate {
                report: id,
                via: Via::SubjectTag,
            }));
        }
        for id in msg.referenced_ids() {
            if let Some(report) = tx.report_for_message_id(id)? {
                return Ok(threading(Candidate {
                    report,
                    via: Via::References,
                }));
            }
        }
        Ok(Threading {
            token,
            ..Threading::default()
        })
    }

    /// An address outside the program and the team (a reporter's colleague in Cc).
    fn is_outsider(&self, address: &str) -> bool {
        !thread::is_program_address(address, &self.config.program.address)
            && self.config.team.member(address).is_none()
    }

    /// Queues `mail` (already protected).
    #[expect(clippy::too_many_arguments, reason = "the outbox row's facts")]
    fn enqueue(
        &self,
        tx: &Tx<'_>,
        report: Option<&ReportId>,
        kind: &str,
        mail: &respond::Outgoing,
        rate_key: Option<&str>,
        held: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        tx.enqueue(
            &NewMail {
                rate_key,
                held,
                ..mail.to_queue(report, kind)
            },
            now,
        )?;
        Ok(())
    }

    /// Queues the acknowledgement, unless the sender's automatic replies are used
    /// up: encrypted to the reporter's key when one is known, held when they wrote
    /// encrypted and none is. `unreadable` says the report could not be decrypted:
    /// the reply then says only that. `rule_reply` (template, rule) replaces
    /// the acknowledgement when a triage rule answers the report.
    #[expect(clippy::too_many_arguments, reason = "the facts of one message")]
    fn acknowledge(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        from: &parse::Mailbox,
        msg: &ParsedMessage,
        unreadable: Option<respond::Unreadable>,
        rule_reply: Option<(&'static str, &str)>,
        message: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let limits = &self.config.limits;
        let sent = self.automatic_replies_in_window(tx, &from.address, now)?;
        let event = |kind: &'static str, detail| NewEvent {
            report_id: Some(report),
            at: now,
            actor: "disclosed",
            auth: "none",
            kind,
            detail,
            message: Some(message),
        };
        if !thread::within_rate_limit(sent, limits.auto_replies_per_sender) {
            tx.append_event(&event(
                "acknowledgement-skipped",
                json!({ "reason": "rate limit", "sent_in_window": sent, "limit": limits.auto_replies_per_sender }),
            ))?;
            return Ok(false);
        }
        let original = Original {
            report,
            reporter: &from.address,
            reporter_name: from.name.as_deref(),
            subject: &msg.subject,
            message_id: msg.message_id.as_deref(),
            references: &msg.references,
        };
        let team = self.crypto.team.as_deref();
        let composed = match (unreadable, team) {
            (None, _) if let Some((template, rule)) = rule_reply => {
                respond::compose::reporter_reply(
                    self.config,
                    self.templates,
                    template,
                    original,
                    Some(rule),
                    now,
                )
            }
            (Some(why), Some(team)) => respond::undecryptable_acknowledgement(
                self.config,
                self.templates,
                original,
                why,
                &team.current().fingerprint().to_hex(),
                now,
            ),
            _ => respond::acknowledgement(self.config, self.templates, original, now),
        };
        let mail = match composed {
            Ok(mail) => mail,
            Err(err) => {
                tracing::warn!(report = %report, error = %err, "cannot compose the acknowledgement");
                tx.append_event(&event(
                    "acknowledgement-failed",
                    json!({ "reason": err.to_string() }),
                ))?;
                return Ok(false);
            }
        };
        let sent = self.to_reporter(
            tx,
            report,
            mail,
            &ToReporter {
                kind: "acknowledgement",
                to: &from.address,
                rate_key: Some(&from.address),
                content_free: unreadable.is_some(),
                actor: "disclosed",
                auth: "none",
                message,
            },
            now,
        )?;
        match sent {
            Some((protection, message_id)) if protection != Protection::Hold => {
                tx.append_event(&event(
                    "acknowledgement-queued",
                    json!({ "message_id": message_id, "to": from.address, "protection": protection.as_str(),
                            "unreadable": unreadable.is_some() }),
                ))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// How many automatic mails counted against `rate_key` were queued within
    /// `[limits] auto_reply_window` before `now`.
    fn automatic_replies_in_window(
        &self,
        tx: &Tx<'_>,
        rate_key: &str,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        let window = jiff::SignedDuration::try_from(self.config.limits.auto_reply_window)
            .unwrap_or(jiff::SignedDuration::MAX);
        let since = now.checked_sub(window).unwrap_or(Timestamp::MIN);
        tx.auto_replies_since(rate_key, since)
    }

    /// Protects `mail` for the reporter (encrypted to their key, held until one
    /// is known, or signed) and queues it: the protection and the Message-ID,
    /// or `None` if it could not be sealed (recorded as `{kind}-failed`).
    pub(super) fn to_reporter(
        &self,
        tx: &Tx<'_>,
        report: &ReportId,
        mail: respond::Outgoing,
        r: &ToReporter<'_>,
        now: Timestamp,
    ) -> Result<Option<(Protection, String)>, StoreError> {
        let event = |kind: &'static str, detail| NewEvent {
            report_id: Some(report),
            at: now,
            actor: r.actor,
            auth: r.auth,
            kind,
            detail,
            message: Some(r.message),
        };
        let wrote_encrypted = tx.wrote_encrypted(r.to)?;
        let keys = self.reporter_keys(tx, r.to, wrote_encrypted && !r.content_free)?;
        let protected = match respond::protect::protect(
            mail.raw.clone(),
            &keys,
            wrote_encrypted,
            r.content_free,
            self.crypto.team.as_deref(),
            &self.config.program.address.to_string(),
            now,
        ) {
            Ok(p) => p,
            Err(err) => {
                tracing::warn!(report = %report, kind = r.kind, error = %err, "cannot seal mail to the reporter");
                let failed = if r.kind == "acknowledgement" {
                    "acknowledgement-failed"
                } else {
                    "reporter-mail-failed"
                };
                tx.append_event(&event(
                    failed,
                    json!({ "kind": r.kind, "reason": format!("cannot seal it: {err}") }),
                ))?;
                return Ok(None);
            }
        };
        let held = protected.protection == Protection::Hold;
        let sealed = respond::Outgoing {
            raw: protected.raw,
            ..mail
        };
        self.enqueue(tx, Some(report), r.kind, &sealed, r.rate_key, held, now)?;
        if held {
            tx.append_event(&event(
                "reply-held",
                json!({ "kind": r.kind, "message_id": sealed.message_id, "to": r.to, "status": "needs-key",
                        "reason": "the reporter wrote encrypted and no proven key of theirs is known" }),
            ))?;
            self.request_confirmations(tx, Some(report), r.to, &[], r.message, now)?;
        }
        Ok(Some((protected.protection, sealed.message_id)))
    }
}

/// Where a message points, as [`Pipeline::candidate`] found it.
#[derive(Debug, Default)]
struct Threading {
    candidate: Option<Candidate>,
    /// The plus-address token it was sent to, if any.
    token: Option<Token>,
    /// The mail of ours whose return path it came back to.
    returned: Option<SentMail>,
}

/// A mail to a reporter: what it is, and who caused it (for its events).
pub(super) struct ToReporter<'a> {
    pub kind: &'static str,
    pub to: &'a str,
    /// Counts against the sender's automatic replies.
    pub rate_key: Option<&'a str>,
    /// It holds nothing of the reporter's message, so it may go signed only
    /// even when they wrote encrypted.
    pub content_free: bool,
    pub actor: &'a str,
    pub auth: &'a str,
    pub message: i64,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use jiff::SignedDuration;

    use super::*;
    use crate::clock::{Clock, FixedClock};
    use crate::source::{Incoming, Raw};

    fn config() -> Config {
        let text = format!(
            "{}\n[limits]\nauto_replies_per_sender = 2\nauto_reply_window = \"1h\"\n",
            crate::config::tests::MINIMAL
        );
        Config::parse(&text, Path::new("/etc/disclosed/config.toml")).expect("config")
    }

    fn message(n: u32, from: &str) -> Prepared {
        let raw = format!(
            "From: {from}\r\nTo: security@example.org\r\nSubject: Report {n}\r\nMessage-ID: <m{n}@x.example>\r\n\r\nbody {n}\r\n"
        );
        prepare(
            Incoming {
                location: format!("m{n}"),
                raw: Raw::Loaded(raw.into_bytes()),
            },
            &config().limits,
            &Crypto::default(),
            "2026-11-23T12:00:00Z".parse().expect("time"),
        )
    }

    fn acknowledged(outcomes: &[Result<Outcome, StoreError>]) -> Vec<bool> {
        outcomes
            .iter()
            .map(|o| {
                matches!(
                    o,
                    Ok(Outcome::Stored {
                        acknowledged: true,
                        ..
                    })
                )
            })
            .collect()
    }

    #[test]
    fn report_years_and_the_rate_limit_follow_the_injected_clock() {
        let config = config();
        let templates = Templates::load(None).expect("templates");
        let crypto = Crypto::default();
        let pipeline = Pipeline {
            config: &config,
            rules: &crate::triage::Rules::default(),
            templates: &templates,
            crypto: &crypto,
        };
        let store = Mutex::new(Store::open_in_memory().expect("store"));
        // 23:30 UTC on New Year's Eve is already 2027 in Berlin.
        let clock = FixedClock::new("2026-12-31T23:30:00Z".parse().expect("time"));

        let first = pipeline.ingest(
            &store,
            "test",
            &[
                message(1, "r@x.example"),
                message(2, "r@x.example"),
                message(3, "r@x.example"),
            ],
            clock.now(),
        );
        assert_eq!(acknowledged(&first), [true, true, false], "2 per hour");
        let Ok(Outcome::Stored {
            report: Some(id), ..
        }) = &first[0]
        else {
            panic!("not stored: {first:?}");
        };
        assert_eq!(id.as_str(), "SEC-2027-0001");

        // Within the window the sender stays limited; after it, they are answered.
        clock.advance(SignedDuration::from_mins(30));
        let again = pipeline.ingest(&store, "test", &[message(4, "r@x.example")], clock.now());
        assert_eq!(acknowledged(&again), [false]);
        clock.advance(SignedDuration::from_mins(31));
        let later = pipeline.ingest(&store, "test", &[message(5, "r@x.example")], clock.now());
        assert_eq!(acknowledged(&later), [true]);
        // Another sender was never limited.
        let other = pipeline.ingest(&store, "test", &[message(6, "o@x.example")], clock.now());
        assert_eq!(acknowledged(&other), [true]);
    }
}
