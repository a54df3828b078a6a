//! `disclosed check`: every part the daemon needs, one line each, and a non-zero
//! exit if any fails. `--offline` stays on this machine (systemd's
//! `ExecStartPre`): config, templates, store and keys.

use jiff::Timestamp;

use crate::config::{Config, SourceConfig, TransportKind};
use crate::settings::Loaded;
use crate::source::{ImapSource, Maildir};
use crate::store::Store;
use crate::transport::Transport;

use super::output::outln;
use super::{CliError, key, runtime};

/// The outcome of one item.
enum Item {
    Ok(String),
    /// Works now, but needs attention soon (a key about to expire).
    Warning(String),
    Failed(String),
    Skipped(String),
}

/// `loaded` has passed every check a configuration error stands for (exit 2),
/// templates and rules included; what is checked here can fail on a valid file.
pub(super) fn check(loaded: &Loaded, offline: bool, now: Timestamp) -> Result<(), CliError> {
    let config = &loaded.config;
    let mut items = vec![("config", Item::Ok(config.path.display().to_string()))];
    items.push((
        "templates",
        Item::Ok(match &config.templates.dir {
            Some(dir) => format!("built-in, overridden from {}", dir.display()),
            None => "built-in".into(),
        }),
    ));
    items.push(("store", store(config)));
    items.push(("keys", keys(config, now)));
    items.push((
        "team",
        team(
            config,
            loaded.rules.iter().filter(|r| r.is_enabled()).count(),
        ),
    ));
    let runtime = runtime()?;
    items.push(("source", runtime.block_on(source(config, offline))));
    items.push(("transport", runtime.block_on(transport(config, offline))));

    let mut failed = 0;
    for (name, item) in &items {
        match item {
            Item::Ok(text) => outln!("ok       {name}: {text}"),
            Item::Warning(text) => outln!("WARNING  {name}: {text}"),
            Item::Skipped(text) => outln!("skipped  {name}: {text}"),
            Item::Failed(text) => {
                failed += 1;
                outln!("FAILED   {name}: {text}");
            }
        }
    }
    if failed == 0 {
        return Ok(());
    }
    Err(CliError::Other(anyhow::anyhow!("{failed} check(s) failed")))
}

/// Read-only: `check` neither migrates the database nor creates a file.
fn store(config: &Config) -> Item {
    let opened = Store::open_read_only(&config.storage.database)
        .and_then(|s| Ok((s.quick_check()?, s.read().counts()?, s.schema_version()?)));
    match opened {
        Ok((integrity, counts, version)) if integrity == "ok" => {
            let text = format!(
                "{} ({} reports, {} messages, {} mails queued)",
                config.storage.database.display(),
                counts.reports,
                counts.messages,
                counts.outbox_queued
            );
            let latest = Store::latest_schema_version();
            if version < latest {
                Item::Warning(format!(
                    "{text}; schema version {version}: `disclosed init` migrates it to {latest}"
                ))
            } else {
                Item::Ok(text)
            }
        }
        Ok((integrity, _, _)) => Item::Failed(format!("integrity check says {integrity}")),
        Err(err) => Item::Failed(err.to_string()),
    }
}

/// Every key the configuration names, loaded as the daemon loads it: team keys
/// unlocked (the current one alive), member keys, the keyring.
fn keys(config: &Config, now: Timestamp) -> Item {
    match key::survey(config, now) {
        Ok(survey) if survey.warnings.is_empty() => Item::Ok(survey.summary),
        Ok(survey) => Item::Warning(format!(
            "{}; {}",
            survey.summary,
            survey.warnings.join("; ")
        )),
        Err(problem) => Item::Failed(problem.to_string()),
    }
}

/// Who gets the team's mail, and whether anyone can send commands.
fn team(config: &Config, rules_enabled: usize) -> Item {
    use crate::config::{AuthMethod, WithoutKey};
    let team = &config.team;
    if team.members.is_empty() {
        return Item::Warning(
            "no [[team.members]]: nobody is told of reports, and nobody can send commands".into(),
        );
    }
    let with_key = team.members.iter().filter(|m| m.key.is_some()).count();
    let methods: Vec<&str> = team
        .command_auth
        .iter()
        .map(|m| match m {
            AuthMethod::OpenPgp => "openpgp",
            AuthMethod::Dkim => "dkim",
        })
        .collect();
    let summary = format!(
        "{} member(s), {with_key} with a key; commands authenticated by {}; rules: {}",
        team.members.len(),
        methods.join(" or "),
        rules_enabled
    );
    let mut warnings = Vec::new();
    if config.openpgp.secret_keys.is_empty() {
        warnings.push(
            "without a team key ([openpgp] secret_keys) team mail cannot be encrypted: every member gets metadata notices only"
                .to_owned(),
        );
    }
    if with_key < team.members.len() && team.without_key == WithoutKey::Metadata {
        let missing: Vec<String> = team
            .members
            .iter()
            .filter(|m| m.key.is_none())
            .map(|m| m.email.to_string())
            .collect();
        warnings.push(format!(
            "{} get(s) metadata notices only and cannot sign commands (no key)",
            missing.join(", ")
        ));
    }
    if !team.command_auth.contains(&AuthMethod::Dkim) && with_key == 0 {
        warnings.push("no member has a key, so no command or relay can be authenticated".into());
    }
    if warnings.is_empty() {
        Item::Ok(summary)
    } else {
        Item::Warning(format!("{summary}; {}", warnings.join("; ")))
    }
}

async fn source(config: &Config, offline: bool) -> Item {
    match &config.source {
        SourceConfig::Maildir { path, .. } => match Maildir::open(path).and_then(|m| m.pending()) {
            Ok(pending) => Item::Ok(format!(
                "Maildir {} ({} messages pending)",
                path.display(),
                pending.len()
            )),
            Err(err) => Item::Failed(err.to_string()),
        },
        SourceConfig::Imap(imap) => {
            let source = match ImapSource::new(imap.clone()) {
                Ok(s) => s,
                Err(err) => return Item::Failed(err.to_string()),
            };
            if offline {
                return Item::Skipped(format!("IMAP {} not contacted (--offline)", imap.server));
            }
            let mut conn = match source.connect().await {
                Ok(c) => c,
                Err(err) => return Item::Failed(err.to_string()),
            };
            let state = match conn.select().await {
                Ok(s) => s,
                Err(err) => return Item::Failed(err.to_string()),
            };
            let processed = match &imap.processed_mailbox {
                None => "processed mail is flagged \\Seen".to_owned(),
                Some(m) => match conn.ensure_processed_mailbox().await {
                    Ok(()) => format!("processed mail moves to {m}"),
                    Err(err) => return Item::Failed(err.to_string()),
                },
            };
            let f = conn.features();
            conn.logout().await;
            Item::Ok(format!(
                "IMAP {} ({}), logged in as {}, mailbox {} ({} messages), IDLE {}, MOVE {}; {processed}",
                imap.server,
                imap.server.tls,
                imap.credentials.username,
                imap.mailbox,
                state.exists,
                if f.idle {
                    "supported"
                } else {
                    "not supported: polling"
                },
                if f.moves {
                    "supported"
                } else {
                    "not supported"
                },
            ))
        }
    }
}

/// The file transport's directory, looked at without writing a probe into it
/// (`--offline` writes nothing).
fn file_dir(dir: &std::path::Path, describe: &str) -> Item {
    use rustix::fs::Access;
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            let writable = rustix::fs::access(dir, Access::WRITE_OK | Access::EXEC_OK).is_ok();
            if writable {
                Item::Ok(describe.to_owned())
            } else {
                Item::Failed(format!(
                    "cannot write into {}: permission denied",
                    dir.display()
                ))
            }
        }
        Ok(_) => Item::Failed(format!("{} is not a directory", dir.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Item::Warning(format!(
            "{describe}: {} does not exist yet; the first mail sent creates it",
            dir.display()
        )),
        Err(err) => Item::Failed(format!("cannot access {}: {err}", dir.display())),
    }
}

async fn transport(config: &Config, offline: bool) -> Item {
    let transport =
        match Transport::from_config(&config.transport.kind, &config.program.address.domain) {
            Ok(t) => t,
            Err(err) => return Item::Failed(err.to_string()),
        };
    if offline && let TransportKind::File { dir } = &config.transport.kind {
        return file_dir(dir, &transport.describe());
    }
    if let Err(err) = transport.check_local() {
        return Item::Failed(err.to_string());
    }
    match (&transport, &config.transport.kind) {
        (Transport::Smtp(smtp), TransportKind::Smtp(cfg)) => {
            if offline {
                return Item::Skipped(format!(
                    "{} not contacted (--offline)",
                    transport.describe()
                ));
            }
            match smtp.check().await {
                Ok(()) => Item::Ok(format!(
                    "{}: EHLO accepted{}",
                    transport.describe(),
                    match &cfg.credentials {
                        Some(c) => format!(", AUTH accepted for {}", c.username),
                        None => ", no AUTH configured".into(),
                    }
                )),
                Err(err) => Item::Failed(err.to_string()),
            }
        }
        _ => Item::Ok(transport.describe()),
    }
}
