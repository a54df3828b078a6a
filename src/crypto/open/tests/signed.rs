//! `multipart/signed` mail and what a signature check reports.

use super::*;

#[test]
fn multipart_signed_verifies_with_crlf_and_with_lf() {
    let k = keys();
    let mail = signed_mail(k.reporter());
    let lf = mail.replace("\r\n", "\n");
    for raw in [mail.as_bytes(), lf.as_bytes()] {
        let opened = open_as(raw, &[k.team()], &[k.reporter()]);
        assert_eq!(opened.form, Form::Signed);
        assert_eq!(opened.encryption, Encryption::None);
        assert!(opened.inner.is_none());
        assert_eq!(
            valid_signer(&opened),
            (fingerprint(k.reporter()).as_str(), true)
        );
    }
    assert!(!is_encrypted_form(mail.as_bytes()));
}

#[test]
fn tampered_signed_content_is_bad() {
    let k = keys();
    let mail = signed_mail(k.reporter()).replace("overflows", "underflows");
    let opened = open_as(mail.as_bytes(), &[k.team()], &[k.reporter()]);
    match &opened.signature {
        Signature::Bad { signer, .. } => {
            assert_eq!(signer.as_deref(), Some(fingerprint(k.reporter()).as_str()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_signer_names_the_issuer() {
    let k = keys();
    let mail = pgp_mime_mail(&encrypt(&crlf(INNER), &[k.team()], Some(k.reporter())));
    let opened = open_as(&mail, &[k.team()], &[]);
    let signing_key = signing_pair(k.reporter()).public().fingerprint().to_hex();
    assert_eq!(
        opened.signature,
        Signature::UnknownKey {
            issuer: signing_key
        }
    );
    assert!(opened.inner.is_some());
}

#[test]
fn from_matches_only_for_the_certs_address() {
    let k = keys();
    let mail = signed_mail(k.reporter());
    let known = Known(vec![k.reporter().clone()]);
    let keys = team(&[k.team()]);
    for (from, matches) in [
        (Some("Reporter@Example.org"), true),
        (Some("someone.else@example.org"), false),
        (None, false),
    ] {
        let opened = open(mail.as_bytes(), from, Some(&keys), &known, &limits(), now());
        let Signature::Valid {
            signer,
            from_matches,
            created,
            digest,
        } = &opened.signature
        else {
            panic!("not valid: {:?}", opened.signature);
        };
        assert_eq!(signer, &fingerprint(k.reporter()));
        assert_eq!(*from_matches, matches);
        assert!(created.is_some_and(|t| t <= now()), "{created:?}");
        assert_eq!(digest.len(), 64, "a SHA-256 in hex");
    }
}

#[test]
fn signed_range_excludes_delimiter() {
    // mail-parser's part range ends before the CRLF that belongs to the
    // boundary; the signed bytes must not include it.
    let raw = crlf(
        "Content-Type: multipart/signed; boundary=b; protocol=\"application/pgp-signature\"\n\
         \n\
         --b\n\
         Content-Type: text/plain\n\
         \n\
         body\n\
         \n\
         --b\n\
         Content-Type: application/pgp-signature\n\
         \n\
         SIG\n\
         --b--\n",
    );
    let message = parse(&raw);
    let (signed, signature) = mime::signed_parts(&message).unwrap();
    assert_eq!(signed, b"Content-Type: text/plain\r\n\r\nbody\r\n");
    assert_eq!(signature, b"SIG");
}

#[test]
fn mime_helpers() {
    assert_eq!(mime::to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    let mut out = Vec::new();
    mime::base64_lines(b"hello world", &mut out);
    assert_eq!(out, b"aGVsbG8gd29ybGQ=\r\n");
    assert_eq!(
        mime::filename_param("filename", "a b.txt"),
        "filename=\"a b.txt\""
    );
    assert_eq!(
        mime::filename_param("filename", "bericht-ü.txt"),
        "filename*=utf-8''bericht-%C3%BC.txt"
    );
    assert_eq!(
        mime::boundary(b"x=_disclosed_inline_0y"),
        "=_disclosed_inline_1"
    );
}
