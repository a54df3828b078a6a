//! `disclosed backup`, `restore` and `export` with the real binary: backups
//! taken while the daemon ingests a stream of mail are each one moment of the
//! store and restore whole; a restore is refused while a daemon runs and for
//! any file that is not a whole disclosed store; a full disk leaves no partial
//! file; backups and exports are private; an export gives back every message
//! byte for byte.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use sha2::{Digest as _, Sha256};

use crate::common::{BIN, Env, keyed_file_config, mail, stop};
use crate::pgp::{Part, inner_entity, pgp_mime, write_secret};
use crate::team::Person;

/// The exit code of a second `disclosed run` (README, "Running it").
const EXIT_RUNNING: i32 = 3;

fn database(env: &Env) -> PathBuf {
    env.path("state/disclosed.sqlite3")
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn open(path: &Path) -> Connection {
    Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open")
}

/// One cell as text: blobs by their SHA-256.
fn cell(value: rusqlite::types::ValueRef<'_>) -> String {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => format!("{i:015}"),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("blob:{}", sha256(b)),
    }
}

/// Each row of `sql` (its first column is the key) as text, by key.
fn keyed(conn: &Connection, sql: &str) -> BTreeMap<String, String> {
    let mut stmt = conn.prepare(sql).expect("prepare");
    let n = stmt.column_count();
    stmt.query_map([], |row| {
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            cells.push(cell(row.get_ref(i)?));
        }
        Ok((cells[0].clone(), cells.join("|")))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// The first difference between two keyed row sets, if any.
fn first_difference(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Option<String> {
    let keys: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .find(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("key {k}: {:?} != {:?}", a.get(k), b.get(k)))
}

/// Every table of the database, every row and column, sorted.
fn everything(conn: &Connection) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("tables")
        .query_map([], |row| row.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    tables
        .into_iter()
        .map(|table| {
            let mut rows: Vec<String> = keyed(conn, &format!("SELECT * FROM \"{table}\""))
                .into_values()
                .collect();
            rows.sort();
            (table, rows)
        })
        .collect()
}

fn message_count(conn: &Connection) -> usize {
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .expect("count");
    usize::try_from(n).expect("count")
}

fn integrity(conn: &Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check")
}

fn foreign_key_problems(conn: &Connection) -> usize {
    conn.prepare("PRAGMA foreign_key_check")
        .expect("fk check")
        .query_map([], |_| Ok(()))
        .expect("fk check")
        .count()
}

/// The rows a backup must hold exactly as the store does at its moment, and
/// keep for ever after: what never changes once written. Keys are ids given
/// in commit order, so a backup's rows must be all of the store's up to its
/// highest id (a snapshot has no gaps).
const IMMUTABLE: [(&str, &str); 6] = [
    ("messages", "SELECT * FROM messages ORDER BY id"),
    ("raw messages", "SELECT message, data FROM raw_messages"),
    ("events", "SELECT * FROM events"),
    (
        "reports",
        "SELECT year * 1000000 + seq, id, reporter, created_at FROM reports",
    ),
    (
        "outbox",
        "SELECT id, report_id, kind, message_id, envelope_from, recipients, created_at FROM outbox",
    ),
    ("outbox mail", "SELECT outbox, raw FROM outbox_raw"),
];

#[test]
fn backups_under_continuous_ingest_are_each_one_moment_of_the_store_and_restore_whole() {
    let env = Env::with_file_transport("");
    env.init();
    let daemon = env.spawn_daemon();
    const MAILS: usize = 90;
    let maildir = env.path("maildir");
    let stream = std::thread::spawn(move || {
        for i in 0..MAILS {
            // Every third mail follows up an earlier report.
            let extra = if i % 3 == 2 {
                format!("In-Reply-To: <stream-{}@researcher.example>\r\n", i - 2)
            } else {
                String::new()
            };
            let raw = mail(
                &format!("r{}@researcher.example", i % 7),
                "security@example.org",
                &format!("Finding {i}"),
                &format!("stream-{i}@researcher.example"),
                &extra,
            );
            let name = format!("{}.M{i}P2.stream", 1_700_000_000 + i);
            std::fs::write(maildir.join("tmp").join(&name), raw).expect("write");
            std::fs::rename(
                maildir.join("tmp").join(&name),
                maildir.join("new").join(&name),
            )
            .expect("deliver");
            std::thread::sleep(Duration::from_millis(30));
        }
    });
    let mut backups = Vec::new();
    while !stream.is_finished() || backups.len() < 2 {
        let path = env.path(&format!("backup-{}.sqlite3", backups.len()));
        env.ok(&["backup", path.to_str().expect("utf-8")]);
        backups.push(path);
        std::thread::sleep(Duration::from_millis(250));
    }
    stream.join().expect("stream");
    wait_for("every message stored", Duration::from_secs(60), || {
        env.messages().len() == MAILS
    });
    // Last, one with everything in it.
    let last = env.path("backup-last.sqlite3");
    env.ok(&["backup", last.to_str().expect("utf-8"), "--json"]);
    backups.push(last);
    stop(daemon);

    let live = open(&database(&env));
    let mut mid_stream = 0;
    for path in &backups {
        assert_eq!(mode(path), 0o600, "{}", path.display());
        let copy = open(path);
        assert_eq!(integrity(&copy), "ok", "{}", path.display());
        assert_eq!(foreign_key_problems(&copy), 0, "{}", path.display());
        let count = message_count(&copy);
        if count > 0 && count < MAILS {
            mid_stream += 1;
        }
        for (what, sql) in IMMUTABLE {
            let theirs = keyed(&copy, sql);
            let ours = keyed(&live, sql);
            let upto = theirs.keys().next_back().cloned();
            let expected: BTreeMap<_, _> = ours
                .into_iter()
                .filter(|(k, _)| upto.as_ref().is_some_and(|u| k <= u))
                .collect();
            assert!(
                !theirs.is_empty() || what == "outbox" || what == "outbox mail" || count == 0,
                "{what} of {} is empty",
                path.display()
            );
            if let Some(diff) = first_difference(&theirs, &expected) {
                panic!(
                    "{what} of {} are not the store's rows up to its moment: {diff}",
                    path.display()
                );
            }
        }
    }
    assert!(
        mid_stream >= 1,
        "no backup was taken while mail was being ingested ({} backups)",
        backups.len()
    );

    // Restore one taken mid-stream: the store is then exactly that backup.
    let chosen = backups
        .iter()
        .find(|p| {
            let n = message_count(&open(p));
            n > 0 && n < MAILS
        })
        .expect("a mid-stream backup")
        .clone();
    let before = everything(&live);
    drop(live);
    let out = env.ok(&["restore", chosen.to_str().expect("utf-8")]);
    assert!(out.contains("kept as"), "{out}");
    let restored = open(&database(&env));
    assert_eq!(everything(&restored), everything(&open(&chosen)));
    drop(restored);
    // The replaced database is kept whole beside it.
    let aside: Vec<_> = std::fs::read_dir(env.path("state"))
        .expect("state")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".before-restore-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(mode(&aside[0]), 0o600);
    assert_eq!(everything(&open(&aside[0])), before);
    for stale in ["-wal", "-shm", "-journal"] {
        let mut p = database(&env).into_os_string();
        p.push(stale);
        assert!(
            !Path::new(&p).exists(),
            "{stale} left beside the restored database"
        );
    }
    // The restored store works: the daemon opens it and reads it.
    env.run_once();
    assert!(env.ok(&["reports", "--json"]).contains("SEC-"));
}

#[test]
fn restore_is_refused_while_a_daemon_runs() {
    let env = Env::with_file_transport("");
    env.init();
    let backup = env.path("b.sqlite3");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    let daemon = env.spawn_daemon();
    let lock = env.path("state/disclosed.sqlite3.lock");
    let pid = format!("pid {},", daemon.id());
    wait_for("the daemon's lock", Duration::from_secs(20), || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&pid))
    });
    // The store moves on past the backup: a swap would lose this report.
    env.deliver(&mail(
        "r@researcher.example",
        "security@example.org",
        "XSS",
        "after@r.example",
        "",
    ));
    wait_for("the report", Duration::from_secs(20), || {
        env.messages().len() == 1
    });
    let out = env.cmd(&["restore", backup.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(EXIT_RUNNING), "{stderr}");
    assert!(stderr.contains(&pid), "names the daemon: {stderr}");
    stop(daemon);
    assert_eq!(env.messages().len(), 1, "the database was not replaced");
    let left: Vec<_> = std::fs::read_dir(env.path("state"))
        .expect("state")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restore"))
        .collect();
    assert!(left.is_empty(), "left {left:?}");
}

#[test]
fn a_file_that_is_not_a_whole_disclosed_store_is_never_restored() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "r@researcher.example",
        "security@example.org",
        "XSS",
        "x1@r.example",
        "",
    ));
    env.run_once();
    let good = env.path("good.sqlite3");
    env.ok(&["backup", good.to_str().expect("utf-8")]);

    let junk = env.path("junk.sqlite3");
    std::fs::write(
        &junk,
        b"not a database at all, just some text\n".repeat(200),
    )
    .expect("junk");
    let other = env.path("other-app.sqlite3");
    Connection::open(&other)
        .expect("other")
        .execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); PRAGMA user_version = 3;",
        )
        .expect("other app");
    let newer = env.path("newer.sqlite3");
    std::fs::copy(&good, &newer).expect("copy");
    Connection::open(&newer)
        .expect("newer")
        .pragma_update(None, "user_version", 999)
        .expect("version");
    // Damage inside the file: pages of a table overwritten.
    let damaged = env.path("damaged.sqlite3");
    let mut bytes = std::fs::read(&good).expect("good");
    let page = 4096;
    assert!(bytes.len() > 6 * page);
    for b in &mut bytes[3 * page..5 * page] {
        *b = 0x5a;
    }
    std::fs::write(&damaged, bytes).expect("damaged");
    let truncated = env.path("truncated.sqlite3");
    let bytes = std::fs::read(&good).expect("good");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("truncated");

    let before = everything(&open(&database(&env)));
    for (file, reason) in [
        (&junk, "is not an SQLite database"),
        (&other, "not a disclosed store"),
        (&newer, "newer than this disclosed supports"),
        (&damaged, ""),
        (&truncated, ""),
        (&env.path("missing.sqlite3"), "cannot read the backup"),
    ] {
        let out = env.cmd(&["restore", file.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", file.display());
        assert!(
            stderr.contains(&file.display().to_string()) && stderr.contains(reason),
            "{}: {stderr}",
            file.display()
        );
        assert_eq!(
            everything(&open(&database(&env))),
            before,
            "{}",
            file.display()
        );
        let left: Vec<_> = std::fs::read_dir(env.path("state"))
            .expect("state")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("restore"))
            .collect();
        assert!(left.is_empty(), "{}: left {left:?}", file.display());
    }
}

/// A tmpfs of `size` on `dir` for the life of the value (needs root, as the
/// suite runs: scripts/test.sh).
struct SmallDisk(PathBuf);

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
            "this test needs a small filesystem: mounting a tmpfs on {} failed (run the suite as root): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Self(dir.to_owned())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_backup_to_a_full_disk_fails_naming_it_and_leaves_no_partial_file() {
    let env = Env::with_file_transport("");
    env.init();
    let body = "A long proof of concept line.\r\n".repeat(600);
    for i in 0..30 {
        let raw = String::from_utf8(mail(
            "r@researcher.example",
            "security@example.org",
            &format!("Big {i}"),
            &format!("big-{i}@r.example"),
            "",
        ))
        .expect("utf-8")
        .replace("Details of the problem.\r\n", &body);
        env.deliver(raw.as_bytes());
    }
    env.run_once();
    let size = std::fs::metadata(database(&env)).expect("db").len();
    assert!(
        size > 600 * 1024,
        "the store ({size} bytes) must not fit the disk"
    );
    let small = env.path("small");
    let _disk = SmallDisk::mount(&small, "256k");
    let target = small.join("b.sqlite3");
    let out = env.cmd(&["backup", target.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&target.display().to_string()) && stderr.contains("no space left"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(&small)
        .expect("small")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left on the full disk: {left:?}");
}

#[test]
fn backups_are_private_from_creation_whatever_the_umask() {
    let env = Env::with_file_transport("");
    env.init();
    let run = |args: &[&str]| {
        let out = Command::new("sh")
            .arg("-c")
            .arg("umask 000 && exec \"$0\" \"$@\"")
            .arg(BIN)
            .arg("--config")
            .arg(env.config())
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let file = env.path("b.sqlite3");
    run(&["backup", file.to_str().expect("utf-8")]);
    assert_eq!(mode(&file), 0o600);
    let dir = env.path("nightly");
    run(&[
        "backup",
        "--dir",
        dir.to_str().expect("utf-8"),
        "--keep",
        "3",
    ]);
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).expect("dir") {
        assert_eq!(mode(&entry.expect("entry").path()), 0o600);
    }
}

#[test]
fn a_backup_never_replaces_a_file_unasked() {
    let env = Env::with_file_transport("");
    env.init();
    let file = env.path("precious.sqlite3");
    std::fs::write(&file, b"something else").expect("write");
    let out = env.cmd(&["backup", file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read(&file).expect("read"), b"something else");
    env.ok(&["backup", file.to_str().expect("utf-8"), "--force"]);
    assert_eq!(integrity(&open(&file)), "ok");
    // Never over the live database, even with --force.
    let db = database(&env);
    let before = std::fs::read(&db).expect("db");
    let out = env.cmd(&["backup", db.to_str().expect("utf-8"), "--force"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&db).expect("db"), before);
    let wal = env.path("state/disclosed.sqlite3-wal");
    let out = env.cmd(&["backup", wal.to_str().expect("utf-8"), "--force"]);
    assert_eq!(out.status.code(), Some(2));
    // A directory that does not exist is named.
    let out = env.cmd(&["backup", "/nonexistent-disclosed-dir/b.sqlite3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-disclosed-dir"));
}

#[test]
fn nightly_rotation_keeps_the_newest_and_deletes_only_its_own_files() {
    let env = Env::with_file_transport("");
    env.init();
    let dir = env.path("nightly");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("notes.txt"), b"keep me").expect("write");
    std::fs::write(dir.join("disclosed-backup-manual.sqlite3"), b"keep me").expect("write");
    std::fs::write(
        dir.join("disclosed-backup-20200101T000000Z.sqlite3"),
        b"old",
    )
    .expect("write");
    for _ in 0..3 {
        let json = env.ok(&[
            "backup",
            "--dir",
            dir.to_str().expect("utf-8"),
            "--keep",
            "2",
            "--json",
        ]);
        let summary: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert!(
            summary["bytes"].as_u64().is_some_and(|b| b > 0),
            "{summary}"
        );
        assert!(summary["seconds"].as_f64().is_some(), "{summary}");
        // Names are per second.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&"notes.txt".to_owned()));
    assert!(names.contains(&"disclosed-backup-manual.sqlite3".to_owned()));
    assert!(!names.iter().any(|n| n.contains("2020")), "{names:?}");
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("disclosed-backup-20"))
            .count(),
        2
    );
}

const SECRET: &str = "The upload handler writes outside the web root.";

#[test]
fn an_export_gives_back_every_message_byte_for_byte_and_the_decrypted_report() {
    let team = Person::new("Example Security", "security@example.org");
    let rita = Person::new("Rita", "rita@researcher.example");
    rita.gpg.import(&team.public());
    let env = Env::with_file_transport("");
    write_secret(&env.path("team.key"), &team.gpg.export_secret(&team.fpr));
    env.write_config(&keyed_file_config(
        "[sla]\ndigest = \"off\"\n\n[[team.members]]\nname = \"Alice\"\nemail = \"alice@example.org\"\n",
    ));
    env.init();
    let poc = b"import os\nprint('From here on')\n";
    let inner = inner_entity(
        "Path traversal in upload",
        "rita@researcher.example",
        SECRET,
        &[Part {
            name: "poc.py",
            content_type: "text/x-python",
            data: poc,
        }],
    );
    let armored = rita.gpg.encrypt(&inner, &[&team.fpr], None);
    let first = pgp_mime(
        "From: rita@researcher.example\r\nTo: security@example.org\r\nSubject: ...\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <enc-1@researcher.example>\r\n",
        &armored,
    );
    env.deliver(&first);
    // A follow-up whose body has mbox's separator in it, in several forms.
    let second = b"From: rita@researcher.example\nTo: security@example.org\nSubject: Re: more\n\
In-Reply-To: <enc-1@researcher.example>\nMessage-ID: <plain-2@researcher.example>\n\n\
From the logs:\n>From the quoted logs\n>>From deeper\nFrom \nend without newline"
        .to_vec();
    env.deliver(&second);
    env.run_once();
    let stored = env.messages();
    assert_eq!(stored.len(), 2);
    let report = stored[0].report_id.clone().expect("threaded");
    assert!(stored.iter().all(|m| m.report_id.as_ref() == Some(&report)));
    let id = report.to_string();

    let dir = env.path("export");
    env.ok(&["export", &id, "--eml-dir", dir.to_str().expect("utf-8")]);
    assert_eq!(mode(&dir), 0o700);
    for (n, message) in stored.iter().enumerate() {
        let raw = std::fs::read(dir.join(format!("{:03}.eml", n + 1))).expect("eml");
        assert_eq!(sha256(&raw), message.sha256, "message {}", n + 1);
    }
    assert_eq!(std::fs::read(dir.join("001.eml")).expect("eml"), first);
    assert_eq!(std::fs::read(dir.join("002.eml")).expect("eml"), second);
    let decrypted = std::fs::read_to_string(dir.join("001.decrypted.eml")).expect("decrypted");
    assert!(decrypted.contains(SECRET), "{decrypted}");
    assert!(!dir.join("002.decrypted.eml").exists());
    assert_eq!(
        std::fs::read(dir.join("attachments/01-poc.py")).expect("poc"),
        poc
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).expect("report"))
            .expect("json");
    assert_eq!(json["id"], id);
    assert_eq!(json["messages"].as_array().map(Vec::len), Some(2));
    let events: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("events.json")).expect("events"))
            .expect("json");
    assert!(events.as_array().is_some_and(|e| !e.is_empty()), "{events}");
    for entry in walk(&dir) {
        let want = if entry.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&entry), want, "{}", entry.display());
    }

    // Not into a non-empty directory unasked.
    let out = env.cmd(&["export", &id, "--eml-dir", dir.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    env.ok(&[
        "export",
        &id,
        "--eml-dir",
        dir.to_str().expect("utf-8"),
        "--force",
    ]);

    // The mbox: mail-parser's reader gives back each message as stored; the
    // one without a final newline gets exactly one.
    let mbox = env.path("report.mbox");
    env.ok(&["export", &id, "--mbox", mbox.to_str().expect("utf-8")]);
    assert_eq!(mode(&mbox), 0o600);
    let bytes = std::fs::read(&mbox).expect("mbox");
    let back: Vec<Vec<u8>> = mail_parser::mailbox::mbox::MessageIterator::new(bytes.as_slice())
        .map(|m| m.expect("entry").contents().to_vec())
        .collect();
    assert_eq!(back.len(), 2);
    assert_eq!(sha256(&back[0]), stored[0].sha256);
    let mut second_nl = second.clone();
    second_nl.push(b'\n');
    assert_eq!(back[1], second_nl);
    let inner_box =
        std::fs::read_to_string(env.path("report.mbox.decrypted")).expect("decrypted mbox");
    assert!(inner_box.contains(SECRET));
    assert!(
        env.path("report.mbox.report.json").exists()
            && env.path("report.mbox.events.json").exists()
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A unit's directives, comments and blank lines left out.
fn directives(unit: &str) -> Vec<&str> {
    unit.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .collect()
}

#[test]
fn the_backup_service_keeps_the_daemons_sandbox_and_the_package_ships_its_timer() {
    let daemon = repo_file("systemd/disclosed.service");
    let backup = repo_file("systemd/disclosed-backup.service");
    let ours = directives(&backup);
    // Every restriction of the daemon's sandbox holds for the backup too;
    // only the network is narrower (none).
    let sandbox_starts = daemon.find("UMask=").expect("the daemon's sandbox");
    for line in directives(&daemon[sandbox_starts..]) {
        if line.starts_with("RestrictAddressFamilies=") || line.starts_with("WantedBy=") {
            continue;
        }
        assert!(
            ours.contains(&line),
            "disclosed-backup.service lacks {line}"
        );
    }
    assert!(ours.contains(&"PrivateNetwork=yes"));
    assert!(ours.contains(&"RestrictAddressFamilies=AF_UNIX"));
    for line in [
        "User=disclosed",
        "Group=disclosed",
        "Type=oneshot",
        "Environment=DISCLOSED_CONFIG=/etc/disclosed/config.toml",
        "ExecStart=/usr/bin/disclosed backup --dir ${BACKUP_DIR} --keep ${BACKUP_KEEP}",
    ] {
        assert!(
            ours.contains(&line),
            "disclosed-backup.service lacks {line}"
        );
    }
    let timer = directives_owned(&repo_file("systemd/disclosed-backup.timer"));
    for line in [
        "Persistent=true",
        "RandomizedDelaySec=30min",
        "WantedBy=timers.target",
    ] {
        assert!(timer.iter().any(|l| l == line), "the timer lacks {line}");
    }
    let manifest = repo_file("Cargo.toml");
    assert!(manifest.contains(r#"unit-name = "disclosed-backup""#));
    let tmpfiles = repo_file("pkg/tmpfiles.d/disclosed.conf");
    assert!(
        tmpfiles
            .lines()
            .any(|l| l.starts_with("d /var/lib/disclosed/backups ")
                && l.contains("0700 disclosed disclosed"))
    );
    let readme = repo_file("README.md");
    let script = repo_file("scripts/systemd-test");
    for name in ["backup", "restore"] {
        assert!(readme.contains(&format!("<!-- systemd-test: {name} -->")));
        assert!(
            script.contains(&format!("$(block {name})")),
            "systemd-test does not run {name}"
        );
    }
}

fn directives_owned(unit: &str) -> Vec<String> {
    directives(unit).into_iter().map(str::to_owned).collect()
}

#[test]
fn restore_is_refused_while_another_process_has_the_database_open() {
    let env = Env::with_file_transport("");
    env.init();
    let backup = env.path("b.sqlite3");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    env.deliver(&mail(
        "r@researcher.example",
        "security@example.org",
        "XSS",
        "open@r.example",
        "",
    ));
    env.run_once();
    // Like a `run --once` or `disclosed report` in progress: a connection that
    // has read the database and stays open.
    let reader = Connection::open(database(&env)).expect("open");
    let _: i64 = reader
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .expect("read");
    let out = env.cmd(&["restore", backup.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("another process has"), "{stderr}");
    drop(reader);
    assert_eq!(env.messages().len(), 1, "the database was not replaced");
    // Once it is closed, the restore goes through.
    env.ok(&["restore", backup.to_str().expect("utf-8")]);
    assert_eq!(env.messages().len(), 0);
}
