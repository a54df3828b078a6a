//! Observability: the metrics listener of a running daemon, scraped and
//! attacked, and the log lines a log shipper reads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{BIN, Env, mail, stop, y};
use disclosed::metrics::sample;

/// A free loopback port (closed again: the daemon binds it).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// One request on a fresh connection: the status and the body; `None` if the
/// connection failed or was closed without an answer.
fn request(addr: SocketAddr, raw: &[u8]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    // A server that closes early may reset a large write: the answer still counts.
    let _ = stream.write_all(raw);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
    )
}

/// Waits until `path` answers 200 and `done` accepts the body.
fn wait_for(addr: SocketAddr, path: &str, done: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        if let Some((200, body)) = get(addr, path)
            && done(&body)
        {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{path} never became what was expected: {:?}",
            get(addr, path)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn metrics_env(addr: SocketAddr) -> Env {
    let env = Env::with_file_transport(&format!("[metrics]\nlisten = \"{addr}\"\n"));
    env.init();
    env
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(text, name, labels).unwrap_or(0.0)
}

/// A short bug report from `from` with Message-ID `id`, to the program.
fn deliver_bug(env: &Env, from: &str, id: &str) {
    env.deliver(&mail(from, "security@example.org", "Bug", id, ""));
}

#[test]
fn a_scrape_of_the_running_daemon_counts_the_mail_it_ingests() {
    let addr = free_port();
    let env = metrics_env(addr);
    let daemon = env.spawn_daemon();
    let health = wait_for(addr, "/healthz", |_| true);
    let health: serde_json::Value = serde_json::from_str(&health).expect("health is JSON");
    assert_eq!(health["status"], "ok");

    let before = wait_for(addr, "/metrics", |_| true);
    assert!(before.ends_with("# EOF\n"), "{before}");
    let reporter = [("class", "reporter")];
    assert_eq!(
        value(&before, "disclosed_messages_ingested_total", &reporter),
        0.0
    );
    assert_eq!(
        value(&before, "disclosed_reports", &[("state", "new")]),
        0.0
    );
    assert!(
        sample(
            &before,
            "disclosed_last_successful_poll_timestamp_seconds",
            &[]
        )
        .is_some()
    );

    deliver_bug(&env, "r@x.example", "m1@x.example");
    deliver_bug(&env, "s@x.example", "m2@x.example");
    let after = wait_for(addr, "/metrics", |m| {
        value(m, "disclosed_messages_ingested_total", &reporter) == 2.0
            && value(m, "disclosed_deliveries_sent_total", &[]) >= 2.0
    });
    assert_eq!(value(&after, "disclosed_reports", &[("state", "new")]), 2.0);
    assert_eq!(value(&after, "disclosed_deliveries_failed_total", &[]), 0.0);
    assert_eq!(value(&after, "disclosed_outbox_failed", &[]), 0.0);
    stop(daemon);
}

#[test]
fn oversized_garbage_and_idle_connections_do_not_stop_the_daemon_or_the_scrape() {
    let addr = free_port();
    let env = metrics_env(addr);
    let daemon = env.spawn_daemon();
    wait_for(addr, "/healthz", |_| true);

    // Many connections that never send a byte.
    let idle: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .collect();
    assert!(idle.len() > 100, "only {} connected", idle.len());
    // A request head far over the limit is refused, not buffered.
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let refused = wait_status(addr, huge.as_bytes(), &[431]);
    assert_eq!(refused, 431);
    // Garbage, other methods and other paths get their error and nothing else.
    assert_eq!(
        wait_status(addr, b"\x16\x03\x01\x02\x00\x01\x00\r\n\r\n", &[400]),
        400
    );
    assert_eq!(
        wait_status(addr, b"DELETE /metrics HTTP/1.1\r\n\r\n", &[405]),
        405
    );
    assert_eq!(
        wait_status(addr, b"GET /../../etc/passwd HTTP/1.1\r\n\r\n", &[404]),
        404
    );

    // The scrape goes through while the idle connections are still open.
    let started = Instant::now();
    let scraped = wait_for(addr, "/metrics", |m| m.contains("disclosed_reports"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(scraped.ends_with("# EOF\n"));
    // And the daemon goes on with its work.
    deliver_bug(&env, "r@x.example", "m1@x.example");
    wait_for(addr, "/metrics", |m| {
        value(
            m,
            "disclosed_messages_ingested_total",
            &[("class", "reporter")],
        ) == 1.0
    });
    drop(idle);
    stop(daemon);
}

/// Sends `raw` until the answer's status is one of `want` (a connection
/// beyond the cap is told 503 first); returns it.
fn wait_status(addr: SocketAddr, raw: &[u8], want: &[u16]) -> u16 {
    let started = Instant::now();
    loop {
        let got = request(addr, raw).map(|(status, _)| status);
        if let Some(status) = got
            && want.contains(&status)
        {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "wanted {want:?}, got {got:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run_once_logging(env: &Env, envs: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .args(args)
        .args(["run", "--once"])
        .envs(envs.iter().copied())
        .env_remove("JOURNAL_STREAM")
        .output()
        .expect("run disclosed");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn json_log_lines_name_the_report_and_the_message() {
    for (envs, args) in [
        (vec![("RUST_LOG", "info")], vec!["--log-format", "json"]),
        (
            vec![("RUST_LOG", "info"), ("DISCLOSED_LOG_FORMAT", "json")],
            vec![],
        ),
    ] {
        let env = Env::with_file_transport("");
        env.init();
        deliver_bug(&env, "r@x.example", "m1@x.example");
        let stderr = run_once_logging(&env, &envs, &args);
        let lines: Vec<serde_json::Value> = stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let id = y("SEC-2026-0001");
        let about = |message: &str| {
            lines
                .iter()
                .find(|l| l["message"] == message)
                .unwrap_or_else(|| panic!("no `{message}` line in {stderr}"))
        };
        let ingested = about("ingested");
        assert_eq!(ingested["report"], id.as_str(), "{ingested}");
        assert_eq!(ingested["message_id"], "m1@x.example", "{ingested}");
        assert!(ingested["stored"].is_u64(), "{ingested}");
        assert_eq!(about("ingest cycle done")["report"], id.as_str());
        // Headers only: the body of the mail is in no line.
        assert!(!stderr.contains("Details of the problem"), "{stderr}");
    }
}

#[test]
fn debug_logging_leaves_out_handlebars_unless_it_is_named() {
    let env = Env::with_file_transport("");
    env.init();
    deliver_bug(&env, "r@x.example", "m1@x.example");
    let debug = run_once_logging(&env, &[("RUST_LOG", "debug")], &[]);
    assert!(!debug.contains("handlebars"), "{debug}");
    assert!(debug.contains("DEBUG"), "debug lines of our own: {debug}");
    // Named, it is there: the assertion above could fail.
    deliver_bug(&env, "s@x.example", "m2@x.example");
    let named = run_once_logging(&env, &[("RUST_LOG", "debug,handlebars=debug")], &[]);
    assert!(named.contains("handlebars"), "{named}");
}

#[test]
fn a_metrics_address_that_cannot_be_bound_stops_the_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let env = metrics_env(addr);
    let out = Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .arg("run")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run disclosed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen for metrics on {addr}")),
        "{stderr}"
    );
}
