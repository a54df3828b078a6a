//! Reading an mbox file with mail-parser's reader, which undoes `>From `
//! quoting. In front of it, [`Quoting`] decides which `From ` lines separate
//! messages: only one at the start of the file or after a blank line, shaped
//! like `From sender Mon Jan  1 00:00:00 2024`. Any other `From ` line (an
//! unquoted one in a body, as mboxo writers leave them) is quoted on the way
//! in, so the reader hands it back unchanged inside its message instead of
//! starting a new one there. One message is held in memory at a time.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use mail_parser::mailbox::mbox::MessageIterator;
use regex::bytes::Regex;

use super::{Failure, Item};
use crate::source::Raw;

#[derive(Debug, thiserror::Error)]
pub enum MboxError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is not an mbox file: it does not start with a `From ` line", path.display())]
    NotMbox { path: PathBuf },
}

/// The messages of an mbox file, in file order.
pub struct Mbox {
    messages: MessageIterator<BufReader<Quoting<BufReader<File>>>>,
    name: String,
    n: u64,
    max_size: u64,
    /// The file's modification time, for messages without a better date.
    file_time: Option<Timestamp>,
    read: Arc<AtomicU64>,
}

impl std::fmt::Debug for Mbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mbox").field("name", &self.name).finish()
    }
}

impl Mbox {
    /// Opens `path`; an empty file has no messages, a file that does not
    /// start with a `From ` line is refused (it may be a single message).
    pub fn open(path: &Path, max_size: u64) -> Result<Self, MboxError> {
        let io = |source| MboxError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let mut reader = BufReader::with_capacity(256 << 10, file);
        let start = reader.fill_buf().map_err(io)?;
        if !start.is_empty() && !start.starts_with(b"From ") {
            return Err(MboxError::NotMbox {
                path: path.to_owned(),
            });
        }
        let read = Arc::new(AtomicU64::new(0));
        Ok(Self {
            messages: MessageIterator::new(BufReader::new(Quoting::new(reader, read.clone()))),
            name: path.display().to_string(),
            n: 0,
            max_size,
            file_time: super::modified(&meta),
            read,
        })
    }

    /// Bytes of the file read so far, for progress.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }
}

impl Iterator for Mbox {
    type Item = Result<Item, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.messages.next()?;
        self.n += 1;
        let location = format!("{}#{}", self.name, self.n);
        Some(match next {
            Ok(m) => {
                let delivered = match m.internal_date() {
                    0 => None,
                    s => i64::try_from(s)
                        .ok()
                        .and_then(|s| Timestamp::from_second(s).ok()),
                };
                let contents = without_separator_line(m.contents());
                let raw = if contents.len() as u64 > self.max_size {
                    too_large(contents)
                } else {
                    Raw::Loaded(contents.to_vec())
                };
                Ok(Item {
                    location,
                    raw,
                    delivered,
                    file: self.file_time,
                })
            }
            Err(err) => Err(Failure {
                location,
                reason: format!("cannot read the file: {err}"),
            }),
        })
    }
}

/// The message without the blank line the mbox format puts after each one,
/// so that its bytes (and hash) are those it was delivered with.
fn without_separator_line(contents: &[u8]) -> &[u8] {
    if contents.ends_with(b"\r\n\r\n") {
        &contents[..contents.len() - 2]
    } else if contents.ends_with(b"\n\n") {
        &contents[..contents.len() - 1]
    } else {
        contents
    }
}

/// A message above `[limits] max_message_size`, as the live sources keep
/// it: the header block (at most 1 MiB) and the hash of all of it.
fn too_large(contents: &[u8]) -> Raw {
    const HEAD_LIMIT: usize = 1 << 20;
    let head = &contents[..contents.len().min(HEAD_LIMIT)];
    let end = head
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| p + 2)
        .into_iter()
        .chain(
            head.windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 4),
        )
        .min()
        .unwrap_or(head.len());
    Raw::TooLarge {
        size: contents.len() as u64,
        head: head[..end].to_vec(),
        sha256: crate::parse::sha256_hex(contents),
    }
}

/// Whether `line` is shaped like a separator: `From `, the envelope sender,
/// then a ctime date (`Mon Jan  1 00:00:00 2024`, a zone may precede the year).
fn separator_shape(line: &[u8]) -> bool {
    static SHAPE: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    SHAPE
        .get_or_init(|| {
            Regex::new(
                r"^From \S+\s+[A-Za-z]{3}\s+[A-Za-z]{3}\s+\d{1,2}\s+\d{1,2}:\d{2}(:\d{2})?\s+(\S+\s+)?\d{4}\s*$",
            )
            .ok()
        })
        .as_ref()
        .is_some_and(|re| re.is_match(line))
}

/// Passes an mbox through line by line, quoting each `From ` line that does
/// not separate messages (see the module's description).
pub struct Quoting<R> {
    inner: R,
    line: Vec<u8>,
    pos: usize,
    /// The line before was blank (or there was none).
    after_blank: bool,
    read: Arc<AtomicU64>,
}

impl<R: BufRead> Quoting<R> {
    pub fn new(inner: R, read: Arc<AtomicU64>) -> Self {
        Self {
            inner,
            line: Vec::new(),
            pos: 0,
            after_blank: true,
            read,
        }
    }

    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        self.pos = 0;
        let n = self.inner.read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(false);
        }
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        let text = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let separates = self.after_blank && separator_shape(text);
        let blank = text.is_empty();
        if self.line.starts_with(b"From ") && !separates {
            self.line.insert(0, b'>');
        }
        self.after_blank = blank;
        Ok(true)
    }
}

impl<R: BufRead> Read for Quoting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.line.len() && !self.next_line()? {
            return Ok(0);
        }
        let n = buf.len().min(self.line.len() - self.pos);
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(mbox: &[u8]) -> Vec<Vec<u8>> {
        let quoting = Quoting::new(mbox, Arc::new(AtomicU64::new(0)));
        MessageIterator::new(BufReader::new(quoting))
            .map(|m| without_separator_line(m.expect("read").contents()).to_vec())
            .collect()
    }

    #[test]
    fn messages_are_split_at_separator_lines_and_from_quoting_is_undone() {
        let mbox =
            b"From a@x.example Mon Jan  6 10:00:00 2020\nSubject: one\n\n>From the start\nbody\n\n\
From b@x.example Tue Jan  7 11:00:00 2020\nSubject: two\n\nbody\n";
        let found = messages(mbox);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0], b"Subject: one\n\nFrom the start\nbody\n");
        assert_eq!(found[1], b"Subject: two\n\nbody\n");
    }

    #[test]
    fn an_unquoted_from_line_in_a_body_does_not_start_a_message() {
        // Neither after a text line, nor after a blank line when it is not
        // shaped like a separator; the body keeps its bytes.
        let mbox = b"From a@x.example Mon Jan  6 10:00:00 2020\nSubject: one\n\nhello\nFrom here on it breaks\n\n\
From my point of view, 10:00 in 2020\nbye\n";
        let found = messages(mbox);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0],
            b"Subject: one\n\nhello\nFrom here on it breaks\n\nFrom my point of view, 10:00 in 2020\nbye\n"
        );
    }

    #[test]
    fn separator_lines_of_common_writers_are_recognised() {
        for line in [
            "From MAILER-DAEMON Fri Jul  8 12:08:34 2011",
            "From - Tue Oct 10 10:10:10 2017",
            "From 1700000000000000000@xxx Wed Jan 15 10:00:00 +0000 2020",
            "From r@x.example  Sat Dec 31 23:59:59 2022",
        ] {
            assert!(separator_shape(line.as_bytes()), "{line}");
        }
        assert!(!separator_shape(b"From the start"));
    }

    #[test]
    fn a_message_above_the_limit_keeps_its_head_and_the_hash_of_all_of_it() {
        let mut body = b"Subject: big\r\n\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', 1000));
        let Raw::TooLarge { size, head, sha256 } = too_large(&body) else {
            panic!("not too large");
        };
        assert_eq!(size, body.len() as u64);
        assert_eq!(head, b"Subject: big\r\n\r\n");
        assert_eq!(sha256, crate::parse::sha256_hex(&body));
    }
}
