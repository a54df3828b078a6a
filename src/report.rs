//! What a report is: its id (`SEC-2026-0042`) and its lifecycle (its states and
//! the transitions between them), as one table that the code and the tests share.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

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
        url: Option<String>,
    },
    /// Not to be credited.
    None,
}

/// The reporter's answer to "how would you like to be credited?": the first
/// line of `text` (outside quotes) that reads `Credit: Name <url>`, `Credit:
/// Name` or `Credit: none`. A URL must be http(s); names are kept to 100
/// characters without control characters.
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
            let (name, url) = match value.split_once('<') {
                Some((name, rest)) => {
                    let url = rest.trim_end().strip_suffix('>')?.trim();
                    let lower = url.to_ascii_lowercase();
                    if !(lower.starts_with("https://") || lower.starts_with("http://"))
                        || url.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        return None;
                    }
                    (name.trim(), Some(url.to_owned()))
                }
                None => (value, None),
            };
            let name = name.trim_matches('"').trim();
            if name.is_empty()
                || name.chars().count() > 100
                || name.chars().any(char::is_control)
                || name.eq_ignore_ascii_case("name")
            {
                return None;
            }
            Some(Credit::Named {
                name: name.to_owned(),
                url,
            })
        })
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
                url: url.map(Into::into),
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
        ];
        for (text, expected) in table {
            assert_eq!(credit_line(text), expected, "{text:?}");
        }
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
