//! `#cvss VECTOR`: a CVSS v3.0, v3.1 or v4.0 base vector, scored.
//!
//! The `cvss` crate scores an incomplete v3 vector (`CVSS:3.1/AV:N/AC:L`) as 0.0
//! instead of refusing it, and scores v2 vectors too; both would store a wrong
//! severity, so this module checks the version and every base metric itself.

use std::fmt;

use super::Severity;

/// A scored CVSS vector as the team gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct CvssScore {
    /// The vector as given, trimmed (`CVSS:3.1/AV:N/…`).
    pub vector: String,
    pub version: CvssVersion,
    /// The score the vector yields (0.0–10.0).
    pub score: f64,
    pub severity: Severity,
}

/// The CVSS versions we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvssVersion {
    V3_0,
    V3_1,
    V4_0,
}

impl CvssVersion {
    /// The version as written in the vector prefix: `3.0`, `3.1`, `4.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V3_0 => "3.0",
            Self::V3_1 => "3.1",
            Self::V4_0 => "4.0",
        }
    }

    /// The metrics a vector of this version must carry to have a base score.
    fn base_metrics(self) -> &'static [&'static str] {
        match self {
            Self::V3_0 | Self::V3_1 => &["AV", "AC", "PR", "UI", "S", "C", "I", "A"],
            Self::V4_0 => &[
                "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
            ],
        }
    }
}

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

const MAX_VECTOR: usize = 300;

/// Parses and scores `text`; the error says what is wrong with the vector.
pub(super) fn parse_cvss(text: &str) -> Result<CvssScore, String> {
    let vector = text.trim();
    // The longest v4.0 vector, every optional metric included, is under 200 characters.
    if vector.len() > MAX_VECTOR {
        return Err(format!(
            "`{}` is {} characters long, longer than any CVSS vector",
            super::shorten(vector),
            vector.len()
        ));
    }
    let version = if let Some(rest) = vector.strip_prefix("CVSS:") {
        match rest.split_once('/').map_or(rest, |(version, _)| version) {
            "3.0" => CvssVersion::V3_0,
            "3.1" => CvssVersion::V3_1,
            "4.0" => CvssVersion::V4_0,
            other => {
                return Err(format!(
                    "CVSS version `{}` is not supported; use 3.0, 3.1 or 4.0",
                    super::shorten(other)
                ));
            }
        }
    } else {
        return Err(
            "a vector starts with `CVSS:3.1/`, `CVSS:3.0/` or `CVSS:4.0/` (CVSS v2 is not supported)"
                .to_owned(),
        );
    };
    let parsed: cvss::Cvss = vector.parse().map_err(|err| format!("{err}"))?;
    let present: Vec<&str> = parsed.metrics().map(|(metric, _)| metric.name()).collect();
    let missing: Vec<&str> = version
        .base_metrics()
        .iter()
        .copied()
        .filter(|name| !present.contains(name))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing base metric{} {}; a CVSS {version} vector needs all of {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            version.base_metrics().join(", "),
        ));
    }
    Ok(CvssScore {
        vector: vector.to_owned(),
        version,
        score: parsed.score(),
        severity: severity_of(parsed.severity()),
    })
}

/// The severity a CVSS rating names.
fn severity_of(severity: ::cvss::Severity) -> Severity {
    match severity {
        ::cvss::Severity::None => Severity::None,
        ::cvss::Severity::Low => Severity::Low,
        ::cvss::Severity::Medium => Severity::Medium,
        ::cvss::Severity::High => Severity::High,
        ::cvss::Severity::Critical => Severity::Critical,
    }
}
