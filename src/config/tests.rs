use std::path::Path;
use std::time::Duration;

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

fn with_sections(source: &str, transport: &str) -> String {
    let start = MINIMAL.find("[source]").expect("source section");
    format!("{}{source}\n{transport}\n", &MINIMAL[..start])
}

const IMAP: &str = "[source]\nkind = \"imap\"\nhost = \"imap.example.org\"\n\
                    username = \"security@example.org\"\npassword = \"pw\"\n";
const FILE: &str = "[transport]\nkind = \"file\"\ndir = \"outbox\"\n";

#[test]
fn imap_source_gets_safe_defaults() {
    let config = parse(&with_sections(IMAP, FILE)).expect("valid");
    let SourceConfig::Imap(imap) = &config.source else {
        panic!("IMAP source expected");
    };
    assert_eq!(imap.server.port, 993);
    assert_eq!(imap.server.tls, TlsMode::Implicit);
    assert_eq!(imap.mailbox, "INBOX");
    assert!(imap.idle);
    assert_eq!(imap.processed_mailbox, None);
    assert_eq!(imap.credentials.password.expose(), "pw");
    let starttls = IMAP.replace("[source]", "[source]\ntls = \"starttls\"");
    let config = parse(&with_sections(&starttls, FILE)).expect("valid");
    let SourceConfig::Imap(imap) = &config.source else {
        panic!("IMAP source expected");
    };
    assert_eq!(imap.server.port, 143);
}

#[test]
fn plaintext_is_for_loopback_only() {
    let none = IMAP.replace("[source]", "[source]\ntls = \"none\"");
    let found = problems(&with_sections(&none, FILE));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "source.tls");
    assert!(found[0].message.contains("loopback"), "{found:?}");
    for host in ["localhost", "127.0.0.1", "::1", "[::1]"] {
        let local = none.replace("imap.example.org", host);
        parse(&with_sections(&local, FILE)).unwrap_or_else(|e| panic!("{host}: {e}"));
    }
}

#[test]
fn server_credentials_are_checked() {
    let both = IMAP.replace(
        "password = \"pw\"",
        "password = \"pw\"\npassword_file = \"pw.txt\"",
    );
    let found = problems(&with_sections(&both, FILE));
    assert_eq!(found[0].key, "source.password_file", "{found:?}");
    let neither = IMAP.replace("password = \"pw\"\n", "");
    let found = problems(&with_sections(&neither, FILE));
    assert_eq!(found[0].key, "source.password_file", "{found:?}");
    let missing = IMAP.replace("password = \"pw\"", "password_file = \"/nonexistent/pw\"");
    let found = problems(&with_sections(&missing, FILE));
    assert!(found[0].message.contains("/nonexistent/pw"), "{found:?}");
    let smtp = "[transport]\nkind = \"smtp\"\nhost = \"smtp.example.org\"\npassword = \"pw\"\n";
    let found = problems(&with_sections(IMAP, smtp));
    assert_eq!(found[0].key, "transport.username", "{found:?}");
    let bad_tls = IMAP.replace("[source]", "[source]\ntls = \"ssl\"");
    let found = problems(&with_sections(&bad_tls, FILE));
    assert_eq!(found[0].key, "source.tls", "{found:?}");
}

#[test]
fn smtp_ports_follow_the_tls_mode() {
    for (tls, port) in [("implicit", 465), ("starttls", 587)] {
        let smtp = format!(
            "[transport]\nkind = \"smtp\"\nhost = \"smtp.example.org\"\ntls = \"{tls}\"\n\
             username = \"u\"\npassword = \"p\"\n"
        );
        let config = parse(&with_sections(IMAP, &smtp)).expect("valid");
        let TransportKind::Smtp(s) = &config.transport.kind else {
            panic!("SMTP transport expected");
        };
        assert_eq!(s.server.port, port);
        assert_eq!(
            s.credentials.as_ref().map(|c| c.username.as_str()),
            Some("u")
        );
    }
}

#[test]
fn smtp_connections_default_to_four_and_stay_within_bounds() {
    let smtp = "[transport]\nkind = \"smtp\"\nhost = \"smtp.example.org\"\n";
    let config = parse(&with_sections(IMAP, smtp)).expect("valid");
    let TransportKind::Smtp(s) = &config.transport.kind else {
        panic!("SMTP transport expected");
    };
    assert_eq!(s.connections, 4);
    let eight = format!("{smtp}connections = 8\n");
    let config = parse(&with_sections(IMAP, &eight)).expect("valid");
    let TransportKind::Smtp(s) = &config.transport.kind else {
        panic!("SMTP transport expected");
    };
    assert_eq!(s.connections, 8);
    for bad in [0, 33] {
        let text = with_sections(IMAP, &format!("{smtp}connections = {bad}\n"));
        let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["transport.connections"], "{bad}");
    }
}

/// The IMAP and SMTP blocks `config.example.toml` shows as comments are valid
/// when uncommented.
#[test]
fn example_config_server_blocks_are_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).expect("config.example.toml");
    let block = |start: &str| -> String {
        text.lines()
            .skip_while(|l| !l.starts_with(&format!("#   kind = \"{start}\"")))
            .take_while(|l| l.starts_with("#   "))
            .map(|l| {
                l.trim_start_matches("#   ")
                    .split(" # ")
                    .next()
                    .unwrap_or("")
            })
            .map(|l| {
                l.replace(
                    "password_file = \"/run/credentials/disclosed.service/imap\"",
                    "password = \"x\"",
                )
            })
            .map(|l| {
                l.replace(
                    "password_file = \"/run/credentials/disclosed.service/smtp\"",
                    "password = \"x\"",
                )
            })
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (imap, smtp) = (block("imap"), block("smtp"));
    assert!(imap.contains("processed_mailbox"), "{imap}");
    assert!(smtp.contains("timeout"), "{smtp}");
    let config = parse(&with_sections(
        &format!("[source]\n{imap}"),
        &format!("[transport]\n{smtp}"),
    ))
    .expect("the commented server blocks are valid");
    assert!(matches!(config.source, SourceConfig::Imap(_)));
    assert!(matches!(config.transport.kind, TransportKind::Smtp(_)));
}

#[test]
fn team_command_auth_is_validated() {
    let config = parse(MINIMAL).expect("valid");
    assert_eq!(config.team.command_auth, [AuthMethod::OpenPgp]);
    assert_eq!(config.team.without_key, WithoutKey::Metadata);
    assert_eq!(
        config.team.signature_max_age,
        Duration::from_secs(7 * 24 * 3600)
    );

    let text = format!(
        "{MINIMAL}\n[team]\ncommand_auth = [\"openpgp\", \"dkim\", \"smtp\"]\nsignature_max_age = \"2 days\"\nwithout_key = \"refuse\"\n[[team.members]]\nname = \"A\"\nemail = \"alice@example.org\"\n"
    );
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "team.command_auth[2]",
            "team.trusted_authserv_id",
            "team.members[0].key"
        ]
    );

    let ok = format!(
        "{MINIMAL}\n[team]\ncommand_auth = [\"dkim\"]\ntrusted_authserv_id = \"mx.example.org\"\nsignature_max_age = \"36h\"\n"
    );
    let config = parse(&ok).expect("valid");
    assert_eq!(config.team.command_auth, [AuthMethod::Dkim]);
    assert_eq!(
        config.team.trusted_authserv_id.as_deref(),
        Some("mx.example.org")
    );
    assert_eq!(
        config.team.signature_max_age,
        Duration::from_secs(36 * 3600)
    );
}

#[test]
fn working_hours_and_the_digest_time_parse_or_name_their_key() {
    use jiff::civil::{Time, Weekday};
    let config = parse(MINIMAL).expect("valid");
    assert_eq!(
        config.sla.working_hours,
        (Time::constant(9, 0, 0, 0), Time::constant(17, 0, 0, 0))
    );
    assert_eq!(
        config.sla.digest,
        Some((Weekday::Monday, Time::constant(9, 0, 0, 0)))
    );
    let set =
        format!("{MINIMAL}\n[sla]\nworking_hours = \"08:30-16:00\"\ndigest = \"Fri 15:45\"\n");
    let config = parse(&set).expect("valid");
    assert_eq!(
        config.sla.working_hours,
        (Time::constant(8, 30, 0, 0), Time::constant(16, 0, 0, 0))
    );
    assert_eq!(
        config.sla.digest,
        Some((Weekday::Friday, Time::constant(15, 45, 0, 0)))
    );
    let off = format!("{MINIMAL}\n[sla]\ndigest = \"off\"\n");
    assert_eq!(parse(&off).expect("valid").sla.digest, None);
    for (key, bad) in [
        ("sla.working_hours", "working_hours = \"17:00-09:00\""),
        ("sla.working_hours", "working_hours = \"9-5\""),
        ("sla.working_hours", "working_hours = \"09:00-25:00\""),
        ("sla.working_hours", "working_hours = \"09:000-17:00\""),
        ("sla.digest", "digest = \"Someday 09:00\""),
        ("sla.digest", "digest = \"Mon\""),
    ] {
        let text = format!("{MINIMAL}\n[sla]\n{bad}\n");
        let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, [key], "{bad}");
    }
}

fn syntax(text: &str) -> String {
    match parse(text) {
        Err(ConfigError::Syntax { message, .. }) => message,
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn a_wrong_type_names_the_dotted_key_line_and_column() {
    let text = format!("{MINIMAL}\n[limits]\nmax_mime_depth = \"deep\"\n");
    let line = text.lines().count();
    let message = syntax(&text);
    assert!(
        message.starts_with(&format!(
            "`limits.max_mime_depth` (line {line}, column 18): "
        )),
        "{message}"
    );
    assert!(message.contains("expected u32"), "{message}");

    let text =
        format!("{MINIMAL}\n[[rules]]\nname = \"a\"\n\n[[rules]]\nname = \"b\"\nsubject = 5\n");
    let line = text.lines().count();
    let message = syntax(&text);
    assert!(
        message.starts_with(&format!("`rules[1].subject` (line {line}, column 11): ")),
        "{message}"
    );
}

#[test]
fn a_missing_key_names_the_key_and_its_table() {
    let text = MINIMAL.replace("policy_url = \"https://example.org/security\"\n", "");
    let message = syntax(&text);
    assert!(
        message.starts_with("`program.policy_url` (line 2, column 1): missing field"),
        "{message}"
    );
    let text = format!("{MINIMAL}\n[[rules]]\nsubject = \"x\"\n");
    let message = syntax(&text);
    assert!(message.starts_with("`rules[0].name` (line "), "{message}");
    let message = syntax(&MINIMAL.replace("[program]", "[programme]"));
    assert!(message.contains("programme"), "{message}");
}

#[test]
fn a_duplicate_key_names_the_key_line_and_column() {
    let text = MINIMAL.replace("name = \"Example\"", "name = \"Example\"\nname = \"Again\"");
    let message = syntax(&text);
    assert!(
        message.starts_with("`program.name` (line 4, column 1): "),
        "{message}"
    );
    assert!(message.contains("duplicate"), "{message}");
}

#[test]
fn an_unknown_key_names_where_it_is_written() {
    let text = MINIMAL.replace("[storage]", "[storage]\ndatabsae = \"x\"");
    let message = syntax(&text);
    assert!(
        message.starts_with("`storage.databsae` (line 10, column 1): unknown field"),
        "{message}"
    );
}

#[test]
fn every_invalid_value_is_listed_with_its_line_and_column() {
    let text = MINIMAL
        .replace("Europe/Berlin", "Mars/Olympus")
        .replace("id_prefix = \"SEC\"", "id_prefix = \"sec\"");
    let err = parse(&text).expect_err("invalid").to_string();
    assert!(
        err.contains("`program.timezone` (line 6, column 12): `Mars/Olympus`"),
        "{err}"
    );
    assert!(
        err.contains("`program.id_prefix` (line 5, column 13): "),
        "{err}"
    );
}

#[test]
fn notify_reporter_defaults_to_every_step_but_triage() {
    let config = parse(MINIMAL).expect("valid");
    assert_eq!(config.notify_reporter, NotifyReporter::default());
    assert!(!config.notify_reporter.triaged);
    assert!(config.notify_reporter.accepted);
    assert!(config.notify_reporter.risk_accepted);

    let text = format!("{MINIMAL}\n[notify_reporter]\ntriaged = true\nrisk-accepted = false\n");
    let config = parse(&text).expect("valid");
    assert!(config.notify_reporter.triaged);
    assert!(!config.notify_reporter.risk_accepted);
    assert!(
        config.notify_reporter.fixed,
        "a key left out keeps its default"
    );
}

#[test]
fn notify_reporter_takes_only_its_five_boolean_keys() {
    for (bad, key) in [
        ("spam = true", "notify_reporter.spam"),
        ("risk_accepted = true", "notify_reporter.risk_accepted"),
        ("accepted = \"yes\"", "notify_reporter.accepted"),
    ] {
        let text = format!("{MINIMAL}\n[notify_reporter]\n{bad}\n");
        let message = syntax(&text);
        assert!(message.starts_with(&format!("`{key}`")), "{bad}: {message}");
    }
}

#[test]
fn fix_times_per_severity_parse_and_name_their_key_and_line() {
    use crate::report::Severity;
    let set = format!(
        "{MINIMAL}\n[sla.severity.critical]\nfix = \"7 days\"\nfix_max = \"14 days\"\n\n[sla.severity.high]\nfix = \"30 days\"\nfix_max = \"45 days\"\n"
    );
    let config = parse(&set).expect("valid");
    let days = |n| PolicyDuration::Calendar(jiff::Span::new().days(n));
    let (critical, applied) = config.sla.fix_policy(Some(Severity::Critical));
    assert_eq!(applied, Some(Severity::Critical));
    assert_eq!((critical.fix, critical.fix_max), (days(7), days(14)));
    let (medium, applied) = config.sla.fix_policy(Some(Severity::Medium));
    assert_eq!(applied, None, "no entry: the plain fix time");
    assert_eq!((medium.fix, medium.fix_max), (days(90), days(120)));
    assert!(parse(MINIMAL).expect("valid").sla.by_severity.is_empty());

    for (key, bad) in [
        (
            "sla.severity.critical.fix",
            "[sla.severity.critical]\nfix = \"soon\"\nfix_max = \"14 days\"",
        ),
        (
            "sla.severity.critical",
            "[sla.severity.critical]\nfix = \"7 days\"",
        ),
        (
            "sla.severity.high.fix_max",
            "[sla.severity.high]\nfix = \"30 days\"\nfix_max = \"20 days\"",
        ),
        (
            "sla.severity.low.fix_max",
            "[sla.severity.low]\nfix = \"30 days\"\nfix_max = \"40 business days\"",
        ),
        (
            "sla.severity.medium.fix",
            "[sla.severity.medium]\nfix = \"8 business hours\"\nfix_max = \"9 business days\"",
        ),
    ] {
        let text = format!("{MINIMAL}\n{bad}\n");
        let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, [key], "{bad}");
    }
    // The message points at the file and line of the bad value.
    let text =
        format!("{MINIMAL}\n[sla.severity.high]\nfix = \"30 days\"\nfix_max = \"20 days\"\n");
    let message = parse(&text).expect_err("invalid").to_string();
    let line = text
        .lines()
        .position(|l| l.starts_with("fix_max"))
        .map(|i| i + 1)
        .expect("line");
    assert!(
        message.contains("/etc/disclosed/config.toml") && message.contains(&format!("line {line}")),
        "{message}"
    );
    // Unknown severities and keys are errors like everywhere.
    for bad in [
        "[sla.severity.urgent]\nfix = \"1 day\"\nfix_max = \"2 days\"",
        "[sla.severity.high]\nfix = \"1 day\"\nfix_max = \"2 days\"\nfix_min = \"1 day\"",
    ] {
        assert!(parse(&format!("{MINIMAL}\n{bad}\n")).is_err(), "{bad}");
    }
}

#[test]
fn the_publish_and_security_txt_sections_are_typed() {
    let config = parse(&format!(
        "{MINIMAL}\n[publish]\nbase_url = \"https://example.org/security/\"\ndir = \"site\"\n\n\
         [security_txt]\nexpires = \"2027-06-30\"\nlanguages = [\"en\", \"pt-BR\"]\n"
    ))
    .expect("valid");
    assert_eq!(
        config.publish.base_url.as_deref(),
        Some("https://example.org/security")
    );
    assert_eq!(
        config.publish.dir.as_deref(),
        Some(Path::new("/etc/disclosed/site"))
    );
    assert_eq!(
        config.security_txt.expires,
        Some("2027-06-30".parse().expect("day"))
    );
}

#[test]
fn a_published_url_that_is_not_https_is_refused() {
    let found = problems(&format!(
        "{MINIMAL}\n[publish]\nbase_url = \"javascript:alert(1)\"\n\n\
         [security_txt]\nexpires = \"in six months\"\nlanguages = [\"en\\nX\"]\n\
         canonical = \"http://example.org/.well-known/security.txt\"\n"
    ));
    let keys: Vec<_> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "publish.base_url",
            "security_txt.expires",
            "security_txt.languages[0]",
            "security_txt.canonical"
        ]
    );
}

#[test]
fn metrics_listen_on_loopback_only_unless_remote_is_allowed() {
    assert_eq!(
        parse(MINIMAL).expect("valid").metrics,
        None,
        "off by default"
    );
    let local = format!("{MINIMAL}\n[metrics]\nlisten = \"127.0.0.1:9464\"\n");
    let config = parse(&local).expect("valid");
    assert_eq!(
        config.metrics.map(|m| m.listen.to_string()).as_deref(),
        Some("127.0.0.1:9464")
    );
    parse(&format!("{MINIMAL}\n[metrics]\nlisten = \"[::1]:9464\"\n")).expect("IPv6 loopback");
}

#[test]
fn a_metrics_address_beyond_loopback_needs_allow_remote() {
    for addr in ["0.0.0.0:9464", "192.0.2.7:9464", "[::]:9464"] {
        let text = format!("{MINIMAL}\n[metrics]\nlisten = \"{addr}\"\n");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{addr}: {found:?}");
        assert_eq!(found[0].key, "metrics.listen");
        assert!(found[0].message.contains("allow_remote"), "{found:?}");
        let allowed = format!("{MINIMAL}\n[metrics]\nlisten = \"{addr}\"\nallow_remote = true\n");
        parse(&allowed).unwrap_or_else(|e| panic!("{addr}: {e}"));
    }
    // A host name could resolve anywhere: only an IP address is taken.
    let found = problems(&format!(
        "{MINIMAL}\n[metrics]\nlisten = \"localhost:9464\"\n"
    ));
    assert_eq!(found[0].key, "metrics.listen");
}

#[test]
fn the_monitor_is_on_by_default_with_the_documented_thresholds() {
    let config = parse(MINIMAL).expect("valid");
    assert_eq!(config.monitor, Monitor::default());
    assert!(config.monitor.enabled);
    assert_eq!(config.monitor.alert_after, Duration::from_secs(30 * 60));
    assert_eq!(config.monitor.outbox_after, Duration::from_secs(3600));
    assert_eq!(config.monitor.quiet_days, 7);
    assert_eq!(config.monitor.min_free_percent, 10);
    let set = parse(&format!(
        "{MINIMAL}\n[monitor]\nenabled = false\nalert_after = \"5m\"\noutbox_after = \"2h\"\n\
         quiet_days = 0\nmin_free_percent = 25\n"
    ))
    .expect("valid");
    assert_eq!(
        set.monitor,
        Monitor {
            enabled: false,
            alert_after: Duration::from_secs(300),
            outbox_after: Duration::from_secs(7200),
            quiet_days: 0,
            min_free_percent: 25,
            canary_address: None,
        }
    );
}

#[test]
fn monitor_thresholds_that_cannot_work_are_refused() {
    let found = problems(&format!(
        "{MINIMAL}\n[monitor]\nalert_after = \"0s\"\noutbox_after = \"soon\"\nmin_free_percent = 100\n"
    ));
    let keys: Vec<_> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "monitor.min_free_percent",
            "monitor.alert_after",
            "monitor.outbox_after"
        ]
    );
    assert!(matches!(
        parse(&format!("{MINIMAL}\n[monitor]\nquiet = 3\n")),
        Err(ConfigError::Syntax { .. } | ConfigError::Invalid { .. })
    ));
}

#[test]
fn a_canary_address_must_be_outside_the_program_and_the_team_and_needs_a_key() {
    let team = "[[team.members]]\nname = \"Alice\"\nemail = \"alice@example.org\"\n";
    let keys = "[openpgp]\nsecret_keys = [\"team.key\"]\n";
    for (address, with_key, refused) in [
        ("canary@example.net", true, false),
        ("not an address", true, true),
        ("security@example.org", true, true),
        ("security+canary@example.org", true, true),
        ("alice@example.org", true, true),
        ("canary@example.net", false, true),
    ] {
        let text = format!(
            "{MINIMAL}\n{team}\n{}\n[monitor]\ncanary_address = \"{address}\"\n",
            if with_key { keys } else { "" }
        );
        let result = parse(&text);
        if refused {
            let Err(ConfigError::Invalid { problems, .. }) = result else {
                panic!("{address}: refusal expected, got {result:?}");
            };
            assert!(
                problems.iter().any(|p| p.key == "monitor.canary_address"),
                "{address}: {problems:?}"
            );
        } else {
            let config = result.expect("valid");
            assert_eq!(
                config.monitor.canary_address.map(|a| a.to_string()),
                Some(address.to_owned())
            );
        }
    }
}
