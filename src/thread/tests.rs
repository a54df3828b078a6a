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
    classify(&parse(raw.as_bytes(), &limits()), &program(), &team())
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
        ("From: security@example.org", Sender::Own, None),
        (
            "From: security+SEC-2026-0001@example.org",
            Sender::Own,
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
    ];
    for (headers, sender, automation) in cases {
        let class = class_of(headers);
        assert_eq!(class.sender, sender, "{headers}");
        assert_eq!(class.automation, automation, "{headers}");
    }
}

#[test]
fn our_message_ids_are_recognised() {
    let raw = b"From: someone@else.net\r\nMessage-ID: <disclosed.abc@example.org>\r\n\r\nx";
    let class = classify(&parse(raw, &limits()), &program(), &team());
    assert_eq!(class.sender, Sender::Own);
    assert!(!is_our_message_id("disclosed.abc@example.net", &program()));
}

#[test]
fn decisions() {
    let c = || {
        Some(Candidate {
            report: ReportId::new("SEC", 2026, 1),
            via: Via::References,
        })
    };
    let ext = Class {
        sender: Sender::External,
        automation: None,
    };
    let auto = Class {
        sender: Sender::External,
        automation: Some(Automation::AutoReply),
    };
    let bounce = Class {
        sender: Sender::External,
        automation: Some(Automation::Bounce),
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
    assert!(matches!(decide(bounce, c(), false), Decision::Attach(_)));
    assert!(matches!(decide(team, c(), false), Decision::Attach(_)));
    assert!(matches!(
        decide(team, None, false),
        Decision::Unattached { .. }
    ));
    assert!(matches!(
        decide(own, None, false),
        Decision::Unattached { .. }
    ));
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
}
