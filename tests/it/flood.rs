//! Floods: a stranger's many mails are all kept and threaded, but what we send
//! because of them is bounded: team notices per sender and in all, and
//! automatic replies per mailbox (however it is written) and in all.

use crate::common::*;

const FLOODER: &str = "flooder@researcher.example";

fn report_mail(from: &str, n: usize) -> Vec<u8> {
    mail(
        from,
        "security@example.org",
        &format!("Finding {n}"),
        &format!("flood{n}.{}@r.example", from.replace('@', ".")),
        "",
    )
}

/// The notices and summaries the file transport wrote to Alice.
fn team_mail(env: &Env) -> (usize, usize) {
    let to_alice = env.sent_to(ALICE);
    let summaries = to_alice
        .iter()
        .filter(|raw| parse_subject(raw).is_some_and(|s| s.contains("Mail flood")))
        .count();
    (to_alice.len() - summaries, summaries)
}

#[test]
fn a_flood_from_one_sender_sends_the_team_one_summary_instead_of_a_notice_each() {
    let env = Env::with_file_transport("[limits]\nteam_notices_per_sender = 3\n");
    env.init();
    for n in 0..12 {
        env.deliver(&report_mail(FLOODER, n));
    }
    env.deliver(&report_mail("calm@researcher.example", 99));
    env.run_once();

    let reports = env.store().read().reports(None).expect("list");
    assert_eq!(reports.len(), 13, "every mail still opens its report");
    let (notices, summaries) = team_mail(&env);
    assert_eq!(
        (notices, summaries),
        (4, 1),
        "3 notices for the flooder, 1 for the calm sender, 1 summary"
    );
    // Acknowledgements keep their own, per-sender limit (5 by default).
    assert_eq!(env.sent_to(FLOODER).len(), 5);
    assert_eq!(env.sent_to("calm@researcher.example").len(), 1);

    let flagged = env.ok(&["reports", "--tag", "flood", "--json"]);
    let flagged: serde_json::Value = serde_json::from_str(&flagged).expect("json");
    assert_eq!(flagged.as_array().map(Vec::len), Some(9), "{flagged}");
    let held = env.report(4);
    let tags = &held.team.as_ref().expect("record").tags;
    assert!(tags.iter().any(|t| t == "flood"), "{tags:?}");
    assert_team_notified(&held, 0);
    let event = held
        .events
        .iter()
        .find(|e| e.kind == "team-notice-held")
        .expect("the held notice is recorded");
    assert_eq!(event.detail["limit"], "sender");
    assert_team_notified(&env.report(3), 1);
}

#[test]
fn the_flood_summary_to_a_member_without_a_key_names_no_sender() {
    let env = Env::with_file_transport("[limits]\nteam_notices_per_sender = 1\n");
    env.init();
    for n in 0..3 {
        env.deliver(&report_mail(FLOODER, n));
    }
    env.run_once();
    let summary = env
        .sent_to(ALICE)
        .into_iter()
        .find(|raw| parse_subject(raw).is_some_and(|s| s.contains("Mail flood")))
        .expect("a summary");
    let whole = String::from_utf8_lossy(&summary);
    assert!(!whole.contains("flooder"), "{whole}");
    assert!(!whole.contains("Finding"), "{whole}");
}

#[test]
fn a_flood_spread_over_many_senders_meets_the_global_notice_limit() {
    let env = Env::with_file_transport("[limits]\nteam_notices_total = 4\n");
    env.init();
    for n in 0..10 {
        env.deliver(&report_mail(&format!("r{n}@elsewhere.example"), n));
    }
    env.run_once();
    assert_eq!(team_mail(&env), (4, 1));
    let held = env.report(7);
    let event = held
        .events
        .iter()
        .find(|e| e.kind == "team-notice-held")
        .expect("held");
    assert_eq!(event.detail["limit"], "everyone");
    // Every one of them is acknowledged: the notice limit holds team mail only.
    assert_eq!(
        (0..10)
            .filter(|n| env.sent_to(&format!("r{n}@elsewhere.example")).len() == 1)
            .count(),
        10
    );
}

#[test]
fn a_follow_up_held_by_the_flood_limit_is_still_threaded_and_ends_a_pause() {
    let env = Env::with_file_transport("[limits]\nteam_notices_per_sender = 1\n");
    env.init();
    env.deliver(&report_mail(FLOODER, 0));
    env.run_once();
    let report_id = env.report(1).summary.id;
    let id = report_id.to_string();
    env.store()
        .write(|w| w.tx().set_waiting(&report_id, true))
        .expect("pause");
    env.deliver(&mail(
        FLOODER,
        &format!("security+{id}@example.org"),
        &format!("Re: [{id}] Finding 0"),
        "followup@r.example",
        "In-Reply-To: <flood0.flooder.researcher.example@r.example>\r\n",
    ));
    env.run_once();
    let report = env.report(1);
    assert_eq!(report.messages.len(), 2, "the follow-up joined the report");
    assert!(
        !report.team.as_ref().expect("record").waiting,
        "the reporter's mail ended the pause"
    );
    assert_team_notified(&report, 1);
    assert!(report.events.iter().any(|e| e.kind == "team-notice-held"));
}

#[test]
fn plus_addressed_and_recased_copies_share_one_acknowledgement_budget() {
    let env = Env::with_file_transport("[limits]\nauto_replies_per_sender = 2\n");
    env.init();
    for (n, from) in [
        "victim+1@example.net",
        "Victim@example.net",
        "VICTIM+x@EXAMPLE.NET",
        "victim@example.net",
    ]
    .iter()
    .enumerate()
    {
        env.deliver(&report_mail(from, n));
    }
    env.run_once();
    let acks = env
        .sent()
        .into_iter()
        .filter(|(_, raw)| {
            header(raw, "To").is_some_and(|to| to.to_lowercase().contains("example.net"))
        })
        .count();
    assert_eq!(acks, 2, "one mailbox, one budget of 2");
    assert_eq!(env.store().read().reports(None).expect("list").len(), 4);
}

#[test]
fn forged_senders_together_get_no_more_than_the_global_acknowledgements() {
    let env = Env::with_file_transport("[limits]\nauto_replies_total = 3\n");
    env.init();
    for n in 0..8 {
        env.deliver(&report_mail(&format!("forged{n}@victims.example"), n));
    }
    env.run_once();
    let acks = env
        .sent()
        .into_iter()
        .filter(|(_, raw)| header(raw, "To").is_some_and(|to| to.contains("victims.example")))
        .count();
    assert_eq!(acks, 3);
    let skipped = env.report(8);
    let event = skipped
        .events
        .iter()
        .find(|e| e.kind == "acknowledgement-skipped")
        .expect("skipped");
    assert_eq!(event.detail["reason"], "global rate limit");
    // The team still hears of every report (the notice limit is separate).
    assert_eq!(team_mail(&env), (8, 0));
}

#[test]
fn zero_flood_limits_are_refused_by_check() {
    let env = Env::with_file_transport("[limits]\nteam_notices_total = 0\n");
    let out = env.cmd(&["check", "--offline"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limits.team_notices_total"), "{err}");
}
