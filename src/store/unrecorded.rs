//! Mail a transport accepted while the store could not record it: a small side
//! file beside the database, `<database>.unrecorded`, so that a restart knows
//! it too and no sender hands those rows to a transport again before they are
//! marked sent.
//!
//! The file is written ahead of need: a sender fills it with zeros when it
//! starts, so that recording an entry later overwrites blocks that are already
//! allocated and still works on a disk that has since filled up. Entries are
//! lines `<outbox id> <Message-ID> <sent at, ms>` up to the first zero byte;
//! every change holds a lock on the file (several senders share it) and is
//! synced before it returns.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{from_ms, lock::beside, ms};

/// Room for a few thousand entries; a pass records at most a batch of rows.
const RESERVED: u64 = 64 * 1024;

/// A mail the transport accepted whose row is not yet marked sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unrecorded {
    pub outbox_id: i64,
    pub message_id: String,
    pub sent_at: Timestamp,
}

impl Unrecorded {
    fn line(&self) -> String {
        format!(
            "{} {} {}\n",
            self.outbox_id,
            self.message_id,
            ms(self.sent_at)
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split(' ');
        let outbox_id = fields.next()?.parse().ok()?;
        let message_id = fields.next().filter(|m| !m.is_empty())?.to_owned();
        let sent_at = from_ms(fields.next()?.parse().ok()?);
        fields.next().is_none().then_some(Self {
            outbox_id,
            message_id,
            sent_at,
        })
    }
}

/// The side file of one database, and what this process holds in memory (in
/// case the file cannot be written either).
#[derive(Debug)]
pub struct UnrecordedLog {
    path: PathBuf,
    held: BTreeSet<Unrecorded>,
}

impl UnrecordedLog {
    /// The log of `database`; reserves the file's space if it can (a failure
    /// is logged: entries are then kept in memory only).
    pub fn open(database: &Path) -> Self {
        let path = beside(database, ".unrecorded");
        if let Err(err) = reserve(&path) {
            tracing::warn!(file = %path.display(), error = %err, "cannot reserve space for recording sends the store could not record");
        }
        Self {
            path,
            held: BTreeSet::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything held: in memory, and in the file (written by this or
    /// another sender, or before a restart).
    pub fn pending(&self) -> Vec<Unrecorded> {
        let mut all = self.held.clone();
        match self.with_file(|file| Ok(entries(&read_used(file)?))) {
            Ok(found) => all.extend(found),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                tracing::error!(file = %self.path.display(), error = %err, "cannot read the sends awaiting their record");
            }
        }
        // One entry per row, should the file and memory disagree on a time.
        let mut seen = BTreeSet::new();
        all.into_iter()
            .filter(|e| seen.insert((e.outbox_id, e.message_id.clone())))
            .collect()
    }

    /// Remembers `sent` in memory and in the file (synced). Returns whether
    /// the file has them.
    pub fn hold(&mut self, sent: &[Unrecorded]) -> bool {
        self.held.extend(sent.iter().cloned());
        let written = self.with_file(|file| {
            let used = read_used(file)?;
            let mut text = String::new();
            for entry in sent {
                text.push_str(&entry.line());
            }
            file.write_all_at(text.as_bytes(), used.len() as u64)?;
            file.sync_data()
        });
        match written {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(file = %self.path.display(), error = %err, "cannot write the sends awaiting their record; only this process knows them");
                false
            }
        }
    }

    /// Forgets `recorded` (now marked in the store), in memory and in the file.
    pub fn forget(&mut self, recorded: &[Unrecorded]) {
        let done = |e: &Unrecorded| {
            recorded
                .iter()
                .any(|r| r.outbox_id == e.outbox_id && r.message_id == e.message_id)
        };
        self.held.retain(|e| !done(e));
        let rewritten = self.with_file(|file| {
            let used = read_used(file)?;
            let kept: String = entries(&used)
                .into_iter()
                .filter(|e| !done(e))
                .map(|e| e.line())
                .collect();
            let mut bytes = kept.into_bytes();
            bytes.resize(bytes.len().max(used.len()), 0);
            file.write_all_at(&bytes, 0)?;
            file.sync_data()
        });
        if let Err(err) = rewritten
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(file = %self.path.display(), error = %err, "cannot clear recorded sends from the side file; they are recorded already and will be skipped");
        }
    }

    /// Runs `work` on the file under its lock.
    fn with_file<T>(
        &self,
        work: impl FnOnce(&mut File) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        let mut file = OpenOptions::new().read(true).write(true).open(&self.path)?;
        file.lock()?;
        let result = work(&mut file);
        let _ = file.unlock();
        result
    }
}

/// Creates the file if needed and fills it with zeros up to [`RESERVED`].
fn reserve(path: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.lock()?;
    let len = file.metadata()?.len();
    if len < RESERVED {
        // Real zeros, not `set_len`: a sparse file reserves nothing.
        let zeros = vec![0u8; usize::try_from(RESERVED - len).unwrap_or(0)];
        file.write_all_at(&zeros, len)?;
        file.sync_all()?;
    }
    file.unlock()
}

/// The used part of the file: up to its first zero byte.
fn read_used(file: &mut File) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.truncate(end);
    Ok(bytes)
}

fn entries(used: &[u8]) -> Vec<Unrecorded> {
    String::from_utf8_lossy(used)
        .lines()
        .filter_map(|line| {
            let entry = Unrecorded::parse(line);
            if entry.is_none() {
                tracing::warn!(line = %line, "skipping an unreadable line in the side file of unrecorded sends");
            }
            entry
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64) -> Unrecorded {
        Unrecorded {
            outbox_id: id,
            message_id: format!("disclosed.{id}@example.org"),
            sent_at: from_ms(1_700_000_000_000 + id),
        }
    }

    #[test]
    fn held_sends_survive_a_restart_until_forgotten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("d.sqlite3");
        let mut log = UnrecordedLog::open(&db);
        assert_eq!(
            std::fs::metadata(log.path()).expect("reserved").len(),
            RESERVED
        );
        assert!(log.pending().is_empty());
        assert!(log.hold(&[entry(1), entry(2)]));
        assert!(log.hold(&[entry(3)]));
        // A restart: a new process knows only the file.
        let mut again = UnrecordedLog::open(&db);
        assert_eq!(again.pending(), [entry(1), entry(2), entry(3)]);
        again.forget(&[entry(1), entry(3)]);
        assert_eq!(UnrecordedLog::open(&db).pending(), [entry(2)]);
        assert_eq!(
            log.pending(),
            [entry(1), entry(2), entry(3)],
            "log still holds its own in memory"
        );
        log.forget(&[entry(1), entry(2), entry(3)]);
        assert!(UnrecordedLog::open(&db).pending().is_empty());
        assert_eq!(
            std::fs::metadata(log.path()).expect("kept").len(),
            RESERVED,
            "the reserved space stays"
        );
    }

    #[test]
    fn a_garbled_line_is_skipped_not_trusted() {
        assert_eq!(
            Unrecorded::parse("12 id@x 5"),
            Some(Unrecorded {
                outbox_id: 12,
                message_id: "id@x".into(),
                sent_at: from_ms(5),
            })
        );
        for bad in ["", "12", "x id 5", "12 id", "12 id 5 extra", "12  5"] {
            assert_eq!(Unrecorded::parse(bad), None, "{bad:?}");
        }
    }
}
