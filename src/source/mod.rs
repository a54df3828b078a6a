//! Sources deliver raw messages and learn, afterwards, which ones are safely
//! stored. Both have the same shape: list what is pending, load it, and mark it
//! processed only after the store committed it.

pub mod imap;
mod maildir;

use std::path::PathBuf;

pub use imap::{ImapError, ImapSource};
pub use maildir::{Maildir, Pending};

/// The bytes of one message, or as much of it as we are willing to load.
#[derive(Debug)]
pub enum Raw {
    Loaded(Vec<u8>),
    /// Larger than `limits.max_message_size`: only the header block was read; the
    /// hash covers the whole message, which stays on the source.
    TooLarge {
        size: u64,
        head: Vec<u8>,
        sha256: String,
    },
}

/// One message from a source.
#[derive(Debug)]
pub struct Incoming {
    /// Where on the source, e.g. the Maildir file name.
    pub location: String,
    pub raw: Raw,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{} is not a Maildir: {reason}", path.display())]
    NotMaildir { path: PathBuf, reason: String },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}
