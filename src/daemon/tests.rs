use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::delivery::{self, Pass, Until};
use super::{DaemonError, Readiness, Settings, Shared, reload, sla};
use crate::clock::{Clock, FixedClock};
use crate::crypto::{Crypto, keys};
use crate::respond::DeliveryRun;
use crate::store::{NewMail, OpenMode, Store, lock};

fn now() -> jiff::Timestamp {
    "2026-11-23T12:00:00Z".parse().expect("time")
}

#[test]
fn a_reload_with_an_unusable_key_keeps_the_keys_in_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    let plain = crate::config::tests::MINIMAL.to_owned();
    std::fs::write(&path, &plain).expect("write");
    let loaded = crate::settings::load(&path).expect("config");
    let (sender, receiver) = watch::channel(Arc::new(Settings {
        config: loaded.config,
        rules: loaded.rules,
        templates: loaded.templates,
        crypto: Crypto::default(),
    }));

    let key = keys::generate(
        "Example Security <security@example.org>",
        now() - jiff::SignedDuration::from_hours(1),
        None,
        None,
    )
    .expect("generate");
    let key_path = dir.path().join("team.key");
    keys::write_secret(&key_path, &key).expect("write key");
    std::fs::write(
        &path,
        format!("{plain}\n[openpgp]\nsecret_keys = [\"team.key\"]\n"),
    )
    .expect("write");

    // Open to others: refused, and the running settings stay.
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    reload(&path, &sender, now());
    assert!(receiver.borrow().crypto.team.is_none());
    assert!(receiver.borrow().config.openpgp.secret_keys.is_empty());

    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    reload(&path, &sender, now());
    let settings = receiver.borrow();
    let team = settings.crypto.team.as_ref().expect("keys in force");
    assert_eq!(team.current().fingerprint(), key.fingerprint());
}

/// A delivery worker on a database in a temporary directory, with the file
/// transport and a clock that moves only when told.
struct Rig {
    _dir: tempfile::TempDir,
    db: PathBuf,
    clock: Arc<FixedClock>,
    shared: Shared,
    _settings: watch::Sender<Arc<Settings>>,
    cancel: CancellationToken,
    ingest_done: CancellationToken,
}

impl Rig {
    fn new(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, format!("{}{extra}", crate::config::tests::MINIMAL)).expect("write");
        let loaded = crate::settings::load(&path).expect("config");
        let db = loaded.config.storage.database.clone();
        let store = Store::open(&db, OpenMode::Create).expect("store");
        let (sender, receiver) = watch::channel(Arc::new(Settings {
            config: loaded.config,
            rules: loaded.rules,
            templates: loaded.templates,
            crypto: Crypto::default(),
        }));
        let clock = Arc::new(FixedClock::new(now()));
        Self {
            _dir: dir,
            db,
            shared: Shared {
                store: Arc::new(Mutex::new(store)),
                clock: clock.clone(),
                settings: receiver,
                wake: Arc::new(Notify::new()),
                readiness: Readiness::default(),
                telemetry: Arc::default(),
                health: super::SourceHealth::default(),
            },
            clock,
            _settings: sender,
            cancel: CancellationToken::new(),
            ingest_done: CancellationToken::new(),
        }
    }

    fn deliver(&self) -> tokio::task::JoinHandle<Result<(u64, u64), DaemonError>> {
        let reader = Store::open(&self.db, OpenMode::Existing).expect("reader");
        tokio::spawn(delivery::deliver_loop(
            self.shared.clone(),
            reader,
            false,
            self.cancel.clone(),
            self.ingest_done.clone(),
        ))
    }

    /// Queues a mail due now, or a retry due at `retry`.
    fn queue(&self, name: &str, retry: Option<Timestamp>) {
        let message_id = format!("{name}@example.org");
        let raw = format!("Message-ID: <{message_id}>\r\nSubject: {name}\r\n\r\nText.\r\n");
        lock(&self.shared.store)
            .write(|w| {
                let tx = w.tx();
                let id = tx.enqueue(
                    &NewMail {
                        report_id: None,
                        kind: "test",
                        message_id: &message_id,
                        envelope_from: "security@example.org",
                        return_token: None,
                        recipients: &["rita@reporter.example".to_owned()],
                        rate_key: None,
                        raw: raw.as_bytes(),
                        held: false,
                        team_lines: &[],
                    },
                    self.clock.now(),
                )?;
                if let Some(at) = retry {
                    tx.mark_retry(id, at, "try again later")?;
                }
                Ok::<_, crate::store::StoreError>(())
            })
            .expect("queue");
    }

    fn sent(&self) -> u64 {
        lock(&self.shared.store)
            .read()
            .counts()
            .expect("counts")
            .outbox_sent
    }

    /// Whether `n` mails are sent within `limit` of real time.
    async fn sent_within(&self, n: u64, limit: Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if self.sent() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.sent() >= n
    }
}

/// Well under the worker's safety re-check and the 5 s it used to poll at:
/// mail sent within this was sent because of the event the test caused.
const PROMPTLY: Duration = Duration::from_secs(3);

#[tokio::test]
async fn delivery_sends_a_retry_when_it_falls_due_and_not_before() {
    let rig = Rig::new("");
    rig.queue("retry", Some(now() + SignedDuration::from_mins(10)));
    let worker = rig.deliver();

    assert!(!rig.sent_within(1, Duration::from_millis(200)).await);
    rig.clock.advance(SignedDuration::from_mins(9));
    assert!(!rig.sent_within(1, Duration::from_millis(200)).await);
    // No one wakes the worker: its own wait for the due time ends.
    rig.clock.advance(SignedDuration::from_mins(1));
    assert!(rig.sent_within(1, PROMPTLY).await, "sent when due");

    rig.ingest_done.cancel();
    rig.cancel.cancel();
    let (sent, failures) = tokio::time::timeout(PROMPTLY, worker)
        .await
        .expect("stops")
        .expect("joined")
        .expect("delivery");
    assert_eq!((sent, failures), (1, 0));
}

#[tokio::test]
async fn delivery_sends_newly_queued_mail_as_soon_as_it_is_woken() {
    let rig = Rig::new("");
    let worker = rig.deliver();
    // Let it find the outbox empty and wait.
    tokio::time::sleep(Duration::from_millis(100)).await;

    rig.queue("fresh", None);
    rig.shared.wake.notify_one();
    assert!(rig.sent_within(1, PROMPTLY).await, "sent on the wake");

    rig.ingest_done.cancel();
    rig.cancel.cancel();
    tokio::time::timeout(PROMPTLY, worker)
        .await
        .expect("stops")
        .expect("joined")
        .expect("delivery");
}

#[tokio::test]
async fn delivery_stops_once_ingest_is_done_and_sends_its_last_batch() {
    let rig = Rig::new("");
    let worker = rig.deliver();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Stop requested; ingest commits the batch in hand, then says it is done.
    rig.cancel.cancel();
    tokio::time::sleep(Duration::from_millis(50)).await;
    rig.queue("last", None);
    let stopping = std::time::Instant::now();
    rig.ingest_done.cancel();
    let (sent, _) = tokio::time::timeout(PROMPTLY, worker)
        .await
        .expect("stops well within the grace period")
        .expect("joined")
        .expect("delivery");
    assert_eq!(sent, 1, "the last batch's mail went out");
    assert!(
        stopping.elapsed() < Duration::from_secs(1),
        "{:?}",
        stopping.elapsed()
    );
}

#[test]
fn after_a_pass_delivery_waits_for_the_next_due_mail_and_never_spins() {
    let at = |mins: i64| now() + SignedDuration::from_mins(mins);
    let pass = |sent: u32, next: Option<Timestamp>| Pass {
        run: DeliveryRun {
            sent,
            ..DeliveryRun::default()
        },
        next,
    };
    let cases = [
        (
            None,
            Until::Failed(Duration::from_secs(1)),
            "the pass failed",
        ),
        (Some(pass(3, None)), Until::Woken, "nothing queued"),
        (
            Some(pass(0, Some(at(5)))),
            Until::Due(at(5)),
            "a retry later",
        ),
        (Some(pass(1, Some(at(0)))), Until::Now, "more became due"),
        (
            Some(pass(0, Some(at(-1)))),
            Until::Pause,
            "due mail the pass did not move",
        ),
    ];
    for (pass, want, case) in cases {
        assert_eq!(Until::after(pass.as_ref(), 1, now()), want, "{case}");
    }
}

#[test]
fn failed_passes_back_off_to_a_minute_and_never_spin() {
    let waits: Vec<u64> = (1..=9)
        .map(|n| delivery::failed_pause(n).as_secs())
        .collect();
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    assert_eq!(delivery::failed_pause(u32::MAX).as_secs(), 60);
    assert_eq!(
        Until::after(None, 3, now()),
        Until::Failed(Duration::from_secs(4))
    );
}

#[test]
fn the_sla_tick_surveys_while_a_writer_transaction_is_open() {
    let rig = Rig::new("\n[[team.members]]\nname = \"Alice\"\nemail = \"alice@example.org\"\n");
    let settings = rig.shared.settings.borrow().clone();
    let month_ago = now() - SignedDuration::from_hours(24 * 30);
    lock(&rig.shared.store)
        .write(|w| {
            w.tx()
                .create_report("SEC", 2026, "rita@reporter.example", "old", month_ago)
        })
        .expect("report");
    let reader = Arc::new(Mutex::new(Store::open_reader(&rig.db).expect("reader")));

    // Ingest holds the writer, in a transaction, for as long as the survey takes.
    let due = lock(&rig.shared.store)
        .write(|w| {
            w.tx()
                .create_report("SEC", 2026, "sam@reporter.example", "new", month_ago)?;
            let (tx, rx) = std::sync::mpsc::channel();
            let (reader, settings) = (reader.clone(), settings.clone());
            std::thread::spawn(move || tx.send(sla::survey(&reader, &settings, now())));
            rx.recv_timeout(Duration::from_secs(10))
                .expect("the survey does not wait for the writer")
        })
        .expect("survey");
    assert!(!due.is_empty());

    // Recorded after the writer let go, from what was committed when it looked.
    let recorded = lock(&rig.shared.store)
        .write(|w| due.record(&w.tx()))
        .expect("record");
    let ticked = sla::tick(&reader, &rig.shared.store, &settings, now()).expect("tick");
    assert_eq!(
        recorded.escalations, ticked.escalations,
        "the report committed during the survey is escalated by the next tick"
    );
    assert_eq!(recorded.digests, 1);
    assert_eq!(ticked.digests, 0, "one digest");
    assert_eq!(
        sla::tick(&reader, &rig.shared.store, &settings, now()).expect("tick"),
        crate::sla::TickOutcome::default(),
        "then nothing is due"
    );
}

#[tokio::test]
async fn a_send_another_sender_could_not_record_is_recorded_once_and_never_sent_again() {
    let rig = Rig::new("[[team.members]]\nname = \"Alice\"\nemail = \"alice@example.org\"\n");
    rig.queue("held", None);
    rig.queue("fresh", None);
    // Another sender handed row 1 to its transport and could not record it.
    let mut side = crate::store::UnrecordedLog::open(&rig.db);
    assert!(side.hold(&[crate::store::Unrecorded {
        outbox_id: 1,
        message_id: "held@example.org".to_owned(),
        sent_at: now(),
    }]));
    let worker = rig.deliver();
    // The held row recorded, the fresh one sent, and the team's one notice.
    assert!(rig.sent_within(3, PROMPTLY).await, "sent {}", rig.sent());
    rig.ingest_done.cancel();
    rig.cancel.cancel();
    let (sent, _) = tokio::time::timeout(PROMPTLY, worker)
        .await
        .expect("stops")
        .expect("joined")
        .expect("delivery");
    assert_eq!(
        sent, 2,
        "the fresh mail and the notice went to the transport"
    );
    let outbox = rig
        .db
        .parent()
        .expect("dir")
        .parent()
        .expect("dir")
        .join("outbox");
    let files: Vec<String> = std::fs::read_dir(&outbox)
        .expect("outbox dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !files.iter().any(|f| f.contains("held@")),
        "the held row never went to the transport: {files:?}"
    );
    assert!(files.iter().any(|f| f.contains("fresh@")), "{files:?}");
    assert!(
        crate::store::UnrecordedLog::open(&rig.db)
            .pending()
            .is_empty(),
        "the side file is cleared"
    );
}
