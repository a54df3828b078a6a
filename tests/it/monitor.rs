//! The daemon's watch on itself, end to end: the real binary, its SLA tick,
//! the store and the file transport.

use std::time::{Duration, Instant};

use crate::common::{Env, parse_subject, stop};

const SUBJECT: &str = "free on the database's disk";

fn disk_alerts(env: &Env) -> usize {
    env.sent_to("alice@example.org")
        .iter()
        .filter(|raw| parse_subject(raw).is_some_and(|s| s.contains(SUBJECT)))
        .count()
}

#[test]
fn the_running_daemon_mails_a_low_disk_once_even_across_a_restart() {
    // Below 99% free is "low" here, which any disk a test runs on is.
    let env = Env::with_file_transport("[monitor]\nmin_free_percent = 99\n");
    env.init();
    let space = disclosed::monitor::disk_space(&env.path("state")).expect("statvfs");
    assert!(
        space.free_percent() < 99,
        "the test needs a disk not 99% empty"
    );
    let daemon = env.spawn_daemon();
    let started = Instant::now();
    while disk_alerts(&env) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no alert written"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    stop(daemon);
    assert_eq!(disk_alerts(&env), 1);
    // A restart reads the recorded alert: the tick at start sends nothing.
    let daemon = env.spawn_daemon();
    std::thread::sleep(Duration::from_secs(4));
    stop(daemon);
    assert_eq!(disk_alerts(&env), 1);
    let alerts = env.store().read().monitor_alerts().expect("alerts");
    assert_eq!(alerts, ["disk-low"]);
}

#[test]
fn a_daemon_with_the_watch_turned_off_mails_nothing_about_itself() {
    let env = Env::with_file_transport("[monitor]\nenabled = false\nmin_free_percent = 99\n");
    env.init();
    let daemon = env.spawn_daemon();
    std::thread::sleep(Duration::from_secs(4));
    stop(daemon);
    assert_eq!(disk_alerts(&env), 0);
    assert!(
        env.store()
            .read()
            .monitor_alerts()
            .expect("alerts")
            .is_empty()
    );
}
