//! The sendmail transport: lettre runs `command -i -f <from> -- <recipients…>` with
//! the mail on standard input and checks its exit status.

use std::path::{Path, PathBuf};

use lettre::Transport as _;

use super::{Outgoing, SendError};

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

    pub fn send(&self, mail: &Outgoing<'_>) -> Result<(), SendError> {
        let envelope = super::lettre_envelope(&mail.envelope)?;
        // A failing MTA (queue full, not running) may well work later: retry.
        self.inner.send_raw(&envelope, mail.bytes).map_err(|err| {
            SendError::transient(format!("{} failed: {err}", self.command.display()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Envelope;
    use std::os::unix::fs::PermissionsExt;

    const RAW: &[u8] = b"Subject: hi\r\n\r\nbody\r\n";

    fn mail(recipients: &[String]) -> Outgoing<'_> {
        Outgoing {
            message_id: "disclosed.x@example.org",
            envelope: Envelope {
                from: "security@example.org",
                recipients,
            },
            bytes: RAW,
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
        let to = ["r@example.net".to_owned()];
        t.send(&mail(&to)).expect("sent");
        assert_eq!(std::fs::read(&out).expect("output"), RAW);
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
        let to = ["r@example.net".to_owned()];
        let err = t.send(&mail(&to)).expect_err("exit 75 accepted");
        assert!(err.transient);
        let missing = SendmailTransport::new(dir.path().join("nope"));
        assert!(missing.check().is_err());
    }
}
