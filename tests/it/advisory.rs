//! Advisory drafts: the CVE, OSV and CSAF outputs validated against the
//! official JSON schemas in `tests/data/schemas` (see its README for where
//! each comes from), and `disclosed advisory` over a real store, where a
//! report's private content must not reach any draft.

use std::path::PathBuf;

use disclosed::advisory::{
    self, Affected, Credit, CsafCategory, Cvss, Draft, Format, Milestone, Publisher, Templates,
    TimelineEntry,
};
use disclosed::report::{ReportState, Severity};
use jiff::Timestamp;
use jiff::civil::date;
use serde_json::Value;

use crate::common::{Env, mail, y};

fn schema(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{name}: {err}"));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// A validator for `name`, with formats checked and the CVSS schemas CSAF
/// refers to served locally (no network).
fn validator(name: &str) -> jsonschema::Validator {
    let mut registry = jsonschema::Registry::new();
    for (uri, file) in [
        (
            "https://www.first.org/cvss/cvss-v2.0.json",
            "cvss-v2.0.json",
        ),
        (
            "https://www.first.org/cvss/cvss-v3.0.json",
            "cvss-v3.0.json",
        ),
        (
            "https://www.first.org/cvss/cvss-v3.1.json",
            "cvss-v3.1.json",
        ),
    ] {
        registry = registry
            .add(uri, schema(file))
            .unwrap_or_else(|err| panic!("{file}: {err}"));
    }
    let registry = registry.prepare().expect("registry");
    jsonschema::options()
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&schema(name))
        .unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn publisher() -> Publisher {
    Publisher {
        vendor: "Example Org".into(),
        product: Some("Example Server".into()),
        cna_org_id: Some("8254265b-2729-46b6-b9e3-3dfca2d5bfca".into()),
        cna_short_name: Some("example".into()),
        csaf_name: Some("Example Org PSIRT".into()),
        csaf_namespace: Some("https://example.org".into()),
        csaf_category: CsafCategory::Vendor,
        osv_prefix: Some("EXAMPLE".into()),
        osv_ecosystem: Some("crates.io".into()),
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

/// Drafts that between them set and leave out every optional field.
fn drafts() -> Vec<Draft> {
    let timeline = vec![
        TimelineEntry {
            milestone: Milestone::Reported,
            date: date(2026, 2, 1),
        },
        TimelineEntry {
            milestone: Milestone::Acknowledged,
            date: date(2026, 2, 2),
        },
    ];
    let full = Draft {
        id: "SEC-2026-0042".into(),
        title: "Cross-site scripting in Example Server".into(),
        summary: Some("Stored cross-site scripting in the comment form.".into()),
        cve: Some("CVE-1900-0042".into()),
        cwe: Some("CWE-79".into()),
        severity: Some(Severity::Medium),
        cvss: Cvss::from_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        affected: vec![Affected {
            product: "Example Server".into(),
            versions: ">= 2.0, < 2.4.1".into(),
        }],
        fixed_in: Some("2.4.1".into()),
        credit: Some(Credit {
            name: "Jane Doe".into(),
            affiliation: Some("Tesla security team".into()),
            url: Some("https://jane.example".into()),
        }),
        timeline: timeline.clone(),
        state: ReportState::Disclosed,
        risk_reason: None,
        date_public: Some(at("2026-03-31T08:00:00Z")),
        references: vec![
            "https://example.org/advisories/SEC-2026-0042.html".into(),
            "https://example.org/releases/2.4.1".into(),
        ],
    };
    let v30 = Draft {
        id: "SEC-2026-0043".into(),
        summary: None,
        cwe: None,
        severity: None,
        cvss: Cvss::from_vector("CVSS:3.0/AV:L/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.1),
        affected: vec![Affected {
            product: "Example Agent".into(),
            versions: "1.2.3".into(),
        }],
        credit: None,
        state: ReportState::Fixed,
        date_public: None,
        references: vec!["https://example.org/advisories/SEC-2026-0043.html".into()],
        ..full.clone()
    };
    let v40 = Draft {
        id: "SEC-2026-0044".into(),
        cwe: Some("CWE-1234".into()),
        cvss: Cvss::from_vector(
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
        ),
        affected: vec![Affected {
            product: "Example Server".into(),
            versions: "every release before the spring one".into(),
        }],
        fixed_in: None,
        credit: Some(Credit {
            name: "Jürgen Ñandú 李".into(),
            affiliation: None,
            url: None,
        }),
        state: ReportState::RiskAccepted,
        risk_reason: Some("The feature is disabled by default.".into()),
        references: vec!["https://example.org/advisories/SEC-2026-0044.html".into()],
        ..full.clone()
    };
    let textual = Draft {
        id: "SEC-2026-0045".into(),
        cvss: None,
        severity: Some(Severity::High),
        cwe: Some("CWE-22".into()),
        affected: vec![
            Affected {
                product: "Example Server".into(),
                versions: "all".into(),
            },
            Affected {
                product: "Example Client".into(),
                versions: "<= 3.1".into(),
            },
        ],
        fixed_in: None,
        timeline,
        references: vec!["https://example.org/advisories/SEC-2026-0045.html".into()],
        ..full.clone()
    };
    let defaults = Draft {
        id: "SEC-2026-0046".into(),
        affected: Vec::new(),
        ..full.clone()
    };
    vec![full, v30, v40, textual, defaults]
}

fn render(format: Format, draft: &Draft, publisher: &Publisher) -> Value {
    let templates = Templates::builtin().expect("templates");
    let text = advisory::render(
        format,
        draft,
        publisher,
        &templates,
        at("2026-04-01T10:00:00Z"),
    )
    .unwrap_or_else(|err| panic!("{} {format}: {err}", draft.id));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} {format}: {err}", draft.id))
}

#[test]
fn cve_records_validate_against_the_cve_5_1_schema() {
    let record = validator("CVE_Record_Format_bundled.json");
    let container = validator("CVE_Record_Format_bundled_cnaPublishedContainer.json");
    for draft in drafts() {
        let value = render(Format::Cve, &draft, &publisher());
        assert_eq!(
            errors(&record, &value),
            Vec::<String>::new(),
            "{}: {value:#}",
            draft.id
        );
        let cna = &value["containers"]["cna"];
        assert_eq!(
            errors(&container, cna),
            Vec::<String>::new(),
            "{}",
            draft.id
        );
    }
}

#[test]
fn osv_records_validate_against_the_osv_schema() {
    let osv = validator("osv-schema.json");
    // The schema lists the registered home databases: a team's own prefix
    // validates once registered (curl's stands in for one here), and a
    // record without one is keyed by its CVE id.
    let registered = Publisher {
        osv_prefix: Some("CURL".into()),
        ..publisher()
    };
    let without_ecosystem = Publisher {
        osv_prefix: None,
        osv_ecosystem: None,
        ..publisher()
    };
    for draft in drafts() {
        for publisher in [registered.clone(), without_ecosystem.clone()] {
            let value = render(Format::Osv, &draft, &publisher);
            assert_eq!(
                errors(&osv, &value),
                Vec::<String>::new(),
                "{}: {value:#}",
                draft.id
            );
        }
    }
    let unregistered = render(Format::Osv, &drafts()[0], &publisher());
    assert_eq!(unregistered["id"], "EXAMPLE-SEC-2026-0042");
    assert!(!errors(&osv, &unregistered).is_empty());
}

#[test]
fn csaf_advisories_validate_against_the_csaf_2_0_schema() {
    let csaf = validator("csaf_json_schema.json");
    for draft in drafts() {
        let value = render(Format::Csaf, &draft, &publisher());
        assert_eq!(
            errors(&csaf, &value),
            Vec::<String>::new(),
            "{}: {value:#}",
            draft.id
        );
    }
}

#[test]
fn the_validators_reject_what_the_schemas_forbid() {
    // Without this, a validator that accepted anything would pass the above.
    let draft = &drafts()[0];
    let mut cve = render(Format::Cve, draft, &publisher());
    cve["containers"]["cna"]["providerMetadata"]["orgId"] = Value::from("not-a-uuid");
    assert!(!errors(&validator("CVE_Record_Format_bundled.json"), &cve).is_empty());
    let mut osv = render(Format::Osv, draft, &publisher());
    osv["id"] = Value::from("SEC-2026-0042");
    osv["credits"][0]["type"] = Value::from("REMEDIATIONDEVELOPER");
    assert!(errors(&validator("osv-schema.json"), &osv).len() >= 2);
    let mut csaf = render(Format::Csaf, draft, &publisher());
    csaf["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseSeverity"] = Value::from("SEVERE");
    assert!(!errors(&validator("csaf_json_schema.json"), &csaf).is_empty());
    let mut csaf = render(Format::Csaf, draft, &publisher());
    csaf["document"]["tracking"]["initial_release_date"] = Value::from("yesterday");
    assert!(!errors(&validator("csaf_json_schema.json"), &csaf).is_empty());
}
