//! `disclosed search QUERY`: the reports whose subjects, readable text,
//! people, ids, tags or public fields match, best first, with a snippet of
//! each. It reads the local store, so decrypted text is searched too.

use serde::Serialize;

use crate::config::Config;
use crate::report::ReportState;
use crate::store::{SearchFilter, SearchQuery};

use super::output::{json, local, outln};
use super::{CliError, open_existing};

/// Most reports listed, whatever `--limit` asks.
pub const MAX_LIMIT: usize = 500;

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words to find (all of them); `"a phrase"`, `word*`, `a OR b`, `-word`,
    /// and fields: subject:, text:, from:, cve:, cwe:, id:, tag:, product:, summary:
    pub query: Vec<String>,
    /// Only reports in this state (new, acknowledged, triaged, …)
    #[arg(long, value_name = "S")]
    pub state: Option<ReportState>,
    /// Most reports listed (at most 500)
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Hit<'a> {
    id: &'a str,
    state: &'a str,
    opened: String,
    updated: String,
    score: f64,
    snippet: Option<&'a str>,
}

#[derive(Serialize)]
struct Found<'a> {
    query: &'a str,
    /// More reports match than `--limit` let through.
    more: bool,
    reports: Vec<Hit<'a>>,
}

pub(super) fn search(config: &Config, args: SearchArgs) -> Result<(), CliError> {
    let text = args.query.join(" ");
    let query = SearchQuery::parse(&text)
        .map_err(|err| CliError::Usage(format!("cannot search for `{text}`: {err}")))?;
    if args.limit == 0 || args.limit > MAX_LIMIT {
        return Err(CliError::Usage(format!(
            "--limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let store = open_existing(config)?;
    let found = store
        .read()
        .search(
            &query,
            &SearchFilter {
                state: args.state,
                limit: args.limit,
                confidential: true,
                snippets: true,
            },
        )
        .map_err(anyhow::Error::from)?;
    if args.json {
        json(&Found {
            query: &text,
            more: found.more,
            reports: found
                .hits
                .iter()
                .map(|h| Hit {
                    id: h.report.as_str(),
                    state: h.state.as_str(),
                    opened: h.opened.to_string(),
                    updated: h.updated.to_string(),
                    score: h.score,
                    snippet: h.snippet.as_deref(),
                })
                .collect(),
        });
        return Ok(());
    }
    if found.hits.is_empty() {
        outln!("no reports match");
        return Ok(());
    }
    outln!("{:<15} {:<13} {:<22} SNIPPET", "ID", "STATE", "OPENED");
    for h in &found.hits {
        outln!(
            "{:<15} {:<13} {:<22} {}",
            h.report,
            h.state,
            local(h.opened, config),
            h.snippet.as_deref().unwrap_or("")
        );
    }
    if found.more {
        outln!(
            "\nthe best {} shown; more reports match (--limit N shows more)",
            found.hits.len()
        );
    }
    Ok(())
}
