use serde::Deserialize;

use super::*;

const TEMPLATES: &[&str] = &["acknowledgement", "out-of-scope"];

/// A rule that matches `subject` and closes the report as out of scope.
fn rule(name: &str) -> RawRule {
    RawRule {
        name: name.to_owned(),
        enabled: true,
        subject: None,
        body: None,
        sender: None,
        text: None,
        state: Some("out-of-scope".to_owned()),
        tags: vec!["non-issue".to_owned()],
        reply: Some("out-of-scope".to_owned()),
    }
}

fn compile(raw: Vec<RawRule>) -> Rules {
    Rules::compile(raw, TEMPLATES).expect("rules compile")
}

fn errors(raw: Vec<RawRule>) -> Vec<String> {
    Rules::compile(raw, TEMPLATES)
        .expect_err("rules are refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn matched<'a>(rules: &'a Rules, subject: &str, body: &str, sender: &str) -> Option<&'a str> {
    rules.first_match(subject, body, sender).map(Rule::name)
}

#[test]
fn each_field_matches_its_own_input() {
    let rules = compile(vec![
        RawRule {
            subject: Some("dmarc".into()),
            ..rule("by-subject")
        },
        RawRule {
            body: Some("clickjacking".into()),
            ..rule("by-body")
        },
        RawRule {
            sender: Some(r"@spam\.example$".into()),
            ..rule("by-sender")
        },
    ]);
    assert_eq!(
        matched(&rules, "DMARC", "", "a@b.example"),
        Some("by-subject")
    );
    assert_eq!(
        matched(&rules, "Finding", "Clickjacking here", "a@b.example"),
        Some("by-body")
    );
    assert_eq!(
        matched(&rules, "Finding", "text", "bob@spam.example"),
        Some("by-sender")
    );
    // Each pattern looks only at its own field.
    assert_eq!(matched(&rules, "x", "dmarc", "dmarc@b.example"), None);
    assert_eq!(matched(&rules, "clickjacking", "", "clickjacking@b"), None);
    assert_eq!(
        matched(&rules, "@spam.example", "@spam.example", "a@b"),
        None
    );
}

#[test]
fn text_matches_subject_or_body() {
    let rules = compile(vec![RawRule {
        text: Some("dmarc".into()),
        ..rule("text")
    }]);
    assert_eq!(matched(&rules, "DMARC missing", "", ""), Some("text"));
    assert_eq!(
        matched(&rules, "Finding", "no DMARC record", ""),
        Some("text")
    );
    assert_eq!(matched(&rules, "Finding", "SPF only", "dmarc@x"), None);
}

#[test]
fn every_given_pattern_must_match() {
    let rules = compile(vec![RawRule {
        subject: Some("header".into()),
        body: Some("x-frame-options".into()),
        sender: Some(r"\.example$".into()),
        ..rule("all")
    }]);
    let body = "The X-Frame-Options header is missing.";
    assert_eq!(
        matched(&rules, "Missing header", body, "r@a.example"),
        Some("all")
    );
    assert_eq!(matched(&rules, "Missing header", body, "r@a.org"), None);
    assert_eq!(matched(&rules, "Finding", body, "r@a.example"), None);
    assert_eq!(
        matched(&rules, "Missing header", "CSP missing", "r@a.example"),
        None
    );
}

#[test]
fn disabled_rules_are_skipped_but_kept() {
    let rules = compile(vec![
        RawRule {
            enabled: false,
            subject: Some("dmarc".into()),
            ..rule("off")
        },
        RawRule {
            subject: Some("dmarc".into()),
            state: Some("spam".into()),
            ..rule("on")
        },
    ]);
    let found = rules.first_match("DMARC", "", "").expect("a rule matches");
    assert_eq!(found.name(), "on");
    assert_eq!(found.state(), Some(ReportState::Spam));
    assert_eq!(rules.len(), 2);
    assert!(!rules.is_empty());
    assert!(!rules.iter().next().expect("first rule").is_enabled());
}

#[test]
fn the_first_rule_in_file_order_wins() {
    let rules = compile(vec![
        RawRule {
            subject: Some("missing".into()),
            tags: vec!["first".into()],
            state: None,
            reply: None,
            ..rule("first")
        },
        RawRule {
            subject: Some("missing dmarc".into()),
            ..rule("second")
        },
    ]);
    let found = rules
        .first_match("Missing DMARC", "", "")
        .expect("a rule matches");
    assert_eq!(found.name(), "first");
    assert_eq!(found.tags(), ["first"]);
    assert_eq!(found.state(), None);
    assert_eq!(found.reply(), None);
}

#[test]
fn patterns_ignore_case_unless_told_otherwise() {
    let rules = compile(vec![
        RawRule {
            subject: Some("(?-i)SPF".into()),
            ..rule("exact")
        },
        RawRule {
            subject: Some("DmArC".into()),
            ..rule("any-case")
        },
    ]);
    assert_eq!(matched(&rules, "missing dmarc", "", ""), Some("any-case"));
    assert_eq!(matched(&rules, "no spf", "", ""), None);
    assert_eq!(matched(&rules, "no SPF", "", ""), Some("exact"));
}

#[test]
fn a_rule_exposes_what_it_sets() {
    let rules = compile(vec![RawRule {
        subject: Some("x".into()),
        tags: vec!["non-issue".into(), "dmarc".into(), "non-issue".into()],
        ..rule("sets")
    }]);
    let found = rules.first_match("x", "", "").expect("a rule matches");
    assert_eq!(found.state(), Some(ReportState::OutOfScope));
    assert_eq!(found.tags(), ["non-issue", "dmarc"], "duplicates dropped");
    assert_eq!(found.reply(), Some("out-of-scope"));
}

#[test]
fn no_rules_match_nothing() {
    let rules = Rules::default();
    assert!(rules.is_empty());
    assert_eq!(rules.len(), 0);
    assert!(rules.first_match("DMARC", "", "").is_none());
    assert!(compile(Vec::new()).is_empty());
}

#[test]
fn backtracking_patterns_finish() {
    let rules = compile(vec![RawRule {
        body: Some("(a+)+$".into()),
        ..rule("nested")
    }]);
    // A backtracking engine takes exponential time here; the regex crate is linear.
    let body = format!("{}!", "a".repeat(BODY_SEARCH_LIMIT - 1));
    assert_eq!(matched(&rules, "", &body, ""), None);
    let subject = format!("{}!", "a".repeat(BODY_SEARCH_LIMIT));
    let rules = compile(vec![RawRule {
        subject: Some("(a+)+$".into()),
        ..rule("nested")
    }]);
    assert_eq!(matched(&rules, &subject, "", ""), None);
}

#[test]
fn only_the_first_64_kib_of_a_body_are_searched() {
    let rules = compile(vec![RawRule {
        body: Some("dmarc".into()),
        ..rule("late")
    }]);
    let padding = "x".repeat(BODY_SEARCH_LIMIT);
    assert_eq!(matched(&rules, "", &format!("{padding}dmarc"), ""), None);
    let early = format!("{}dmarc{padding}", "x".repeat(BODY_SEARCH_LIMIT - 5));
    assert_eq!(matched(&rules, "", &early, ""), Some("late"));
    // A cut inside a multi-byte character backs off to its start instead of panicking.
    let multibyte = format!("{}ädmarc", "x".repeat(BODY_SEARCH_LIMIT - 1));
    assert_eq!(matched(&rules, "", &multibyte, ""), None);
}

#[test]
fn every_problem_is_reported_with_its_place() {
    let long = "a".repeat(MAX_PATTERN_LEN + 1);
    let found = errors(vec![
        RawRule {
            subject: Some("ok".into()),
            ..rule("fine")
        },
        RawRule {
            subject: Some("(unclosed".into()),
            body: Some(long),
            sender: Some(String::new()),
            state: Some("accepted".into()),
            tags: vec![
                "Non Issue".into(),
                "ok".into(),
                "x".repeat(33),
                String::new(),
            ],
            reply: Some("out-of-scop".into()),
            ..rule("broken")
        },
        RawRule {
            state: Some("closed".into()),
            ..rule("  ")
        },
        RawRule {
            text: Some("x".into()),
            state: None,
            tags: Vec::new(),
            reply: None,
            ..rule("fine")
        },
    ]);
    let expected = [
        "rules[1].subject (rule `broken`): the pattern does not compile: regex parse error:",
        "rules[1].body (rule `broken`): the pattern is 1001 bytes long; at most 1000 are allowed",
        "rules[1].sender (rule `broken`): the pattern is empty; it would match every message",
        "rules[1].state (rule `broken`): a rule may not set the state `accepted`, that takes a person; a rule may set one of: out-of-scope, spam, rejected, triaged",
        "rules[1].tags[0] (rule `broken`): the tag `Non Issue` is not allowed; tags are 1 to 32 characters of a-z, 0-9 and `-`",
        "rules[1].tags[2] (rule `broken`): the tag `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx` is not allowed",
        "rules[1].tags[3] (rule `broken`): the tag `` is not allowed",
        "rules[1].reply (rule `broken`): there is no template named `out-of-scop`; the known templates are: acknowledgement, out-of-scope",
        "rules[2].name: a rule needs a name; it names the rule in the event log and in replies",
        "rules[2]: give at least one pattern: `subject`, `body`, `sender` or `text`",
        "rules[2].state: `closed` is not a report state; a rule may set one of: out-of-scope, spam, rejected, triaged",
        "rules[3].name (rule `fine`): this name is already used by rules[0]; rule names must be unique",
        "rules[3] (rule `fine`): the rule does nothing: give at least one of `state`, `tags` or `reply`",
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (got, want) in found.iter().zip(expected) {
        assert!(
            got.starts_with(want),
            "{got:?}\n does not start with\n{want:?}"
        );
    }
    assert!(found[0].contains("(unclosed"), "{}", found[0]);
    assert!(found[0].contains("unclosed group"), "{}", found[0]);
}

#[test]
fn oversized_programs_are_refused() {
    // Well under 1000 bytes, but a counted repetition of Unicode classes
    // compiles to far more than 1 MiB.
    let found = errors(vec![RawRule {
        subject: Some(r"\w{1000}\w{1000}".into()),
        ..rule("huge")
    }]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("rules[0].subject (rule `huge`): the pattern does not compile:"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("size limit"), "{}", found[0]);
}

#[test]
fn raw_rules_refuse_unknown_keys_and_default_to_enabled() {
    #[derive(Deserialize)]
    struct File {
        rules: Vec<RawRule>,
    }
    let file: File = toml::from_str("[[rules]]\nname = \"a\"\nsubject = \"x\"\ntags = [\"t\"]\n")
        .expect("parses");
    assert!(file.rules[0].enabled);
    let err = toml::from_str::<File>("[[rules]]\nname = \"a\"\nsubjet = \"x\"\n")
        .err()
        .expect("unknown key refused");
    assert!(err.to_string().contains("subjet"), "{err}");
}

/// The `[[rules]]` that config.example.toml ships, all enabled.
fn example_rules() -> Rules {
    #[derive(Deserialize)]
    struct File {
        rules: Vec<RawRule>,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).expect("config.example.toml exists");
    let table: toml::Table = toml::from_str(&text).expect("config.example.toml is TOML");
    let rules = table.get("rules").cloned().expect("the example has rules");
    let mut file: File = toml::Table::from_iter([("rules".to_owned(), rules)])
        .try_into()
        .expect("the example rules deserialise");
    assert!(file.rules.len() >= 4, "one rule per non-issue class");
    for raw in &mut file.rules {
        assert!(!raw.enabled, "example rule `{}` is disabled", raw.name);
        assert_eq!(raw.state.as_deref(), Some("out-of-scope"));
        assert_eq!(raw.reply.as_deref(), Some("out-of-scope"));
        assert!(raw.tags.iter().any(|t| t == "non-issue"));
        raw.enabled = true;
    }
    Rules::compile(file.rules, &["out-of-scope"]).expect("the example rules compile")
}

#[test]
fn the_example_rules_catch_classic_non_issues() {
    let rules = example_rules();
    let sender = "researcher@mail.example";
    for (subject, rule) in [
        (
            "Missing DMARC record on example.org",
            "email-authentication-records",
        ),
        ("SPF record not configured", "email-authentication-records"),
        (
            "No DKIM signature on outgoing mail",
            "email-authentication-records",
        ),
        ("Clickjacking on the login page", "clickjacking"),
        ("Click-jacking vulnerability", "clickjacking"),
        (
            "Missing X-Frame-Options / Content-Security-Policy headers",
            "missing-security-headers",
        ),
        ("HSTS header not set", "missing-security-headers"),
        ("Lack of security headers", "missing-security-headers"),
        (
            "Server version disclosure: nginx/1.18",
            "version-disclosure",
        ),
        ("X-Powered-By header reveals PHP", "version-disclosure"),
    ] {
        let body = format!("Hello,\n\nI found: {subject}.\n\nRegards,\nA researcher\n");
        let found = rules.first_match(subject, &body, sender);
        assert_eq!(found.map(Rule::name), Some(rule), "{subject}");
    }
}

#[test]
fn the_example_rules_leave_real_reports_alone() {
    let rules = example_rules();
    for (subject, body) in [
        (
            "SQL injection in /search",
            "The q parameter of /search is concatenated into SQL: q=' OR 1=1--",
        ),
        (
            "Stored XSS in profile name",
            "A profile name of <script>alert(1)</script> runs on every page that shows it.",
        ),
        (
            "Information disclosure in version 3.1 API",
            "GET /api/v3.1/users returns every user's e-mail address without a session.",
        ),
        (
            "Account takeover via password reset",
            "The reset token is sent in the Referer header to a third-party analytics host.",
        ),
    ] {
        let found = rules.first_match(subject, body, "researcher@mail.example");
        assert_eq!(found.map(Rule::name), None, "{subject}");
    }
}

#[test]
fn the_out_of_scope_template_renders_in_strict_mode() {
    let mut registry = handlebars::Handlebars::new();
    registry.register_escape_fn(handlebars::no_escape);
    registry.set_strict_mode(true);
    registry
        .register_template_string(
            "out-of-scope",
            include_str!("../../templates/out-of-scope.txt.hbs"),
        )
        .expect("the template compiles");
    for reporter_name in [serde_json::json!("Jane <Doe>"), serde_json::Value::Null] {
        let text = registry
            .render(
                "out-of-scope",
                &serde_json::json!({
                    "report_id": "SEC-2026-0042",
                    "subject": "Missing DMARC record & more",
                    "program_name": "Example",
                    "policy_url": "https://example.org/security",
                    "reply_address": "security+SEC-2026-0042@example.org",
                    "reporter_name": reporter_name,
                    "rule": "email-authentication-records",
                }),
            )
            .expect("the template renders");
        assert!(text.contains("Missing DMARC record & more"), "{text}");
        assert!(text.contains("security+SEC-2026-0042@example.org"));
        assert!(text.contains("https://example.org/security"));
        assert!(text.contains("\n-- \n"), "signature separator");
        if reporter_name.is_null() {
            assert!(text.starts_with("Hello,\n"), "{text}");
        } else {
            assert!(text.starts_with("Hello Jane <Doe>,\n"), "{text}");
        }
    }
}
