use super::*;
use crate::publish::hall_of_fame::{Entry, NamedCredit, build};
use crate::report::ReportState;

fn info() -> SiteInfo {
    SiteInfo {
        program: "Example".into(),
        contact: "security@example.org".into(),
        policy_url: Some("https://example.org/policy".into()),
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("time")
}

fn credited(name: &str, url: Option<&str>) -> Vec<Line> {
    build(&[Entry {
        report: "SEC-2026-0001".into(),
        state: ReportState::Disclosed,
        credit: Some(NamedCredit {
            name: name.into(),
            affiliation: Some("<i>Acme</i>".into()),
            url: url.map(Into::into),
            key: None,
        }),
        disclosed_at: Some(at("2026-11-01T10:00:00Z")),
    }])
}

#[test]
fn script_in_a_credit_name_is_escaped_in_the_html_hall_of_fame() {
    let lines = credited(
        "<script>alert(1)</script>\"><img src=x onerror=alert(1)>",
        None,
    );
    let html =
        hall_of_fame(&SiteTemplates::builtin(), &info(), &lines, Format::Html).expect("render");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<i>Acme"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
}

#[test]
fn a_javascript_url_never_becomes_a_link_in_the_hall_of_fame() {
    let lines = credited("Mallory", Some("javascript:alert(document.cookie)"));
    let t = SiteTemplates::builtin();
    let html = hall_of_fame(&t, &info(), &lines, Format::Html).expect("render");
    assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
    assert!(html.contains("Mallory"));
    let md = hall_of_fame(&t, &info(), &lines, Format::Md).expect("render");
    assert!(!md.contains("javascript:"), "{md}");
    let json = hall_of_fame(&t, &info(), &lines, Format::Json).expect("render");
    assert!(!json.contains("javascript:"), "{json}");
}

#[test]
fn markdown_in_a_credit_name_stays_text() {
    let lines = credited(
        "[click](https://evil.example)",
        Some("https://jane.example"),
    );
    let md = hall_of_fame(&SiteTemplates::builtin(), &info(), &lines, Format::Md).expect("render");
    assert!(
        md.contains("1. [\\[click\\]\\(https://evil\\.example\\)](<https://jane\\.example>)"),
        "{md}"
    );
}

#[test]
fn the_hall_of_fame_links_a_web_address_and_names_the_affiliation() {
    let lines = credited("Jane Doe", Some("https://jane.example"));
    let html =
        hall_of_fame(&SiteTemplates::builtin(), &info(), &lines, Format::Html).expect("render");
    assert!(html.contains("<a href=\"https://jane.example\" rel=\"nofollow noopener noreferrer\">Jane Doe</a> from &lt;i&gt;Acme&lt;/i&gt;"), "{html}");
    assert!(html.contains("1 contribution,"), "{html}");
    let json =
        hall_of_fame(&SiteTemplates::builtin(), &info(), &lines, Format::Json).expect("render");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value[0]["contributions"], 1);
    assert_eq!(value[0]["url"], "https://jane.example");
}

fn advisory(id: &str, fixed_in: Option<&str>, day: &str) -> AdvisoryInput {
    AdvisoryInput {
        id: id.into(),
        title: format!("Advisory {id}"),
        cve: None,
        severity: Some("high".into()),
        fixed_in: fixed_in.map(Into::into),
        disclosed_at: at(&format!("{day}T10:00:00Z")),
    }
}

#[test]
fn security_updates_list_releases_newest_first() {
    let input = [
        advisory("SEC-2026-0001", Some("9.11"), "2026-01-01"),
        advisory("SEC-2026-0002", Some("10.2"), "2026-02-01"),
        advisory("SEC-2026-0003", None, "2026-03-01"),
        advisory("SEC-2026-0004", Some("10.2"), "2026-04-01"),
    ];
    let r = releases(&input);
    let order: Vec<_> = r
        .iter()
        .map(|r| {
            (
                r.version,
                r.advisories.iter().map(|a| a.id).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            (Some("10.2"), vec!["SEC-2026-0004", "SEC-2026-0002"]),
            (Some("9.11"), vec!["SEC-2026-0001"]),
            (None, vec!["SEC-2026-0003"]),
        ]
    );
}

#[test]
fn the_site_has_every_page_and_no_script_or_external_asset() {
    let t = SiteTemplates::builtin();
    let advisories = vec![advisory("SEC-2026-0001", Some("1.2.3"), "2026-11-01")];
    // The advisory renderer has its own tests; here a page stands in for it.
    let advisory_files = vec![
        AdvisoryFile {
            name: "SEC-2026-0001.html".into(),
            bytes: b"<!DOCTYPE html><title>SEC-2026-0001</title>".to_vec(),
        },
        AdvisoryFile {
            name: "SEC-2026-0001.json".into(),
            bytes: b"{}\n".to_vec(),
        },
    ];
    let input = SiteInput {
        info: info(),
        hall_of_fame: credited("Jane", None),
        advisories,
        advisory_files,
        stats: StatsInput {
            reports: 2,
            acknowledge: vec![Sample {
                opened: at("2026-10-01T00:00:00Z"),
                seconds: 7200,
            }],
            fix: vec![Sample {
                opened: at("2026-10-01T00:00:00Z"),
                seconds: 86400 * 9,
            }],
        },
        security_txt: "-----BEGIN PGP SIGNED MESSAGE-----\n".into(),
        public_key: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n".into(),
    };
    let files = render_site(&t, &input).expect("site");
    let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            ".well-known/security.txt",
            "pgp-key.txt",
            "hall-of-fame.html",
            "security-updates.html",
            "statistics.html",
            "advisories/SEC-2026-0001.html",
            "advisories/SEC-2026-0001.json",
        ]
    );
    for f in files.iter().filter(|f| f.path.ends_with(".html")) {
        let text = String::from_utf8_lossy(&f.bytes);
        assert!(!text.contains("<script"), "{}", f.path);
        assert!(
            !text.contains("src=\"http") && !text.contains("<link"),
            "{}",
            f.path
        );
    }
    let stats = files
        .iter()
        .find(|f| f.path == "statistics.html")
        .expect("stats");
    let text = String::from_utf8_lossy(&stats.bytes);
    assert_eq!(text.matches("<svg").count(), 2);
    assert!(
        text.contains("2.0 hours") && text.contains("9.0 days"),
        "{text}"
    );
    let again = render_site(&t, &input).expect("site");
    assert_eq!(files, again, "the same input renders the same bytes");
}

#[test]
fn an_advisory_file_name_cannot_leave_the_advisories_directory() {
    let t = SiteTemplates::builtin();
    let mut input_files = vec![AdvisoryFile {
        name: "../index.html".into(),
        bytes: vec![],
    }];
    let input = SiteInput {
        info: info(),
        hall_of_fame: vec![],
        advisories: vec![],
        advisory_files: std::mem::take(&mut input_files),
        stats: StatsInput::default(),
        security_txt: String::new(),
        public_key: String::new(),
    };
    assert!(matches!(
        render_site(&t, &input),
        Err(PageError::BadName(_))
    ));
}

#[test]
fn versions_compare_by_number() {
    assert_eq!(compare_versions("10.2", "9.11"), Ordering::Greater);
    assert_eq!(compare_versions("1.2", "1.2.1"), Ordering::Less);
    assert_eq!(compare_versions("2.0-rc1", "2.0-rc1"), Ordering::Equal);
}
