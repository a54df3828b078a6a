//! Sender authentication for team mail: whether a mail that claims to come from
//! a team member really does, whether its commands are bound to the report they
//! act on, and what to remember so it applies only once.
//!
//! Everything here is a pure decision on facts the caller gathered (the verified
//! signature, the `Authentication-Results` headers, the time); nothing reads mail,
//! keys, the store or the clock.

mod dkim;
mod results;

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use thiserror::Error;

use crate::config::{Address, Member, Team};
use crate::report::ReportId;

pub use dkim::{DkimCoverage, dkim_coverage};
pub use results::{
    Problem, Property, ResInfo, Results, ResultsError, dkim_pass_domains, parse_results,
    trusted_results,
};

/// What the caller learned about one mail.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The `From:` header as written (`Alice <alice@example.org>` or a bare address).
    pub from: String,
    /// Fingerprint (upper-case hex) of the certificate that made a valid OpenPGP
    /// signature over the mail, if any.
    pub valid_signer: Option<String>,
    /// That signature's creation time.
    pub signed_at: Option<Timestamp>,
    /// Fingerprints (primary and subkeys, upper-case hex) of the claimed member's
    /// configured certificate; empty when the member has no key.
    pub member_fingerprints: Vec<String>,
    /// Raw `Authentication-Results` values, top of the header block first.
    pub auth_results: Vec<String>,
}

/// Which authentication the team accepts (`[team] command_auth` and friends).
#[derive(Debug, Clone)]
pub struct Policy {
    /// `command_auth` includes `openpgp`.
    pub openpgp: bool,
    /// `command_auth` includes `dkim`.
    pub dkim: bool,
    /// The receiving server whose `Authentication-Results` are trusted.
    pub trusted_authserv_id: Option<String>,
    /// How old a signature may be and still carry commands.
    pub max_signature_age: SignedDuration,
    /// How far in the future a signature may be dated (the signer's clock is off).
    pub clock_skew: SignedDuration,
}

/// A mail proven to come from a team member.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The configured member, not the `From:` as written.
    pub member: Member,
    /// How: the audit log records [`Method::audit`].
    pub method: Method,
}

/// How a member was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// A valid signature by the member's configured key.
    OpenPgp {
        /// The signing certificate's fingerprint, upper-case hex.
        fingerprint: String,
    },
    /// `dkim=pass` for the member's domain from the trusted server.
    Dkim {
        /// The passing signing domain, lower case.
        domain: String,
    },
}

impl Method {
    /// How the audit log records it.
    pub fn audit(&self) -> crate::audit::Auth {
        match self {
            Self::OpenPgp { .. } => crate::audit::Auth::OpenPgp,
            Self::Dkim { .. } => crate::audit::Auth::Dkim,
        }
    }

    /// The audit log's `auth` column: `openpgp` or `dkim`.
    pub fn as_str(&self) -> &'static str {
        self.audit().as_str()
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OpenPgp { fingerprint } => write!(f, "OpenPGP signature by {fingerprint}"),
            Self::Dkim { domain } => write!(f, "DKIM signature by {domain}"),
        }
    }
}

/// Why a mail's commands or relay are not accepted; the text is mailed to the
/// member, so it says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("{from} is not a team member")]
    NotAMember {
        /// The `From:` as written.
        from: String,
    },
    #[error(
        "the mail is not signed with the OpenPGP key configured for {member}{}",
        dkim_note(dkim_domain.as_deref())
    )]
    NotAuthenticated {
        member: Address,
        /// The member's domain when a trusted DKIM result would have counted.
        dkim_domain: Option<String>,
    },
    #[error(
        "the mail is signed with the OpenPGP key {signer}, which is not the key \
         configured for {member}{}; sign with the configured key, or ask an \
         administrator to configure the new one",
        dkim_note(dkim_domain.as_deref())
    )]
    WrongKey {
        member: Address,
        signer: String,
        dkim_domain: Option<String>,
    },
    #[error(
        "{member} has no OpenPGP key configured{}; ask an administrator to add one",
        dkim_note(dkim_domain.as_deref())
    )]
    NoMemberKey {
        member: Address,
        dkim_domain: Option<String>,
    },
    #[error(
        "no trusted DKIM result for {domain}, and commands from {member} are accepted \
         only with DKIM (command_auth); send from a server that signs for {domain}"
    )]
    NoDkim { member: Address, domain: String },
    #[error(
        "commands from {member} cannot be authenticated: no method in command_auth \
         applies (an administrator must configure openpgp, or dkim with \
         trusted_authserv_id)"
    )]
    NoMethod { member: Address },
    #[error(
        "the signature was made {} ago; signed commands are accepted for {}: \
         send the command again in a new signed mail",
        human(*age),
        human(*max)
    )]
    SignatureTooOld {
        member: Address,
        age: SignedDuration,
        max: SignedDuration,
    },
    #[error(
        "the signature is dated {} in the future (up to {} are tolerated); check the \
         clock of the computer that signed it",
        human(*ahead),
        human(*skew)
    )]
    SignatureInFuture {
        member: Address,
        ahead: SignedDuration,
        skew: SignedDuration,
    },
    #[error("the signature carries no creation time, so its age cannot be checked")]
    SignatureUndated { member: Address },
    #[error(
        "{report} does not appear in the signed part of the mail, so the command \
         could be replayed against another report; mention {report} in the signed \
         text, e.g. by replying to the notification"
    )]
    NotBound { member: Address, report: ReportId },
    #[error(
        "the DKIM signature of {domain} does not cover {gap}, so what the mail says \
         cannot be attributed to you; send it from a server that signs the whole \
         body and one From header, or sign it with OpenPGP"
    )]
    DkimIncomplete {
        member: Address,
        domain: String,
        /// What is not covered: "the whole body (l= tag)" or "the From header".
        gap: &'static str,
    },
    #[error("this authenticated mail was already applied once; send a new mail to repeat it")]
    Replayed { member: Address },
    #[error(
        "the mail has no Message-ID, so it cannot be checked for replay; send it \
         again from a mail client that sets one, or sign it with OpenPGP"
    )]
    NoReplayKey { member: Address },
}

impl Refusal {
    /// A short code for the event log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAMember { .. } => "not-member",
            Self::NotAuthenticated { .. } => "unauthenticated",
            Self::WrongKey { .. } => "wrong-key",
            Self::NoMemberKey { .. } => "no-member-key",
            Self::NoDkim { .. } => "no-dkim",
            Self::NoMethod { .. } => "no-auth-method",
            Self::SignatureTooOld { .. } => "signature-too-old",
            Self::SignatureInFuture { .. } => "signature-in-future",
            Self::SignatureUndated { .. } => "signature-undated",
            Self::NotBound { .. } => "not-bound",
            Self::DkimIncomplete { .. } => "dkim-incomplete",
            Self::Replayed { .. } => "replayed",
            Self::NoReplayKey { .. } => "no-replay-key",
        }
    }

    /// The member's configured address, where the refusal goes; `None` when the
    /// sender is not a member (then nobody is told by mail).
    pub fn member(&self) -> Option<&Address> {
        match self {
            Self::NotAMember { .. } => None,
            Self::NotAuthenticated { member, .. }
            | Self::WrongKey { member, .. }
            | Self::NoMemberKey { member, .. }
            | Self::NoDkim { member, .. }
            | Self::NoMethod { member }
            | Self::SignatureTooOld { member, .. }
            | Self::SignatureInFuture { member, .. }
            | Self::SignatureUndated { member }
            | Self::NotBound { member, .. }
            | Self::DkimIncomplete { member, .. }
            | Self::Replayed { member }
            | Self::NoReplayKey { member } => Some(member),
        }
    }
}

/// Decides whether `evidence` proves the mail comes from the team member its
/// `From:` names.
///
/// An OpenPGP signature counts only when it is valid, made by the member's
/// configured certificate (a key carried inside the same mail proves nothing) and
/// dated within `max_signature_age` back and `clock_skew` ahead of `now`; it wins
/// over DKIM. DKIM counts only when the policy enables it with a trusted
/// authserv-id and that server's topmost run of headers says `dkim=pass` for exactly the
/// member's domain (see [`dkim_pass_domains`]). A stale or future signature by the
/// member's key is refused outright, not rescued by DKIM: it is what a replay
/// looks like.
pub fn authenticate(
    evidence: &Evidence,
    policy: &Policy,
    team: &Team,
    now: Timestamp,
) -> Result<Authenticated, Refusal> {
    let member = from_address(&evidence.from)
        .and_then(|address| team.member(address))
        .ok_or_else(|| Refusal::NotAMember {
            // Collapsed: a folded header must not break the event line.
            from: evidence
                .from
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })?;
    let address = member.email.clone();
    let authenticated = |method| {
        Ok(Authenticated {
            member: member.clone(),
            method,
        })
    };

    let by_member_key = evidence
        .valid_signer
        .as_deref()
        .map(normalize_fingerprint)
        .filter(|signer| {
            evidence
                .member_fingerprints
                .iter()
                .any(|fp| normalize_fingerprint(fp) == *signer)
        });
    if policy.openpgp
        && let Some(fingerprint) = by_member_key
    {
        check_signature_age(evidence.signed_at, policy, now, &address)?;
        return authenticated(Method::OpenPgp { fingerprint });
    }

    let dkim_id = policy
        .trusted_authserv_id
        .as_deref()
        .filter(|id| policy.dkim && !id.trim().is_empty());
    if let Some(trusted_id) = dkim_id {
        let headers: Vec<&str> = evidence.auth_results.iter().map(String::as_str).collect();
        let domain = &address.domain;
        if dkim_pass_domains(&headers, trusted_id).contains(domain) {
            return authenticated(Method::Dkim {
                domain: domain.clone(),
            });
        }
    }

    let dkim_domain = dkim_id.map(|_| address.domain.clone());
    Err(match (policy.openpgp, dkim_domain) {
        (false, None) => Refusal::NoMethod { member: address },
        (false, Some(domain)) => Refusal::NoDkim {
            member: address,
            domain,
        },
        (true, dkim_domain) => {
            if let Some(signer) = &evidence.valid_signer {
                Refusal::WrongKey {
                    member: address,
                    signer: normalize_fingerprint(signer),
                    dkim_domain,
                }
            } else if evidence.member_fingerprints.is_empty() {
                Refusal::NoMemberKey {
                    member: address,
                    dkim_domain,
                }
            } else {
                Refusal::NotAuthenticated {
                    member: address,
                    dkim_domain,
                }
            }
        }
    })
}

/// Refuses a signature dated outside `[now - max_signature_age, now + clock_skew]`.
fn check_signature_age(
    signed_at: Option<Timestamp>,
    policy: &Policy,
    now: Timestamp,
    member: &Address,
) -> Result<(), Refusal> {
    let signed_at = signed_at.ok_or_else(|| Refusal::SignatureUndated {
        member: member.clone(),
    })?;
    let age = now.duration_since(signed_at);
    if age > policy.max_signature_age {
        return Err(Refusal::SignatureTooOld {
            member: member.clone(),
            age,
            max: policy.max_signature_age,
        });
    }
    if -age > policy.clock_skew {
        return Err(Refusal::SignatureInFuture {
            member: member.clone(),
            ahead: -age,
            skew: policy.clock_skew,
        });
    }
    Ok(())
}

/// Whether `report`'s id appears, case-insensitively and as a whole token, in any
/// of the texts the signature covers (for OpenPGP the signed body and protected
/// `Subject`/`To`; for DKIM the `Subject` and body).
///
/// `SEC-2026-0042` matches in `[SEC-2026-0042]` and in
/// `security+SEC-2026-0042-internal@…`, not inside `SEC-2026-00421`.
pub fn bound_to_report(report: &ReportId, signed_texts: &[&str]) -> bool {
    let needle = report.as_str().to_ascii_lowercase();
    if needle.is_empty() {
        return false;
    }
    signed_texts
        .iter()
        .any(|text| contains_token(&text.to_ascii_lowercase(), &needle))
}

/// [`bound_to_report`] as a check, with the refusal to send when it fails.
pub fn require_bound(
    report: &ReportId,
    signed_texts: &[&str],
    member: &Address,
) -> Result<(), Refusal> {
    if bound_to_report(report, signed_texts) {
        Ok(())
    } else {
        Err(Refusal::NotBound {
            member: member.clone(),
            report: report.clone(),
        })
    }
}

/// The key the store remembers so the same authenticated mail applies once:
/// `openpgp:<signature digest>` or `dkim:<Message-ID>`.
///
/// `None` when the mail offers nothing to key on; the caller then refuses with
/// [`Refusal::NoReplayKey`], since such a mail could be replayed unnoticed.
pub fn replay_key(
    method: &Method,
    signature_digest: Option<&str>,
    message_id: Option<&str>,
) -> Option<String> {
    match method {
        Method::OpenPgp { .. } => {
            let digest = signature_digest.map(str::trim).filter(|d| !d.is_empty())?;
            Some(format!("openpgp:{digest}"))
        }
        Method::Dkim { .. } => {
            let id = message_id?.trim();
            // Keyed without brackets, as mail-parser returns it, whichever form came.
            let id = id
                .strip_prefix('<')
                .and_then(|id| id.strip_suffix('>'))
                .unwrap_or(id)
                .trim();
            (!id.is_empty()).then(|| format!("dkim:{id}"))
        }
    }
}

/// The address in a `From:` value: the `<…>` part, else the whole trimmed value.
/// `None` for several addresses (a comma outside quotes) or unbalanced brackets,
/// which no member's client writes and which could smuggle a member's address.
fn from_address(written: &str) -> Option<&str> {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut open = None;
    let mut close = None;
    for (at, c) in written.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            _ if in_quotes => {}
            ',' => return None,
            '<' if open.is_none() => open = Some(at),
            '>' if open.is_some() && close.is_none() => close = Some(at),
            '<' | '>' => return None,
            _ => {}
        }
    }
    if in_quotes {
        return None;
    }
    match (open, close) {
        (None, None) => Some(written.trim()),
        (Some(open), Some(close)) if written[close + 1..].trim().is_empty() => {
            Some(written[open + 1..close].trim())
        }
        _ => None,
    }
}

/// Upper-case hex without spaces, so `abcd ef01` and `ABCDEF01` compare equal.
fn normalize_fingerprint(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Whether `needle` occurs in `haystack` with no id character around it. Both
/// are lower case; a `-` may follow (`…-internal`) but not precede.
fn contains_token(haystack: &str, needle: &str) -> bool {
    let bytes = haystack.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    haystack.match_indices(needle).any(|(start, _)| {
        let end = start + needle.len();
        let before_ok = start == 0 || !(is_word(bytes[start - 1]) || bytes[start - 1] == b'-');
        let after_ok = end == bytes.len() || !is_word(bytes[end]);
        before_ok && after_ok
    })
}

/// The DKIM half of a refusal, when DKIM would have counted.
fn dkim_note(domain: Option<&str>) -> String {
    domain
        .map(|d| format!(" (and no trusted DKIM result for {d})"))
        .unwrap_or_default()
}

/// `9 days`, `1 day 12 hours`, `5 minutes`: the two largest non-zero units.
fn human(duration: SignedDuration) -> String {
    let seconds = duration.as_secs().unsigned_abs();
    let units = [
        (seconds / 86_400, "day"),
        (seconds / 3_600 % 24, "hour"),
        (seconds / 60 % 60, "minute"),
        (seconds % 60, "second"),
    ];
    let parts: Vec<String> = units
        .iter()
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    if parts.is_empty() {
        "0 seconds".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests;
