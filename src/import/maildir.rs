//! Reading every message of a Maildir (`new/` and `cur/`, read or not),
//! oldest delivery first, without moving or flagging any: the folder is only
//! read. A Maildir file name starts with its delivery time, which survives a
//! copy that resets the files' times.

use std::fs;
use std::path::Path;

use jiff::Timestamp;

use super::{Failure, Item};
use crate::source::{Maildir, Pending, SourceError};

/// The messages of a Maildir, listed when opened.
#[derive(Debug)]
pub struct MaildirReader {
    maildir: Maildir,
    files: std::vec::IntoIter<(Option<Timestamp>, Pending)>,
    max_size: u64,
}

impl MaildirReader {
    pub fn open(root: &Path, max_size: u64) -> Result<Self, SourceError> {
        let maildir = Maildir::open(root)?;
        let mut files: Vec<_> = maildir
            .list(true)?
            .into_iter()
            .map(|p| (delivered(&p.unique), p))
            .collect();
        files.sort_by(|a, b| (a.0, &a.1.unique).cmp(&(b.0, &b.1.unique)));
        Ok(Self {
            maildir,
            files: files.into_iter(),
            max_size,
        })
    }

    /// How many messages there are.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.len() == 0
    }
}

/// The delivery time a Maildir file name starts with (`1577836800.M1P2.host`).
pub fn delivered(unique: &str) -> Option<Timestamp> {
    let seconds = unique.split('.').next()?.parse::<i64>().ok()?;
    Timestamp::from_second(seconds).ok()
}

impl Iterator for MaildirReader {
    type Item = Result<Item, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (delivered, p) = self.files.next()?;
            let file = fs::metadata(&p.path).ok().and_then(|m| super::modified(&m));
            match self.maildir.load(&p, self.max_size) {
                // Moved away since it was listed: nothing to import.
                Ok(None) => continue,
                Ok(Some(incoming)) => {
                    return Some(Ok(Item {
                        location: incoming.location,
                        raw: incoming.raw,
                        delivered,
                        file,
                    }));
                }
                Err(err) => {
                    return Some(Err(Failure {
                        location: p.unique,
                        reason: err.to_string(),
                    }));
                }
            }
        }
    }
}
