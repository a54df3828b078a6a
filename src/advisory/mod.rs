//! Advisory drafts for a report the team closed: a human advisory (Markdown or
//! HTML, through templates the team can replace), a CVE JSON 5.1 record, an OSV
//! record and a CSAF 2.0 security advisory.
//!
//! Every renderer is a pure function of a [`Draft`] (what the team marked
//! public about one report) and a [`Publisher`] (the `[advisory]` section).
//! Neither holds anything the team did not publish: no reporter address, no
//! subject, no message text, no member, no internal note. The text of the
//! advisory is the team's `#summary`, or a sentence built from the public
//! facts when there is none.

mod collect;
mod csaf;
mod cve;
mod cwe;
mod human;
mod osv;
#[cfg(test)]
mod tests;
mod versions;

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::report::{ReportState, Severity};

pub use collect::{ReportAdvisoryError, advisory_url, draft_from_store, markdown_for_report};
pub use human::{Templates, TemplatesError, template_file_names};
pub use versions::VersionRange;

/// Everything public about one report, as the team marked it.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    /// The report id, which is also the advisory's id (`SEC-2026-0042`).
    pub id: String,
    /// The advisory's public title (never the reporter's subject).
    pub title: String,
    /// The team's `#summary`, the only free text an advisory carries.
    pub summary: Option<String>,
    pub cve: Option<String>,
    /// `CWE-79`.
    pub cwe: Option<String>,
    pub severity: Option<Severity>,
    pub cvss: Option<Cvss>,
    /// Products and version ranges as `#affects` recorded them; empty means
    /// the publisher's default product.
    pub affected: Vec<Affected>,
    pub fixed_in: Option<String>,
    /// `None` unless the reporter agreed to be credited.
    pub credit: Option<Credit>,
    /// Reported, acknowledged, fixed or risk accepted, disclosed, in order.
    pub timeline: Vec<TimelineEntry>,
    pub state: ReportState,
    /// Why the team accepted the risk, as it wrote it for publication.
    pub risk_reason: Option<String>,
    /// When the advisory is (or was) public.
    pub date_public: Option<Timestamp>,
    /// Public URLs, the advisory's own first.
    pub references: Vec<String>,
}

/// A CVSS base vector and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cvss {
    /// `CVSS:3.1/AV:N/…`.
    pub vector: String,
    pub score: f64,
    /// `3.0`, `3.1` or `4.0`, from the vector's prefix.
    pub version: String,
}

impl Cvss {
    /// The vector with its version read from its `CVSS:x.y/` prefix; `None`
    /// for a vector without one.
    pub fn from_vector(vector: &str, score: f64) -> Option<Self> {
        let version = vector.strip_prefix("CVSS:")?.split('/').next()?;
        matches!(version, "3.0" | "3.1" | "4.0").then(|| Self {
            vector: vector.to_owned(),
            score,
            version: version.to_owned(),
        })
    }

    /// The qualitative rating of the score, as CVSS defines it.
    pub fn rating(&self) -> Severity {
        match self.score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }
}

/// One affected product and its versions, as written (`>= 2.0, < 2.4.1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Affected {
    pub product: String,
    pub versions: String,
}

/// How the reporter is credited: a name, an optional affiliation and URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credit {
    pub name: String,
    pub affiliation: Option<String>,
    pub url: Option<String>,
}

impl Credit {
    /// `Jane Doe from Example Security`.
    pub fn line(&self) -> String {
        match &self.affiliation {
            Some(a) => format!("{} from {a}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A step of the public timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Milestone {
    Reported,
    Acknowledged,
    Fixed,
    RiskAccepted,
    Disclosed,
}

impl Milestone {
    pub fn label(self) -> &'static str {
        match self {
            Self::Reported => "Reported",
            Self::Acknowledged => "Acknowledged",
            Self::Fixed => "Fixed",
            Self::RiskAccepted => "Risk accepted",
            Self::Disclosed => "Disclosed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub milestone: Milestone,
    /// The day, in the program's time zone.
    pub date: Date,
}

/// Who publishes the advisory: the `[advisory]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publisher {
    /// The vendor of the affected products.
    pub vendor: String,
    /// The product an advisory names when the team recorded no `#affects`.
    pub product: Option<String>,
    /// The CNA's organisation id (a UUID), required for CVE records.
    pub cna_org_id: Option<String>,
    /// The CNA's short name in the CVE program.
    pub cna_short_name: Option<String>,
    /// The CSAF publisher name (default: the vendor).
    pub csaf_name: Option<String>,
    /// The CSAF publisher namespace (an https URL), required for CSAF.
    pub csaf_namespace: Option<String>,
    pub csaf_category: CsafCategory,
    /// The OSV id prefix of the team's own database, if registered.
    pub osv_prefix: Option<String>,
    /// The OSV ecosystem of the products (`crates.io`, `PyPI`, …), if any.
    pub osv_ecosystem: Option<String>,
    /// The public address of each advisory, `{id}` standing for its id.
    pub url: Option<String>,
}

impl Publisher {
    /// The public address of advisory `id`, if the publisher says where.
    pub fn advisory_url(&self, id: &str) -> Option<String> {
        self.url.as_ref().map(|pattern| pattern.replace("{id}", id))
    }
}

/// The CSAF publisher category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CsafCategory {
    Coordinator,
    Discoverer,
    Other,
    Translator,
    User,
    #[default]
    Vendor,
}

impl CsafCategory {
    pub const NAMES: &'static str = "coordinator, discoverer, other, translator, user, vendor";
}

impl FromStr for CsafCategory {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "coordinator" => Self::Coordinator,
            "discoverer" => Self::Discoverer,
            "other" => Self::Other,
            "translator" => Self::Translator,
            "user" => Self::User,
            "vendor" => Self::Vendor,
            _ => return Err(()),
        })
    }
}

/// The formats a draft renders to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Html,
    Cve,
    Osv,
    Csaf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md => "md",
            Self::Html => "html",
            Self::Cve => "cve",
            Self::Osv => "osv",
            Self::Csaf => "csaf",
        }
    }

    /// Whether the rendered text is JSON.
    pub fn is_json(self) -> bool {
        matches!(self, Self::Cve | Self::Osv | Self::Csaf)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why a draft cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error(
        "{id} is {state}: an advisory is drafted once a report is fixed, risk-accepted or disclosed"
    )]
    NotReady { id: String, state: ReportState },
    #[error("{id} has no CVE id: record one with #cve before drafting a CVE record")]
    NoCve { id: String },
    #[error(
        "{id} names no affected product: record one with #affects, or set `[advisory] product`"
    )]
    NoProduct { id: String },
    #[error("`[advisory] {key}` is not set: {why}")]
    Missing {
        key: &'static str,
        why: &'static str,
    },
    #[error(
        "{id} has no public reference: a CVE record needs the advisory's public URL (`[advisory] url`)"
    )]
    NoReference { id: String },
    #[error(
        "{id} has no OSV id: set `[advisory] osv_prefix` to the team's registered OSV prefix, or record a CVE id with #cve"
    )]
    NoOsvId { id: String },
    #[error(transparent)]
    Template(#[from] TemplatesError),
    #[error("cannot serialize the {format} draft: {source}")]
    Json {
        format: Format,
        source: serde_json::Error,
    },
}

/// Whether a report in `state` may have an advisory drafted.
pub fn ready(state: ReportState) -> bool {
    matches!(
        state,
        ReportState::Fixed | ReportState::RiskAccepted | ReportState::Disclosed
    )
}

impl Draft {
    /// The products the advisory names: the recorded ones, else the
    /// publisher's default product with the versions before the fix.
    pub fn products(&self, publisher: &Publisher) -> Vec<Affected> {
        if !self.affected.is_empty() {
            return self.affected.clone();
        }
        publisher
            .product
            .iter()
            .map(|product| Affected {
                product: product.clone(),
                versions: self
                    .fixed_in
                    .as_ref()
                    .map_or_else(|| "*".to_owned(), |f| format!("< {f}")),
            })
            .collect()
    }

    /// The advisory's text: the team's summary, else a sentence built from
    /// public facts only. It never names the reporter (CVE rules keep credit
    /// out of descriptions).
    pub fn description(&self, publisher: &Publisher) -> String {
        if let Some(summary) = self.summary.as_deref().filter(|s| !s.trim().is_empty()) {
            return summary.trim().to_owned();
        }
        let kind = self
            .cwe
            .as_deref()
            .and_then(cwe::name)
            .map_or_else(|| "A vulnerability".to_owned(), |n| n.to_owned());
        let products = self.products(publisher);
        let mut text = if products.is_empty() {
            format!("{kind} was found")
        } else {
            let list: Vec<String> = products
                .iter()
                .map(|a| format!("{} {}", a.product, a.versions))
                .collect();
            format!("{kind} affects {}", list.join(", "))
        };
        match (&self.fixed_in, self.state_or_risk()) {
            (Some(fixed), _) => text.push_str(&format!("; it is fixed in {fixed}.")),
            (None, true) => text.push_str("; the vendor accepted the risk and provides no fix."),
            (None, false) => text.push('.'),
        }
        text
    }

    /// The title the CLI gives a draft: the kind of weakness and the product.
    pub fn derived_title(
        cwe: Option<&str>,
        severity: Option<Severity>,
        products: &[Affected],
    ) -> String {
        let kind = cwe
            .and_then(cwe::name)
            .map(str::to_owned)
            .unwrap_or_else(|| match severity {
                Some(s) if s != Severity::None => {
                    let s = s.as_str();
                    format!(
                        "{}{} severity vulnerability",
                        s[..1].to_uppercase(),
                        &s[1..]
                    )
                }
                _ => "Vulnerability".to_owned(),
            });
        let names: Vec<&str> = products.iter().map(|a| a.product.as_str()).collect();
        if names.is_empty() {
            kind
        } else {
            format!("{kind} in {}", names.join(", "))
        }
    }

    /// Whether the report ended in an accepted risk rather than a fix.
    fn state_or_risk(&self) -> bool {
        self.state == ReportState::RiskAccepted
            || (self.fixed_in.is_none()
                && self
                    .timeline
                    .iter()
                    .any(|t| t.milestone == Milestone::RiskAccepted))
    }

    /// The severity to publish: the team's, else the CVSS rating.
    pub fn public_severity(&self) -> Option<Severity> {
        self.severity
            .or_else(|| self.cvss.as_ref().map(Cvss::rating))
    }

    fn check_ready(&self) -> Result<(), AdvisoryError> {
        if ready(self.state) {
            Ok(())
        } else {
            Err(AdvisoryError::NotReady {
                id: self.id.clone(),
                state: self.state,
            })
        }
    }
}

/// Renders `draft` as `format`. `now` dates what has no date of its own (the
/// modification time of an OSV record, a CSAF draft's release).
pub fn render(
    format: Format,
    draft: &Draft,
    publisher: &Publisher,
    templates: &Templates,
    now: Timestamp,
) -> Result<String, AdvisoryError> {
    draft.check_ready()?;
    let json = |format: Format, value: serde_json::Result<String>| {
        value.map_err(|source| AdvisoryError::Json { format, source })
    };
    match format {
        Format::Md => templates.markdown(&human::view(draft, publisher)),
        Format::Html => templates.html(&human::view(draft, publisher)),
        Format::Cve => json(
            format,
            serde_json::to_string_pretty(&cve::record(draft, publisher)?),
        ),
        Format::Osv => json(
            format,
            serde_json::to_string_pretty(&osv::record(draft, publisher, now)?),
        ),
        Format::Csaf => json(
            format,
            serde_json::to_string_pretty(&csaf::document(draft, publisher, now)?),
        ),
    }
}

/// `2026-03-01T12:00:00Z`: whole seconds in UTC, as the schemas' date-time
/// patterns want.
fn timestamp(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Whether `url` may be linked and published: only http(s), so a stored
/// value can never become a `javascript:` link, and only characters a URI
/// may hold (RFC 3986), as the schemas' `uri` format requires.
fn linkable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty())
        && url
            .chars()
            .all(|c| c.is_ascii_graphic() && !"\"<>\\^`{|}".contains(c))
}
