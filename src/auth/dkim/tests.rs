use super::*;

const DOMAIN: &str = "example.org";

/// A signature by `d` over `h`, with `extra` tags.
fn signature(d: &str, h: &str, extra: &str) -> String {
    format!(
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s=s1;\r\n\t\
         h={h};{extra} bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\t\
         b=AbCdEf/gh+IJ=="
    )
}

/// A mail with `headers` above the usual ones and a body that looks like more.
fn mail(headers: &[&str]) -> Vec<u8> {
    let mut raw = String::new();
    for header in headers {
        raw.push_str(header);
        raw.push_str("\r\n");
    }
    raw.push_str(
        "From: Alice <alice@example.org>\r\nTo: security+SEC-2026-0001@example.org\r\n\
         Subject: Re: [SEC-2026-0001] Open redirect\r\nMessage-ID: <a1@example.org>\r\n\r\n\
         To: evil@example.net\r\nDKIM-Signature: d=example.org; h=from\r\n",
    );
    raw.into_bytes()
}

const ALL: DkimCoverage = DkimCoverage {
    from: true,
    to: true,
    subject: true,
    whole_body: true,
};

#[test]
fn a_signature_over_from_to_and_subject_covers_them() {
    let raw = mail(&[&signature(DOMAIN, "from:to:subject:date:message-id", "")]);
    assert_eq!(dkim_coverage(&raw, DOMAIN), ALL);
    // Domains compare case-insensitively, a final dot ignored.
    assert_eq!(dkim_coverage(&raw, "Example.ORG."), ALL);
    let upper = mail(&[&signature("EXAMPLE.org.", "From:TO:Subject", "")]);
    assert_eq!(dkim_coverage(&upper, DOMAIN), ALL);
}

#[test]
fn a_folded_header_list_is_read_whole() {
    let raw = mail(&[&signature(DOMAIN, "from :\r\n\t to:\r\n  subject", "")]);
    assert_eq!(dkim_coverage(&raw, DOMAIN), ALL);
    // LF line endings, as a Maildir file stores them.
    let lf = String::from_utf8_lossy(&raw).replace("\r\n", "\n");
    assert_eq!(dkim_coverage(lf.as_bytes(), DOMAIN), ALL);
}

#[test]
fn a_field_missing_from_the_header_list_is_not_covered() {
    let raw = mail(&[&signature(DOMAIN, "from:subject:date", "")]);
    assert_eq!(
        dkim_coverage(&raw, DOMAIN),
        DkimCoverage { to: false, ..ALL }
    );
    let raw = mail(&[&signature(DOMAIN, "from:to", "")]);
    assert_eq!(
        dkim_coverage(&raw, DOMAIN),
        DkimCoverage {
            subject: false,
            ..ALL
        }
    );
    // `to` must be a whole name in the list, not part of one.
    let raw = mail(&[&signature(DOMAIN, "from:reply-to:subject:x-to", "")]);
    assert!(!dkim_coverage(&raw, DOMAIN).to);
}

#[test]
fn a_forged_extra_signature_without_to_removes_the_route() {
    // The trusted result does not say which signature passed; an extra one (here
    // forged by someone on the path) that does not cover `To:` may be it.
    let genuine = signature(DOMAIN, "from:to:subject", "");
    let forged = signature(DOMAIN, "from:subject", "");
    for order in [[&genuine, &forged], [&forged, &genuine]] {
        let raw = mail(&[order[0].as_str(), order[1].as_str()]);
        assert_eq!(
            dkim_coverage(&raw, DOMAIN),
            DkimCoverage { to: false, ..ALL }
        );
    }
}

#[test]
fn a_body_length_limit_leaves_the_body_uncovered() {
    let raw = mail(&[&signature(DOMAIN, "from:to:subject", " l=120;")]);
    assert_eq!(
        dkim_coverage(&raw, DOMAIN),
        DkimCoverage {
            whole_body: false,
            ..ALL
        }
    );
    // On any one signature by the domain, genuine or not.
    let raw = mail(&[
        &signature(DOMAIN, "from:to:subject", ""),
        &signature(DOMAIN, "from:to:subject", " l=0;"),
    ]);
    assert!(!dkim_coverage(&raw, DOMAIN).whole_body);
}

#[test]
fn a_duplicated_field_is_not_covered() {
    let sig = signature(DOMAIN, "from:to:to:subject", "");
    let cases = [
        ("To: security+SEC-2026-0001@example.org", "to"),
        ("tO: other@example.net", "to"),
        ("To : other@example.net", "to"),
        ("X-Filler: a\rTo: other@example.net", "to"),
        ("From: Bob <bob@example.org>", "from"),
        ("SUBJECT: another", "subject"),
    ];
    for (extra, field) in cases {
        for raw in [mail(&[extra, &sig]), mail(&[&sig, extra])] {
            let coverage = dkim_coverage(&raw, DOMAIN);
            let expected = DkimCoverage {
                from: field != "from",
                to: field != "to",
                subject: field != "subject",
                whole_body: true,
            };
            assert_eq!(coverage, expected, "{extra:?}");
        }
    }
}

#[test]
fn a_field_the_mail_lacks_is_not_covered() {
    let raw = format!(
        "{}\r\nFrom: alice@example.org\r\n\r\nbody\r\n",
        signature(DOMAIN, "from:to:subject", "")
    );
    assert_eq!(
        dkim_coverage(raw.as_bytes(), DOMAIN),
        DkimCoverage {
            from: true,
            to: false,
            subject: false,
            whole_body: true,
        }
    );
}

#[test]
fn without_a_signature_by_the_domain_nothing_is_covered() {
    let none = DkimCoverage::default();
    assert_eq!(dkim_coverage(&mail(&[]), DOMAIN), none);
    let other = mail(&[&signature("example.net", "from:to:subject", "")]);
    assert_eq!(dkim_coverage(&other, DOMAIN), none);
    // A parent or a subdomain is another domain.
    for d in ["org", "mail.example.org", "example.org.evil.example"] {
        let raw = mail(&[&signature(d, "from:to:subject", "")]);
        assert_eq!(dkim_coverage(&raw, DOMAIN), none, "{d}");
    }
    let raw = mail(&[&signature(DOMAIN, "from:to:subject", "")]);
    assert_eq!(dkim_coverage(&raw, ""), none);
    assert_eq!(dkim_coverage(b"", DOMAIN), none);
}

#[test]
fn signatures_by_other_domains_do_not_restrict() {
    let raw = mail(&[
        &signature("lists.example.net", "from", " l=10;"),
        &signature(DOMAIN, "from:to:subject", ""),
    ]);
    assert_eq!(dkim_coverage(&raw, DOMAIN), ALL);
}

#[test]
fn a_signature_whose_identity_is_in_the_domain_counts() {
    // A result naming only `header.i=@sub.example.org` may refer to a signature by
    // `d=example.org` with that identity.
    let sig = signature(DOMAIN, "from:to:subject", " i=@sub.example.org;");
    let raw = mail(&[&sig]);
    assert_eq!(dkim_coverage(&raw, "sub.example.org"), ALL);
    let raw = mail(&[&sig, &signature("sub.example.org", "from:subject", "")]);
    assert!(!dkim_coverage(&raw, "sub.example.org").to);
}

#[test]
fn an_unreadable_signature_that_may_be_the_domains_covers_nothing() {
    let good = signature(DOMAIN, "from:to:subject", "");
    for bad in [
        // A tag twice makes the whole tag-list invalid (RFC 6376 §3.2).
        format!("{good}; h=from:to:subject"),
        "DKIM-Signature: v=1; d=example.org; s=s1; b=abc".to_owned(),
        "DKIM-Signature: v=1; d=example.org; h=from::to; b=abc".to_owned(),
        "DKIM-Signature: v=1; d=example.org; h=from:to; i=alice; b=abc".to_owned(),
        "DKIM-Signature: v=1; d=example.org;; h=from:to; b=abc".to_owned(),
        "DKIM-Signature: v=1; d=example.org; 1h=from:to; b=abc".to_owned(),
        "DKIM-Signature: v=1; d=sub.example.org; h=from; b".to_owned(),
        "DKIM-Signature: v=1; h=from:to; b=abc".to_owned(),
        "DKIM-Signature: garbage".to_owned(),
        "DKIM-Signature:".to_owned(),
    ] {
        let domain = if bad.contains("sub.example.org") {
            "sub.example.org"
        } else {
            DOMAIN
        };
        let raw = mail(&[&good, &bad]);
        assert_eq!(
            dkim_coverage(&raw, domain),
            DkimCoverage::default(),
            "{bad:?}"
        );
    }
    // One that is plainly another domain's does not matter.
    for other in [
        "DKIM-Signature: v=1; d=example.net; h=from; h=to; b=abc",
        "DKIM-Signature: v=1; d=ex\u{e4}mple.org; h=from; b=\u{e4}",
    ] {
        assert_eq!(
            dkim_coverage(&mail(&[&good, other]), DOMAIN),
            ALL,
            "{other}"
        );
    }
}

#[test]
fn a_trailing_semicolon_and_spaces_are_allowed() {
    let raw =
        mail(&["DKIM-Signature: v=1 ; d = example.org ;\r\n h = from : to : subject ; b=abc ;"]);
    assert_eq!(dkim_coverage(&raw, DOMAIN), ALL);
}

#[test]
fn the_body_is_not_read_as_headers() {
    // `mail` puts a second `To:` and a narrower signature in the body.
    let raw = mail(&[&signature(DOMAIN, "from:to:subject", "")]);
    assert_eq!(dkim_coverage(&raw, DOMAIN), ALL);
    // A line of spaces is a fold, not the end of the header block: what follows
    // is still read.
    let raw = [mail(&[
        &signature(DOMAIN, "from:to:subject", ""),
        "X-A: a",
        " ",
        "To: evil@example.net",
    ])]
    .concat();
    assert!(!dkim_coverage(&raw, DOMAIN).to);
}

proptest::proptest! {
    #[test]
    fn added_header_lines_never_add_coverage(
        extra in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        signed in "(from|to|subject|date)(:(from|to|subject|date)){0,3}",
    ) {
        let honest = mail(&[&signature(DOMAIN, &signed, "")]);
        let before = dkim_coverage(&honest, DOMAIN);
        let mut raw = extra;
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(&honest);
        let after = dkim_coverage(&raw, DOMAIN);
        proptest::prop_assert!(!after.from || before.from);
        proptest::prop_assert!(!after.to || before.to);
        proptest::prop_assert!(!after.subject || before.subject);
        proptest::prop_assert!(!after.whole_body || before.whole_body);
    }

    #[test]
    fn any_bytes_are_read_without_panicking(
        raw in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
    ) {
        let _ = dkim_coverage(&raw, DOMAIN);
    }
}
