//! The store: SQLite through rusqlite, and the only module that writes SQL.
//!
//! WAL mode with `synchronous=FULL`, so a commit is on disk before the source is
//! told the message is processed. Temporary journals stay in memory
//! (`temp_store`): on disk they cost a write per page touched. The automatic
//! checkpoint threshold is high because the daemon checkpoints from a second
//! connection ([`Store::checkpoint`]), off the writer's path. Writers work inside
//! [`Store::write`]: one transaction, all of it or nothing.

mod applied;
mod cursors;
mod internal;
mod keys;
mod messages;
mod migrations;
mod outbox;
mod quota;
mod read;
mod report_row;
mod reports;
mod sla;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use cursors::Cursor;
pub use internal::LineFingerprint;
pub use keys::{
    HeldMail, KeyConfirmation, KeyRecord, KeyStatus, MessageCrypto, NewKey, NewKeyConfirmation,
};
pub use messages::{NewAttachment, NewMessage, StoredMessage, ThreadedBy, UnknownThreadedBy};
pub use outbox::{NewMail, QueuedMail, SentMail};
pub use quota::{ReportAttachment, StoredBytes};
pub use read::{
    AttachmentView, Counts, EventView, KeyView, MessageView, OutboxView, ParticipantView,
    ReportDetail, ReportSummary,
};
pub use report_row::ReportRecord;
pub use reports::{NewEvent, Recorder};
pub use sla::{NoticeKind, SlaEvent};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {} does not exist; create it with `disclosed init`", path.display())]
    Missing { path: PathBuf },
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
        let exists = path.exists();
        if !exists && mode == OpenMode::Existing {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        if !exists && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
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
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
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
        Ok(Self { conn, path })
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
        Tx { conn: &self.conn }
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
        let value = work(&Tx { conn: &tx })?;
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
        Tx { conn: &self.tx }
    }
}

/// A handle for statements inside a transaction (or for reads). Its methods, in
/// the submodules of `store`, are the only SQL in the program.
#[derive(Clone, Copy)]
pub struct Tx<'c> {
    conn: &'c Connection,
}

#[cfg(test)]
mod tests;
