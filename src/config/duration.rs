//! Durations as the policy states them: `"60s"`, `"14 days"`, `"5 business days"`.
//!
//! Calendar durations are parsed by jiff's friendly/ISO 8601 parser; the word
//! `business` is ours, because no calendar library knows a program's working days.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Span};

/// A duration from the policy: either business time or calendar time.
#[derive(Debug, Clone)]
pub enum PolicyDuration {
    BusinessDays(u32),
    BusinessHours(u32),
    Calendar(Span),
}

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a duration ({reason}); write e.g. \"60s\", \"14 days\" or \"5 business days\""
)]
pub struct DurationError {
    input: String,
    reason: String,
}

impl FromStr for PolicyDuration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let refuse = |reason: &str| DurationError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let words: Vec<&str> = input.split_whitespace().collect();
        if let [amount, "business" | "Business", unit] = words.as_slice() {
            let amount: u32 = amount
                .parse()
                .map_err(|_| refuse("the amount must be a whole number"))?;
            return match unit.to_ascii_lowercase().as_str() {
                "day" | "days" => Ok(Self::BusinessDays(amount)),
                "hour" | "hours" => Ok(Self::BusinessHours(amount)),
                _ => Err(refuse("business time is counted in days or hours")),
            };
        }
        let span: Span = input
            .trim()
            .parse()
            .map_err(|err: jiff::Error| refuse(&err.to_string()))?;
        if span.is_negative() {
            return Err(refuse("it must not be negative"));
        }
        Ok(Self::Calendar(span))
    }
}

impl PartialEq for PolicyDuration {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::BusinessDays(a), Self::BusinessDays(b))
            | (Self::BusinessHours(a), Self::BusinessHours(b)) => a == b,
            (Self::Calendar(a), Self::Calendar(b)) => a.fieldwise() == b.fieldwise(),
            _ => false,
        }
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match self {
            Self::BusinessDays(n) => write!(f, "{n} business day{}", plural(*n)),
            Self::BusinessHours(n) => write!(f, "{n} business hour{}", plural(*n)),
            Self::Calendar(span) => write!(f, "{span:#}"),
        }
    }
}

/// A fixed interval for timers (`poll_interval`, retry backoff): no days, no business time.
pub fn parse_interval(input: &str) -> Result<std::time::Duration, DurationError> {
    let refuse = |reason: String| DurationError {
        input: input.to_owned(),
        reason,
    };
    let signed: SignedDuration = input
        .trim()
        .parse()
        .map_err(|err: jiff::Error| refuse(err.to_string()))?;
    std::time::Duration::try_from(signed).map_err(|_| refuse("it must not be negative".into()))
}

/// Like [`parse_interval`], and also takes days and weeks as 24-hour days: an age
/// limit ("7 days") is elapsed time, not a calendar span.
pub fn parse_age(input: &str) -> Result<std::time::Duration, DurationError> {
    if let Ok(d) = parse_interval(input) {
        return Ok(d);
    }
    let refuse = |reason: String| DurationError {
        input: input.to_owned(),
        reason,
    };
    let span: Span = input
        .trim()
        .parse()
        .map_err(|err: jiff::Error| refuse(err.to_string()))?;
    let signed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|err| refuse(err.to_string()))?;
    std::time::Duration::try_from(signed).map_err(|_| refuse("it must not be negative".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policy_durations() {
        let cases = [
            ("5 business days", PolicyDuration::BusinessDays(5)),
            ("1 business day", PolicyDuration::BusinessDays(1)),
            ("8 business hours", PolicyDuration::BusinessHours(8)),
            ("14 days", PolicyDuration::Calendar(Span::new().days(14))),
            ("90d", PolicyDuration::Calendar(Span::new().days(90))),
        ];
        for (input, want) in cases {
            let got: PolicyDuration = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.to_string(), want.to_string(), "{input}");
        }
    }

    #[test]
    fn refuses_nonsense() {
        for input in [
            "",
            "five days",
            "5 business weeks",
            "-3 days",
            "x business days",
        ] {
            assert!(
                input.parse::<PolicyDuration>().is_err(),
                "{input:?} accepted"
            );
        }
    }

    #[test]
    fn intervals() {
        assert_eq!(
            parse_interval("60s").ok(),
            Some(std::time::Duration::from_secs(60))
        );
        assert_eq!(
            parse_interval("2 hours").ok(),
            Some(std::time::Duration::from_secs(7200))
        );
        assert_eq!(
            parse_interval("1m 30s").ok(),
            Some(std::time::Duration::from_secs(90))
        );
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("-5s").is_err());
    }

    #[test]
    fn displays_as_written() {
        let d: PolicyDuration = "5 business days".parse().expect("valid");
        assert_eq!(d.to_string(), "5 business days");
    }
}
