//! The SLA engine over simulated time: the real ingest pipeline and the real
//! tick, driven by an injected clock across a year. Team mail is
//! authenticated by DKIM results from the trusted server, as a member's
//! provider would add them.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

use disclosed::clock::{Clock, FixedClock};
use disclosed::config::Config;
use disclosed::crypto::Crypto;
use disclosed::ingest::{self, Outcome, Pipeline};
use disclosed::report::ReportId;
use disclosed::respond::Templates;
use disclosed::sla::{self, Kind, Status, TickOutcome};
use disclosed::source::{Incoming, Raw};
use disclosed::store::{EventView, OpenMode, ReportDetail, Store};

use crate::team_auth::DKIM_PASS;

const CONFIG: &str = r#"
[program]
name = "Example"
address = "security@example.org"
id_prefix = "SEC"
timezone = "Europe/Berlin"
policy_url = "https://example.org/security"

[storage]
database = "disclosed.sqlite3"

[source]
kind = "maildir"
path = "maildir"

[transport]
kind = "file"
dir = "outbox"

[team]
command_auth = ["dkim"]
trusted_authserv_id = "mx.example.org"

[[team.members]]
name = "Alice"
email = "alice@example.org"

[sla]
holidays = ["2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"]
acknowledge = "5 business days"
triage = "10 business days"
update_every = "14 days"
fix = "90 days"
fix_max = "120 days"
disclose_after_fix = "30 days"
remind_before = "2 business days"
escalate_to = "leads@example.org"
"#;

/// One installation at a simulated time.
struct World {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    config: Config,
    templates: Templates,
    crypto: Crypto,
    store: Mutex<Store>,
    clock: FixedClock,
    seq: std::cell::Cell<u32>,
}

impl World {
    fn new(start: &str, digest: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = format!("{CONFIG}digest = \"{digest}\"\n");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &text).expect("config");
        let config = Config::parse(&text, &path).expect("config");
        let db = dir.path().join("disclosed.sqlite3");
        let store = Store::open(&db, OpenMode::Create).expect("store");
        Self {
            _dir: dir,
            db,
            config,
            templates: Templates::load(None).expect("templates"),
            crypto: Crypto::default(),
            store: Mutex::new(store),
            clock: FixedClock::new(at(start)),
            seq: std::cell::Cell::new(0),
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn set(&self, time: &str) {
        let to = at(time);
        assert!(to >= self.now(), "time only goes forward");
        self.clock.advance(to.duration_since(self.now()));
    }

    fn ingest(&self, raw: String) -> Option<ReportId> {
        let pipeline = Pipeline {
            config: &self.config,
            rules: &Default::default(),
            templates: &self.templates,
            crypto: &self.crypto,
        };
        let n = self.seq.get() + 1;
        self.seq.set(n);
        let prepared = ingest::prepare(
            Incoming {
                location: format!("m{n}"),
                raw: Raw::Loaded(raw.into_bytes()),
            },
            &self.config.limits,
            &self.crypto,
            self.now(),
        );
        match pipeline
            .ingest(&self.store, "test", &[prepared], self.now())
            .pop()
        {
            Some(Ok(Outcome::Stored { report, .. })) => report,
            other => panic!("not stored: {other:?}"),
        }
    }

    /// A reporter's new report; its id.
    fn report(&self, subject: &str) -> ReportId {
        let n = self.seq.get();
        self.ingest(format!(
            "From: Rita <rita@reporter.example>\r\nTo: security@example.org\r\n\
             Subject: {subject}\r\nMessage-ID: <report{n}@reporter.example>\r\n\r\n\
             Details of {subject}.\r\n"
        ))
        .expect("a report")
    }

    /// The reporter writes again on `id`.
    fn reporter_writes(&self, id: &ReportId) {
        let n = self.seq.get();
        self.ingest(format!(
            "From: Rita <rita@reporter.example>\r\nTo: security+{id}@example.org\r\n\
             Subject: Re: [{id}] more\r\nMessage-ID: <more{n}@reporter.example>\r\n\r\n\
             Here is the answer you asked for.\r\n"
        ));
    }

    /// Alice writes to the report's reply address (relayed to the reporter: her
    /// server's DKIM signature covers `To:`) or its internal one, commands first.
    fn alice(&self, id: &ReportId, route: &str, text: &str) {
        let n = self.seq.get();
        let to = match route {
            "reply" => format!("security+{id}@example.org"),
            _ => format!("security+{id}-internal@example.org"),
        };
        self.ingest(format!(
            "{DKIM_PASS}From: Alice <alice@example.org>\r\nTo: {to}\r\nSubject: Re: [{id}]\r\n\
             Message-ID: <alice{n}@example.org>\r\n\r\n{text}\r\n"
        ));
    }

    fn tick(&self) -> TickOutcome {
        let mut store = self.store.lock().expect("store");
        sla::tick(&mut store, &self.config, &self.crypto, self.now()).expect("tick")
    }

    /// Ticks every `step` until `until`; the total of what was queued.
    fn tick_until(&self, until: &str, step: SignedDuration) -> TickOutcome {
        let mut total = TickOutcome::default();
        let end = at(until);
        while self.now() < end {
            let t = self.tick();
            total.reminders += t.reminders;
            total.escalations += t.escalations;
            total.digests += t.digests;
            self.clock.advance(step);
        }
        total
    }

    /// Every report (or `only` one) with its deadlines, now.
    fn survey(&self, only: Option<&ReportId>) -> Vec<sla::ReportSla> {
        let store = self.store.lock().expect("store");
        sla::survey(&store.read(), &self.config, only, self.now()).expect("survey")
    }

    fn detail(&self, id: &ReportId) -> ReportDetail {
        let store = self.store.lock().expect("store");
        let detail = store.read().report_detail(id).expect("read");
        detail.expect("report")
    }

    fn deadline(&self, id: &ReportId, kind: Kind) -> sla::Deadline {
        let r = self.survey(Some(id)).pop().expect("the report");
        sla::deadlines::pending(&r.deadlines)
            .into_iter()
            .chain(r.deadlines.iter().rev())
            .find(|d| d.kind == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind:?} deadline in {:?}", r.deadlines))
    }

    fn due(&self, id: &ReportId, kind: Kind) -> String {
        let d = self.deadline(id, kind);
        local(
            d.due
                .unwrap_or_else(|| panic!("{kind:?} has no due time: {d:?}")),
        )
    }

    fn events(&self, id: &ReportId, kind: &str) -> Vec<EventView> {
        self.detail(id)
            .events
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect()
    }

    /// (deadline, local time) of each SLA notice of `kind` on `id`.
    fn notices(&self, id: &ReportId, kind: &str) -> Vec<(String, String)> {
        self.events(id, kind)
            .into_iter()
            .map(|e| {
                (
                    e.detail["deadline"].as_str().unwrap_or("?").to_owned(),
                    local(e.at),
                )
            })
            .collect()
    }

    fn outbox_kinds(&self, id: &ReportId) -> Vec<(String, Vec<String>)> {
        self.detail(id)
            .outbox
            .into_iter()
            .map(|o| (o.kind, o.recipients))
            .collect()
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
}

fn local(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("tz"))
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

const HOUR: SignedDuration = SignedDuration::from_hours(1);

#[test]
fn the_first_answer_is_due_in_five_business_days_over_the_christmas_holidays() {
    let w = World::new("2026-12-18T10:00:00+01:00", "off");
    let id = w.report("SQL injection in search");
    // Mon 21, Tue 22, Wed 23, (24–27 off) Mon 28, Tue 29.
    assert_eq!(w.due(&id, Kind::Acknowledge), "Tue 2026-12-29 10:00 CET");
    // 21–23, 28–30, (31 Dec–3 Jan off) 4–7 Jan.
    assert_eq!(w.due(&id, Kind::Triage), "Thu 2027-01-07 10:00 CET");

    // Hourly ticks to past the triage deadline.
    let total = w.tick_until("2027-01-08T12:00:00+01:00", HOUR);
    assert_eq!((total.reminders, total.escalations), (2, 2), "{total:?}");
    assert_eq!(
        w.notices(&id, "sla-reminder"),
        [
            // Two business days before: Wed 23 Dec (24–27 Dec do not count).
            ("acknowledge".into(), "Wed 2026-12-23 10:00 CET".into()),
            ("triage".into(), "Tue 2027-01-05 10:00 CET".into()),
        ]
    );
    assert_eq!(
        w.notices(&id, "sla-escalation"),
        [
            ("acknowledge".into(), "Tue 2026-12-29 10:00 CET".into()),
            ("triage".into(), "Thu 2027-01-07 10:00 CET".into()),
        ]
    );
    // Reminders went to the team, escalations to the leads.
    let outbox = w.outbox_kinds(&id);
    let to = |kind: &str| -> Vec<Vec<String>> {
        outbox
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, r)| r.clone())
            .collect()
    };
    assert_eq!(
        to("sla-reminder"),
        vec![vec!["alice@example.org".to_owned()]; 2]
    );
    assert_eq!(
        to("sla-escalation"),
        vec![vec!["leads@example.org".to_owned()]; 2]
    );
    assert_eq!(w.deadline(&id, Kind::Acknowledge).status, Status::Breached);

    // A restart (a new connection) and more ticks send nothing again.
    drop(w.store.lock().expect("store"));
    let reopened = Store::open(&w.db, OpenMode::Existing).expect("reopen");
    *w.store.lock().expect("store") = reopened;
    let again = w.tick_until("2027-01-09T12:00:00+01:00", HOUR);
    assert_eq!(again, TickOutcome::default());
}

#[test]
fn an_answer_in_time_meets_the_deadline_and_nothing_escalates() {
    let w = World::new("2026-12-18T10:00:00+01:00", "off");
    let id = w.report("Open redirect");
    w.set("2026-12-28T15:00:00+01:00");
    w.alice(&id, "reply", "#state triaged\nThanks, we can reproduce it.");
    let ack = w.deadline(&id, Kind::Acknowledge);
    assert_eq!(ack.status, Status::Met);
    assert_eq!(w.deadline(&id, Kind::Triage).status, Status::Met);
    // The update cadence runs from the answer: 14 days.
    assert_eq!(w.due(&id, Kind::Update), "Mon 2027-01-11 15:00 CET");
    let total = w.tick_until("2027-01-07T12:00:00+01:00", HOUR);
    assert_eq!((total.reminders, total.escalations), (0, 0), "{total:?}");
    // Two business days before the update is due, the team is reminded.
    w.tick_until("2027-01-07T16:00:00+01:00", HOUR);
    assert_eq!(
        w.notices(&id, "sla-reminder"),
        [("update".into(), "Thu 2027-01-07 15:00 CET".into())]
    );
}

#[test]
fn the_fix_deadline_extends_to_fix_max_and_not_a_day_beyond() {
    let w = World::new("2027-01-11T12:00:00+01:00", "off");
    let id = w.report("Auth bypass");
    w.alice(&id, "internal", "#state triaged\n#state accepted");
    assert_eq!(w.due(&id, Kind::Fix), "Sun 2027-04-11 12:00 CEST");

    w.set("2027-02-01T09:00:00+01:00");
    w.alice(
        &id,
        "internal",
        "#extend 30d because the vendor ships in May",
    );
    assert_eq!(w.due(&id, Kind::Fix), "Tue 2027-05-11 12:00 CEST");
    let extended = w.events(&id, "fix-extended");
    assert_eq!(extended.len(), 1);
    assert_eq!(extended[0].detail["days"], 30);

    // Day 121 is beyond `fix_max`: refused, the deadline stays.
    w.alice(&id, "internal", "#extend 1d because one more day");
    assert_eq!(w.events(&id, "commands-refused").len(), 1);
    assert_eq!(w.events(&id, "fix-extended").len(), 1);
    assert_eq!(w.due(&id, Kind::Fix), "Tue 2027-05-11 12:00 CEST");

    // Reminder two business days before day 120, escalation on it.
    w.set("2027-05-01T00:00:00+02:00");
    w.tick_until("2027-05-12T00:00:00+02:00", HOUR);
    let fix = |kind| -> Vec<String> {
        w.notices(&id, kind)
            .into_iter()
            .filter(|(d, _)| d == "fix")
            .map(|(_, t)| t)
            .collect()
    };
    assert_eq!(fix("sla-reminder"), ["Fri 2027-05-07 12:00 CEST"]);
    assert_eq!(fix("sla-escalation"), ["Tue 2027-05-11 12:00 CEST"]);
}

#[test]
fn waiting_for_the_reporter_pauses_the_clocks_until_they_write() {
    let w = World::new("2027-02-01T09:00:00+01:00", "off");
    let id = w.report("CSRF on settings");
    assert_eq!(w.due(&id, Kind::Acknowledge), "Mon 2027-02-08 09:00 CET");

    // A day later the team waits for the reporter: 4 business days are left.
    w.set("2027-02-02T09:00:00+01:00");
    w.alice(&id, "internal", "#waiting");
    let paused = w.deadline(&id, Kind::Acknowledge);
    assert_eq!(paused.status, Status::Paused);
    assert_eq!(paused.due, None);
    assert_eq!(paused.left_when_paused, Some(4 * 86_400));

    // Past the original deadline nothing is sent while the clock is paused.
    let quiet = w.tick_until("2027-02-15T09:00:00+01:00", HOUR);
    assert_eq!(quiet, TickOutcome::default());

    // The reporter answers on Monday 15th: the 4 days run from there.
    w.reporter_writes(&id);
    assert_eq!(w.events(&id, "waiting-ended").len(), 1);
    assert_eq!(w.due(&id, Kind::Acknowledge), "Fri 2027-02-19 09:00 CET");
    assert_eq!(w.deadline(&id, Kind::Acknowledge).status, Status::Running);
    w.tick_until("2027-02-20T00:00:00+01:00", HOUR);
    assert_eq!(
        w.notices(&id, "sla-escalation"),
        [("acknowledge".into(), "Fri 2027-02-19 09:00 CET".into())]
    );
}

#[test]
fn disclosure_is_due_thirty_days_after_the_fix_across_the_dst_change() {
    let w = World::new("2027-01-04T12:00:00+01:00", "off");
    let id = w.report("Heap overflow in parser");
    w.alice(
        &id,
        "reply",
        "#state triaged\n#state accepted\nConfirmed; fixing.",
    );
    w.set("2027-03-01T12:00:00+01:00");
    w.alice(&id, "internal", "#state fixed\n#fixed-in 2.4.1");
    // Clocks go forward on 28 March: the deadline keeps 12:00.
    assert_eq!(w.due(&id, Kind::Disclose), "Wed 2027-03-31 12:00 CEST");
    assert_eq!(w.deadline(&id, Kind::Fix).status, Status::Met);

    w.tick_until("2027-03-30T00:00:00+02:00", HOUR);
    assert_eq!(
        w.notices(&id, "sla-reminder")
            .into_iter()
            .filter(|(d, _)| d == "disclose")
            .collect::<Vec<_>>(),
        [("disclose".into(), "Mon 2027-03-29 12:00 CEST".into())]
    );
    w.alice(&id, "internal", "#state disclosed");
    assert_eq!(w.deadline(&id, Kind::Disclose).status, Status::Met);
    // Closed: no clock runs, nothing more is sent.
    let after = w.tick_until("2027-06-01T00:00:00+02:00", SignedDuration::from_hours(6));
    assert_eq!(after, TickOutcome::default());
}

#[test]
fn an_explicit_disclosure_date_is_due_when_that_day_ends() {
    let w = World::new("2027-09-06T10:00:00+02:00", "off");
    let id = w.report("Info leak");
    w.alice(
        &id,
        "internal",
        "#state triaged\n#state accepted\n#disclose 2027-11-02",
    );
    // After the October DST change, midnight CET.
    assert_eq!(w.due(&id, Kind::Disclose), "Wed 2027-11-03 00:00 CET");
    // A business-days deadline across the change keeps its wall-clock time:
    // Fri 29 Oct 10:00 CEST + 1 business day = Mon 1 Nov 10:00 CET.
    let cal = sla::calendar(&w.config);
    let monday = cal.add_business_days(at("2027-10-29T10:00:00+02:00"), 1);
    assert_eq!(local(monday), "Mon 2027-11-01 10:00 CET");
}

#[test]
fn the_digest_goes_out_once_a_week_at_its_time() {
    let w = World::new("2027-01-06T08:00:00+01:00", "Mon 09:00");
    let id = w.report("Weak TLS config");
    // Paused, so that the digests are all the tick sends.
    w.alice(&id, "internal", "#waiting");
    let queued = || {
        w.store
            .lock()
            .expect("store")
            .read()
            .counts()
            .expect("counts")
            .outbox_queued
    };
    let before = queued();
    let total = w.tick_until("2027-01-26T00:00:00+01:00", SignedDuration::from_mins(30));
    // Mondays 11, 18 and 25 January, one mail each to the one member.
    assert_eq!(
        total,
        TickOutcome {
            reminders: 0,
            escalations: 0,
            digests: 3,
            disclosure_days: 0,
        }
    );
    assert_eq!(queued() - before, 3);
    // The digest time is Monday 09:00 in program time.
    let last = sla::tick::last_digest_time(&w.config, w.now()).expect("digests on");
    assert_eq!(local(last), "Mon 2027-01-25 09:00 CET");
}

#[test]
fn statistics_give_median_and_90th_percentile_and_the_share_met() {
    let w = World::new("2027-03-01T09:00:00+01:00", "off");
    // Answered after 1, 2, 3 and 8 business days (Mon 1 March + n); the last
    // one late. Triaged together with the answer.
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(w.report(&format!("Finding {n}")));
    }
    for (id, when) in ids.iter().zip([
        "2027-03-02T09:00:00+01:00",
        "2027-03-03T09:00:00+01:00",
        "2027-03-04T09:00:00+01:00",
        "2027-03-11T09:00:00+01:00",
    ]) {
        w.set(when);
        w.alice(id, "reply", "#state triaged\nThank you, we are on it.");
    }
    let reports = w.survey(None);
    let stats = sla::stats::compute(&reports);
    let day = 86_400;
    let ack = stats.time_to_acknowledge.expect("measured");
    assert_eq!(
        (ack.count, ack.median_seconds, ack.p90_seconds),
        (4, 2 * day, 10 * day)
    );
    assert_eq!(stats.time_to_triage, stats.time_to_acknowledge);
    assert_eq!(stats.time_to_fix, None);
    // Acknowledge: 3 of 4 in time; triage (10 business days): 4 of 4.
    let by = |k: Kind| stats.deadlines_by_kind.get(&k).copied().unwrap_or_default();
    assert_eq!(
        (by(Kind::Acknowledge).met, by(Kind::Acknowledge).missed),
        (3, 1)
    );
    assert_eq!((by(Kind::Triage).met, by(Kind::Triage).missed), (4, 0));
    assert_eq!(stats.deadlines.share(), Some(7.0 / 8.0));
    let text = sla::text::stats(&stats);
    assert!(
        text.contains("median 2 days, 90th percentile 10 days (4 report(s))"),
        "{text}"
    );
    assert!(text.contains("88% met (7 of 8)"), "{text}");
}

#[test]
fn the_digest_lists_states_breaches_what_is_due_this_week_and_who_waits() {
    let w = World::new("2027-04-01T10:00:00+02:00", "off");
    let late = w.report("Late one");
    w.set("2027-04-05T10:00:00+02:00");
    let soon = w.report("Soon one");
    w.alice(&soon, "internal", "#state triaged");
    let waiting = w.report("Waiting one");
    w.alice(&waiting, "internal", "#waiting");
    let closed = w.report("Closed one");
    w.alice(&closed, "internal", "#state rejected");
    w.set("2027-04-09T10:00:00+02:00");

    let reports = w.survey(None);
    let digest = sla::text::digest(&reports, &sla::calendar(&w.config), w.now());
    let section = |title: &str| -> String {
        let start = digest
            .find(title)
            .unwrap_or_else(|| panic!("no {title:?} in {digest}"));
        let rest = &digest[start..];
        rest[..rest[1..].find("\n\n").map_or(rest.len(), |i| i + 1)].to_owned()
    };
    assert!(digest.contains("Open reports: 3"), "{digest}");
    assert!(digest.contains(&format!("triaged (1): {soon}")), "{digest}");
    assert!(
        !digest.contains(closed.as_str()),
        "closed reports stay out: {digest}"
    );
    // Opened Thu 1 April (Easter Monday is not a holiday here): due Thu 8 April.
    let breaches = section("Breached deadlines: 1");
    assert!(
        breaches.contains(late.as_str()) && breaches.contains("first answer"),
        "{breaches}"
    );
    let due = section("Due in the next 7 days");
    assert!(
        due.contains(soon.as_str()) && due.contains("first answer"),
        "{due}"
    );
    assert!(
        !due.contains(waiting.as_str()),
        "paused clocks are not due: {due}"
    );
    let waits = section("Waiting for the reporter: 1");
    assert!(
        waits.contains(&format!("{waiting}  since Mon 2027-04-05 10:00 CEST")),
        "{waits}"
    );
}
