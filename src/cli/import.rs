//! `disclosed import`: bring an existing inbox (an mbox file, a Maildir, or a
//! folder on the configured IMAP server) into the store, threaded like live
//! mail, with nothing sent. It holds the daemon's lock while it runs: the
//! import threads mail in its own order and records the deadlines that were
//! past before any SLA tick may look at them, so it refuses to start beside a
//! running daemon, and a daemon cannot start until it is done.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use clap::Args;
use jiff::Timestamp;
use jiff::civil::Date;

use super::output::{self, outln};
use super::{CliError, load_crypto, open_existing};
use crate::config::{Config, SourceConfig};
use crate::import::{self, Failure, Importer, Item, Options, Summary};
use crate::ingest::Pipeline;
use crate::report::ReportState;
use crate::settings::Loaded;
use crate::store::{InstanceLock, LockError};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("from").required(true).args(["mbox", "maildir", "imap_folder"]))]
pub struct ImportArgs {
    /// An mbox file to import
    #[arg(value_name = "FILE.mbox")]
    pub mbox: Option<PathBuf>,
    /// Import a Maildir instead (read only: nothing is moved or flagged)
    #[arg(long, value_name = "DIR")]
    pub maildir: Option<PathBuf>,
    /// Import this folder of the `[source]` IMAP server instead (read only)
    #[arg(long, value_name = "NAME")]
    pub imap_folder: Option<String>,
    /// The state imported reports start in
    #[arg(long, value_name = "S", default_value = "acknowledged")]
    pub state: ReportState,
    /// Never answer mail dated before this (a date in program time, or a time
    /// like 2027-01-04T09:00:00+01:00), now or later in the daemon
    #[arg(long, value_name = "DATE")]
    pub no_answer_before: Option<String>,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

/// `--no-answer-before`: a day starts at midnight in the program's time zone.
fn cutoff(config: &Config, text: &str) -> Result<Timestamp, CliError> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<Date>()
        .ok()
        .and_then(|d| d.to_zoned_datetime(config.program.timezone.clone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--no-answer-before `{text}` is not a date like 2026-01-31 or a time like 2026-01-31T09:00:00+01:00"
            ))
        })
}

pub fn import(loaded: &Loaded, args: ImportArgs, now: Timestamp) -> Result<(), CliError> {
    let config = &loaded.config;
    let no_answer_before = args
        .no_answer_before
        .as_deref()
        .map(|t| cutoff(config, t))
        .transpose()?;
    let _lock = InstanceLock::acquire(&config.storage.database, now).map_err(|err| match err {
        LockError::Held {
            database, holder, ..
        } => CliError::Busy(format!(
            "a daemon is running on {}: {holder}; stop it before importing (`disclosed run` refuses to start while an import runs, too)",
            database.display()
        )),
        other => CliError::Other(other.into()),
    })?;
    let store = Mutex::new(open_existing(config)?);
    let crypto = load_crypto(config, now)?;
    let pipeline = Pipeline {
        config,
        rules: &loaded.rules,
        templates: &loaded.templates,
        crypto: &crypto,
    };
    let options = Options {
        state: args.state,
        no_answer_before,
    };
    let max = config.limits.max_message_size;
    let bar = progress_bar();
    let summary = if let Some(path) = &args.mbox {
        let mbox = import::mbox::Mbox::open(path, max).map_err(|err| match err {
            import::mbox::MboxError::NotMbox { .. } => CliError::Usage(err.to_string()),
            other => CliError::Other(other.into()),
        })?;
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        bar.set_length(size);
        bar.set_style(style("{bar:30} {bytes}/{total_bytes} {msg}"));
        let read = mbox.bytes_read();
        let source = format!("import:mbox:{}", path.display());
        run(&pipeline, &store, &source, options, now, mbox, &bar, || {
            read.load(Ordering::Relaxed)
        })?
    } else if let Some(dir) = &args.maildir {
        let reader = import::maildir::MaildirReader::open(dir, max)
            .map_err(|err| CliError::Usage(err.to_string()))?;
        bar.set_length(reader.len() as u64);
        bar.set_style(style("{bar:30} {pos}/{len} messages {msg}"));
        let source = format!("import:maildir:{}", dir.display());
        let mut n = 0;
        run(
            &pipeline,
            &store,
            &source,
            options,
            now,
            reader,
            &bar,
            || {
                n += 1;
                n
            },
        )?
    } else if let Some(folder) = &args.imap_folder {
        let SourceConfig::Imap(imap) = &config.source else {
            return Err(CliError::Usage(format!(
                "--imap-folder needs an IMAP `[source]` in {}",
                config.path.display()
            )));
        };
        let runtime = super::runtime()?;
        let reader = import::imap::ImapReader::open(&runtime, imap, folder, max)
            .map_err(|err| anyhow::anyhow!("cannot read the IMAP folder `{folder}`: {err}"))?;
        bar.set_length(reader.len() as u64);
        bar.set_style(style("{bar:30} {pos}/{len} messages {msg}"));
        let source = format!("import:{}", reader.name());
        let mut n = 0;
        let mut reader = reader;
        let summary = run(
            &pipeline,
            &store,
            &source,
            options,
            now,
            &mut reader,
            &bar,
            || {
                n += 1;
                n
            },
        );
        reader.close();
        summary?
    } else {
        return Err(CliError::Usage(
            "name an mbox file, --maildir DIR or --imap-folder NAME".to_owned(),
        ));
    };
    bar.finish_and_clear();
    if args.json {
        output::json(&summary);
    } else {
        print_summary(&summary);
    }
    if !summary.failures.is_empty() {
        return Err(CliError::Other(anyhow::anyhow!(
            "{} message(s) could not be imported (listed above); run the import again once fixed, it skips what it stored",
            summary.failures.len()
        )));
    }
    Ok(())
}

/// Imports `items`, moving the bar to `position()` after each message.
#[allow(clippy::too_many_arguments)]
fn run(
    pipeline: &Pipeline<'_>,
    store: &Mutex<crate::store::Store>,
    source: &str,
    options: Options,
    now: Timestamp,
    items: impl Iterator<Item = Result<Item, Failure>>,
    bar: &indicatif::ProgressBar,
    mut position: impl FnMut() -> u64,
) -> Result<Summary, CliError> {
    let importer = Importer {
        pipeline,
        store,
        source,
        options,
        now,
    };
    let items = items.inspect(|_| bar.set_position(position()));
    importer
        .run(items, &mut |read| bar.set_message(format!("{read} read")))
        .map_err(|err| CliError::Other(err.into()))
}

/// A progress bar on stderr when it is a terminal, else none at all.
fn progress_bar() -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    }
}

fn style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
}

fn print_summary(s: &Summary) {
    outln!(
        "read {} message(s): imported {}, already present {}; opened {} report(s), {} follow-up(s), {} unattached",
        s.read,
        s.imported,
        s.already_present,
        s.reports_opened,
        s.follow_ups,
        s.unattached
    );
    outln!(
        "{} arrival time(s) not from the Date: header; {} deadline(s) recorded as breached before import; nothing sent",
        s.dates_replaced,
        s.historical_breaches
    );
    for f in &s.failures {
        outln!("failed: {}: {}", f.location, f.reason);
    }
}
