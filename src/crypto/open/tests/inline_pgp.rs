//! Inline PGP: armored blocks in text, encrypted attachments, cleartext
//! signatures, and the entity rebuilt from them.

use super::*;

#[test]
fn inline_armored_text_with_non_ascii_is_rebuilt() {
    let k = keys();
    let secret = "Grüße, 日本\nThe token is in /etc/app.conf.\n";
    let block =
        String::from_utf8(encrypt(secret.as_bytes(), &[k.team()], Some(k.reporter()))).unwrap();
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\n\
         \n\
         Hello team,\n\
         \n\
         {block}\n\
         Regards\n"
    ));
    assert!(is_encrypted_form(&mail));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    assert_eq!(opened.form, Form::Inline);
    assert_eq!(decrypted_key(&opened), fingerprint(k.team()));
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
    let inner = opened.inner.unwrap();
    let entity = parse(&inner);
    assert_eq!(entity.subject(), Some("..."));
    assert_eq!(entity.message_id(), Some("m1@example.org"));
    assert_eq!(
        entity
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some(REPORTER)
    );
    let text = entity.body_text(0).unwrap();
    assert!(text.contains("Hello team,"), "{text}");
    assert!(text.contains(secret), "{text}");
    assert!(text.contains("Regards"), "{text}");
    assert!(!text.contains("BEGIN PGP"), "{text}");
}

#[test]
fn inline_latin1_charset_armor_header_is_honoured() {
    let k = keys();
    let block = String::from_utf8(encrypt(b"Gr\xfc\xdfe", &[k.team()], None)).unwrap();
    let block = block.replacen(
        "-----BEGIN PGP MESSAGE-----\n",
        "-----BEGIN PGP MESSAGE-----\nCharset: ISO-8859-1\n",
        1,
    );
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=us-ascii\n\n{block}\n"
    ));
    let opened = open_as(&mail, &[k.team()], &[]);
    let inner = opened.inner.unwrap();
    assert!(parse(&inner).body_text(0).unwrap().contains("Grüße"));
}

#[test]
fn inline_encrypted_attachments_lose_their_suffix() {
    let k = keys();
    let poc = b"#!/usr/bin/env python3\nprint('A' * 4096)\n";
    let report = "Détails du rapport\n".as_bytes();
    let mut poc_b64 = Vec::new();
    mime::base64_lines(&encrypt_full(poc, &[k.team()], None, None), &mut poc_b64);
    let report_armored = String::from_utf8(encrypt(report, &[k.team()], None)).unwrap();
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: multipart/mixed; boundary=\"mix\"\n\
         \n\
         --mix\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         Two files attached.\n\
         --mix\n\
         Content-Type: application/octet-stream; name=\"poc.py.pgp\"\n\
         Content-Disposition: attachment; filename=\"poc.py.pgp\"\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {}\
         --mix\n\
         Content-Type: application/pgp-encrypted; name=\"report.txt.GPG\"\n\
         Content-Disposition: attachment; filename=\"report.txt.GPG\"\n\
         \n\
         {report_armored}\
         --mix\n\
         Content-Type: text/x-log; name=\"crash.log\"\n\
         Content-Disposition: attachment; filename=\"crash.log\"\n\
         \n\
         segfault at 0\n\
         --mix--\n",
        String::from_utf8(poc_b64).unwrap()
    ));
    assert!(is_encrypted_form(&mail));
    let opened = open_as(&mail, &[k.team()], &[]);
    assert_eq!(opened.form, Form::Inline);
    assert_eq!(decrypted_key(&opened), fingerprint(k.team()));
    let inner = opened.inner.unwrap();
    let entity = parse(&inner);
    assert!(entity.body_text(0).unwrap().contains("Two files attached."));
    let files: Vec<(String, Vec<u8>)> = entity
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or_default().to_owned(),
                a.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            ("poc.py".to_owned(), poc.to_vec()),
            ("report.txt".to_owned(), report.to_vec()),
            ("crash.log".to_owned(), b"segfault at 0".to_vec()),
        ]
    );
}

#[test]
fn cleartext_signed_inline_is_verified_and_unescaped() {
    let k = keys();
    let text = "Advisory draft\n- item one\n-----BEGIN not armor\nÄnderung\n";
    let block = clearsigned(text, k.reporter());
    assert!(block.contains("- -----BEGIN not armor"), "dash-escaped");
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain; charset=utf-8\n\nIntro\n{block}Outro\n"
    ));
    assert!(!is_encrypted_form(&mail));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    assert_eq!(opened.form, Form::Inline);
    assert_eq!(opened.encryption, Encryption::None);
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
    let inner = opened.inner.unwrap();
    let body = parse(&inner).body_text(0).unwrap().into_owned();
    let body = body.replace("\r\n", "\n");
    assert!(
        body.contains("Intro\nAdvisory draft\n- item one\n-----BEGIN not armor\nÄnderung"),
        "{body}"
    );
    assert!(body.contains("Outro"));
    assert!(!body.contains("BEGIN PGP"), "{body}");
}

#[test]
fn inline_failure_keeps_nothing() {
    let k = keys();
    let good = String::from_utf8(encrypt(b"readable", &[k.team()], None)).unwrap();
    let key = String::from_utf8(encrypt(
        armored_cert(k.reporter()).as_bytes(),
        &[k.team()],
        None,
    ))
    .unwrap();
    let foreign = String::from_utf8(encrypt(b"not for us", &[k.reporter()], None)).unwrap();
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: multipart/mixed; boundary=\"mix\"\n\
         \n\
         --mix\n\
         Content-Type: text/plain\n\
         \n\
         {good}\n\
         --mix\n\
         Content-Type: application/octet-stream; name=\"key.asc.pgp\"\n\
         \n\
         {key}\
         --mix\n\
         Content-Type: application/octet-stream; name=\"other.txt.pgp\"\n\
         \n\
         {foreign}\
         --mix--\n"
    ));
    let opened = open_as(&mail, &[k.team()], &[]);
    assert_eq!(opened.form, Form::Inline);
    let (reason, _, recipients) = failure(&opened);
    assert_eq!(reason, FailReason::NoKey);
    assert_eq!(recipients.len(), 1);
    // The key came from inside a message we could not fully read.
    assert!(opened.keys.is_empty());

    // Readable, the same encrypted key attachment is found.
    let mail = String::from_utf8(mail)
        .unwrap()
        .replace(&String::from_utf8(crlf(&foreign)).unwrap(), "");
    let opened = open_as(mail.as_bytes(), &[k.team()], &[]);
    assert_eq!(decrypted_key(&opened), fingerprint(k.team()));
    assert_eq!(opened.keys.len(), 1);
    assert_eq!(opened.keys[0].source, KeySource::Encrypted);
}

#[test]
fn inline_blocks_split_at_markers() {
    let text = "Hi\n-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----\nBye\n";
    assert_eq!(
        inline::blocks(text),
        vec![
            inline::Block::Text("Hi\n"),
            inline::Block::Message("-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----"),
            inline::Block::Text("\nBye\n"),
        ]
    );
    // Quoted markers are not blocks; an unterminated block runs to the end.
    assert_eq!(
        inline::blocks("> -----BEGIN PGP MESSAGE-----\n"),
        vec![inline::Block::Text("> -----BEGIN PGP MESSAGE-----\n")]
    );
    assert_eq!(
        inline::blocks("-----BEGIN PGP MESSAGE-----\r\nabc"),
        vec![inline::Block::Message("-----BEGIN PGP MESSAGE-----\r\nabc")]
    );
}

#[test]
fn inline_text_decoding() {
    let block = "-----BEGIN PGP MESSAGE-----\nVersion: X\nCharset: ISO-8859-1\n\nabc\n";
    assert_eq!(inline::armor_charset(block), Some("ISO-8859-1"));
    assert_eq!(
        inline::decode_text(vec![0x47, 0x72, 0xFC], Some("ISO-8859-1")),
        "Grü"
    );
    assert_eq!(inline::decode_text("Grüße".into(), None), "Grüße");
    assert_eq!(inline::decode_text(vec![0xFC], None), "ü");
}

#[test]
fn binary_openpgp_tags() {
    assert!(inline::looks_encrypted(&[0xC1, 0x00])); // new-format PKESK
    assert!(inline::looks_encrypted(&[0x84, 0x00])); // old-format PKESK
    assert!(inline::looks_encrypted(&[0x8C, 0x00])); // old-format SKESK
    assert!(!inline::looks_encrypted(&[0xC6, 0x00])); // public key
    assert!(!inline::looks_encrypted(b"hello"));
}
