//! Transports hand a rendered mail to the world: `file` (one `.eml` per mail, for
//! demos, tests and pick-up directories), `sendmail` (a local MTA) and `smtp` (a
//! mail server), all behind [`Transport::send_batch`].

mod file;
mod sendmail;
mod smtp;

use crate::config::TransportKind;
use crate::store::QueuedMail;

pub use file::FileTransport;
pub use sendmail::SendmailTransport;
pub use smtp::{SmtpSetupError, SmtpTransport};

/// The SMTP envelope of a queued mail; an address lettre cannot take fails the
/// mail for good.
fn envelope(mail: &QueuedMail) -> Result<lettre::address::Envelope, SendError> {
    let parse = |a: &str| {
        a.parse::<lettre::Address>()
            .map_err(|err| SendError::permanent(format!("invalid address `{a}`: {err}")))
    };
    let from = parse(&mail.envelope_from)?;
    let to = mail
        .recipients
        .iter()
        .map(|r| parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    lettre::address::Envelope::new(Some(from), to)
        .map_err(|err| SendError::permanent(format!("invalid envelope: {err}")))
}

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
    Smtp(Box<SmtpTransport>),
}

impl Transport {
    /// `hello_name` is the domain we greet SMTP servers with. The SMTP transport
    /// must be built inside the tokio runtime.
    pub fn from_config(kind: &TransportKind, hello_name: &str) -> Result<Self, SmtpSetupError> {
        Ok(match kind {
            TransportKind::File { dir } => Self::File(FileTransport::new(dir.clone())),
            TransportKind::Sendmail { command } => {
                Self::Sendmail(SendmailTransport::new(command.clone()))
            }
            TransportKind::Smtp(config) => {
                Self::Smtp(Box::new(SmtpTransport::new(config, hello_name)?))
            }
        })
    }

    /// A short description for logs and `check`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(f) => format!("file transport into {}", f.dir().display()),
            Self::Sendmail(s) => format!("sendmail transport via {}", s.command().display()),
            Self::Smtp(s) => format!("SMTP transport to {} ({})", s.server(), s.server().tls),
        }
    }

    /// How many mails to hand over at once. The file transport syncs once per
    /// batch; mail sent over the network is sent, and recorded, one by one, so a
    /// crash can resend at most the one mail in flight.
    pub fn batch_size(&self) -> usize {
        match self {
            Self::File(_) => 512,
            Self::Sendmail(_) | Self::Smtp(_) => 1,
        }
    }

    /// Delivers each mail; the result for each, in order. Blocking: run it off the
    /// async threads.
    pub fn send_batch(&self, mails: &[QueuedMail]) -> Vec<Result<(), SendError>> {
        match self {
            Self::File(f) => f.send_batch(mails),
            Self::Sendmail(s) => mails.iter().map(|m| s.send(m)).collect(),
            Self::Smtp(s) => s.send_batch(mails),
        }
    }

    /// Checks the transport could work without reaching out (directory
    /// writable, command executable); an SMTP server is checked by
    /// [`SmtpTransport::check`].
    pub fn check_local(&self) -> Result<(), SendError> {
        match self {
            Self::File(f) => f.check(),
            Self::Sendmail(s) => s.check(),
            Self::Smtp(_) => Ok(()),
        }
    }
}
