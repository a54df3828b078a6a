//! Keys a message carries: Autocrypt headers and key attachments, outside
//! and inside the encryption.

use super::*;

#[test]
fn autocrypt_header_key_is_found_and_used() {
    let k = keys();
    let mut keydata = Vec::new();
    mime::base64_lines(&k.reporter().to_vec().unwrap(), &mut keydata);
    let keydata = String::from_utf8(keydata).unwrap().replace("\r\n", "\r\n ");
    let mail = signed_mail(k.reporter()).replacen(
        "MIME-Version: 1.0\r\n",
        &format!(
            "MIME-Version: 1.0\r\nAutocrypt: addr=Reporter@Example.org; prefer-encrypt=mutual;\r\n \
             _extra=1; keydata=\r\n {}\r\n",
            keydata.trim_end()
        ),
        1,
    );
    let opened = open_as(mail.as_bytes(), &[k.team()], &[]);
    assert_eq!(opened.keys.len(), 1);
    let key = &opened.keys[0];
    assert_eq!(key.source, KeySource::Autocrypt);
    assert_eq!(key.addr.as_deref(), Some(REPORTER));
    assert_eq!(key.cert.fingerprint(), k.reporter().fingerprint());
    assert!(!key.cert.is_tsk(), "secret key material kept");
    // No key on file: the header's key verifies the signature.
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
}

#[test]
fn autocrypt_parse_header_rules() {
    let k = keys();
    let mut b64 = Vec::new();
    mime::base64_lines(&k.reporter().to_vec().unwrap(), &mut b64);
    let keydata = String::from_utf8(b64).unwrap();
    let (addr, cert) =
        autocrypt::parse_header(&format!(" addr=A@B.example; _x=y; keydata={keydata}")).unwrap();
    assert_eq!(addr, "a@b.example");
    assert_eq!(cert.fingerprint(), k.reporter().fingerprint());
    assert!(!cert.is_tsk());
    // An unknown critical attribute makes the header invalid.
    assert!(autocrypt::parse_header(&format!("addr=a@b; color=red; keydata={keydata}")).is_none());
    assert!(autocrypt::parse_header(&format!("keydata={keydata}")).is_none());
    assert!(autocrypt::parse_header("addr=a@b; keydata=bm9uc2Vuc2U=").is_none());
}

#[test]
fn attached_key_is_found_stripped_and_verifies() {
    let k = keys();
    // The reporter attaches their key, secrets included by mistake.
    let tsk = String::from_utf8(k.reporter().as_tsk().armored().to_vec().unwrap()).unwrap();
    assert!(tsk.contains("PRIVATE KEY"));
    let signed = format!(
        "Content-Type: multipart/mixed; boundary=\"mix\"\n\
         \n\
         --mix\n\
         Content-Type: text/plain\n\
         \n\
         My key is attached.\n\
         --mix\n\
         Content-Type: application/pgp-keys; name=\"key.asc\"\n\
         Content-Disposition: attachment; filename=\"key.asc\"\n\
         \n\
         {tsk}\
         --mix\n\
         Content-Type: application/pgp-keys; name=\"garbage.asc\"\n\
         \n\
         not a key\n\
         --mix--\n"
    );
    let headers = String::from_utf8(crlf(HEADERS)).unwrap();
    let mail = format!("{headers}{}", signed_entity(&signed, k.reporter()));
    let opened = open_as(mail.as_bytes(), &[k.team()], &[]);
    assert_eq!(opened.keys.len(), 1);
    assert_eq!(opened.keys[0].source, KeySource::Attachment);
    assert_eq!(
        opened.keys[0].cert.fingerprint(),
        k.reporter().fingerprint()
    );
    assert!(!opened.keys[0].cert.is_tsk(), "secret key material kept");
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
}

#[test]
fn key_inside_the_encryption_verifies_the_signature_too() {
    let k = keys();
    let inner = format!(
        "Content-Type: multipart/mixed; boundary=\"inner\"; protected-headers=\"v1\"\n\
         Subject: With key\n\
         \n\
         --inner\n\
         Content-Type: text/plain\n\
         \n\
         Key attached.\n\
         --inner\n\
         Content-Type: application/pgp-keys\n\
         \n\
         {}\
         --inner--\n",
        armored_cert(k.reporter())
    );
    let mail = pgp_mime_mail(&encrypt(&crlf(&inner), &[k.team()], Some(k.reporter())));
    let opened = open_as(&mail, &[k.team()], &[]);
    assert_eq!(opened.keys.len(), 1);
    assert_eq!(opened.keys[0].source, KeySource::Encrypted);
    assert_eq!(
        valid_signer(&opened),
        (fingerprint(k.reporter()).as_str(), true)
    );
}

#[test]
fn plain_mail_is_plain() {
    let k = keys();
    let mail = crlf(&format!(
        "{HEADERS}Content-Type: text/plain\n\nJust text.\n"
    ));
    let opened = open_as(&mail, &[k.team()], &[]);
    assert_eq!(opened.form, Form::Plain);
    assert_eq!(opened.encryption, Encryption::None);
    assert_eq!(opened.signature, Signature::None);
    assert!(opened.inner.is_none() && opened.keys.is_empty());
    assert!(!is_encrypted_form(&mail));
    let opened = open(b"", None, None, &(), &limits(), now());
    assert_eq!(opened.form, Form::Plain);
}
