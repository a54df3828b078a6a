//! The outbox worker: sends due rows through the transport, records each result,
//! retries failures with exponential backoff and gives up after `give_up_after`.
//! A row marked sent is never picked again.
//!
//! One row, one sender: every process that sends is a [`Sender`], and it claims
//! the rows it hands to a transport in a write transaction first, so no row goes
//! out from two processes. A claim ends when its result is recorded, when its
//! process exits (its kernel lock is gone), or when its lease runs out.
//!
//! A send that cannot be recorded stops the sender: when the transport took a
//! mail and the store cannot mark it sent (disk full, read-only, I/O error), the
//! mail is remembered in memory and in a synced side file beside the database,
//! nothing more is sent until the store has recorded it, and the team gets one
//! notice once it has.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use serde_json::json;

use super::{Templates, compose, queue};
use crate::audit::{Actor, Auth, EventKind};
use crate::clock::Clock;
use crate::config::{Config, Retry};
use crate::report::ReportId;
use crate::store::{
    Claim, Claimant, LockError, NewEvent, QueuedMail, Store, StoreError, Tx, Unrecorded,
    UnrecordedLog, claimant_exited, lock,
};
use crate::transport::{Envelope, Outgoing, SendError, Transport};

/// The outbox kind of delivery-failure notices; their own failures are only
/// logged, never reported by mail (that could loop).
pub const DELIVERY_FAILED: &str = "delivery-failed";

/// The outbox kind of the notice that mail went out while the store could not
/// record it.
pub const SENDS_UNRECORDED: &str = "sends-unrecorded";

/// How long a claim holds without renewal. Each result recorded renews the
/// sender's claims, so only a sender stuck this long in one transport call,
/// whose process cannot be checked, loses them.
pub const CLAIM_LEASE: Duration = Duration::from_secs(15 * 60);

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

/// This process as a sender on one database: the token its claims carry and
/// the mail it sent that the store has not recorded yet.
pub struct Sender {
    database: std::path::PathBuf,
    claimant: Claimant,
    unrecorded: UnrecordedLog,
    /// Leases are measured on this clock, the real one outside tests, even when
    /// the schedule is read at another time (`sla tick --now`).
    clock: Arc<dyn Clock>,
    /// When the leases of the claims held were last set: every claim ends
    /// [`CLAIM_LEASE`] after this or later.
    leased_at: Option<Timestamp>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("claimant", &self.claimant.token())
            .field("unrecorded", &self.unrecorded)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// Registers this process (`what`: `daemon`, `run --once`, `sla tick`) as a
    /// sender on `database`.
    pub fn new(database: &Path, what: &str, clock: Arc<dyn Clock>) -> Result<Self, LockError> {
        let claimant = Claimant::register(database, what, clock.now())?;
        Ok(Self {
            database: database.to_owned(),
            claimant,
            unrecorded: UnrecordedLog::open(database),
            clock,
            leased_at: None,
        })
    }

    /// Whether sends are held back: some mail went out that the store has not
    /// recorded yet.
    pub fn holding(&self) -> bool {
        !self.unrecorded.pending().is_empty()
    }

    fn claim(&mut self, now: Timestamp) -> Claim<'_> {
        let lease_now = self.clock.now();
        self.leased_at.get_or_insert(lease_now);
        Claim {
            claimant: self.claimant.token(),
            now,
            lease_now,
            lease_until: lease_end(lease_now),
        }
    }
}

fn lease_end(from: Timestamp) -> Timestamp {
    from.checked_add(SignedDuration::try_from(CLAIM_LEASE).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX)
}

/// Sends everything due at `now`, in batches of `batch` rows. Blocking. A mail
/// given up on is recorded on its report and the team is told by mail, in the
/// transaction that marks it failed.
///
/// First the mail sent earlier that the store could not record is recorded; if
/// it still cannot be, nothing is sent (the error says why). Then the claims of
/// senders that have exited are released, and batches of due rows are claimed
/// for `sender` in a write transaction (walking ids upwards so that a row is
/// tried once per pass) and handed to the transport at once (over SMTP, a few
/// connections). A row is marked sent only after the transport took it, so a
/// crash in between can send it again, with the same Message-ID (at least
/// once). Mail that left over the network is recorded through `store` as soon
/// as the server took it (the results the transport tells together in one
/// transaction), before its connection carries the next mail, so a crash
/// resends at most the mails in flight, one per connection; failures wait for
/// the next success or the end of the batch (a crash only retries them sooner).
/// The file transport rewrites the same file when a mail is sent again, so its
/// results are recorded whenever the store's lock is free, and at the latest
/// when the pass ends: writing files does not wait for the ingest worker's
/// transaction.
pub fn deliver_due(
    store: &Mutex<Store>,
    transport: &Transport,
    setup: Setup<'_>,
    now: Timestamp,
    batch: usize,
    sender: &mut Sender,
) -> Result<DeliveryRun, StoreError> {
    let ctx = RecordCtx {
        config: setup.config,
        templates: setup.templates,
        crypto: setup.crypto,
        now,
    };
    record_unrecorded(store, &ctx, sender)?;
    release_exited(store, sender)?;
    // Claims left from an earlier pass are claimed again, with a new lease.
    sender.leased_at = None;
    let mut run = DeliveryRun::default();
    let mut unrecorded: Vec<(QueuedMail, Result<(), SendError>)> = Vec::new();
    let at_once = !transport.idempotent();
    let mut after = 0;
    loop {
        let claim = sender.claim(now);
        let mut due = lock(store).write(|w| w.tx().claim_due(&claim, after, batch.max(1)))?;
        let Some(last) = due.last() else {
            if !unrecorded.is_empty() {
                let results: Vec<_> = unrecorded
                    .iter()
                    .map(|(mail, result)| (mail, result))
                    .collect();
                record_or_hold(&mut lock(store), &results, &ctx, &mut run, sender)?;
            }
            return Ok(run);
        };
        after = last.id;
        // A sender that exited holding a send it could not record may have
        // left that row to us since this pass began: record it, never send it.
        let held = sender.unrecorded.pending();
        if due.iter().any(|m| held.iter().any(|h| h.outbox_id == m.id)) {
            record_unrecorded(store, &ctx, sender)?;
            due.retain(|m| !held.iter().any(|h| h.outbox_id == m.id));
        }
        let mails: Vec<Outgoing<'_>> = due.iter().map(outgoing).collect();
        let mut results: Vec<(usize, Result<(), SendError>)> = Vec::new();
        let started = std::time::Instant::now();
        transport.send_batch(&mails, |told| {
            let sent = told.iter().any(|(_, result)| result.is_ok());
            results.extend(told);
            if at_once && sent {
                let told: Vec<_> = results
                    .iter()
                    .map(|(i, result)| (&due[*i], result))
                    .collect();
                record_or_hold(&mut lock(store), &told, &ctx, &mut run, sender)?;
                results.clear();
            }
            Ok::<_, StoreError>(())
        })?;
        tracing::debug!(mails = due.len(), send = ?started.elapsed(), "delivery batch");
        if at_once {
            if !results.is_empty() {
                let told: Vec<_> = results
                    .iter()
                    .map(|(i, result)| (&due[*i], result))
                    .collect();
                record_or_hold(&mut lock(store), &told, &ctx, &mut run, sender)?;
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
            let results: Vec<_> = unrecorded
                .iter()
                .map(|(mail, result)| (mail, result))
                .collect();
            record_or_hold(&mut guard, &results, &ctx, &mut run, sender)?;
            unrecorded.clear();
        }
    }
}

/// Records `results`; if the store cannot, the mail the transport took is held
/// by `sender` (memory and side file) so that it is never handed over again
/// before it is recorded.
fn record_or_hold(
    store: &mut Store,
    results: &[(&QueuedMail, &Result<(), SendError>)],
    ctx: &RecordCtx<'_>,
    run: &mut DeliveryRun,
    sender: &mut Sender,
) -> Result<(), StoreError> {
    let mut counted = *run;
    // Renewing rewrites every row held, so only once a third of the lease has
    // gone by: a batch sent over SMTP records each mail on its own.
    let now = sender.clock.now();
    let renew = sender.leased_at.is_some_and(|at| {
        now.duration_since(at)
            > SignedDuration::try_from(CLAIM_LEASE / 3).unwrap_or(SignedDuration::MAX)
    });
    let recorded = record(store, results.iter().copied(), ctx, &mut counted, |tx| {
        if renew {
            tx.renew_claims(sender.claimant.token(), lease_end(now))?;
        }
        Ok(())
    });
    match recorded {
        Ok(()) => {
            *run = counted;
            if renew {
                sender.leased_at = Some(now);
            }
            Ok(())
        }
        Err(err) => {
            let sent: Vec<Unrecorded> = results
                .iter()
                .filter(|(_, result)| result.is_ok())
                .map(|(mail, _)| Unrecorded {
                    outbox_id: mail.id,
                    message_id: mail.message_id.clone(),
                    // As precise as the side file keeps it, so that both
                    // copies are one entry.
                    sent_at: Timestamp::from_millisecond(ctx.now.as_millisecond())
                        .unwrap_or(ctx.now),
                })
                .collect();
            if !sent.is_empty() {
                let kept = sender.unrecorded.hold(&sent);
                tracing::error!(
                    mails = sent.len(),
                    side_file = %sender.unrecorded.path().display(),
                    kept_on_disk = kept,
                    error = %err,
                    "the transport accepted mail that the store cannot record as sent; sending stops until the store can write again"
                );
            }
            Err(err)
        }
    }
}

/// Records the mail sent earlier that the store could not record, and tells
/// the team once; until it is recorded, this fails and nothing is sent.
fn record_unrecorded(
    store: &Mutex<Store>,
    ctx: &RecordCtx<'_>,
    sender: &mut Sender,
) -> Result<(), StoreError> {
    let pending = sender.unrecorded.pending();
    if pending.is_empty() {
        return Ok(());
    }
    let marked = lock(store).write(|w| {
        let tx = w.tx();
        let mut marked = 0usize;
        for entry in &pending {
            if tx.mark_sent_earlier(entry.outbox_id, &entry.message_id, entry.sent_at)? {
                marked += 1;
            }
        }
        // Another sender may have recorded them (and told the team) already.
        if marked > 0 {
            notify_unrecorded(&tx, ctx, &pending)?;
        }
        Ok::<_, StoreError>(marked)
    })?;
    sender.unrecorded.forget(&pending);
    tracing::warn!(
        mails = pending.len(),
        recorded = marked,
        "the store can write again: mail sent while it could not is recorded as sent; sending resumes"
    );
    Ok(())
}

/// Releases the claims of senders whose process has exited.
fn release_exited(store: &Mutex<Store>, sender: &Sender) -> Result<(), StoreError> {
    let claimants = lock(store).read().claimants()?;
    let exited: Vec<String> = claimants
        .into_iter()
        .filter(|c| c != sender.claimant.token() && claimant_exited(&sender.database, c))
        .collect();
    if exited.is_empty() {
        return Ok(());
    }
    let released = lock(store).write(|w| {
        let tx = w.tx();
        let mut n = 0;
        for claimant in &exited {
            n += tx.release_claims(claimant)?;
        }
        Ok::<_, StoreError>(n)
    })?;
    tracing::info!(
        senders = exited.len(),
        mails = released,
        "took over the mail of senders that exited while sending; what they sent but did not record goes out again"
    );
    Ok(())
}

/// Queues the team's one notice that mail went out unrecorded. Its text holds
/// only our own Message-IDs and times. A notice that cannot be composed is
/// logged at error instead.
fn notify_unrecorded(
    tx: &Tx<'_>,
    ctx: &RecordCtx<'_>,
    sent: &[Unrecorded],
) -> Result<(), StoreError> {
    let mut body = format!(
        "The mail transport accepted {} mail(s) that the database could not record as sent \
         (its disk was full, read-only or failing). disclosed stopped sending until the \
         database could write again; they are recorded now and none of them was sent twice.\n\n\
         Check the free space and the health of the disk that holds the database.\n\n",
        sent.len()
    );
    for entry in sent {
        body.push_str(&format!(
            "  <{}> sent {}\n",
            entry.message_id, entry.sent_at
        ));
    }
    let subject = format!(
        "{}: mail sent while the database could not record it",
        ctx.config.program.name
    );
    if let Err(err) = queue::to_members_about_itself(
        tx,
        ctx.config,
        ctx.crypto,
        (subject, body),
        SENDS_UNRECORDED,
        ctx.now,
    )? {
        tracing::error!(
            error = %err,
            mails = sent.len(),
            "cannot compose the team's notice of mail sent while the database could not record it"
        );
    }
    Ok(())
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

/// Records delivery results in one transaction, with `also` (the claims'
/// renewal).
fn record<'m>(
    store: &mut Store,
    results: impl IntoIterator<Item = (&'m QueuedMail, &'m Result<(), SendError>)>,
    ctx: &RecordCtx<'_>,
    run: &mut DeliveryRun,
    also: impl FnOnce(&Tx<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let retry: &Retry = &ctx.config.transport.retry;
    let now = ctx.now;
    store.write(|w| {
        let tx = w.tx();
        also(&tx)?;
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
                        tracing::warn!(report = mail.report_id.as_deref(), message_id = %mail.message_id, kind = %mail.kind, error = %err, "giving up on a mail");
                        tx.mark_failed(mail.id, &err.message)?;
                        report_failure(&tx, ctx, mail, &err.message)?;
                        run.failed += 1;
                    } else {
                        let wait = backoff(retry, mail.attempts + 1);
                        let next = now
                            .checked_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX))
                            .unwrap_or(Timestamp::MAX);
                        tracing::info!(report = mail.report_id.as_deref(), message_id = %mail.message_id, kind = %mail.kind, error = %err, retry_in = ?wait, "delivery failed; will retry");
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
    let headline = format!("Undeliverable: {}", mail.kind);
    let composed =
        compose::delivery_failure(ctx.config, ctx.templates, mail, reason).and_then(|body| {
            let metadata = compose::metadata_notice(
                ctx.templates,
                &headline,
                report.as_ref(),
                state.map(|s| s.as_str()),
                deadlines,
            )?;
            Ok((body, metadata))
        });
    let bodies = match composed {
        Ok(bodies) => bodies,
        // The failure is recorded as an event either way; a broken template
        // must not keep the outbox from recording results.
        Err(err) => {
            tracing::error!(error = %err, "cannot compose the delivery-failure notice");
            return Ok(());
        }
    };
    let notice = queue::notice(ctx.config, report.as_ref(), &headline, bodies);
    if let Err(err) = queue::to_members(
        tx,
        ctx.config,
        ctx.crypto,
        &notice,
        report.as_ref(),
        DELIVERY_FAILED,
        ctx.now,
    )? {
        tracing::error!(error = %err, "cannot seal the delivery-failure notice");
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
