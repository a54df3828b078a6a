//! The service: a source worker (Maildir or IMAP → store), a delivery worker
//! (outbox → transport), the SLA clock (reminders, escalations, digest → outbox)
//! and a supervisor (systemd readiness, watchdog, status) run as tasks under one
//! cancellation token and one task tracker.
//!
//! The workers share one write connection behind a mutex (SQLite has one writer
//! anyway, and a mutex hands over at once where its busy handler sleeps); the
//! delivery worker and the SLA clock read through connections of their own. Every
//! loop waits for an event, not a poll: delivery for the next due attempt or a
//! wake (ingest wakes it after every commit, the SLA clock after it queues),
//! the SLA clock for its tick, all of them for the cancellation token.
//!
//! SIGTERM/SIGINT: the source stops after the batch in hand and says so, delivery
//! gets [`SHUTDOWN_GRACE`] to send what is queued, then the process exits 0; a
//! second signal exits at once. SIGHUP: the configuration and templates are read
//! again and take effect if valid; otherwise the old ones stay and the log says
//! why.

mod delivery;
mod imap;
mod maildir;
mod metrics;
mod monitor;
mod publish;
mod sla;
mod supervisor;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::{Config, SourceConfig};
use crate::ingest::Outcome;
use crate::respond::Templates;
use crate::source::{ImapError, SourceError};
use crate::store::{OpenMode, Store, StoreError};
use crate::transport::SmtpSetupError;

pub use monitor::SourceHealth;
pub use supervisor::Readiness;

/// How long delivery may go on sending after a stop was requested.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Transport(#[from] SmtpSetupError),
    #[error(transparent)]
    Lock(#[from] crate::store::LockError),
    #[error("cannot listen for metrics on {addr}: {source}")]
    Metrics {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("a worker failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The most report ids one ingest summary names; per-message lines name
/// every one.
const SUMMARY_REPORTS: usize = 20;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub stored: u64,
    pub already_stored: u64,
    pub reports_opened: u64,
    pub acknowledgements: u64,
    pub sent: u64,
    pub send_failures: u64,
    /// Messages that could not be read or stored; they stay on the source for
    /// the next cycle.
    pub failed: u64,
    /// The reports that stored messages went to, each once, the first
    /// [`SUMMARY_REPORTS`] of them.
    pub reports: Vec<String>,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.stored += other.stored;
        self.already_stored += other.already_stored;
        self.reports_opened += other.reports_opened;
        self.acknowledgements += other.acknowledgements;
        self.sent += other.sent;
        self.send_failures += other.send_failures;
        self.failed += other.failed;
        for id in &other.reports {
            self.touched(id);
        }
    }

    fn touched(&mut self, report: &str) {
        if self.reports.len() < SUMMARY_REPORTS && !self.reports.iter().any(|r| r == report) {
            self.reports.push(report.to_owned());
        }
    }

    /// Counts one message's ingest result; true if it is safely stored.
    fn tally(&mut self, result: &Result<Outcome, StoreError>) -> bool {
        match result {
            Ok(Outcome::AlreadyStored) => {
                self.already_stored += 1;
                true
            }
            Ok(Outcome::Stored {
                report,
                opened,
                acknowledged,
                ..
            }) => {
                if let Some(report) = report {
                    self.touched(report.as_str());
                }
                self.stored += 1;
                self.reports_opened += u64::from(*opened);
                self.acknowledgements += u64::from(*acknowledged);
                true
            }
            Err(_) => {
                self.failed += 1;
                false
            }
        }
    }

    fn log_ingested(&self) {
        if self.stored + self.already_stored > 0 {
            // `report`: the ids, comma-separated, so a search for one finds
            // the summary as it finds the message's own line.
            let report = (!self.reports.is_empty()).then(|| self.reports.join(","));
            tracing::info!(
                report,
                stored = self.stored,
                duplicates = self.already_stored,
                opened = self.reports_opened,
                acknowledgements = self.acknowledgements,
                "ingest cycle done"
            );
        }
    }
}

/// The configuration, rules, templates and keys in force; replaced as a whole
/// on SIGHUP.
#[derive(Debug)]
pub struct Settings {
    pub config: Config,
    pub rules: crate::triage::Rules,
    pub templates: Templates,
    pub crypto: crate::crypto::Crypto,
}

/// What every worker shares.
#[derive(Clone)]
struct Shared {
    store: Arc<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    settings: watch::Receiver<Arc<Settings>>,
    /// Tells the delivery worker there may be new mail to send.
    wake: Arc<Notify>,
    readiness: Readiness,
    /// What `/metrics` and `/healthz` show of the loops.
    telemetry: Arc<crate::metrics::Telemetry>,
    /// How the source is doing, for the monitor.
    health: SourceHealth,
}

/// Runs the daemon. With `once`, processes what is pending, sends what is due and
/// returns; otherwise keeps going until `cancel` fires. `settings` may be replaced
/// while it runs (SIGHUP).
pub async fn run(
    settings: watch::Receiver<Arc<Settings>>,
    store: Store,
    clock: Arc<dyn Clock>,
    once: bool,
    cancel: CancellationToken,
) -> Result<Totals, DaemonError> {
    let first = settings.borrow().clone();
    let config = &first.config;
    tracing::info!(
        source = %describe_source(&config.source),
        database = %store.path().display(),
        "disclosed starting"
    );
    let reader = Store::open(store.path(), OpenMode::Existing)?;
    // `run --once` is ingest and delivery; cron users tick with `sla tick`.
    let sla_reader = if once {
        None
    } else {
        Some(Store::open_reader(store.path())?)
    };
    let shared = Shared {
        store: Arc::new(Mutex::new(store)),
        clock,
        settings,
        wake: Arc::new(Notify::new()),
        readiness: Readiness::default(),
        telemetry: Arc::default(),
        health: SourceHealth::default(),
    };
    shared.telemetry.started(shared.clock.now());
    // Fired when the source worker has returned: everything it will ever
    // commit is committed.
    let ingest_done = CancellationToken::new();
    let tracker = TaskTracker::new();

    // Bound before any mail is read: a listener that cannot start is a
    // configuration error to see at once, not later.
    if !once && let Some(m) = config.metrics {
        let (listener, reader) = metrics::open(m.listen, &shared).await?;
        tracing::info!(listen = %m.listen, "serving /metrics and /healthz");
        tracker.spawn(metrics::serve(
            listener,
            reader,
            shared.clone(),
            cancel.clone(),
        ));
    }
    let supervising =
        (!once).then(|| tracker.spawn(supervisor::supervise(shared.clone(), cancel.clone())));
    let ticking = sla_reader
        .map(|reader| tracker.spawn(sla::tick_loop(shared.clone(), reader, cancel.clone())));
    let delivering = tracker.spawn(delivery::deliver_loop(
        shared.clone(),
        reader,
        once,
        cancel.clone(),
        ingest_done.clone(),
    ));
    let ingesting = tracker.spawn({
        let shared = shared.clone();
        let cancel = cancel.clone();
        async move {
            let config = shared.settings.borrow().config.clone();
            match config.source {
                SourceConfig::Maildir { .. } => maildir::ingest_loop(shared, once, cancel).await,
                SourceConfig::Imap(_) => imap::ingest_loop(shared, once, cancel).await,
            }
        }
    });
    tracker.close();

    let ingested = ingesting.await;
    ingest_done.cancel();
    let ingested = ingested?;
    if ingested.is_err() {
        cancel.cancel();
    }
    let delivered = delivering.await?;
    if let Some(s) = supervising {
        cancel.cancel();
        s.await?;
    }
    if let Some(t) = ticking {
        cancel.cancel();
        t.await?;
    }
    tracker.wait().await;
    let mut totals = ingested?;
    let (sent, send_failures) = delivered?;
    totals.sent = sent;
    totals.send_failures = send_failures;
    tracing::info!("disclosed stopped");
    Ok(totals)
}

fn describe_source(source: &SourceConfig) -> String {
    match source {
        SourceConfig::Maildir { path, .. } => format!("Maildir {}", path.display()),
        SourceConfig::Imap(i) => {
            format!("IMAP {} mailbox {} ({})", i.server, i.mailbox, i.server.tls)
        }
    }
}

/// Cancels `cancel` on the first SIGTERM/SIGINT and exits the process on the
/// second. On SIGHUP calls `reload`, which reads the configuration again.
pub fn spawn_signal_handler(
    cancel: CancellationToken,
    reload: impl Fn() + Send + 'static,
) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        let mut received = 0;
        loop {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
                _ = hup.recv() => {
                    reload();
                    continue;
                }
            }
            received += 1;
            if received == 1 {
                tracing::info!(
                    "stop requested; finishing the batch in hand (signal again to quit at once)"
                );
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
                cancel.cancel();
            } else {
                tracing::warn!("second stop signal; exiting now");
                std::process::exit(130);
            }
        }
    });
    Ok(())
}

/// Reads the configuration at `path` with its rules and templates, and puts
/// them in force if all are valid. Settings that only a restart can change are
/// kept, and the log says so.
pub fn reload(
    path: &std::path::Path,
    settings: &watch::Sender<Arc<Settings>>,
    now: jiff::Timestamp,
) {
    let crate::settings::Loaded {
        config,
        rules,
        templates,
    } = match crate::settings::load(path) {
        Ok(loaded) => loaded,
        Err(err) => {
            tracing::error!(error = %err, "reload refused; keeping the running configuration");
            return;
        }
    };
    let crypto = match crate::crypto::Crypto::load(&config.openpgp, &config.team, now) {
        Ok(c) => c,
        Err(err) => {
            tracing::error!(error = %err, "reload refused: OpenPGP keys are unusable; keeping the running configuration");
            return;
        }
    };
    let current = settings.borrow().clone();
    if config.storage.database != current.config.storage.database {
        tracing::error!(
            "reload refused: `storage.database` changed, which needs a restart; keeping the running configuration"
        );
        return;
    }
    if std::mem::discriminant(&config.source) != std::mem::discriminant(&current.config.source) {
        tracing::error!(
            "reload refused: `source.kind` changed, which needs a restart; keeping the running configuration"
        );
        return;
    }
    settings.send_replace(Arc::new(Settings {
        config,
        rules,
        templates,
        crypto,
    }));
    tracing::info!(config = %path.display(), "configuration, templates and keys reloaded");
}

#[cfg(test)]
mod tests;
