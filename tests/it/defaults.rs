//! Safe defaults outside systemd: private database files whatever the umask,
//! `check --offline` that writes nothing, errors that say what is wrong once,
//! quiet ends of a closed pipe, and no library chatter in command output.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{BIN, Env, mail, stop};

fn disclosed(env: &Env, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.arg("--config").arg(env.config()).args(args);
    command
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_database_and_its_wal_and_shm_are_private_whatever_the_umask() {
    let env = Env::with_file_transport("");
    let umask_000 = |command: &mut Command| {
        // SAFETY: umask(2) only, between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::umask(0);
                Ok(())
            });
        }
    };
    let mut init = disclosed(&env, &["init"]);
    umask_000(&mut init);
    assert!(
        init.env("RUST_LOG", "warn")
            .status()
            .expect("init")
            .success()
    );
    let db = env.path("state/disclosed.sqlite3");
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&env.path("state")), 0o700);

    let mut run = disclosed(&env, &["run"]);
    umask_000(&mut run);
    let daemon = run.env("RUST_LOG", "warn").spawn().expect("daemon");
    let wal = env.path("state/disclosed.sqlite3-wal");
    let shm = env.path("state/disclosed.sqlite3-shm");
    let started = Instant::now();
    while !(wal.exists() && shm.exists()) {
        assert!(started.elapsed() < Duration::from_secs(20), "no WAL files");
        std::thread::sleep(Duration::from_millis(50));
    }
    env.deliver(&mail(
        "a@example.net",
        "security@example.org",
        "x",
        "u1@x",
        "",
    ));
    assert_eq!(mode(&wal), 0o600);
    assert_eq!(mode(&shm), 0o600);
    stop(daemon);
    assert_eq!(mode(&db), 0o600);
}

/// Every file under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("stat");
            if meta.is_dir() {
                stack.push(path.clone());
            }
            files.insert(
                path.display().to_string(),
                (meta.len(), meta.mtime(), meta.mtime_nsec()),
            );
        }
    }
    files
}

#[test]
fn check_offline_writes_nothing() {
    let env = Env::with_file_transport("");
    env.init();
    env.deliver(&mail(
        "a@example.net",
        "security@example.org",
        "x",
        "u2@x",
        "",
    ));
    env.run_once();
    let before = snapshot(env.dir.path());
    assert!(before.keys().any(|k| k.ends_with("disclosed.sqlite3")));
    let out = env.cmd(&["check", "--offline"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 reports"));
    assert_eq!(snapshot(env.dir.path()), before, "check --offline wrote");
}

#[test]
fn an_unreadable_database_directory_is_permission_denied_naming_the_path() {
    let env = Env::with_file_transport("");
    env.init();
    let state = env.path("state");
    let mut command = disclosed(&env, &["reports"]);
    command.env("RUST_LOG", "warn");
    // SAFETY: only geteuid(2) and setuid(2) between fork and exec.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        // root reads anything: run as nobody, who may read the config only.
        std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        std::fs::set_permissions(env.config(), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        unsafe {
            command.pre_exec(|| {
                if libc::setuid(65534) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    } else {
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    }
    let out = command.output().expect("run");
    let _ = std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.to_lowercase().contains("permission denied"), "{err}");
    assert!(err.contains(&state.display().to_string()), "{err}");
    assert!(!err.contains("does not exist"), "{err}");
}

#[test]
fn an_error_and_its_cause_are_printed_once() {
    let env = Env::with_file_transport("");
    // A directory where the database file should be.
    std::fs::create_dir_all(env.path("state/disclosed.sqlite3")).expect("mkdir");
    let out = env.cmd(&["reports"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let parts: Vec<&str> = err.trim_end().split(": ").collect();
    let mut seen = std::collections::HashSet::new();
    for part in &parts[1..] {
        assert!(seen.insert(*part), "`{part}` twice in: {err}");
    }
}

#[test]
fn a_listing_into_a_closed_pipe_ends_quietly() {
    let env = Env::with_file_transport("");
    env.init();
    for i in 0..3 {
        env.deliver(&mail(
            &format!("r{i}@example.net"),
            "security@example.org",
            "x",
            &format!("p{i}@x"),
            "",
        ));
    }
    env.run_once();
    // Like `disclosed reports | head -0`: the reader is gone before the
    // first line is written.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = disclosed(&env, &["reports"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "{err}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

#[test]
fn library_progress_lines_stay_out_of_command_output() {
    let env = Env::with_file_transport("");
    let out = disclosed(&env, &["init"])
        .env_remove("RUST_LOG")
        .output()
        .expect("init");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.to_lowercase().contains("migrat"), "{err}");

    // Asked for, they are there.
    let env = Env::with_file_transport("");
    let out = disclosed(&env, &["init"])
        .env("RUST_LOG", "info")
        .output()
        .expect("init");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("migrat"), "{err}");
}

#[test]
fn problems_with_the_same_message_are_all_listed() {
    let env = Env::with_file_transport("");
    let text = std::fs::read_to_string(env.config())
        .expect("config")
        .replace("name = \"Example\"", "name = \"\"")
        .replace("database = \"state/disclosed.sqlite3\"", "database = \"\"");
    env.write_config(&text);
    let out = env.cmd(&["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("must not be empty").count(), 2, "{err}");
    assert!(err.contains("`program.name` (line 3, column 8)"), "{err}");
    assert!(err.contains("`storage.database`"), "{err}");
}
