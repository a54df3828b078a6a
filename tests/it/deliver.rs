//! `disclosed deliver`, run the way a mail server's pipe runs it: the message
//! on standard input, an empty environment but for what Postfix's pipe(8)
//! passes, and the exit status as the only answer.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};

use crate::common::{BIN, Env, mail};

/// Runs `disclosed --config <config> deliver` as Postfix's pipe(8) runs the
/// `argv=` of a `master.cf` entry: the message on stdin, the environment
/// pipe(8) sets (SHELL, HOME, LOGNAME, USER, and `export_environment`'s TZ
/// and LANG) and nothing else, the working directory `/`.
fn pipe(env: &Env, bytes: &[u8]) -> Output {
    pipe_with(env, bytes, |_| {})
}

fn pipe_with(env: &Env, bytes: &[u8], setup: impl FnOnce(&mut Command)) -> Output {
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(env.config())
        .arg("deliver")
        .env_clear()
        .env("SHELL", "/bin/sh")
        .env("HOME", "/nonexistent")
        .env("LOGNAME", "nobody")
        .env("USER", "nobody")
        .env("TZ", "UTC")
        .env("LANG", "C")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    setup(&mut command);
    let mut child = command.spawn().expect("spawn disclosed deliver");
    let mut stdin = child.stdin.take().expect("stdin");
    // A refused message may be answered before it is all written: the exit
    // status is what counts, as for a mail server.
    let _ = stdin.write_all(bytes);
    drop(stdin);
    child
        .wait_with_output()
        .expect("wait for disclosed deliver")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn report_mail(message_id: &str) -> Vec<u8> {
    mail(
        "Rita <rita@researcher.example>",
        "security@example.org",
        "SQL injection in search",
        message_id,
        "",
    )
}

#[test]
fn a_piped_message_is_acknowledged_by_the_next_run() {
    let env = Env::with_file_transport("");
    env.init();
    let raw = report_mail("pipe1@researcher.example");
    let out = pipe(&env, &raw);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    assert_eq!(env.count_files("maildir/new"), 1);
    assert_eq!(env.count_files("maildir/tmp"), 0);

    let summary = env.run_once();
    assert!(summary.contains("opened 1 report"), "{summary}");
    let report = env.report(1);
    assert_eq!(report.summary.reporter, "rita@researcher.example");
    let stored = env
        .store()
        .read()
        .raw_message(&report.messages[0].sha256)
        .expect("read")
        .expect("raw kept");
    assert_eq!(stored, raw, "spooled byte for byte");
    assert_eq!(env.sent_to("rita@researcher.example").len(), 1);
}

#[test]
fn the_same_bytes_piped_twice_open_one_report() {
    let env = Env::with_file_transport("");
    env.init();
    let raw = report_mail("pipe2@researcher.example");
    // A retry before the daemon took the first copy, and one after.
    for _ in 0..2 {
        let out = pipe(&env, &raw);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(env.count_files("maildir/new"), 1, "the retry wrote nothing");
    env.run_once();
    let out = pipe(&env, &raw);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.count_files("maildir/new"), 0, "found in cur/");
    // Even with the processed copy gone from the Maildir, the store knows it.
    for entry in std::fs::read_dir(env.path("maildir/cur")).expect("cur") {
        std::fs::remove_file(entry.expect("entry").path()).expect("remove");
    }
    let out = pipe(&env, &raw);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = env.run_once();
    assert!(summary.contains("(1 already stored)"), "{summary}");
    assert_eq!(env.messages().len(), 1);
    assert_eq!(
        env.store()
            .read()
            .reports_tagged(None, None)
            .expect("reports")
            .len(),
        1
    );
    assert_eq!(
        env.sent_to("rita@researcher.example").len(),
        1,
        "one acknowledgement"
    );
}

#[test]
fn a_spool_that_cannot_be_written_exits_75_and_leaves_nothing_half_written() {
    let env = Env::with_file_transport("");
    env.init();
    let mut raw = report_mail("pipe3@researcher.example");
    raw.extend(std::iter::repeat_n(b'A', 300_000));
    // The file system refuses the message after its first KiB: the tmp file
    // is removed, nothing reaches new/.
    let out = pipe_with(&env, &raw, |command| {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let limit = libc::rlimit {
                    rlim_cur: 1024,
                    rlim_max: 1024,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("maildir/tmp/"), "{err}");
    assert_eq!(env.count_files("maildir/tmp"), 0);
    assert_eq!(env.count_files("maildir/new"), 0);

    // No Maildir where the config says: the same.
    std::fs::remove_dir(env.path("maildir/tmp")).expect("rmdir");
    std::fs::write(env.path("maildir/tmp"), "").expect("a file in its place");
    let out = pipe(&env, &report_mail("pipe4@researcher.example"));
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(stderr(&out).contains("maildir/tmp"), "{}", stderr(&out));
    assert_eq!(env.count_files("maildir/new"), 0);
}

#[test]
fn a_message_over_the_size_limit_is_returned_to_its_sender() {
    let env = Env::with_file_transport("[limits]\nmax_message_size = \"10 KiB\"\n");
    env.init();
    let mut raw = report_mail("pipe5@researcher.example");
    raw.extend(std::iter::repeat_n(b'A', 50_000));
    let out = pipe(&env, &raw);
    // EX_DATAERR: Postfix, Exim and procmail bounce it with this line.
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("limits.max_message_size"), "{err}");
    assert!(err.contains(&raw.len().to_string()), "{err}");
    assert_eq!(env.count_files("maildir/tmp"), 0);
    assert_eq!(env.count_files("maildir/new"), 0);

    let small = report_mail("pipe6@researcher.example");
    assert_eq!(pipe(&env, &small).status.code(), Some(0));
}

#[test]
fn every_configuration_failure_is_temporary_for_the_mail_server() {
    let env = Env::with_file_transport("");
    let imap = std::fs::read_to_string(env.config())
        .expect("config")
        .replace(
            "kind = \"maildir\"\npath = \"maildir\"\npoll_interval = \"100ms\"",
            "kind = \"imap\"\nhost = \"imap.example.org\"\nusername = \"u\"\npassword = \"p\"",
        );
    env.write_config(&imap);
    let out = pipe(&env, &report_mail("pipe7@researcher.example"));
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("kind = \"maildir\""),
        "{}",
        stderr(&out)
    );

    // Not even a readable file: 75, not the usual 2, so the mail is kept.
    std::fs::remove_file(env.config()).expect("rm");
    let out = pipe(&env, &report_mail("pipe8@researcher.example"));
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim_end().lines().count(), 1);
}

#[test]
fn procmail_and_exim_envelope_lines_are_not_stored() {
    let env = Env::with_file_transport("");
    env.init();
    let raw = report_mail("pipe9@researcher.example");
    let mut with_from = b"From rita@researcher.example Fri Dec  4 10:00:00 2026\n".to_vec();
    with_from.extend_from_slice(&raw);
    assert_eq!(pipe(&env, &with_from).status.code(), Some(0));
    env.run_once();
    let report = env.report(1);
    assert_eq!(
        report.messages[0].sha256,
        disclosed::parse::sha256_hex(&raw)
    );
}
