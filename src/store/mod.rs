//! The store: SQLite through rusqlite, and the only module that writes SQL.
//!
//! WAL mode with `synchronous=FULL`, so a commit is on disk before the source is
//! told the message is processed. Temporary journals stay in memory
//! (`temp_store`): on disk they cost a write per page touched. The automatic
//! checkpoint threshold is high because the daemon checkpoints from a second
//! connection ([`Store::checkpoint`]), off the writer's path. Writers work inside
//! [`Store::write`]: one transaction, all of it or nothing.

mod applied;
mod backup;
mod cursors;
mod disclosure;
mod imports;
mod internal;
mod keys;
mod lock;
mod messages;
mod metrics;
mod migrations;
mod monitor;
mod outbox;
mod publication;
mod quota;
mod rates;
mod read;
mod recovery;
mod report_row;
mod reports;
mod search;
mod sla;
mod unrecorded;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use backup::{CopyError, CopyFacts, Exclusive, check_copy};
pub use cursors::Cursor;
pub use disclosure::DisclosureMail;
pub use imports::HistoricalBreach;
pub use internal::LineFingerprint;
pub use keys::{
    HeldMail, KeyConfirmation, KeyRecord, KeyStatus, MessageCrypto, NewKey, NewKeyConfirmation,
};
pub use lock::{Claimant, InstanceLock, LockError, claimant_exited};
pub use messages::{NewAttachment, NewMessage, StoredMessage, ThreadedBy, UnknownThreadedBy};
pub use metrics::StoreGauges;
pub use outbox::{Claim, NewMail, QueuedMail, SentMail};
pub use quota::{ReportAttachment, StoredBytes};
pub use read::{
    AttachmentView, Counts, EventView, KeyView, MessageView, OutboxView, ParticipantView,
    ReportDetail, ReportSummary,
};
pub use recovery::{Attached, OutboxFilter, OutboxRow, Retried, UnattachedMessage};
pub use report_row::ReportRecord;
pub use reports::{NewEvent, Recorder};
pub use search::{
    MAX_INDEXED_BYTES, MAX_QUERY_CHARS, MAX_SNIPPET_CHARS, QueryError, SearchFilter, SearchHit,
    SearchQuery, SearchResults,
};
pub use sla::{NoticeKind, SlaEvent};
pub use unrecorded::{Unrecorded, UnrecordedLog};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {} does not exist; create it with `disclosed init`", path.display())]
    Missing { path: PathBuf },
    /// The file or a directory above it cannot be looked at (permissions).
    #[error("cannot access database {}: {source}", path.display())]
    Access {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create directory {} for the database: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "database {} has schema version {found}, newer than this disclosed supports ({supported}); refusing to touch it",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: usize,
        supported: usize,
    },
    #[error("cannot migrate database {}: {source}", path.display())]
    Migrate {
        path: PathBuf,
        source: rusqlite_migration::Error,
    },
    #[error("database error while {what}: {source}")]
    Sql {
        what: &'static str,
        source: rusqlite::Error,
    },
    #[error("stored data is not what this code wrote ({what}): {detail}")]
    Corrupt { what: &'static str, detail: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches "while {what}" to a rusqlite error.
pub(crate) fn ctx(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { what, source }
}

pub(crate) fn ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(crate) fn from_ms(value: i64) -> Timestamp {
    Timestamp::from_millisecond(value).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// How [`Store::open`] treats a database file that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `disclosed init`: create it (and its directory).
    Create,
    /// Everything else: it must exist; pending migrations are applied.
    Existing,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the database, sets the connection up and applies pending migrations.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self> {
        let exists = exists(path)?;
        if !exists && mode == OpenMode::Existing {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        if !exists {
            create_private(path)?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -8000;
             PRAGMA temp_store = MEMORY;
             PRAGMA wal_autocheckpoint = 16384;",
        )
        .map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(64);
        migrate(&mut conn, path)?;
        let mut store = Self {
            conn,
            path: path.to_owned(),
        };
        let indexed = store.index_backlog()?;
        if indexed > 0 {
            tracing::info!(messages = indexed, "indexed stored messages for search");
        }
        Ok(store)
    }

    /// An existing database opened read-only, as it is: not migrated, and no
    /// file created beside it (`check --offline` writes nothing). Without a
    /// `-wal` file no connection has uncommitted pages, and the file is read
    /// as immutable, which needs no `-shm` either.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        if !exists(path)? {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let immutable = !exists(Path::new(&wal))?;
        let encoded = path
            .to_string_lossy()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        let uri = format!(
            "file:{encoded}?mode=ro{}",
            if immutable { "&immutable=1" } else { "" }
        );
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(uri, flags).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        let found = store.schema_version()?;
        if found > migrations::LATEST {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found,
                supported: migrations::LATEST,
            });
        }
        Ok(store)
    }

    /// The schema version this code migrates a database to.
    pub fn latest_schema_version() -> usize {
        migrations::LATEST
    }

    /// A second connection to an existing database that only reads (`query_only`):
    /// surveys run on it beside the writer, and cannot write by mistake.
    pub fn open_reader(path: &Path) -> Result<Self> {
        let store = Self::open(path, OpenMode::Existing)?;
        store
            .conn
            .pragma_update(None, "query_only", true)
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(store)
    }

    /// An in-memory store, for tests.
    pub fn open_in_memory() -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let mut conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(ctx("setting up the in-memory database"))?;
        migrate(&mut conn, &path)?;
        let mut store = Self { conn, path };
        store.index_backlog()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<usize> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
            .map(|v| usize::try_from(v).unwrap_or(0))
            .map_err(ctx("reading the schema version"))
    }

    /// Runs `work` in one write transaction: all of it commits, or none of it.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&mut Batch<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let started = std::time::Instant::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(ctx("starting a transaction"))?;
        let locked = started.elapsed();
        let mut batch = Batch { tx };
        let value = work(&mut batch)?;
        let worked = started.elapsed();
        batch.tx.commit().map_err(ctx("committing"))?;
        tracing::trace!(
            lock_wait = ?locked,
            work = ?(worked - locked),
            commit = ?(started.elapsed() - worked),
            "transaction"
        );
        Ok(value)
    }

    /// Read-only queries on the committed state.
    pub fn read(&self) -> Tx<'_> {
        Tx {
            conn: &self.conn,
            quiet: None,
        }
    }

    /// Runs `work` on one snapshot of the committed state: a read transaction,
    /// so every query in it sees the same commits. In WAL mode it neither waits
    /// for a writer nor holds one up.
    pub fn snapshot<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&Tx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(ctx("starting a read transaction"))?;
        let value = work(&Tx {
            conn: &tx,
            quiet: None,
        })?;
        // Nothing was written: ending it releases the snapshot.
        tx.rollback().map_err(ctx("ending a read transaction"))?;
        Ok(value)
    }

    /// Copies committed WAL content into the database without blocking writers
    /// (`PRAGMA wal_checkpoint(PASSIVE)`). The daemon calls it from a connection
    /// of its own so that writers rarely pay for the automatic checkpoint.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(ctx("checkpointing the write-ahead log"))
    }

    /// Integrity check for `disclosed check`.
    pub fn quick_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(ctx("checking database integrity"))
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let found = conn
        .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .map_err(ctx("reading the schema version"))?;
    let found = usize::try_from(found).unwrap_or(usize::MAX);
    if found > migrations::LATEST {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            supported: migrations::LATEST,
        });
    }
    migrations::migrations()
        .to_latest(conn)
        .map_err(|source| StoreError::Migrate {
            path: path.to_owned(),
            source,
        })
}

/// Whether `path` exists; a directory on the way that cannot be searched is an
/// error naming the path, not a missing database.
fn exists(path: &Path) -> Result<bool> {
    path.try_exists().map_err(|source| StoreError::Access {
        path: path.to_owned(),
        source,
    })
}

/// Creates the database file `0600` (and its missing directories `0700`)
/// whatever the umask. SQLite gives the `-wal` and `-shm` files it creates
/// beside it the database file's mode.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
    }
    let access = |source| StoreError::Access {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match file {
        // The mode given to open(2) is masked by the umask; fchmod is not.
        Ok(file) => file
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(access),
        // Another process created it meanwhile.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(access(err)),
    }
}

/// Locks a store shared between workers. A panic in another worker cannot leave
/// SQLite half-written (its transaction rolls back on drop), so a poisoned lock
/// is taken over rather than propagated.
pub fn lock(store: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An open write transaction.
pub struct Batch<'c> {
    tx: rusqlite::Transaction<'c>,
}

impl Batch<'_> {
    /// A handle for the statements of this transaction.
    pub fn tx(&self) -> Tx<'_> {
        Tx {
            conn: &self.tx,
            quiet: None,
        }
    }

    /// The transaction for mail that must cause none (an imported inbox):
    /// every mail queued through it is dropped, not written to the outbox,
    /// and counted in `dropped`.
    pub fn tx_sending_nothing<'a>(&'a self, dropped: &'a std::cell::Cell<u64>) -> Tx<'a> {
        Tx {
            conn: &self.tx,
            quiet: Some(dropped),
        }
    }
}

/// A handle for statements inside a transaction (or for reads). Its methods, in
/// the submodules of `store`, are the only SQL in the program.
#[derive(Clone, Copy)]
pub struct Tx<'c> {
    conn: &'c Connection,
    /// Set when nothing may be sent: the count of mails dropped.
    quiet: Option<&'c std::cell::Cell<u64>>,
}

#[cfg(test)]
mod tests;
