//! A Maildir source (<https://cr.yp.to/proto/maildir.html>): messages in `new/`,
//! and in `cur/` without the `S` flag, are pending. A processed message is moved
//! to `cur/` with `S` added to its flags — only after its transaction committed.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Incoming, Raw, SourceError};

/// A message waiting in the Maildir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub path: PathBuf,
    /// The unique part of the file name (before `:2,`).
    pub unique: String,
    pub flags: String,
}

#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

impl Maildir {
    /// Opens an existing Maildir (it must have `new/`, `cur/` and `tmp/`).
    pub fn open(root: &Path) -> Result<Self, SourceError> {
        for sub in ["new", "cur", "tmp"] {
            if !root.join(sub).is_dir() {
                return Err(SourceError::NotMaildir {
                    path: root.to_owned(),
                    reason: format!("it has no `{sub}/` directory"),
                });
            }
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The name under which this source's messages are recorded.
    pub fn source_name(&self) -> String {
        format!("maildir:{}", self.root.display())
    }

    /// Pending messages, oldest delivery first (Maildir names start with the time).
    pub fn pending(&self) -> Result<Vec<Pending>, SourceError> {
        let mut pending = self.list(false)?;
        pending.sort_by(|a, b| a.unique.cmp(&b.unique));
        Ok(pending)
    }

    /// Every message in `new/` and `cur/`, in no order; with `include_seen`,
    /// also those in `cur/` already marked seen (`S`).
    pub fn list(&self, include_seen: bool) -> Result<Vec<Pending>, SourceError> {
        let mut listed = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.root.join(sub);
            let io = |source| SourceError::Io {
                action: "list",
                path: dir.clone(),
                source,
            };
            for entry in fs::read_dir(&dir).map_err(io)? {
                let entry = entry.map_err(io)?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue; // not a name a Maildir writer makes
                };
                if name.starts_with('.') {
                    continue;
                }
                let (unique, flags) = match name.split_once(":2,") {
                    Some((u, f)) => (u.to_owned(), f.to_owned()),
                    None => (name.clone(), String::new()),
                };
                if !include_seen && sub == "cur" && flags.contains('S') {
                    continue;
                }
                listed.push(Pending {
                    path: entry.path(),
                    unique,
                    flags,
                });
            }
        }
        Ok(listed)
    }

    /// Reads a pending message; `Ok(None)` if it vanished meanwhile (another
    /// client moved it; it will be listed again where it went).
    pub fn load(&self, p: &Pending, max_size: u64) -> Result<Option<Incoming>, SourceError> {
        let io = |action| {
            move |source| SourceError::Io {
                action,
                path: p.path.clone(),
                source,
            }
        };
        let file = match File::open(&p.path) {
            Ok(f) => f,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io("open")(err)),
        };
        let size = file.metadata().map_err(io("stat"))?.len();
        let raw = if size <= max_size {
            let mut bytes = Vec::with_capacity(size as usize);
            file.take(max_size + 1)
                .read_to_end(&mut bytes)
                .map_err(io("read"))?;
            Raw::Loaded(bytes)
        } else {
            read_too_large(file, size).map_err(io("read"))?
        };
        Ok(Some(Incoming {
            location: p.unique.clone(),
            raw,
        }))
    }

    /// Moves the message to `cur/` with the `S` flag.
    pub fn mark_processed(&self, p: &Pending) -> Result<(), SourceError> {
        let mut flags: Vec<char> = p.flags.chars().filter(char::is_ascii_alphabetic).collect();
        if !flags.contains(&'S') {
            flags.push('S');
        }
        flags.sort_unstable();
        flags.dedup();
        let flags: String = flags.into_iter().collect();
        let target = self
            .root
            .join("cur")
            .join(format!("{}:2,{flags}", p.unique));
        match fs::rename(&p.path, &target) {
            Ok(()) => Ok(()),
            // Already moved by someone else: it is stored, nothing to do.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(SourceError::Io {
                action: "mark processed",
                path: p.path.clone(),
                source,
            }),
        }
    }
}

/// Reads the header block (at most 1 MiB of it) and hashes the whole file in
/// chunks, so memory stays small however large the message is.
fn read_too_large(file: File, size: u64) -> std::io::Result<Raw> {
    const HEAD_LIMIT: usize = 1 << 20;
    let mut reader = BufReader::with_capacity(64 << 10, file);
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut in_head = true;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        hasher.update(chunk);
        if in_head {
            let take = chunk.len().min(HEAD_LIMIT - head.len());
            head.extend_from_slice(&chunk[..take]);
            if let Some(end) = find_blank_line(&head) {
                head.truncate(end);
                in_head = false;
            } else if head.len() >= HEAD_LIMIT {
                in_head = false;
            }
        }
        let len = chunk.len();
        reader.consume(len);
    }
    Ok(Raw::TooLarge {
        size,
        head,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maildir() -> (tempfile::TempDir, Maildir) {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        let m = Maildir::open(dir.path()).expect("maildir");
        (dir, m)
    }

    #[test]
    fn pending_lists_new_and_unseen_cur() {
        let (dir, m) = maildir();
        fs::write(dir.path().join("new/2.b"), "x").expect("write");
        fs::write(dir.path().join("cur/1.a:2,"), "x").expect("write");
        fs::write(dir.path().join("cur/3.c:2,RS"), "x").expect("write");
        fs::write(dir.path().join("new/.hidden"), "x").expect("write");
        let names: Vec<_> = m
            .pending()
            .expect("list")
            .into_iter()
            .map(|p| p.unique)
            .collect();
        assert_eq!(names, ["1.a", "2.b"]);
    }

    #[test]
    fn mark_processed_moves_to_cur_with_seen_flag() {
        let (dir, m) = maildir();
        fs::write(dir.path().join("new/5.e"), "x").expect("write");
        fs::write(dir.path().join("cur/6.f:2,F"), "x").expect("write");
        for p in m.pending().expect("list") {
            m.mark_processed(&p).expect("mark");
        }
        assert!(dir.path().join("cur/5.e:2,S").exists());
        assert!(dir.path().join("cur/6.f:2,FS").exists());
        assert!(m.pending().expect("list").is_empty());
    }

    #[test]
    fn too_large_reads_only_the_head_but_hashes_everything() {
        let (dir, m) = maildir();
        let mut body = b"Subject: big\r\nFrom: a@b.c\r\n\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', 100_000));
        fs::write(dir.path().join("new/7.g"), &body).expect("write");
        let p = m.pending().expect("list").remove(0);
        let incoming = m.load(&p, 1000).expect("load").expect("present");
        let Raw::TooLarge { size, head, sha256 } = incoming.raw else {
            panic!("expected TooLarge");
        };
        assert_eq!(size, body.len() as u64);
        assert_eq!(head, b"Subject: big\r\nFrom: a@b.c\r\n\r\n");
        assert_eq!(sha256, crate::parse::sha256_hex(&body));
    }

    #[test]
    fn vanished_message_is_skipped() {
        let (dir, m) = maildir();
        fs::write(dir.path().join("new/8.h"), "x").expect("write");
        let p = m.pending().expect("list").remove(0);
        fs::remove_file(&p.path).expect("remove");
        assert!(m.load(&p, 100).expect("no error").is_none());
        m.mark_processed(&p).expect("vanished is fine");
    }

    #[test]
    fn not_a_maildir() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Maildir::open(dir.path()).expect_err("accepted");
        assert!(err.to_string().contains("new/"), "{err}");
    }
}
