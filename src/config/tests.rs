use super::*;

/// A small valid configuration, for tests across the crate.
pub(crate) const MINIMAL: &str = r#"
[program]
name = "Example"
address = "security@example.org"
id_prefix = "SEC"
timezone = "Europe/Berlin"
policy_url = "https://example.org/security"

[storage]
database = "state/db.sqlite3"

[source]
kind = "maildir"
path = "/srv/mail/security"

[transport]
kind = "file"
dir = "outbox"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/disclosed/config.toml"))
}

fn problems(text: &str) -> Vec<KeyProblem> {
    match parse(text) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

#[test]
fn minimal_config_gets_defaults_and_resolves_paths() {
    let config = parse(MINIMAL).expect("valid");
    assert_eq!(config.program.address.to_string(), "security@example.org");
    assert_eq!(
        config.storage.database,
        Path::new("/etc/disclosed/state/db.sqlite3")
    );
    let TransportKind::File { dir } = &config.transport.kind else {
        panic!("file transport expected");
    };
    assert_eq!(dir, Path::new("/etc/disclosed/outbox"));
    assert_eq!(config.sla.acknowledge, PolicyDuration::BusinessDays(5));
    assert_eq!(config.sla.business_days.len(), 5);
    assert_eq!(config.limits.auto_replies_per_sender, 5);
}

#[test]
fn unknown_keys_are_errors_naming_key_and_file() {
    let text = MINIMAL.replace("[storage]", "[storage]\ndatabsae = \"x\"");
    let err = parse(&text).expect_err("typo accepted").to_string();
    assert!(err.contains("/etc/disclosed/config.toml"), "{err}");
    assert!(err.contains("databsae"), "{err}");
}

#[test]
fn unknown_section_is_an_error() {
    let text = format!("{MINIMAL}\n[frobnicate]\nx = 1\n");
    let err = parse(&text)
        .expect_err("unknown section accepted")
        .to_string();
    assert!(err.contains("frobnicate"), "{err}");
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let text = MINIMAL
        .replace("security@example.org", "security+x@example.org")
        .replace("Europe/Berlin", "Mars/Olympus")
        .replace("id_prefix = \"SEC\"", "id_prefix = \"sec\"")
        + "\n[sla]\nacknowledge = \"soon\"\nbusiness_days = [\"Mon\", \"Caturday\"]\nholidays = [\"2026-13-01\"]\n";
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    for key in [
        "program.address",
        "program.timezone",
        "program.id_prefix",
        "sla.acknowledge",
        "sla.business_days",
        "sla.holidays",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing in {keys:?}");
    }
}

#[test]
fn sendmail_needs_absolute_command() {
    let text = MINIMAL.replace(
        "kind = \"file\"\ndir = \"outbox\"",
        "kind = \"sendmail\"\ncommand = \"sendmail\"",
    );
    let problems = problems(&text);
    assert_eq!(problems[0].key, "transport.command");
}

#[test]
fn unknown_source_kind_is_named() {
    let text = MINIMAL.replace("kind = \"maildir\"", "kind = \"pop3\"");
    let err = parse(&text).expect_err("pop3 accepted").to_string();
    assert!(err.contains("pop3"), "{err}");
}

#[test]
fn team_members_are_validated() {
    let text = format!(
        "{MINIMAL}\n[[team.members]]\nname = \"A\"\nemail = \"alice@example.org\"\n[[team.members]]\nname = \"B\"\nemail = \"Alice@Example.org\"\n"
    );
    let problems = problems(&text);
    assert_eq!(problems[0].key, "team.members[1].email");
    let ok = format!("{MINIMAL}\n[[team.members]]\nname = \"A\"\nemail = \"alice@example.org\"\n");
    let config = parse(&ok).expect("valid");
    assert!(config.team.member("ALICE@example.org").is_some());
}

#[test]
fn limits_parse_sizes() {
    let text = format!(
        "{MINIMAL}\n[limits]\nmax_message_size = \"10 MiB\"\nauto_reply_window = \"30m\"\n"
    );
    let config = parse(&text).expect("valid");
    assert_eq!(config.limits.max_message_size, 10 << 20);
    assert_eq!(config.limits.auto_reply_window, Duration::from_secs(1800));
    let bad = format!("{MINIMAL}\n[limits]\nmax_message_size = \"lots\"\n");
    assert_eq!(problems(&bad)[0].key, "limits.max_message_size");
}

#[test]
fn secrets_come_from_files_and_hide_in_debug() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("imap");
    std::fs::write(&path, "hunter2\n").expect("write");
    let secret = read_secret_file("source.password_file", &path).expect("readable");
    assert_eq!(secret.expose(), "hunter2");
    assert!(!format!("{secret:?}").contains("hunter2"));
    let missing = read_secret_file("source.password_file", &dir.path().join("nope"))
        .expect_err("missing file accepted");
    assert_eq!(missing.key, "source.password_file");
    assert!(missing.message.contains("nope"));
}

#[test]
fn shipped_example_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).expect("config.example.toml exists");
    Config::parse(&text, &path).expect("config.example.toml is valid");
}
