//! `disclosed deliver`: take one message from a mail server's pipe (Postfix
//! `pipe(8)` or an alias, Exim's pipe transport, procmail) and make it durable.
//!
//! The message is spooled into the Maildir of `[source]`, the way a local
//! delivery agent writes one: into `tmp/`, flushed to disk, renamed into
//! `new/`, and the directory flushed. The daemon takes it from there as it
//! takes any Maildir message. The mail server's user therefore needs only the
//! config file and the Maildir: never the database or the team's secret keys.
//!
//! Exit codes are those of sysexits(3), which mail servers understand:
//! 0 once the message is on disk (or was already: the file name carries the
//! SHA-256 of the bytes, so a retried delivery finds it and writes nothing),
//! [`EX_DATAERR`] for a message larger than `limits.max_message_size` (the
//! mail server bounces it, so its sender learns at once), and [`EX_TEMPFAIL`]
//! for every other failure (the mail server keeps the message and retries).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::{Config, Draft, SourceConfig};

/// sysexits(3): the input data was incorrect. Postfix, Exim and procmail
/// return the message to its sender.
pub const EX_DATAERR: u8 = 65;
/// sysexits(3): a temporary failure. Mail servers keep the message and retry.
pub const EX_TEMPFAIL: u8 = 75;

/// Why a message was not spooled.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// The message is larger than the inbox accepts; nothing was written.
    #[error(
        "message of {size} bytes is larger than the {limit} bytes this inbox accepts \
         (limits.max_message_size); send a link to large files instead"
    )]
    TooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    Config(String),
    #[error(
        "`[source] kind = \"imap\"` in {}: deliver spools into a Maildir, so it needs \
         `[source] kind = \"maildir\"` (the only kind it supports)",
        path.display()
    )]
    NotMaildir { path: PathBuf },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot read the message from standard input: {0}")]
    Input(io::Error),
}

impl DeliverError {
    /// The sysexits(3) code the mail server acts on.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::TooLarge { .. } => EX_DATAERR,
            _ => EX_TEMPFAIL,
        }
    }
}

/// Where a delivered message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Written to this file in `new/`.
    Spooled(PathBuf),
    /// The same bytes were already in the Maildir (a retried delivery).
    AlreadySpooled(PathBuf),
}

/// Reads the configuration at `config_path` and spools `input` into its
/// Maildir. Only `[source]` and `[limits]` are needed: a problem elsewhere in
/// the file (which `check` reports, and which stops the daemon) does not make
/// a mail server hold the mail back.
pub fn deliver_with_config(
    config_path: &Path,
    input: impl Read,
    now: jiff::Timestamp,
) -> Result<Delivered, DeliverError> {
    let config = usable_config(config_path)?;
    let SourceConfig::Maildir { path, .. } = &config.source else {
        return Err(DeliverError::NotMaildir {
            path: config.path.clone(),
        });
    };
    spool(path, input, config.limits.max_message_size, now)
}

fn usable_config(path: &Path) -> Result<Config, DeliverError> {
    Draft::read(path)
        .and_then(Draft::into_usable)
        .map_err(|err| DeliverError::Config(err.to_string().replace('\n', " ")))
}

/// Spools `input` into the Maildir at `root`, refusing more than `max_size`
/// bytes.
pub fn spool(
    root: &Path,
    input: impl Read,
    max_size: u64,
    now: jiff::Timestamp,
) -> Result<Delivered, DeliverError> {
    for sub in ["tmp", "new", "cur"] {
        let dir = root.join(sub);
        if !dir.is_dir() {
            return Err(DeliverError::Io {
                action: "use the Maildir directory",
                path: dir,
                source: io::Error::new(io::ErrorKind::NotFound, "not a directory"),
            });
        }
    }
    let host = host_name();
    let tmp_path = root.join("tmp").join(format!(
        "{}.P{}N{}.{host}",
        now.as_second(),
        std::process::id(),
        now.subsec_nanosecond()
    ));
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| DeliverError::Io {
            action,
            path,
            source,
        }
    };
    // Exclusive: a name another delivery uses is never written over.
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(&tmp_path)
        .map_err(io("create", &tmp_path))?;
    let mut tmp = TmpFile {
        path: &tmp_path,
        keep: false,
    };
    // The umask of a mail server's pipe may leave the daemon's group out;
    // an explicit mode is not masked.
    file.set_permissions(fs::Permissions::from_mode(0o640))
        .map_err(io("set the mode of", &tmp_path))?;
    let sha256 = copy_hashed(input, &file, max_size, &tmp_path)?;
    file.sync_all().map_err(io("flush", &tmp_path))?;
    drop(file);

    if let Some(existing) = find_spooled(root, &sha256)? {
        return Ok(Delivered::AlreadySpooled(existing));
    }
    let target = root
        .join("new")
        .join(format!("{}.{sha256}.{host}", now.as_second()));
    fs::rename(&tmp_path, &target).map_err(io("move the message into", &target))?;
    tmp.keep = true;
    // The rename is durable only once the directory is.
    let new_dir = root.join("new");
    File::open(&new_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io("flush", &new_dir))?;
    Ok(Delivered::Spooled(target))
}

/// Removes a half-written spool file unless it was moved into `new/`.
struct TmpFile<'a> {
    path: &'a Path,
    keep: bool,
}

impl Drop for TmpFile<'_> {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(self.path);
        }
    }
}

/// Copies `input` to `out`, hashing it: the SHA-256 in hex. Over `max_size`
/// bytes it stops writing and reads the rest only to count it, so the
/// sender's mail server gets a clean exit status rather than a broken pipe. A
/// leading mbox `From ` envelope line (procmail and Exim add one; a header
/// line never has a space before its colon) is not part of the message.
fn copy_hashed(
    input: impl Read,
    out: &File,
    max_size: u64,
    path: &Path,
) -> Result<String, DeliverError> {
    let mut reader = BufReader::with_capacity(64 << 10, input);
    let mut copy = Copy {
        writer: io::BufWriter::with_capacity(64 << 10, out),
        hasher: Sha256::new(),
        size: 0,
        max_size,
        path,
    };
    let mut first = Vec::new();
    (&mut reader)
        .take(max_size.saturating_add(1))
        .read_until(b'\n', &mut first)
        .map_err(DeliverError::Input)?;
    let mut fits = first.starts_with(b"From ") || copy.put(&first)?;
    while fits {
        let chunk = reader.fill_buf().map_err(DeliverError::Input)?;
        if chunk.is_empty() {
            break;
        }
        let len = chunk.len();
        fits = copy.put(chunk)?;
        reader.consume(len);
    }
    if !fits {
        let rest = io::copy(&mut reader, &mut io::sink()).map_err(DeliverError::Input)?;
        return Err(DeliverError::TooLarge {
            size: copy.size + rest,
            limit: max_size,
        });
    }
    copy.writer.flush().map_err(|source| DeliverError::Io {
        action: "write",
        path: path.to_owned(),
        source,
    })?;
    if copy.size == 0 {
        return Err(DeliverError::Input(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "it is empty",
        )));
    }
    Ok(hex::encode(copy.hasher.finalize()))
}

/// The spool file being written, its hash and size so far.
struct Copy<'a> {
    writer: io::BufWriter<&'a File>,
    hasher: Sha256,
    size: u64,
    max_size: u64,
    path: &'a Path,
}

impl Copy<'_> {
    /// Appends `bytes`; `false`, writing nothing, once the limit is passed.
    fn put(&mut self, bytes: &[u8]) -> Result<bool, DeliverError> {
        self.size += bytes.len() as u64;
        if self.size > self.max_size {
            return Ok(false);
        }
        self.hasher.update(bytes);
        self.writer
            .write_all(bytes)
            .map_err(|source| DeliverError::Io {
                action: "write",
                path: self.path.to_owned(),
                source,
            })?;
        Ok(true)
    }
}

/// A message in `new/` or `cur/` whose file name carries `sha256`.
fn find_spooled(root: &Path, sha256: &str) -> Result<Option<PathBuf>, DeliverError> {
    for sub in ["new", "cur"] {
        let dir = root.join(sub);
        let entries = fs::read_dir(&dir).map_err(|source| DeliverError::Io {
            action: "list",
            path: dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let unique = name.split_once(":2,").map_or(name, |(u, _)| u);
            if unique.split('.').nth(1) == Some(sha256) {
                return Ok(Some(entry.path()));
            }
        }
    }
    Ok(None)
}

/// This machine's name for Maildir file names, with the characters the
/// Maildir convention forbids there replaced.
fn host_name() -> String {
    let name = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '/' => '-',
            ':' | '.' => '_',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maildir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["new", "cur", "tmp"] {
            fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        dir
    }

    fn now() -> jiff::Timestamp {
        "2026-12-04T10:00:00Z".parse().expect("time")
    }

    #[test]
    fn a_message_lands_in_new_named_by_its_hash() {
        let dir = maildir();
        let body = b"Subject: x\r\n\r\nhello\r\n";
        let Delivered::Spooled(path) = spool(dir.path(), &body[..], 1000, now()).expect("spooled")
        else {
            panic!("not spooled")
        };
        assert_eq!(fs::read(&path).expect("read"), body);
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(name.contains(&crate::parse::sha256_hex(body)), "{name}");
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).expect("tmp").count(),
            0
        );
    }

    #[test]
    fn the_same_bytes_are_spooled_once() {
        let dir = maildir();
        let body = b"Subject: x\r\n\r\nhello\r\n";
        spool(dir.path(), &body[..], 1000, now()).expect("first");
        let later = now() + jiff::SignedDuration::from_secs(600);
        let again = spool(dir.path(), &body[..], 1000, later).expect("second");
        assert!(matches!(again, Delivered::AlreadySpooled(_)), "{again:?}");
        assert_eq!(
            fs::read_dir(dir.path().join("new")).expect("new").count(),
            1
        );
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).expect("tmp").count(),
            0
        );
    }

    #[test]
    fn an_mbox_envelope_line_is_not_part_of_the_message() {
        let dir = maildir();
        let with = b"From rita@researcher.example Fri Dec  4 10:00:00 2026\nSubject: x\n\nhi\n";
        let Delivered::Spooled(path) = spool(dir.path(), &with[..], 1000, now()).expect("spool")
        else {
            panic!("not spooled")
        };
        assert_eq!(fs::read(path).expect("read"), b"Subject: x\n\nhi\n");
        let without = b"Subject: x\n\nhi\n";
        let again = spool(dir.path(), &without[..], 1000, now()).expect("spool");
        assert!(matches!(again, Delivered::AlreadySpooled(_)));
    }

    #[test]
    fn an_oversized_message_writes_nothing_and_is_a_data_error() {
        let dir = maildir();
        let body = vec![b'x'; 5000];
        let err = spool(dir.path(), &body[..], 1000, now()).expect_err("accepted");
        assert_eq!(err.exit_code(), EX_DATAERR, "{err}");
        for sub in ["tmp", "new"] {
            assert_eq!(fs::read_dir(dir.path().join(sub)).expect("ls").count(), 0);
        }
    }

    #[test]
    fn an_empty_input_is_a_temporary_failure() {
        let dir = maildir();
        let err = spool(dir.path(), &b""[..], 1000, now()).expect_err("accepted");
        assert_eq!(err.exit_code(), EX_TEMPFAIL);
    }
}
