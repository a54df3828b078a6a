//! What a report is: its id (`SEC-2026-0042`) and its lifecycle (its states and
//! the transitions between them), as one table that the code and the tests share.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A report id: `{prefix}-{year}-{seq:04}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ReportId(String);

impl ReportId {
    pub fn new(prefix: &str, year: i16, seq: u32) -> Self {
        Self(format!("{prefix}-{year}-{seq:04}"))
    }

    /// Recognises `PREFIX-YYYY-NNNN` (any case) and returns it canonical (upper case).
    pub fn parse(prefix: &str, text: &str) -> Option<Self> {
        let upper = text.to_ascii_uppercase();
        let rest = upper.strip_prefix(prefix)?.strip_prefix('-')?;
        let (year, seq) = rest.split_once('-')?;
        let digits = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        (digits(year, 4, 4) && digits(seq, 4, 9)).then_some(Self(upper))
    }

    /// For ids read back from the store, which only ever holds canonical ids.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// The lifecycle of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportState {
    New,
    Acknowledged,
    Triaged,
    Accepted,
    Fixed,
    /// The team decided not to fix and to accept the risk; still disclosed.
    RiskAccepted,
    Disclosed,
    Rejected,
    Duplicate,
    OutOfScope,
    Spam,
}

use ReportState::*;

/// Every allowed transition. Side exits may be taken from any open state, and the
/// team can reopen a closed report by triaging it again.
pub const TRANSITIONS: &[(ReportState, &[ReportState])] = &[
    (
        New,
        &[Acknowledged, Triaged, Rejected, Duplicate, OutOfScope, Spam],
    ),
    (
        Acknowledged,
        &[Triaged, Accepted, Rejected, Duplicate, OutOfScope, Spam],
    ),
    (
        Triaged,
        &[
            Accepted,
            RiskAccepted,
            Rejected,
            Duplicate,
            OutOfScope,
            Spam,
        ],
    ),
    (Accepted, &[Fixed, RiskAccepted, Rejected, Duplicate]),
    (Fixed, &[Disclosed, Accepted]),
    // Accepting the risk closes the work but not the process: the report is
    // still disclosed, or reopened when the team decides to fix after all.
    (RiskAccepted, &[Disclosed, Accepted]),
    (Disclosed, &[]),
    (Rejected, &[Triaged]),
    (Duplicate, &[Triaged]),
    (OutOfScope, &[Triaged]),
    (Spam, &[Triaged]),
];

impl ReportState {
    pub const ALL: [ReportState; 11] = [
        New,
        Acknowledged,
        Triaged,
        Accepted,
        Fixed,
        RiskAccepted,
        Disclosed,
        Rejected,
        Duplicate,
        OutOfScope,
        Spam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            New => "new",
            Acknowledged => "acknowledged",
            Triaged => "triaged",
            Accepted => "accepted",
            Fixed => "fixed",
            RiskAccepted => "risk-accepted",
            Disclosed => "disclosed",
            Rejected => "rejected",
            Duplicate => "duplicate",
            OutOfScope => "out-of-scope",
            Spam => "spam",
        }
    }

    pub fn can_become(self, next: ReportState) -> bool {
        TRANSITIONS
            .iter()
            .any(|(from, to)| *from == self && to.contains(&next))
    }

    /// Closed reports run no clocks and get no reminders. A report whose risk
    /// was accepted stays open until it is disclosed.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            New | Acknowledged | Triaged | Accepted | Fixed | RiskAccepted
        )
    }
}

impl fmt::Display for ReportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a report state (one of: new, acknowledged, triaged, accepted, fixed, risk-accepted, disclosed, rejected, duplicate, out-of-scope, spam)"
)]
pub struct UnknownState(pub String);

impl FromStr for ReportState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == wanted)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// How the reporter wants to be credited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "credit", rename_all = "kebab-case")]
pub enum Credit {
    /// Not said yet.
    Unknown,
    Named {
        name: String,
        /// Where they work, shown as "NAME from AFFILIATION".
        #[serde(skip_serializing_if = "Option::is_none")]
        affiliation: Option<String>,
        url: Option<String>,
        /// The stable name credits of one person merge by (`#credit-key`);
        /// `None` means "derived from the name".
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// Not to be credited.
    None,
}

/// The reporter's answer to "how would you like to be credited?": the first
/// line of `text` (outside quotes) that reads `Credit: Name <url>`, `Credit:
/// Name from Affiliation <url>`, `Credit: Name` or `Credit: none`. A URL must
/// be http(s); names and affiliations are kept to 100 characters without
/// control or invisible formatting characters.
pub fn credit_line(text: &str) -> Option<Credit> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('>'))
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("credit") {
                return None;
            }
            let value = value.trim();
            if value.eq_ignore_ascii_case("none") || value.eq_ignore_ascii_case("no") {
                return Some(Credit::None);
            }
            let (who, url) = match value.split_once('<') {
                Some((who, rest)) => {
                    let url = rest.trim_end().strip_suffix('>')?.trim();
                    let lower = url.to_ascii_lowercase();
                    if !(lower.starts_with("https://") || lower.starts_with("http://"))
                        || url.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        return None;
                    }
                    (who.trim(), Some(url.to_owned()))
                }
                None => (value, None),
            };
            let (name, affiliation) = split_affiliation(who)?;
            if name.eq_ignore_ascii_case("name") || check_credit_text(name).is_err() {
                return None;
            }
            if let Some(a) = affiliation
                && check_credit_text(a).is_err()
            {
                return None;
            }
            Some(Credit::Named {
                name: name.to_owned(),
                affiliation: affiliation.map(str::to_owned),
                url,
                key: None,
            })
        })
}

/// Splits `"Jane Doe" from "ACME"`, `Jane Doe from ACME` or `Jane Doe` into
/// the name and the affiliation, quotes removed. `None` when a quote is not
/// closed or text follows a quoted name without `from`.
pub fn split_affiliation(text: &str) -> Option<(&str, Option<&str>)> {
    let text = text.trim();
    let (name, rest) = match text.strip_prefix('"') {
        Some(quoted) => {
            let (name, rest) = quoted.split_once('"')?;
            (name.trim(), rest.trim())
        }
        None => match find_from(text) {
            Some(at) => (text[..at].trim(), text[at..].trim()),
            None => (text, ""),
        },
    };
    if rest.is_empty() {
        return Some((name, None));
    }
    let after = rest
        .get(..5)
        .filter(|w| w.eq_ignore_ascii_case("from "))
        .map(|_| rest[5..].trim())?;
    let affiliation = match after.strip_prefix('"') {
        Some(quoted) => {
            let (aff, tail) = quoted.split_once('"')?;
            if !tail.trim().is_empty() {
                return None;
            }
            aff.trim()
        }
        None => after,
    };
    Some((name, Some(affiliation)))
}

/// The byte offset of the first ` from ` (any case) in `text`, at its space.
fn find_from(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    lower.find(" from ").map(|at| at + 1)
}

/// Longest credit name, affiliation or key.
pub const MAX_CREDIT_TEXT: usize = 100;

/// Why a credit name, affiliation or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditTextError {
    #[error("it is empty")]
    Empty,
    #[error("it is {0} characters long; at most 100 are allowed")]
    TooLong(usize),
    #[error("it contains control characters or invisible formatting characters")]
    Hidden,
}

/// Checks text that is published as someone's credit: not empty, at most
/// [`MAX_CREDIT_TEXT`] characters, and without control characters or the
/// invisible ones (bidirectional overrides, zero-width characters) that make
/// a published name read differently from what the team approved.
pub fn check_credit_text(text: &str) -> Result<(), CreditTextError> {
    let length = text.chars().count();
    if text.trim().is_empty() {
        Err(CreditTextError::Empty)
    } else if length > MAX_CREDIT_TEXT {
        Err(CreditTextError::TooLong(length))
    } else if text.chars().any(is_hidden) {
        Err(CreditTextError::Hidden)
    } else {
        Ok(())
    }
}

/// Control characters and invisible formatting characters.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
}

/// One product and version range a report affects (`#affects`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    pub product: String,
    /// Canonical: `*`, `< 9.5.3`, `>= 9.0, < 9.5.3`, `9.5.0 - 9.5.2`, `= 9.1.0`.
    pub versions: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_format_and_parse_case_insensitively() {
        let id = ReportId::new("SEC", 2026, 42);
        assert_eq!(id.as_str(), "SEC-2026-0042");
        assert_eq!(ReportId::parse("SEC", "sec-2026-0042"), Some(id));
        assert_eq!(ReportId::new("SEC", 2026, 12345).as_str(), "SEC-2026-12345");
        for bad in [
            "SEC-26-0042",
            "SEC-2026-42",
            "SECX-2026-0042",
            "SEC-2026-00a2",
            "SEC2026-0042",
        ] {
            assert_eq!(ReportId::parse("SEC", bad), None, "{bad}");
        }
    }

    #[test]
    fn every_state_has_a_row_and_round_trips() {
        for state in ReportState::ALL {
            assert!(
                TRANSITIONS.iter().any(|(from, _)| *from == state),
                "{state}"
            );
            assert_eq!(state.as_str().parse::<ReportState>(), Ok(state));
        }
        assert!("closed".parse::<ReportState>().is_err());
    }

    #[test]
    fn credit_lines() {
        let named = |name: &str, url: Option<&str>| {
            Some(Credit::Named {
                name: name.into(),
                affiliation: None,
                url: url.map(Into::into),
                key: None,
            })
        };
        let from = |name: &str, affiliation: &str, url: Option<&str>| {
            Some(Credit::Named {
                name: name.into(),
                affiliation: Some(affiliation.into()),
                url: url.map(Into::into),
                key: None,
            })
        };
        let table = [
            (
                "Thanks!\n\nCredit: Jane Doe <https://jane.example>\n",
                named("Jane Doe", Some("https://jane.example")),
            ),
            ("credit: \"J. Doe\"", named("J. Doe", None)),
            ("Credit: none", Some(Credit::None)),
            ("CREDIT:   None  ", Some(Credit::None)),
            ("> Credit: Jane Doe <https://jane.example>", None),
            ("Credit: Jane <javascript:alert(1)>", None),
            ("Credit: Jane <https://jane.example", None),
            ("Credit:", None),
            ("I would like credit: yes please", None),
            ("no credit line at all", None),
            (
                "Credit: Jane Doe from ACME <https://jane.example>",
                from("Jane Doe", "ACME", Some("https://jane.example")),
            ),
            (
                "Credit: \"Yoni Ramon\" from \"Tesla security team\"",
                from("Yoni Ramon", "Tesla security team", None),
            ),
            (
                "Credit: Jane FROM Acme Corp",
                from("Jane", "Acme Corp", None),
            ),
            ("Credit: \"Jane\" trailing", None),
        ];
        for (text, expected) in table {
            assert_eq!(credit_line(text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_credit_line_with_hidden_characters_is_not_recorded() {
        for text in [
            "Credit: Jane\u{202E}eoD",
            "Credit: Ja\u{200B}ne",
            "Credit: Jane from AC\u{202E}ME",
            "Credit: \u{FEFF}",
        ] {
            assert_eq!(credit_line(text), None, "{text:?}");
        }
        let long = format!("Credit: Jane from {}", "A".repeat(101));
        assert_eq!(credit_line(&long), None);
    }

    #[test]
    fn transitions_follow_the_lifecycle() {
        assert!(New.can_become(Acknowledged));
        assert!(Accepted.can_become(Fixed));
        assert!(!New.can_become(Fixed));
        assert!(!Disclosed.can_become(New));
        assert!(Spam.can_become(Triaged));
        assert!(!Rejected.is_open());
    }
}

/// A report's severity, as `#severity` sets it and a CVSS score rates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// All severities, mildest first.
    pub const ALL: [Severity; 5] = [
        Self::None,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// The lower-case name: `none` … `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses a name in any case.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
