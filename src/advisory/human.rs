//! The human advisory, Markdown and HTML, through Handlebars templates that a
//! `[templates] dir` can replace (`advisory.md.hbs`, `advisory.html.hbs`).
//!
//! The HTML registry escapes every value (`{{x}}`); the built-in page is
//! self-contained (inline style, no script, no external asset) and forbids
//! anything else with its Content-Security-Policy. Links are made only from
//! http(s) URLs. Markdown takes the team's values as written; `{{md x}}`
//! escapes Markdown's inline markup in text the reporter chose (the credit).

use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;

use super::{Draft, Publisher, linkable};

const MARKDOWN: &str = "advisory.md";
const HTML: &str = "advisory.html";

/// The built-in templates and the file name that replaces each.
const BUILTIN: &[(&str, &str, &str)] = &[
    (
        MARKDOWN,
        "advisory.md.hbs",
        include_str!("../../templates/advisory.md.hbs"),
    ),
    (
        HTML,
        "advisory.html.hbs",
        include_str!("../../templates/advisory.html.hbs"),
    ),
];

/// The file names in `[templates] dir` that belong to advisories (the mail
/// templates' loader leaves them to this module).
pub fn template_file_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(_, file, _)| *file)
}

#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template {origin} does not compile: {source}")]
    Compile {
        origin: String,
        source: Box<handlebars::TemplateError>,
    },
    #[error("template {origin} does not render an advisory: {source}")]
    Sample {
        origin: String,
        source: Box<handlebars::RenderError>,
    },
    #[error("the advisory template `{name}` failed to render: {source}")]
    Render {
        name: &'static str,
        source: Box<handlebars::RenderError>,
    },
}

/// The compiled advisory templates.
#[derive(Debug)]
pub struct Templates {
    markdown: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl Templates {
    /// The built-in templates (a unit test compiles them).
    pub fn builtin() -> Result<Self, TemplatesError> {
        Self::load(None)
    }

    /// The built-in templates, replaced by those in `dir` where present. A
    /// replacement is compiled and rendered against a sample advisory now, so
    /// a broken one is found before an advisory is wanted.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplatesError> {
        let mut markdown = Handlebars::new();
        markdown.register_escape_fn(handlebars::no_escape);
        markdown.set_strict_mode(true);
        markdown.register_helper("md", Box::new(markdown_helper));
        let mut html = Handlebars::new();
        // The default escape function: `&<>"'`=` become entities.
        html.set_strict_mode(true);
        for (name, file, builtin) in BUILTIN {
            let registry = if *name == HTML {
                &mut html
            } else {
                &mut markdown
            };
            let path = dir.map(|d| d.join(file)).filter(|p| p.is_file());
            let (origin, text) = match &path {
                Some(path) => (
                    path.display().to_string(),
                    std::fs::read_to_string(path).map_err(|source| TemplatesError::Read {
                        path: path.clone(),
                        source,
                    })?,
                ),
                None => (format!("built-in `{file}`"), (*builtin).to_owned()),
            };
            registry
                .register_template_string(name, text)
                .map_err(|source| TemplatesError::Compile {
                    origin: origin.clone(),
                    source: Box::new(source),
                })?;
            if path.is_some() {
                registry.render(name, &View::sample()).map_err(|source| {
                    TemplatesError::Sample {
                        origin,
                        source: Box::new(source),
                    }
                })?;
            }
        }
        Ok(Self { markdown, html })
    }

    pub(super) fn markdown(&self, view: &View) -> Result<String, super::AdvisoryError> {
        render(&self.markdown, MARKDOWN, view)
    }

    pub(super) fn html(&self, view: &View) -> Result<String, super::AdvisoryError> {
        render(&self.html, HTML, view)
    }
}

/// `{{md value}}`: `value` with Markdown's punctuation backslash-escaped, for
/// text the reporter chose (the credit), which must not become a link, an
/// image or HTML when the Markdown is rendered.
fn markdown_helper(
    h: &handlebars::Helper<'_>,
    _: &Handlebars<'_>,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let value = h.param(0).map(|p| p.value().clone()).unwrap_or_default();
    let text = match &value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    out.write(&markdown_escape(&text))?;
    Ok(())
}

/// Backslash-escapes the ASCII punctuation that makes Markdown inline markup
/// (emphasis, code, links, images, HTML, entities, tables); the rest, common
/// in names, stays as it is.
pub(super) fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn render(
    registry: &Handlebars<'static>,
    name: &'static str,
    view: &View,
) -> Result<String, super::AdvisoryError> {
    registry.render(name, view).map_err(|source| {
        TemplatesError::Render {
            name,
            source: Box::new(source),
        }
        .into()
    })
}

/// What an advisory template can use. Every field is present (`null` when
/// unset), so `{{#if}}` works in strict mode.
#[derive(Debug, Clone, Serialize)]
pub(super) struct View {
    id: String,
    title: String,
    vendor: Option<String>,
    description: String,
    /// Whether `description` is the team's own summary.
    has_summary: bool,
    cve: Option<String>,
    cwe: Option<String>,
    cwe_name: Option<&'static str>,
    severity: Option<&'static str>,
    cvss: Option<CvssView>,
    affected: Vec<AffectedView>,
    fixed_in: Option<String>,
    risk_accepted: bool,
    risk_reason: Option<String>,
    credit: Option<CreditView>,
    timeline: Vec<TimelineView>,
    state: &'static str,
    date_public: Option<String>,
    references: Vec<LinkView>,
    generator: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct CvssView {
    vector: String,
    score: String,
    version: String,
}

#[derive(Debug, Clone, Serialize)]
struct AffectedView {
    product: String,
    versions: String,
}

#[derive(Debug, Clone, Serialize)]
struct CreditView {
    name: String,
    affiliation: Option<String>,
    /// Only an http(s) URL: others are not shown.
    url: Option<String>,
    line: String,
}

#[derive(Debug, Clone, Serialize)]
struct TimelineView {
    event: &'static str,
    date: String,
}

#[derive(Debug, Clone, Serialize)]
struct LinkView {
    url: String,
}

/// The template data of `draft`.
pub(super) fn view(draft: &Draft, publisher: &Publisher) -> View {
    let cwe = draft.cwe.clone();
    View {
        id: draft.id.clone(),
        title: draft.title.clone(),
        vendor: Some(publisher.vendor.clone()).filter(|v| !v.is_empty()),
        description: draft.description(publisher),
        has_summary: draft
            .summary
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty()),
        cwe_name: cwe.as_deref().and_then(super::cwe::name),
        cwe,
        cve: draft.cve.clone(),
        severity: draft.public_severity().map(|s| s.as_str()),
        cvss: draft.cvss.as_ref().map(|c| CvssView {
            vector: c.vector.clone(),
            score: format!("{:.1}", c.score),
            version: c.version.clone(),
        }),
        affected: draft
            .products(publisher)
            .into_iter()
            .map(|a| AffectedView {
                product: a.product,
                versions: a.versions,
            })
            .collect(),
        fixed_in: draft.fixed_in.clone(),
        risk_accepted: draft.state_or_risk(),
        risk_reason: draft.risk_reason.clone(),
        credit: draft.credit.as_ref().map(|c| CreditView {
            name: c.name.clone(),
            affiliation: c.affiliation.clone(),
            url: c.url.clone().filter(|u| linkable(u)),
            line: c.line(),
        }),
        timeline: draft
            .timeline
            .iter()
            .map(|t| TimelineView {
                event: t.milestone.label(),
                date: t.date.to_string(),
            })
            .collect(),
        state: draft.state.as_str(),
        date_public: draft
            .date_public
            .map(|t| t.strftime("%Y-%m-%d").to_string()),
        references: draft
            .references
            .iter()
            .filter(|u| linkable(u))
            .map(|url| LinkView { url: url.clone() })
            .collect(),
        generator: concat!("disclosed ", env!("CARGO_PKG_VERSION")),
    }
}

impl View {
    /// An advisory with every field set, to check a replaced template.
    fn sample() -> Self {
        use super::{Affected, Credit, Cvss, Milestone, TimelineEntry};
        use crate::report::{ReportState, Severity};
        let date = jiff::civil::date(2026, 3, 1);
        let draft = Draft {
            id: "SEC-2026-0042".into(),
            title: "Cross-site scripting in Example Server".into(),
            summary: Some("A stored cross-site scripting flaw in the comment form.".into()),
            cve: Some("CVE-1900-0001".into()),
            cwe: Some("CWE-79".into()),
            severity: Some(Severity::High),
            cvss: Cvss::from_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            affected: vec![Affected {
                product: "Example Server".into(),
                versions: ">= 2.0, < 2.4.1".into(),
            }],
            fixed_in: Some("2.4.1".into()),
            credit: Some(Credit {
                name: "Jane Doe".into(),
                affiliation: Some("Example Security".into()),
                url: Some("https://jane.example".into()),
            }),
            timeline: vec![TimelineEntry {
                milestone: Milestone::Reported,
                date,
            }],
            state: ReportState::RiskAccepted,
            risk_reason: Some("Only reachable by administrators.".into()),
            date_public: Some(jiff::Timestamp::UNIX_EPOCH),
            references: vec!["https://example.org/advisories/SEC-2026-0042.html".into()],
        };
        view(
            &draft,
            &Publisher {
                vendor: "Example".into(),
                ..Publisher::default()
            },
        )
    }
}
