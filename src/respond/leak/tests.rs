//! Table tests of the relay check: what counts as the same line, and which
//! matches hold a relay back.

use super::*;

fn members() -> Members {
    Members::new(&[
        "Alice Liddell",
        "alice@example.org",
        "Bob",
        "bob@example.org",
    ])
}

fn fp(line: &str) -> Vec<LineFingerprint> {
    line_fingerprints(line, &members())
}

/// The whole-line fingerprint of `line`.
fn whole(line: &str) -> LineFingerprint {
    fp(line)[0]
}

#[test]
fn the_same_line_in_another_form_has_the_same_fingerprint() {
    let line = "Report SEC-2026-0041 from rita@researcher.example";
    for variant in [
        "report sec-2026-0041 from rita@researcher.example",
        "> Report SEC-2026-0041 from rita@researcher.example",
        ">>   REPORT   SEC 2026 0041   FROM   RITA@RESEARCHER.EXAMPLE.",
        "  * Report SEC\u{2011}2026\u{2011}0041 from rita@researcher.example  ",
        "Report\u{00A0}SEC-2026-0041 from rita\u{200B}@researcher.example",
        "\u{FF32}eport SEC-2026-0041 from rita@researcher.example",
    ] {
        assert_eq!(whole(variant), whole(line), "{variant:?}");
    }
    assert_ne!(
        whole("Report SEC-2026-0042 from rita@researcher.example"),
        whole(line)
    );
}

#[test]
fn member_mentions_are_folded_before_fingerprinting() {
    // Team mail names the member; the relay has had the name replaced.
    let sent = "Assigned to Alice Liddell <alice@example.org> on Monday morning";
    for relayed in [
        "Assigned to [team member] on Monday morning",
        "assigned to alice@example.org on monday morning",
        "Assigned to ALICE LIDDELL on Monday morning",
        "Assigned to alice on Monday morning",
    ] {
        assert_eq!(whole(relayed), whole(sent), "{relayed:?}");
    }
}

#[test]
fn short_lines_have_no_fingerprint_and_fields_have_their_own() {
    for short in [
        "Thanks,",
        "Best regards, Bob",
        "2026-03-02 10:15",
        "",
        "> --",
    ] {
        assert!(fp(short).is_empty(), "{short:?}");
    }
    // A notification field: the line, and the value alone.
    let field = fp("    Reporter:     rita@researcher.example");
    assert_eq!(field.len(), 2, "line and value");
    assert!(field.contains(&whole("rita@researcher.example  ")));
    assert!(!field.contains(&whole("Contact: rita@researcher.example")));
    assert!(fp("Contact: rita@researcher.example").contains(&whole("rita@researcher.example")));
    // A table row of a control answer: each long enough cell.
    let row = fp("SEC-2026-0041  triaged  rita@researcher.example  SQL injection in /search");
    assert!(row.contains(&whole("rita@researcher.example")));
    assert!(row.contains(&whole("SQL injection in /search")));
    // A sentence with a colon is not cut into a label and a value.
    assert_eq!(
        fp("Here is what we found in the logs: nothing unusual at all").len(),
        1
    );
}

#[test]
fn a_mail_gives_each_fingerprint_once_and_at_most_the_limit() {
    let text = "Report SEC-2026-0041 from rita@researcher.example\n\
                > Report SEC-2026-0041 from rita@researcher.example\n\
                Thanks\n";
    assert_eq!(fingerprints(text, &members()).len(), 1);
    let long: String = (0..MAX_PER_MAIL + 50)
        .map(|n| format!("line number {n:05} of a very long notification\n"))
        .collect();
    assert_eq!(fingerprints(&long, &members()).len(), MAX_PER_MAIL);
}

const THIS: &str = "SEC-2026-0002";
const OTHER: &str = "SEC-2026-0001";

/// One relay line of `text`.
fn line(text: &str) -> RelayLine {
    RelayLine {
        text: text.to_owned(),
        fingerprints: fp(text),
    }
}

fn team(entries: &[(&str, &[&str])]) -> HashMap<LineFingerprint, BTreeSet<String>> {
    entries
        .iter()
        .map(|(text, reports)| {
            (
                whole(text),
                reports.iter().map(|r| (*r).to_owned()).collect(),
            )
        })
        .collect()
}

fn set(texts: &[&str]) -> HashSet<LineFingerprint> {
    texts.iter().map(|t| whole(t)).collect()
}

#[test]
fn which_matches_hold_a_relay_back() {
    const PASTED: &str = "The search parameter q is concatenated into the SQL query";
    // (case, team mail about, reporter's, relayed by author, author's earlier, internal?, other report?)
    type Case<'a> = (&'a str, &'a [&'a str], bool, bool, bool, Option<bool>);
    let cases: &[Case<'_>] = &[
        (
            "another report's notification",
            &[OTHER],
            false,
            false,
            false,
            Some(true),
        ),
        (
            "a control answer or digest",
            &[""],
            false,
            false,
            false,
            Some(true),
        ),
        (
            "another member's note on this report",
            &[THIS],
            false,
            false,
            false,
            Some(false),
        ),
        (
            "the reporter's own words, quoted back",
            &[THIS],
            true,
            false,
            false,
            None,
        ),
        (
            "the reporter's words, carried about another report too",
            &[THIS, OTHER],
            true,
            false,
            false,
            None,
        ),
        (
            "the author's words, relayed before",
            &[OTHER],
            false,
            true,
            false,
            None,
        ),
        (
            "the author's draft note on this report",
            &[THIS],
            false,
            false,
            true,
            None,
        ),
        (
            "another report's line pasted into the author's note",
            &[THIS, OTHER],
            false,
            false,
            true,
            Some(true),
        ),
        (
            "a line no team mail carried",
            &[],
            false,
            false,
            false,
            None,
        ),
    ];
    for &(case, about, reporter, relayed, author, expected) in cases {
        let known = Known {
            team: if about.is_empty() {
                HashMap::new()
            } else {
                team(&[(PASTED, about)])
            },
            relayed_by_author: if relayed {
                set(&[PASTED])
            } else {
                HashSet::new()
            },
        };
        let exempt = Exempt {
            reporter: if reporter {
                set(&[PASTED])
            } else {
                HashSet::new()
            },
            author: if author {
                set(&[PASTED])
            } else {
                HashSet::new()
            },
        };
        let verdict = check(
            &[line("Thanks for the report."), line(PASTED)],
            THIS,
            &known,
            &exempt,
        );
        let found = verdict.internal.first().map(|l| l.other_report);
        assert_eq!(found, expected, "{case}");
        assert_eq!(verdict.passes(), expected.is_none(), "{case}");
        if let Some(internal) = verdict.internal.first() {
            assert_eq!(internal.text, PASTED, "{case}");
            assert_eq!(verdict.internal.len(), 1, "{case}");
        }
        let fresh = verdict.fresh.contains(&whole(PASTED));
        assert_eq!(fresh, about.is_empty() && !reporter, "{case}: fresh");
    }
}

#[test]
fn a_field_match_is_enough() {
    // The member copied only the reporter's address of another report, on a
    // line of their own words around it.
    let known = Known {
        team: team(&[("rita@researcher.example", &[OTHER])]),
        ..Known::default()
    };
    let verdict = check(
        &[
            line("Contact: rita@researcher.example"),
            line("We are working on it, thanks!"),
        ],
        THIS,
        &known,
        &Exempt::default(),
    );
    assert_eq!(verdict.internal.len(), 1);
    assert_eq!(verdict.internal[0].text, "Contact: rita@researcher.example");
}

#[test]
fn the_author_is_shown_the_first_lines_cut_to_a_readable_length() {
    let internal = vec![
        InternalLine {
            text: "  Report SEC-2026-0001 from rita@researcher.example".into(),
            other_report: true,
        },
        InternalLine {
            text: "x".repeat(300),
            other_report: false,
        },
    ];
    let (shown, more) = shown_lines(&internal);
    assert_eq!(more, 0);
    assert_eq!(
        shown[0],
        ShownLine {
            text: "Report SEC-2026-0001 from rita@researcher.example".into(),
            cut: false,
            other_report: true,
        }
    );
    assert_eq!(shown[1].text, "x".repeat(200));
    assert!(shown[1].cut);
    let many: Vec<InternalLine> = (0..25)
        .map(|n| InternalLine {
            text: format!("line {n}"),
            other_report: false,
        })
        .collect();
    let (shown, more) = shown_lines(&many);
    assert_eq!((shown.len(), more), (20, 5));
}
