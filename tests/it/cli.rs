//! The command-line contract: exit codes, messages that name the key and the file,
//! help on every command, JSON output.

use crate::common::{BIN, Env, mail, y};

fn code(out: &std::process::Output) -> i32 {
    out.status.code().expect("exit code")
}

#[test]
fn help_on_every_command() {
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["check", "--help"],
        vec!["run", "--help"],
        vec!["reports", "--help"],
        vec!["report", "--help"],
        vec!["sla", "--help"],
        vec!["sla", "tick", "--help"],
        vec!["stats", "--help"],
        vec!["deliver", "--help"],
    ] {
        let out = std::process::Command::new(BIN)
            .args(&args)
            .output()
            .expect("run");
        assert_eq!(code(&out), 0, "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage:"), "{args:?}: {text}");
    }
    let out = std::process::Command::new(BIN)
        .arg("frobnicate")
        .output()
        .expect("run");
    assert_eq!(code(&out), 2);
}

#[test]
fn config_errors_exit_2_naming_key_and_file() {
    let env = Env::with_file_transport("");
    let text = std::fs::read_to_string(env.config())
        .expect("config")
        .replace("Europe/Berlin", "Europe/Atlantis");
    env.write_config(&text);
    let out = env.cmd(&["check"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("program.timezone"), "{err}");
    assert!(err.contains(&env.config().display().to_string()), "{err}");

    env.write_config(&format!("{text}\n[storage2]\nx = 1\n").replace("Atlantis", "Berlin"));
    let out = env.cmd(&["check"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("storage2"));

    let out = std::process::Command::new(BIN)
        .args(["--config", "/nonexistent/disclosed.toml", "check"])
        .output()
        .expect("run");
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/disclosed.toml"));
}

#[test]
fn config_path_comes_from_the_environment() {
    let env = Env::with_file_transport("");
    let out = std::process::Command::new(BIN)
        .arg("init")
        .env("DISCLOSED_CONFIG", env.config())
        .output()
        .expect("run");
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(env.path("state/disclosed.sqlite3").exists());
}

#[test]
fn check_reports_each_part_and_fails_without_a_database() {
    let env = Env::with_file_transport("");
    let out = env.cmd(&["check"]);
    assert_eq!(code(&out), 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAILED   store:"), "{stdout}");
    assert!(stdout.contains("disclosed init"), "{stdout}");
    assert!(stdout.contains("ok       source:"), "{stdout}");
    env.init();
    env.init(); // idempotent
    for args in [&["check"][..], &["check", "--offline"][..]] {
        let text = env.ok(args);
        for part in [
            "config",
            "templates",
            "store",
            "keys",
            "source",
            "transport",
        ] {
            assert!(
                text.contains(&format!("ok       {part}: ")),
                "{part} missing in {text}"
            );
        }
        // Alice has no key and there is no team key: she gets notices only.
        assert!(
            text.contains("WARNING  team: 1 member(s), 0 with a key")
                && text.contains("alice@example.org get(s) metadata notices only"),
            "{text}"
        );
    }
    std::fs::remove_dir_all(env.path("maildir/cur")).expect("break maildir");
    let out = env.cmd(&["check"]);
    assert_eq!(code(&out), 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAILED   source:") && stdout.contains("cur/"),
        "{stdout}"
    );
}

#[test]
fn broken_templates_are_config_errors() {
    let env = Env::with_file_transport("[templates]\ndir = \"tpl\"\n");
    std::fs::create_dir(env.path("tpl")).expect("mkdir");
    std::fs::write(env.path("tpl/acknowledgement.txt.hbs"), "{{#if}}").expect("write");
    let out = env.cmd(&["check"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("acknowledgement.txt.hbs"));
}

#[test]
fn run_without_init_is_an_error_not_a_new_database() {
    let env = Env::with_file_transport("");
    let out = env.cmd(&["run", "--once"]);
    assert_eq!(code(&out), 1);
    assert!(!env.path("state/disclosed.sqlite3").exists());
}

#[test]
fn reports_and_report_read_the_store() {
    let env = Env::with_file_transport("");
    env.init();
    assert!(env.ok(&["reports"]).contains("no reports"));
    env.deliver(&mail(
        "jane@researcher.example",
        "security@example.org",
        "XSS in search",
        "j1@r.example",
        "",
    ));
    env.deliver(&mail(
        "kim@researcher.example",
        "security@example.org",
        "SQLi in login",
        "j2@r.example",
        "",
    ));
    env.run_once();

    let table = env.ok(&["reports"]);
    assert!(
        table.contains(&y("SEC-2026-0001")) && table.contains("XSS in search"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["reports", "--json"])).expect("json");
    let ids: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, [&y("SEC-2026-0002"), &y("SEC-2026-0001")]);
    let none: serde_json::Value =
        serde_json::from_str(&env.ok(&["reports", "--state", "triaged", "--json"])).expect("json");
    assert_eq!(none.as_array().map(Vec::len), Some(0));
    assert_eq!(code(&env.cmd(&["reports", "--state", "bogus"])), 2);

    let detail: serde_json::Value =
        serde_json::from_str(&env.ok(&["report", &y("sec-2026-0001"), "--json"])).expect("json");
    assert_eq!(detail["id"], y("SEC-2026-0001"));
    assert_eq!(detail["reporter"], "jane@researcher.example");
    assert_eq!(detail["messages"][0]["message_id"], "j1@r.example");
    assert!(
        detail["messages"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Details of the problem.")),
        "the readable text is derived from the stored raw message"
    );
    assert_eq!(detail["participants"][0]["role"], "reporter");
    assert_eq!(detail["outbox"][0]["kind"], "acknowledgement");
    assert!(detail["events"].as_array().is_some_and(|e| e.len() >= 3));
    let text = env.ok(&["report", &y("SEC-2026-0001")]);
    assert!(
        text.contains(&y("security+SEC-2026-0001@example.org")),
        "{text}"
    );

    assert_eq!(code(&env.cmd(&["report", &y("SEC-2026-0099")])), 1);
    assert_eq!(code(&env.cmd(&["report", "not-an-id"])), 2);

    // The deadlines: in `report`, in `sla`, and the statistics.
    assert!(
        text.contains("deadlines (as of") && text.contains("first answer to the reporter: due"),
        "{text}"
    );
    assert_eq!(
        detail["sla"]["deadlines"][0]["kind"], "acknowledge",
        "{detail}"
    );
    assert!(detail["sla"]["deadlines"][0]["business_seconds_left"].as_i64() > Some(0));
    let sla = env.ok(&["sla"]);
    assert!(
        sla.starts_with("2 open report(s), 0 breached deadline(s)"),
        "{sla}"
    );
    let later = env.ok(&["sla", "--now", "2099-01-01T00:00:00Z"]);
    assert!(later.contains("4 breached deadline(s)"), "{later}");
    let stats: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--json"])).expect("json");
    assert_eq!(
        (stats["reports"].as_u64(), stats["open"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(stats["time_to_acknowledge"], serde_json::Value::Null);
    assert_eq!(code(&env.cmd(&["sla", "--now", "yesterday"])), 2);
}
