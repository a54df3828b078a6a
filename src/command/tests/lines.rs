//! One line at a time: what each command accepts and what it refuses, and why.

use super::*;

fn credit(name: &str, url: Option<&str>) -> Command {
    Command::Credit(Some(Credit {
        name: name.to_owned(),
        affiliation: None,
        url: url.map(str::to_owned),
    }))
}

#[test]
fn good_lines() {
    let alice = Address::parse("alice@example.org").expect("address");
    let cases: Vec<(&str, Command)> = vec![
        ("#state triaged", Command::State(ReportState::Triaged)),
        (
            "#STATE Out-Of-Scope",
            Command::State(ReportState::OutOfScope),
        ),
        (
            "  #state   accepted  ",
            Command::State(ReportState::Accepted),
        ),
        ("#severity high", Command::Severity(Severity::High)),
        ("#Severity NONE", Command::Severity(Severity::None)),
        (
            "#assign alice@example.org",
            Command::Assign(Some(alice.clone())),
        ),
        (
            "#assign <Alice@Example.org>",
            Command::Assign(Some(alice.clone())),
        ),
        (
            "#assign Alice <alice@example.org>",
            Command::Assign(Some(alice.clone())),
        ),
        ("#state\u{a0}triaged", Command::State(ReportState::Triaged)),
        ("#assign none", Command::Assign(None)),
        (
            "#duplicate SEC-2026-0012",
            Command::Duplicate {
                of: id("SEC-2026-0012"),
                reply: false,
            },
        ),
        (
            "#duplicate sec-2026-0012 Reply",
            Command::Duplicate {
                of: id("SEC-2026-0012"),
                reply: true,
            },
        ),
        (
            "#cve CVE-2026-12345",
            Command::Cve("CVE-2026-12345".to_owned()),
        ),
        (
            "#cve cve-2026-0001",
            Command::Cve("CVE-2026-0001".to_owned()),
        ),
        (
            "#credit \"Jane Doe\" https://jane.example",
            credit("Jane Doe", Some("https://jane.example")),
        ),
        ("#credit \"Jane Doe\"", credit("Jane Doe", None)),
        ("#credit Jane Doe", credit("Jane Doe", None)),
        (
            "#credit Jane Doe http://jane.example/about",
            credit("Jane Doe", Some("http://jane.example/about")),
        ),
        ("#credit Jane Doe: Acme", credit("Jane Doe: Acme", None)),
        ("#credit None", Command::Credit(None)),
        ("#fixed-in 3.1.1", Command::FixedIn("3.1.1".to_owned())),
        (
            "#Fixed-In 3.1.1 and 2.9.4",
            Command::FixedIn("3.1.1 and 2.9.4".to_owned()),
        ),
        ("#disclose 2027-02-21", Command::Disclose(date(2027, 2, 21))),
        ("#disclose 2028-02-29", Command::Disclose(date(2028, 2, 29))),
        ("#waiting", Command::Waiting),
        ("#help", Command::Help),
        ("#HELP", Command::Help),
        ("#list", Command::List(None)),
        ("#list fixed", Command::List(Some(ReportState::Fixed))),
        ("#show sec-2026-0042", Command::Show(id("SEC-2026-0042"))),
        ("#digest", Command::Digest),
        ("#stats", Command::Stats),
    ];
    for (line, want) in cases {
        assert_eq!(parse(line), Ok(want), "{line}");
    }
}

#[test]
fn extend_lengths_and_reasons() {
    let cases = [
        (
            "#extend 30d because the fix needs a redesign",
            30,
            "the fix needs a redesign",
        ),
        ("#extend 30 days because vendor", 30, "vendor"),
        ("#extend 1 day Because: upstream", 1, "Because: upstream"),
        (
            "#extend 4w waiting for upstream",
            28,
            "waiting for upstream",
        ),
        ("#EXTEND 4 weeks BECAUSE  upstream  ", 28, "upstream"),
        ("#extend 2 week because x", 14, "x"),
        ("#extend 10days because x", 10, "x"),
    ];
    for (line, days, reason) in cases {
        assert_eq!(
            parse(line),
            Ok(Command::Extend {
                days,
                reason: reason.to_owned()
            }),
            "{line}"
        );
    }
}

/// Each bad line and a fragment its error must contain, so the mail back says why.
#[test]
fn bad_lines_say_why() {
    let cases = [
        ("#frobnicate", "unknown command `#frobnicate`"),
        ("#stat triaged", "unknown command `#stat`"),
        ("#state", "`#state` needs an argument"),
        ("#state fixd", "`fixd` is not a report state"),
        ("#severity", "needs an argument"),
        ("#severity urgent", "`urgent` is not a severity"),
        ("#cvss", "needs an argument"),
        ("#assign", "needs an argument"),
        ("#assign alice", "`alice` is not an address"),
        ("#assign Alice <alice>", "`Alice <alice>` is not an address"),
        ("#assign alice+x@example.org", "is not an address"),
        ("#duplicate", "needs an argument"),
        (
            "#duplicate 12",
            "`12` is not a report id; write it like SEC-2026-0042",
        ),
        ("#duplicate SEC-2026-0012 now", "only `reply` may follow"),
        (
            "#duplicate SEC-2026-0012 reply please",
            "unexpected `please`",
        ),
        ("#cve", "needs an argument"),
        ("#cve CVE-26-1234", "`CVE-26-1234` is not a CVE id"),
        ("#cve CVE-2026-123", "is not a CVE id"),
        ("#cve CVE-2026-12a45", "is not a CVE id"),
        ("#cve 2026-12345", "is not a CVE id"),
        ("#credit", "needs an argument"),
        ("#credit \"Jane Doe https://jane.example", "closing quote"),
        (
            "#credit \"Jane\" https://a.example https://b.example",
            "only one URL",
        ),
        ("#credit \"\" https://jane.example", "the name is missing"),
        ("#credit https://jane.example", "the name is missing"),
        (
            "#credit Jane ftp://jane.example",
            "`ftp://jane.example` is not an http or https URL",
        ),
        (
            "#credit Jane javascript:alert(1)",
            "is not an http or https URL",
        ),
        (
            "#credit \"Jane\" jane.example",
            "is not an http or https URL",
        ),
        ("#credit Jane https://", "no host"),
        ("#credit Jane\u{7}Doe", "control characters"),
        (
            "#credit Jane https://jane.example Doe",
            "looks like a URL inside the name; put the URL last",
        ),
        ("#fixed-in", "needs an argument"),
        ("#disclose", "needs an argument"),
        (
            "#disclose tomorrow",
            "`tomorrow` is not a date; write it as YYYY-MM-DD",
        ),
        ("#disclose 21.02.2027", "is not a date"),
        ("#disclose 2027-02-30", "2027-02-30 is not a real date"),
        ("#disclose 2027-13-01", "is not a real date"),
        ("#extend", "needs an argument"),
        ("#extend 30d", "a reason is required"),
        ("#extend 30d because", "a reason is required"),
        ("#extend 30 days because   ", "a reason is required"),
        (
            "#extend thirty days because x",
            "does not start with a length",
        ),
        (
            "#extend 30 fortnights because x",
            "does not start with a length",
        ),
        ("#extend 0d because x", "does not start with a length"),
        ("#extend 30dx because x", "does not start with a length"),
        ("#extend 30d2 because x", "is not a length"),
        (
            "#extend 99999999999d because x",
            "does not start with a length",
        ),
        (
            "#waiting for vendor",
            "`#waiting` takes no argument, but got `for vendor`",
        ),
        ("#help me", "takes no argument"),
        ("#list closed", "`closed` is not a report state"),
        ("#show", "needs an argument"),
        ("#show 42", "is not a report id"),
        ("#digest now", "takes no argument"),
        ("#stats all", "takes no argument"),
    ];
    for (line, fragment) in cases {
        match parse(line) {
            Ok(command) => panic!("{line:?} parsed as {command:?}"),
            Err(err) => {
                let text = err.to_string();
                assert!(
                    text.contains(fragment),
                    "{line:?}: {text:?} lacks {fragment:?}"
                );
            }
        }
    }
}

#[test]
fn long_texts_are_refused_and_not_echoed_whole() {
    let name = "x".repeat(101);
    let err = parse(&format!("#credit {name}")).expect_err("too long");
    assert!(
        err.to_string().contains("101 characters long; at most 100"),
        "{err}"
    );
    assert!(parse(&format!("#credit {}", "x".repeat(100))).is_ok());
    assert!(parse(&format!("#fixed-in {}", "1".repeat(101))).is_err());
    assert!(parse(&format!("#fixed-in {}", "1".repeat(100))).is_ok());

    let huge = format!("#state {}", "y".repeat(10_000));
    let text = parse(&huge).expect_err("not a state").to_string();
    assert!(text.len() < 1_000, "{} bytes", text.len());
}

#[test]
fn cvss_31_critical() {
    let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    let Ok(Command::Cvss(cvss)) = parse(&format!("#cvss  {vector}  ")) else {
        panic!("not parsed");
    };
    assert_eq!(cvss.vector, vector);
    assert_eq!(cvss.version, CvssVersion::V3_1);
    assert!((cvss.score - 9.8).abs() < 1e-9, "{}", cvss.score);
    assert_eq!(cvss.severity, Severity::Critical);
    assert_eq!(
        Change::Cvss(cvss).describe(),
        format!("CVSS 3.1 score 9.8 (critical): {vector}")
    );
}

#[test]
fn cvss_30_and_40() {
    let Ok(Command::Cvss(v30)) = parse("#cvss CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N") else {
        panic!("3.0 not parsed");
    };
    assert_eq!(v30.version, CvssVersion::V3_0);
    assert_eq!(v30.severity, Severity::Medium);

    let vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    let Ok(Command::Cvss(v40)) = parse(&format!("#cvss {vector}")) else {
        panic!("4.0 not parsed");
    };
    assert_eq!(v40.version, CvssVersion::V4_0);
    assert!((v40.score - 9.3).abs() < 1e-9, "{}", v40.score);
    assert_eq!(v40.severity, Severity::Critical);
}

#[test]
fn cvss_refusals() {
    let cases = [
        // The crate scores this 0.0 instead of refusing it.
        (
            "#cvss CVSS:3.1/AV:N/AC:L",
            "missing base metrics PR, UI, S, C, I, A; a CVSS 3.1 vector needs all of AV, AC, PR",
        ),
        (
            "#cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "missing base metric A;",
        ),
        (
            &format!("#cvss CVSS:3.1/{}", "AV:N/".repeat(100)),
            "longer than any CVSS vector",
        ),
        (
            "#cvss CVSS:4.0/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "AC",
        ),
        (
            "#cvss AV:N/AC:L/Au:N/C:C/I:C/A:C",
            "CVSS v2 is not supported",
        ),
        (
            "#cvss CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C",
            "version `2.0` is not supported",
        ),
        ("#cvss CVSS:5.0/AV:N", "version `5.0` is not supported"),
        (
            "#cvss cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "starts with `CVSS:3.1/`",
        ),
        ("#cvss CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV"),
        ("#cvss 9.8", "starts with"),
    ];
    for (line, fragment) in cases {
        let text = parse(line).expect_err(line).to_string();
        assert!(text.len() < 300, "{text}");
        assert!(text.starts_with("`#cvss`: "), "{text}");
        assert!(
            text.contains(fragment),
            "{line:?}: {text:?} lacks {fragment:?}"
        );
    }
}
