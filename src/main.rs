//! `disclosed`: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = disclosed::cli::Cli::parse();
    if cli.command.only_prints() {
        quiet_on_closed_pipe();
    }
    init_logging(cli.log_format);
    match disclosed::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Error text can quote mail (an address, a key user id).
            eprintln!(
                "disclosed: {}",
                disclosed::cli::terminal_safe(&one_line(&err))
            );
            ExitCode::from(err.exit_code())
        }
    }
}

/// The error and its causes, each said once: many errors put
/// their cause's text into their own message and also return it as source.
fn one_line(err: &disclosed::cli::CliError) -> String {
    let chain: Vec<String> = match err {
        disclosed::cli::CliError::Other(err) => err.chain().map(ToString::to_string).collect(),
        err => std::iter::successors(Some(err as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect(),
    };
    let mut chain = chain.into_iter();
    // The error's own text is kept whole (a configuration error lists its
    // problems, which may share words).
    let mut text = chain.next().unwrap_or_default();
    for cause in chain {
        // A cause often repeats its error's text, or prefixes it with the
        // path already named: only what is new is added.
        for part in cause.split(": ") {
            if !text.contains(part) {
                text.push_str(": ");
                text.push_str(part);
            }
        }
    }
    text
}

/// A command that only prints ends silently, as `cat` does, when its reader
/// goes away (`disclosed reports | head`), instead of panicking on the failed
/// write. Commands that feed a sendmail child or run the daemon keep SIGPIPE
/// ignored, so a dead child is an error they handle, not their end.
fn quiet_on_closed_pipe() {
    // SAFETY: restoring a signal's default disposition, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Structured records to journald when systemd connected stderr to the journal;
/// human-readable lines on stderr otherwise; one JSON object per line on
/// stderr when asked (`--log-format json`), for a log shipper, under systemd
/// too. `RUST_LOG` filters; without it, `info`, but libraries' own progress
/// lines (a migration applied, a template helper) only from `warn` up: they are
/// not the command's output.
fn init_logging(format: Option<disclosed::cli::LogFormat>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let asked = std::env::var("RUST_LOG").ok();
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,rusqlite_migration=warn,handlebars=warn")
    });
    // Handlebars traces every helper and partial at `debug`: noise when
    // `RUST_LOG=debug` is about this program, unless it names handlebars.
    if asked.is_some_and(|a| !a.contains("handlebars"))
        && let Ok(directive) = "handlebars=warn".parse()
    {
        filter = filter.add_directive(directive);
    }
    // Below `info` these crates log the IMAP LOGIN line and whole messages.
    for quiet in ["async_imap=info", "imap_proto=info", "lettre=info"] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let registry = tracing_subscriber::registry().with(filter);
    if format == Some(disclosed::cli::LogFormat::Json) {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .init();
        return;
    }
    if format.is_none()
        && std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(journald) = tracing_journald::layer()
    {
        registry
            .with(journald.with_syslog_identifier("disclosed".into()))
            .init();
        return;
    }
    registry
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .init();
}
