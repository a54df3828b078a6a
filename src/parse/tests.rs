use super::*;

fn limits() -> ParseLimits {
    ParseLimits {
        max_header_size: 4096,
        max_mime_depth: 4,
        max_attachments: 2,
        max_text_len: 1 << 20,
    }
}

fn codes(p: &ParsedMessage) -> Vec<&'static str> {
    p.problems.iter().map(Problem::code).collect()
}

#[test]
fn plain_message() {
    let raw =
        b"From: Jane <Jane@Example.NET>\r\nTo: security@example.org, \"B\" <b@example.org>\r\n\
Cc: c@example.org\r\nSubject: XSS\r\nMessage-ID: <a1@example.net>\r\n\
In-Reply-To: <p@example.org>\r\nReferences: <r0@example.org> <p@example.org>\r\n\
Date: Sun, 22 Nov 2026 10:15:00 +0100\r\n\r\nHello\r\n";
    let p = parse(raw, &limits());
    assert_eq!(p.message_id.as_deref(), Some("a1@example.net"));
    assert_eq!(p.in_reply_to.as_deref(), Some("p@example.org"));
    assert_eq!(p.references, ["r0@example.org", "p@example.org"]);
    let from = p.from.as_ref().expect("from");
    assert_eq!(from.address, "jane@example.net");
    assert_eq!(from.name.as_deref(), Some("Jane"));
    let to: Vec<_> = p.recipients.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        to,
        ["security@example.org", "b@example.org", "c@example.org"]
    );
    assert_eq!(p.subject, "XSS");
    assert_eq!(p.date.map(|d| d.as_second()), Some(1_795_338_900));
    assert_eq!(p.text.trim(), "Hello");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
}

#[test]
fn html_becomes_text_and_attachments_are_hashed() {
    let raw = b"From: a@b.c\r\nMessage-ID: <h@b.c>\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n\
--X\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p>\r\n\
--X\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--X--\r\n";
    let p = parse(raw, &limits());
    assert!(p.text.contains("Hi there"), "{}", p.text);
    assert!(!p.text.contains('<'));
    assert_eq!(p.attachments.len(), 1);
    let a = &p.attachments[0];
    assert_eq!(a.name.as_deref(), Some("a.pdf"));
    assert_eq!(a.content_type, "application/pdf");
    assert_eq!(a.size, 5);
    assert_eq!(a.sha256, sha256_hex(b"hello"));
}

#[test]
fn problems_are_recorded() {
    let raw = b"From: a@b.c\r\nnot a header\r\nDate: yesterday\r\n\r\nx";
    let p = parse(raw, &limits());
    let c = codes(&p);
    for code in ["no-message-id", "malformed-header", "bad-date"] {
        assert!(c.contains(&code), "{code} missing in {c:?}");
    }

    let big = format!("From: a@b.c\r\nX-Pad: {}\r\n\r\nx", "y".repeat(5000));
    assert!(codes(&parse(big.as_bytes(), &limits())).contains(&"header-too-large"));

    let mut nested = String::from("From: a@b.c\r\nMessage-ID: <n@b.c>\r\n");
    for i in 0..6 {
        nested.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"
        ));
    }
    nested.push_str("Content-Type: text/plain\r\n\r\ndeep\r\n");
    let p = parse(nested.as_bytes(), &limits());
    assert!(codes(&p).contains(&"mime-too-deep"), "{:?}", p.problems);

    let p = parse(b"", &limits());
    assert!(codes(&p).contains(&"empty"));
    assert!(codes(&p).contains(&"no-sender"));
}

#[test]
fn undeclared_eight_bit_text_is_flagged() {
    let raw = b"From: a@b.c\r\nMessage-ID: <u@b.c>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGr\xfc\xdfe\r\n";
    let p = parse(raw, &limits());
    assert!(codes(&p).contains(&"undecodable-text"), "{:?}", p.problems);
}

#[test]
fn too_many_attachments_are_cut() {
    let mut raw = String::from(
        "From: a@b.c\r\nMessage-ID: <m@b.c>\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n",
    );
    for i in 0..4 {
        raw.push_str(&format!(
            "--X\r\nContent-Type: application/octet-stream; name=f{i}\r\n\r\ndata{i}\r\n"
        ));
    }
    raw.push_str("--X--\r\n");
    let p = parse(raw.as_bytes(), &limits());
    assert_eq!(p.attachments.len(), 2);
    assert!(codes(&p).contains(&"too-many-attachments"));
}

#[test]
fn dsn_returns_original_message_id() {
    let raw = b"From: MAILER-DAEMON@mx.example.net\r\nMessage-ID: <dsn@mx>\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n\
--R\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; r@x\r\nAction: failed\r\nStatus: 5.1.1\r\n\
--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <disclosed.1@example.org>\r\nSubject: hi\r\n\r\n\
--R--\r\n";
    let p = parse(raw, &limits());
    assert!(p.is_dsn);
    assert_eq!(p.returned_message_ids, ["disclosed.1@example.org"]);
}

#[test]
fn control_characters_never_reach_display_text() {
    assert_eq!(clean_text("a\r\nBcc: x\tb"), "a Bcc: x b");
}

#[test]
fn authentication_results_come_from_the_outer_header_block_in_order() {
    let raw = b"Authentication-Results: mx.example.org;\r\n\tdkim=pass header.d=example.org\r\n\
Received: from x\r\nAuthentication-Results: mx.example.org; dkim=fail\r\n\
From: alice@example.org\r\nSubject: s\r\n\r\n\
Authentication-Results: mx.example.org; dkim=pass header.d=evil.example\r\n";
    let found = authentication_results(raw);
    assert_eq!(
        found,
        [
            "mx.example.org;\r\n\tdkim=pass header.d=example.org",
            "mx.example.org; dkim=fail"
        ]
    );
}

#[test]
fn attachment_contents_are_decoded() {
    let raw = b"From: a@x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=poc.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n\
AAEC\r\n--b--\r\n";
    let found = attachment_contents(raw, &limits());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name.as_deref(), Some("poc.bin"));
    assert_eq!(found[0].content_type, "application/octet-stream");
    assert_eq!(found[0].data, [0u8, 1, 2]);
}

/// `levels` messages, each the only part of the one around it.
fn nested_rfc822(levels: usize) -> String {
    let mut raw = String::new();
    for i in 0..levels {
        raw.push_str(&format!(
            "From: a@b.c\r\nMessage-ID: <n{i}@b.c>\r\nSubject: level {i}\r\n\
             Content-Type: message/rfc822\r\n\r\n"
        ));
    }
    raw.push_str("From: a@b.c\r\nSubject: innermost\r\n\r\ndeep\r\n");
    raw
}

#[test]
fn nested_rfc822_counts_toward_the_mime_depth() {
    // The limit is 4: a message inside a message inside a message is fine…
    let p = parse(nested_rfc822(3).as_bytes(), &limits());
    assert!(!codes(&p).contains(&"mime-too-deep"), "{:?}", p.problems);
    // …one more level is not, whether the nesting is plain or in a multipart.
    let p = parse(nested_rfc822(4).as_bytes(), &limits());
    assert!(
        p.problems
            .contains(&Problem::MimeTooDeep { depth: 5, limit: 4 }),
        "{:?}",
        p.problems
    );
    let in_multipart = format!(
        "From: a@b.c\r\nMessage-ID: <m@b.c>\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n\
         --X\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
         --X\r\nContent-Type: message/rfc822\r\n\r\n{}\r\n--X--\r\n",
        nested_rfc822(3)
    );
    let p = parse(in_multipart.as_bytes(), &limits());
    assert!(codes(&p).contains(&"mime-too-deep"), "{:?}", p.problems);
}

#[test]
fn a_thousand_nested_messages_are_too_deep_and_counted_only_past_the_limit() {
    let p = parse(nested_rfc822(1000).as_bytes(), &limits());
    assert!(
        p.problems
            .contains(&Problem::MimeTooDeep { depth: 5, limit: 4 }),
        "{:?}",
        p.problems
    );
    assert_eq!(p.subject, "level 0");
}

#[test]
fn clip_cuts_at_a_character_boundary_with_an_ellipsis() {
    assert_eq!(clip("short", 10), "short");
    assert_eq!(clip("exactly10!", 10), "exactly10!");
    assert_eq!(clip("eleven char", 10), "eleven ch…");
    assert_eq!(clip("ééééééééééé", 5), "éééé…");
    assert_eq!(clip("word    and more", 8), "word…");
    assert!(matches!(clip("kept", 4), Cow::Borrowed(_)));
}

#[test]
fn a_hundred_thousand_character_subject_is_kept_short() {
    let raw = format!(
        "From: \"{}\" <a@b.c>\r\nMessage-ID: <s@b.c>\r\nSubject: {}\r\n\r\nbody\r\n",
        "N".repeat(5000),
        "x".repeat(100_000)
    );
    let p = parse(raw.as_bytes(), &limits());
    assert_eq!(p.subject.chars().count(), MAX_SUBJECT_CHARS);
    assert!(p.subject.ends_with('…'));
    let name = p.from.and_then(|f| f.name).expect("name");
    assert_eq!(name.chars().count(), MAX_NAME_CHARS);
}
