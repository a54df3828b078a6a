//! The file transport: each mail becomes `<Message-ID>.eml` in a directory. It is
//! written in `.tmp/` beside them and renamed into place (as Maildir does), so a
//! reader never sees half a mail and the large directory changes once per mail.
//! The name comes from the Message-ID, so sending the same mail again rewrites
//! the same file. The envelope sender is recorded as a `Return-Path:` line on top,
//! as a delivery agent records it, so the file shows where a bounce would go.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{Outgoing, SendError};

#[derive(Debug)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.join(".tmp")
    }

    /// The file a mail is written to.
    pub fn path_for(&self, message_id: &str) -> PathBuf {
        let name: String = message_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".-_@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{name}.eml"))
    }

    pub fn check(&self) -> Result<(), SendError> {
        fs::create_dir_all(&self.dir).map_err(|err| {
            SendError::transient(format!("cannot create {}: {err}", self.dir.display()))
        })?;
        let probe = self.dir.join(".disclosed-write-check");
        fs::write(&probe, b"")
            .and_then(|()| fs::remove_file(&probe))
            .map_err(|err| {
                SendError::transient(format!("cannot write into {}: {err}", self.dir.display()))
            })
    }

    pub fn send_batch(&self, mails: &[Outgoing<'_>]) -> Vec<Result<(), SendError>> {
        if let Err(err) = fs::create_dir_all(self.tmp_dir()) {
            let err =
                SendError::transient(format!("cannot create {}: {err}", self.tmp_dir().display()));
            return mails.iter().map(|_| Err(err.clone())).collect();
        }
        let mut results: Vec<Result<(), SendError>> =
            mails.iter().map(|m| self.write_one(m)).collect();
        // One filesystem sync for the whole batch instead of an fsync per file
        // (about 3 ms each here): the rows are only marked sent after it.
        if results.iter().any(Result::is_ok)
            && let Err(err) = sync_filesystem(&self.dir)
        {
            for r in results.iter_mut().filter(|r| r.is_ok()) {
                *r = Err(SendError::transient(format!(
                    "cannot sync {}: {err}",
                    self.dir.display()
                )));
            }
        }
        results
    }

    fn write_one(&self, mail: &Outgoing<'_>) -> Result<(), SendError> {
        let target = self.path_for(mail.message_id);
        let tmp = self
            .tmp_dir()
            .join(target.file_name().unwrap_or(std::ffi::OsStr::new("mail")));
        let write = || -> std::io::Result<()> {
            let mut file = File::options()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&return_path_line(mail))?;
            file.write_all(mail.bytes)?;
            drop(file);
            fs::rename(&tmp, &target)
        };
        write().map_err(|err| {
            let _ = fs::remove_file(&tmp);
            SendError::transient(format!("cannot write {}: {err}", target.display()))
        })
    }
}

/// `Return-Path: <envelope sender>` in the mail's own line ending.
fn return_path_line(mail: &Outgoing<'_>) -> Vec<u8> {
    let first_line = mail.bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let eol = if first_line.ends_with(b"\r") {
        "\r\n"
    } else {
        "\n"
    };
    let sender: String = mail
        .envelope
        .from
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace() && !"<>".contains(*c))
        .collect();
    format!("Return-Path: <{sender}>{eol}").into_bytes()
}

/// `syncfs(2)` on the filesystem holding `dir`.
fn sync_filesystem(dir: &Path) -> std::io::Result<()> {
    let handle = File::open(dir)?;
    rustix::fs::syncfs(&handle)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Envelope;

    const RECIPIENTS: &[String] = &[];

    fn mail(id: &str) -> Outgoing<'_> {
        Outgoing {
            message_id: id,
            envelope: Envelope {
                from: "security@example.org",
                recipients: RECIPIENTS,
            },
            bytes: b"Subject: hi\r\n\r\nbody\r\n",
        }
    }

    #[test]
    fn writes_one_file_per_message_id_and_rewrites_on_resend() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = FileTransport::new(dir.path().join("out"));
        let results = t.send_batch(&[mail("disclosed.a@example.org"), mail("x/../y@z")]);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert!(t.path_for("disclosed.a@example.org").exists());
        assert_eq!(
            t.path_for("x/../y@z").file_name().and_then(|n| n.to_str()),
            Some("x_.._y@z.eml")
        );
        t.send_batch(&[mail("disclosed.a@example.org")]);
        let count = |d: &Path| fs::read_dir(d).expect("read dir").count();
        assert_eq!(
            count(&dir.path().join("out")),
            3,
            "two mails and .tmp: a resend adds no file"
        );
        assert_eq!(count(&dir.path().join("out/.tmp")), 0, "no temp file left");
    }

    #[test]
    fn the_envelope_sender_is_recorded_as_the_return_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = FileTransport::new(dir.path().join("out"));
        let mut m = mail("disclosed.b@example.org");
        m.envelope.from = "security+bounce-0123@example.org";
        assert!(t.send_batch(&[m])[0].is_ok());
        let written = fs::read(t.path_for("disclosed.b@example.org")).expect("read");
        let mut want = b"Return-Path: <security+bounce-0123@example.org>\r\n".to_vec();
        want.extend_from_slice(m.bytes);
        assert_eq!(written, want);
    }

    #[test]
    fn unwritable_directory_is_a_transient_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"").expect("write");
        let t = FileTransport::new(blocker.join("out"));
        let results = t.send_batch(&[mail("a@b")]);
        assert!(matches!(&results[0], Err(e) if e.transient));
        assert!(t.check().is_err());
    }
}
