//! The outbox worker: sends due rows through the transport, records each result,
//! retries failures with exponential backoff and gives up after `give_up_after`.
//! A row marked sent is never picked again.

use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use serde_json::json;

use super::{Templates, compose};
use crate::audit::{Actor, Auth, EventKind};
use crate::config::{Config, Retry};
use crate::report::ReportId;
use crate::store::{NewEvent, QueuedMail, Store, StoreError, Tx, lock};
use crate::transport::{Envelope, Outgoing, SendError, Transport};

/// The outbox kind of delivery-failure notices; their own failures are only
/// logged, never reported by mail (that could loop).
pub const DELIVERY_FAILED: &str = "delivery-failed";

/// What one pass of [`deliver_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    pub sent: u32,
    pub retrying: u32,
    pub failed: u32,
}

/// How long to wait after the `attempts`-th failure.
pub fn backoff(retry: &Retry, attempts: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX);
    retry.initial.saturating_mul(factor).min(retry.max)
}

/// Sends everything due at `now`, in batches of `batch` rows. Blocking. A mail
/// given up on is recorded on its report and the team is told by mail, in the
/// transaction that marks it failed.
///
/// Due rows are read through `reader`, a connection of its own (WAL readers never
/// wait for the writer), walking ids upwards so that a row is tried once per pass.
/// Each batch goes to the transport at once (over SMTP, a few connections). A row
/// is marked sent only after the transport took it, so a crash in between can send
/// it again, with the same Message-ID (at least once). Mail that left over the
/// network is recorded through the shared `store` as soon as the server took it
/// (the results the transport tells together in one transaction), before its
/// connection carries the next mail, so a crash resends at most the mails in
/// flight, one per connection;
/// failures wait for the next success or the end of the batch (a crash only
/// retries them sooner). The file transport rewrites the same file when a mail
/// is sent again, so its results are recorded whenever the store's lock is free,
/// and at the latest when the pass ends: writing files does not wait for the
/// ingest worker's transaction.
pub fn deliver_due(
    store: &Mutex<Store>,
    reader: &Store,
    transport: &Transport,
    setup: Setup<'_>,
    now: Timestamp,
    batch: usize,
) -> Result<DeliveryRun, StoreError> {
    let ctx = RecordCtx {
        config: setup.config,
        templates: setup.templates,
        crypto: setup.crypto,
        now,
    };
    let mut run = DeliveryRun::default();
    let mut unrecorded: Vec<(QueuedMail, Result<(), SendError>)> = Vec::new();
    let at_once = !transport.idempotent();
    let mut after = 0;
    loop {
        let due = reader.read().due_mail(now, after, batch.max(1))?;
        let Some(last) = due.last() else {
            if !unrecorded.is_empty() {
                let results = unrecorded.iter().map(|(mail, result)| (mail, result));
                record(&mut lock(store), results, &ctx, &mut run)?;
            }
            return Ok(run);
        };
        after = last.id;
        let mails: Vec<Outgoing<'_>> = due.iter().map(outgoing).collect();
        let mut results: Vec<(usize, Result<(), SendError>)> = Vec::new();
        let started = std::time::Instant::now();
        transport.send_batch(&mails, |told| {
            let sent = told.iter().any(|(_, result)| result.is_ok());
            results.extend(told);
            if at_once && sent {
                let told = results.iter().map(|(i, result)| (&due[*i], result));
                record(&mut lock(store), told, &ctx, &mut run)?;
                results.clear();
            }
            Ok::<_, StoreError>(())
        })?;
        tracing::debug!(mails = due.len(), send = ?started.elapsed(), "delivery batch");
        if at_once {
            if !results.is_empty() {
                let told = results.iter().map(|(i, result)| (&due[*i], result));
                record(&mut lock(store), told, &ctx, &mut run)?;
            }
            continue;
        }
        let mut due: Vec<Option<QueuedMail>> = due.into_iter().map(Some).collect();
        unrecorded.extend(
            results
                .into_iter()
                .filter_map(|(i, result)| Some((due.get_mut(i)?.take()?, result))),
        );
        if let Ok(mut guard) = store.try_lock() {
            let results = unrecorded.iter().map(|(mail, result)| (mail, result));
            record(&mut guard, results, &ctx, &mut run)?;
            unrecorded.clear();
        }
    }
}

/// What the transport needs of an outbox row.
fn outgoing(mail: &QueuedMail) -> Outgoing<'_> {
    Outgoing {
        message_id: &mail.message_id,
        envelope: Envelope {
            from: &mail.envelope_from,
            recipients: &mail.recipients,
        },
        bytes: &mail.raw,
    }
}

/// What composing the team's notice of a failed delivery needs.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    pub config: &'a Config,
    pub templates: &'a Templates,
    pub crypto: &'a crate::crypto::Crypto,
}

struct RecordCtx<'a> {
    config: &'a Config,
    templates: &'a Templates,
    crypto: &'a crate::crypto::Crypto,
    now: Timestamp,
}

/// Records delivery results in one transaction.
fn record<'m>(
    store: &mut Store,
    results: impl IntoIterator<Item = (&'m QueuedMail, &'m Result<(), SendError>)>,
    ctx: &RecordCtx<'_>,
    run: &mut DeliveryRun,
) -> Result<(), StoreError> {
    let retry: &Retry = &ctx.config.transport.retry;
    let now = ctx.now;
    store.write(|w| {
        let tx = w.tx();
        for (mail, result) in results {
            match result {
                Ok(()) => {
                    if tx.mark_sent(mail.id, now)? {
                        run.sent += 1;
                    }
                }
                Err(err) => {
                    let age = now.duration_since(mail.created_at);
                    let too_old = age
                        >= SignedDuration::try_from(retry.give_up_after)
                            .unwrap_or(SignedDuration::MAX);
                    if !err.transient || too_old {
                        tracing::warn!(message_id = %mail.message_id, kind = %mail.kind, error = %err, "giving up on a mail");
                        tx.mark_failed(mail.id, &err.message)?;
                        report_failure(&tx, ctx, mail, &err.message)?;
                        run.failed += 1;
                    } else {
                        let wait = backoff(retry, mail.attempts + 1);
                        let next = now
                            .checked_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX))
                            .unwrap_or(Timestamp::MAX);
                        tracing::info!(message_id = %mail.message_id, error = %err, retry_in = ?wait, "delivery failed; will retry");
                        tx.mark_retry(mail.id, next, &err.message)?;
                        run.retrying += 1;
                    }
                }
            }
        }
        Ok::<_, StoreError>(())
    })
}

/// Records the failure on the mail's report and queues a notice to the team.
fn report_failure(
    tx: &Tx<'_>,
    ctx: &RecordCtx<'_>,
    mail: &QueuedMail,
    reason: &str,
) -> Result<(), StoreError> {
    let report = mail.report_id.clone().map(ReportId::from_stored);
    tx.append_event(&NewEvent {
        report_id: report.as_ref(),
        at: ctx.now,
        actor: Actor::Daemon,
        auth: Auth::None,
        kind: EventKind::DeliveryFailed,
        detail: json!({
            "message_id": mail.message_id,
            "kind": mail.kind,
            "recipients": mail.recipients,
            "reason": reason,
        }),
        message: None,
    })?;
    if mail.kind == DELIVERY_FAILED {
        return Ok(());
    }
    // The notice names the recipients and the server's answer, which quotes
    // them: a member without a key gets the report's metadata only.
    let state = match &report {
        Some(id) => tx.report_record(id)?.map(|r| r.state),
        None => None,
    };
    let deadlines = match &report {
        Some(id) => crate::sla::deadline_lines(tx, ctx.config, id, ctx.now)?,
        None => Vec::new(),
    };
    let composed =
        compose::delivery_failure(ctx.config, ctx.templates, mail, reason).and_then(|full| {
            let headline = format!("Undeliverable: {}", mail.kind);
            let metadata = compose::metadata_notice(
                ctx.templates,
                &headline,
                report.as_ref(),
                state.map(|s| s.as_str()),
                deadlines,
            )?;
            Ok((full, metadata))
        });
    let ((subject, body), metadata) = match composed {
        Ok(text) => text,
        // The failure is recorded as an event either way; a broken template
        // must not keep the outbox from recording results.
        Err(err) => {
            tracing::error!(error = %err, "cannot compose the delivery-failure notice");
            return Ok(());
        }
    };
    let program = &ctx.config.program;
    let notice = super::team::TeamMail {
        subject,
        body,
        secret: true,
        metadata: Some(metadata),
        attachments: &[],
        reply_to: report
            .as_ref()
            .map(|id| program.address.with_tag(&format!("{id}-internal"))),
        from_name: format!("{} disclosed", program.name),
        references: Vec::new(),
        auto_submitted: Some("auto-generated"),
    };
    match super::team::to_members(ctx.config, ctx.crypto, &notice, None, ctx.now) {
        Ok((mails, _)) => {
            for m in mails {
                tx.enqueue(&m.mail.to_queue(report.as_ref(), DELIVERY_FAILED), ctx.now)?;
            }
        }
        Err(err) => tracing::error!(error = %err, "cannot seal the delivery-failure notice"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = Retry {
            initial: Duration::from_secs(60),
            max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(86400),
        };
        let waits: Vec<u64> = (1..=9).map(|a| backoff(&retry, a).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff(&retry, 200).as_secs(), 3600);
    }
}
