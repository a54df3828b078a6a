use super::*;

fn parsed(value: &str) -> Results {
    parse_results(value).unwrap_or_else(|err| panic!("{err}"))
}

fn problem(value: &str) -> Problem {
    match parse_results(value) {
        Ok(results) => panic!("parsed {results:?} from {value:?}"),
        Err(err) => err.problem,
    }
}

#[test]
fn gmail() {
    let results = parsed(
        " mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 \
         header.b=Ab+/Cd12;\r\n       arc=pass (i=1 spf=pass spfdomain=example.com \
         dkim=pass dkdomain=example.com dmarc=pass fromdomain=example.com);\r\n       \
         spf=pass (google.com: domain of alice@example.com designates \
         2607:f8b0:4864:20::b2e as permitted sender) smtp.mailfrom=alice@example.com;\r\n       \
         dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com;\r\n       \
         dara=pass header.i=@example.org\r\n",
    );
    assert_eq!(results.authserv_id, "mx.google.com");
    assert_eq!(results.version, None);
    let methods: Vec<_> = results.resinfos.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["dkim", "arc", "spf", "dmarc", "dara"]);
    let dkim = &results.resinfos[0];
    assert_eq!(dkim.result, "pass");
    assert_eq!(dkim.property("header", "i"), Some("@example.com"));
    assert_eq!(dkim.property("header", "b"), Some("Ab+/Cd12"));
    // Gmail gives no header.d: the domain comes from header.i.
    assert_eq!(dkim.dkim_domain().as_deref(), Some("example.com"));
    assert_eq!(
        results.resinfos[2].property("smtp", "mailfrom"),
        Some("alice@example.com")
    );
    assert_eq!(
        results.resinfos[3].property("header", "from"),
        Some("example.com")
    );
}

#[test]
fn microsoft_365_without_authserv_id_is_refused() {
    let value = " spf=pass (sender IP is 40.107.22.50)\r\n smtp.mailfrom=example.com; \
                 dkim=pass (signature was verified)\r\n header.d=example.com;dmarc=pass \
                 action=none\r\n header.from=example.com;compauth=pass reason=100\r\n";
    assert_eq!(problem(value), Problem::MissingAuthservId);
    let message = parse_results(value).expect_err("no id").to_string();
    assert!(message.contains("authserv-id"), "{message}");
    assert!(message.contains("spf=pass (sender IP"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn microsoft_365_with_authserv_id() {
    // An id with a version, as Microsoft writes it in ARC-Authentication-Results.
    let results = parsed(
        "mx.microsoft.com 1; spf=pass smtp.mailfrom=example.com; dkim=pass \
         (signature was verified) header.d=example.com;dmarc=pass action=none \
         header.from=example.com;compauth=pass reason=100",
    );
    assert_eq!(results.authserv_id, "mx.microsoft.com");
    assert_eq!(results.version, Some(1));
    let dmarc = &results.resinfos[2];
    assert_eq!(dmarc.property("", "action"), Some("none"));
    assert_eq!(results.resinfos[3].method, "compauth");
    assert_eq!(results.resinfos[3].reason.as_deref(), Some("100"));
}

#[test]
fn fastmail() {
    let results = parsed(
        "mx6.messagingengine.com;\n    dkim=pass (2048-bit rsa key sha256) \
         header.d=example.com header.i=@example.com header.b=AbCdEfGh header.a=rsa-sha256 \
         header.s=fm1 x-bits=2048;\n    dmarc=pass policy.published-domain-policy=none \
         policy.applied-disposition=none policy.evaluated-disposition=none \
         (p=none,d=none,d.eval=none) policy.policy-from=p header.from=example.com;\n    \
         iprev=pass smtp.remote-ip=66.111.4.28 (out4-smtp.messagingengine.com);\n    \
         spf=pass smtp.mailfrom=alice@example.com smtp.helo=out4-smtp.messagingengine.com;\n    \
         x-aligned-from=pass (Address match);\n    x-me-sender=none;\n    x-ptr=pass \
         smtp.helo=out4-smtp.messagingengine.com policy.ptr=out4-smtp.messagingengine.com\n    \
         ; x-return-mx=pass header.domain=example.com policy.is_org=yes (MX Records found: \
         in1-smtp.messagingengine.com);\n",
    );
    assert_eq!(results.authserv_id, "mx6.messagingengine.com");
    assert_eq!(results.resinfos.len(), 8);
    let dkim = &results.resinfos[0];
    assert_eq!(dkim.property("", "x-bits"), Some("2048"));
    assert_eq!(dkim.dkim_domain().as_deref(), Some("example.com"));
    assert_eq!(results.resinfos[5].method, "x-me-sender");
    assert_eq!(results.resinfos[5].result, "none");
    assert_eq!(
        results.resinfos[7].property("policy", "is_org"),
        Some("yes")
    );
}

#[test]
fn opendkim_and_opendmarc_milters() {
    let dkim = parsed(
        "mail.example.net;\n\tdkim=pass (2048-bit key; unprotected) header.d=Example.ORG \
         header.i=@example.org header.a=rsa-sha256 header.s=mail header.b=\"AbCdEfGh\";\n\t\
         dkim-atps=neutral",
    );
    assert_eq!(dkim.authserv_id, "mail.example.net");
    assert_eq!(dkim.resinfos[0].property("header", "b"), Some("AbCdEfGh"));
    assert_eq!(
        dkim.resinfos[0].dkim_domain().as_deref(),
        Some("example.org")
    );
    assert_eq!(dkim.resinfos[1].method, "dkim-atps");

    let dmarc = parsed("mail.example.net; dmarc=none (p=none dis=none) header.from=example.org");
    assert_eq!(dmarc.resinfos[0].method, "dmarc");
    assert_eq!(dmarc.resinfos[0].result, "none");

    let spf = parsed(
        "mail.example.net; spf=softfail (domain of transitioning alice@example.org does not \
         designate 192.0.2.1 as permitted sender) smtp.mailfrom=alice@example.org",
    );
    assert_eq!(spf.resinfos[0].result, "softfail");
}

#[test]
fn rspamd() {
    let results = parsed(
        "mx.example.org;\r\n\tdkim=pass header.d=example.com header.s=dkim header.b=ab12Cd/+;\r\n\t\
         dmarc=pass (policy=reject) header.from=example.com;\r\n\tspf=pass (mx.example.org: \
         domain of \"alice@example.com\" designates 192.0.2.7 as permitted sender) \
         smtp.mailfrom=alice@example.com",
    );
    assert_eq!(results.resinfos.len(), 3);
    assert_eq!(
        results.resinfos[0].property("header", "b"),
        Some("ab12Cd/+")
    );
}

#[test]
fn none_alone_and_versions() {
    let none = parsed("mx.example.org 1; none");
    assert_eq!(none.version, Some(1));
    assert!(none.resinfos.is_empty());

    let versioned = parsed(
        "\"mx.example.org\" (our MX) 1 ; DKIM/1 = PASS reason=\"good sig\" Header . D = example.org",
    );
    assert_eq!(versioned.authserv_id, "mx.example.org");
    let dkim = &versioned.resinfos[0];
    assert_eq!(dkim.method, "dkim");
    assert_eq!(dkim.method_version, Some(1));
    assert_eq!(dkim.result, "pass");
    assert_eq!(dkim.reason.as_deref(), Some("good sig"));
    assert_eq!(dkim.property("header", "d"), Some("example.org"));
}

#[test]
fn comments_nest_and_quotes_escape() {
    let results = parsed(
        "mx.example.org (outer (inner \\) still) end); dkim=pass (a (b) c) \
         header.i=\"alice\\\"s@example.org\" (trailing)",
    );
    assert_eq!(
        results.resinfos[0].property("header", "i"),
        Some("alice\"s@example.org")
    );
}

#[test]
fn folded_quoted_value() {
    let results = parsed("mx.example.org; dkim=fail reason=\"signature\r\n verification failed\"");
    assert_eq!(
        results.resinfos[0].reason.as_deref(),
        Some("signature verification failed")
    );
}

/// The kind of a problem, without its position details.
fn kind(problem: &Problem) -> &'static str {
    match problem {
        Problem::MissingAuthservId => "no id",
        Problem::NoResults => "no results",
        Problem::NoneWithOthers => "none with others",
        Problem::UnclosedComment => "unclosed comment",
        Problem::UnclosedQuote => "unclosed quote",
        Problem::Unexpected { .. } => "unexpected",
        Problem::NumberTooLarge { .. } => "number too large",
    }
}

#[test]
fn malformed_headers_are_errors() {
    let cases = [
        ("", "no id"),
        ("   \r\n ", "no id"),
        ("mx.example.org", "no results"),
        ("mx.example.org;", "no results"),
        (
            "mx.example.org; none; dkim=pass header.d=a.org",
            "none with others",
        ),
        ("mx.example.org; dkim=pass (unclosed", "unclosed comment"),
        (
            "mx.example.org; dkim=pass header.d=\"a.org",
            "unclosed quote",
        ),
        ("\"mx.example.org", "unclosed quote"),
        ("mx.example.org; dkim", "unexpected"),
        ("mx.example.org; dkim=", "unexpected"),
        ("mx.example.org; dkim=pass header.d=", "unexpected"),
        ("mx.example.org; dkim=pass header.d", "unexpected"),
        ("mx.example.org; dkim=pass header.=x", "unexpected"),
        ("mx.example.org; dkim/=pass", "unexpected"),
        ("mx.example.org extra; dkim=pass", "unexpected"),
        ("mx.example.org; =pass", "unexpected"),
        ("mx.example.org; dkim=pass\"x\"", "unexpected"),
        ("mx.example.org 99999999999; none", "number too large"),
    ];
    for (value, expected) in cases {
        assert_eq!(kind(&problem(value)), expected, "{value:?}");
    }
}

#[test]
fn unexpected_names_the_place() {
    let err = parse_results("mx.example.org; dkim pass").expect_err("no =");
    assert_eq!(
        err.to_string(),
        "malformed Authentication-Results header `mx.example.org; dkim pass`: \
         expected `=` after the method name at character 21, found `p`"
    );
}

#[test]
fn hostile_input_never_panics() {
    let deep = format!(
        "mx.example.org; dkim=pass {}x{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(parse_results(&deep).is_ok());
    let long = format!("mx.example.org; dkim=pass header.b={}", "A".repeat(100_000));
    assert!(parse_results(&long).is_ok());
    let err = parse_results(&format!("{}(", "x".repeat(1000))).expect_err("unclosed");
    assert!(err.header.chars().count() <= 201, "{}", err.header);
    for value in [
        "mx; dkim=pass header.d=é.example ü",
        "mx;;;;",
        ";",
        "mx; dkim=pass\u{0}header.d=x",
        "(",
        ")",
        "\\",
        "mx; dkim=pass (\\",
        "mx; dkim=pass header.d=\"\\",
        "mx 1 2; none",
        "mx; none none",
        "é; dkim=pass",
    ] {
        let _ = parse_results(value);
        let _ = dkim_pass_domains(&[value], "mx");
    }
}

#[test]
fn grammar_violations_are_errors() {
    let cases = [
        // A line break must be a fold; a bare carriage return is not one.
        ("mx.example.org; dkim=fail\nX: y", "unexpected"),
        ("mx.example.org; dkim=fail\rheader.d=a.org", "unexpected"),
        ("mx.example.org;\r\n\r\n dkim=pass", "unexpected"),
        // Tokens are ASCII; only a space, a tab or a fold separates.
        (
            "mx.example.org;\u{a0}dkim=pass header.d=a.org",
            "unexpected",
        ),
        (
            "m\u{445}.example.org; dkim=pass header.d=a.org",
            "unexpected",
        ),
        (
            "mx.example.org; dkim=pass header.d=\u{e9}.example",
            "unexpected",
        ),
        ("mx.example.org; dkim=pass\u{0}header.d=a.org", "unexpected"),
        (
            "mx.example.org; dkim=pass (a\u{0}b) header.d=a.org",
            "unexpected",
        ),
        ("mx.example.org; dkim=pass reason=\"a\u{7}b\"", "unexpected"),
        // The version needs CFWS before it, and comes once.
        ("\"mx.example.org\"1; none", "unexpected"),
        ("mx.example.org 1 2; none", "unexpected"),
        ("mx.example.org; none none", "unexpected"),
        // A reason is a token or a quoted string, not free text.
        (
            "mx.example.org; dkim=fail reason=bad signature",
            "unexpected",
        ),
        ("mx.example.org; dkim=fail reason=", "unexpected"),
        // Property values: a token, a quoted string or an address.
        (
            "mx.example.org; dkim=pass header.i=a..b@a.org",
            "unexpected",
        ),
        ("mx.example.org; dkim=pass header.i=a@", "unexpected"),
        ("mx.example.org; dkim=pass header.i=a@b..org", "unexpected"),
        ("mx.example.org; dkim=pass header.i=\"a\"@", "unexpected"),
        ("mx.example.org; dkim=pass header.d=a.org?", "unexpected"),
        (
            "mx.example.org; dkim=pass header.d=a.org header.i=@a.org/x",
            "unexpected",
        ),
        ("mx.example.org; dkim=pass header.d=<a.org>", "unexpected"),
        // A quoted-pair must escape something printable.
        ("mx.example.org; dkim=pass (\\", "unclosed comment"),
        ("mx.example.org; dkim=pass header.d=\"\\", "unclosed quote"),
        ("mx.example.org; dkim=pass; garbage", "unexpected"),
    ];
    for (value, expected) in cases {
        assert_eq!(kind(&problem(value)), expected, "{value:?}");
    }
}

/// `(ptype, name, value)` of every property, in header order.
type Found<'a> = &'a [(&'a str, &'a str, &'a str)];

#[test]
fn grammar_forms_that_parse() {
    let cases: &[(&str, &str, Found)] = &[
        // Quoted authserv-id, with a quoted-pair.
        ("\"mx\\.example.org\"; none", "mx.example.org", &[]),
        // CFWS before the id, a comment glued to it, a version between comments.
        (
            " (ours)\r\n mx.example.org(x) (v) 1 (y); dkim=pass header.d=a.org",
            "mx.example.org",
            &[("header", "d", "a.org")],
        ),
        // Folds and comments around every `=` and `.`.
        (
            "mx.example.org;\r\n\tdkim\r\n = (c)\r\n pass\r\n header\r\n . (c) d\r\n =\r\n a.org",
            "mx.example.org",
            &[("header", "d", "a.org")],
        ),
        (
            "mx.example.org;\n dkim=pass\n header.d=a.org",
            "mx.example.org",
            &[("header", "d", "a.org")],
        ),
        // Values: an address, `@domain`, a quoted local-part, a quoted string.
        (
            "mx.example.org; spf=pass smtp.mailfrom=first.last+tag@a.org",
            "mx.example.org",
            &[("smtp", "mailfrom", "first.last+tag@a.org")],
        ),
        (
            "mx.example.org; dkim=pass header.i=@a.org",
            "mx.example.org",
            &[("header", "i", "@a.org")],
        ),
        (
            "mx.example.org; spf=pass smtp.mailfrom=\"a b; c\"@a.org",
            "mx.example.org",
            &[("smtp", "mailfrom", "\"a b; c\"@a.org")],
        ),
        (
            "mx.example.org; dkim=pass header.b=\"x\"header.d=a.org",
            "mx.example.org",
            &[("header", "b", "x"), ("header", "d", "a.org")],
        ),
        // A comment holds `;`, `=`, quotes and escaped parentheses.
        (
            "mx.example.org; dkim=pass (a; \"b=c\\) (d) e) header.d=a.org",
            "mx.example.org",
            &[("header", "d", "a.org")],
        ),
    ];
    for (value, id, properties) in cases {
        let results = parsed(value);
        assert_eq!(results.authserv_id, *id, "{value:?}");
        let found: Vec<(&str, &str, &str)> = results
            .resinfos
            .iter()
            .flat_map(|r| &r.properties)
            .map(|p| (p.ptype.as_str(), p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(found, *properties, "{value:?}");
    }
}

const TRUSTED: &str = "mx.example.org";

/// What `dkim_pass_domains` finds in `headers` for [`TRUSTED`].
fn passes(headers: &[&str]) -> Vec<String> {
    dkim_pass_domains(headers, TRUSTED)
}

#[test]
fn trusted_dkim_pass_domains() {
    let headers = [
        "mx.example.org; dkim=pass header.d=Example.ORG header.s=a; \
         dkim=pass header.i=@lists.example.net; dkim=fail header.d=bad.example; \
         dkim=pass header.d=example.org; spf=pass smtp.mailfrom=other.example",
    ];
    assert_eq!(passes(&headers), ["example.org", "lists.example.net"]);
    // The trusted id compares case-insensitively, and may be quoted.
    assert_eq!(dkim_pass_domains(&headers, "MX.Example.Org").len(), 2);
    let quoted = ["\"MX.example.org\" 1; dkim=pass header.d=example.org"];
    assert_eq!(passes(&quoted), ["example.org"]);
}

#[test]
fn the_passing_identity_is_exactly_header_d_or_the_domain_of_header_i() {
    let cases = [
        ("header.d=example.org", Some("example.org")),
        ("header.d=EXAMPLE.org.", Some("example.org")),
        ("header.d=\"example.org\"", Some("example.org")),
        ("header.i=@example.org", Some("example.org")),
        ("header.i=alice@example.org", Some("example.org")),
        (
            "header.i=\"a@evil.example\"@example.org",
            Some("example.org"),
        ),
        (
            "header.d=example.org header.i=@example.org",
            Some("example.org"),
        ),
        (
            "header.d=example.org header.i=a@mail.example.org",
            Some("example.org"),
        ),
        (
            "header.d=example.org header.d=Example.Org",
            Some("example.org"),
        ),
        // A subdomain is its own domain, never its parent's.
        ("header.i=@sub.example.org", Some("sub.example.org")),
        ("header.d=sub.example.org header.i=@example.org", None),
        // An identity outside the signing domain is not what a verifier writes.
        ("header.d=example.org header.i=@evil.example", None),
        ("header.d=evil.example header.i=@example.org", None),
        ("header.d=example.org header.i=@notexample.org", None),
        // Two different signing domains: which one passed is unknown.
        ("header.d=evil.example header.d=example.org", None),
        ("header.d=example.org header.d=evil.example", None),
        ("header.i=@example.org header.i=@evil.example", None),
        // Not plain domain names.
        ("header.d=\"ex\u{430}mple.org\"", None),
        ("header.d=\"example.org x\"", None),
        ("header.d=\"example.org\u{200b}\"", None),
        ("header.d=@example.org", None),
        ("header.d=alice@example.org", None),
        ("header.d=org", None),
        ("header.d=-example.org", None),
        ("header.d=example..org", None),
        ("header.i=example.org", None),
        ("header.i=\"alice@example.org x\"", None),
        ("header.s=sel header.b=abc", None),
        ("d=example.org", None),
        ("policy.d=example.org", None),
    ];
    for (properties, expected) in cases {
        let value = format!("{TRUSTED}; dkim=pass {properties}");
        let results = parsed(&value);
        assert_eq!(
            results.resinfos[0].dkim_domain().as_deref(),
            expected,
            "{properties}"
        );
        let domains = passes(&[&value]);
        assert_eq!(
            domains.first().map(String::as_str),
            expected,
            "{properties}"
        );
    }
}

#[test]
fn only_a_dkim_pass_result_counts() {
    for clause in [
        "dkim=fail header.d=example.org",
        "dkim=neutral header.d=example.org",
        "dkim=policy header.d=example.org",
        "dkim=temperror header.d=example.org",
        "dkim=passed header.d=example.org",
        "dkim/2=pass header.d=example.org",
        "dkim-atps=pass header.d=example.org",
        "x-dkim=pass header.d=example.org",
        "arc=pass header.d=example.org",
        "dmarc=pass header.from=example.org",
        "spf=pass smtp.mailfrom=alice@example.org",
    ] {
        let value = format!("{TRUSTED}; {clause}");
        assert!(parse_results(&value).is_ok(), "{clause}");
        assert!(passes(&[&value]).is_empty(), "{clause}");
    }
    assert_eq!(
        passes(&["mx.example.org; DKIM/1=PASS HEADER.D=EXAMPLE.ORG"]),
        ["example.org"]
    );
}

#[test]
fn text_inside_comments_quotes_and_reasons_is_never_a_result() {
    let cases = [
        "mx.example.org; dkim=fail (dkim=pass header.d=example.org) header.d=example.org",
        "mx.example.org; spf=pass (; dkim=pass header.d=example.org) smtp.mailfrom=a.org",
        "mx.example.org; dkim=fail (\\) ; dkim=pass header.d=example.org) header.d=a.org",
        "mx.example.org; dkim=fail (\"; dkim=pass header.d=example.org\") header.d=a.org",
        "mx.example.org; dkim=fail (a (b; dkim=pass header.d=example.org) c) header.d=a.org",
        "mx.example.org; dkim=fail reason=\"dkim=pass header.d=example.org\" header.d=a.org",
        "mx.example.org; dkim=fail reason=\"x\\\"; dkim=pass header.d=example.org\" header.d=a.org",
        "mx.example.org; spf=pass smtp.mailfrom=\"x; dkim=pass header.d=example.org\"@evil.example",
        "mx.example.org; dkim=fail header.b=\"; dkim=pass header.d=example.org\"",
        "\"mx.example.org; dkim=pass header.d=example.org\"; none",
        // A quote inside a comment is text: it opens no quoted string.
        "mx.example.org; dkim=fail (say \") header.d=a.org (\" dkim=pass header.d=example.org)",
    ];
    for value in cases {
        let results = parse_results(value).unwrap_or_else(|err| panic!("{value:?}: {err}"));
        assert!(
            results
                .resinfos
                .iter()
                .all(|r| r.method != "dkim" || r.result != "pass"),
            "{value:?}"
        );
        assert!(passes(&[value]).is_empty(), "{value:?}");
    }
}

#[test]
fn a_malformed_header_is_never_partially_trusted() {
    for value in [
        "mx.example.org; dkim=pass header.d=example.org (",
        "mx.example.org; dkim=pass header.d=example.org; garbage",
        "mx.example.org; dkim=pass header.d=example.org; dkim=pass header.d=\"x",
        "mx.example.org; dkim=pass header.d=example.org\rX-Other: y",
        "mx.example.org; dkim=pass header.d=example.org\nX-Other: y",
        "mx.example.org; none; dkim=pass header.d=example.org",
        "mx.example.org; dkim=pass header.d=example.org; dkim=pass header.d=\u{0}",
        "mx.example.org (\"); dkim=pass header.d=example.org\"); dkim=fail header.d=a.org",
    ] {
        assert!(parse_results(value).is_err(), "{value:?}");
        assert!(passes(&[value]).is_empty(), "{value:?}");
        assert!(trusted_results(&[value], TRUSTED).is_empty(), "{value:?}");
    }
}

#[test]
fn a_look_alike_authserv_id_is_not_trusted() {
    for id in [
        "m\u{445}.example.org",       // Cyrillic ha
        "\"m\u{445}.example.org\"",   // the same, quoted
        "\"\u{ff4d}x.example.org\"",  // fullwidth m
        "\"mx.example.org\u{200b}\"", // zero-width space
        "\"mx.example.org \"",        // trailing space inside quotes
        "mx.example.org.",            // trailing dot
        "mx.example.org.evil.example",
        "evil-mx.example.org",
        "mx.example.org=pass", // a result, not an id
        "\"\"",
    ] {
        let value = format!("{id}; dkim=pass header.d=example.org");
        assert!(passes(&[&value]).is_empty(), "{id}");
        assert!(trusted_results(&[&value], TRUSTED).is_empty(), "{id}");
    }
    // ASCII case folding only: the Kelvin sign is not a `k`.
    let kelvin = "\"m\u{212a}.example.org\"; dkim=pass header.d=example.org";
    assert!(dkim_pass_domains(&[kelvin], "mk.example.org").is_empty());
    assert!(dkim_pass_domains(&[kelvin], "").is_empty());
}

#[test]
fn the_trusted_servers_headers_are_the_topmost_run() {
    let dkim = "mx.example.org; dkim=pass header.d=example.org";
    let cases: &[(&[&str], &[&str])] = &[
        (&[dkim], &["example.org"]),
        // The server writes several headers (one per filter): all count.
        (
            &[
                "mx.example.org; dmarc=pass header.from=example.org",
                "mx.example.org; spf=pass smtp.mailfrom=example.org",
                dkim,
            ],
            &["example.org"],
        ),
        (
            &[
                "MX.Example.Org; spf=pass smtp.mailfrom=example.org",
                "MX.Example.Org; dkim=pass header.d=example.org",
            ],
            &["example.org"],
        ),
        // Headers from other servers further down change nothing.
        (
            &[dkim, "mx.google.com; dkim=pass header.d=evil.example"],
            &["example.org"],
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(passes(headers), *expected, "{headers:?}");
    }
}

#[test]
fn a_trusted_id_below_a_foreign_header_does_not_count() {
    let cases: &[&[&str]] = &[
        &[
            "mx.google.com; dkim=pass header.d=example.org",
            "mx.example.org; dkim=pass header.d=example.org",
        ],
        &[
            "mx.example.org; spf=pass smtp.mailfrom=a.org",
            "relay.evil.example; none",
            "mx.example.org; dkim=pass header.d=example.org",
        ],
        // An unreadable header ends the run as a foreign one does.
        &[
            "mx.example.org; spf=pass smtp.mailfrom=a.org",
            "mx.example.org; dkim=pass header.d=(unclosed",
            "mx.example.org; dkim=pass header.d=example.org",
        ],
        &[
            "spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org",
            "mx.example.org; dkim=pass header.d=example.org",
        ],
        &[
            "mx.example.org; dkim=pass header.d=(unclosed",
            "mx.example.org; dkim=pass header.d=example.org",
        ],
    ];
    for headers in cases {
        assert!(passes(headers).is_empty(), "{headers:?}");
    }
    let run = trusted_results(cases[1], TRUSTED);
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].resinfos[0].method, "spf");
}

#[test]
fn a_header_the_sender_injected_at_the_bottom_does_not_count() {
    // The trusted server's own header, other servers' headers on the way, and at
    // the bottom the copy the sender wrote into the mail.
    let headers = [
        "mx.example.org; dkim=none; spf=pass smtp.mailfrom=evil.example",
        "mail.evil.example; spf=pass smtp.mailfrom=evil.example",
        "mx.example.org; dkim=pass header.d=example.org",
    ];
    assert!(passes(&headers).is_empty());
    let run = trusted_results(&headers, TRUSTED);
    assert_eq!(run.len(), 1);
}

#[test]
fn a_differently_spelled_copy_of_the_trusted_id_ends_the_run() {
    // A copy the server's removal missed spells the id otherwise: quoted, in
    // another case, or with a quoted-pair.
    for copy in [
        "\"mx.example.org\"; dkim=pass header.d=example.org",
        "MX.EXAMPLE.ORG; dkim=pass header.d=example.org",
        "\"mx\\.example.org\"; dkim=pass header.d=example.org",
    ] {
        let headers = ["mx.example.org; spf=pass smtp.mailfrom=evil.example", copy];
        assert!(passes(&headers).is_empty(), "{copy}");
        assert_eq!(trusted_results(&headers, TRUSTED).len(), 1, "{copy}");
    }
}

#[test]
fn a_second_set_of_dkim_verdicts_in_the_run_does_not_count() {
    // The genuine verdicts are the topmost ones; a forged pass below them, even
    // one the server failed to remove, neither adds a domain nor overturns a fail.
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "mx.example.org; dkim=pass header.d=evil.example",
                "mx.example.org; dkim=pass header.d=example.org",
            ],
            &["evil.example"],
        ),
        (
            &[
                "mx.example.org; dkim=fail header.d=example.org",
                "mx.example.org; dkim=pass header.d=example.org",
            ],
            &[],
        ),
        (
            &[
                "mx.example.org; dkim=none",
                "mx.example.org; dkim=pass header.d=example.org",
            ],
            &[],
        ),
        (
            &[
                "mx.example.org; spf=pass smtp.mailfrom=a.org",
                "mx.example.org; dkim=permerror header.d=example.org",
                "mx.example.org; dkim=pass header.d=example.org",
            ],
            &[],
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(passes(headers), *expected, "{headers:?}");
    }
}

#[test]
fn no_trusted_id_trusts_nothing() {
    let headers = ["mx.example.org; dkim=pass header.d=example.org"];
    assert!(dkim_pass_domains(&headers, "").is_empty());
    assert!(dkim_pass_domains(&headers, "  ").is_empty());
    assert!(trusted_results(&headers, "").is_empty());
    assert!(passes(&[]).is_empty());
}

proptest::proptest! {
    #[test]
    fn any_value_parses_or_fails_without_panicking(value in "\\PC{0,200}") {
        let _ = parse_results(&value);
        let _ = dkim_pass_domains(&[&value, &value], TRUSTED);
    }

    #[test]
    fn any_header_value_below_a_foreign_one_is_ignored(value in "[ -~\t\r\n]{0,200}") {
        let headers = ["mx.elsewhere.example; none", value.as_str()];
        proptest::prop_assert!(dkim_pass_domains(&headers, TRUSTED).is_empty());
    }

    #[test]
    fn a_pass_comes_only_from_a_parsed_dkim_pass(value in "[ -~\t\r\n]{0,200}") {
        let domains = dkim_pass_domains(&[&value], TRUSTED);
        if !domains.is_empty() {
            let results = parse_results(&value).expect("a pass needs a valid header");
            proptest::prop_assert!(results.authserv_id.eq_ignore_ascii_case(TRUSTED));
            proptest::prop_assert!(results.resinfos.iter().any(|r| r.method == "dkim" && r.result == "pass"));
        }
    }
}
