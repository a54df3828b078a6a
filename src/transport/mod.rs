//! Transports hand a rendered mail to the world: `file` (one `.eml` per mail, for
//! demos, tests and pick-up directories), `sendmail` (a local MTA) and `smtp` (a
//! mail server), all behind [`Transport::send_batch`]. They see only an
//! [`Outgoing`] mail: its Message-ID, its envelope and its bytes; where it came
//! from (the outbox) and what a result means for it is the caller's business.

mod file;
mod sendmail;
mod smtp;

use crate::config::TransportKind;

pub use file::FileTransport;
pub use sendmail::SendmailTransport;
pub use smtp::{SmtpSetupError, SmtpTransport};

/// Who a mail is from and to as the mail system sees it (SMTP's `MAIL FROM`
/// and `RCPT TO`), whatever its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Where bounces go.
    pub from: &'a str,
    pub recipients: &'a [String],
}

/// One rendered mail to hand over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing<'a> {
    /// Names the mail in logs and the file transport's file; sending the same
    /// mail again keeps it.
    pub message_id: &'a str,
    pub envelope: Envelope<'a>,
    /// The whole message, header and body, as it goes out.
    pub bytes: &'a [u8],
}

/// The envelope as lettre takes it; an address lettre cannot take fails the
/// mail for good.
fn lettre_envelope(envelope: &Envelope<'_>) -> Result<lettre::address::Envelope, SendError> {
    let parse = |a: &str| {
        a.parse::<lettre::Address>()
            .map_err(|err| SendError::permanent(format!("invalid address `{a}`: {err}")))
    };
    let from = parse(envelope.from)?;
    let to = envelope
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

    /// Whether handing the same mail over twice leaves one copy. True of the
    /// file transport (it rewrites the same file); a mail server delivers a
    /// resent mail again.
    pub fn idempotent(&self) -> bool {
        matches!(self, Self::File(_))
    }

    /// Hands over each mail and tells `done` the results (each with its mail's
    /// index) as soon as they are final: over the network right after the
    /// server's answer, before the connection that carried a mail takes
    /// another, so that the caller can record them first; the file transport
    /// tells them all after one sync. Results final at the same time come in
    /// one call, to be recorded together. Mails go out in order over one
    /// connection; SMTP spreads a batch over several, whose results come in the
    /// order the server answers. An error from `done` stops the batch: no
    /// further mail is started, and mails already in flight on other
    /// connections are not told of. Blocking: run it off the async threads.
    pub fn send_batch<E>(
        &self,
        mails: &[Outgoing<'_>],
        mut done: impl FnMut(Vec<(usize, Result<(), SendError>)>) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Self::File(f) => done(f.send_batch(mails).into_iter().enumerate().collect()),
            Self::Sendmail(s) => {
                for (i, mail) in mails.iter().enumerate() {
                    done(vec![(i, s.send(mail))])?;
                }
                Ok(())
            }
            Self::Smtp(s) => s.send_batch(mails, done),
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
