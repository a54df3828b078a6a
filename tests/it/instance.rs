//! One daemon per database, one sender per outbox row: a second `disclosed run`
//! refuses to start and names the first, the kernel frees the lock of a killed
//! daemon, and senders racing on one outbox (the daemon, `run --once`,
//! `sla tick`) hand every row to a transport once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use disclosed::store::NewMail;

use crate::common::{BIN, Env, mail, signal, stop};

/// The exit code of a second `disclosed run` (README, "Running it").
const EXIT_RUNNING: i32 = 3;

/// A sendmail stand-in that appends each mail's Message-ID to `log`, one line
/// per delivery (appends of one short line are atomic), after `delay`.
pub fn counting_sendmail(env: &Env, log: &Path, delay: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = env.path("counting-sendmail");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep {delay}\nawk 'tolower($0) ~ /^message-id:/ && !seen {{ print $2; seen = 1 }}' >> \"{}\"\n",
            log.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// An installation whose transport is [`counting_sendmail`].
fn counting_env(delay: &str) -> (Env, PathBuf) {
    let env = Env::new("");
    let log = env.path("deliveries.log");
    let script = counting_sendmail(&env, &log, delay);
    let config = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&format!(
        "{config}\n[transport]\nkind = \"sendmail\"\ncommand = \"{}\"\n",
        script.display()
    ));
    env.init();
    (env, log)
}

/// Queues `n` mails straight into the outbox.
fn queue(env: &Env, n: usize) {
    let recipients = vec!["r@researcher.example".to_owned()];
    let mut store = env.store();
    store
        .write(|w| {
            for i in 0..n {
                let id = format!("race-{i}@example.org");
                let raw = format!(
                    "From: security@example.org\r\nTo: r@researcher.example\r\nMessage-ID: <{id}>\r\nSubject: n{i}\r\n\r\nbody\r\n"
                );
                w.tx().enqueue(
                    &NewMail {
                        report_id: None,
                        kind: "acknowledgement",
                        message_id: &id,
                        envelope_from: "security@example.org",
                        return_token: None,
                        recipients: &recipients,
                        rate_key: None,
                        raw: raw.as_bytes(),
                        held: false,
                        team_lines: &[],
                    },
                    jiff::Timestamp::UNIX_EPOCH,
                )?;
            }
            Ok::<_, disclosed::store::StoreError>(())
        })
        .expect("queue");
}

/// Deliveries per Message-ID in `log`.
pub fn deliveries(log: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut counts = BTreeMap::new();
    for id in text.lines() {
        *counts.entry(id.to_owned()).or_default() += 1;
    }
    counts
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(env: &Env, args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn disclosed")
}

fn lock_file(env: &Env) -> PathBuf {
    env.path("state/disclosed.sqlite3.lock")
}

/// Waits until `child` holds the daemon lock (its pid is in the lock file).
fn wait_until_locked(env: &Env, child: &Child) {
    let pid = format!("pid {},", child.id());
    wait_for("the daemon's lock", Duration::from_secs(20), || {
        std::fs::read_to_string(lock_file(env)).is_ok_and(|t| t.contains(&pid))
    });
}

#[test]
fn a_second_daemon_on_one_database_refuses_to_start_and_names_the_first() {
    let env = Env::with_file_transport("");
    env.init();
    let first = env.spawn_daemon();
    wait_until_locked(&env, &first);
    let second = env.cmd(&["run"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(EXIT_RUNNING), "{stderr}");
    assert!(
        stderr.contains("another `disclosed run` is already running")
            && stderr.contains(&format!("pid {}, started 20", first.id())),
        "the message names the running daemon: {stderr}"
    );
    // `run --once` works beside it.
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "inst-1@r.example",
        "",
    ));
    env.run_once();
    stop(first);
}

#[test]
fn the_lock_of_a_killed_daemon_is_released_by_the_kernel() {
    let env = Env::with_file_transport("");
    env.init();
    let mut first = env.spawn_daemon();
    wait_until_locked(&env, &first);
    signal(&first, libc::SIGKILL);
    first.wait().expect("reap");
    let second = env.spawn_daemon();
    wait_until_locked(&env, &second);
    // And it works: it takes mail.
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS",
        "inst-2@r.example",
        "",
    ));
    wait_for("the acknowledgement", Duration::from_secs(20), || {
        env.sent_to("jane@researcher.example").len() == 1
    });
    stop(second);
}

/// 1,200 queued rows (the figure of the report that two daemons sent twice),
/// the daemon, two `run --once` and an `sla tick` sending at once.
const RACE_ROWS: usize = 1200;

#[test]
fn senders_racing_on_one_outbox_hand_every_row_to_a_transport_once() {
    let (env, log) = counting_env("0");
    queue(&env, RACE_ROWS);
    let daemon = spawn(&env, &["run"]);
    let others: Vec<Child> = [&["run", "--once"][..], &["run", "--once"], &["sla", "tick"]]
        .into_iter()
        .map(|args| spawn(&env, args))
        .collect();
    let mut sent_by_others = 0usize;
    for child in others {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sent_by_others += stdout
            .split("sent ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
    }
    wait_for("every row sent", Duration::from_secs(120), || {
        env.store().read().counts().expect("counts").outbox_sent == RACE_ROWS as u64
    });
    stop(daemon);
    let counts = deliveries(&log);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "{RACE_ROWS} rows, {} deliveries, {} rows more than once; {sent_by_others} sent by run --once and sla tick beside the daemon",
        counts.values().sum::<usize>(),
        twice.len()
    );
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(counts.len(), RACE_ROWS, "every row delivered");
}

#[test]
fn the_rows_of_a_sender_killed_mid_batch_go_to_the_next_sender_at_once() {
    let (env, log) = counting_env("0.02");
    let rows = 300;
    queue(&env, rows);
    let mut daemon = spawn(&env, &["run"]);
    wait_for("the daemon to be sending", Duration::from_secs(30), || {
        deliveries(&log).len() >= 20
    });
    signal(&daemon, libc::SIGKILL);
    daemon.wait().expect("reap");
    let before = deliveries(&log).len();
    assert!(before < rows, "killed mid-batch: {before} of {rows}");
    // Its claims end with it: `run --once` sends the rest now, not after the
    // lease.
    let started = Instant::now();
    env.run_once();
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(
        env.store().read().counts().expect("counts").outbox_sent,
        rows as u64
    );
    let counts = deliveries(&log);
    assert_eq!(counts.len(), rows, "every row delivered");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.len() <= 1 && twice.iter().all(|(_, n)| **n == 2),
        "at most the mail in flight goes out again: {twice:?}"
    );
}
