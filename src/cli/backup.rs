//! `disclosed backup` and `disclosed restore`: a checked copy of the database
//! taken while the daemon runs, and putting one back in its place.
//!
//! A backup file appears under its name only once it is whole, checked and on
//! disk: it is written under a hidden temporary name beside its destination
//! (created `0600`, whatever the umask), checked with `PRAGMA
//! integrity_check`, synced, then linked (or, with `--force`, renamed) to its
//! name, and the directory synced. Whatever fails on the way removes the
//! temporary file. The database is the whole store: reports, messages (raw and
//! decrypted), attachments (inside the messages), outbox, keys. The side files
//! beside it are not copied: `<db>.lock` and `<db>.senders/` belong to running
//! processes, and `<db>.unrecorded` records mail already sent, which a restore
//! keeps where it is (its entries match a row by id and Message-ID).

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{
    DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::Timestamp;
use serde::Serialize;

use super::output::outln;
use super::{CliError, failed, suffixed};
use crate::config::Config;
use crate::store::{CopyError, Exclusive, InstanceLock, LockError, Store, check_copy};

/// The names `backup --dir` gives its files: `disclosed-backup-<UTC time>.sqlite3`.
const ROTATED_PREFIX: &str = "disclosed-backup-";
const ROTATED_SUFFIX: &str = ".sqlite3";
/// `YYYYMMDDTHHMMSSZ`
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// Where `disclosed backup` writes.
#[derive(Debug, Clone)]
pub enum Destination {
    /// One file, named by the caller.
    File(PathBuf),
    /// A dated file in a directory, keeping the newest `keep` of its own.
    Rotated { dir: PathBuf, keep: Option<usize> },
}

/// What `backup --json` prints.
#[derive(Debug, Serialize)]
pub struct BackupSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: usize,
    pub reports: u64,
    pub messages: u64,
    pub events: u64,
    pub outbox: u64,
    pub seconds: f64,
    /// Older backups of `--dir` deleted by `--keep`.
    pub deleted: Vec<PathBuf>,
}

/// A file under a hidden temporary name beside its final one, removed (with
/// any SQLite journal of it) unless [`Temp::keep`] was called.
struct Temp {
    path: PathBuf,
    armed: bool,
}

impl Temp {
    /// Creates `.<name>.<what>-<pid>-<random>` in `dir`, mode `0600`: open(2)
    /// with 0600 can only lose bits to the umask, so it is never readable by
    /// others, and fchmod then sets exactly 0600.
    fn create(dir: &Path, name: &str, what: &str) -> std::io::Result<(Self, File)> {
        let path = dir.join(format!(
            ".{name}.{what}-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let temp = Self { path, armed: true };
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok((temp, file))
    }

    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_file(suffixed(&self.path, "-journal"));
        }
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Whether `name` is one of the files `backup --dir` writes (and so one that
/// `--keep` may delete): nothing else in the directory is ever touched.
pub fn is_rotated_name(name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(ROTATED_PREFIX)
        .and_then(|rest| rest.strip_suffix(ROTATED_SUFFIX))
    else {
        return false;
    };
    let b = stamp.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

/// The file name `backup --dir` gives a backup taken at `now`.
pub fn rotated_name(now: Timestamp) -> String {
    format!("{ROTATED_PREFIX}{}{ROTATED_SUFFIX}", now.strftime(STAMP))
}

/// The backups of `dir` past the newest `keep`, oldest first. The names sort
/// as their times do.
fn expired(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_rotated_name(name))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    Ok(names
        .into_iter()
        .take(excess)
        .map(|n| dir.join(n))
        .collect())
}

/// Takes a backup of the configured database.
pub fn backup(
    config: &Config,
    destination: &Destination,
    force: bool,
    json: bool,
    now: Timestamp,
) -> Result<(), CliError> {
    let started = Instant::now();
    let database = &config.storage.database;
    let (target, rotation) = match destination {
        Destination::File(path) => (path.clone(), None),
        Destination::Rotated { dir, keep } => {
            if *keep == Some(0) {
                return Err(CliError::Usage(
                    "--keep 0 would delete the backup just taken; keep at least 1".to_owned(),
                ));
            }
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|err| {
                    failed(format!(
                        "cannot create the backup directory {}: {err}",
                        dir.display()
                    ))
                })?;
            (dir.join(rotated_name(now)), keep.map(|k| (dir.clone(), k)))
        }
    };
    let exists = target
        .try_exists()
        .map_err(|err| failed(format!("cannot look at {}: {err}", target.display())))?;
    if exists && !force {
        return Err(failed(format!(
            "{} already exists; pass --force to replace it",
            target.display()
        )));
    }
    if is_part_of(&target, database) {
        return Err(CliError::Usage(format!(
            "{} is the database or one of its files; write the backup elsewhere",
            target.display()
        )));
    }
    let dir = parent_of(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| CliError::Usage(format!("{} is not a file name", target.display())))?;
    let source = Store::open_for_backup(database).map_err(anyhow::Error::from)?;
    let cannot = |reason: String| {
        failed(format!(
            "cannot write the backup {}: {reason}; nothing was written",
            target.display()
        ))
    };
    let (temp, file) = Temp::create(&dir, &name, "partial")
        .map_err(|err| cannot(format!("cannot create a file in {}: {err}", dir.display())))?;
    let explain = |err: CopyError| match err {
        CopyError::Full { .. } => format!("no space left on the disk holding {}", dir.display()),
        other => other.to_string(),
    };
    source
        .backup_to(&temp.path)
        .map_err(|err| cannot(explain(err)))?;
    drop(source);
    let facts = check_copy(&temp.path, &target).map_err(|err| cannot(explain(err)))?;
    file.sync_all()
        .map_err(|err| cannot(format!("cannot sync it to disk: {err}")))?;
    drop(file);
    if force {
        std::fs::rename(&temp.path, &target)
    } else {
        // A link fails if the name appeared meanwhile: never overwritten
        // unasked. A filesystem without links (vfat) gets a checked rename.
        match std::fs::hard_link(&temp.path, &target) {
            Ok(()) => std::fs::remove_file(&temp.path),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Err(err),
            Err(_) if target.exists() => Err(std::io::ErrorKind::AlreadyExists.into()),
            Err(_) => std::fs::rename(&temp.path, &target),
        }
    }
    .map_err(|err| cannot(err.to_string()))?;
    temp.keep();
    sync_dir(&dir).map_err(|err| cannot(format!("cannot sync {}: {err}", dir.display())))?;
    let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    let mut deleted = Vec::new();
    if let Some((dir, keep)) = rotation {
        let old = expired(&dir, keep).map_err(|err| {
            failed(format!(
                "the backup {} is written, but listing {} for --keep failed: {err}",
                target.display(),
                dir.display()
            ))
        })?;
        for path in old {
            if path == target {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => deleted.push(path),
                Err(err) => eprintln!(
                    "warning: cannot delete the old backup {}: {err}",
                    path.display()
                ),
            }
        }
    }
    let counts = facts.counts;
    let summary = BackupSummary {
        path: target,
        bytes,
        schema_version: facts.schema_version,
        reports: counts.reports,
        messages: counts.messages,
        events: counts.events,
        outbox: counts.outbox_queued + counts.outbox_sent + counts.outbox_failed,
        seconds: started.elapsed().as_secs_f64(),
        deleted,
    };
    if json {
        super::output::json(&summary);
    } else {
        outln!(
            "backed up {} to {} ({} bytes, schema version {}, {} report(s), {} message(s)) in {:.2}s",
            database.display(),
            summary.path.display(),
            summary.bytes,
            summary.schema_version,
            summary.reports,
            summary.messages,
            summary.seconds
        );
        for path in &summary.deleted {
            outln!("deleted the older backup {}", path.display());
        }
    }
    Ok(())
}

/// Puts the backup `from` in place of the configured database, keeping the
/// current one aside as `<db>.before-restore-<time>`.
pub fn restore(config: &Config, from: &Path, now: Timestamp) -> Result<(), CliError> {
    let database = &config.storage.database;
    let mut source = File::open(from)
        .map_err(|err| failed(format!("cannot read the backup {}: {err}", from.display())))?;
    let dir = parent_of(database);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|err| failed(format!("cannot create {}: {err}", dir.display())))?;
    // Held until the new file is in place: a daemon starting meanwhile stops
    // with the exit code of a second `run`.
    let _instance = InstanceLock::acquire(database, now).map_err(|err| match err {
        held @ LockError::Held { .. } => CliError::Running(held),
        other => CliError::Other(other.into()),
    })?;
    let name = database
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "disclosed.sqlite3".to_owned());
    let refused =
        |reason: String| failed(format!("refusing to restore {}: {reason}", from.display()));
    let (temp, mut file) = Temp::create(&dir, &name, "restore")
        .map_err(|err| refused(format!("cannot create a file in {}: {err}", dir.display())))?;
    std::io::copy(&mut source, &mut file)
        .and_then(|_| file.flush())
        .map_err(|err| refused(format!("cannot copy it into {}: {err}", dir.display())))?;
    let facts = check_copy(&temp.path, from).map_err(|err| refused(err.to_string()))?;
    file.sync_all()
        .map_err(|err| refused(format!("cannot sync its copy: {err}")))?;
    drop(file);
    // Root restoring for the service user: the file keeps the owner of what
    // it replaces, so the daemon can still write it.
    let owner = std::fs::metadata(database)
        .or_else(|_| std::fs::metadata(&dir))
        .ok()
        .map(|m| (m.uid(), m.gid()));
    if let Some((uid, gid)) = owner {
        let mine = std::fs::metadata(&temp.path)
            .map(|m| (m.uid(), m.gid()))
            .ok();
        if mine != Some((uid, gid))
            && let Err(err) = std::os::unix::fs::chown(&temp.path, Some(uid), Some(gid))
        {
            eprintln!(
                "warning: cannot give the restored database the owner of {} ({uid}:{gid}): {err}",
                dir.display()
            );
        }
    }
    let present = database
        .try_exists()
        .map_err(|err| failed(format!("cannot look at {}: {err}", database.display())))?;
    let mut aside = None;
    let swap = |err: std::io::Error| {
        failed(format!(
            "cannot put the backup in place of {}: {err}",
            database.display()
        ))
    };
    if present {
        let exclusive = Exclusive::take(database).map_err(|err| refused(err.to_string()))?;
        remove_stale(database).map_err(swap)?;
        let kept = free_name(&suffixed(
            database,
            &format!(".before-restore-{}", now.strftime(STAMP)),
        ));
        std::fs::rename(database, &kept).map_err(swap)?;
        if let Err(err) = std::fs::rename(&temp.path, database) {
            // Never leave the store without a database: put it back.
            let _ = std::fs::rename(&kept, database);
            return Err(swap(err));
        }
        aside = Some(kept);
        exclusive.release();
    } else {
        remove_stale(database).map_err(swap)?;
        std::fs::rename(&temp.path, database).map_err(swap)?;
    }
    temp.keep();
    sync_dir(&dir).map_err(swap)?;
    let counts = facts.counts;
    outln!(
        "restored {} into {} (schema version {}, {} report(s), {} message(s))",
        from.display(),
        database.display(),
        facts.schema_version,
        counts.reports,
        counts.messages
    );
    if let Some(kept) = aside {
        outln!("the database it replaced is kept as {}", kept.display());
    }
    if facts.schema_version < Store::latest_schema_version() {
        outln!(
            "its schema (version {}) is migrated to version {} when it is next opened",
            facts.schema_version,
            Store::latest_schema_version()
        );
    }
    Ok(())
}

/// Whether `target` names `database` or a file beside it that belongs to it
/// (`-wal`, `.lock`, …): a backup written there would replace the live store.
fn is_part_of(target: &Path, database: &Path) -> bool {
    let canonical_dir = |p: &Path| std::fs::canonicalize(parent_of(p)).ok();
    let (Some(ours), Some(theirs)) = (canonical_dir(target), canonical_dir(database)) else {
        return false;
    };
    let (Some(name), Some(db)) = (target.file_name(), database.file_name()) else {
        return false;
    };
    ours == theirs
        && name.as_encoded_bytes().starts_with(db.as_encoded_bytes())
        && !is_rotated_name(&name.to_string_lossy())
}

/// Removes `-wal`, `-shm` and `-journal` files left at the database's name:
/// they belong to the database being replaced (or one long gone), and SQLite
/// would replay them into the restored one. Only called while no connection
/// has the database open.
fn remove_stale(database: &Path) -> std::io::Result<()> {
    for suffix in ["-wal", "-shm", "-journal"] {
        match std::fs::remove_file(suffixed(database, suffix)) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// `path`, or `path.N` for the first N not taken.
fn free_name(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_owned();
    }
    (1..)
        .map(|n| suffixed(path, &format!(".{n}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_touches_only_its_own_names() {
        let now: Timestamp = "2026-12-04T19:35:07Z".parse().expect("time");
        let name = rotated_name(now);
        assert_eq!(name, "disclosed-backup-20261204T193507Z.sqlite3");
        assert!(is_rotated_name(&name));
        for other in [
            "disclosed.sqlite3",
            "disclosed-backup-20261204T193507Z.sqlite3.bak",
            ".disclosed-backup-20261204T193507Z.sqlite3.partial-1-00000000",
            "disclosed-backup-2026120xT193507Z.sqlite3",
            "disclosed-backup-latest.sqlite3",
            "disclosed-backup-20261204T193507Z-journal",
        ] {
            assert!(!is_rotated_name(other), "{other}");
        }
    }

    #[test]
    fn keep_deletes_the_oldest_of_its_own_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        for day in 1..=5 {
            std::fs::write(
                dir.path()
                    .join(format!("disclosed-backup-202612{day:02}T030000Z.sqlite3")),
                b"x",
            )
            .expect("write");
        }
        std::fs::write(dir.path().join("notes.txt"), b"x").expect("write");
        std::fs::write(dir.path().join("disclosed-backup-old.sqlite3"), b"x").expect("write");
        let gone = expired(dir.path(), 2).expect("list");
        let names: Vec<_> = gone
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "disclosed-backup-20261201T030000Z.sqlite3",
                "disclosed-backup-20261202T030000Z.sqlite3",
                "disclosed-backup-20261203T030000Z.sqlite3",
            ]
        );
    }
}
