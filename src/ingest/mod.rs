//! Orders the stages for a batch of incoming messages and draws the transaction
//! boundary. Outside the transaction, [`prepare`] parses and opens each message
//! (OpenPGP). Inside it, for each message:
//!
//! ```text
//! thread (threading.rs: own copy? return path? token, tag, references → decide)
//!   ─▶ store (the message, its problems, OpenPGP result, events, learned keys)
//!   ─▶ plan (plan.rs: a pure list of actions)
//!   ─▶ execute: answer the reporter (answer.rs), tell the team (notify.rs),
//!      or hand a member's mail to the team stage ([`crate::team_mail`])
//! ```
//!
//! Every decision is a pure function: `thread::classify`/`thread::decide`,
//! [`plan::plan`], `auth`, `command::plan`. The OpenPGP steps (opening again
//! with stored keys, learning the keys a message carried) are in `pgp`; mail
//! is queued, and held mail released, through [`crate::respond::queue`] and
//! [`crate::respond::held`].

mod answer;
pub mod flood;
mod imported;
mod notify;
mod pgp;
pub mod plan;
mod prepare;
mod threading;

use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::json;

use crate::audit::{Actor, Auth, EventKind};
use crate::config::Config;
use crate::crypto::{Crypto, Encryption, FailReason, Opened};
use crate::parse::{ParsedMessage, Problem};
use crate::report::ReportId;
use crate::respond::queue::Mailer;
use crate::respond::{self, Templates};
use crate::store::{
    Batch, NewAttachment, NewMessage, Recorder, Store, StoreError, ThreadedBy, Tx, lock,
};
use crate::team_mail;
use crate::thread::{Sender, Via};
pub use imported::{IMPORT_ACTOR, ImportBatch, ImportOutcome, Imported, past_due};
use pgp::{Arrival, record_crypto};
pub use prepare::{Prepared, prepare};
use threading::Threaded;

/// A message as the stages after opening read it: the prepared bytes, the
/// parsed message merged with its readable inner entity, and what OpenPGP
/// made of it.
#[derive(Debug, Clone, Copy)]
struct Read<'a> {
    prepared: &'a Prepared,
    msg: &'a ParsedMessage,
    pgp: Option<&'a Opened>,
}

/// How a message came: as live mail, or from an old inbox being imported
/// (stored and threaded alike, nothing sent), with why its arrival time is
/// not its `Date:`, if it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode<'a> {
    Live,
    Imported { date_note: Option<&'a str> },
}

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

/// A Message-ID as a log field: left out when it holds control characters,
/// which could forge lines in a plain-text log.
pub(crate) fn loggable(message_id: Option<&str>) -> Option<&str> {
    message_id.filter(|id| !id.chars().any(char::is_control))
}

/// One record per message stored, after its commit, with the report and the
/// Message-ID as fields (in the journal `F_REPORT`, `F_MESSAGE_ID`, `F_STORED`)
/// so that `journalctl -o json` finds a report's mail. Headers only, never the
/// body; a Message-ID with control characters is left out.
fn log_stored(source: &str, prepared: &[Prepared], results: &[Result<Outcome, StoreError>]) {
    for (p, result) in prepared.iter().zip(results) {
        if let Ok(Outcome::Stored {
            message,
            report,
            opened,
            acknowledged,
        }) = result
        {
            let message_id = loggable(p.parsed.message_id.as_deref());
            tracing::info!(
                source,
                stored = message,
                report = report.as_ref().map(ReportId::as_str),
                message_id,
                opened,
                acknowledged,
                "ingested"
            );
        }
    }
}

impl Pipeline<'_> {
    /// What composing, sealing and queueing mail takes of the pipeline.
    fn mailer(&self) -> Mailer<'_> {
        Mailer {
            config: self.config,
            templates: self.templates,
            crypto: self.crypto,
        }
    }

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
                .map(|p| self.ingest_one(&tx, source, p, now, Mode::Live))
                .collect::<Result<Vec<_>, _>>()?;
            also(&tx)?;
            Ok::<_, StoreError>(outcomes)
        });
        let (results, whole) = match whole {
            Ok(outcomes) => (outcomes.into_iter().map(Ok).collect(), true),
            Err(err) if prepared.len() == 1 => (vec![Err(err)], false),
            Err(err) => {
                tracing::warn!(error = %err, messages = prepared.len(), "batch failed; storing its messages one by one");
                let results = prepared
                    .iter()
                    .map(|p| store.write(|w| self.ingest_one(&w.tx(), source, p, now, Mode::Live)))
                    .collect();
                (results, false)
            }
        };
        log_stored(source, prepared, &results);
        (results, whole)
    }

    /// One message: thread it, store it, then carry out what the plan says.
    fn ingest_one(
        &self,
        tx: &Tx<'_>,
        source: &str,
        p: &Prepared,
        now: Timestamp,
        mode: Mode<'_>,
    ) -> Result<Outcome, StoreError> {
        if tx.message_by_hash(&p.sha256)?.is_some() {
            return Ok(Outcome::AlreadyStored);
        }
        let (msg, pgp) = pgp::open(tx, self.crypto, &self.config.limits, p, now)?;
        let msg = msg.as_ref();
        let read = Read {
            prepared: p,
            msg,
            pgp: pgp.as_deref(),
        };
        let threaded = self.thread(tx, msg, read.pgp, p.raw.as_deref(), now)?;
        // The daily canary coming back: a copy of our own outbox row, so it
        // is filed with no report and never answered, like any of our mail.
        if mode == Mode::Live && threaded.class.sender == Sender::Own {
            let limits = crate::crypto::CryptoLimits::from_config(&self.config.limits);
            crate::monitor::canary::recognise(
                tx,
                self.crypto,
                &limits,
                msg,
                p.raw.as_deref(),
                now,
            )?;
        }
        let message = self.store(tx, source, read, &threaded, now, mode)?;
        let acknowledged = self.execute(tx, read, &threaded, message, now, mode)?;
        Ok(Outcome::Stored {
            message,
            report: threaded.report,
            opened: threaded.opened,
            acknowledged,
        })
    }

    /// Stores the message with its problems, OpenPGP result and attachments,
    /// records it and its report's participants in the event log, and learns
    /// the keys an outsider's mail carried.
    fn store(
        &self,
        tx: &Tx<'_>,
        source: &str,
        read: Read<'_>,
        t: &Threaded,
        now: Timestamp,
        mode: Mode<'_>,
    ) -> Result<i64, StoreError> {
        let Read {
            prepared: p,
            msg,
            pgp,
        } = read;
        let sender = msg.from.as_ref().map(|m| m.address.as_str());
        let report = t.report.as_ref();
        let threaded_by = threaded_by(t.via, t.opened);
        let problem_texts: Vec<String> = t.problems.iter().map(ToString::to_string).collect();
        let recipients: Vec<String> = msg.recipients.iter().map(|m| m.address.clone()).collect();
        let kind = t.class.kind(t.opened, t.participates);
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
            report_id: report,
            threaded_by,
            problems: &problem_texts,
            received_at: now,
        })?;
        if let Some(o) = pgp {
            let keep = within_sender_quota(tx, &self.config.limits, sender, o, now)?;
            if !keep {
                tracing::warn!(
                    report = report.map(ReportId::as_str),
                    stored = message,
                    message_id = loggable(msg.message_id.as_deref()),
                    "sender is past max_sender_bytes_per_day: the decrypted entity is not kept"
                );
            }
            record_crypto(tx, message, o, keep)?;
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

        let rec = Recorder {
            report,
            at: now,
            actor: Actor::Named(sender.unwrap_or("unknown")),
            auth: Auth::None,
            message: Some(message),
        };
        if t.opened
            && let Some(id) = report
        {
            rec.record(
                tx,
                EventKind::ReportOpened,
                json!({ "subject": msg.subject, "mentioned": t.mentioned.as_ref().map(ReportId::as_str) }),
            )?;
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
        } else if let Some(id) = report {
            tx.touch_report(id, now)?;
            if t.participates
                && let Some(from) = &msg.from
            {
                tx.upsert_participant(id, &from.address, None, "reporter", now)?;
            }
        }
        let codes: Vec<&str> = t.problems.iter().map(Problem::code).collect();
        let crypto_detail = pgp.map(|o| {
            json!({
                "form": o.form.as_str(),
                "encryption": o.encryption.code(),
                "signature": o.signature.code(),
                "signer": o.signature.signer(),
            })
        });
        let mut received = json!({ "kind": kind, "via": threaded_by.as_str(), "problems": codes, "openpgp": crypto_detail });
        if let Mode::Imported { date_note } = mode {
            received["imported"] = json!({ "date": date_note.unwrap_or("its Date: header") });
        }
        rec.record(tx, EventKind::MessageReceived, received)?;
        // Keys in imported mail are not learned: confirming one means mailing
        // its owner, and an old inbox sends nothing.
        if let Some(from) = &msg.from
            && mode == Mode::Live
            && self.is_outsider(&from.address)
        {
            let empty = Opened::plain();
            let found = pgp.unwrap_or(&empty);
            let arrival = Arrival {
                report,
                address: &from.address,
                opened: found,
                outer: &p.parsed,
                message,
            };
            pgp::learn_keys(&self.mailer(), tx, &arrival, now)?;
        }
        Ok(message)
    }

    /// Plans what to do with the stored message ([`plan::plan`]) and does it,
    /// in order. Returns whether the reporter's answer was queued.
    fn execute(
        &self,
        tx: &Tx<'_>,
        read: Read<'_>,
        t: &Threaded,
        message: i64,
        now: Timestamp,
        mode: Mode<'_>,
    ) -> Result<bool, StoreError> {
        let Read { prepared, msg, pgp } = read;
        let raw = prepared.raw.as_deref();
        let sender = msg.from.as_ref().map(|m| m.address.as_str());
        let report = &t.report;
        let returned = &t.returned;
        let problem_texts: Vec<String> = t.problems.iter().map(ToString::to_string).collect();
        let rec = Recorder {
            report: report.as_ref(),
            at: now,
            actor: Actor::Named(sender.unwrap_or("unknown")),
            auth: Auth::None,
            message: Some(message),
        };
        let unreadable = pgp.and_then(|o| match &o.encryption {
            Encryption::Failed { reason, .. } => Some(match reason {
                FailReason::NoKey => respond::Unreadable::WrongKey,
                _ => respond::Unreadable::Damaged,
            }),
            _ => None,
        });
        let counted = mode == Mode::Live
            && report.is_some()
            && t.class.sender == Sender::External
            && t.class.automation.is_none();
        let notices = if counted {
            flood::notices(tx, &self.config.limits, sender, now)?
        } else {
            flood::NoticeBudget::Within
        };
        let facts = plan::Facts {
            notices,
            class: t.class,
            report: report.as_ref(),
            opened: t.opened,
            via: t.via,
            token: t.token.as_ref(),
            has_sender: sender.is_some(),
            unreadable,
            returned: returned.is_some(),
        };
        let rule = plan::rules_apply(&facts)
            .then(|| {
                self.rules
                    .first_match(&msg.subject, &msg.text, sender.unwrap_or(""))
            })
            .flatten();
        let matched = rule.map(|r| plan::MatchedRule {
            name: r.name(),
            reply: r
                .reply()
                .and_then(|name| respond::templates::names().find(|n| *n == name)),
        });
        let stored = notify::Stored {
            message,
            msg,
            pgp,
            raw,
            problems: &problem_texts,
        };
        let m = self.mailer();
        let mut acknowledged = false;
        for action in plan::plan(&facts, matched) {
            let action = match mode {
                Mode::Imported { .. } => match plan::imported(action) {
                    Some(action) => action,
                    None => continue,
                },
                Mode::Live if matches!(action, plan::Action::Answer(_)) => {
                    plan::dated_before(action, msg.date, tx.no_answer_before()?)
                }
                Mode::Live => action,
            };
            match (action, &report) {
                (plan::Action::ApplyRule, Some(id)) => {
                    if let Some(rule) = rule {
                        answer::apply_rule(tx, id, rule, message, now)?;
                    }
                }
                (plan::Action::Answer(answer), Some(id)) => {
                    acknowledged =
                        respond::ack::acknowledge(&m, tx, id, msg, answer, message, now)?;
                }
                (plan::Action::NoAnswer { reason }, Some(_)) => {
                    rec.record(
                        tx,
                        EventKind::AcknowledgementSkipped,
                        json!({ "reason": reason }),
                    )?;
                }
                (plan::Action::NotifyNewReport, Some(id)) => {
                    notify::notify_team(&m, tx, id, stored, "New report", now)?;
                    flood::count_notice(tx, sender, now)?;
                }
                (plan::Action::ReporterFollowup, Some(id)) => {
                    notify::reporter_wrote(tx, id, stored, now)?;
                    notify::notify_team(&m, tx, id, stored, "The reporter wrote again", now)?;
                    flood::count_notice(tx, sender, now)?;
                }
                (
                    plan::Action::HoldNotice {
                        new_report,
                        limit,
                        summarise,
                    },
                    Some(id),
                ) => {
                    if new_report {
                        tx.add_tags(id, &[flood::TAG.to_owned()])?;
                    } else {
                        notify::reporter_wrote(tx, id, stored, now)?;
                    }
                    rec.record(
                        tx,
                        EventKind::TeamNoticeHeld,
                        json!({ "notice": if new_report { "new-report" } else { "follow-up" },
                                "limit": limit.as_str(), "summarised": summarise }),
                    )?;
                    if summarise {
                        flood::summary(&m, tx, limit, sender, message, now)?;
                    }
                }
                (plan::Action::DeliveryProblem, report) => {
                    if let Some(sent) = &returned {
                        notify::delivery_problem(&m, tx, report.as_ref(), stored, sent, now)?;
                    }
                }
                (plan::Action::TeamMail(route), _) => {
                    let mail = team_mail::Mail {
                        message,
                        msg,
                        pgp,
                        raw,
                    };
                    team_mail::handle(&m, tx, &route, mail, now)?;
                }
                (plan::Action::ReporterWrote, Some(id)) => {
                    notify::reporter_wrote(tx, id, stored, now)?;
                }
                (plan::Action::TeamMailImported, Some(id)) => {
                    imported::team_mail(tx, id, msg, message, now, &self.config.program.id_prefix)?;
                }
                // Every other action concerns a report, which the plan had.
                (_, None) => {}
            }
        }
        Ok(acknowledged)
    }
}

/// Whether keeping `o`'s decrypted entity leaves `sender` within `[limits]
/// max_sender_bytes_per_day` (the message itself, just stored, included).
fn within_sender_quota(
    tx: &Tx<'_>,
    limits: &crate::config::Limits,
    sender: Option<&str>,
    o: &Opened,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(inner) = o.inner.as_ref() else {
        return Ok(true);
    };
    let stored = match sender {
        Some(address) => tx.sender_bytes_since(address, quota_day_start(now))?,
        None => 0,
    };
    Ok(stored.saturating_add(inner.len() as u64) <= limits.max_sender_bytes_per_day)
}

/// The start of the day the per-sender quota counts: the 24 hours before `now`.
pub(crate) fn quota_day_start(now: Timestamp) -> Timestamp {
    now.checked_sub(jiff::SignedDuration::from_hours(24))
        .unwrap_or(Timestamp::MIN)
}

/// How a message is stored as joining its report: the threading rule that
/// matched, else whether it opened the report.
fn threaded_by(via: Option<Via>, opened: bool) -> ThreadedBy {
    match (via, opened) {
        (Some(Via::PlusAddress), _) => ThreadedBy::PlusAddress,
        (Some(Via::SubjectTag), _) => ThreadedBy::SubjectTag,
        (Some(Via::References), _) => ThreadedBy::References,
        (Some(Via::Outbox), _) => ThreadedBy::Outbox,
        (Some(Via::ReturnPath), _) => ThreadedBy::ReturnPath,
        (None, true) => ThreadedBy::NewReport,
        (None, false) => ThreadedBy::None,
    }
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

    #[test]
    fn a_message_is_stored_with_the_rule_that_threaded_it() {
        let cases = [
            (Some(Via::PlusAddress), false, "plus-address"),
            (Some(Via::SubjectTag), false, "subject-tag"),
            (Some(Via::References), false, "references"),
            (Some(Via::Outbox), false, "outbox"),
            (Some(Via::ReturnPath), false, "return-path"),
            (None, true, "new-report"),
            (None, false, "none"),
        ];
        for (via, opened, stored) in cases {
            let found = threaded_by(via, opened);
            assert_eq!(found.as_str(), stored, "{via:?}, opened: {opened}");
            assert_eq!(stored.parse::<ThreadedBy>(), Ok(found));
        }
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
