//! The daemon as a systemd service: readiness and watchdog notifications, SIGHUP
//! reloads, and the unit file itself.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use disclosed::clock::Clock;

use crate::common::{BIN, Env, mail, signal, stop};

/// Collects datagrams until `want` arrived or `limit` passed.
fn receive_until(socket: &UnixDatagram, want: &str, limit: Duration) -> Vec<String> {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        if let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = text.lines().any(|l| l == want);
            got.push(text);
            if done {
                break;
            }
        }
    }
    got
}

#[test]
fn ready_comes_after_the_first_connection_attempt_and_watchdog_keepalives_follow() {
    // An IMAP server that is not there: the first attempt fails and is
    // scheduled for retry, which counts as started.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let env = Env::with_sections(
        "security@example.org",
        &format!(
            "[source]\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
             username = \"security@example.org\"\npassword = \"x\"\n"
        ),
        "[transport]\nkind = \"file\"\ndir = \"outbox\"\n",
    );
    env.init();
    let socket_path = env.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let log = std::fs::File::create(env.path("daemon.log")).expect("log file");
    let mut daemon = Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .arg("run")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "300000")
        .env("RUST_LOG", "info")
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn");
    let ready = receive_until(&socket, "READY=1", Duration::from_secs(10));
    assert!(
        ready.iter().any(|m| m.lines().any(|l| l == "READY=1")),
        "{ready:?}"
    );
    let keepalives = receive_until(&socket, "WATCHDOG=1", Duration::from_secs(5));
    assert!(
        keepalives.iter().any(|m| m.contains("WATCHDOG=1")),
        "{keepalives:?}"
    );
    signal(&daemon, libc::SIGTERM);
    let stopping = receive_until(&socket, "STOPPING=1", Duration::from_secs(5));
    assert!(
        stopping.iter().any(|m| m.contains("STOPPING=1")),
        "{stopping:?}"
    );
    let status = daemon.wait().expect("wait");
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(env.path("daemon.log")).expect("log");
    assert_eq!(
        log.matches("IMAP connection failed").count(),
        1,
        "state changes are logged once, not per attempt:\n{log}"
    );
}

#[test]
fn sighup_reloads_templates_and_keeps_the_old_ones_when_the_new_are_broken() {
    let env = Env::with_file_transport("[templates]\ndir = \"tpl\"\n");
    std::fs::create_dir(env.path("tpl")).expect("mkdir");
    env.init();
    let log = std::fs::File::create(env.path("daemon.log")).expect("log file");
    let daemon = Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .arg("run")
        .env("RUST_LOG", "info")
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn");
    // The acknowledgement to `to` (the team's notifications go out too).
    let wait_ack = |to: &str| {
        let started = Instant::now();
        loop {
            let mut sent = env.sent_to(to);
            if !sent.is_empty() {
                assert_eq!(sent.len(), 1, "one acknowledgement to {to}");
                return sent.remove(0);
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no mail sent to {to}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let wait_log = |needle: &str, n: usize| {
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(env.path("daemon.log")).unwrap_or_default();
            if text.matches(needle).count() >= n {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no `{needle}` in:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Signals before the handler is installed would end the process.
    wait_log("delivery ready", 1);
    // A broken template is refused, and the built-in one stays in force.
    std::fs::write(env.path("tpl/acknowledgement.txt.hbs"), "{{#if}}broken").expect("write");
    signal(&daemon, libc::SIGHUP);
    wait_log("reload refused", 1);
    env.deliver(&mail(
        "a@example.net",
        "security@example.org",
        "one",
        "one@x",
        "",
    ));
    let ack = wait_ack("a@example.net");
    assert!(String::from_utf8_lossy(&ack).contains("thank you for your report"));

    // A valid one takes effect for the next acknowledgement.
    std::fs::write(
        env.path("tpl/acknowledgement.txt.hbs"),
        "RELOADED {{report_id}}\n",
    )
    .expect("write");
    signal(&daemon, libc::SIGHUP);
    wait_log("configuration, templates and keys reloaded", 1);
    env.deliver(&mail(
        "b@example.net",
        "security@example.org",
        "two",
        "two@x",
        "",
    ));
    let ack = wait_ack("b@example.net");
    assert!(
        String::from_utf8_lossy(&ack).contains("RELOADED SEC-"),
        "the reloaded template was not used"
    );
    stop(daemon);
}

#[test]
fn the_systemd_unit_is_valid_and_hardened() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/disclosed.service"
    ))
    .expect("unit file");
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "ExecStartPre=/usr/bin/disclosed check --offline",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=disclosed",
        "User=disclosed",
        "UMask=0077",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=",
        "RestartPreventExitStatus=2",
    ] {
        assert!(unit.contains(line), "unit lacks {line}");
    }
    // systemd's own verifier, against this build of the binary.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("disclosed.service");
    std::fs::write(&path, unit.replace("/usr/bin/disclosed", BIN)).expect("write unit");
    // `--man=no`: the manual page the unit names comes with the package.
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian package systemd) is installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains("Failed to connect") && !l.trim().is_empty())
        .filter(|l| l.contains("disclosed.service"))
        .collect();
    assert!(problems.is_empty(), "systemd-analyze verify: {stderr}");
}

#[test]
fn the_daemon_ticks_by_itself_and_sends_the_digest_once() {
    // A digest scheduled two minutes ago (program time) is due at the first tick.
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").expect("tzdata");
    let scheduled = (disclosed::clock::SystemClock.now() - jiff::SignedDuration::from_mins(2))
        .to_zoned_datetime(tz);
    let digest = scheduled.strftime("%a %H:%M").to_string();
    let env = Env::with_file_transport(&format!("[sla]\ndigest = \"{digest}\"\n"));
    env.init();
    let daemon = env.spawn_daemon();
    let started = Instant::now();
    let digests = || {
        env.sent_to("alice@example.org")
            .into_iter()
            .filter(|m| crate::common::header(m, "Subject").is_some_and(|s| s.contains("digest")))
            .count()
    };
    while digests() == 0 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Restarted, the daemon ticks again and sends nothing more.
    stop(daemon);
    let again = env.spawn_daemon();
    std::thread::sleep(Duration::from_secs(2));
    stop(again);
    assert_eq!(digests(), 1, "one digest for one scheduled time");
}

/// Context switches of every thread of `pid` so far: each is a wake-up.
fn context_switches(pid: u32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the daemon's threads");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .flat_map(|status| {
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

#[test]
fn an_idle_daemon_sleeps_until_something_is_due_and_stops_at_once() {
    // The source polls once an hour: any wake-up in the window would be a
    // loop polling, not an event.
    let env = Env::with_sections(
        "security@example.org",
        "[source]\nkind = \"maildir\"\npath = \"maildir\"\npoll_interval = \"1h\"\n",
        "[transport]\nkind = \"file\"\ndir = \"outbox\"\n",
    );
    env.init();
    let socket_path = env.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut daemon = Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .arg("run")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("spawn");
    let ready = receive_until(&socket, "READY=1", Duration::from_secs(20));
    assert!(
        ready.iter().any(|m| m.lines().any(|l| l == "READY=1")),
        "{ready:?}"
    );
    // The first passes and the first tick run at start; then nothing is due
    // for a minute. (Delivery used to poll every 5 s: the window holds one.)
    std::thread::sleep(Duration::from_secs(1));
    let before = context_switches(daemon.id());
    std::thread::sleep(Duration::from_millis(5500));
    let woken = context_switches(daemon.id()) - before;

    let stopping = Instant::now();
    signal(&daemon, libc::SIGTERM);
    let status = daemon.wait().expect("wait");
    let stopped = stopping.elapsed();
    assert!(woken <= 3, "{woken} wake-ups while idle");
    assert!(status.success(), "{status}");
    assert!(
        stopped < Duration::from_secs(2),
        "stopped after {stopped:?}"
    );
}
