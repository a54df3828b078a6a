//! The site's pages from plain inputs: Hall of Fame, security updates by
//! release, advisories, statistics. Pure: no store, no clock; the same input
//! gives the same bytes, which is what makes publishing idempotent.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::charts::{Bar, bar_chart};
use super::hall_of_fame::{Line, day};
use super::site::{Compare, SiteFile, is_site_path};
use super::templates::{SiteTemplateError, SiteTemplates};

/// What every page shows around its content.
#[derive(Debug, Clone, Serialize)]
pub struct SiteInfo {
    pub program: String,
    /// The program address.
    pub contact: String,
    pub policy_url: Option<String>,
}

/// One disclosed report on the Security Updates page.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryInput {
    pub id: String,
    /// Only what the team marked public.
    pub title: String,
    pub cve: Option<String>,
    pub severity: Option<String>,
    /// The release that fixes it; `None`: no fixed release (risk accepted).
    pub fixed_in: Option<String>,
    pub disclosed_at: Timestamp,
}

/// The files one advisory publishes, already rendered, each named
/// `<id>.<suffix>` under `advisories/` (e.g. `SEC-2026-0001.html`,
/// `SEC-2026-0001.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One measured report for the statistics page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub opened: Timestamp,
    pub seconds: i64,
}

/// What the statistics page shows.
#[derive(Debug, Clone, Default)]
pub struct StatsInput {
    pub reports: usize,
    pub acknowledge: Vec<Sample>,
    pub fix: Vec<Sample>,
}

/// Everything the site is made of.
#[derive(Debug, Clone)]
pub struct SiteInput {
    pub info: SiteInfo,
    pub hall_of_fame: Vec<Line>,
    pub advisories: Vec<AdvisoryInput>,
    pub advisory_files: Vec<AdvisoryFile>,
    pub stats: StatsInput,
    /// The signed `security.txt`.
    pub security_txt: String,
    /// The team's public certificate, armored.
    pub public_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Template(#[from] SiteTemplateError),
    #[error("advisory file name `{0}` is not a plain file name")]
    BadName(String),
}

#[derive(Serialize)]
struct Page<'a, T: Serialize> {
    title: &'a str,
    site: SiteView<'a>,
    #[serde(flatten)]
    content: T,
}

#[derive(Serialize)]
struct SiteView<'a> {
    program: &'a str,
    contact: &'a str,
    policy_url: Option<&'a str>,
    /// The way back to the top of the site from this page.
    root: &'a str,
}

fn page<'a, T: Serialize>(
    info: &'a SiteInfo,
    title: &'a str,
    root: &'a str,
    content: T,
) -> Page<'a, T> {
    Page {
        title,
        site: SiteView {
            program: &info.program,
            contact: &info.contact,
            policy_url: info.policy_url.as_deref(),
            root,
        },
        content,
    }
}

#[derive(Serialize)]
struct HallLine<'a> {
    #[serde(flatten)]
    line: &'a Line,
    position: usize,
    contributions_text: String,
}

#[derive(Serialize)]
struct HallContent<'a> {
    lines: Vec<HallLine<'a>>,
}

fn hall_content(lines: &[Line]) -> HallContent<'_> {
    HallContent {
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, line)| HallLine {
                line,
                position: i + 1,
                contributions_text: match line.contributions {
                    1 => "1 contribution".into(),
                    n => format!("{n} contributions"),
                },
            })
            .collect(),
    }
}

/// How `disclosed hall-of-fame` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Html,
    Md,
    Json,
}

/// The Hall of Fame as a page, Markdown or JSON.
pub fn hall_of_fame(
    templates: &SiteTemplates,
    info: &SiteInfo,
    lines: &[Line],
    format: Format,
) -> Result<String, PageError> {
    Ok(match format {
        Format::Html => templates.html(
            "hall-of-fame",
            &page(info, "Security Hall of Fame", "", hall_content(lines)),
        )?,
        Format::Md => templates.markdown("hall-of-fame", &hall_content(lines))?,
        Format::Json => {
            let mut text = serde_json::to_string_pretty(lines).unwrap_or_else(|_| "[]".into());
            text.push('\n');
            text
        }
    })
}

/// Version order: numeric parts compared as numbers, the rest as text, so
/// `10.2` sorts after `9.11`.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parts(v: &str) -> Vec<Result<u64, &str>> {
        v.split(['.', '-', '_', '+'])
            .map(|p| p.parse::<u64>().map_err(|_| p))
            .collect()
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x, y) {
            (Ok(x), Ok(y)) => x.cmp(y),
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(x), Err(y)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

#[derive(Serialize)]
struct ReleaseView<'a> {
    version: Option<&'a str>,
    advisories: Vec<AdvisoryView<'a>>,
}

#[derive(Serialize)]
struct AdvisoryView<'a> {
    id: &'a str,
    href: String,
    title: &'a str,
    cve: Option<&'a str>,
    severity: Option<&'a str>,
    disclosed_day: String,
}

/// Advisories grouped by the release that fixes them, newest release first
/// (those without one last), newest disclosure first within a release.
fn releases(advisories: &[AdvisoryInput]) -> Vec<ReleaseView<'_>> {
    let mut groups: BTreeMap<Option<&str>, Vec<&AdvisoryInput>> = BTreeMap::new();
    for a in advisories {
        groups.entry(a.fixed_in.as_deref()).or_default().push(a);
    }
    let mut out: Vec<_> = groups.into_iter().collect();
    out.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) => compare_versions(b, a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    out.into_iter()
        .map(|(version, mut list)| {
            list.sort_by(|a, b| {
                b.disclosed_at
                    .cmp(&a.disclosed_at)
                    .then_with(|| b.id.cmp(&a.id))
            });
            ReleaseView {
                version,
                advisories: list
                    .into_iter()
                    .map(|a| AdvisoryView {
                        id: &a.id,
                        href: format!("advisories/{}.html", a.id),
                        title: &a.title,
                        cve: a.cve.as_deref(),
                        severity: a.severity.as_deref(),
                        disclosed_day: day(a.disclosed_at),
                    })
                    .collect(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct Measure {
    name: &'static str,
    count: usize,
    median: String,
    p90: String,
}

#[derive(Serialize)]
struct Chart {
    svg: String,
    caption: String,
}

#[derive(Serialize)]
struct StatsContent {
    reports: usize,
    measures: Vec<Measure>,
    charts: Vec<Chart>,
}

/// The months with data (at most the last 12), each with the median of its
/// samples in `unit_seconds`.
fn monthly_medians(samples: &[Sample], unit_seconds: f64) -> Vec<Bar> {
    let mut months: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for s in samples {
        let month = s
            .opened
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m")
            .to_string();
        months.entry(month).or_default().push(s.seconds.max(0));
    }
    let skip = months.len().saturating_sub(12);
    months
        .into_iter()
        .skip(skip)
        .map(|(label, mut values)| {
            values.sort_unstable();
            Bar {
                label,
                value: values[(values.len() - 1) / 2] as f64 / unit_seconds,
            }
        })
        .collect()
}

fn human(seconds: i64) -> String {
    let hours = seconds as f64 / 3600.0;
    if hours < 48.0 {
        format!("{hours:.1} hours")
    } else {
        format!("{:.1} days", hours / 24.0)
    }
}

fn measure(name: &'static str, samples: &[Sample]) -> Measure {
    let mut values: Vec<i64> = samples.iter().map(|s| s.seconds.max(0)).collect();
    values.sort_unstable();
    let rank = |p: usize| values[((p * values.len()).div_ceil(100)).max(1).min(values.len()) - 1];
    if values.is_empty() {
        return Measure {
            name,
            count: 0,
            median: "–".into(),
            p90: "–".into(),
        };
    }
    Measure {
        name,
        count: values.len(),
        median: human(rank(50)),
        p90: human(rank(90)),
    }
}

fn statistics(
    templates: &SiteTemplates,
    info: &SiteInfo,
    stats: &StatsInput,
) -> Result<String, PageError> {
    let content = StatsContent {
        reports: stats.reports,
        measures: vec![
            measure("Time to acknowledge", &stats.acknowledge),
            measure("Time to fix", &stats.fix),
        ],
        charts: vec![
            Chart {
                svg: bar_chart(
                    "ack",
                    "Median time to acknowledge by month of arrival, in hours",
                    "hours",
                    &monthly_medians(&stats.acknowledge, 3600.0),
                    "bar",
                ),
                caption: "Median time to acknowledge a report, by month of arrival (hours).".into(),
            },
            Chart {
                svg: bar_chart(
                    "fix",
                    "Median time to fix by month of arrival, in days",
                    "days",
                    &monthly_medians(&stats.fix, 86400.0),
                    "bar2",
                ),
                caption: "Median time from arrival to fix, by month of arrival (days).".into(),
            },
        ],
    };
    Ok(templates.html(
        "statistics",
        &page(info, "Response statistics", "", content),
    )?)
}

/// Every file of the site.
pub fn render_site(
    templates: &SiteTemplates,
    input: &SiteInput,
) -> Result<Vec<SiteFile>, PageError> {
    let file = |path: &str, text: String| SiteFile {
        path: path.into(),
        bytes: text.into_bytes(),
        compare: Compare::Bytes,
    };
    let mut files = vec![
        SiteFile {
            path: ".well-known/security.txt".into(),
            bytes: input.security_txt.clone().into_bytes(),
            compare: Compare::SignedText,
        },
        file("pgp-key.txt", input.public_key.clone()),
        file(
            "hall-of-fame.html",
            hall_of_fame(templates, &input.info, &input.hall_of_fame, Format::Html)?,
        ),
        file(
            "security-updates.html",
            templates.html(
                "security-updates",
                &page(
                    &input.info,
                    "Security updates",
                    "",
                    serde_json::json!({ "releases": releases(&input.advisories) }),
                ),
            )?,
        ),
        file(
            "statistics.html",
            statistics(templates, &input.info, &input.stats)?,
        ),
    ];
    for a in &input.advisory_files {
        let path = format!("advisories/{}", a.name);
        if a.name.contains('/') || !is_site_path(&path) {
            return Err(PageError::BadName(a.name.clone()));
        }
        files.push(SiteFile {
            path,
            bytes: a.bytes.clone(),
            compare: Compare::Bytes,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
