//! Crash safety: SIGKILL the daemon mid-ingest, restart, and find every message
//! stored exactly once and every acknowledgement queued exactly once.

use std::time::{Duration, Instant};

use crate::common::{ALICE, Env, assert_team_notified, mail};

const MESSAGES: usize = 600;

#[test]
fn sigkill_during_ingest_loses_and_duplicates_nothing() {
    // Every one of the 600 senders is acknowledged and the team told of each:
    // lift the global caps.
    let env = Env::with_file_transport(
        "[limits]\nauto_replies_total = 1000\nteam_notices_total = 1000\n",
    );
    env.init();
    for i in 0..MESSAGES {
        env.deliver(&mail(
            &format!("r{i}@researcher.example"),
            "security@example.org",
            &format!("Report number {i}"),
            &format!("crash-{i}@researcher.example"),
            "",
        ));
    }
    let mut kills = 0;
    for round in 0..3 {
        let mut child = env.spawn_daemon();
        // Wait until this round has made progress but not finished, then kill.
        let before = env.count_files("maildir/cur");
        let deadline = Instant::now() + Duration::from_secs(30);
        while env.count_files("maildir/cur") <= before + 20 * (round + 1)
            && env.count_files("maildir/new") > 0
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        if env.count_files("maildir/new") > 0 {
            kills += 1;
        }
    }
    assert!(
        kills >= 1,
        "the daemon was never killed mid-ingest; make the mailbox larger"
    );

    env.run_once();
    assert_eq!(env.count_files("maildir/new"), 0);
    assert_eq!(env.count_files("maildir/cur"), MESSAGES);

    let store = env.store();
    let counts = store.read().counts().expect("counts");
    assert_eq!(
        counts.messages, MESSAGES as u64,
        "every message stored exactly once"
    );
    assert_eq!(counts.raw_messages, MESSAGES as u64);
    assert_eq!(counts.reports, MESSAGES as u64);
    let reports = store.read().reports(None).expect("reports");
    for r in &reports {
        let detail = store
            .read()
            .report_detail(&r.id)
            .expect("read")
            .expect("listed report exists");
        assert_eq!(detail.messages.len(), 1, "{}", r.id);
        let acks = detail
            .outbox
            .iter()
            .filter(|o| o.kind == "acknowledgement")
            .count();
        assert_eq!(acks, 1, "{} has {acks} acknowledgements", r.id);
        assert_team_notified(&detail, 1);
    }
    // Each report's acknowledgement and its one team notification.
    assert_eq!(counts.outbox_sent, 2 * MESSAGES as u64);
    assert_eq!(counts.outbox_queued + counts.outbox_failed, 0);
    assert_eq!(
        env.sent().len(),
        2 * MESSAGES,
        "one .eml per acknowledgement and per notification"
    );
    assert_eq!(env.sent_to(ALICE).len(), MESSAGES);
}
