use jiff::Timestamp;
use jiff::civil::date;

use super::*;

fn now() -> Timestamp {
    "2026-04-01T10:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn publisher() -> Publisher {
    Publisher {
        vendor: "Example Org".into(),
        product: Some("Example Server".into()),
        cna_org_id: Some("8254265b-2729-46b6-b9e3-3dfca2d5bfca".into()),
        cna_short_name: Some("example".into()),
        csaf_name: None,
        csaf_namespace: Some("https://example.org".into()),
        csaf_category: CsafCategory::Vendor,
        osv_prefix: Some("EXAMPLE".into()),
        osv_ecosystem: Some("crates.io".into()),
        url: Some("https://example.org/advisories/{id}.html".into()),
    }
}

fn draft() -> Draft {
    Draft {
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
        timeline: vec![
            TimelineEntry {
                milestone: Milestone::Reported,
                date: date(2026, 2, 1),
            },
            TimelineEntry {
                milestone: Milestone::Acknowledged,
                date: date(2026, 2, 2),
            },
            TimelineEntry {
                milestone: Milestone::Fixed,
                date: date(2026, 3, 1),
            },
        ],
        state: ReportState::Fixed,
        risk_reason: None,
        date_public: "2026-03-31T00:00:00Z".parse().ok(),
        references: vec!["https://example.org/advisories/SEC-2026-0042.html".into()],
    }
}

fn all(draft: &Draft, publisher: &Publisher) -> Vec<(Format, String)> {
    let templates = Templates::builtin().expect("built-in templates compile");
    [
        Format::Md,
        Format::Html,
        Format::Cve,
        Format::Osv,
        Format::Csaf,
    ]
    .into_iter()
    .map(|f| {
        let text = render(f, draft, publisher, &templates, now())
            .unwrap_or_else(|err| panic!("{f}: {err}"));
        (f, text)
    })
    .collect()
}

#[test]
fn builtin_templates_compile_and_render_the_sample() {
    let templates = Templates::builtin().expect("compile");
    let view = human::view(&draft(), &publisher());
    assert!(templates.markdown(&view).is_ok());
    assert!(templates.html(&view).is_ok());
}

#[test]
fn a_fixed_report_drafts_every_format() {
    for (format, text) in all(&draft(), &publisher()) {
        assert!(
            text.contains("SEC-2026-0042") || format == Format::Cve,
            "{format}"
        );
        if format.is_json() {
            let value: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|err| panic!("{format}: {err}"));
            assert!(value.is_object());
        }
    }
    let md = &all(&draft(), &publisher())[0].1;
    for expected in [
        "CVE-1900-0042",
        "CWE-79",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
        "6.1",
        "Example Server >= 2.0, < 2.4.1",
        "Fixed in 2.4.1",
        "[Jane Doe from Tesla security team](<https://jane.example>)",
        "2026-02-01: Reported",
        "2026-03-01: Fixed",
        "Stored cross-site scripting",
    ] {
        assert!(md.contains(expected), "{expected} missing from\n{md}");
    }
}

#[test]
fn the_cve_record_carries_the_cna_container() {
    let text = render(
        Format::Cve,
        &draft(),
        &publisher(),
        &Templates::builtin().expect("compile"),
        now(),
    )
    .expect("render");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cna = &v["containers"]["cna"];
    assert_eq!(v["cveMetadata"]["cveId"], "CVE-1900-0042");
    assert_eq!(
        cna["providerMetadata"]["orgId"],
        "8254265b-2729-46b6-b9e3-3dfca2d5bfca"
    );
    assert_eq!(cna["affected"][0]["versions"][0]["version"], "2.0");
    assert_eq!(cna["affected"][0]["versions"][0]["lessThan"], "2.4.1");
    assert_eq!(cna["problemTypes"][0]["descriptions"][0]["cweId"], "CWE-79");
    assert_eq!(cna["metrics"][0]["cvssV3_1"]["baseSeverity"], "MEDIUM");
    assert_eq!(
        cna["credits"][0]["value"],
        "Jane Doe from Tesla security team"
    );
    assert_eq!(cna["datePublic"], "2026-03-31T00:00:00Z");
}

#[test]
fn the_cve_description_never_names_the_credited_reporter() {
    let mut d = draft();
    d.summary = None;
    let text = render(
        Format::Cve,
        &d,
        &publisher(),
        &Templates::builtin().expect("compile"),
        now(),
    )
    .expect("render");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let description = v["containers"]["cna"]["descriptions"][0]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.contains("Cross-site Scripting"),
        "{description}"
    );
    assert!(description.contains("fixed in 2.4.1"), "{description}");
    assert!(!description.contains("Jane"), "{description}");
}

#[test]
fn reports_not_fixed_risk_accepted_or_disclosed_are_refused() {
    let templates = Templates::builtin().expect("compile");
    for state in ReportState::ALL {
        let mut d = draft();
        d.state = state;
        let result = render(Format::Md, &d, &publisher(), &templates, now());
        let allowed = matches!(
            state,
            ReportState::Fixed | ReportState::RiskAccepted | ReportState::Disclosed
        );
        assert_eq!(result.is_ok(), allowed, "{state:?}");
        if !allowed {
            assert!(matches!(result, Err(AdvisoryError::NotReady { .. })));
        }
    }
}

#[test]
fn a_risk_accepted_report_says_so_and_plans_no_fix() {
    let mut d = draft();
    d.state = ReportState::RiskAccepted;
    d.fixed_in = None;
    d.risk_reason = Some("Only administrators reach the form.".into());
    let out = all(&d, &publisher());
    assert!(
        out[0]
            .1
            .contains("The vendor accepted the risk: Only administrators")
    );
    let csaf: serde_json::Value = serde_json::from_str(&out[4].1).expect("json");
    assert_eq!(
        csaf["vulnerabilities"][0]["remediations"][0]["category"],
        "no_fix_planned"
    );
    assert_eq!(csaf["document"]["tracking"]["status"], "draft");
}

#[test]
fn missing_publisher_facts_are_named() {
    let templates = Templates::builtin().expect("compile");
    let bare = Publisher {
        vendor: "Example Org".into(),
        ..Publisher::default()
    };
    let mut d = draft();
    let cve = render(Format::Cve, &d, &bare, &templates, now());
    assert!(matches!(
        cve,
        Err(AdvisoryError::Missing {
            key: "cna_org_id",
            ..
        })
    ));
    let csaf = render(Format::Csaf, &d, &bare, &templates, now());
    assert!(matches!(
        csaf,
        Err(AdvisoryError::Missing {
            key: "csaf_namespace",
            ..
        })
    ));
    d.cve = None;
    assert!(matches!(
        render(Format::Osv, &d, &bare, &templates, now()),
        Err(AdvisoryError::NoOsvId { .. })
    ));
    assert!(matches!(
        render(Format::Cve, &d, &publisher(), &templates, now()),
        Err(AdvisoryError::NoCve { .. })
    ));
    d.cve = Some("CVE-1900-0042".into());
    d.references.clear();
    assert!(matches!(
        render(Format::Cve, &d, &publisher(), &templates, now()),
        Err(AdvisoryError::NoReference { .. })
    ));
    d.affected.clear();
    assert!(matches!(
        render(Format::Csaf, &d, &bare, &templates, now()),
        Err(AdvisoryError::Missing { .. }) | Err(AdvisoryError::NoProduct { .. })
    ));
}

#[test]
fn html_escapes_what_the_team_typed() {
    let mut d = draft();
    d.summary = Some("<script>alert('summary')</script>".into());
    d.affected[0].product = "<img src=x onerror=alert(1)>".into();
    d.credit = Some(Credit {
        name: "\"><svg onload=alert(2)>".into(),
        affiliation: Some("<b>team</b>".into()),
        url: Some("javascript:alert(3)".into()),
    });
    d.title = "<iframe src=//evil.example>".into();
    let out = all(&d, &publisher());
    let html = &out[1].1;
    for raw in ["<script>", "<img", "<svg", "<b>", "<iframe", "javascript:"] {
        assert!(!html.contains(raw), "{raw} unescaped in\n{html}");
    }
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "no script at all"
    );
    assert!(html.contains("Content-Security-Policy"));
    // Self-contained: no URL but the team's references and credit links.
    assert!(!html.contains("src="), "{html}");
    for (format, text) in &out[2..] {
        let value: serde_json::Value =
            serde_json::from_str(text).unwrap_or_else(|err| panic!("{format}: {err}"));
        assert!(
            value.to_string().contains("<img src=x onerror=alert(1)>"),
            "{format}"
        );
        assert!(!text.contains("javascript:"), "{format}: unsafe URL kept");
    }
}

#[test]
fn the_html_page_is_self_contained() {
    let html = &all(&draft(), &publisher())[1].1;
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["<script", "<link", "@import", "url(", "<img", "<iframe"] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("href=\"https://jane.example\""));
}

#[test]
fn osv_ids_need_a_registered_prefix_or_a_cve() {
    let templates = Templates::builtin().expect("compile");
    let mut p = publisher();
    let osv = |p: &Publisher| {
        let text = render(Format::Osv, &draft(), p, &templates, now()).expect("render");
        serde_json::from_str::<serde_json::Value>(&text).expect("json")
    };
    assert_eq!(osv(&p)["id"], "EXAMPLE-SEC-2026-0042");
    assert_eq!(osv(&p)["aliases"][0], "CVE-1900-0042");
    p.osv_prefix = None;
    let by_cve = osv(&p);
    assert_eq!(by_cve["id"], "CVE-1900-0042");
    assert!(by_cve.get("aliases").is_none());
    assert_eq!(
        by_cve["affected"][0]["ranges"][0]["events"][1]["fixed"],
        "2.4.1"
    );
}

#[test]
fn without_affects_the_default_product_is_affected_before_the_fix() {
    let mut d = draft();
    d.affected.clear();
    let products = d.products(&publisher());
    assert_eq!(
        products,
        [Affected {
            product: "Example Server".into(),
            versions: "< 2.4.1".into()
        }]
    );
    assert_eq!(
        Draft::derived_title(Some("CWE-89"), None, &products),
        "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection') in Example Server"
    );
    assert_eq!(
        Draft::derived_title(None, Some(Severity::High), &products),
        "High severity vulnerability in Example Server"
    );
}

#[test]
fn a_replaced_template_is_used_and_a_broken_one_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("advisory.md.hbs"),
        "ADVISORY {{id}} {{title}}\n",
    )
    .expect("write");
    let templates = Templates::load(Some(dir.path())).expect("load");
    let md = render(Format::Md, &draft(), &publisher(), &templates, now()).expect("render");
    assert_eq!(
        md,
        "ADVISORY SEC-2026-0042 Cross-site scripting in Example Server\n"
    );
    // The HTML one is still the built-in.
    let html = render(Format::Html, &draft(), &publisher(), &templates, now()).expect("render");
    assert!(html.starts_with("<!DOCTYPE html>"));

    std::fs::write(dir.path().join("advisory.html.hbs"), "{{reporter}}").expect("write");
    let err = Templates::load(Some(dir.path())).expect_err("unknown field");
    assert!(err.to_string().contains("advisory.html.hbs"), "{err}");
    std::fs::write(dir.path().join("advisory.html.hbs"), "{{#if}}").expect("write");
    assert!(Templates::load(Some(dir.path())).is_err());
}

#[test]
fn only_http_uris_are_linked() {
    for ok in ["https://jane.example", "http://x.example/a?b=1&c=%20#f"] {
        assert!(linkable(ok), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "https://",
        "https://x.example/\"onmouseover=x",
        "https://x.example/<svg>",
        "https://x.example/a b",
        "https://bücher.example",
        "data:text/html,hi",
    ] {
        assert!(!linkable(bad), "{bad}");
    }
}

#[test]
fn a_credit_name_cannot_become_markdown_markup() {
    let mut d = draft();
    d.credit = Some(Credit {
        name: "[click](javascript:alert(1)) <b>x</b> ![i](https://t.example/p.png)".into(),
        affiliation: None,
        url: Some("https://jane.example/a)(b".into()),
    });
    let md = &all(&d, &publisher())[0].1;
    let credit = md
        .lines()
        .find(|l| l.starts_with("Reported by"))
        .unwrap_or_default();
    assert_eq!(
        credit,
        "Reported by [\\[click\\](javascript:alert(1)) \\<b\\>x\\</b\\> \\!\\[i\\](https://t.example/p.png)](<https://jane.example/a)(b>)."
    );
    assert_eq!(human::markdown_escape("a_b*c"), "a\\_b\\*c");
}

#[test]
fn every_markdown_section_is_set_off_by_a_blank_line() {
    let templates = Templates::builtin().expect("compile");
    let md = render(Format::Md, &draft(), &publisher(), &templates, now()).expect("render");
    for heading in [
        "## Summary",
        "## Affected versions",
        "## Fixed versions",
        "## Credit",
        "## Timeline",
        "## References",
    ] {
        assert!(
            md.contains(&format!("\n\n{heading}\n\n")),
            "{heading}:\n{md}"
        );
    }
}
