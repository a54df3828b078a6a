//! What a valid signature covers (`Opened::signed`): only the signed content,
//! whatever unsigned text or parts surround it.

use super::*;

/// The text of the covered entity.
fn covered_text(opened: &Opened) -> String {
    let signed = opened.signed.as_ref().expect("a valid signature");
    parse(&signed.entity)
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n"))
        .unwrap_or_default()
}

#[test]
fn a_cleartext_block_covers_only_itself_not_the_text_around_it() {
    let k = keys();
    let block = clearsigned("Lunch at noon?\n", k.reporter());
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=utf-8\n\n\
         #state rejected\nSEC-2026-0042\n\n{block}\nPS: unsigned\n"
    ));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    assert_eq!(opened.form, Form::Inline);
    let signed = opened.signed.as_ref().expect("covered");
    assert_eq!(signed.signer(), fingerprint(k.reporter()));
    assert!(signed.unsigned_rest, "text around the block is flagged");
    let text = covered_text(&opened);
    assert!(text.contains("Lunch at noon?"), "{text}");
    for absent in ["#state", "SEC-2026-0042", "PS: unsigned", "BEGIN PGP"] {
        assert!(
            !text.contains(absent),
            "{absent:?} counted as signed: {text}"
        );
    }
    // The readable entity still shows everything, for the team to read.
    let inner = String::from_utf8_lossy(opened.inner.as_deref().unwrap()).into_owned();
    assert!(!inner.is_empty());
}

#[test]
fn a_wholly_signed_body_has_no_unsigned_rest() {
    let k = keys();
    let block = clearsigned("#severity high\n\nConfirmed.\n", k.reporter());
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=utf-8\n\n\n{block}\n\n"
    ));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    let signed = opened.signed.as_ref().expect("covered");
    assert!(!signed.unsigned_rest);
    assert!(covered_text(&opened).contains("#severity high\n\nConfirmed."));
}

#[test]
fn blocks_of_another_signer_are_not_joined_to_the_chosen_one() {
    let k = keys();
    let mine = clearsigned("From the reporter.\n", k.reporter());
    let other = clearsigned("#state rejected\n", k.team());
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=utf-8\n\n{other}\n{mine}\n"
    ));
    // Only the reporter's key is known: the team-key block is by an unknown key.
    let opened = open_as(&mail, &[k.old()], &[k.reporter(), k.team()]);
    let signed = opened.signed.as_ref().expect("covered");
    // Signed by the From address's key first: the reporter's block.
    assert_eq!(signed.signer(), fingerprint(k.reporter()));
    assert!(
        signed.unsigned_rest,
        "the other signer's block is not covered"
    );
    let text = covered_text(&opened);
    assert!(text.contains("From the reporter."), "{text}");
    assert!(!text.contains("#state"), "{text}");
}

#[test]
fn an_encrypted_and_signed_block_covers_its_plaintext_and_nothing_outside() {
    let k = keys();
    let block = String::from_utf8(encrypt(
        b"Signed and sealed.\n",
        &[k.team()],
        Some(k.reporter()),
    ))
    .unwrap();
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=utf-8\n\nOutside.\n{block}\n"
    ));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    let text = covered_text(&opened);
    assert!(text.contains("Signed and sealed."), "{text}");
    assert!(!text.contains("Outside."), "{text}");
    assert!(opened.signed.as_ref().unwrap().unsigned_rest);
}

#[test]
fn an_encrypted_block_without_a_signature_covers_nothing() {
    let k = keys();
    let block = String::from_utf8(encrypt(b"#state rejected\n", &[k.team()], None)).unwrap();
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=utf-8\n\n{block}\n"
    ));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    assert!(opened.signed.is_none());
}

#[test]
fn multipart_signed_covers_its_first_part_and_flags_parts_after_the_signature() {
    let k = keys();
    let whole = signed_mail(k.reporter());
    let opened = open_as(whole.as_bytes(), &[k.team()], &[k.reporter()]);
    let signed = opened.signed.as_ref().expect("covered");
    assert!(!signed.unsigned_rest);
    assert!(covered_text(&opened).contains("Signed report: the parser overflows."));

    let with_extra = whole.replace(
        "\r\n--sig--\r\n",
        "\r\n--sig\r\nContent-Type: text/plain\r\n\r\n#state rejected SEC-2026-0042\r\n--sig--\r\n",
    );
    let opened = open_as(with_extra.as_bytes(), &[k.team()], &[k.reporter()]);
    let signed = opened.signed.as_ref().expect("still valid over part 1");
    assert!(signed.unsigned_rest);
    let text = covered_text(&opened);
    assert!(!text.contains("#state"), "{text}");
    assert!(!text.contains("SEC-2026-0042"), "{text}");
}

#[test]
fn pgp_mime_signed_inside_the_encryption_covers_the_whole_entity_with_its_headers() {
    let k = keys();
    let inner = crlf(
        "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\n\
         To: security+SEC-2026-0042@example.com\n\
         Subject: Re: [SEC-2026-0042]\n\n#reply\nThanks.\n",
    );
    let mail = pgp_mime_mail(&encrypt(&inner, &[k.team()], Some(k.reporter())));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    let signed = opened.signed.as_ref().expect("covered");
    assert!(!signed.unsigned_rest);
    let entity = parse(&signed.entity);
    assert_eq!(entity.subject(), Some("Re: [SEC-2026-0042]"));
    assert_eq!(
        entity
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("security+SEC-2026-0042@example.com")
    );
}

#[test]
fn a_bad_signature_covers_nothing() {
    let k = keys();
    let tampered = signed_mail(k.reporter()).replace("overflows", "underflows");
    let opened = open_as(tampered.as_bytes(), &[k.team()], &[k.reporter()]);
    assert!(matches!(opened.signature, Signature::Bad { .. }));
    assert!(opened.signed.is_none());
}
