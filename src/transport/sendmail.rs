//! The sendmail transport: lettre runs `command -i -f <from> -- <recipients…>` with
//! the mail on standard input and checks its exit status.

use std::path::{Path, PathBuf};

use lettre::Transport as _;

use super::SendError;
use crate::store::QueuedMail;

#[derive(Debug)]
pub struct SendmailTransport {
    command: PathBuf,
    inner: lettre::SendmailTransport,
}

impl SendmailTransport {
    pub fn new(command: PathBuf) -> Self {
        Self {
            inner: lettre::SendmailTransport::new_with_command(command.as_os_str()),
            command,
        }
    }

    pub fn command(&self) -> &Path {
        &self.command
    }

    pub fn check(&self) -> Result<(), SendError> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&self.command)
            .map_err(|err| SendError::permanent(format!("{}: {err}", self.command.display())))?;
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            Ok(())
        } else {
            Err(SendError::permanent(format!(
                "{} is not an executable file",
                self.command.display()
            )))
        }
    }

    pub fn send(&self, mail: &QueuedMail) -> Result<(), SendError> {
        let envelope = super::envelope(mail)?;
        // A failing MTA (queue full, not running) may well work later: retry.
        self.inner.send_raw(&envelope, &mail.raw).map_err(|err| {
            SendError::transient(format!("{} failed: {err}", self.command.display()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use std::os::unix::fs::PermissionsExt;

    fn mail() -> QueuedMail {
        QueuedMail {
            report_id: None,
            kind: "acknowledgement".into(),
            id: 1,
            message_id: "disclosed.x@example.org".into(),
            envelope_from: "security@example.org".into(),
            recipients: vec!["r@example.net".into()],
            raw: b"Subject: hi\r\n\r\nbody\r\n".to_vec(),
            attempts: 0,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn script(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("fake-sendmail");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    fn pipes_the_message_with_envelope_arguments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let cmd = script(
            dir.path(),
            &format!("echo \"$@\" > {0}.args; cat > {0}", out.display()),
        );
        let t = SendmailTransport::new(cmd);
        t.check().expect("executable");
        t.send(&mail()).expect("sent");
        assert_eq!(std::fs::read(&out).expect("output"), mail().raw);
        let args = std::fs::read_to_string(dir.path().join("out.args")).expect("args");
        assert!(args.contains("-f security@example.org"), "{args}");
        assert!(args.contains("r@example.net"), "{args}");
    }

    #[test]
    fn a_failing_command_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = SendmailTransport::new(script(
            dir.path(),
            "cat >/dev/null; echo queue full >&2; exit 75",
        ));
        let err = t.send(&mail()).expect_err("exit 75 accepted");
        assert!(err.transient);
        let missing = SendmailTransport::new(dir.path().join("nope"));
        assert!(missing.check().is_err());
    }
}
