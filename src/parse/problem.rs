//! The oddities a message can have. Each is stored with the message as
//! `code: explanation`, so the team (and tests) can search by code.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NoMessageId,
    DuplicateMessageId {
        first: i64,
    },
    NoSender,
    BadDate,
    MalformedHeader {
        line: usize,
        count: usize,
    },
    HeaderTooLarge {
        size: u64,
        limit: u64,
    },
    MimeTooDeep {
        depth: u32,
        limit: u32,
    },
    TooManyAttachments {
        limit: u32,
    },
    UndecodableText,
    TextTruncated {
        limit: usize,
    },
    Oversized {
        size: u64,
        limit: u64,
    },
    Unparseable,
    Empty,
    UnknownReportToken {
        token: String,
    },
    /// Encrypted, and we could not read it (`reason` is a [`crate::crypto::FailReason`] code).
    Undecryptable {
        reason: &'static str,
        detail: String,
    },
    /// A signature that does not verify.
    BadSignature {
        reason: String,
    },
    /// The `From` inside the encrypted or signed part names another address than
    /// the outer `From`; the outer one is kept, since server-side checks (DKIM)
    /// vouch only for it.
    ProtectedFromMismatch {
        inner: String,
    },
    /// Claims to be our own mail (our From, a Message-ID shaped like ours),
    /// but is no mail we sent.
    SpoofedOwnAddress,
    /// Looks like a bounce, but does not come back to the return path of a
    /// mail we sent.
    UnverifiedBounce,
    /// Not a problem with the message, but the reason it got no answer.
    NotAnswered {
        reason: &'static str,
    },
}

impl Problem {
    /// A stable, searchable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoMessageId => "no-message-id",
            Self::DuplicateMessageId { .. } => "duplicate-message-id",
            Self::NoSender => "no-sender",
            Self::BadDate => "bad-date",
            Self::MalformedHeader { .. } => "malformed-header",
            Self::HeaderTooLarge { .. } => "header-too-large",
            Self::MimeTooDeep { .. } => "mime-too-deep",
            Self::TooManyAttachments { .. } => "too-many-attachments",
            Self::UndecodableText => "undecodable-text",
            Self::TextTruncated { .. } => "text-truncated",
            Self::Oversized { .. } => "oversized",
            Self::Unparseable => "unparseable",
            Self::Empty => "empty",
            Self::UnknownReportToken { .. } => "unknown-report",
            Self::Undecryptable { .. } => "undecryptable",
            Self::BadSignature { .. } => "bad-signature",
            Self::ProtectedFromMismatch { .. } => "protected-from-mismatch",
            Self::SpoofedOwnAddress => "spoofed-own-address",
            Self::UnverifiedBounce => "unverified-bounce",
            Self::NotAnswered { .. } => "not-answered",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code())?;
        match self {
            Self::NoMessageId => write!(f, "the message has no Message-ID header"),
            Self::DuplicateMessageId { first } => write!(
                f,
                "another message with different content (#{first}) has the same Message-ID"
            ),
            Self::NoSender => write!(f, "no usable From or Sender address"),
            Self::BadDate => write!(f, "the Date header is not a valid date"),
            Self::MalformedHeader { line, count } => {
                write!(
                    f,
                    "{count} malformed header line(s), the first at line {line}"
                )
            }
            Self::HeaderTooLarge { size, limit } => {
                write!(f, "the header block has {size} bytes (limit {limit})")
            }
            Self::MimeTooDeep { depth, limit } => {
                write!(f, "MIME parts nest {depth} deep (limit {limit})")
            }
            Self::TooManyAttachments { limit } => {
                write!(f, "more than {limit} attachments; the rest are not listed")
            }
            Self::UndecodableText => {
                write!(
                    f,
                    "some text is not valid in its declared charset and was replaced"
                )
            }
            Self::TextTruncated { limit } => {
                write!(
                    f,
                    "the readable text was cut at {limit} bytes (the raw message is whole)"
                )
            }
            Self::Oversized { size, limit } => write!(
                f,
                "{size} bytes exceed the limit of {limit}; only the headers were read"
            ),
            Self::Unparseable => write!(f, "the message could not be parsed at all"),
            Self::Empty => write!(f, "the message is empty"),
            Self::UnknownReportToken { token } => {
                write!(f, "addressed to report {token}, which does not exist")
            }
            Self::Undecryptable { reason, detail } => {
                write!(f, "encrypted, and not readable ({reason}): {detail}")
            }
            Self::BadSignature { reason } => write!(f, "the signature does not verify: {reason}"),
            Self::ProtectedFromMismatch { inner } => write!(
                f,
                "the protected From ({inner}) differs from the outer From; the outer one counts"
            ),
            Self::SpoofedOwnAddress => write!(
                f,
                "it looks like our own mail, but no mail we sent has its Message-ID and body"
            ),
            Self::UnverifiedBounce => write!(
                f,
                "it looks like a bounce, but not to the return path of a mail we sent"
            ),
            Self::NotAnswered { reason } => write!(f, "{reason}"),
        }
    }
}
