//! The daemon's watch on itself, run after each SLA tick: what the source
//! worker reports of its connection and what statvfs says of the database's
//! filesystem join what the store knows, and new conditions are mailed to the
//! team (see [`crate::monitor`]).

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use super::Settings;
use crate::monitor::{self, Observed};
use crate::respond::queue::Mailer;
use crate::store::{Store, StoreError, lock};

/// Since when the source has failed without a success in between; shared
/// by the source worker (which writes it) and the SLA tick (which reads it).
#[derive(Debug, Clone, Default)]
pub struct SourceHealth {
    failing_since: Arc<Mutex<Option<Timestamp>>>,
}

impl SourceHealth {
    /// The source worked (a connection or a cycle succeeded).
    pub fn succeeded(&self) {
        *self.failing_since.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The source failed at `now`; the first failure in a row is kept.
    pub fn failed(&self, now: Timestamp) {
        self.failing_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(now);
    }

    pub fn failing_since(&self) -> Option<Timestamp> {
        *self.failing_since.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the daemon observes at `now`: the source's health and the free space
/// beside the database.
pub(super) fn observe(store: &Mutex<Store>, health: &SourceHealth) -> Observed {
    let path = lock(store).path().to_owned();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let disk = match monitor::disk_space(dir) {
        Ok(d) => Some(d),
        Err(err) => {
            tracing::warn!(path = %dir.display(), error = %err, "cannot read the free space");
            None
        }
    };
    Observed {
        source_failing_since: health.failing_since(),
        disk,
    }
}

/// Surveys on `reader`, and records new and cleared conditions on `writer`
/// if anything changed, queueing the canary when one is due; how many alerts
/// were queued.
#[cfg(test)]
pub(super) fn check(
    reader: &Mutex<Store>,
    writer: &Mutex<Store>,
    settings: &Settings,
    observed: &Observed,
    now: Timestamp,
) -> Result<usize, StoreError> {
    check_and_queue(reader, writer, settings, observed, now).map(|(alerts, _)| alerts)
}

/// Like [`check`]; also says whether a canary was queued (delivery must be
/// woken for it as for an alert).
pub(super) fn check_and_queue(
    reader: &Mutex<Store>,
    writer: &Mutex<Store>,
    settings: &Settings,
    observed: &Observed,
    now: Timestamp,
) -> Result<(usize, bool), StoreError> {
    let changes = lock(reader).snapshot(|tx| {
        let active = monitor::active(tx, &settings.config, &settings.crypto, observed, now)?;
        monitor::changes(tx, active)
    })?;
    let canary = lock(reader).snapshot(|tx| monitor::canary::due(tx, &settings.config, now))?;
    if changes.is_empty() && !canary {
        return Ok((0, false));
    }
    let mailer = Mailer {
        config: &settings.config,
        templates: &settings.templates,
        crypto: &settings.crypto,
    };
    lock(writer).write(|batch| {
        let tx = batch.tx();
        let mut queued_canary = false;
        // Checked again under the writer: another tick may have sent one.
        if canary && monitor::canary::due(&tx, &settings.config, now)? {
            match monitor::canary::queue(&tx, &settings.config, &settings.crypto, now) {
                Ok(token) => queued_canary = token.is_some(),
                Err(monitor::canary::CanaryError::Store(err)) => return Err(err),
                // Tried again on the next tick; the missing canary alerts.
                Err(err) => tracing::error!(error = %err, "cannot queue the canary"),
            }
        }
        let alerts = monitor::record(&tx, &mailer, &changes, now)?;
        Ok((alerts, queued_canary))
    })
}

#[cfg(test)]
mod tests;
