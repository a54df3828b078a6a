use super::*;

const ALICE_KEY: &str = "0123456789ABCDEF0123456789ABCDEF01234567";
const ALICE_SUBKEY: &str = "89ABCDEF0123456789ABCDEF0123456789ABCDEF";
const MALLORY_KEY: &str = "FEDCBA9876543210FEDCBA9876543210FEDCBA98";
const TRUSTED: &str = "mx.example.org";

fn team() -> Team {
    let member = |name: &str, email: &str| Member {
        name: name.to_owned(),
        email: Address::parse(email).expect("test address"),
        key: None,
    };
    Team {
        members: vec![
            member("Alice", "alice@example.org"),
            member("Bob", "bob@example.net"),
        ],
        ..Team::default()
    }
}

fn now() -> Timestamp {
    "2026-03-10T12:00:00Z".parse().expect("test time")
}

fn policy() -> Policy {
    Policy {
        openpgp: true,
        dkim: true,
        trusted_authserv_id: Some(TRUSTED.to_owned()),
        max_signature_age: SignedDuration::from_hours(7 * 24),
        clock_skew: SignedDuration::from_mins(5),
    }
}

/// Alice's mail, unsigned and without DKIM results.
fn from_alice() -> Evidence {
    Evidence {
        from: "Alice <alice@example.org>".to_owned(),
        member_fingerprints: vec![ALICE_KEY.to_owned(), ALICE_SUBKEY.to_owned()],
        ..Evidence::default()
    }
}

fn signed_by(signer: &str, ago: SignedDuration) -> Evidence {
    Evidence {
        valid_signer: Some(signer.to_owned()),
        signed_at: Some(now() - ago),
        ..from_alice()
    }
}

fn with_results(headers: &[&str]) -> Evidence {
    Evidence {
        auth_results: headers.iter().map(|h| (*h).to_owned()).collect(),
        ..from_alice()
    }
}

fn refusal(evidence: &Evidence, policy: &Policy) -> Refusal {
    match authenticate(evidence, policy, &team(), now()) {
        Ok(auth) => panic!("authenticated as {} by {}", auth.member.email, auth.method),
        Err(refusal) => refusal,
    }
}

fn method(evidence: &Evidence, policy: &Policy) -> Method {
    let auth = authenticate(evidence, policy, &team(), now())
        .unwrap_or_else(|refusal| panic!("refused: {refusal}"));
    assert_eq!(auth.member.email.to_string(), "alice@example.org");
    auth.method
}

fn alice() -> Address {
    Address::parse("alice@example.org").expect("test address")
}

#[test]
fn forged_from_without_signature_is_refused() {
    let refused = refusal(&from_alice(), &policy());
    assert_eq!(
        refused,
        Refusal::NotAuthenticated {
            member: alice(),
            dkim_domain: Some("example.org".to_owned()),
        }
    );
    assert_eq!(refused.code(), "unauthenticated");
    assert_eq!(refused.member(), Some(&alice()));
    assert_eq!(
        refused.to_string(),
        "the mail is not signed with the OpenPGP key configured for alice@example.org \
         (and no trusted DKIM result for example.org)"
    );
}

#[test]
fn not_a_member() {
    for from in [
        "mallory@evil.example",
        "Mallory <mallory@evil.example>",
        // The display name is not the address.
        "\"alice@example.org\" <mallory@evil.example>",
        // Several addresses, or broken brackets, never name a member.
        "Mallory <mallory@evil.example>, Alice <alice@example.org>",
        "alice@example.org, mallory@evil.example",
        "Alice <alice@example.org> <mallory@evil.example>",
        "Alice <alice@example.org",
        "Alice alice@example.org>",
        "Alice <alice@example.org> trailing",
        "\"Alice <alice@example.org>",
        "",
    ] {
        let evidence = Evidence {
            from: from.to_owned(),
            ..signed_by(ALICE_KEY, SignedDuration::from_mins(1))
        };
        let refused = refusal(&evidence, &policy());
        assert_eq!(refused.code(), "not-member", "{from}");
        assert_eq!(refused.member(), None, "{from}");
    }
    assert_eq!(
        refusal(
            &Evidence {
                from: " mallory@evil.example ".to_owned(),
                ..Evidence::default()
            },
            &policy()
        )
        .to_string(),
        "mallory@evil.example is not a team member"
    );
    let folded = Evidence {
        from: "Mallory\r\n <mallory@evil.example>".to_owned(),
        ..Evidence::default()
    };
    assert_eq!(
        refusal(&folded, &policy()).to_string(),
        "Mallory <mallory@evil.example> is not a team member"
    );
}

#[test]
fn from_forms_that_name_a_member() {
    for from in [
        "alice@example.org",
        " ALICE@Example.org\r\n",
        "<alice@example.org>",
        "\"Alice, Security\" <alice@example.org>",
        "\"Alice \\\"A\\\" <x>\" <alice@example.org>",
    ] {
        let evidence = Evidence {
            from: from.to_owned(),
            ..signed_by(ALICE_KEY, SignedDuration::from_mins(1))
        };
        assert_eq!(method(&evidence, &policy()).as_str(), "openpgp", "{from}");
    }
}

#[test]
fn valid_signature_by_the_members_key() {
    let evidence = signed_by(ALICE_KEY, SignedDuration::from_hours(1));
    assert_eq!(
        method(&evidence, &policy()),
        Method::OpenPgp {
            fingerprint: ALICE_KEY.to_owned()
        }
    );
    // A subkey of the configured certificate, written in lower case with spaces.
    let spaced = "89ab cdef 0123 4567 89ab  cdef 0123 4567 89ab cdef";
    let evidence = signed_by(spaced, SignedDuration::ZERO);
    assert_eq!(
        method(&evidence, &policy()),
        Method::OpenPgp {
            fingerprint: ALICE_SUBKEY.to_owned()
        }
    );
}

#[test]
fn valid_signature_by_another_key_is_refused() {
    let evidence = signed_by(MALLORY_KEY, SignedDuration::from_mins(1));
    let refused = refusal(&evidence, &policy());
    assert_eq!(refused.code(), "wrong-key");
    let text = refused.to_string();
    assert!(text.contains(MALLORY_KEY), "{text}");
    assert!(text.contains("alice@example.org"), "{text}");
    assert!(
        text.contains("no trusted DKIM result for example.org"),
        "{text}"
    );
}

#[test]
fn member_without_a_key() {
    let evidence = Evidence {
        member_fingerprints: Vec::new(),
        ..signed_by(ALICE_KEY, SignedDuration::from_mins(1))
    };
    // A signature cannot be matched to a key that is not configured.
    assert_eq!(refusal(&evidence, &policy()).code(), "wrong-key");
    let unsigned = Evidence {
        member_fingerprints: Vec::new(),
        ..from_alice()
    };
    let refused = refusal(&unsigned, &policy());
    assert_eq!(refused.code(), "no-member-key");
    assert!(
        refused
            .to_string()
            .starts_with("alice@example.org has no OpenPGP key")
    );
}

#[test]
fn signature_too_old_is_refused() {
    let evidence = signed_by(ALICE_KEY, SignedDuration::from_hours(9 * 24 + 3));
    let refused = refusal(&evidence, &policy());
    assert_eq!(refused.code(), "signature-too-old");
    assert_eq!(
        refused.to_string(),
        "the signature was made 9 days 3 hours ago; signed commands are accepted for \
         7 days: send the command again in a new signed mail"
    );
    // Exactly at the limit still counts.
    let at_limit = signed_by(ALICE_KEY, SignedDuration::from_hours(7 * 24));
    assert_eq!(method(&at_limit, &policy()).as_str(), "openpgp");
}

#[test]
fn stale_signature_is_not_rescued_by_dkim() {
    let evidence = Evidence {
        auth_results: vec![format!("{TRUSTED}; dkim=pass header.d=example.org")],
        ..signed_by(ALICE_KEY, SignedDuration::from_hours(30 * 24))
    };
    assert_eq!(refusal(&evidence, &policy()).code(), "signature-too-old");
}

#[test]
fn signature_from_the_future_is_refused() {
    let evidence = signed_by(ALICE_KEY, -SignedDuration::from_hours(2));
    let refused = refusal(&evidence, &policy());
    assert_eq!(refused.code(), "signature-in-future");
    assert_eq!(
        refused.to_string(),
        "the signature is dated 2 hours in the future (up to 5 minutes are tolerated); \
         check the clock of the computer that signed it"
    );
    // Within the skew it counts.
    let slightly_ahead = signed_by(ALICE_KEY, -SignedDuration::from_mins(4));
    assert_eq!(method(&slightly_ahead, &policy()).as_str(), "openpgp");
}

#[test]
fn undated_signature_is_refused() {
    let evidence = Evidence {
        signed_at: None,
        ..signed_by(ALICE_KEY, SignedDuration::ZERO)
    };
    assert_eq!(refusal(&evidence, &policy()).code(), "signature-undated");
}

#[test]
fn openpgp_wins_over_dkim() {
    let evidence = Evidence {
        auth_results: vec![format!("{TRUSTED}; dkim=pass header.d=example.org")],
        ..signed_by(ALICE_KEY, SignedDuration::from_mins(1))
    };
    assert_eq!(method(&evidence, &policy()).as_str(), "openpgp");
}

#[test]
fn dkim_pass_from_the_trusted_id_for_the_members_domain() {
    let evidence = with_results(&[
        "MX.EXAMPLE.ORG; dkim=pass header.d=Example.Org header.b=abc; spf=pass smtp.mailfrom=example.org",
    ]);
    assert_eq!(
        method(&evidence, &policy()),
        Method::Dkim {
            domain: "example.org".to_owned()
        }
    );
    // A signature by another key does not stop DKIM from authenticating.
    let other_key = Evidence {
        valid_signer: Some(MALLORY_KEY.to_owned()),
        ..evidence
    };
    assert_eq!(method(&other_key, &policy()).as_str(), "dkim");
}

#[test]
fn dkim_for_a_sub_or_parent_domain_is_refused() {
    for domain in [
        "mail.example.org",
        "org",
        "example.org.evil.example",
        "example.net",
    ] {
        let header = format!("{TRUSTED}; dkim=pass header.d={domain}");
        let refused = refusal(&with_results(&[&header]), &policy());
        assert_eq!(refused.code(), "unauthenticated", "{domain}");
    }
}

#[test]
fn dkim_from_an_untrusted_id_is_refused() {
    let evidence = with_results(&["mx.google.com; dkim=pass header.d=example.org"]);
    assert_eq!(refusal(&evidence, &policy()).code(), "unauthenticated");
}

#[test]
fn forged_trusted_header_below_the_genuine_one_is_ignored() {
    // The genuine header passes for another domain; the forged one below claims ours.
    let evidence = with_results(&[
        "mx.example.org; dkim=pass header.d=evil.example",
        "mx.example.org; dkim=pass header.d=example.org",
    ]);
    assert_eq!(refusal(&evidence, &policy()).code(), "unauthenticated");
}

#[test]
fn forged_trusted_pass_when_the_genuine_one_fails_is_refused() {
    let evidence = with_results(&[
        "mx.example.org; dkim=fail (bad signature) header.d=example.org",
        "mx.example.org; dkim=pass header.d=example.org",
    ]);
    assert_eq!(refusal(&evidence, &policy()).code(), "unauthenticated");
}

#[test]
fn dkim_disabled_in_policy() {
    let evidence = with_results(&["mx.example.org; dkim=pass header.d=example.org"]);
    let openpgp_only = Policy {
        dkim: false,
        ..policy()
    };
    let refused = refusal(&evidence, &openpgp_only);
    assert_eq!(
        refused.to_string(),
        "the mail is not signed with the OpenPGP key configured for alice@example.org"
    );
    let no_trusted_id = Policy {
        trusted_authserv_id: None,
        ..policy()
    };
    assert_eq!(refusal(&evidence, &no_trusted_id).code(), "unauthenticated");
    let blank_trusted_id = Policy {
        trusted_authserv_id: Some("  ".to_owned()),
        ..policy()
    };
    assert_eq!(
        refusal(&evidence, &blank_trusted_id).code(),
        "unauthenticated"
    );
}

#[test]
fn openpgp_disabled_in_policy() {
    let dkim_only = Policy {
        openpgp: false,
        ..policy()
    };
    let signed = signed_by(ALICE_KEY, SignedDuration::from_mins(1));
    let refused = refusal(&signed, &dkim_only);
    assert_eq!(refused.code(), "no-dkim");
    assert!(
        refused.to_string().contains("accepted only with DKIM"),
        "{refused}"
    );
    let nothing = Policy {
        dkim: false,
        ..dkim_only
    };
    assert_eq!(refusal(&signed, &nothing).code(), "no-auth-method");
}

#[test]
fn report_binding() {
    let report = ReportId::new("SEC", 2026, 42);
    let bound = [
        "#state triaged\n\nRe: [SEC-2026-0042] XSS in login",
        "sec-2026-0042",
        "To: security+SEC-2026-0042@example.org",
        "To: security+SEC-2026-0042-internal@example.org",
        "(SEC-2026-0042).",
    ];
    for text in bound {
        assert!(bound_to_report(&report, &[text]), "{text}");
    }
    let unbound = [
        "",
        "#state triaged",
        "[SEC-2026-00421]",
        "SEC-2026-0042a",
        "SEC-2026-0042_",
        "XSEC-2026-0042",
        "FOO-SEC-2026-0042",
        "SEC-2026-004",
    ];
    for text in unbound {
        assert!(!bound_to_report(&report, &[text]), "{text}");
    }
    // Any one signed text is enough; none at all is not.
    assert!(bound_to_report(
        &report,
        &["#state triaged", "Subject: [SEC-2026-0042]"]
    ));
    assert!(!bound_to_report(&report, &[]));
    // The longer id still binds where it is named as itself.
    assert!(bound_to_report(
        &report,
        &["SEC-2026-00421 and SEC-2026-0042"]
    ));
}

#[test]
fn unbound_refusal_says_how_to_fix_it() {
    let report = ReportId::new("SEC", 2026, 42);
    assert_eq!(
        require_bound(&report, &["[SEC-2026-0042]"], &alice()),
        Ok(())
    );
    let refused = require_bound(&report, &["#state triaged"], &alice()).expect_err("unbound");
    assert_eq!(refused.code(), "not-bound");
    assert_eq!(refused.member(), Some(&alice()));
    let text = refused.to_string();
    assert!(
        text.ends_with(
            "mention SEC-2026-0042 in the signed text, e.g. by replying to the notification"
        ),
        "{text}"
    );
}

#[test]
fn replay_keys() {
    let openpgp = Method::OpenPgp {
        fingerprint: ALICE_KEY.to_owned(),
    };
    let dkim = Method::Dkim {
        domain: "example.org".to_owned(),
    };
    assert_eq!(
        replay_key(&openpgp, Some(" 3f2a9c "), Some("a@b")).as_deref(),
        Some("openpgp:3f2a9c")
    );
    assert_eq!(replay_key(&openpgp, None, Some("a@b")), None);
    assert_eq!(replay_key(&openpgp, Some(""), Some("a@b")), None);
    assert_eq!(
        replay_key(&dkim, Some("3f2a9c"), Some("abc@mail.example.org")).as_deref(),
        Some("dkim:abc@mail.example.org")
    );
    assert_eq!(
        replay_key(&dkim, None, Some(" <abc@mail.example.org> ")).as_deref(),
        Some("dkim:abc@mail.example.org")
    );
    assert_eq!(replay_key(&dkim, Some("3f2a9c"), None), None);
    assert_eq!(replay_key(&dkim, None, Some("<>")), None);
}

#[test]
fn every_refusal_has_a_distinct_code_and_names_the_member() {
    let member = alice();
    let refusals = [
        Refusal::NotAMember { from: "x".into() },
        Refusal::NotAuthenticated {
            member: member.clone(),
            dkim_domain: None,
        },
        Refusal::WrongKey {
            member: member.clone(),
            signer: MALLORY_KEY.into(),
            dkim_domain: None,
        },
        Refusal::NoMemberKey {
            member: member.clone(),
            dkim_domain: None,
        },
        Refusal::NoDkim {
            member: member.clone(),
            domain: "example.org".into(),
        },
        Refusal::NoMethod {
            member: member.clone(),
        },
        Refusal::SignatureTooOld {
            member: member.clone(),
            age: SignedDuration::from_secs(1),
            max: SignedDuration::ZERO,
        },
        Refusal::SignatureInFuture {
            member: member.clone(),
            ahead: SignedDuration::from_secs(61),
            skew: SignedDuration::ZERO,
        },
        Refusal::SignatureUndated {
            member: member.clone(),
        },
        Refusal::NotBound {
            member: member.clone(),
            report: ReportId::new("SEC", 2026, 1),
        },
        Refusal::Replayed {
            member: member.clone(),
        },
        Refusal::NoReplayKey {
            member: member.clone(),
        },
    ];
    let mut codes: Vec<_> = refusals.iter().map(Refusal::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), refusals.len());
    for refusal in &refusals[1..] {
        assert_eq!(refusal.member(), Some(&member), "{refusal:?}");
    }
}

#[test]
fn durations_read_naturally() {
    assert_eq!(human(SignedDuration::ZERO), "0 seconds");
    assert_eq!(human(SignedDuration::from_secs(1)), "1 second");
    assert_eq!(human(SignedDuration::from_secs(61)), "1 minute 1 second");
    assert_eq!(human(SignedDuration::from_hours(36)), "1 day 12 hours");
    assert_eq!(human(SignedDuration::from_secs(86_400 + 5)), "1 day");
    assert_eq!(human(-SignedDuration::from_mins(5)), "5 minutes");
}
