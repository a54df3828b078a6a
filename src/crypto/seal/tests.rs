//! Sealed mail must open in sequoia and in GnuPG 2.2 (the oldest client we
//! expect reporters to use). The GnuPG tests need `gpg` on the PATH and fail
//! without it.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use lettre::message::header::ContentType;
use mail_parser::{MessageParser, MimeHeaders as _};
use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::crypto::SessionKey;
use sequoia_openpgp::packet::{PKESK, SKESK};
use sequoia_openpgp::parse::Parse as _;
use sequoia_openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, DetachedVerifierBuilder, MessageLayer, MessageStructure,
    VerificationHelper,
};
use sequoia_openpgp::serialize::SerializeInto as _;
use sequoia_openpgp::types::{Features, SymmetricAlgorithm};
use sequoia_openpgp::{Cert, KeyHandle};

use super::*;
use crate::crypto::autocrypt;

const SUBJECT: &str = "[SEC-2026-0001] Re: Heap overflow in the parser";
const BODY: &str = "Grüße,\r\nwe received your report and are looking into it.\r\n";

fn now() -> Timestamp {
    "2026-11-23T12:00:00Z".parse().unwrap()
}

fn a_day_earlier() -> std::time::SystemTime {
    system_time(now()) - Duration::from_secs(86_400)
}

fn builder(suite: CipherSuite, userid: &str) -> CertBuilder<'static> {
    CertBuilder::general_purpose(Some(userid))
        .set_cipher_suite(suite)
        .set_creation_time(a_day_earlier())
}

fn cert(suite: CipherSuite, userid: &str) -> Cert {
    builder(suite, userid).generate().unwrap().0
}

/// A certificate as GnuPG 2.2 makes them: it announces SEIPDv1 (MDC) only.
fn gpg_like_cert(suite: CipherSuite, userid: &str) -> Cert {
    builder(suite, userid)
        .set_features(Features::empty().set_seipdv1())
        .unwrap()
        .generate()
        .unwrap()
        .0
}

fn team(suite: CipherSuite) -> TeamKeys {
    TeamKeys::from_certs(
        vec![cert(suite, "Security Team <security@example.org>")],
        now(),
    )
    .unwrap()
}

fn mail_with(body: lettre::message::Body) -> Vec<u8> {
    lettre::Message::builder()
        .from("Security Team <security@example.org>".parse().unwrap())
        .to("Reporter <reporter@example.net>".parse().unwrap())
        .subject(SUBJECT)
        .message_id(Some("<m1@example.org>".into()))
        .in_reply_to("<r1@example.net>".into())
        .references("<r1@example.net>".into())
        .date(system_time(now()))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .unwrap()
        .formatted()
}

/// What compose.rs sends: lettre picks the transfer encoding (quoted-printable).
fn plain_mail() -> Vec<u8> {
    mail_with(lettre::message::Body::new(BODY.to_owned()))
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Decrypts with `key`'s secrets, checking every signature against `signer`.
struct Helper<'a> {
    key: &'a Cert,
    signer: &'a Cert,
    good_signatures: usize,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> sequoia_openpgp::Result<Vec<Cert>> {
        Ok(vec![self.signer.clone()])
    }

    fn check(&mut self, structure: MessageStructure) -> sequoia_openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                for result in results {
                    result.map_err(|err| anyhow::anyhow!("bad signature: {err}"))?;
                    self.good_signatures += 1;
                }
            }
        }
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> sequoia_openpgp::Result<Option<Cert>> {
        let p = policy();
        for ka in self
            .key
            .keys()
            .unencrypted_secret()
            .with_policy(&p, Some(system_time(now())))
            .for_transport_encryption()
        {
            let mut pair = ka.key().clone().into_keypair()?;
            for pkesk in pkesks {
                if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo)
                    && decrypt(algo, &sk)
                {
                    return Ok(None);
                }
            }
        }
        Err(anyhow::anyhow!("no key of ours opens this message"))
    }
}

/// The `encrypted.asc` payload of a PGP/MIME mail, after checking the structure.
fn payload(sealed: &[u8]) -> Vec<u8> {
    let message = MessageParser::default().parse(sealed).unwrap();
    let ct = message.content_type().unwrap();
    assert_eq!(ct.ctype(), "multipart");
    assert_eq!(ct.subtype(), Some("encrypted"));
    assert_eq!(ct.attribute("protocol"), Some("application/pgp-encrypted"));
    let parts = message.root_part().sub_parts().unwrap();
    assert_eq!(parts.len(), 2);
    let version = message.part(parts[0]).unwrap();
    assert_eq!(
        version.content_type().unwrap().subtype(),
        Some("pgp-encrypted")
    );
    assert!(contains(version.contents(), "Version: 1"));
    let data = message.part(parts[1]).unwrap();
    assert_eq!(data.content_type().unwrap().subtype(), Some("octet-stream"));
    assert_eq!(
        data.content_disposition().unwrap().attribute("filename"),
        Some("encrypted.asc")
    );
    data.contents().to_vec()
}

/// Decrypts `sealed` with `key`, asserting one good signature by `signer`.
fn open_with(sealed: &[u8], key: &Cert, signer: &Cert) -> Vec<u8> {
    let p = policy();
    let helper = Helper {
        key,
        signer,
        good_signatures: 0,
    };
    let payload = payload(sealed);
    let mut decryptor = DecryptorBuilder::from_bytes(&payload)
        .unwrap()
        .with_policy(&p, Some(system_time(now())), helper)
        .unwrap();
    let mut inner = Vec::new();
    std::io::Read::read_to_end(&mut decryptor, &mut inner).unwrap();
    assert_eq!(decryptor.helper_ref().good_signatures, 1);
    inner
}

fn assert_protected(inner: &[u8]) {
    let entity = MessageParser::default().parse(inner).unwrap();
    assert_eq!(entity.subject(), Some(SUBJECT));
    let from = entity.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("security@example.org"));
    assert_eq!(entity.message_id(), Some("m1@example.org"));
    let ct = entity.content_type().unwrap();
    assert_eq!(ct.ctype(), "text");
    assert_eq!(ct.attribute("protected-headers"), Some("v1"));
    assert_eq!(ct.attribute("hp"), Some("cipher"));
    assert_eq!(entity.body_text(0).unwrap(), BODY);
    assert!(contains(inner, "\r\nHP-Outer: Subject: ...\r\n"));
    assert!(contains(inner, "\r\nHP-Outer: To: "));
}

fn assert_outer(sealed: &[u8]) {
    assert!(!contains(sealed, SUBJECT));
    assert!(!contains(sealed, "Heap overflow"));
    let outer = MessageParser::default().parse(sealed).unwrap();
    assert_eq!(outer.subject(), Some("..."));
    assert_eq!(outer.message_id(), Some("m1@example.org"));
    assert_eq!(
        outer.to().unwrap().first().unwrap().address(),
        Some("reporter@example.net")
    );
    assert!(contains(
        sealed,
        "\r\n\r\nThis is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
    ));
    // Exactly one of each structural header.
    let text = String::from_utf8_lossy(sealed);
    let head = &text[..text.find("\r\n\r\n").unwrap()];
    assert_eq!(head.matches("\nSubject:").count(), 1);
    assert_eq!(head.matches("\nMIME-Version:").count(), 1);
    assert_eq!(head.matches("\nContent-Type:").count(), 1);
    assert!(!head.contains("Content-Transfer-Encoding"));
}

#[test]
fn encrypts_and_signs_for_sequoia_recipients_and_ourselves() {
    let team = team(CipherSuite::Cv25519);
    for suite in [CipherSuite::Cv25519, CipherSuite::RSA3k] {
        let reporter = cert(suite, "Reporter <reporter@example.net>");
        let sealed = encrypt(&plain_mail(), std::slice::from_ref(&reporter), &team, now()).unwrap();
        assert_outer(&sealed);
        let mine = team.current().clone().strip_secret_key_material();
        for key in [&reporter, team.current()] {
            let inner = open_with(&sealed, key, &mine);
            assert_protected(&inner);
        }
    }
}

#[test]
fn refuses_unusable_recipients() {
    let team = team(CipherSuite::Cv25519);
    assert!(matches!(
        encrypt(&plain_mail(), &[], &team, now()),
        Err(SealError::NoRecipients)
    ));
    let signing_only = CertBuilder::new()
        .add_userid("Reporter <reporter@example.net>")
        .add_signing_subkey()
        .set_creation_time(a_day_earlier())
        .generate()
        .unwrap()
        .0;
    let err = encrypt(
        &plain_mail(),
        std::slice::from_ref(&signing_only),
        &team,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, SealError::NoEncryptionKey { fingerprint, .. }
            if *fingerprint == signing_only.fingerprint().to_hex())
    );
    assert!(
        err.to_string()
            .contains(&signing_only.fingerprint().to_hex())
    );
}

#[test]
fn usable_for_encryption_needs_a_live_encryption_key() {
    let normal = cert(CipherSuite::Cv25519, "a <a@example.net>");
    assert!(usable_for_encryption(&normal, now()));
    // Created a day before now, valid for an hour.
    let expired = builder(CipherSuite::Cv25519, "b <b@example.net>")
        .set_validity_period(Duration::from_secs(3600))
        .generate()
        .unwrap()
        .0;
    assert!(!usable_for_encryption(&expired, now()));
    let (cert, revocation) = builder(CipherSuite::Cv25519, "c <c@example.net>")
        .generate()
        .unwrap();
    assert!(usable_for_encryption(&cert, now()));
    let revoked = cert.insert_packets(revocation).unwrap().0;
    assert!(!usable_for_encryption(&revoked, now()));
    let signing_only = CertBuilder::new()
        .add_userid("d <d@example.net>")
        .add_signing_subkey()
        .set_creation_time(a_day_earlier())
        .generate()
        .unwrap()
        .0;
    assert!(!usable_for_encryption(&signing_only, now()));
    // Not yet valid before its creation.
    assert!(!usable_for_encryption(
        &normal,
        now() - jiff::SignedDuration::from_hours(48)
    ));
}

#[test]
fn signs_with_the_hash_it_names() {
    for suite in [CipherSuite::Cv25519, CipherSuite::RSA3k] {
        let team = team(suite);
        let signed = sign(&plain_mail(), &team, now()).unwrap();
        let (part, signature) = signed_parts(&signed);
        let hash = match Packet::from_bytes(&signature).unwrap() {
            Packet::Signature(sig) => sig.hash_algo(),
            other => panic!("not a signature: {other:?}"),
        };
        let message = MessageParser::default().parse(&signed).unwrap();
        let ct = message.content_type().unwrap();
        assert_eq!(ct.attribute("micalg"), Some(micalg(hash).unwrap()));
        assert_eq!(message.subject(), Some(SUBJECT));
        assert_eq!(message.body_text(0).unwrap(), BODY);
        verify_with_sequoia(&part, &signature, team.current());
    }
}

#[test]
fn re_encodes_8bit_bodies_before_signing() {
    let team = team(CipherSuite::Cv25519);
    let mail = mail_with(
        lettre::message::Body::new_with_encoding(
            BODY.to_owned(),
            ContentTransferEncoding::EightBit,
        )
        .unwrap(),
    );
    assert!(contains(&mail, "Content-Transfer-Encoding: 8bit"));
    let signed = sign(&mail, &team, now()).unwrap();
    assert!(signed.iter().all(u8::is_ascii));
    let (part, signature) = signed_parts(&signed);
    assert!(contains(
        &part,
        "Content-Transfer-Encoding: quoted-printable\r\n"
    ));
    assert!(!contains(&part, "8bit"));
    verify_with_sequoia(&part, &signature, team.current());
    let message = MessageParser::default().parse(&signed).unwrap();
    assert_eq!(message.body_text(0).unwrap(), BODY);
}

#[test]
fn lf_only_input_is_canonicalised() {
    let team = team(CipherSuite::Cv25519);
    let mail: Vec<u8> = plain_mail().into_iter().filter(|b| *b != b'\r').collect();
    let signed = sign(&mail, &team, now()).unwrap();
    let (part, signature) = signed_parts(&signed);
    assert!(!part.windows(2).any(|w| w[0] != b'\r' && w[1] == b'\n'));
    verify_with_sequoia(&part, &signature, team.current());

    let reporter = cert(CipherSuite::Cv25519, "Reporter <reporter@example.net>");
    let sealed = encrypt(&mail, std::slice::from_ref(&reporter), &team, now()).unwrap();
    assert_protected(&open_with(&sealed, &reporter, team.current()));
}

/// Part 1 (exact bytes) and the signature of a `multipart/signed` mail.
fn signed_parts(signed: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let message = MessageParser::default().parse(signed).unwrap();
    let ct = message.content_type().unwrap();
    assert_eq!(ct.subtype(), Some("signed"));
    assert_eq!(ct.attribute("protocol"), Some("application/pgp-signature"));
    let boundary = ct.attribute("boundary").unwrap();
    let text = String::from_utf8(signed.to_vec()).unwrap();
    let open = format!("\r\n--{boundary}\r\n");
    let mut pieces = text.split(&open);
    let _preamble = pieces.next().unwrap();
    let part = pieces.next().unwrap();
    let sig_part = pieces.next().unwrap();
    assert!(pieces.next().is_none());
    let sig_part = sig_part
        .strip_suffix(&format!("\r\n--{boundary}--\r\n"))
        .unwrap();
    assert!(
        sig_part.starts_with("Content-Type: application/pgp-signature; name=\"signature.asc\"")
    );
    let signature = &sig_part[sig_part.find("\r\n\r\n").unwrap() + 4..];
    (part.as_bytes().to_vec(), signature.as_bytes().to_vec())
}

fn verify_with_sequoia(part: &[u8], signature: &[u8], signer: &Cert) {
    let p = policy();
    let helper = Helper {
        key: signer,
        signer,
        good_signatures: 0,
    };
    let mut verifier = DetachedVerifierBuilder::from_bytes(signature)
        .unwrap()
        .with_policy(&p, Some(system_time(now())), helper)
        .unwrap();
    verifier.verify_bytes(part).unwrap();
    assert_eq!(verifier.helper_ref().good_signatures, 1);
}

/// A throwaway GnuPG home; its agent is stopped on drop.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Self {
        let home = tempfile::Builder::new().prefix("gpg").tempdir().unwrap();
        std::fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        Self { home }
    }

    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--no-tty", "--trust-model", "always"])
            .args(args)
            .output()
            .expect("GnuPG (`gpg`) must be installed for the interop tests")
    }

    fn run_ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn import(&self, name: &str, data: &[u8]) {
        let path = self.file(name, data);
        self.run_ok(&["--import", path.to_str().unwrap()]);
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "all"])
            .status();
    }
}

/// GnuPG decrypts `sealed` and finds a good signature by `team`.
fn gpg_opens(gpg: &Gpg, sealed: &[u8], team: &Cert) {
    let encrypted = gpg.file("encrypted.asc", &payload(sealed));
    let plain = gpg.home.path().join("plain.eml");
    let status = gpg.run_ok(&[
        "--status-fd",
        "1",
        "--output",
        plain.to_str().unwrap(),
        "--decrypt",
        encrypted.to_str().unwrap(),
    ]);
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    assert!(status.contains("[GNUPG:] GOODSIG "), "{status}");
    assert_validsig(&status, team);
    let inner = std::fs::read(plain).unwrap();
    assert_protected(&inner);
}

/// `VALIDSIG <signing key> … <primary key>`: made by a key of `team`'s cert.
fn assert_validsig(status: &str, team: &Cert) {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG "))
        .unwrap_or_else(|| panic!("no VALIDSIG in {status}"));
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(
        fields.last(),
        Some(&team.fingerprint().to_hex().as_str()),
        "{line}"
    );
    assert!(
        team.keys()
            .any(|k| k.key().fingerprint().to_hex() == fields[0]),
        "{line}"
    );
}

#[test]
fn gnupg_decrypts_and_verifies_for_cv25519_and_rsa_recipients() {
    let team = team(CipherSuite::Cv25519);
    for suite in [CipherSuite::Cv25519, CipherSuite::RSA3k] {
        let reporter = gpg_like_cert(suite, "Reporter <reporter@example.net>");
        let sealed = encrypt(&plain_mail(), std::slice::from_ref(&reporter), &team, now()).unwrap();
        let gpg = Gpg::new();
        gpg.import(
            "reporter.asc",
            &reporter.as_tsk().armored().to_vec().unwrap(),
        );
        gpg.import("team.asc", &team.current().armored().to_vec().unwrap());
        gpg_opens(&gpg, &sealed, team.current());
    }
}

#[test]
fn gnupg_made_keys_get_a_message_gnupg_reads() {
    let team = team(CipherSuite::Cv25519);
    // GnuPG's default (RSA-3072) and its Curve25519 keys.
    for algo in [&[][..], &["future-default", "default", "never"][..]] {
        let gpg = Gpg::new();
        // Made "a day ago" in our fixed time, so the key is valid at `now()`.
        let mut args = vec![
            "--faked-system-time",
            "20261122T120000!",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Reporter <reporter@example.net>",
        ];
        args.extend_from_slice(algo);
        gpg.run_ok(&args);
        let exported = gpg.run_ok(&["--armor", "--export", "reporter@example.net"]);
        let reporter = Cert::from_bytes(exported.as_bytes()).unwrap();
        assert!(usable_for_encryption(&reporter, now()));
        gpg.import("team.asc", &team.current().armored().to_vec().unwrap());
        let sealed = encrypt(&plain_mail(), &[reporter], &team, now()).unwrap();
        gpg_opens(&gpg, &sealed, team.current());
    }
}

#[test]
fn gnupg_verifies_signed_mail() {
    for suite in [CipherSuite::Cv25519, CipherSuite::RSA3k] {
        let team = team(suite);
        let eight_bit = mail_with(
            lettre::message::Body::new_with_encoding(
                BODY.to_owned(),
                ContentTransferEncoding::EightBit,
            )
            .unwrap(),
        );
        for mail in [plain_mail(), eight_bit] {
            let signed = sign(&mail, &team, now()).unwrap();
            let (part, signature) = signed_parts(&signed);
            let gpg = Gpg::new();
            gpg.import("team.asc", &team.current().armored().to_vec().unwrap());
            let part = gpg.file("part1", &part);
            let signature = gpg.file("signature.asc", &signature);
            let status = gpg.run_ok(&[
                "--status-fd",
                "1",
                "--verify",
                signature.to_str().unwrap(),
                part.to_str().unwrap(),
            ]);
            assert!(status.contains("[GNUPG:] GOODSIG "), "{status}");
            assert_validsig(&status, team.current());
        }
    }
}

#[test]
fn autocrypt_header_is_folded_and_minimal() {
    let cert = builder(CipherSuite::Cv25519, "Security Team <security@example.org>")
        .add_userid("Other <other@example.org>")
        .generate()
        .unwrap()
        .0;
    let line = autocrypt::header_line(&cert, "security@example.org", now()).unwrap();
    assert!(
        line.starts_with(
            "Autocrypt: addr=security@example.org; prefer-encrypt=mutual; keydata=\r\n "
        )
    );
    assert!(line.ends_with("\r\n"));
    for l in line.strip_suffix("\r\n").unwrap().split("\r\n") {
        assert!(l.len() <= 78, "{l:?} is too long");
        assert!(!l.trim().is_empty());
    }
    let value = autocrypt::header_value(&cert, "security@example.org", now()).unwrap();
    let unfolded: String = line["Autocrypt: ".len()..].replace("\r\n", "");
    let (head, keydata) = value.split_once("keydata=").unwrap();
    assert_eq!(head, "addr=security@example.org; prefer-encrypt=mutual; ");
    assert_eq!(unfolded.replace(' ', ""), value.replace(' ', ""));

    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(keydata)
        .unwrap();
    let minimal = Cert::from_bytes(&bytes).unwrap();
    assert_eq!(minimal.fingerprint(), cert.fingerprint());
    assert!(!minimal.is_tsk());
    let uids: Vec<String> = minimal
        .userids()
        .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
        .collect();
    assert_eq!(uids, ["Security Team <security@example.org>"]);
    assert_eq!(minimal.keys().subkeys().count(), 1);
    assert!(usable_for_encryption(&minimal, now()));

    // The user id for another address of the same cert.
    let other = autocrypt::header_value(&cert, "Other@Example.org", now()).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(other.split_once("keydata=").unwrap().1)
        .unwrap();
    let minimal = Cert::from_bytes(&bytes).unwrap();
    let uid = minimal.userids().next().unwrap();
    assert_eq!(uid.userid().value(), b"Other <other@example.org>");

    assert!(matches!(
        autocrypt::header_value(&cert, "a@b; prefer-encrypt=nopreference", now()),
        Err(SealError::Address { .. })
    ));
    assert!(matches!(
        autocrypt::header_value(&cert, "a@b\r\nBcc: x@y", now()),
        Err(SealError::Address { .. })
    ));
}

#[test]
fn adds_a_header_at_the_end_of_the_header_block() {
    let mail = plain_mail();
    let line = "Autocrypt: addr=a@example.org; keydata=\r\n AAAA\r\n";
    let added = autocrypt::add_header(&mail, line);
    let end = header_end(&mail);
    assert_eq!(&added[..end], &mail[..end]);
    assert_eq!(&added[end..end + line.len()], line.as_bytes());
    assert_eq!(&added[end + line.len()..], &mail[end..]);
    let parsed = MessageParser::default().parse(&added).unwrap();
    assert_eq!(
        parsed.header_raw("Autocrypt").map(str::trim),
        Some("addr=a@example.org; keydata=\r\n AAAA")
    );
    assert_eq!(parsed.body_text(0).unwrap(), BODY);

    // Without a line end, and on a mail that is only headers.
    assert_eq!(
        autocrypt::add_header(b"From: a@b\r\n\r\nbody", "X: y"),
        b"From: a@b\r\nX: y\r\n\r\nbody"
    );
    assert_eq!(
        autocrypt::add_header(b"From: a@b", "X: y"),
        b"From: a@b\r\nX: y\r\n"
    );
    assert_eq!(
        autocrypt::add_header(b"From: a@b\n\nbody\n\nmore", "X: y\r\n"),
        b"From: a@b\nX: y\r\n\nbody\n\nmore"
    );
}

#[test]
fn keeps_bcc_out_of_the_encrypted_part() {
    let team = team(CipherSuite::Cv25519);
    let reporter = cert(CipherSuite::Cv25519, "Reporter <reporter@example.net>");
    let mail = b"From: security@example.org\r\nTo: reporter@example.net\r\n\
        Bcc: hidden@example.org\r\nSubject: secret\r\n\r\nplain body\r\n";
    let sealed = encrypt(mail, std::slice::from_ref(&reporter), &team, now()).unwrap();
    let inner = open_with(&sealed, &reporter, team.current());
    assert!(!contains(&inner, "hidden@example.org"));
    let entity = MessageParser::default().parse(&inner).unwrap();
    assert_eq!(entity.subject(), Some("secret"));
    let ct = entity.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("plain")));
    assert_eq!(ct.attribute("protected-headers"), Some("v1"));
    assert_eq!(entity.body_text(0).unwrap(), "plain body\r\n");
    assert!(!contains(&sealed, "secret"));
}

#[test]
fn rejects_what_is_not_a_mail() {
    let team = team(CipherSuite::Cv25519);
    assert!(matches!(sign(b"", &team, now()), Err(SealError::Mail(_))));
    assert!(matches!(
        sign(b"not a header\r\n\r\nbody", &team, now()),
        Err(SealError::Mail(_))
    ));
    let multipart = b"From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\
        Content-Transfer-Encoding: 8bit\r\n\r\n--x\r\n\r\n\xc3\xa4\r\n--x--\r\n";
    assert!(matches!(
        sign(multipart, &team, now()),
        Err(SealError::Mail(_))
    ));
}
