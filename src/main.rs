//! `disclosed`: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = disclosed::cli::Cli::parse();
    init_logging();
    match disclosed::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Error text can quote mail (an address, a key user id).
            eprintln!(
                "disclosed: {}",
                disclosed::cli::terminal_safe(&format!("{err:#}"))
            );
            ExitCode::from(err.exit_code())
        }
    }
}

/// Structured records to journald when systemd connected stderr to the journal;
/// human-readable lines on stderr otherwise. `RUST_LOG` filters (default `info`).
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Below `info` these crates log the IMAP LOGIN line and whole messages.
    for quiet in ["async_imap=info", "imap_proto=info", "lettre=info"] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let registry = tracing_subscriber::registry().with(filter);
    if std::env::var_os("JOURNAL_STREAM").is_some()
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
