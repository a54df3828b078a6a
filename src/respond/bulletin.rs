//! The public side of disclosure: the bulletin to the announcement list
//! (`[bulletin] address`) when a team command discloses a report, the team's
//! mail on the disclosure date, and the texts `#advisory` and `#hall-of-fame`
//! answer with on the control address.
//!
//! The bulletin is public, so it is built from what the team marked public
//! only (never the reporter's address, their subject or text, a member's name
//! or address), signed by the team key and not encrypted. It is an OpenPGP
//! cleartext signature in a `text/plain` body rather than PGP/MIME: list
//! software adds footers and subject tags and may re-wrap MIME parts, which
//! breaks a `multipart/signed` signature, while a cleartext-signed block still
//! verifies as long as its own lines are intact (the way distribution
//! security lists sign their announcements). Each bulletin is recorded in the
//! transaction that queues it, so a replayed or re-run command mail never
//! sends a second one.
//!
//! [`advisory_text`] and [`hall_of_fame_text`] render through the advisory
//! drafts and the site's Hall of Fame, so mail and the published pages say
//! the same.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::SystemTime;

use jiff::Timestamp;
use jiff::civil::Date;
use lettre::Message;
use lettre::message::header::ContentType;
use sequoia_openpgp::serialize::stream::{Message as PgpMessage, Signer};

use super::compose::{AutoSubmitted, ComposeError, Outgoing, ReturnPath, formatted, mailbox};
use super::{queue, shape, team};
use serde_json::json;

use crate::advisory;
use crate::audit::{Actor, Auth, EventKind};
use crate::config::Config;
use crate::crypto::{Crypto, TeamKeys, system_time};
use crate::publish::{self, SiteTemplates, collect, hall_of_fame, pages};
use crate::report::{ReportId, ReportState};
use crate::store::{DisclosureMail, Recorder, ReportRecord, StoreError, Tx};

/// The outbox kind of a bulletin.
pub const BULLETIN: &str = "bulletin";
/// The outbox kind of the team's disclosure-day mail.
pub const DISCLOSURE_DAY: &str = "disclosure-day";

#[derive(Debug, thiserror::Error)]
pub enum BulletinError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error("no team key is configured to sign the bulletin")]
    NoTeamKey,
    #[error("cannot sign the bulletin: {0}")]
    Sign(String),
    #[error("cannot render the text: {0}")]
    Render(String),
}

/// Whether an advisory can be drafted for a report in `state`: once it is
/// fixed, its risk accepted, or disclosed.
pub fn advisory_ready(state: ReportState) -> bool {
    matches!(
        state,
        ReportState::Fixed | ReportState::RiskAccepted | ReportState::Disclosed
    )
}

/// The advisory of `record` as Markdown (the team's `advisory.md.hbs`, else
/// the built-in one), for the bulletin, the disclosure-day mail and
/// `#advisory`. Only what the team set for publication: never the reporter's
/// address, subject or text.
pub fn advisory_text(
    tx: &Tx<'_>,
    config: &Config,
    record: &ReportRecord,
    now: Timestamp,
) -> Result<String, BulletinError> {
    let templates = advisory::Templates::load(config.templates.dir.as_deref())
        .map_err(|err| BulletinError::Render(err.to_string()))?;
    advisory::markdown_for_report(tx, config, &templates, &record.id, now).map_err(
        |err| match err {
            advisory::ReportAdvisoryError::Store(err) => BulletinError::Store(err),
            other => BulletinError::Render(other.to_string()),
        },
    )
}

/// The Hall of Fame in Markdown (the site's `hall-of-fame.md.hbs`), for
/// `#hall-of-fame`: the credited reporters of disclosed reports, merged and
/// ordered as the published page has them.
pub fn hall_of_fame_text(
    tx: &Tx<'_>,
    config: &Config,
    now: Timestamp,
) -> Result<String, BulletinError> {
    let templates = SiteTemplates::load(config.templates.dir.as_deref())
        .map_err(|err| BulletinError::Render(err.to_string()))?;
    let reports = collect::reports(tx, config, now)?;
    let lines = hall_of_fame::build(&collect::hall_of_fame_entries(&reports));
    pages::hall_of_fame(
        &templates,
        &collect::site_info(config),
        &lines,
        publish::Format::Md,
    )
    .map_err(|err| BulletinError::Render(err.to_string()))
}

/// The bulletin's subject: `[NAME advisory] ID: CVE, severity, fixed in`,
/// from public fields only.
pub fn subject(config: &Config, record: &ReportRecord) -> String {
    let mut facts = Vec::new();
    if let Some(cve) = &record.cve {
        facts.push(cve.clone());
    }
    if let Some(severity) = record.severity.or(record.cvss_severity) {
        facts.push(format!("{severity} severity"));
    }
    if let Some(version) = &record.fixed_in {
        facts.push(format!("fixed in {version}"));
    }
    if facts.is_empty() {
        facts.push("security advisory".to_owned());
    }
    format!(
        "[{} advisory] {}: {}",
        config.program.name,
        record.id,
        facts.join(", ")
    )
}

/// Signs `text` as an OpenPGP cleartext signature by the team's signing key.
pub fn clearsign(text: &str, team: &TeamKeys, now: Timestamp) -> Result<String, BulletinError> {
    let err = |e: anyhow::Error| BulletinError::Sign(format!("{e:#}"));
    let mut out = Vec::new();
    {
        let message = PgpMessage::new(&mut out);
        let mut signer = Signer::new(message, team.signer().clone())
            .map_err(err)?
            .creation_time(system_time(now))
            .cleartext()
            .build()
            .map_err(err)?;
        signer
            .write_all(text.as_bytes())
            .map_err(|e| BulletinError::Sign(e.to_string()))?;
        signer.finalize().map_err(err)?;
    }
    String::from_utf8(out).map_err(|e| BulletinError::Sign(e.to_string()))
}

/// The bulletin mail for `record` with the advisory `text`: from the
/// program address, to the list, cleartext-signed, `Auto-Submitted`, with no
/// reply address and nothing internal.
pub fn compose(
    config: &Config,
    crypto: &Crypto,
    record: &ReportRecord,
    text: &str,
    now: Timestamp,
) -> Result<Outgoing, BulletinError> {
    let Some(bulletin) = &config.bulletin else {
        return Err(BulletinError::Render("no [bulletin] address".to_owned()));
    };
    let team = crypto.team.as_deref().ok_or(BulletinError::NoTeamKey)?;
    let body = clearsign(text, team, now)?;
    let program = &config.program;
    let message_id = super::new_message_id(&program.address.domain, now);
    let list = bulletin.address.to_string();
    let build = |e: lettre::error::Error| ComposeError::Build(e.to_string());
    let message = Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .header(shape::From::new(mailbox(
            Some(&bulletin.from_name),
            &program.address.to_string(),
        )?))
        .header(shape::To::new(mailbox(None, &list)?))
        .date(SystemTime::try_from(now).map_err(|e| ComposeError::Build(e.to_string()))?)
        .header(shape::Subject::new(&subject(config, record)))
        .header(AutoSubmitted("auto-generated"))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(build)?;
    let path = ReturnPath::new(&program.address);
    Ok(Outgoing {
        message_id,
        envelope_from: path.address,
        return_token: path.token,
        recipients: vec![list],
        raw: formatted(&message)?,
        // Public text: nothing a relay would have to be kept from carrying.
        team_lines: Vec::new(),
    })
}

/// What became of a disclosed report's bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bulletin {
    Queued {
        to: String,
    },
    /// No `[bulletin] address`.
    NotConfigured,
    /// It went out before (a replayed mail, or disclosed twice).
    AlreadySent,
    /// It could not be composed; the team is told why.
    Failed(String),
}

impl Bulletin {
    /// One line for the command reply.
    pub fn describe(&self) -> String {
        match self {
            Self::Queued { to } => format!("bulletin: the signed advisory is queued to {to}"),
            Self::NotConfigured => {
                "bulletin: none sent, no [bulletin] address is configured".to_owned()
            }
            Self::AlreadySent => "bulletin: already sent for this report".to_owned(),
            Self::Failed(reason) => format!("bulletin: NOT sent, {reason}"),
        }
    }
}

/// Queues the bulletin for `record`, which a team command just disclosed, in
/// the caller's transaction, and records it so it goes out once.
pub fn queue_bulletin(
    config: &Config,
    crypto: &Crypto,
    tx: &Tx<'_>,
    record: &ReportRecord,
    now: Timestamp,
) -> Result<Bulletin, StoreError> {
    let Some(bulletin) = &config.bulletin else {
        return Ok(Bulletin::NotConfigured);
    };
    if tx.disclosure_mail_recorded(&record.id, DisclosureMail::Bulletin, "")? {
        return Ok(Bulletin::AlreadySent);
    }
    let mail = match advisory_text(tx, config, record, now)
        .and_then(|text| compose(config, crypto, record, &text, now))
    {
        Ok(mail) => mail,
        Err(BulletinError::Store(err)) => return Err(err),
        Err(err) => {
            tracing::warn!(report = %record.id, error = %err, "cannot compose the bulletin");
            return Ok(Bulletin::Failed(err.to_string()));
        }
    };
    tx.record_disclosure_mail(&record.id, DisclosureMail::Bulletin, "", now)?;
    tx.enqueue(&mail.to_queue(Some(&record.id), BULLETIN), now)?;
    tracing::info!(report = %record.id, "bulletin queued");
    Ok(Bulletin::Queued {
        to: bulletin.address.to_string(),
    })
}

/// The day a report's disclosure falls on, in program time: the `#disclose`
/// date, else the day the disclosure deadline `due` falls on.
pub fn disclosure_day(config: &Config, record: &ReportRecord, due: Timestamp) -> Date {
    record.disclose_on.unwrap_or_else(|| {
        due.to_zoned_datetime(config.program.timezone.clone())
            .date()
    })
}

/// Whether `day` has begun at `now` in program time.
pub fn day_has_come(config: &Config, day: Date, now: Timestamp) -> bool {
    day.to_zoned_datetime(config.program.timezone.clone())
        .is_ok_and(|start| start.timestamp() <= now)
}

/// The text of the team's disclosure-day mail about `record`: the date has
/// come, and the advisory draft (when the report is ready for one).
pub fn disclosure_day_text(
    tx: &Tx<'_>,
    config: &Config,
    record: &ReportRecord,
    day: Date,
    now: Timestamp,
) -> Result<String, BulletinError> {
    let mut body = format!("The disclosure date of {} is today, {day}.\n\n", record.id);
    if advisory_ready(record.state) {
        body.push_str(
            "Publish it with `#state disclosed` to the report's internal address: the\n\
             advisory below goes to the announcement list, signed, and the reporter\n\
             is told. Check it first; ask for it again with `#advisory ID` on the\n\
             control address.\n\n",
        );
        body.push_str(&advisory_text(tx, config, record, now)?);
    } else {
        let _ = write!(
            body,
            "The report is {}, so there is no advisory to publish yet: it can be\n\
             drafted once the report is fixed or its risk accepted. Agree a new date\n\
             with the reporter (`#disclose YYYY-MM-DD`) if needed.\n",
            record.state
        );
    }
    Ok(body)
}

/// The disclosure-day mail as one copy per member, encrypted to each.
pub fn disclosure_day_mail(
    config: &Config,
    crypto: &Crypto,
    body: String,
    record: &ReportRecord,
    day: Date,
    now: Timestamp,
) -> Result<Vec<team::MemberMail>, team::TeamMailError> {
    let headline = format!("Disclosure date today: {day}");
    let report = Some(&record.id);
    let metadata = (
        queue::tagged(report, &headline),
        format!(
            "The disclosure date of {} has come. The advisory is sent encrypted,\n\
             and no key of yours is configured: ask the team to add one.\n",
            record.id
        ),
    );
    let mail = queue::notice(config, report, &headline, (body, metadata));
    team::to_members(config, crypto, &mail, None, now).map(|(mails, _)| mails)
}

/// A report whose disclosure date has come, with its team mail rendered.
#[derive(Debug)]
pub struct DayDue {
    report: ReportId,
    day: Date,
    /// An error is recorded without mail (and logged) rather than retried on
    /// every tick.
    mails: Result<Vec<team::MemberMail>, String>,
}

impl DayDue {
    /// The report whose disclosure date it is.
    pub fn report(&self) -> &ReportId {
        &self.report
    }

    /// The disclosure date.
    pub fn day(&self) -> Date {
        self.day
    }

    /// Who the mail goes to, or why it could not be composed.
    pub fn recipients(&self) -> Result<Vec<String>, String> {
        self.mails
            .as_ref()
            .map(|mails| mails.iter().map(|m| m.member.to_string()).collect())
            .map_err(Clone::clone)
    }
}

/// The open reports whose disclosure date has begun at `now` and whose team
/// mail for that date is not recorded as of the snapshot `tx` reads. Only
/// reads.
pub fn days_due(
    tx: &Tx<'_>,
    config: &Config,
    crypto: &Crypto,
    reports: &[crate::sla::ReportSla],
    now: Timestamp,
) -> Result<Vec<DayDue>, StoreError> {
    let mut out = Vec::new();
    let historical = tx.historical_breaches(None)?;
    for r in reports.iter().filter(|r| r.record.state.is_open()) {
        let Some(deadline) = r
            .pending()
            .into_iter()
            .find(|d| d.kind == crate::sla::Kind::Disclose)
        else {
            continue;
        };
        // A disclosure date already past when the report was imported is
        // history, not news: the team is not mailed about it.
        if crate::sla::breached_before_import(&r.record.id, deadline, &historical) {
            continue;
        }
        let Some(due) = deadline.due else {
            continue;
        };
        let day = disclosure_day(config, &r.record, due);
        if !day_has_come(config, day, now)
            || tx.disclosure_mail_recorded(&r.record.id, DisclosureMail::Day, &day.to_string())?
        {
            continue;
        }
        let mails = match disclosure_day_text(tx, config, &r.record, day, now) {
            Ok(text) => disclosure_day_mail(config, crypto, text, &r.record, day, now)
                .map_err(|err| err.to_string()),
            Err(BulletinError::Store(err)) => return Err(err),
            Err(err) => Err(err.to_string()),
        };
        out.push(DayDue {
            report: r.record.id.clone(),
            day,
            mails,
        });
    }
    Ok(out)
}

/// Records each disclosure-day mail and queues it with its event, in the
/// caller's write transaction; one another tick recorded meanwhile is
/// skipped, mail and all. How many were recorded.
pub fn record_days(tx: &Tx<'_>, days: Vec<DayDue>, now: Timestamp) -> Result<usize, StoreError> {
    let mut recorded = 0;
    for d in days {
        let day = d.day.to_string();
        if !tx.record_disclosure_mail(&d.report, DisclosureMail::Day, &day, now)? {
            continue;
        }
        recorded += 1;
        let sent = match d.mails {
            Ok(mails) => {
                let mut sent = Vec::new();
                for m in &mails {
                    tx.enqueue(&m.mail.to_queue(Some(&d.report), DISCLOSURE_DAY), now)?;
                    sent.push(
                        json!({ "to": m.member.to_string(), "message_id": m.mail.message_id,
                                      "protection": m.protection.as_str() }),
                    );
                }
                Some(sent)
            }
            Err(err) => {
                tracing::warn!(report = %d.report, error = %err, "cannot compose the disclosure-day mail");
                None
            }
        };
        tracing::info!(report = %d.report, "disclosure-day mail queued");
        let rec = Recorder {
            report: Some(&d.report),
            at: now,
            actor: Actor::Daemon,
            auth: Auth::None,
            message: None,
        };
        rec.record(
            tx,
            EventKind::TeamMailQueued,
            json!({ "kind": DISCLOSURE_DAY, "day": day, "sent": sent }),
        )?;
    }
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Credit;
    use crate::report::Severity;

    fn config(extra: &str) -> Config {
        let text = format!("{}{extra}", crate::config::tests::MINIMAL);
        Config::parse(&text, std::path::Path::new("/etc/disclosed/config.toml")).expect("config")
    }

    fn now() -> Timestamp {
        "2026-12-04T12:00:00Z".parse().expect("time")
    }

    fn record() -> ReportRecord {
        ReportRecord {
            state: ReportState::Fixed,
            reporter: "marker-reporter@x.example".to_owned(),
            subject: "marker-subject".to_owned(),
            severity: Some(Severity::High),
            cve: Some("CVE-2026-1234".to_owned()),
            fixed_in: Some("3.1.1".to_owned()),
            credit: Credit::Named {
                name: "Jane Doe".to_owned(),
                affiliation: None,
                url: None,
                key: None,
            },
            ..ReportRecord::sample(7, now())
        }
    }

    #[test]
    fn the_bulletin_subject_holds_only_public_fields() {
        let s = subject(&config(""), &record());
        assert_eq!(
            s,
            "[Example advisory] SEC-2026-0007: CVE-2026-1234, high severity, fixed in 3.1.1"
        );
        assert!(!s.contains("marker"), "{s}");
        let bare = ReportRecord {
            cve: None,
            severity: None,
            fixed_in: None,
            ..record()
        };
        assert_eq!(
            subject(&config(""), &bare),
            "[Example advisory] SEC-2026-0007: security advisory"
        );
    }

    #[test]
    fn an_advisory_is_ready_only_once_fixed_or_the_risk_is_accepted() {
        for (state, ready) in [
            (ReportState::Accepted, false),
            (ReportState::Triaged, false),
            (ReportState::Spam, false),
            (ReportState::Fixed, true),
            (ReportState::RiskAccepted, true),
            (ReportState::Disclosed, true),
        ] {
            assert_eq!(advisory_ready(state), ready, "{state}");
        }
    }

    #[test]
    fn the_disclosure_day_is_the_agreed_date_else_the_deadline_day_in_program_time() {
        let config = config("");
        // 23:30 UTC is already the next day in Berlin.
        let due: Timestamp = "2026-12-10T23:30:00Z".parse().expect("time");
        let day = disclosure_day(&config, &record(), due);
        assert_eq!(day.to_string(), "2026-12-11");
        let agreed = ReportRecord {
            disclose_on: Some("2026-12-20".parse().expect("date")),
            ..record()
        };
        assert_eq!(
            disclosure_day(&config, &agreed, due).to_string(),
            "2026-12-20"
        );

        let before: Timestamp = "2026-12-10T22:59:59Z".parse().expect("time");
        let midnight: Timestamp = "2026-12-10T23:00:00Z".parse().expect("time");
        assert!(!day_has_come(&config, day, before));
        assert!(day_has_come(&config, day, midnight));
    }

    #[test]
    fn the_bulletin_list_must_be_outside_the_program_and_the_team() {
        let ok = config("\n[bulletin]\naddress = \"announce@lists.example.org\"\n");
        let b = ok.bulletin.expect("bulletin");
        assert_eq!(b.address.to_string(), "announce@lists.example.org");
        assert_eq!(b.from_name, "Example");
        assert!(config("").bulletin.is_none());
        for bad in [
            "address = \"security@example.org\"",
            "address = \"not an address\"",
            "address = \"a@lists.example.org\"\nfrom_name = \"\"",
            "address = \"a@lists.example.org\"\nlist = \"x\"",
        ] {
            let text = format!("{}\n[bulletin]\n{bad}\n", crate::config::tests::MINIMAL);
            assert!(
                Config::parse(&text, std::path::Path::new("/etc/x.toml")).is_err(),
                "{bad}"
            );
        }
        let member = format!(
            "{}\n[[team.members]]\nname = \"A\"\nemail = \"a@lists.example.org\"\n\n[bulletin]\naddress = \"a@lists.example.org\"\n",
            crate::config::tests::MINIMAL
        );
        assert!(Config::parse(&member, std::path::Path::new("/etc/x.toml")).is_err());
    }
}
