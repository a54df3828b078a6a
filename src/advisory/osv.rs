//! An OSV record (schema 1.7). Own structs rather than a crate's: every
//! optional field is left out when unset, as the schema wants.
//!
//! An OSV id starts with the prefix of a registered home database: the
//! team's own (`[advisory] osv_prefix`), else the record is keyed by its CVE
//! id. The package is named only when `[advisory] osv_ecosystem` says which
//! ecosystem the products belong to; otherwise the ranges stay as written in
//! `database_specific`.

use serde::Serialize;
use serde_json::{Value, json};

use super::versions::VersionRange;
use super::{AdvisoryError, Draft, Publisher, linkable, timestamp};

/// The OSV schema version the records follow.
const SCHEMA_VERSION: &str = "1.7.5";

#[derive(Debug, Serialize)]
pub(super) struct Record {
    schema_version: &'static str,
    id: String,
    modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    summary: String,
    details: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    severity: Vec<Severity>,
    affected: Vec<Affected>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    credits: Vec<Credit>,
    database_specific: Value,
}

#[derive(Debug, Serialize)]
struct Severity {
    #[serde(rename = "type")]
    kind: &'static str,
    score: String,
}

#[derive(Debug, Serialize)]
struct Affected {
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<Package>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<Range>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<String>,
    database_specific: Value,
}

#[derive(Debug, Serialize)]
struct Package {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct Range {
    #[serde(rename = "type")]
    kind: &'static str,
    events: Vec<Value>,
}

#[derive(Debug, Serialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Debug, Serialize)]
struct Credit {
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contact: Vec<String>,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The OSV record of `draft`, modified at `now`.
pub(super) fn record(
    draft: &Draft,
    publisher: &Publisher,
    now: jiff::Timestamp,
) -> Result<Record, AdvisoryError> {
    let id = match (&publisher.osv_prefix, &draft.cve) {
        (Some(prefix), _) => format!("{prefix}-{}", draft.id),
        (None, Some(cve)) => cve.clone(),
        (None, None) => {
            return Err(AdvisoryError::NoOsvId {
                id: draft.id.clone(),
            });
        }
    };
    let aliases = draft
        .cve
        .iter()
        .filter(|cve| **cve != id)
        .cloned()
        .collect();
    let products = draft.products(publisher);
    if products.is_empty() {
        return Err(AdvisoryError::NoProduct {
            id: draft.id.clone(),
        });
    }
    let affected = products
        .iter()
        .map(|a| {
            let range = VersionRange::parse(&a.versions, draft.fixed_in.as_deref());
            let (ranges, versions) = match (&publisher.osv_ecosystem, range) {
                // Without an ecosystem a range has no version order to follow.
                (None, _) | (_, VersionRange::Text(_)) => (Vec::new(), Vec::new()),
                (Some(_), VersionRange::Exact(v)) => (Vec::new(), vec![v]),
                (Some(_), VersionRange::All) => (vec![events(None, None, None)], Vec::new()),
                (
                    Some(_),
                    VersionRange::Bounded {
                        introduced,
                        fixed,
                        last_affected,
                    },
                ) => (vec![events(introduced, fixed, last_affected)], Vec::new()),
            };
            Affected {
                package: publisher.osv_ecosystem.as_ref().map(|ecosystem| Package {
                    ecosystem: ecosystem.clone(),
                    name: a.product.clone(),
                }),
                ranges,
                versions,
                database_specific: json!({
                    "vendor": publisher.vendor,
                    "product": a.product,
                    "versions": a.versions,
                }),
            }
        })
        .collect();
    let severity = draft
        .cvss
        .iter()
        .filter_map(|c| {
            let kind = match c.version.as_str() {
                "3.0" | "3.1" => "CVSS_V3",
                "4.0" => "CVSS_V4",
                _ => return None,
            };
            Some(Severity {
                kind,
                score: c.vector.clone(),
            })
        })
        .collect();
    let mut database_specific = json!({ "source": draft.id });
    if let Some(s) = draft.public_severity() {
        database_specific["severity"] = Value::from(s.as_str());
    }
    if let Some(cwe) = &draft.cwe {
        database_specific["cwe_ids"] = json!([cwe]);
    }
    Ok(Record {
        schema_version: SCHEMA_VERSION,
        id,
        modified: timestamp(now),
        published: draft.date_public.map(timestamp),
        aliases,
        summary: draft.title.clone(),
        details: draft.description(publisher),
        severity,
        affected,
        references: draft
            .references
            .iter()
            .filter(|url| linkable(url))
            .map(|url| Reference {
                kind: "ADVISORY",
                url: url.clone(),
            })
            .collect(),
        credits: draft
            .credit
            .iter()
            .map(|c| Credit {
                name: c.line(),
                contact: c.url.iter().filter(|u| linkable(u)).cloned().collect(),
                kind: "FINDER",
            })
            .collect(),
        database_specific,
    })
}

/// An `ECOSYSTEM` range: introduced (at least `0`), then the fix or the last
/// affected version.
fn events(introduced: Option<String>, fixed: Option<String>, last: Option<String>) -> Range {
    let mut events = vec![json!({ "introduced": introduced.unwrap_or_else(|| "0".to_owned()) })];
    if let Some(f) = fixed {
        events.push(json!({ "fixed": f }));
    } else if let Some(l) = last {
        events.push(json!({ "last_affected": l }));
    }
    Range {
        kind: "ECOSYSTEM",
        events,
    }
}
