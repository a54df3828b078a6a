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
pub fn validator(name: &str) -> jsonschema::Validator {
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

pub fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
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
        url: Some("https://example.org/advisories/{id}.html".into()),
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

/// Strings that occur only in what the reporter sent, in the team's private
/// notes and in a member's name: no draft may contain any of them.
const MARKERS: [&str; 6] = [
    "QZXSUBJECTMARK",
    "QZXBODYMARK",
    "QZXNAMEMARK",
    "qzxaddrmark",
    "QZXNOTEMARK",
    "QZXMEMBERMARK",
];

const ADVISORY_SECTION: &str = r#"
[advisory]
vendor = "Example Org"
product = "Example <img src=x onerror=alert(1)> Server"
cna_org_id = "8254265b-2729-46b6-b9e3-3dfca2d5bfca"
csaf_namespace = "https://example.org"
osv_ecosystem = "crates.io"
url = "https://example.org/advisories/{id}.html"
"#;

/// An installation with report 1 from a reporter whose every field carries a
/// marker, moved to `fixed` with public facts and a private note.
fn fixed_report() -> (Env, disclosed::report::ReportId) {
    use disclosed::audit::{Actor, Auth, EventKind};
    use disclosed::store::Recorder;

    let env = Env::with_file_transport(ADVISORY_SECTION);
    env.init();
    let raw = "From: \"Mallory QZXNAMEMARK\" <qzxaddrmark@researcher.example>\r\n\
To: security@example.org\r\nSubject: QZXSUBJECTMARK XSS in search\r\n\
Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <adv1@r.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
The search box QZXBODYMARK runs <script>alert(1)</script>.\r\n\
Credit: Mallory <https://mallory.example>\r\n";
    env.deliver(raw.as_bytes());
    env.deliver(&mail(
        "other@researcher.example",
        "security@example.org",
        "Another report",
        "adv2@r.example",
        "",
    ));
    env.run_once();
    let id = disclosed::report::ReportId::new("SEC", crate::common::year(), 1);
    let mut store = env.store();
    store
        .write(|batch| {
            let tx = batch.tx();
            let member = Recorder {
                report: Some(&id),
                at: at("2026-12-01T09:00:00Z"),
                actor: Actor::Named("QZXMEMBERMARK@example.org"),
                auth: Auth::OpenPgp,
                message: None,
            };
            for state in [
                ReportState::Triaged,
                ReportState::Accepted,
                ReportState::Fixed,
            ] {
                member.change_state(&tx, &id, state, "#state QZXNOTEMARK", Some("QZXNOTEMARK"))?;
            }
            member.record(
                &tx,
                EventKind::InternalNote,
                serde_json::json!({ "text": "QZXNOTEMARK private" }),
            )?;
            tx.set_cve(&id, "CVE-1900-0001")?;
            tx.set_cvss(
                &id,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                6.1,
                "medium",
            )?;
            tx.set_fixed_in(&id, "2.4.1")?;
            tx.set_credit(
                &id,
                &disclosed::report::Credit::Named {
                    name: "Jane <b>Doe</b>".into(),
                    affiliation: None,
                    url: Some("https://jane.example/?a=1&b=\"2\"".into()),
                    key: None,
                },
            )?;
            Ok::<_, disclosed::store::StoreError>(())
        })
        .expect("team facts");
    (env, id)
}

#[test]
fn drafts_contain_nothing_the_team_did_not_publish() {
    let (env, id) = fixed_report();
    for format in ["md", "html", "cve", "osv", "csaf"] {
        for json in [false, true] {
            let mut args = vec!["advisory", id.as_str(), "--format", format];
            if json {
                args.push("--json");
            }
            let text = env.ok(&args);
            for marker in MARKERS {
                assert!(
                    !text.to_lowercase().contains(&marker.to_lowercase()),
                    "{format} (json: {json}) leaks {marker}:\n{text}"
                );
            }
            assert!(!text.contains("researcher.example"), "{format}: {text}");
            assert!(text.contains("CVE-1900-0001"), "{format}: {text}");
            if json || format != "md" && format != "html" {
                let value: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|err| panic!("{format}: {err}\n{text}"));
                assert!(value.is_object());
            }
        }
    }
}

#[test]
fn team_provided_html_is_escaped_in_html_and_kept_valid_in_json() {
    let (env, id) = fixed_report();
    let html = env.ok(&["advisory", id.as_str(), "--format", "html"]);
    for raw in ["<img", "<b>", "onerror=alert"] {
        assert!(!html.contains(raw), "{raw} unescaped:\n{html}");
    }
    assert!(html.contains("Jane &lt;b&gt;Doe&lt;/b&gt;"), "{html}");
    // A URL with a quote is no URI: it is neither linked nor published.
    assert!(!html.contains("jane.example"), "{html}");
    let csaf: Value = serde_json::from_str(&env.ok(&["advisory", id.as_str(), "--format", "csaf"]))
        .expect("json");
    assert_eq!(
        csaf["product_tree"]["branches"][0]["branches"][0]["name"],
        "Example <img src=x onerror=alert(1)> Server"
    );
    assert_eq!(
        csaf["document"]["acknowledgments"][0]["names"][0],
        "Jane <b>Doe</b>"
    );
    assert!(csaf["document"]["acknowledgments"][0].get("urls").is_none());
    assert_eq!(
        errors(&validator("csaf_json_schema.json"), &csaf),
        Vec::<String>::new()
    );
    let cve: Value =
        serde_json::from_str(&env.ok(&["advisory", id.as_str(), "--format", "cve"])).expect("json");
    assert_eq!(
        errors(&validator("CVE_Record_Format_bundled.json"), &cve),
        Vec::<String>::new()
    );
    assert_eq!(
        cve["containers"]["cna"]["references"][0]["url"],
        y("https://example.org/advisories/SEC-2026-0001.html")
    );
}

#[test]
fn the_advisory_command_drafts_a_fixed_report_with_its_timeline() {
    let (env, id) = fixed_report();
    let md = env.ok(&["advisory", id.as_str()]);
    for expected in [
        "Fixed in 2.4.1",
        "CVSS 3.1 base score 6.1",
        "- 2026-12-01: Fixed",
        ": Reported",
        "Example <img src=x onerror=alert(1)> Server < 2.4.1",
    ] {
        assert!(md.contains(expected), "{expected} missing:\n{md}");
    }
    let json: Value =
        serde_json::from_str(&env.ok(&["advisory", id.as_str(), "--format", "md", "--json"]))
            .expect("json");
    assert_eq!(json["format"], "md");
    assert_eq!(
        json["text"].as_str().map(|t| t.trim_end()),
        Some(md.trim_end()),
        "the text is the Markdown advisory"
    );
    assert_eq!(json["draft"]["state"], "fixed");
    assert_eq!(json["draft"]["fixed_in"], "2.4.1");
    assert_eq!(json["draft"]["credit"]["name"], "Jane <b>Doe</b>");
}

#[test]
fn reports_that_are_not_closed_for_disclosure_are_refused() {
    let (env, _) = fixed_report();
    let open = y("SEC-2026-0002");
    for format in ["md", "cve"] {
        let out = env.cmd(&["advisory", &open, "--format", format]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("fixed, risk-accepted or disclosed"), "{err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        env.cmd(&["advisory", &y("SEC-2026-0099")]).status.code(),
        Some(1)
    );
    assert_eq!(env.cmd(&["advisory", "nonsense"]).status.code(), Some(2));
    assert_eq!(
        env.cmd(&["advisory", &open, "--format", "pdf"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_formats_need_the_advisory_section() {
    let (env, id) = fixed_report();
    let text = std::fs::read_to_string(env.config()).expect("config");
    let cut = text.find("[advisory]").expect("section");
    env.write_config(&text[..cut]);
    let out = env.cmd(&["advisory", id.as_str(), "--format", "csaf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[advisory]"));
    // The human advisory needs no publisher.
    assert!(
        env.ok(&["advisory", id.as_str()])
            .contains("Fixed in 2.4.1")
    );
}

#[test]
fn advisory_config_values_are_checked() {
    let env = Env::with_file_transport(
        "[advisory]\nvendor = \"\"\ncna_org_id = \"nope\"\ncsaf_namespace = \"http://x\"\ncsaf_category = \"boss\"\nurl = \"https://example.org/a.html\"\n",
    );
    let out = env.cmd(&["check", "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for key in [
        "advisory.vendor",
        "advisory.cna_org_id",
        "advisory.csaf_namespace",
        "advisory.csaf_category",
        "advisory.url",
    ] {
        assert!(err.contains(key), "{key}: {err}");
    }
}

#[test]
fn advisory_templates_in_the_templates_dir_replace_the_built_ins_and_are_checked() {
    let (env, id) = fixed_report();
    let dir = env.path("templates");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("advisory.md.hbs"), "OURS {{id}} {{fixed_in}}\n").expect("write");
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&format!("{text}\n[templates]\ndir = \"templates\"\n"));
    assert_eq!(
        env.ok(&["advisory", id.as_str()]).trim_end(),
        format!("OURS {id} 2.4.1")
    );
    // The mail templates' loader leaves the advisory templates alone.
    env.ok(&["check", "--offline"]);

    std::fs::write(dir.join("advisory.html.hbs"), "{{reporter}}").expect("write");
    for args in [vec!["check", "--offline"], vec!["advisory", id.as_str()]] {
        let out = env.cmd(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("advisory.html.hbs"), "{args:?}: {err}");
    }
}

#[test]
fn the_advisory_command_has_help() {
    let out = std::process::Command::new(crate::common::BIN)
        .args(["advisory", "--help"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--format") && text.contains("csaf"), "{text}");
}

#[test]
fn a_risk_accepted_then_disclosed_report_is_final_with_its_dates() {
    use disclosed::audit::{Actor, Auth};
    use disclosed::store::Recorder;

    let (env, _) = fixed_report();
    let id = disclosed::report::ReportId::new("SEC", crate::common::year(), 2);
    let mut store = env.store();
    store
        .write(|batch| {
            let tx = batch.tx();
            let step = |at_text: &str, state: ReportState| {
                Recorder {
                    report: Some(&id),
                    at: at(at_text),
                    actor: Actor::Named("QZXMEMBERMARK@example.org"),
                    auth: Auth::OpenPgp,
                    message: None,
                }
                .change_state(
                    &tx,
                    &id,
                    state,
                    "#state",
                    Some("QZXNOTEMARK reason"),
                )
            };
            step("2026-12-02T09:00:00Z", ReportState::Triaged)?;
            step("2026-12-03T09:00:00Z", ReportState::RiskAccepted)?;
            step("2026-12-20T09:00:00Z", ReportState::Disclosed)?;
            tx.set_cve(&id, "CVE-1900-0002")
        })
        .expect("team facts");
    let md = env.ok(&["advisory", id.as_str()]);
    for expected in [
        "- 2026-12-02: Acknowledged",
        "- 2026-12-03: Risk accepted",
        "- 2026-12-20: Disclosed",
        "The vendor accepted the risk.",
        "**Published:** 2026-12-20",
    ] {
        assert!(md.contains(expected), "{expected} missing:\n{md}");
    }
    assert!(!md.contains("QZX"), "{md}");
    let csaf: Value = serde_json::from_str(&env.ok(&["advisory", id.as_str(), "--format", "csaf"]))
        .expect("json");
    assert_eq!(csaf["document"]["tracking"]["status"], "final");
    assert_eq!(
        csaf["document"]["tracking"]["initial_release_date"],
        "2026-12-20T09:00:00Z"
    );
    assert_eq!(
        csaf["vulnerabilities"][0]["remediations"][0]["category"],
        "no_fix_planned"
    );
    assert_eq!(
        errors(&validator("csaf_json_schema.json"), &csaf),
        Vec::<String>::new()
    );
    let osv: Value =
        serde_json::from_str(&env.ok(&["advisory", id.as_str(), "--format", "osv"])).expect("json");
    assert_eq!(osv["id"], "CVE-1900-0002");
    assert_eq!(osv["published"], "2026-12-20T09:00:00Z");
    assert_eq!(
        errors(&validator("osv-schema.json"), &osv),
        Vec::<String>::new()
    );
}
