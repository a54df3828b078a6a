//! What the daemon tells a monitoring system: `/metrics` in the OpenMetrics
//! text format (built with `prometheus-client`) and `/healthz`, served on the
//! `[metrics] listen` address by [`http`].
//!
//! Counts that describe the store (messages by class, reports by state, the
//! outbox, breached deadlines) are read from it at each scrape, in one read
//! transaction on the listener's own connection: they are right after a
//! restart and whatever process wrote them. What only the running daemon knows
//! (delivery attempts, whether IMAP is connected, when its loops last ran) is
//! kept in [`Telemetry`] and starts from zero with the process, as Prometheus
//! expects of counters.

pub mod http;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::store::StoreGauges;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// "Never" in the millisecond cells below.
const NEVER: i64 = i64::MIN;

/// What the running daemon records for the metrics and the health check.
/// Cheap to update from any task: atomics only.
#[derive(Debug)]
pub struct Telemetry {
    deliveries_sent: AtomicU64,
    deliveries_failed: AtomicU64,
    deliveries_given_up: AtomicU64,
    /// Set when the source is IMAP; `imap_connected` means nothing otherwise.
    imap_source: AtomicBool,
    imap_connected: AtomicBool,
    /// Milliseconds since the epoch, or [`NEVER`].
    last_poll: AtomicI64,
    source_alive: AtomicI64,
    sla_alive: AtomicI64,
    /// When the daemon started: a loop that has not run yet is given its
    /// limit from then (a first SLA tick over a large store takes a while).
    started: AtomicI64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            deliveries_sent: AtomicU64::new(0),
            deliveries_failed: AtomicU64::new(0),
            deliveries_given_up: AtomicU64::new(0),
            imap_source: AtomicBool::new(false),
            imap_connected: AtomicBool::new(false),
            last_poll: AtomicI64::new(NEVER),
            source_alive: AtomicI64::new(NEVER),
            sla_alive: AtomicI64::new(NEVER),
            started: AtomicI64::new(NEVER),
        }
    }
}

fn load_time(cell: &AtomicI64) -> Option<Timestamp> {
    match cell.load(Ordering::Relaxed) {
        NEVER => None,
        ms => Timestamp::from_millisecond(ms).ok(),
    }
}

impl Telemetry {
    /// The daemon started at `now`.
    pub fn started(&self, now: Timestamp) {
        self.started.store(now.as_millisecond(), Ordering::Relaxed);
    }

    /// One delivery pass: mails sent, attempts that failed and will be
    /// retried, mails given up on.
    pub fn delivered(&self, sent: u32, retrying: u32, given_up: u32) {
        self.deliveries_sent
            .fetch_add(u64::from(sent), Ordering::Relaxed);
        self.deliveries_failed
            .fetch_add(u64::from(retrying) + u64::from(given_up), Ordering::Relaxed);
        self.deliveries_given_up
            .fetch_add(u64::from(given_up), Ordering::Relaxed);
    }

    /// The source is IMAP, and is now connected or not.
    pub fn imap_connected(&self, connected: bool) {
        self.imap_source.store(true, Ordering::Relaxed);
        self.imap_connected.store(connected, Ordering::Relaxed);
    }

    /// The source was read to the end at `now`, its mail committed.
    pub fn polled(&self, now: Timestamp) {
        self.last_poll
            .store(now.as_millisecond(), Ordering::Relaxed);
        self.source_alive(now);
    }

    /// The source loop ran at `now` (a cycle, or an attempt to connect).
    pub fn source_alive(&self, now: Timestamp) {
        self.source_alive
            .store(now.as_millisecond(), Ordering::Relaxed);
    }

    /// The SLA clock ticked at `now`.
    pub fn ticked(&self, now: Timestamp) {
        self.sla_alive
            .store(now.as_millisecond(), Ordering::Relaxed);
    }

    /// Whether each loop ran recently enough at `now`.
    pub fn health(&self, now: Timestamp, limits: HealthLimits) -> Health {
        let age = |cell: &AtomicI64| {
            load_time(cell).map(|at| {
                let secs = now.duration_since(at).as_secs();
                u64::try_from(secs).unwrap_or(0)
            })
        };
        let source = age(&self.source_alive);
        let sla = age(&self.sla_alive);
        let started = age(&self.started);
        let fresh = |age: Option<u64>, limit: Duration| {
            age.or(started).is_some_and(|a| a <= limit.as_secs())
        };
        Health {
            ok: fresh(source, limits.source) && fresh(sla, limits.sla),
            source_seconds_ago: source,
            sla_seconds_ago: sla,
            imap_connected: self
                .imap_source
                .load(Ordering::Relaxed)
                .then(|| self.imap_connected.load(Ordering::Relaxed)),
        }
    }
}

/// How long each loop may go without running before `/healthz` says 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthLimits {
    pub source: Duration,
    pub sla: Duration,
}

/// What `/healthz` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub ok: bool,
    pub source_seconds_ago: Option<u64>,
    pub sla_seconds_ago: Option<u64>,
    /// `None` when the source is not IMAP.
    pub imap_connected: Option<bool>,
}

impl Health {
    /// The body: a short JSON object.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "status": if self.ok { "ok" } else { "stalled" },
            "source_seconds_ago": self.source_seconds_ago,
            "sla_seconds_ago": self.sla_seconds_ago,
            "imap_connected": self.imap_connected,
        })
        .to_string()
    }
}

/// Everything one scrape shows.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    pub now: Timestamp,
    pub store: StoreGauges,
    pub telemetry: &'a Telemetry,
    /// When the team's current key expires; `None` if it never does or there
    /// is no team key.
    pub team_key_expires: Option<Timestamp>,
}

type Labels = Vec<(String, String)>;

fn counter_family<'a>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    label: &str,
    values: impl IntoIterator<Item = &'a (String, u64)>,
) {
    let family = Family::<Labels, Counter>::default();
    for (value, n) in values {
        family
            .get_or_create(&vec![(label.to_owned(), value.clone())])
            .inc_by(*n);
    }
    registry.register(name, help, family);
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let g = Gauge::<i64>::default();
    g.set(value);
    registry.register(name, help, g);
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let c = Counter::<u64>::default();
    c.inc_by(value);
    registry.register(name, help, c);
}

fn seconds(at: Timestamp) -> i64 {
    at.as_second()
}

/// The OpenMetrics text of `s`.
pub fn render(s: &Snapshot<'_>) -> Result<String, std::fmt::Error> {
    let mut r = Registry::with_prefix("disclosed");
    counter_family(
        &mut r,
        "messages_ingested",
        "Messages stored, by the class they were stored as",
        "class",
        &s.store.messages_by_class,
    );
    // Every state is shown, an empty one as 0, so a query never meets a gap.
    let reports = Family::<Labels, Gauge>::default();
    for state in crate::report::ReportState::ALL {
        let _ = reports.get_or_create(&vec![("state".to_owned(), state.as_str().to_owned())]);
    }
    for (state, n) in &s.store.reports_by_state {
        reports
            .get_or_create(&vec![("state".to_owned(), state.clone())])
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    r.register("reports", "Reports by state", reports);
    gauge(
        &mut r,
        "outbox_queued",
        "Mails waiting in the outbox",
        i64::try_from(s.store.outbox_queued).unwrap_or(i64::MAX),
    );
    gauge(
        &mut r,
        "outbox_oldest_queued_age_seconds",
        "Age of the oldest mail waiting in the outbox (0 when none waits)",
        s.store
            .oldest_queued
            .map_or(0, |at| s.now.duration_since(at).as_secs().max(0)),
    );
    gauge(
        &mut r,
        "outbox_failed",
        "Mails in the outbox that were given up on",
        i64::try_from(s.store.outbox_failed).unwrap_or(i64::MAX),
    );
    let t = s.telemetry;
    counter(
        &mut r,
        "deliveries_sent",
        "Mails the transport accepted since the daemon started",
        t.deliveries_sent.load(Ordering::Relaxed),
    );
    counter(
        &mut r,
        "deliveries_failed",
        "Delivery attempts that failed since the daemon started (retried or given up)",
        t.deliveries_failed.load(Ordering::Relaxed),
    );
    counter(
        &mut r,
        "deliveries_given_up",
        "Mails given up on since the daemon started",
        t.deliveries_given_up.load(Ordering::Relaxed),
    );
    counter_family(
        &mut r,
        "deadlines_breached",
        "Deadlines breached, by deadline: escalated, or past when imported",
        "deadline",
        &s.store.breaches_by_deadline,
    );
    if t.imap_source.load(Ordering::Relaxed) {
        gauge(
            &mut r,
            "imap_connected",
            "1 while the IMAP source is connected",
            i64::from(t.imap_connected.load(Ordering::Relaxed)),
        );
    }
    if let Some(at) = load_time(&t.last_poll) {
        gauge(
            &mut r,
            "last_successful_poll_timestamp_seconds",
            "When the source was last read to the end (Unix time)",
            seconds(at),
        );
    }
    if let Some(expires) = s.team_key_expires {
        // Whole days left, rounded down; negative once it has expired.
        let days = (expires.as_second() - s.now.as_second()).div_euclid(86_400);
        gauge(
            &mut r,
            "team_key_expiry_days",
            "Days until the team's current OpenPGP key expires",
            days,
        );
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &r)?;
    Ok(text)
}

/// Reads one sample's value from exposition `text`: `name` with exactly the
/// labels `labels` (in any order). For tests and `disclosed check`.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, found) = match series.split_once('{') {
                Some((m, rest)) => (m, parse_labels(rest.strip_suffix('}')?)?),
                None => (series, Vec::new()),
            };
            if metric != name || found.len() != labels.len() {
                return None;
            }
            let all = labels
                .iter()
                .all(|(k, v)| found.iter().any(|(fk, fv)| fk == k && fv == v));
            all.then(|| value.parse().ok()).flatten()
        })
}

fn parse_labels(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let end = after.find('"')?;
        out.push((
            key.trim_start_matches(',').to_owned(),
            after[..end].to_owned(),
        ));
        rest = &after[end + 1..];
    }
    Some(out)
}

#[cfg(test)]
mod tests;
