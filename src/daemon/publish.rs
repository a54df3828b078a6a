//! The daemon's publishing hooks, run after each SLA tick: the site under
//! `[publish] dir` is written again when the event log grew (a state change,
//! a credit, any command) or the settings were reloaded, and the team is
//! warned before security.txt or the signing key expires.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use super::Settings;
use crate::publish::{self, PublishError, SiteTemplates, Written, warnings};
use crate::store::{Store, StoreError, lock};

/// What the site was last published from.
#[derive(Default)]
pub(super) struct Published {
    marker: Option<i64>,
    settings: Option<Arc<Settings>>,
}

/// Publishes the site if `[publish] dir` is set and something changed since
/// the last time; `None` if nothing was to be done.
pub(super) fn republish(
    reader: &Mutex<Store>,
    settings: &Arc<Settings>,
    last: &mut Published,
    now: Timestamp,
) -> Result<Option<Written>, PublishError> {
    let config = &settings.config;
    let Some(dir) = config.publish.dir.as_deref() else {
        return Ok(None);
    };
    let mut reader = lock(reader);
    let marker = reader.snapshot(|tx| tx.publication_marker())?;
    let same_settings = last
        .settings
        .as_ref()
        .is_some_and(|s| Arc::ptr_eq(s, settings));
    if last.marker == Some(marker) && same_settings {
        return Ok(None);
    }
    let templates = SiteTemplates::load(config.templates.dir.as_deref())?;
    let written = reader.snapshot(|tx| {
        publish::publish(
            tx,
            config,
            settings.crypto.team.as_deref(),
            &templates,
            dir,
            now,
        )
    })?;
    // Only a success is remembered: a failure is tried again next tick.
    *last = Published {
        marker: Some(marker),
        settings: Some(settings.clone()),
    };
    Ok(Some(written))
}

/// Queues the expiry warnings due at `now`; how many went out.
pub(super) fn warn(
    reader: &Mutex<Store>,
    writer: &Mutex<Store>,
    settings: &Settings,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let cert = settings.crypto.team.as_ref().map(|t| t.current());
    let pending = lock(reader).snapshot(|tx| warnings::pending(tx, &settings.config, cert, now))?;
    if pending.is_empty() {
        return Ok(0);
    }
    lock(writer)
        .write(|batch| warnings::queue_due(&batch.tx(), &settings.config, &settings.crypto, now))
}

#[cfg(test)]
mod tests;
