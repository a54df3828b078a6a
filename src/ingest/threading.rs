//! Where a stored message belongs, looked up in the store for the pure
//! decisions of `thread`: whether it is a copy of mail we sent, the report of
//! the return path a bounce came back to, then the plus-address token, the
//! subject tag and the references, in that order.

use jiff::Timestamp;

use super::Pipeline;
use super::pgp::crypto_problems;
use crate::crypto::Opened;
use crate::parse::{ParsedMessage, Problem};
use crate::report::ReportId;
use crate::store::{SentMail, StoreError, Tx};
use crate::thread::{self, Automation, Candidate, Class, Decision, Sender, Token, Via, bounce};

impl Pipeline<'_> {
    /// Classifies `msg` and decides which report it belongs to, opening a new
    /// one when the decision says so; collects the problems threading found.
    pub(super) fn thread(
        &self,
        tx: &Tx<'_>,
        msg: &ParsedMessage,
        pgp: Option<&Opened>,
        raw: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<Threaded, StoreError> {
        let config = self.config;
        let program = &config.program;
        let mut problems = msg.problems.clone();
        if let Some(o) = pgp {
            problems.extend(crypto_problems(o));
        }
        if let Some(id) = &msg.message_id
            && let Some(first) = tx.first_message_with_id(id)?
        {
            problems.push(Problem::DuplicateMessageId { first });
        }

        let own = self.own_copy(tx, msg, raw)?;
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
        let (report, opened, via, mentioned) = match decision {
            Decision::Attach(c) => (Some(c.report), false, Some(c.via), None),
            Decision::Open { mentioned } => {
                let year = now.to_zoned_datetime(program.timezone.clone()).year();
                let reporter = sender.unwrap_or("unknown");
                let id = tx.create_report(&program.id_prefix, year, reporter, &msg.subject, now)?;
                (Some(id), true, None, mentioned)
            }
            Decision::Unattached { reason } => {
                problems.push(Problem::NotAnswered { reason });
                (None, false, None, None)
            }
        };
        if report.is_some()
            && class.automation.is_some()
            && let Err(reason) = thread::may_auto_reply(class, true)
        {
            problems.push(Problem::NotAnswered { reason });
        }
        Ok(Threaded {
            class,
            report,
            opened,
            via,
            mentioned,
            token,
            returned,
            participates,
            problems,
        })
    }

    /// The outbox row `msg` is a copy of: its Message-ID is the row's and so
    /// is its body. Nothing else (our From, a Message-ID shaped like ours)
    /// makes mail ours; a message only known by its headers is not.
    pub(super) fn own_copy(
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
    /// nothing else counts. Otherwise, in order: plus-address token,
    /// subject tag, references.
    pub(super) fn candidate(
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
    pub(super) fn is_outsider(&self, address: &str) -> bool {
        !thread::is_program_address(address, &self.config.program.address)
            && self.config.team.member(address).is_none()
    }
}

/// Where a message went, and what threading found on the way.
#[derive(Debug)]
pub(super) struct Threaded {
    pub class: Class,
    /// The report it joined or opened.
    pub report: Option<ReportId>,
    /// It opened `report`.
    pub opened: bool,
    /// How it joined `report`; `None` when it opened it or joined none.
    pub via: Option<Via>,
    /// The report an outsider's new report named (ids are guessable, so it
    /// opened its own).
    pub mentioned: Option<ReportId>,
    /// The plus-address token it was sent to, if any.
    pub token: Option<Token>,
    /// The mail of ours whose return path it came back to.
    pub returned: Option<SentMail>,
    /// Its sender takes part in `report`.
    pub participates: bool,
    pub problems: Vec<Problem>,
}

/// Where a message points, as [`Pipeline::candidate`] found it.
#[derive(Debug, Default)]
pub(super) struct Threading {
    pub candidate: Option<Candidate>,
    /// The plus-address token it was sent to, if any.
    pub token: Option<Token>,
    /// The mail of ours whose return path it came back to.
    pub returned: Option<SentMail>,
}
