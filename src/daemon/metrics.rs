//! The daemon's side of `[metrics]`: the listener, a read connection of its
//! own for the counts the store holds, and the health limits each source
//! allows.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{DaemonError, Settings, Shared};
use crate::config::SourceConfig;
use crate::metrics::http::{self, Handler, Page, Reply};
use crate::metrics::{CONTENT_TYPE, HealthLimits, Snapshot};
use crate::store::{Store, lock};

/// How long a scrape may take before it is answered 500: the store is busy
/// or wedged, which the health check and the watchdog report in their own way.
const SCRAPE_TIME: Duration = Duration::from_secs(5);

/// Binds the listener and opens the read connection it counts through.
pub(super) async fn open(
    addr: SocketAddr,
    shared: &Shared,
) -> Result<(TcpListener, Store), DaemonError> {
    let path = lock(&shared.store).path().to_owned();
    let reader = Store::open_reader(&path)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| DaemonError::Metrics { addr, source })?;
    Ok((listener, reader))
}

/// Serves `/metrics` and `/healthz` until `cancel` fires.
pub(super) async fn serve(
    listener: TcpListener,
    reader: Store,
    shared: Shared,
    cancel: CancellationToken,
) {
    let reader = Arc::new(Mutex::new(reader));
    let handler: Handler = Arc::new(move |page| {
        let (shared, reader) = (shared.clone(), reader.clone());
        Box::pin(async move {
            match page {
                Page::Metrics => scrape(shared, reader).await,
                Page::Health => health(&shared),
            }
        })
    });
    http::serve(listener, handler, cancel).await;
}

async fn scrape(shared: Shared, reader: Arc<Mutex<Store>>) -> Reply {
    let settings = shared.settings.borrow().clone();
    let now = shared.clock.now();
    let read = tokio::task::spawn_blocking(move || {
        let store = lock(&reader).snapshot(|tx| tx.store_gauges())?;
        let team_key_expires = settings
            .crypto
            .team
            .as_ref()
            .and_then(|team| crate::crypto::keys::key_info(team.current(), now).expires);
        crate::metrics::render(&Snapshot {
            now,
            store,
            telemetry: &shared.telemetry,
            team_key_expires,
        })
        .map_err(|_| crate::store::StoreError::Corrupt {
            what: "metrics",
            detail: "cannot format the exposition".into(),
        })
    });
    match tokio::time::timeout(SCRAPE_TIME, read).await {
        Ok(Ok(Ok(body))) => Reply {
            status: 200,
            content_type: CONTENT_TYPE,
            body,
        },
        Ok(Ok(Err(err))) => {
            tracing::warn!(error = %err, "cannot read the metrics from the store");
            failed()
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "reading the metrics panicked");
            failed()
        }
        Err(_) => {
            tracing::warn!(timeout = ?SCRAPE_TIME, "reading the metrics took too long");
            failed()
        }
    }
}

fn failed() -> Reply {
    Reply {
        status: 500,
        content_type: "text/plain; charset=utf-8",
        body: "cannot read the store\n".into(),
    }
}

fn health(shared: &Shared) -> Reply {
    let settings = shared.settings.borrow().clone();
    let health = shared
        .telemetry
        .health(shared.clock.now(), limits(&settings));
    Reply {
        status: if health.ok { 200 } else { 503 },
        content_type: "application/json",
        body: health.to_json() + "\n",
    }
}

/// How long each loop may be silent: the SLA clock ticks every
/// [`super::sla::SLA_TICK`]; a Maildir is scanned every `poll_interval`; an
/// IMAP source may sit in IDLE until it renews it, or wait out the longest
/// reconnect backoff. Each gets a margin for a long batch.
pub(super) fn limits(settings: &Settings) -> HealthLimits {
    let source = match &settings.config.source {
        SourceConfig::Maildir { poll_interval, .. } => {
            poll_interval.saturating_mul(3) + Duration::from_secs(120)
        }
        SourceConfig::Imap(i) => {
            i.poll_interval
                .max(crate::source::imap::IDLE_RENEW)
                .max(super::imap::RECONNECT_MAX)
                + Duration::from_secs(300)
        }
    };
    HealthLimits {
        source,
        sla: super::sla::SLA_TICK.saturating_mul(3),
    }
}
