//! `disclosed advisory ID [--format md|html|cve|osv|csaf] [--json]`: the
//! advisory draft of a fixed, risk-accepted or disclosed report.

use jiff::Timestamp;

use super::output::{self, out};
use super::{CliError, open_existing};
use crate::advisory::{self, AdvisoryError, Format, advisory_url, draft_from_store};
use crate::config::Config;
use crate::report::ReportId;

/// `advisory ID [--format F] [--json]`.
pub(super) fn run(
    config: &Config,
    id: &str,
    format: Format,
    as_json: bool,
    now: Timestamp,
) -> Result<(), CliError> {
    let Some(report) = ReportId::parse(&config.program.id_prefix, id) else {
        return Err(CliError::Usage(format!(
            "`{id}` is not a report id like {}-2026-0042",
            config.program.id_prefix
        )));
    };
    let templates = advisory::Templates::load(config.templates.dir.as_deref())
        .map_err(|err| CliError::Usage(format!("{}: {err}", config.path.display())))?;
    let publisher = match (&config.advisory, format.is_json()) {
        (Some(p), _) => p.clone(),
        (None, false) => advisory::Publisher::default(),
        (None, true) => {
            return Err(CliError::Usage(format!(
                "{}: a {format} draft names its publisher: add an `[advisory]` section",
                config.path.display()
            )));
        }
    };
    let store = open_existing(config)?;
    let url = advisory_url(config, &report);
    let draft = draft_from_store(&store.read(), config, &report, url.as_deref())
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| anyhow::anyhow!("no report {report} in {}", store.path().display()))?;
    let text =
        advisory::render(format, &draft, &publisher, &templates, now).map_err(|err| match err {
            // What the team can set, or the report's state: usage.
            AdvisoryError::NotReady { .. }
            | AdvisoryError::NoCve { .. }
            | AdvisoryError::NoProduct { .. }
            | AdvisoryError::Missing { .. }
            | AdvisoryError::NoReference { .. }
            | AdvisoryError::NoOsvId { .. } => CliError::Usage(err.to_string()),
            other => CliError::Other(other.into()),
        })?;
    if as_json && !format.is_json() {
        output::json(&serde_json::json!({
            "id": draft.id,
            "format": format.as_str(),
            "text": text,
            "draft": draft,
        }));
    } else if format.is_json() {
        println!("{}", output::json_terminal_safe(&text));
    } else {
        out!("{text}");
        if !text.ends_with('\n') {
            out!("\n");
        }
    }
    Ok(())
}
