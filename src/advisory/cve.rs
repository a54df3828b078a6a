//! A CVE JSON 5.1 record with the CNA container a CNA submits: affected
//! products, problem types (CWE), metrics (CVSS by version), credits,
//! references, an English description and the public date.

use serde::Serialize;
use serde_json::{Value, json};

use super::versions::VersionRange;
use super::{AdvisoryError, Draft, Publisher, cwe, linkable, timestamp};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Record {
    data_type: &'static str,
    data_version: &'static str,
    cve_metadata: Metadata,
    containers: Containers,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    cve_id: String,
    assigner_org_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    assigner_short_name: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
}

#[derive(Debug, Serialize)]
struct Containers {
    cna: Cna,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Cna {
    provider_metadata: ProviderMetadata,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_public: Option<String>,
    descriptions: Vec<Description>,
    affected: Vec<Product>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problem_types: Vec<ProblemType>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metrics: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    credits: Vec<CveCredit>,
    references: Vec<Reference>,
    #[serde(rename = "x_generator")]
    generator: Generator,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderMetadata {
    org_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_name: Option<String>,
}

#[derive(Debug, Serialize)]
struct Description {
    lang: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Product {
    vendor: String,
    product: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<Version>,
    default_status: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Version {
    version: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    less_than: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    less_than_or_equal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_type: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct ProblemType {
    descriptions: Vec<ProblemDescription>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProblemDescription {
    lang: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwe_id: Option<String>,
    description: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct CveCredit {
    lang: &'static str,
    value: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct Reference {
    url: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct Generator {
    engine: String,
}

/// The CVE record of `draft`.
pub(super) fn record(draft: &Draft, publisher: &Publisher) -> Result<Record, AdvisoryError> {
    let cve_id = draft.cve.clone().ok_or_else(|| AdvisoryError::NoCve {
        id: draft.id.clone(),
    })?;
    let org_id = publisher.cna_org_id.clone().ok_or(AdvisoryError::Missing {
        key: "cna_org_id",
        why: "a CVE record names the CNA that assigned the id",
    })?;
    let cna = container(draft, publisher, org_id.clone())?;
    Ok(Record {
        data_type: "CVE_RECORD",
        data_version: "5.1",
        cve_metadata: Metadata {
            cve_id,
            assigner_org_id: org_id,
            assigner_short_name: publisher.cna_short_name.clone(),
            state: "PUBLISHED",
            date_published: draft.date_public.map(timestamp),
        },
        containers: Containers { cna },
    })
}

fn container(draft: &Draft, publisher: &Publisher, org_id: String) -> Result<Cna, AdvisoryError> {
    let products = draft.products(publisher);
    if products.is_empty() {
        return Err(AdvisoryError::NoProduct {
            id: draft.id.clone(),
        });
    }
    let references: Vec<Reference> = draft
        .references
        .iter()
        .filter(|url| linkable(url))
        .enumerate()
        .map(|(i, url)| Reference {
            url: url.clone(),
            // The first reference is the advisory itself.
            tags: if i == 0 {
                vec!["vendor-advisory"]
            } else {
                vec![]
            },
        })
        .collect();
    if references.is_empty() {
        return Err(AdvisoryError::NoReference {
            id: draft.id.clone(),
        });
    }
    Ok(Cna {
        provider_metadata: ProviderMetadata {
            org_id,
            short_name: publisher.cna_short_name.clone(),
        },
        // The schema's limit; a long list of products may pass it.
        title: clip(&draft.title, 256),
        date_public: draft.date_public.map(timestamp),
        descriptions: vec![Description {
            lang: "en",
            value: draft.description(publisher),
        }],
        affected: products
            .iter()
            .map(|a| affected(&publisher.vendor, &a.product, &a.versions, draft))
            .collect(),
        problem_types: draft
            .cwe
            .as_deref()
            .filter(|id| cwe::well_formed(id))
            .map(|id| ProblemType {
                descriptions: vec![ProblemDescription {
                    lang: "en",
                    cwe_id: Some(id.to_owned()),
                    description: match cwe::name(id) {
                        Some(name) => format!("{id} {name}"),
                        None => id.to_owned(),
                    },
                    kind: "CWE",
                }],
            })
            .into_iter()
            .collect(),
        metrics: metrics(draft),
        credits: draft
            .credit
            .iter()
            .map(|c| CveCredit {
                lang: "en",
                value: c.line(),
                kind: "finder",
            })
            .collect(),
        references,
        generator: Generator {
            engine: concat!("disclosed ", env!("CARGO_PKG_VERSION")).to_owned(),
        },
    })
}

fn affected(vendor: &str, product: &str, versions: &str, draft: &Draft) -> Product {
    let version = |version: &str| Version {
        version: version.to_owned(),
        status: "affected",
        less_than: None,
        less_than_or_equal: None,
        version_type: None,
    };
    let (versions, default_status) = match VersionRange::parse(versions, draft.fixed_in.as_deref())
    {
        VersionRange::All => (Vec::new(), "affected"),
        VersionRange::Exact(v) => (vec![version(&v)], "unknown"),
        VersionRange::Text(t) => (vec![version(&t)], "unknown"),
        VersionRange::Bounded {
            introduced,
            fixed,
            last_affected,
        } => {
            let from = introduced.unwrap_or_else(|| "0".to_owned());
            if fixed.is_none() && last_affected.is_none() {
                // Affected from a version on, with no end known.
                (vec![version(&from)], "unknown")
            } else {
                (
                    vec![Version {
                        less_than: fixed,
                        less_than_or_equal: last_affected,
                        version_type: Some("custom"),
                        ..version(&from)
                    }],
                    "unaffected",
                )
            }
        }
    };
    Product {
        vendor: vendor.to_owned(),
        product: product.to_owned(),
        versions,
        default_status,
    }
}

/// The CVSS metric under its version's key; the team's severity as text when
/// no vector was recorded.
fn metrics(draft: &Draft) -> Vec<Value> {
    let scenario = json!([{ "lang": "en", "value": "GENERAL" }]);
    if let Some(cvss) = &draft.cvss {
        let key = match cvss.version.as_str() {
            "3.0" => "cvssV3_0",
            "3.1" => "cvssV3_1",
            _ => "cvssV4_0",
        };
        let mut metric = json!({ "format": "CVSS", "scenarios": scenario });
        metric[key] = json!({
            "version": cvss.version,
            "vectorString": cvss.vector,
            "baseScore": cvss.score,
            "baseSeverity": cvss.rating().as_str().to_ascii_uppercase(),
        });
        return vec![metric];
    }
    draft
        .severity
        .map(|s| {
            json!({
                "format": "other",
                "scenarios": scenario,
                "other": { "type": "severity", "content": { "text": s.as_str() } },
            })
        })
        .into_iter()
        .collect()
}

/// `text` cut to at most `max` characters, with `…` where it was cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}
