use super::*;
use crate::config::{Address, Member, Team};
use crate::parse::{ParseLimits, parse};

fn program() -> Address {
    Address::parse("security@example.org").expect("address")
}

fn team() -> Team {
    Team {
        members: vec![Member {
            name: "Alice".into(),
            email: Address::parse("alice@example.org").expect("address"),
            key: None,
        }],
        ..Team::default()
    }
}

fn limits() -> ParseLimits {
    ParseLimits {
        max_header_size: 1 << 20,
        max_mime_depth: 32,
        max_attachments: 10,
        max_text_len: 1 << 20,
    }
}

fn class_of(headers: &str) -> Class {
    let raw = format!("{headers}\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n");
    classify(
        &parse(raw.as_bytes(), &limits()),
        &program(),
        &team(),
        false,
    )
}

#[test]
fn tokens_are_found_case_insensitively() {
    let p = program();
    let cases: &[(&[&str], Option<Token>)] = &[
        (
            &["security+SEC-2026-0042@example.org"],
            Some(Token::Reply(ReportId::new("SEC", 2026, 42))),
        ),
        (
            &["Security+sec-2026-0042@EXAMPLE.org"],
            Some(Token::Reply(ReportId::new("SEC", 2026, 42))),
        ),
        (
            &["security+SEC-2026-0042-internal@example.org"],
            Some(Token::Internal(ReportId::new("SEC", 2026, 42))),
        ),
        (&["security+CONTROL@example.org"], Some(Token::Control)),
        (
            &["security+hello@example.org"],
            Some(Token::Unknown("hello".into())),
        ),
        (&["security@example.org"], None),
        (&["other+SEC-2026-0042@example.org"], None),
        (&["security+SEC-2026-0042@example.net"], None),
        (
            &[
                "security+junk@example.org",
                "security+SEC-2026-0001@example.org",
            ],
            Some(Token::Reply(ReportId::new("SEC", 2026, 1))),
        ),
    ];
    for (addrs, want) in cases {
        assert_eq!(
            &find_token(addrs.iter().copied(), &p, "SEC"),
            want,
            "{addrs:?}"
        );
    }
}

#[test]
fn subject_tags() {
    assert_eq!(
        subject_tag("Re: [SEC-2026-0042] XSS", "SEC"),
        Some(ReportId::new("SEC", 2026, 42))
    );
    assert_eq!(
        subject_tag("[ext] [sec-2026-0001] x", "SEC"),
        Some(ReportId::new("SEC", 2026, 1))
    );
    assert_eq!(subject_tag("SEC-2026-0042 without brackets", "SEC"), None);
    assert_eq!(subject_tag("[SEC-2026-0042", "SEC"), None);
}

#[test]
fn classification_table() {
    let cases = [
        ("From: r@x.net", Sender::External, None),
        ("From: alice@example.org", Sender::Team, None),
        ("From: security@example.org", Sender::Spoofed, None),
        (
            "From: security+SEC-2026-0001@example.org",
            Sender::Spoofed,
            None,
        ),
        (
            "From: r@x.net\r\nAuto-Submitted: auto-replied",
            Sender::External,
            Some(Automation::AutoReply),
        ),
        (
            "From: r@x.net\r\nAuto-Submitted: no",
            Sender::External,
            None,
        ),
        (
            "From: r@x.net\r\nX-Autoreply: yes",
            Sender::External,
            Some(Automation::AutoReply),
        ),
        (
            "From: r@x.net\r\nPrecedence: bulk",
            Sender::External,
            Some(Automation::Bulk),
        ),
        (
            "From: r@x.net\r\nPrecedence: junk",
            Sender::External,
            Some(Automation::Bulk),
        ),
        (
            "From: r@x.net\r\nPrecedence: list",
            Sender::External,
            Some(Automation::List),
        ),
        (
            "From: r@x.net\r\nList-Id: <dev.lists.x.net>",
            Sender::External,
            Some(Automation::List),
        ),
        (
            "From: r@x.net\r\nReturn-Path: <>",
            Sender::External,
            Some(Automation::AutoReply),
        ),
        (
            "From: MAILER-DAEMON@mx.x.net",
            Sender::External,
            Some(Automation::Bounce),
        ),
        (
            "From: postmaster@mx.x.net",
            Sender::External,
            Some(Automation::Bounce),
        ),
        // Only mail servers and auto-responders write to a return path.
        (
            "From: r@x.net\r\nTo: security+bounce-0123456789abcdef0123456789abcdef@example.org",
            Sender::External,
            Some(Automation::Bounce),
        ),
        (
            "From: r@x.net\r\nDelivered-To: security+bounce-garbled@example.org",
            Sender::External,
            Some(Automation::Bounce),
        ),
        (
            "From: r@x.net\r\nTo: security+bounce-0123456789abcdef0123456789abcdef@example.org\r\n\
             Auto-Submitted: auto-replied",
            Sender::External,
            Some(Automation::AutoReply),
        ),
    ];
    for (headers, sender, automation) in cases {
        let class = class_of(headers);
        assert_eq!(class.sender, sender, "{headers}");
        assert_eq!(class.automation, automation, "{headers}");
    }
}

#[test]
fn mail_that_only_claims_to_be_ours_is_spoofed() {
    for raw in [
        &b"From: someone@else.net\r\nMessage-ID: <disclosed.abc@example.org>\r\n\r\nx"[..],
        b"From: security@example.org\r\nMessage-ID: <x@y>\r\n\r\nx",
        b"From: alice@example.org\r\nMessage-ID: <disclosed.abc@example.org>\r\n\r\nx",
    ] {
        let parsed = parse(raw, &limits());
        let class = classify(&parsed, &program(), &team(), false);
        assert_eq!(
            class.sender,
            Sender::Spoofed,
            "{}",
            String::from_utf8_lossy(raw)
        );
        // Only the caller's proof (a copy of an outbox row) makes it ours.
        let class = classify(&parsed, &program(), &team(), true);
        assert_eq!(class.sender, Sender::Own);
    }
    assert!(!is_our_message_id("disclosed.abc@example.net", &program()));
}

#[test]
fn return_paths_are_no_report_token() {
    let p = program();
    let verp = "security+bounce-0123456789abcdef0123456789abcdef@example.org";
    assert_eq!(find_token([verp], &p, "SEC"), None);
    assert_eq!(
        find_token([verp, "security+SEC-2026-0042@example.org"], &p, "SEC"),
        Some(Token::Reply(ReportId::new("SEC", 2026, 42)))
    );
    // With a prefix that looks like the tag, report tokens still work.
    assert_eq!(
        find_token(["security+bounce-2026-0001@example.org"], &p, "BOUNCE"),
        Some(Token::Reply(ReportId::new("BOUNCE", 2026, 1)))
    );
    assert_eq!(find_token([verp], &p, "BOUNCE"), None);
}

#[test]
fn decisions() {
    let c = || via(Via::References);
    let ext = Class {
        sender: Sender::External,
        automation: None,
    };
    let auto = Class {
        sender: Sender::External,
        automation: Some(Automation::AutoReply),
    };
    let team = Class {
        sender: Sender::Team,
        automation: None,
    };
    let own = Class {
        sender: Sender::Own,
        automation: None,
    };

    assert_eq!(decide(ext, None, false), Decision::Open { mentioned: None });
    assert!(matches!(decide(ext, c(), true), Decision::Attach(_)));
    // An outsider naming a report opens their own.
    assert_eq!(
        decide(ext, c(), false),
        Decision::Open {
            mentioned: Some(ReportId::new("SEC", 2026, 1))
        }
    );
    assert!(matches!(decide(auto, c(), true), Decision::Attach(_)));
    assert!(matches!(
        decide(auto, c(), false),
        Decision::Unattached { .. }
    ));
    assert!(matches!(
        decide(auto, None, false),
        Decision::Unattached { .. }
    ));
    assert!(matches!(decide(team, c(), false), Decision::Attach(_)));
    assert!(matches!(
        decide(team, None, false),
        Decision::Unattached { .. }
    ));
    assert!(matches!(
        decide(own, None, false),
        Decision::Unattached { .. }
    ));
    assert!(matches!(
        decide(own, via(Via::Outbox), false),
        Decision::Attach(_)
    ));
}

fn via(via: Via) -> Option<Candidate> {
    Some(Candidate {
        report: ReportId::new("SEC", 2026, 1),
        via,
    })
}

#[test]
fn a_bounce_joins_a_report_only_through_a_return_path() {
    let bounce = Class {
        sender: Sender::External,
        automation: Some(Automation::Bounce),
    };
    assert!(matches!(
        decide(bounce, via(Via::ReturnPath), false),
        Decision::Attach(Candidate {
            via: Via::ReturnPath,
            ..
        })
    ));
    for other in [
        Via::PlusAddress,
        Via::SubjectTag,
        Via::References,
        Via::Outbox,
    ] {
        for participates in [false, true] {
            assert!(
                matches!(
                    decide(bounce, via(other), participates),
                    Decision::Unattached { .. }
                ),
                "{other:?}"
            );
        }
    }
    assert!(matches!(
        decide(bounce, None, false),
        Decision::Unattached { .. }
    ));
}

#[test]
fn spoofed_and_own_mail_never_join_the_report_they_name() {
    let spoofed = Class {
        sender: Sender::Spoofed,
        automation: None,
    };
    let own = Class {
        sender: Sender::Own,
        automation: None,
    };
    for v in [
        Via::PlusAddress,
        Via::SubjectTag,
        Via::References,
        Via::Outbox,
        Via::ReturnPath,
    ] {
        assert!(
            matches!(decide(spoofed, via(v), true), Decision::Unattached { .. }),
            "{v:?}"
        );
        let attached = matches!(decide(own, via(v), true), Decision::Attach(_));
        assert_eq!(attached, v == Via::Outbox, "{v:?}");
    }
    assert!(matches!(
        decide(spoofed, None, false),
        Decision::Unattached { .. }
    ));
    assert!(may_auto_reply(spoofed, true).is_err());
}

#[test]
fn only_plain_external_mail_is_answered() {
    let ext = Class {
        sender: Sender::External,
        automation: None,
    };
    assert_eq!(may_auto_reply(ext, true), Ok(()));
    assert!(may_auto_reply(ext, false).is_err());
    for automation in [
        Automation::Bounce,
        Automation::AutoReply,
        Automation::List,
        Automation::Bulk,
    ] {
        let class = Class {
            sender: Sender::External,
            automation: Some(automation),
        };
        assert!(may_auto_reply(class, true).is_err(), "{automation:?}");
    }
    assert!(
        may_auto_reply(
            Class {
                sender: Sender::Own,
                automation: None
            },
            true
        )
        .is_err()
    );
    assert!(
        may_auto_reply(
            Class {
                sender: Sender::Team,
                automation: None
            },
            true
        )
        .is_err()
    );
}

#[test]
fn rate_limit() {
    assert!(within_rate_limit(0, 5));
    assert!(within_rate_limit(4, 5));
    assert!(!within_rate_limit(5, 5));
    assert!(!within_rate_limit(0, 0));
}

#[test]
fn kinds() {
    let ext = Class {
        sender: Sender::External,
        automation: None,
    };
    assert_eq!(ext.kind(true, false), "reporter");
    assert_eq!(ext.kind(false, true), "participant");
    assert_eq!(ext.kind(false, false), "external");
    let ooo = Class {
        sender: Sender::External,
        automation: Some(Automation::AutoReply),
    };
    assert_eq!(ooo.kind(false, true), "auto-reply");
    let own = Class {
        sender: Sender::Own,
        automation: Some(Automation::Bounce),
    };
    assert_eq!(own.kind(false, false), "own");
    let spoofed = Class {
        sender: Sender::Spoofed,
        automation: Some(Automation::Bounce),
    };
    assert_eq!(spoofed.kind(false, false), "spoofed");
}

#[test]
fn automatic_mail_in_a_members_name_joins_no_report() {
    let candidate = Candidate {
        report: ReportId::parse("SEC", "SEC-2026-0001").expect("id"),
        via: Via::PlusAddress,
    };
    for automation in [
        Automation::Bounce,
        Automation::AutoReply,
        Automation::List,
        Automation::Bulk,
    ] {
        let class = Class {
            sender: Sender::Team,
            automation: Some(automation),
        };
        assert!(
            matches!(
                decide(class, Some(candidate.clone()), true),
                Decision::Unattached { .. }
            ),
            "{automation:?}"
        );
    }
    // The member's own mail still joins the report it names (and is then
    // authenticated before it acts).
    let person = Class {
        sender: Sender::Team,
        automation: None,
    };
    assert_eq!(
        decide(person, Some(candidate.clone()), false),
        Decision::Attach(candidate)
    );
}
