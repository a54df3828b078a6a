//! How a mail to a correspondent leaves: encrypted to their key, signed only, or
//! held until a key is known. The decision is [`choose`]; [`protect`]
//! carries it out on a rendered mail.

use jiff::Timestamp;
use sequoia_openpgp::Cert;

use crate::crypto::{TeamKeys, autocrypt, seal};

/// What may be sent to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Encrypt to their key (and ours), sign.
    Encrypt,
    /// Sign only (no key known, and they never wrote encrypted).
    Sign,
    /// Neither: no team key is configured.
    Clear,
    /// Hold as `needs-key`: they wrote encrypted, and no usable key is known.
    Hold,
}

impl Protection {
    /// As recorded in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Encrypt => "encrypted",
            Self::Sign => "signed",
            Self::Clear => "clear",
            Self::Hold => "held",
        }
    }
}

/// The rule: a usable key means encryption; otherwise mail to someone who ever
/// wrote to us encrypted waits for a key, unless it carries nothing of theirs
/// (`content_free`, e.g. "we could not read your message").
pub fn choose(
    has_usable_key: bool,
    wrote_encrypted: bool,
    content_free: bool,
    has_team_key: bool,
) -> Protection {
    match (
        has_team_key,
        has_usable_key,
        wrote_encrypted && !content_free,
    ) {
        (true, true, _) => Protection::Encrypt,
        (_, _, true) => Protection::Hold,
        (true, false, false) => Protection::Sign,
        (false, _, false) => Protection::Clear,
    }
}

/// A rendered mail after [`protect`].
#[derive(Debug, Clone)]
pub struct Protected {
    pub raw: Vec<u8>,
    pub protection: Protection,
}

/// Applies `choose` to `plain` (a complete mail from `compose`): the first usable
/// key in `keys` is the recipient's. Held mail stays in clear in the outbox (it is
/// sealed when a key arrives and never sent before); every signed or encrypted
/// mail carries an Autocrypt header with our key.
pub fn protect(
    plain: Vec<u8>,
    keys: &[Cert],
    wrote_encrypted: bool,
    content_free: bool,
    team: Option<&TeamKeys>,
    program_address: &str,
    now: Timestamp,
) -> Result<Protected, seal::SealError> {
    let key = keys.iter().find(|c| seal::usable_for_encryption(c, now));
    let protection = choose(key.is_some(), wrote_encrypted, content_free, team.is_some());
    let raw = match (protection, team, key) {
        (Protection::Encrypt, Some(team), Some(key)) => with_autocrypt(
            seal::encrypt(&plain, std::slice::from_ref(key), team, now)?,
            team,
            program_address,
            now,
        )?,
        (Protection::Sign, Some(team), _) => {
            with_autocrypt(seal::sign(&plain, team, now)?, team, program_address, now)?
        }
        _ => plain,
    };
    Ok(Protected { raw, protection })
}

/// Seals held mail once `key` arrived.
pub fn seal_held(
    plain: &[u8],
    key: &Cert,
    team: &TeamKeys,
    program_address: &str,
    now: Timestamp,
) -> Result<Vec<u8>, seal::SealError> {
    let sealed = seal::encrypt(plain, std::slice::from_ref(key), team, now)?;
    with_autocrypt(sealed, team, program_address, now)
}

/// Adds our `Autocrypt:` header to the outer header block (after sealing, so
/// the key is not copied into the encrypted part).
fn with_autocrypt(
    mail: Vec<u8>,
    team: &TeamKeys,
    program_address: &str,
    now: Timestamp,
) -> Result<Vec<u8>, seal::SealError> {
    let line = team.autocrypt_line(program_address, now)?;
    Ok(autocrypt::add_header(&mail, &line))
}

#[cfg(test)]
mod tests {
    use sequoia_openpgp::cert::prelude::*;

    use super::*;
    use crate::crypto::TeamKeys;
    use crate::report::ReportId;
    use crate::respond::compose::{Original, acknowledgement};
    use crate::respond::shape::MAX_LINE_OCTETS;

    fn now() -> Timestamp {
        "2026-11-23T12:00:00Z".parse().expect("time")
    }

    fn keys(userid: &str) -> TeamKeys {
        let created = crate::crypto::system_time(now() - jiff::SignedDuration::from_hours(24));
        let (cert, _) = CertBuilder::general_purpose(Some(userid))
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_creation_time(created)
            .generate()
            .expect("generate");
        TeamKeys::from_certs(vec![cert], now()).expect("keys")
    }

    /// The header block of `raw` as lines, without line ends.
    fn header_lines(raw: &[u8]) -> Vec<String> {
        let head = &raw[..crate::parse::scan_headers(raw).header_len.min(raw.len())];
        String::from_utf8_lossy(head)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn protected_headers_of_a_hostile_mail_stay_short_inside_the_encryption() {
        let config = crate::config::Config::parse(
            crate::config::tests::MINIMAL,
            std::path::Path::new("/etc/disclosed/config.toml"),
        )
        .expect("config");
        let templates = crate::respond::Templates::load(None).expect("templates");
        let references: Vec<String> = (0..20_000).map(|i| format!("{i}@x.example")).collect();
        let subject = "A".repeat(100_000);
        let name = "Rita ".repeat(2_000);
        let report = ReportId::new("SEC", 2026, 1);
        let original = Original {
            report: &report,
            reporter: "rita@researcher.example",
            reporter_name: Some(&name),
            subject: &subject,
            message_id: Some("r1@researcher.example"),
            references: &references,
        };
        let plain = acknowledgement(&config, &templates, original, now()).expect("composed");
        let team = keys("Security <security@example.org>");
        let rita = keys("Rita <rita@researcher.example>");
        let sealed = protect(
            plain.raw,
            rita.certs(),
            false,
            false,
            Some(&team),
            "security@example.org",
            now(),
        )
        .expect("sealed");
        assert_eq!(sealed.protection, Protection::Encrypt);
        // A few kilobytes of text, the armor and the Autocrypt key; never the input.
        assert!(sealed.raw.len() < 32 * 1024, "{} bytes", sealed.raw.len());
        for line in header_lines(&sealed.raw) {
            // Autocrypt's key data is folded by its own writer at 78.
            assert!(line.len() <= 78, "outer: {line}");
        }

        let opened = crate::crypto::open::open(
            &sealed.raw,
            Some("security@example.org"),
            Some(&rita),
            &team.certs().to_vec(),
            &crate::crypto::CryptoLimits::from_config(&config.limits),
            now(),
        );
        let inner = opened.inner.expect("decrypted");
        let lines = header_lines(&inner);
        assert!(
            lines.iter().any(|l| l.starts_with("Subject: ")),
            "{lines:?}"
        );
        for line in &lines {
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "inner: {} octets",
                line.len()
            );
            // `HP-Outer: ` repeats an outer line behind ten more octets.
            let limit = if line.starts_with("HP-Outer: ") {
                88
            } else {
                78
            };
            assert!(line.len() <= limit, "inner: {line}");
        }
        let entity = crate::parse::parse(
            &inner,
            &crate::parse::ParseLimits::from_config(&config.limits),
        );
        assert!(
            entity.subject.starts_with("[SEC-2026-0001] Re: AAAA"),
            "{}",
            entity.subject
        );
        assert!(entity.references.len() <= 10, "{:?}", entity.references);
    }

    #[test]
    fn the_rule() {
        use Protection::*;
        // (usable key, wrote encrypted, content free, team key) → protection
        let table = [
            ((true, false, false, true), Encrypt),
            ((true, true, false, true), Encrypt),
            ((false, false, false, true), Sign),
            ((false, true, false, true), Hold),
            ((false, true, true, true), Sign),
            ((false, false, false, false), Clear),
            ((false, true, false, false), Hold),
            ((true, true, false, false), Hold),
            ((false, true, true, false), Clear),
        ];
        for ((key, wrote, free, team), expected) in table {
            assert_eq!(
                choose(key, wrote, free, team),
                expected,
                "key={key} wrote_encrypted={wrote} content_free={free} team={team}"
            );
        }
    }
}
