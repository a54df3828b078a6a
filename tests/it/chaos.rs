//! Faults at the seams, with the real binary: the store's disk filling up
//! between a transport's acceptance and the record of it, ingest on a full
//! disk, a read-only store, an SMTP server dropping the connection before its
//! answer, an IMAP connection cut mid-FETCH, and SIGKILL during a migration.
//! Each test says what it proves.
//!
//! The store tests put it on a small tmpfs mounted for the test, which needs
//! root (the suite runs as root: `scripts/test.sh`). Without it they fail and
//! say why; they never skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{ALICE, BIN, Env, mail, signal, stop};
use crate::instance::deliveries;

/// A tmpfs of `size` mounted on a directory for the life of the value.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Self {
        std::fs::create_dir_all(dir).expect("mount point");
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "these tests need a small filesystem for the store: mounting a tmpfs on {} failed \
             (run the suite as root, as scripts/test.sh does): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            dir: dir.to_owned(),
        }
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("filler")
    }

    /// Takes every free byte.
    fn fill(&self) {
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "bs=64k"])
            .arg(format!("of={}", self.filler().display()))
            .stderr(Stdio::null())
            .status();
    }

    fn free(&self) {
        std::fs::remove_file(self.filler()).expect("free the disk");
    }

    fn remount(&self, how: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(&self.dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// An installation whose store is on a 16 MiB disk and whose transport is a
/// sendmail stand-in that logs each Message-ID it accepts to `deliveries.log`
/// (not on that disk) and then, while the file `fill-on-send` exists, fills
/// the store's disk.
fn on_small_disk() -> (Env, SmallDisk, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new("");
    let disk = SmallDisk::mount(&env.path("state"), "16m");
    let log = env.path("deliveries.log");
    let script = env.path("filling-sendmail");
    let flag = env.path("fill-on-send");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             awk 'tolower($0) ~ /^message-id:/ && !seen {{ print $2; seen = 1 }}' >> \"{log}\"\n\
             if [ -e \"{flag}\" ]; then rm -f \"{flag}\"; dd if=/dev/zero of=\"{filler}\" bs=64k 2>/dev/null; fi\n\
             exit 0\n",
            log = log.display(),
            flag = flag.display(),
            filler = disk.filler().display(),
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let config = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&format!(
        "{config}\n[transport]\nkind = \"sendmail\"\ncommand = \"{}\"\n",
        script.display()
    ));
    env.init();
    (env, disk, log)
}

fn spawn_daemon_logging(env: &Env, log: &Path) -> Child {
    let stderr = std::fs::File::create(log).expect("log file");
    Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .arg("run")
        .env("RUST_LOG", "warn")
        .stderr(stderr)
        .spawn()
        .expect("spawn disclosed run")
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Outbox rows of `kind`, read with SQL of our own (the notice has no report).
fn rows_of_kind(env: &Env, kind: &str) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(env.path("state/disclosed.sqlite3")).expect("open");
    let mut stmt = conn
        .prepare("SELECT message_id, status, recipients FROM outbox WHERE kind = ?1 ORDER BY id")
        .expect("prepare");
    stmt.query_map([kind], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn report_mail(n: u32) -> Vec<u8> {
    mail(
        &format!("jane{n}@researcher.example"),
        "security@example.org",
        &format!("Report {n}"),
        &format!("chaos-{n}@researcher.example"),
        "",
    )
}

/// Asserts every mail in `log` went out once and returns how many there were.
fn each_once(log: &Path) -> usize {
    let counts = deliveries(log);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    counts.len()
}

/// The first report's acknowledgement goes out, then the disk fills before
/// it is recorded: the daemon sends nothing more (not it again, not the rest),
/// ingest leaves new mail on the source, and once space returns the row is
/// marked sent, the rest goes out, the new mail is taken, and the team gets
/// one notice.
#[test]
fn a_send_the_full_store_cannot_record_goes_out_once_and_is_recorded_when_space_returns() {
    let (env, disk, log) = on_small_disk();
    env.deliver(&report_mail(1));
    std::fs::write(env.path("fill-on-send"), "").expect("flag");
    let stderr = env.path("daemon.log");
    let daemon = spawn_daemon_logging(&env, &stderr);
    wait_for("the unrecordable send", Duration::from_secs(30), || {
        std::fs::read_to_string(&stderr)
            .is_ok_and(|t| t.contains("cannot record as sent; sending stops"))
    });
    let first = deliveries(&log);
    assert_eq!(first.len(), 1, "{first:?}");
    // Mail arriving meanwhile stays on the source.
    env.deliver(&report_mail(2));
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        deliveries(&log),
        first,
        "nothing more went out while the send was unrecorded"
    );
    assert_eq!(env.count_files("maildir/new"), 1, "the new mail waits");
    assert!(
        std::fs::read_to_string(env.path("state/disclosed.sqlite3.unrecorded"))
            .expect("side file")
            .contains(first.keys().next().expect("one").trim_matches(['<', '>'])),
        "the side file holds the unrecorded send"
    );

    disk.free();
    // Two acknowledgements, two notifications and the one notice, all sent.
    wait_for("recovery", Duration::from_secs(90), || {
        let counts = env.store().read().counts().expect("counts");
        counts.outbox_sent == 5 && counts.outbox_queued == 0
    });
    stop(daemon);
    assert_eq!(
        env.count_files("maildir/new"),
        0,
        "the waiting mail was taken"
    );
    assert_eq!(each_once(&log), 5);
    let notices = rows_of_kind(&env, "sends-unrecorded");
    assert_eq!(
        notices.len(),
        1,
        "one notice to the one member: {notices:?}"
    );
    assert_eq!(notices[0].1, "sent");
    let acks = rows_of_kind(&env, "acknowledgement");
    assert_eq!(acks.len(), 2);
    assert_eq!(
        format!("<{}>", acks[0].0),
        *first.keys().next().expect("first"),
        "the first mail out was the first acknowledgement, now recorded"
    );
    assert!(notices[0].2.contains(ALICE), "{notices:?}");
}

/// The daemon is killed while a send waits for its record; after space
/// returns, the next sender records it from the side file instead of
/// sending it again, and tells the team once.
#[test]
fn a_send_unrecorded_at_a_crash_is_recorded_from_the_side_file_not_sent_again() {
    let (env, disk, log) = on_small_disk();
    env.deliver(&report_mail(1));
    std::fs::write(env.path("fill-on-send"), "").expect("flag");
    let stderr = env.path("daemon.log");
    let mut daemon = spawn_daemon_logging(&env, &stderr);
    wait_for("the unrecordable send", Duration::from_secs(30), || {
        std::fs::read_to_string(&stderr)
            .is_ok_and(|t| t.contains("cannot record as sent; sending stops"))
    });
    signal(&daemon, libc::SIGKILL);
    daemon.wait().expect("reap");
    disk.free();
    let out = env.run_once();
    assert!(
        out.contains("sent 2 mail(s)"),
        "the notification and the notice: {out}"
    );
    assert_eq!(each_once(&log), 3);
    let counts = env.store().read().counts().expect("counts");
    assert_eq!((counts.outbox_sent, counts.outbox_queued), (3, 0));
    assert_eq!(rows_of_kind(&env, "sends-unrecorded").len(), 1);
    // Nothing is left to record: the next run sends nothing.
    let out = env.run_once();
    assert!(out.contains("sent 0 mail(s)"), "{out}");
    assert_eq!(each_once(&log), 3);
}

/// Ingest on a full store disk loses nothing: the mail stays on the source and
/// is taken once there is space. (The daemon whose disk fills while it runs:
/// `a_send_the_full_store_cannot_record_goes_out_once_and_is_recorded_when_space_returns`.)
#[test]
fn ingest_on_a_full_store_disk_leaves_mail_on_the_source_and_takes_it_later() {
    let (env, disk, log) = on_small_disk();
    disk.fill();
    env.deliver(&report_mail(1));
    // Whether the store cannot even be opened (the full disk has no room for
    // its shared-memory file) or refuses the message, the exit code says so.
    let out = env.cmd(&["run", "--once"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.count_files("maildir/new"), 1);
    assert!(deliveries(&log).is_empty());
    disk.free();
    env.run_once();
    assert_eq!(env.count_files("maildir/new"), 0);
    assert_eq!(env.messages().len(), 1);
    assert_eq!(
        each_once(&log),
        2,
        "the acknowledgement and the notification"
    );
}

/// A read-only store (the filesystem remounted read-only; the kernel refuses to
/// do that under a process writing to it, so no process is running): neither
/// `run --once` nor the daemon sends or takes anything, both say why, and once
/// it is writable again everything goes out once.
#[test]
fn a_read_only_store_takes_and_sends_nothing_and_loses_nothing() {
    let (env, disk, log) = on_small_disk();
    env.deliver(&report_mail(1));
    disk.remount("ro");
    let once = env.cmd(&["run", "--once"]);
    let stderr = String::from_utf8_lossy(&once.stderr);
    assert_eq!(once.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot open database"), "{stderr}");
    let daemon = env.cmd(&["run"]);
    let stderr = String::from_utf8_lossy(&daemon.stderr);
    assert_eq!(daemon.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    assert!(deliveries(&log).is_empty(), "nothing sent");
    assert_eq!(
        env.count_files("maildir/new"),
        1,
        "the mail waits on the source"
    );
    disk.remount("rw");
    env.run_once();
    assert_eq!(env.count_files("maildir/new"), 0);
    assert_eq!(
        each_once(&log),
        2,
        "the acknowledgement and the notification"
    );
}

/// A loopback SMTP server that keeps the Message-ID of every mail whose final
/// dot it read, and closes the connection without answering the first one.
struct DroppingSmtp {
    port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl DroppingSmtp {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared = received.clone();
        // The thread ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = smtp_session(stream, &shared);
            }
        });
        Self { port, received }
    }

    fn received(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn smtp_session(
    stream: std::net::TcpStream,
    received: &std::sync::Mutex<Vec<String>>,
) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader, Write};
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 chaos ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-chaos\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 go on\r\n")?;
            let mut message_id = String::new();
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                if message_id.is_empty() && line.to_ascii_lowercase().starts_with("message-id:") {
                    message_id = line["message-id:".len()..].trim().to_owned();
                }
            }
            let mut all = received
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            all.push(message_id);
            if all.len() == 1 {
                // The mail is in; the answer never comes.
                return Ok(());
            }
            b"250 2.0.0 queued\r\n"
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            b"250 ok\r\n"
        };
        out.write_all(reply)?;
    }
}

/// The SMTP server takes a mail and drops the connection before its answer:
/// the mail's fate is unknown, so it is sent again later with the same
/// Message-ID (the documented in-flight mail), every other mail goes out once,
/// and every row ends up sent.
#[test]
fn an_smtp_server_dropping_the_connection_before_its_answer_gets_only_that_mail_again() {
    let env = Env::new("");
    let server = DroppingSmtp::start();
    let config = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&format!(
        "{config}\n[transport]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"5s\"\nretry_initial = \"1s\"\nretry_max = \"1s\"\n",
        server.port
    ));
    env.init();
    env.deliver(&report_mail(1));
    let out = env.run_once();
    assert!(out.contains("1 delivery failure"), "{out}");
    std::thread::sleep(Duration::from_millis(1100));
    env.run_once();
    let received = server.received();
    assert_eq!(received.len(), 3, "{received:?}");
    assert_eq!(
        received[0], received[2],
        "the dropped mail, again: {received:?}"
    );
    assert_ne!(received[0], received[1], "{received:?}");
    let counts = env.store().read().counts().expect("counts");
    assert_eq!((counts.outbox_sent, counts.outbox_queued), (2, 0));
}

/// The schema of a database as `sqlite_master` holds it, sorted, and its
/// version.
fn schema(path: &Path) -> (i64, Vec<String>) {
    let conn = rusqlite::Connection::open(path).expect("open");
    let version = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    let mut stmt = conn
        .prepare("SELECT ifnull(sql, name) FROM sqlite_master ORDER BY name")
        .expect("prepare");
    let sql = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity");
    assert_eq!(ok, "ok");
    (version, sql)
}

/// `init` killed with SIGKILL at every point of creating and migrating a store
/// (every 3 ms over its run): each kill leaves a database that the next
/// `init` brings to exactly the schema of one never interrupted, intact.
#[test]
fn sigkill_during_a_migration_leaves_a_store_the_next_init_completes() {
    let env = Env::with_file_transport("");
    env.init();
    let db = env.path("state/disclosed.sqlite3");
    let clean = schema(&db);
    let mut interrupted = 0;
    let mut versions = Vec::new();
    for step in 0..50u64 {
        let _ = std::fs::remove_dir_all(env.path("state"));
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(env.config())
            .arg("init")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn init");
        std::thread::sleep(Duration::from_millis(3 * step));
        signal(&child, libc::SIGKILL);
        let status = child.wait().expect("reap");
        // Killed after the database file appeared and before init was done.
        if status.code().is_none() && db.exists() {
            interrupted += 1;
            versions.push(schema(&db).0);
        }
        env.init();
        assert_eq!(schema(&db), clean, "after a kill at {} ms", 3 * step);
    }
    eprintln!("{interrupted} kills with the store open; versions left: {versions:?}");
    assert!(
        interrupted > 0,
        "no kill landed while the store was being created"
    );
}

/// A loopback TCP proxy to `upstream` that, once, cuts both sides of the
/// connection in the middle of the first message body the server sends
/// (`BODY[]`), a few kilobytes in.
struct CuttingProxy {
    port: u16,
    cuts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CuttingProxy {
    fn start(upstream: u16) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let cuts = std::sync::Arc::new(AtomicUsize::new(0));
        let shared = cuts.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (Ok(mut client_in), Ok(mut server_out)) =
                    (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_in, &mut server_out);
                });
                let cuts = shared.clone();
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let (mut server, mut client) = (server, client);
                    let mut buf = vec![0u8; 4096];
                    let mut after_body: Option<usize> = None;
                    loop {
                        let n = match server.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let chunk = &buf[..n];
                        if cuts.load(Ordering::SeqCst) == 0 {
                            if after_body.is_none() && chunk.windows(6).any(|w| w == b"BODY[]") {
                                after_body = Some(0);
                            }
                            if let Some(seen) = after_body.as_mut() {
                                *seen += n;
                                if *seen > 6000 {
                                    cuts.fetch_add(1, Ordering::SeqCst);
                                    let _ = client.shutdown(std::net::Shutdown::Both);
                                    let _ = server.shutdown(std::net::Shutdown::Both);
                                    break;
                                }
                            }
                        }
                        if client.write_all(chunk).is_err() {
                            break;
                        }
                    }
                    let _ = client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Self { port, cuts }
    }

    fn cuts(&self) -> usize {
        self.cuts.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The IMAP connection is cut in the middle of a FETCH: the daemon reconnects
/// and every message is stored once, every report acknowledged once, and every
/// message flagged on the server.
#[test]
fn an_imap_connection_cut_mid_fetch_loses_and_duplicates_nothing() {
    use crate::mailstack::{MailStack, unique};
    let stack = MailStack::start();
    let security = unique("security");
    let proxy = CuttingProxy::start(stack.port("IMAP_PORT"));
    let source = stack.imap_source(&security, "").replace(
        &format!("port = {}", stack.port("IMAP_PORT")),
        &format!("port = {}", proxy.port),
    );
    let env = Env::with_sections(
        &security,
        &source,
        "[transport]\nkind = \"file\"\ndir = \"outbox\"\n",
    );
    env.init();
    let total = 30;
    let padding = "All the details of the problem, one line of many.\r\n".repeat(80);
    let reports: Vec<Vec<u8>> = (0..total)
        .map(|n| {
            format!(
                "From: r{n}@researcher.example\r\nTo: {security}\r\nSubject: Report {n}\r\n\
                 Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <cut-{n}@researcher.example>\r\n\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{padding}"
            )
            .into_bytes()
        })
        .collect();
    stack.append_all(&security, &reports);
    let daemon = env.spawn_daemon();
    wait_for(
        "every message and its mail",
        Duration::from_secs(60),
        || {
            let counts = env.store().read().counts().expect("counts");
            counts.messages == total as u64 && counts.outbox_sent == 2 * total as u64
        },
    );
    stop(daemon);
    assert_eq!(proxy.cuts(), 1, "the connection was cut mid-FETCH");
    let counts = env.store().read().counts().expect("counts");
    assert_eq!(
        (
            counts.messages,
            counts.reports,
            counts.outbox_sent,
            counts.outbox_queued
        ),
        (total as u64, total as u64, 2 * total as u64, 0),
        "each message stored once, each report acknowledged once"
    );
    assert!(
        stack.messages(&security, "INBOX").iter().all(|m| m.seen),
        "every message is flagged on the server"
    );
}
