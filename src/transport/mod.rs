//! Transports hand a rendered mail to the world: `file` (one `.eml` per mail, for
//! demos, tests and pick-up directories) and `sendmail` (a local MTA). SMTP joins
//! them later behind the same [`Transport::send_batch`].

mod file;
mod sendmail;

use crate::config::TransportKind;
use crate::store::QueuedMail;

pub use file::FileTransport;
pub use sendmail::SendmailTransport;

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    /// False when retrying the same mail cannot succeed (e.g. a rejected recipient).
    pub transient: bool,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: true,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: false,
        }
    }
}

#[derive(Debug)]
pub enum Transport {
    File(FileTransport),
    Sendmail(SendmailTransport),
}

impl Transport {
    pub fn from_config(kind: &TransportKind) -> Self {
        match kind {
            TransportKind::File { dir } => Self::File(FileTransport::new(dir.clone())),
            TransportKind::Sendmail { command } => {
                Self::Sendmail(SendmailTransport::new(command.clone()))
            }
        }
    }

    /// A short description for logs and `check`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(f) => format!("file transport into {}", f.dir().display()),
            Self::Sendmail(s) => format!("sendmail transport via {}", s.command().display()),
        }
    }

    /// Delivers each mail; the result for each, in order. Blocking: run it off the
    /// async threads.
    pub fn send_batch(&self, mails: &[QueuedMail]) -> Vec<Result<(), SendError>> {
        match self {
            Self::File(f) => f.send_batch(mails),
            Self::Sendmail(s) => mails.iter().map(|m| s.send(m)).collect(),
        }
    }

    /// Checks the transport could work (directory writable, command executable).
    pub fn check(&self) -> Result<(), SendError> {
        match self {
            Self::File(f) => f.check(),
            Self::Sendmail(s) => s.check(),
        }
    }
}
