//! A CSAF 2.0 security advisory (`csaf_security_advisory`): the document's
//! publisher and tracking, a product tree (vendor, product, version range),
//! and one vulnerability with its CVE, CWE, score, product status and
//! remediation.
//!
//! A report not yet disclosed gives a `draft` document at version 0; a
//! disclosed one a `final` document at version 1.

use serde::Serialize;
use serde_json::{Value, json};

use super::versions::VersionRange;
use super::{AdvisoryError, CsafCategory, Draft, Publisher, cwe, linkable, timestamp};
use crate::report::ReportState;

#[derive(Debug, Serialize)]
pub(super) struct Document {
    document: Meta,
    product_tree: ProductTree,
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Debug, Serialize)]
struct Meta {
    category: &'static str,
    csaf_version: &'static str,
    publisher: PublisherMeta,
    title: String,
    tracking: Tracking,
    notes: Vec<Note>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    acknowledgments: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregate_severity: Option<Value>,
}

#[derive(Debug, Serialize)]
struct PublisherMeta {
    category: CsafCategory,
    name: String,
    namespace: String,
}

#[derive(Debug, Serialize)]
struct Tracking {
    id: String,
    status: &'static str,
    version: &'static str,
    initial_release_date: String,
    current_release_date: String,
    revision_history: Vec<Revision>,
    generator: Value,
}

#[derive(Debug, Serialize)]
struct Revision {
    date: String,
    number: &'static str,
    summary: &'static str,
}

#[derive(Debug, Serialize)]
struct Note {
    category: &'static str,
    title: &'static str,
    text: String,
}

#[derive(Debug, Serialize)]
struct Reference {
    category: &'static str,
    summary: String,
    url: String,
}

#[derive(Debug, Serialize)]
struct ProductTree {
    branches: Vec<Value>,
}

#[derive(Debug, Serialize)]
struct Vulnerability {
    #[serde(skip_serializing_if = "Option::is_none")]
    cve: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwe: Option<Value>,
    title: String,
    notes: Vec<Note>,
    product_status: Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remediations: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scores: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_date: Option<String>,
}

/// The CSAF document of `draft`; `now` dates a draft not yet public.
pub(super) fn document(
    draft: &Draft,
    publisher: &Publisher,
    now: jiff::Timestamp,
) -> Result<Document, AdvisoryError> {
    let namespace = publisher
        .csaf_namespace
        .clone()
        .ok_or(AdvisoryError::Missing {
            key: "csaf_namespace",
            why: "a CSAF document names its publisher's namespace (an https URL)",
        })?;
    let products = draft.products(publisher);
    if products.is_empty() {
        return Err(AdvisoryError::NoProduct {
            id: draft.id.clone(),
        });
    }
    let (mut affected_ids, mut fixed_ids, mut product_branches) =
        (Vec::new(), Vec::new(), Vec::new());
    for (i, a) in products.iter().enumerate() {
        let range = VersionRange::parse(&a.versions, draft.fixed_in.as_deref());
        let affected_id = format!("CSAFPID-{:04}", 2 * i + 1);
        let (category, name) = match &range {
            VersionRange::Exact(v) => ("product_version", v.clone()),
            other => ("product_version_range", other.vers()),
        };
        let mut versions = vec![json!({
            "category": category,
            "name": name,
            "product": { "product_id": affected_id, "name": format!("{} {} {}", publisher.vendor, a.product, a.versions) },
        })];
        affected_ids.push(affected_id);
        if let Some(fixed) = &draft.fixed_in {
            let fixed_id = format!("CSAFPID-{:04}", 2 * i + 2);
            versions.push(json!({
                "category": "product_version",
                "name": fixed,
                "product": { "product_id": fixed_id, "name": format!("{} {} {fixed}", publisher.vendor, a.product) },
            }));
            fixed_ids.push(fixed_id);
        }
        product_branches.push(json!({
            "category": "product_name",
            "name": a.product,
            "branches": versions,
        }));
    }
    let disclosed = draft.state == ReportState::Disclosed;
    let released = timestamp(draft.date_public.unwrap_or(now));
    let description = draft.description(publisher);
    let references: Vec<Reference> = draft
        .references
        .iter()
        .filter(|url| linkable(url))
        .enumerate()
        .map(|(i, url)| Reference {
            category: if i == 0 { "self" } else { "external" },
            summary: if i == 0 {
                format!("Advisory {}", draft.id)
            } else {
                "Reference".to_owned()
            },
            url: url.clone(),
        })
        .collect();
    let acknowledgments: Vec<Value> = draft
        .credit
        .iter()
        .map(|c| {
            let mut ack = json!({ "names": [c.name] });
            if let Some(a) = &c.affiliation {
                ack["organization"] = Value::from(a.as_str());
            }
            if let Some(url) = c.url.as_ref().filter(|u| linkable(u)) {
                ack["urls"] = json!([url]);
            }
            ack
        })
        .collect();
    let severity = draft.public_severity();
    let mut notes = vec![Note {
        category: "description",
        title: "Description",
        text: description.clone(),
    }];
    if let Some(cvss) = draft.cvss.as_ref().filter(|c| c.version == "4.0") {
        // CSAF 2.0 has no CVSS v4 score object: the vector goes in a note.
        notes.push(Note {
            category: "other",
            title: "CVSS v4.0",
            text: format!("{} (base score {:.1})", cvss.vector, cvss.score),
        });
    }
    let remediations = if !fixed_ids.is_empty() {
        vec![json!({
            "category": "vendor_fix",
            "details": format!("Update to {} or later.", draft.fixed_in.as_deref().unwrap_or_default()),
            "product_ids": affected_ids,
        })]
    } else if draft.state_or_risk() {
        vec![json!({
            "category": "no_fix_planned",
            "details": draft.risk_reason.clone().unwrap_or_else(|| "The vendor accepted the risk.".to_owned()),
            "product_ids": affected_ids,
        })]
    } else {
        Vec::new()
    };
    let scores = draft
        .cvss
        .iter()
        .filter(|c| c.version != "4.0")
        .map(|c| {
            json!({
                "products": affected_ids,
                "cvss_v3": {
                    "version": c.version,
                    "vectorString": c.vector,
                    "baseScore": c.score,
                    "baseSeverity": c.rating().as_str().to_ascii_uppercase(),
                },
            })
        })
        .collect();
    let mut product_status = json!({ "known_affected": affected_ids });
    if !fixed_ids.is_empty() {
        product_status["fixed"] = json!(fixed_ids);
    }
    Ok(Document {
        document: Meta {
            category: "csaf_security_advisory",
            csaf_version: "2.0",
            publisher: PublisherMeta {
                category: publisher.csaf_category,
                name: publisher
                    .csaf_name
                    .clone()
                    .unwrap_or_else(|| publisher.vendor.clone()),
                namespace,
            },
            title: draft.title.clone(),
            tracking: Tracking {
                id: draft.id.clone(),
                status: if disclosed { "final" } else { "draft" },
                version: if disclosed { "1" } else { "0" },
                initial_release_date: released.clone(),
                current_release_date: released.clone(),
                revision_history: vec![Revision {
                    date: released,
                    number: if disclosed { "1" } else { "0" },
                    summary: "Initial release.",
                }],
                generator: json!({
                    "engine": { "name": "disclosed", "version": env!("CARGO_PKG_VERSION") },
                }),
            },
            notes: vec![Note {
                category: "summary",
                title: "Summary",
                text: description.clone(),
            }],
            references,
            acknowledgments: acknowledgments.clone(),
            aggregate_severity: severity.map(|s| json!({ "text": s.as_str() })),
        },
        product_tree: ProductTree {
            branches: vec![json!({
                "category": "vendor",
                "name": publisher.vendor,
                "branches": product_branches,
            })],
        },
        vulnerabilities: vec![Vulnerability {
            cve: draft.cve.clone(),
            cwe: draft
                .cwe
                .as_deref()
                .and_then(|id| cwe::name(id).map(|name| json!({ "id": id, "name": name }))),
            title: draft.title.clone(),
            notes,
            product_status,
            remediations,
            scores,
            release_date: draft.date_public.map(timestamp),
        }],
    })
}
