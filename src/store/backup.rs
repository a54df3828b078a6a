//! Copies of the database, and the checks a copy passes before it may replace
//! the database.
//!
//! A backup is SQLite's online backup of the live database, taken in one step:
//! one read transaction, so the copy is the committed state at one moment, and
//! in WAL mode that neither waits for the daemon's writers nor holds them up.
//! The copy is then a single self-contained file (rollback journal mode, no
//! `-wal` beside it) that passes `PRAGMA integrity_check`.
//!
//! Restoring checks the candidate the same way, and takes the current database
//! out of use first ([`Exclusive`]): it must be the only connection, so that no
//! other process keeps writing to a file that is about to be set aside, and no
//! `-wal` of the old database is left for the new one to replay.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, backup::StepResult};

use super::{Counts, Store, migrations};

/// Tables every disclosed store has had since its first schema version.
const DISCLOSED_TABLES: [&str; 6] = [
    "reports",
    "messages",
    "raw_messages",
    "events",
    "outbox",
    "outbox_raw",
];

/// How long a backup step waits for a lock before it gives up: the daemon's
/// write transactions are short, so only a wedged process holds one this long.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{} is not an SQLite database", path.display())]
    NotDatabase { path: PathBuf },
    #[error("{} is an SQLite database but not a disclosed store (it has no {missing} table)", path.display())]
    NotDisclosed {
        path: PathBuf,
        missing: &'static str,
    },
    #[error("{} has no disclosed schema version (user_version 0)", path.display())]
    NoSchema { path: PathBuf },
    #[error(
        "{} has schema version {found}, newer than this disclosed supports ({supported})",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: usize,
        supported: usize,
    },
    #[error("{} fails the integrity check: {detail}", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("no space left on the disk holding {}", path.display())]
    Full { path: PathBuf },
    #[error(
        "another process has {} open (a `run --once`, `sla tick`, or a command reading it); try again when it has finished",
        path.display()
    )]
    InUse { path: PathBuf },
    #[error("{} stayed locked for {}s; the process holding it may be stuck", path.display(), LOCK_PATIENCE.as_secs())]
    Locked { path: PathBuf },
    #[error("{} stayed in journal mode {mode} instead of a single file", path.display())]
    JournalMode { path: PathBuf, mode: String },
    #[error("{} (while {what}): {source}", path.display())]
    Sql {
        path: PathBuf,
        what: &'static str,
        source: rusqlite::Error,
    },
}

impl CopyError {
    fn sql(path: &Path, what: &'static str) -> impl FnOnce(rusqlite::Error) -> Self {
        let path = path.to_owned();
        move |source| match source.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Self::Full { path },
            Some(ErrorCode::NotADatabase) => Self::NotDatabase { path },
            _ => Self::Sql { path, what, source },
        }
    }
}

/// What a checked copy holds.
#[derive(Debug, Clone, Copy)]
pub struct CopyFacts {
    pub schema_version: usize,
    pub counts: Counts,
}

/// `err` about a temporary copy, told of the file the user named instead.
fn rename_in(err: CopyError, named: &Path) -> CopyError {
    let path = named.to_owned();
    match err {
        CopyError::NotDatabase { .. } => CopyError::NotDatabase { path },
        CopyError::Full { .. } => CopyError::Full { path },
        CopyError::Sql { what, source, .. } => CopyError::Sql { path, what, source },
        other => other,
    }
}

/// Opens an existing file read-write without creating it, migrating it or
/// changing its journal mode.
fn open_plain(path: &Path) -> Result<Connection, CopyError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(CopyError::sql(path, "opening"))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(CopyError::sql(path, "opening"))?;
    Ok(conn)
}

impl Store {
    /// Copies the committed state of this store into `target`, an empty file
    /// the caller created (with the mode it wants). The copy is in rollback
    /// journal mode, alone in its file; it is not synced (the caller does that
    /// once it is checked).
    pub fn backup_to(&self, target: &Path) -> Result<(), CopyError> {
        let mut dest = open_plain(target)?;
        // The caller syncs the finished file once; syncing every page would only slow it.
        dest.pragma_update(None, "synchronous", "OFF")
            .map_err(CopyError::sql(target, "preparing the copy"))?;
        {
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut dest)
                .map_err(CopyError::sql(target, "starting the backup"))?;
            let started = Instant::now();
            loop {
                // All pages in one step: one read transaction on the source, so
                // the copy is one moment's state and writers never restart it.
                match backup
                    .step(-1)
                    .map_err(CopyError::sql(target, "copying pages"))?
                {
                    StepResult::Done => break,
                    StepResult::More => {}
                    StepResult::Busy | StepResult::Locked => {
                        if started.elapsed() > LOCK_PATIENCE {
                            return Err(CopyError::Locked {
                                path: self.path.clone(),
                            });
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    // A future result: retry as if busy.
                    _ => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
        // The copied header says WAL; a backup is one file, so say rollback.
        let mode: String = dest
            .query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))
            .map_err(CopyError::sql(target, "setting the copy's journal mode"))?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(CopyError::JournalMode {
                path: target.to_owned(),
                mode,
            });
        }
        dest.close()
            .map_err(|(_, source)| CopyError::sql(target, "closing the copy")(source))
    }

    /// Opens an existing database as it is, to copy it: not migrated (a copy
    /// is of what is there), and only read.
    pub fn open_for_backup(path: &Path) -> Result<Self, super::StoreError> {
        if !super::exists(path)? {
            return Err(super::StoreError::Missing {
                path: path.to_owned(),
            });
        }
        let open_err = |source| super::StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = open_plain(path).map_err(|err| match err {
            CopyError::Sql { source, .. } => open_err(source),
            other => super::StoreError::Corrupt {
                what: "database file",
                detail: other.to_string(),
            },
        })?;
        conn.pragma_update(None, "query_only", true)
            .map_err(open_err)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }
}

/// Checks that `path` is a whole disclosed store this binary can open: an
/// SQLite database that passes `PRAGMA integrity_check`, with disclosed's
/// tables and a schema version not newer than this binary's (an older one is
/// migrated when it is next opened). Leaves it in rollback journal mode: the
/// file is used alone, with no `-wal` beside it. Errors name `named` (the file
/// the user gave, of which `file` is a copy).
pub fn check_copy(file: &Path, named: &Path) -> Result<CopyFacts, CopyError> {
    let path = named;
    let conn = open_plain(file).map_err(|err| rename_in(err, named))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))
        .map_err(CopyError::sql(path, "reading the journal mode"))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(CopyError::InUse {
            path: path.to_owned(),
        });
    }
    let mut problems = Vec::new();
    {
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(CopyError::sql(path, "checking integrity"))?;
        let mut rows = stmt
            .query([])
            .map_err(CopyError::sql(path, "checking integrity"))?;
        while let Some(row) = rows
            .next()
            .map_err(CopyError::sql(path, "checking integrity"))?
        {
            let line: String = row
                .get(0)
                .map_err(CopyError::sql(path, "checking integrity"))?;
            if line != "ok" && problems.len() < 5 {
                problems.push(line);
            }
        }
    }
    if !problems.is_empty() {
        return Err(CopyError::Damaged {
            path: path.to_owned(),
            detail: problems.join("; "),
        });
    }
    for table in DISCLOSED_TABLES {
        let found: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get(0),
            )
            .map_err(CopyError::sql(path, "reading the schema"))?;
        if found == 0 {
            return Err(CopyError::NotDisclosed {
                path: path.to_owned(),
                missing: table,
            });
        }
    }
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(CopyError::sql(path, "reading the schema version"))?;
    let schema_version = usize::try_from(version).unwrap_or(usize::MAX);
    if schema_version == 0 {
        return Err(CopyError::NoSchema {
            path: path.to_owned(),
        });
    }
    if schema_version > migrations::LATEST {
        return Err(CopyError::TooNew {
            path: path.to_owned(),
            found: schema_version,
            supported: migrations::LATEST,
        });
    }
    let store = Store {
        conn,
        path: file.to_owned(),
    };
    let counts = store.read().counts().map_err(|err| CopyError::Damaged {
        path: path.to_owned(),
        detail: err.to_string(),
    })?;
    Ok(CopyFacts {
        schema_version,
        counts,
    })
}

/// The current database taken out of use while it is replaced: the only
/// connection to it, in rollback journal mode (its `-wal` checkpointed into
/// it and removed), holding SQLite's exclusive lock until dropped.
#[derive(Debug)]
pub struct Exclusive {
    conn: Connection,
}

impl Exclusive {
    /// Fails with [`CopyError::InUse`] when another connection has the
    /// database open.
    pub fn take(path: &Path) -> Result<Self, CopyError> {
        let conn = open_plain(path)?;
        // Leaving WAL mode needs every other connection closed: the switch is
        // the test that none is open.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))
            .map_err(|source| match source.sqlite_error_code() {
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => CopyError::InUse {
                    path: path.to_owned(),
                },
                _ => CopyError::sql(path, "leaving WAL mode")(source),
            })?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(CopyError::InUse {
                path: path.to_owned(),
            });
        }
        conn.execute_batch("BEGIN EXCLUSIVE").map_err(|source| {
            match source.sqlite_error_code() {
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => CopyError::InUse {
                    path: path.to_owned(),
                },
                _ => CopyError::sql(path, "locking")(source),
            }
        })?;
        Ok(Self { conn })
    }

    /// Ends the lock: the file is no longer the database by then.
    pub fn release(self) {
        let _ = self.conn.execute_batch("ROLLBACK");
        let _ = self.conn.close();
    }
}
