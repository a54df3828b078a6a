//! PGP/MIME (RFC 3156) encrypted mail: key types, signatures inside and
//! outside the encryption, nesting, recipients, and every way it fails.

use super::*;

#[test]
fn pgp_mime_decrypts_with_a_cv25519_key_and_keeps_protected_headers() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(&crlf(INNER), &[k.team()], None));
    let opened = open_as(&mail, &[k.team()], &[]);
    assert_eq!(opened.form, Form::PgpMime);
    assert_eq!(
        opened.encryption,
        Encryption::Decrypted {
            key: fingerprint(k.team()),
            algorithm: "AES256/OCB".into()
        }
    );
    assert_eq!(opened.signature, Signature::None);
    let inner = opened.inner.unwrap();
    assert!(inner.ends_with(b"\r\n"));
    let entity = parse(&inner);
    assert_eq!(entity.subject(), Some("Heap overflow in the parser"));
    assert_eq!(
        entity.body_text(0).unwrap().trim_end(),
        "The parser overflows on long input. Grüße"
    );
    assert!(is_encrypted_form(&mail));
}

#[test]
fn pgp_mime_decrypts_with_an_rsa_key_and_binary_payload() {
    let k = keys();
    // Binary ciphertext in a base64 part, as some clients send it.
    let binary = encrypt_full(&crlf(INNER), &[k.old()], None, None);
    let mut b64 = Vec::new();
    mime::base64_lines(&binary, &mut b64);
    let mail = String::from_utf8(pgp_mime_mail(b"PLACEHOLDER"))
        .unwrap()
        .replace(
            "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n",
            "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\
             Content-Transfer-Encoding: base64\r\n",
        )
        .replace("PLACEHOLDER", &String::from_utf8(b64).unwrap());
    let opened = open_as(mail.as_bytes(), &[k.old()], &[]);
    assert_eq!(
        opened.encryption,
        Encryption::Decrypted {
            key: fingerprint(k.old()),
            algorithm: "AES256".into()
        }
    );
    let inner = opened.inner.unwrap();
    assert_eq!(parse(&inner).subject(), Some("Heap overflow in the parser"));
}

#[test]
fn pgp_mime_rfc9580_key_uses_seipd_v2() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(&crlf(INNER), &[k.v6()], Some(k.reporter())));
    let opened = open_as(&mail, &[k.v6()], &[k.reporter()]);
    match &opened.encryption {
        Encryption::Decrypted { key, algorithm } => {
            assert_eq!(key, &fingerprint(k.v6()));
            assert!(algorithm.ends_with("/OCB"), "{algorithm}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
    let inner = opened.inner.unwrap();
    assert_eq!(parse(&inner).subject(), Some("Heap overflow in the parser"));
}

#[test]
fn signed_then_encrypted_reports_the_signer() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(&crlf(INNER), &[k.team()], Some(k.reporter())));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    assert_eq!(decrypted_key(&opened), fingerprint(k.team()));
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
    assert!(opened.inner.is_some());
}

#[test]
fn encrypted_multipart_signed_verifies_the_detached_signature() {
    let k = keys();
    let entity = signed_entity(SIGNED_PART, k.reporter());
    let mail = pgp_mime_mail(&encrypt(entity.as_bytes(), &[k.team()], None));
    let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
    assert_eq!(opened.form, Form::PgpMime);
    assert_eq!(decrypted_key(&opened), fingerprint(k.team()));
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
    let inner = opened.inner.unwrap();
    assert_eq!(inner, entity.as_bytes());
    assert!(
        parse(&inner)
            .body_text(0)
            .unwrap()
            .contains("Signed report: the parser overflows.")
    );
}

#[test]
fn nested_pgp_mime_is_opened_up_to_the_depth_limit() {
    let k = keys();
    let innermost = encrypt(&crlf(INNER), &[k.team()], None);
    let middle = String::from_utf8(pgp_mime_mail(&innermost)).unwrap();
    // The inner entity is the PGP/MIME message without its RFC 5322 headers.
    let middle = middle
        .split_once("MIME-Version: 1.0\r\n")
        .unwrap()
        .1
        .to_owned();
    let mail = pgp_mime_mail(&encrypt(middle.as_bytes(), &[k.team()], None));

    let opened = open_as(&mail, &[k.team()], &[]);
    assert_eq!(decrypted_key(&opened), fingerprint(k.team()));
    let inner = opened.inner.unwrap();
    assert_eq!(parse(&inner).subject(), Some("Heap overflow in the parser"));

    let shallow = CryptoLimits {
        max_depth: 1,
        ..limits()
    };
    let keys = team(&[k.team()]);
    let opened = open(&mail, Some(REPORTER), Some(&keys), &(), &shallow, now());
    assert_eq!(failure(&opened).0, FailReason::Limit);
}

#[test]
fn multi_recipient_message_opens_with_our_key() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(&crlf(INNER), &[k.reporter(), k.team()], None));
    let opened = open_as(&mail, &[k.team()], &[]);
    assert_eq!(decrypted_key(&opened), fingerprint(k.team()));
}

#[test]
fn rotated_out_key_still_decrypts_and_its_absence_is_named() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(&crlf(INNER), &[k.old()], None));
    let opened = open_as(&mail, &[k.team(), k.old()], &[]);
    assert_eq!(decrypted_key(&opened), fingerprint(k.old()));

    let opened = open_as(&mail, &[k.team()], &[]);
    let (reason, _, recipients) = failure(&opened);
    assert_eq!(reason, FailReason::NoKey);
    let old_subkeys: Vec<String> = k
        .old()
        .keys()
        .subkeys()
        .flat_map(|s| [s.key().keyid().to_hex(), s.key().fingerprint().to_hex()])
        .collect();
    assert_eq!(recipients.len(), 1);
    assert!(old_subkeys.contains(&recipients[0]), "{recipients:?}");
}

#[test]
fn no_team_keys_means_no_key() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(&crlf(INNER), &[k.team()], None));
    let opened = open(&mail, Some(REPORTER), None, &(), &limits(), now());
    let (reason, _, recipients) = failure(&opened);
    assert_eq!(reason, FailReason::NoKey);
    assert_eq!(recipients.len(), 1);
}

#[test]
fn corrupt_and_truncated_ciphertext_fail_without_plaintext() {
    let k = keys();
    let binary = encrypt_full(&crlf(INNER), &[k.team()], Some(k.reporter()), None);
    let mut flipped = binary.clone();
    let at = flipped.len() - 30;
    flipped[at] ^= 0x55;
    let truncated = &binary[..binary.len() * 2 / 3];
    for bad in [flipped.as_slice(), truncated] {
        let mail = pgp_mime_mail(&armored(bad));
        let opened = open_as(&mail, &[k.team()], &[k.reporter()]);
        let (reason, detail, _) = failure(&opened);
        assert_eq!(reason, FailReason::Corrupt, "{detail}");
    }
    // Not OpenPGP at all.
    let mail =
        pgp_mime_mail(b"-----BEGIN PGP MESSAGE-----\n\nbm9uc2Vuc2U=\n-----END PGP MESSAGE-----\n");
    assert_eq!(
        failure(&open_as(&mail, &[k.team()], &[])).0,
        FailReason::Corrupt
    );
}

#[test]
#[expect(deprecated, reason = "a client still sending 3DES is what this tests")]
fn rejected_algorithm_is_unsupported() {
    let k = keys();
    let to = [keys().old()];
    let mut sink = Vec::new();
    let message = Message::new(&mut sink);
    let message = Armorer::new(message).build().unwrap();
    let message = encryptor(message, &to)
        .symmetric_algo(SymmetricAlgorithm::TripleDES)
        .build()
        .unwrap();
    let mut message = LiteralWriter::new(message).build().unwrap();
    message.write_all(&crlf(INNER)).unwrap();
    message.finalize().unwrap();
    let opened = open_as(&pgp_mime_mail(&sink), &[k.old()], &[]);
    let (reason, detail, _) = failure(&opened);
    assert_eq!(reason, FailReason::Unsupported, "{detail}");
}
