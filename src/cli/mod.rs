//! The command line: argument parsing and the commands that read or run the
//! store. Errors end here as exit codes: 2 for usage and configuration, 3 when
//! another `disclosed run` holds the database, 1 for everything else.

mod advisory;
mod attachment;
mod backup;
mod check;
pub mod deliver;
mod docs;
mod export;
mod hall_of_fame;
mod import;
mod key;
mod output;
mod publish;
mod recover;
mod resend;
mod search;
mod security_txt;
mod sla;

pub use output::terminal_safe;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, SystemClock};
use crate::config::{self, Config, ConfigError};
use crate::parse::ParseLimits;
use crate::report::{ReportId, ReportState};
use crate::settings::{self, Loaded};
use crate::store::{MessageView, OpenMode, Store, StoreError};
use output::outln;

/// Run a coordinated vulnerability disclosure inbox from email.
#[derive(Debug, Parser)]
#[command(name = "disclosed", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file [default: $DISCLOSED_CONFIG, else /etc/disclosed/config.toml]
    #[arg(long, global = true, value_name = "PATH", env = "DISCLOSED_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log lines on stderr as text, or as one JSON object each for a log shipper
    /// (default: text, or the journal's own fields under systemd)
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        env = "DISCLOSED_LOG_FORMAT"
    )]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines
    Text,
    /// One JSON object per line, the event's fields at the top level
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database or migrate it to this version's schema; check the keys
    Init {
        /// Generate the first `openpgp.secret_keys` file if it does not exist yet
        #[arg(long)]
        generate_key: bool,
        /// User id of a generated key [default: "<program.name> Security Team <program.address>"]
        #[arg(long, value_name = "USERID", requires = "generate_key")]
        userid: Option<String>,
    },
    /// Check the configuration, templates, store, keys, and reach the servers
    Check {
        /// Check only what is local (config, templates, store, keys): no network
        #[arg(long)]
        offline: bool,
    },
    /// Run the daemon: ingest mail, acknowledge reports, send the outbox
    Run {
        /// Process what is pending, send what is due, then exit
        #[arg(long)]
        once: bool,
    },
    /// List reports, newest first
    Reports {
        /// Only reports in this state (new, acknowledged, triaged, …)
        #[arg(long, value_name = "S")]
        state: Option<ReportState>,
        /// Only reports with this tag (e.g. `flood`: held by a flood limit)
        #[arg(long, value_name = "TAG")]
        tag: Option<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Search reports: subjects, readable text, people, ids, tags; best match first
    ///
    /// Decrypted text is searched too: the store is local. Exits 2 for a
    /// query that cannot be searched (an unclosed quote, nothing but
    /// punctuation, longer than 256 characters).
    Search(search::SearchArgs),
    /// Show one report: its messages, participants, events and mail
    Report {
        /// The report id, e.g. SEC-2026-0042
        id: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// The open reports' deadlines in business time; `sla tick` sends what is due
    Sla {
        #[command(subcommand)]
        command: Option<SlaCommand>,
        /// Show them as of this time instead of now, e.g. 2027-01-04T09:00:00+01:00
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        now: Option<jiff::Timestamp>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Time to acknowledge, triage and fix (median, 90th percentile) and the share of deadlines met
    Stats {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Write one attachment of a report to a file, e.g. one too large to mail to each member
    Attachment {
        /// The report id, e.g. SEC-2026-0042
        id: String,
        /// The attachment's number, as the report's notifications list it (from 1)
        number: usize,
        /// The file to create (it must not exist yet)
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
    },
    /// Spool one message from standard input into the Maildir (for an MTA's pipe)
    ///
    /// Exits 0 once the message is on disk, 65 (EX_DATAERR: bounce) if it is
    /// larger than `limits.max_message_size`, 75 (EX_TEMPFAIL: retry) on any
    /// other failure, with a one-line reason on stderr.
    Deliver,
    /// Bring an existing inbox in (mbox, Maildir or IMAP folder): threaded, nothing sent
    ///
    /// Each message arrives at its own date; deadlines already past are
    /// recorded as breached before import and never escalated. Running it
    /// again imports nothing twice. Exits 3 while a daemon runs on the
    /// database, 1 if some message could not be imported.
    Import(import::ImportArgs),
    /// The outbox: every mail queued, sent or failed, oldest first; `outbox retry` queues failed mail again
    Outbox {
        #[command(subcommand)]
        command: Option<OutboxCommand>,
        /// Only failed mail and mail held until a key is known
        #[arg(long)]
        failed: bool,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Stored messages; with --unattached only those in no report (forged own mail, unmatched bounces, …)
    Messages {
        /// Only messages that joined no report
        #[arg(long)]
        unattached: bool,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Attach a message that joined no report to a report (nothing is sent; logged as yours)
    Attach {
        /// The message's number, as `messages --unattached` lists it
        message: i64,
        /// The report id, e.g. SEC-2026-0042
        id: String,
    },
    /// Acknowledgements: `ack resend ID` queues one that could not be composed
    Ack {
        #[command(subcommand)]
        command: AckCommand,
    },
    /// Generate, list and export the team's OpenPGP keys
    Key {
        #[command(subcommand)]
        command: key::KeyCommand,
    },
    /// The Hall of Fame: disclosed reports whose reporter agreed to be named
    HallOfFame {
        /// html, md or json
        #[arg(long, value_enum, default_value = "html")]
        format: crate::publish::Format,
    },
    /// Print /.well-known/security.txt (RFC 9116), signed with the team's key
    SecurityTxt {
        /// Print JSON: the fields and the signed text
        #[arg(long)]
        json: bool,
    },
    /// Write the public site (security.txt, key, Hall of Fame, advisories, statistics)
    Publish {
        /// The directory to write [default: `[publish] dir`]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print JSON: the files written, unchanged and removed
        #[arg(long)]
        json: bool,
    },
    /// Draft the advisory of a fixed, risk-accepted or disclosed report
    Advisory {
        /// The report id, e.g. SEC-2026-0042
        id: String,
        /// md, html (human advisories), cve (CVE JSON 5.1), osv or csaf (CSAF 2.0)
        #[arg(long, value_enum, default_value_t = crate::advisory::Format::Md)]
        format: crate::advisory::Format,
        /// Print JSON: for md and html the text with the draft's fields
        #[arg(long)]
        json: bool,
    },
    /// Copy the database, consistently while the daemon runs, checked and mode 0600
    ///
    /// Writes PATH, or with --dir a file named disclosed-backup-<UTC time>.sqlite3
    /// in DIR; --keep N then deletes all but the newest N files of that name.
    Backup {
        /// The file to write (refused if it exists, unless --force)
        #[arg(
            value_name = "PATH",
            required_unless_present = "dir",
            conflicts_with = "dir"
        )]
        path: Option<PathBuf>,
        /// Write a dated backup into this directory (created 0700 if missing)
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// With --dir: keep only the newest N dated backups
        #[arg(long, value_name = "N", requires = "dir")]
        keep: Option<usize>,
        /// Replace an existing file
        #[arg(long)]
        force: bool,
        /// Print a JSON summary (size, rows, duration)
        #[arg(long)]
        json: bool,
    },
    /// Put a backup in place of the database (the daemon must be stopped)
    ///
    /// The backup is checked first; the current database is kept as
    /// <database>.before-restore-<UTC time>.
    Restore {
        /// The backup file
        path: PathBuf,
    },
    /// Export one report: raw messages byte for byte, decrypted entities, attachments, JSON
    ///
    /// --eml-dir DIR writes NNN.eml (as received), NNN.decrypted.eml,
    /// attachments/, report.json and events.json; --mbox FILE writes the raw
    /// messages as an mbox, and FILE.decrypted, FILE.report.json,
    /// FILE.events.json beside it. Files are 0600: they hold decrypted reports.
    Export {
        /// The report id, e.g. SEC-2026-0042
        id: String,
        /// Write the raw messages into this mbox file
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "eml_dir",
            conflicts_with = "eml_dir"
        )]
        mbox: Option<PathBuf>,
        /// Write one file per message (and the rest) into this directory
        #[arg(long, value_name = "DIR")]
        eml_dir: Option<PathBuf>,
        /// Write into a non-empty directory, or over existing files
        #[arg(long)]
        force: bool,
    },
    /// Print shell completions, e.g. `disclosed completions bash > /etc/bash_completion.d/disclosed`
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (disclosed.1, disclosed-init.1, …) into DIR
    #[command(hide = true)]
    Manpages {
        /// The directory to write them to (created if missing)
        dir: PathBuf,
    },
}

impl Command {
    /// Whether the command only reads and prints: no mail sent, no daemon.
    pub fn only_prints(&self) -> bool {
        match self {
            Self::Reports { .. }
            | Self::Search(_)
            | Self::Report { .. }
            | Self::Advisory { .. }
            | Self::Stats { .. }
            | Self::HallOfFame { .. }
            | Self::SecurityTxt { .. }
            | Self::Completions { .. }
            | Self::Manpages { .. } => true,
            Self::Sla { command, .. } => {
                command.is_none() || matches!(command, Some(SlaCommand::Tick { dry_run: true, .. }))
            }
            Self::Messages { .. } => true,
            Self::Outbox { command, .. } => command.is_none(),
            Self::Key { command } => matches!(
                command,
                key::KeyCommand::List { .. } | key::KeyCommand::Export { .. }
            ),
            _ => false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AckCommand {
    /// Queue the acknowledgement of a report whose template failed, once fixed
    Resend {
        /// The report id, e.g. SEC-2026-0042
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Queue the reminders, escalations and digest due now (or at --now), then send the outbox
    ///
    /// A tick records every notice it sends, so a time more than five minutes
    /// ahead of the clock is refused unless --force: it would send tomorrow's
    /// reminder now and the real one would never go out. --dry-run shows what
    /// would go out at any time and records nothing.
    Tick {
        /// Act as if it were this time, e.g. 2027-01-04T09:00:00+01:00
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        now: Option<jiff::Timestamp>,
        /// Show what would be queued (kind, report, deadline, recipients); send and record nothing
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run, print JSON
        #[arg(long, requires = "dry_run")]
        json: bool,
        /// Send and record at a --now ahead of the clock all the same
        #[arg(long, conflicts_with = "dry_run")]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Queue failed mail again (attempts reset, due now): one row, or every failed row of a report
    ///
    /// Sent mail is never queued again, nor mail held until a key is known,
    /// nor a row a running sender holds; the daemon (or `run --once`) sends
    /// what was queued.
    Retry {
        /// An outbox row number (`disclosed outbox`), or a report id
        target: String,
    },
}

fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse().map_err(|err: jiff::Error| {
        format!("not a time with an offset like 2027-01-04T09:00:00+01:00: {err}")
    })
}

/// A failed command, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    /// Another daemon runs on the database.
    #[error(transparent)]
    Running(crate::store::LockError),
    /// The database is held by a daemon (exit 3), said for this command.
    #[error("{0}")]
    Busy(String),
    /// `deliver` failed; its exit code is what the mail server acts on.
    #[error(transparent)]
    Deliver(#[from] deliver::DeliverError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The exit code of a `disclosed run` that found another one running on its
/// database.
pub const EXIT_RUNNING: u8 = 3;

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Usage(_) => 2,
            Self::Running(_) | Self::Busy(_) => EXIT_RUNNING,
            Self::Deliver(err) => err.exit_code(),
            Self::Other(_) => 1,
        }
    }
}

/// A command that failed for `what` (exit 1).
fn failed(what: String) -> CliError {
    CliError::Other(anyhow::anyhow!(what))
}

/// `path` with `suffix` appended to its file name, e.g. `db` and `-wal`.
fn suffixed(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Cli {
    fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_PATH))
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    // Generated from the definitions above, before any configuration exists.
    match &cli.command {
        Command::Completions { shell } => return docs::completions(*shell),
        Command::Manpages { dir } => return docs::manpages(dir),
        _ => {}
    }
    // A mail server's pipe gets sysexits codes for every failure, the
    // configuration's included, and needs no more of it than the Maildir.
    if let Command::Deliver = cli.command {
        let input = std::io::stdin().lock();
        deliver::deliver_with_config(&cli.config_path(), input, SystemClock.now())?;
        return Ok(());
    }
    // Every command refuses a configuration with a problem, its rules and
    // templates included, not only those that use them.
    let loaded = settings::load(&cli.config_path())?;
    let config = &loaded.config;
    match cli.command {
        Command::Init {
            generate_key,
            userid,
        } => init(
            config,
            generate_key.then_some(userid.as_deref()),
            SystemClock.now(),
        ),
        Command::Check { offline } => check::check(&loaded, offline, SystemClock.now()),
        Command::Key { command } => key::run(&loaded, command, SystemClock.now()),
        Command::Ack {
            command: AckCommand::Resend { id },
        } => resend::resend(&loaded, &id, SystemClock.now()),
        // Answered above, without a configuration.
        Command::Completions { .. } | Command::Manpages { .. } => Ok(()),
        Command::Run { once } => run_daemon(loaded, once),
        Command::Import(args) => import::import(&loaded, args, SystemClock.now()),
        Command::Sla {
            command:
                Some(SlaCommand::Tick {
                    now: at,
                    dry_run,
                    json,
                    force,
                }),
            now,
            ..
        } => {
            let clock = SystemClock.now();
            let at = at.or(now).unwrap_or(clock);
            if dry_run {
                sla::dry_run(config, at, json)
            } else if let Some(refused) = sla::refuse_future(at, clock).filter(|_| !force) {
                Err(CliError::Usage(refused))
            } else {
                sla::tick(&loaded, at)
            }
        }
        Command::Outbox {
            command: None,
            failed,
            json,
        } => recover::list(config, failed, json, SystemClock.now()),
        Command::Outbox {
            command: Some(OutboxCommand::Retry { target }),
            ..
        } => recover::retry(config, &target, SystemClock.now()),
        Command::Messages { unattached, json } => recover::messages(config, unattached, json),
        Command::Attach { message, id } => recover::attach(config, message, &id, SystemClock.now()),
        Command::Sla {
            command: None,
            now,
            json,
        } => sla::list(config, now.unwrap_or_else(|| SystemClock.now()), json),
        // Handled above, before the configuration is loaded.
        Command::Deliver => Ok(()),
        Command::Attachment { id, number, output } => {
            attachment::fetch(config, &id, number, &output, SystemClock.now())
        }
        Command::Backup {
            path,
            dir,
            keep,
            force,
            json,
        } => {
            let destination = match (path, dir) {
                (_, Some(dir)) => backup::Destination::Rotated { dir, keep },
                (Some(path), None) => backup::Destination::File(path),
                (None, None) => {
                    return Err(CliError::Usage("name a file, or --dir DIR".to_owned()));
                }
            };
            backup::backup(config, &destination, force, json, SystemClock.now())
        }
        Command::Restore { path } => backup::restore(config, &path, SystemClock.now()),
        Command::Export {
            id,
            mbox,
            eml_dir,
            force,
        } => {
            let target = match (mbox, eml_dir) {
                (_, Some(dir)) => export::Target::EmlDir(dir),
                (Some(file), None) => export::Target::Mbox(file),
                (None, None) => {
                    return Err(CliError::Usage(
                        "name --mbox FILE or --eml-dir DIR".to_owned(),
                    ));
                }
            };
            export::export(config, &id, &target, force, SystemClock.now())
        }
        Command::Stats { json } => sla::stats(config, SystemClock.now(), json),
        Command::HallOfFame { format } => hall_of_fame::print(&loaded, format, SystemClock.now()),
        Command::SecurityTxt { json } => security_txt::print(&loaded, json, SystemClock.now()),
        Command::Publish { out, json } => publish::run(&loaded, out, json, SystemClock.now()),
        Command::Advisory { id, format, json } => {
            advisory::run(config, &id, format, json, SystemClock.now())
        }
        Command::Search(args) => search::search(config, args),
        Command::Reports { state, tag, json } => {
            let store = open_existing(config)?;
            let reports = store
                .read()
                .reports_tagged(state, tag.as_deref())
                .map_err(anyhow::Error::from)?;
            output::reports(&reports, json, config);
            Ok(())
        }
        Command::Report { id, json } => {
            let Some(report_id) = ReportId::parse(&config.program.id_prefix, &id) else {
                return Err(CliError::Usage(format!(
                    "`{id}` is not a report id like {}-2026-0042",
                    config.program.id_prefix
                )));
            };
            let store = open_existing(config)?;
            let mut detail = store
                .read()
                .report_detail(&report_id)
                .map_err(anyhow::Error::from)?
                .ok_or_else(|| {
                    anyhow::anyhow!("no report {report_id} in {}", store.path().display())
                })?;
            let now = SystemClock.now();
            // Keys are loaded only if a message needs them; without usable
            // keys such a message shows as it arrived.
            let crypto = std::cell::OnceCell::new();
            let decrypt = |raw: &[u8]| {
                let crypto = crypto.get_or_init(|| load_crypto(config, now).ok());
                crypto
                    .as_ref()
                    .and_then(|c| attachment::decrypt(config, c, raw, now))
            };
            fill_text_decrypting(&store, &mut detail.messages, &config.limits, &decrypt)
                .map_err(anyhow::Error::from)?;
            let deadlines = crate::sla::survey(&store.read(), config, Some(&report_id), now)
                .map_err(anyhow::Error::from)?;
            output::report(&detail, deadlines.first(), now, json, config);
            Ok(())
        }
    }
}

/// Fills in each message's readable text, derived from its readable entity: the
/// decrypted one for encrypted mail, else the raw bytes (the store keeps the
/// bytes, not a second copy as text).
pub fn fill_text(
    store: &Store,
    messages: &mut [MessageView],
    limits: &config::Limits,
) -> Result<(), StoreError> {
    fill_text_decrypting(store, messages, limits, &|_| None)
}

/// Like [`fill_text`], and a message that was decrypted but whose decrypted
/// entity was not kept (its sender was past `[limits]
/// max_sender_bytes_per_day`) is decrypted again with `decrypt`.
pub fn fill_text_decrypting(
    store: &Store,
    messages: &mut [MessageView],
    limits: &config::Limits,
    decrypt: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> Result<(), StoreError> {
    let limits = ParseLimits::from_config(limits);
    for m in messages {
        let readable = match store.read().decrypted_message(m.id)? {
            Some(inner) => Some(inner),
            None => store.read().raw_message(&m.sha256)?.map(|raw| {
                if m.encryption == "decrypted" {
                    decrypt(&raw).unwrap_or(raw)
                } else {
                    raw
                }
            }),
        };
        if let Some(bytes) = readable {
            m.text = crate::parse::parse(&bytes, &limits).text;
        }
    }
    Ok(())
}

pub(crate) fn open_existing(config: &Config) -> Result<Store, CliError> {
    Ok(Store::open(&config.storage.database, OpenMode::Existing).map_err(anyhow::Error::from)?)
}

/// The team keys and keyring; a key that cannot be used is a configuration error.
fn load_crypto(config: &Config, now: jiff::Timestamp) -> Result<crate::crypto::Crypto, CliError> {
    crate::crypto::Crypto::load(&config.openpgp, &config.team, now)
        .map_err(|err| CliError::Usage(format!("{}: `[openpgp]`: {err}", config.path.display())))
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| anyhow::anyhow!("cannot start the async runtime: {err}"))?)
}

/// `generate_key`: `Some(userid)` to generate the first key file if missing.
fn init(
    config: &Config,
    generate_key: Option<Option<&str>>,
    now: jiff::Timestamp,
) -> Result<(), CliError> {
    // Keys before the database: a key the daemon would refuse stops here.
    if let Some(userid) = generate_key {
        key::init_generate(config, userid, now)?;
    }
    let keys = key::survey(config, now).map_err(|problem| problem.into_usage(config))?;
    outln!("keys: {}", keys.summary);
    for warning in &keys.warnings {
        eprintln!("warning: {}", terminal_safe(warning));
    }
    let store =
        Store::open(&config.storage.database, OpenMode::Create).map_err(anyhow::Error::from)?;
    let version = store.schema_version().map_err(anyhow::Error::from)?;
    outln!(
        "database {} ready (schema version {version})",
        store.path().display()
    );
    Ok(())
}

fn run_daemon(loaded: Loaded, once: bool) -> Result<(), CliError> {
    let Loaded {
        config,
        rules,
        templates,
    } = loaded;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // One daemon per database, taken before the store is opened (and
    // migrated). `run --once` needs no lock: it sends only the rows it claims.
    let _instance = if once {
        None
    } else {
        Some(
            crate::store::InstanceLock::acquire(&config.storage.database, clock.now()).map_err(
                |err| match err {
                    held @ crate::store::LockError::Held { .. } => CliError::Running(held),
                    other => CliError::Other(other.into()),
                },
            )?,
        )
    };
    let store = open_existing(&config)?;
    let runtime = runtime()?;
    let path = config.path.clone();
    let crypto = load_crypto(&config, clock.now())?;
    let (settings, watched) = tokio::sync::watch::channel(Arc::new(crate::daemon::Settings {
        config,
        rules,
        templates,
        crypto,
    }));
    let reload_clock = clock.clone();
    let totals = runtime.block_on(async {
        let cancel = CancellationToken::new();
        crate::daemon::spawn_signal_handler(cancel.clone(), move || {
            crate::daemon::reload(&path, &settings, reload_clock.now());
        })
        .map_err(|err| anyhow::anyhow!("cannot install signal handlers: {err}"))?;
        crate::daemon::run(watched, store, clock, once, cancel)
            .await
            .map_err(anyhow::Error::from)
    });
    // A send still running after the shutdown grace is abandoned, not awaited.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let totals = totals?;
    if once {
        outln!(
            "processed {} new message(s) ({} already stored), opened {} report(s), queued {} acknowledgement(s), sent {} mail(s){}",
            totals.stored,
            totals.already_stored,
            totals.reports_opened,
            totals.acknowledgements,
            totals.sent,
            if totals.send_failures > 0 {
                format!(", {} delivery failure(s)", totals.send_failures)
            } else {
                String::new()
            }
        );
    }
    // For cron and scripts: a message the store refused is still on the source,
    // but someone should look. The daemon retried such messages all along and
    // logged each failure; its clean stop is exit 0.
    if once && totals.failed > 0 {
        return Err(CliError::Other(anyhow::anyhow!(
            "{} message(s) could not be read or stored and stay on the source (see the log)",
            totals.failed
        )));
    }
    Ok(())
}
