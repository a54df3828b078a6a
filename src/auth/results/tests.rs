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

const TRUSTED: &str = "mx.example.org";

#[test]
fn trusted_dkim_pass_domains() {
    let headers = [
        "mx.example.org; dkim=pass header.d=Example.ORG header.s=a; \
         dkim=pass header.i=@lists.example.net; dkim=fail header.d=bad.example; \
         dkim=pass header.d=example.org; spf=pass smtp.mailfrom=other.example",
    ];
    assert_eq!(
        dkim_pass_domains(&headers, TRUSTED),
        ["example.org", "lists.example.net"]
    );
    // The trusted id compares case-insensitively.
    assert_eq!(dkim_pass_domains(&headers, "MX.Example.Org").len(), 2);
}

#[test]
fn other_authserv_ids_are_ignored() {
    let headers = [
        "mx.google.com; dkim=pass header.d=example.org",
        "mx.example.org.evil.example; dkim=pass header.d=example.org",
    ];
    assert!(dkim_pass_domains(&headers, TRUSTED).is_empty());
    assert!(dkim_pass_domains(&headers, "").is_empty());
}

#[test]
fn only_the_topmost_trusted_header_counts() {
    // A forged header below the genuine one is ignored.
    let forged_below = [
        "mx.example.org; dkim=pass header.d=example.org",
        "other.example; dkim=pass header.d=evil.example",
        "mx.example.org; dkim=pass header.d=evil.example",
    ];
    assert_eq!(dkim_pass_domains(&forged_below, TRUSTED), ["example.org"]);

    // When the genuine one says fail, a forged pass below does not rescue it.
    let genuine_fail = [
        "mx.example.org; dkim=fail header.d=example.org",
        "mx.example.org; dkim=pass header.d=example.org",
    ];
    assert!(dkim_pass_domains(&genuine_fail, TRUSTED).is_empty());
}

#[test]
fn a_malformed_trusted_header_hides_forged_ones_below() {
    let headers = [
        "mx.example.org; dkim=pass header.d=(unclosed",
        "mx.example.org; dkim=pass header.d=example.org",
    ];
    assert!(dkim_pass_domains(&headers, TRUSTED).is_empty());
    assert!(matches!(
        trusted_results(&headers, TRUSTED),
        Some(Err(ResultsError {
            problem: Problem::UnclosedComment,
            ..
        }))
    ));
}

#[test]
fn microsoft_style_header_starting_with_a_result_is_not_trusted() {
    // `mx.example.org=pass …` must not be read as the trusted id.
    let headers = ["mx.example.org=pass; dkim=pass header.d=example.org"];
    assert!(dkim_pass_domains(&headers, TRUSTED).is_empty());
    assert!(trusted_results(&headers, TRUSTED).is_none());
}
