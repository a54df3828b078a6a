//! `/.well-known/security.txt` (RFC 9116): the fields, the checks on
//! `Expires`, and the OpenPGP cleartext signature with the team's key.

use std::io::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use sequoia_openpgp::crypto::KeyPair;
use sequoia_openpgp::serialize::stream::{Message, Signer};

/// The fields of the file, already chosen and checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fields {
    /// The program address, without `mailto:`.
    pub contact: String,
    pub expires: Timestamp,
    pub encryption: Option<String>,
    pub policy: Option<String>,
    pub acknowledgments: Option<String>,
    pub languages: Vec<String>,
    pub canonical: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecurityTxtError {
    #[error(
        "`[security_txt] expires` is not set; write the day the file expires, e.g. expires = \"{example}\""
    )]
    NoExpiry { example: Date },
    #[error("`[security_txt] expires` ({day}) is not after today; security.txt would be stale")]
    Expired { day: Date },
    #[error("`[security_txt] expires` ({day}) is more than a year ahead (at most {latest})")]
    TooFar { day: Date, latest: Date },
    #[error("no team key to sign security.txt with; set `[openpgp] secret_keys`")]
    NoKey,
    #[error(
        "the team's signing key is a v{version} key; security.txt needs a `Hash:` header that only v4 signatures have: sign with a v4 key (put one first in `[openpgp] secret_keys`)"
    )]
    KeyVersion { version: u8 },
    #[error("cannot sign security.txt: {0}")]
    Sign(String),
}

/// When a file whose `expires` day is `day` expires: the start of that day,
/// UTC. Refused unless it is after `now` and at most a year ahead of it.
pub fn expires_at(day: Option<Date>, now: Timestamp) -> Result<Timestamp, SecurityTxtError> {
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let latest = today
        .checked_add(jiff::Span::new().years(1))
        .unwrap_or(today);
    let Some(day) = day else {
        return Err(SecurityTxtError::NoExpiry {
            example: today
                .checked_add(jiff::Span::new().months(6))
                .unwrap_or(today),
        });
    };
    if day <= today {
        return Err(SecurityTxtError::Expired { day });
    }
    if day > latest {
        return Err(SecurityTxtError::TooFar { day, latest });
    }
    day.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|_| SecurityTxtError::Expired { day })
}

/// The unsigned file, one `Field: value` line each, CRLF-free.
pub fn body(fields: &Fields) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| {
        // Values come from the configuration, which allows no line breaks
        // in URLs; a stray one is dropped here rather than start a field.
        let value: String = value.chars().filter(|c| !c.is_control()).collect();
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    };
    line("Contact", &format!("mailto:{}", fields.contact));
    line("Expires", &format_time(fields.expires));
    if let Some(url) = &fields.encryption {
        line("Encryption", url);
    }
    if let Some(url) = &fields.acknowledgments {
        line("Acknowledgments", url);
    }
    if !fields.languages.is_empty() {
        line("Preferred-Languages", &fields.languages.join(", "));
    }
    if let Some(url) = &fields.canonical {
        line("Canonical", url);
    }
    if let Some(url) = &fields.policy {
        line("Policy", url);
    }
    out
}

/// `2027-06-30T00:00:00Z`: RFC 3339 in UTC, as the RFC's example has it.
fn format_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `text` as an OpenPGP cleartext-signed message, signed at `now` by `signer`.
/// Only a v4 key: sequoia writes the `Hash:` armor header the RFC's grammar
/// requires only for v4 signatures.
pub fn sign(text: &str, signer: &KeyPair, now: Timestamp) -> Result<String, SecurityTxtError> {
    let version = signer.public().version();
    if version != 4 {
        return Err(SecurityTxtError::KeyVersion { version });
    }
    let err = |e: anyhow::Error| SecurityTxtError::Sign(e.to_string());
    let mut sink = Vec::new();
    {
        let message = Message::new(&mut sink);
        let mut message = Signer::new(message, signer.clone())
            .map_err(err)?
            .creation_time(crate::crypto::system_time(now))
            .cleartext()
            .build()
            .map_err(err)?;
        message
            .write_all(text.as_bytes())
            .map_err(|e| SecurityTxtError::Sign(e.to_string()))?;
        message.finalize().map_err(err)?;
    }
    let signed = String::from_utf8(sink).map_err(|e| SecurityTxtError::Sign(e.to_string()))?;
    if !signed
        .lines()
        .nth(1)
        .is_some_and(|l| l.starts_with("Hash: "))
    {
        return Err(SecurityTxtError::Sign(
            "the signature has no `Hash:` header".into(),
        ));
    }
    Ok(signed)
}

/// The signed text of a cleartext-signed file, for comparing two versions of
/// it whatever their signatures' times: everything before the signature.
pub fn signed_part(file: &str) -> Option<&str> {
    file.split_once("-----BEGIN PGP SIGNATURE-----")
        .map(|(before, _)| before)
}

/// The fingerprint of the key that signed a cleartext-signed file, from its
/// signature's issuer; `None` if there is no readable signature.
pub fn signer_of(file: &str) -> Option<String> {
    use sequoia_openpgp::Packet;
    use sequoia_openpgp::parse::Parse as _;
    let start = file.find("-----BEGIN PGP SIGNATURE-----")?;
    match Packet::from_bytes(&file.as_bytes()[start..]).ok()? {
        Packet::Signature(sig) => sig.issuer_fingerprints().next().map(|f| f.to_hex()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-04T10:00:00Z".parse().expect("time")
    }

    fn day(text: &str) -> Option<Date> {
        Some(text.parse().expect("day"))
    }

    #[test]
    fn expires_is_the_start_of_the_configured_day() {
        let at = expires_at(day("2027-06-30"), now()).expect("valid");
        assert_eq!(format_time(at), "2027-06-30T00:00:00Z");
        assert!(expires_at(day("2027-12-04"), now()).is_ok());
    }

    #[test]
    fn an_expiry_more_than_a_year_ahead_is_refused() {
        assert!(matches!(
            expires_at(day("2027-12-05"), now()),
            Err(SecurityTxtError::TooFar { .. })
        ));
    }

    #[test]
    fn an_expiry_today_or_in_the_past_is_refused() {
        for d in ["2026-12-04", "2026-01-01"] {
            assert!(
                matches!(
                    expires_at(day(d), now()),
                    Err(SecurityTxtError::Expired { .. })
                ),
                "{d}"
            );
        }
        assert!(matches!(
            expires_at(None, now()),
            Err(SecurityTxtError::NoExpiry { .. })
        ));
    }

    #[test]
    fn the_body_lists_each_field_once_and_skips_missing_ones() {
        let fields = Fields {
            contact: "security@example.org".into(),
            expires: expires_at(day("2027-06-30"), now()).expect("valid"),
            encryption: Some("https://example.org/pgp-key.txt".into()),
            policy: None,
            acknowledgments: None,
            languages: vec!["en".into(), "de".into()],
            canonical: None,
        };
        assert_eq!(
            body(&fields),
            "Contact: mailto:security@example.org\nExpires: 2027-06-30T00:00:00Z\n\
             Encryption: https://example.org/pgp-key.txt\nPreferred-Languages: en, de\n"
        );
    }
}
