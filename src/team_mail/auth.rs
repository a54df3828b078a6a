//! Authenticating a member's mail: who proves to have sent it (an OpenPGP
//! signature by their key, or a trusted DKIM result for their domain), what
//! the proof covers, whether it names the report it acts on, and that it was
//! not applied before. Only what the proof covers is read afterwards.

use jiff::{SignedDuration, Timestamp};

use super::{Mail, Route};
use crate::auth::{self, Authenticated, DkimCoverage, Evidence, Policy, Refusal};
use crate::command;
use crate::config::AuthMethod;
use crate::crypto::Signature;
use crate::parse::{self, ParseLimits, ParsedMessage};
use crate::respond::queue::Mailer;
use crate::store::{StoreError, Tx};
use crate::thread::{self, Token};

/// How far a signature may be dated ahead of our clock.
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// What a member's proof covers, so what may act. Commands, the report binding,
/// the route to the reporter and the relayed text are read from here alone.
pub(super) struct Covered {
    /// The mail as the team stages read it, its text (and attachments) taken
    /// from the covered content only, without a `#reply` line.
    pub msg: ParsedMessage,
    /// Texts the proof covers in which the report must be named (binding).
    pub bound_texts: Vec<String>,
    /// Whether the covered content sends the mail to the reporter: a `#reply`
    /// line, or the reply address in signed (protected) `To`/`Cc` headers.
    pub to_reporter: bool,
    /// Readable content outside the proof was left out.
    pub unsigned_rest: bool,
    /// For DKIM: what the domain's signatures leave uncovered that the mail
    /// needs (its whole body, its one `From:`); such a mail is refused.
    pub dkim_gap: Option<&'static str>,
}

/// Who sent the mail, if it proves it, what the proof covers, and whether
/// it may act on `route` (bound to the report, not a replay). Only store
/// errors are `Err`.
pub(super) fn authenticate(
    m: &Mailer<'_>,
    tx: &Tx<'_>,
    route: &Route,
    s: Mail<'_>,
    now: Timestamp,
) -> Result<Result<(Authenticated, Covered), Refusal>, StoreError> {
    let team = &m.config.team;
    let from = s
        .msg
        .from
        .as_ref()
        .map(|m| m.address.clone())
        .unwrap_or_default();
    // Only a signature whose covered content we have counts.
    let (valid_signer, signed_at, digest) =
        match s.pgp.and_then(|o| o.signed.as_ref()).map(|c| &c.signature) {
            Some(Signature::Valid {
                signer,
                created,
                digest,
                ..
            }) => (Some(signer.clone()), *created, Some(digest.as_str())),
            _ => (None, None, None),
        };
    let member_fingerprints = m
        .crypto
        .member_cert(&from)
        .map(|cert| {
            cert.keys()
                .map(|k| k.key().fingerprint().to_hex())
                .collect()
        })
        .unwrap_or_default();
    let evidence = Evidence {
        from,
        valid_signer,
        signed_at,
        member_fingerprints,
        auth_results: s.raw.map(parse::authentication_results).unwrap_or_default(),
    };
    let policy = Policy {
        openpgp: team.command_auth.contains(&AuthMethod::OpenPgp),
        dkim: team.command_auth.contains(&AuthMethod::Dkim),
        trusted_authserv_id: team.trusted_authserv_id.clone(),
        max_signature_age: SignedDuration::try_from(team.signature_max_age)
            .unwrap_or(SignedDuration::MAX),
        clock_skew: CLOCK_SKEW,
    };
    let who = match auth::authenticate(&evidence, &policy, team, now) {
        Ok(who) => who,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let covered = covered(m, &who, route, s);
    if let (auth::Method::Dkim { domain }, Some(gap)) = (&who.method, covered.dkim_gap) {
        return Ok(Err(Refusal::DkimIncomplete {
            member: who.member.email.clone(),
            domain: domain.clone(),
            gap,
        }));
    }
    if let Some(report) = route.report() {
        let bound: Vec<&str> = covered.bound_texts.iter().map(String::as_str).collect();
        if let Err(refusal) = auth::require_bound(report, &bound, &who.member.email) {
            return Ok(Err(refusal));
        }
    }
    let Some(key) = auth::replay_key(&who.method, digest, s.msg.message_id.as_deref()) else {
        return Ok(Err(Refusal::NoReplayKey {
            member: who.member.email.clone(),
        }));
    };
    if !tx.remember_applied(&key, s.message, now)? {
        return Ok(Err(Refusal::Replayed {
            member: who.member.email.clone(),
        }));
    }
    Ok(Ok((who, covered)))
}

/// What the proof covers. OpenPGP: exactly the signed entity (its text and
/// protected `Subject`/`To`/`Cc`), never text around it. DKIM: what every
/// `DKIM-Signature` of the passing domain lists (see [`auth::dkim_coverage`]):
/// the body when no signature limits its length, `Subject` and `To` when
/// signed; a `#reply` line in a covered body also chooses the reporter.
fn covered(m: &Mailer<'_>, who: &Authenticated, route: &Route, s: Mail<'_>) -> Covered {
    let limits = ParseLimits::from_config(&m.config.limits);
    let program = &m.config.program;
    let mut dkim_gap = None;
    let (mut msg, mut bound_texts, signed_recipients, unsigned_rest) = match &who.method {
        auth::Method::OpenPgp { .. } => {
            let signed = s.pgp.and_then(|o| o.signed.as_ref());
            // OpenPGP authenticates only from a signature with covered content.
            let entity = parse::parse(signed.map_or(&[][..], |c| &c.entity), &limits);
            let mut bound = Vec::new();
            if entity.has_subject_header {
                bound.push(entity.subject.clone());
            }
            let recipients: Vec<String> = entity
                .recipients
                .iter()
                .map(|r| r.address.clone())
                .collect();
            bound.extend(recipients.iter().cloned());
            let msg = ParsedMessage {
                text: entity.text,
                html: entity.html,
                attachments: entity.attachments,
                ..s.msg.clone()
            };
            (
                msg,
                bound,
                recipients,
                signed.is_some_and(|c| c.unsigned_rest),
            )
        }
        auth::Method::Dkim { domain } => {
            let coverage = s
                .raw
                .map(|raw| auth::dkim_coverage(raw, domain))
                .unwrap_or_default();
            dkim_gap = gap(&coverage);
            let subject = coverage.subject.then(|| s.msg.subject.clone());
            // Only a signed `To:` shows where the member sent it.
            let recipients = match s.raw {
                Some(raw) if coverage.to => parse::to_addresses(raw),
                _ => Vec::new(),
            };
            (
                s.msg.clone(),
                subject.into_iter().collect(),
                recipients,
                false,
            )
        }
    };
    let (directive, text) = command::take_reply_directive(&msg.text);
    msg.text = text;
    bound_texts.push(msg.text.clone());
    let signed_token = thread::find_token(
        signed_recipients.iter().map(String::as_str),
        &program.address,
        &program.id_prefix,
    );
    let to_reporter = chooses_reporter(route, directive, signed_token.as_ref());
    Covered {
        msg,
        bound_texts,
        to_reporter,
        unsigned_rest,
        dkim_gap,
    }
}

/// What a DKIM proof leaves uncovered that a member's mail needs: its whole
/// body and its one `From:`. Such a mail is refused.
pub(super) fn gap(coverage: &DkimCoverage) -> Option<&'static str> {
    if !coverage.whole_body {
        Some("the whole body (a signature has an l= length limit, or none was found)")
    } else if !coverage.from {
        Some("exactly one From header")
    } else {
        None
    }
}

/// Whether the covered content sends a mail on `route` to the reporter: a
/// `#reply` line (`directive`), or the report's reply address among the
/// signed recipients (`signed_token`). Only mail to the reply address can.
pub(super) fn chooses_reporter(
    route: &Route,
    directive: bool,
    signed_token: Option<&Token>,
) -> bool {
    match route {
        Route::Reply(id) => {
            directive || matches!(signed_token, Some(Token::Reply(signed)) if signed == id)
        }
        Route::Internal(_) | Route::Control => false,
    }
}
