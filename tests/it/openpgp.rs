//! OpenPGP interoperability: mail written by GnuPG and Sequoia's `sq`
//! is decrypted and verified, reporters' keys are learned, and what the daemon
//! sends back decrypts and verifies with the reporter's own tools.

use std::time::Duration;

use disclosed::store::{MessageView, ReportDetail};

use crate::common::{
    ALICE, Env, assert_metadata_only, assert_team_notified, body_text, header, outbox,
    parse_subject, the_ack_row, y,
};
use crate::mailstack::{MailStack, unique};
use crate::pgp::{
    Algo, Gpg, Part, Sq, armor_message, base64, contains, content_type, crlf, encrypted_payload,
    grouped, headers, inline_mail, inner_entity, lf, mail_with, multipart_signed, pgp_mime,
    quoted_printable, text_entity, unbase64, verify_signed_mail, write_secret,
};

const RITA: &str = "rita@researcher.example";
const RITA_FROM: &str = "Rita Reporter <rita@researcher.example>";
const TEAM_UID: &str = "Example Security <security@example.org>";

/// The team's key pair, as the team's own GnuPG holds it.
struct Team {
    gpg: Gpg,
    fpr: String,
}

impl Team {
    fn new(algo: Algo) -> Self {
        let gpg = Gpg::new();
        let fpr = gpg.generate(TEAM_UID, algo);
        Self { gpg, fpr }
    }

    /// Installs the secret key as `name` (mode 0600) in `env`'s directory.
    fn install(&self, env: &Env, name: &str) {
        write_secret(&env.path(name), &self.gpg.export_secret(&self.fpr));
    }

    fn public(&self) -> Vec<u8> {
        self.gpg.export_public(&self.fpr)
    }
}

/// An installation whose team key (of `algo`) is `team.key`; `extra` is more
/// config (`[openpgp]` keys first, then other sections).
fn team_env(algo: Algo, extra: &str) -> (Env, Team) {
    let team = Team::new(algo);
    let env = team_installation(&team, extra, &[]);
    (env, team)
}

/// An installation with `team`'s key as `team.key`, `extra` config and `files`
/// (name, content) written before `init` checks them.
fn team_installation(team: &Team, extra: &str, files: &[(&str, &[u8])]) -> Env {
    let env =
        Env::with_file_transport(&format!("[openpgp]\nsecret_keys = [\"team.key\"]\n{extra}"));
    team.install(&env, "team.key");
    for (name, content) in files {
        std::fs::write(env.path(name), content).expect("write a file of the installation");
    }
    env.init();
    env
}

/// Rita, the researcher, with GnuPG and the team's public key imported.
fn rita(algo: Algo, team_public: &[u8]) -> (Gpg, String) {
    let gpg = Gpg::new();
    let fpr = gpg.generate(RITA_FROM, algo);
    gpg.import(team_public);
    (gpg, fpr)
}

/// Report `seq` with each message's readable text filled in.
fn detail(env: &Env, seq: u32) -> ReportDetail {
    let mut d = env.report(seq);
    disclosed::cli::fill_text(
        &env.store(),
        &mut d.messages,
        &disclosed::config::Limits::default(),
    )
    .expect("fill in the text");
    d
}

fn kinds(d: &ReportDetail) -> Vec<&str> {
    d.events.iter().map(|e| e.kind.as_str()).collect()
}

fn event<'d>(d: &'d ReportDetail, kind: &str) -> &'d serde_json::Value {
    &d.events
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {:?}", kinds(d)))
        .detail
}

/// `(openpgp, encryption, signature)` of a message.
fn crypto(m: &MessageView) -> (&str, &str, &str) {
    (&m.openpgp, &m.encryption, &m.signature)
}

fn attachment_names(m: &MessageView) -> Vec<String> {
    let mut names: Vec<String> = m
        .attachments
        .iter()
        .filter_map(|a| a.name.clone())
        .collect();
    names.sort();
    names
}

fn assert_raw_kept(env: &Env, m: &MessageView, delivered: &[u8]) {
    let stored = env
        .store()
        .read()
        .raw_message(&m.sha256)
        .expect("read")
        .expect("raw kept");
    assert!(stored == delivered, "the raw message is not byte-exact");
}

/// The files the file transport wrote to `address`.
fn sent_to(env: &Env, address: &str) -> Vec<Vec<u8>> {
    env.sent_to(address)
}

/// Asserts the one mail to Alice (no key of hers is configured) is the team's
/// notification of report 1, signed by the team and holding none of `secrets`.
fn assert_signed_metadata_notice(env: &Env, team: &Team, secrets: &[&str]) {
    let notices = sent_to(env, ALICE);
    assert_eq!(notices.len(), 1, "one notification to the team");
    let d = env.report(1);
    assert_team_notified(&d, 1);
    assert_eq!(env.sent_of(&d, "notification"), notices);
    assert_metadata_only(&notices[0], &y("SEC-2026-0001"), secrets);
    let status = verify_signed_mail(&team.gpg, &notices[0]);
    assert_validsig(&status, &team.fpr);
}

/// The one mail sent to Rita.
fn the_ack(env: &Env) -> Vec<u8> {
    let mut acks = sent_to(env, RITA);
    assert_eq!(acks.len(), 1, "one mail to the reporter");
    acks.remove(0)
}

/// Asserts `status` (gpg's) has a good signature by the key `fpr`.
fn assert_validsig(status: &str, fpr: &str) {
    let ok = status
        .lines()
        .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.split(' ').skip(2).any(|f| f == fpr));
    assert!(ok, "no VALIDSIG by {fpr} in:\n{status}");
}

/// Decrypts a PGP/MIME mail with `gpg` and asserts it decrypted and carries a
/// good signature by `signer`: the decrypted entity.
fn decrypt_and_verify(gpg: &Gpg, mail: &[u8], signer: &str) -> (Vec<u8>, String) {
    let (plain, status) = gpg.decrypt(&encrypted_payload(mail));
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    assert_validsig(&status, signer);
    (plain, status)
}

/// The subject and text of a decrypted entity, for searching.
fn readable(entity: &[u8]) -> String {
    format!(
        "{}\n{}",
        parse_subject(entity).unwrap_or_default(),
        body_text(entity)
    )
}

/// Asserts the `Autocrypt:` header of `mail` announces `fpr` for the program.
fn assert_autocrypt(gpg: &Gpg, mail: &[u8], fpr: &str) {
    let value = header(mail, "Autocrypt").expect("an Autocrypt header");
    assert!(value.contains("addr=security@example.org"), "{value}");
    let keydata = value
        .split(';')
        .find_map(|a| a.trim().strip_prefix("keydata="))
        .expect("keydata");
    assert_eq!(gpg.show_fingerprints(&unbase64(keydata)), [fpr.to_owned()]);
}

/// An `Autocrypt:` header line (folded, CRLF-terminated) for `cert` (binary).
fn autocrypt_header(addr: &str, cert: &[u8]) -> String {
    let data = base64(cert);
    let lines: Vec<&str> = data
        .as_bytes()
        .chunks(72)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "Autocrypt: addr={addr}; prefer-encrypt=mutual; keydata=\r\n {}\r\n",
        lines.join("\r\n ")
    )
}

fn key_part(data: &[u8]) -> Part<'_> {
    Part {
        name: "rita.asc",
        content_type: "application/pgp-keys",
        data,
    }
}

const POC: &[u8] = b"#!/usr/bin/env python3\nprint('A' * 70000)\n";

#[test]
fn gpg_rsa_pgp_mime_signed_and_encrypted_with_the_key_inside_is_read_and_answered_encrypted() {
    let (env, team) = team_env(Algo::Rsa3072, "");
    let (gpg, fpr) = rita(Algo::Rsa3072, &team.public());
    let key = gpg.export_public(&fpr);
    let inner = inner_entity(
        "Heap overflow in the thumbnailer",
        RITA_FROM,
        "A crafted PNG overflows the heap in thumbnail().\nRun the attached script.\n",
        &[
            Part {
                name: "poc.py",
                content_type: "text/x-python",
                data: POC,
            },
            key_part(&key),
        ],
    );
    // gpg --sign --encrypt: signed, then encrypted.
    let armored = gpg.encrypt(&inner, &[&team.fpr, &fpr], Some(&fpr));
    let raw = pgp_mime(
        &headers(RITA_FROM, "...", "enc1@researcher.example", ""),
        &armored,
    );
    env.deliver(&raw);
    let out = env.run_once();
    assert!(out.contains("opened 1 report"), "{out}");

    let d = detail(&env, 1);
    assert_eq!(d.summary.subject, "Heap overflow in the thumbnailer");
    let m = &d.messages[0];
    assert_raw_kept(&env, m, &raw);
    assert_eq!(crypto(m), ("pgp-mime", "decrypted", "valid"));
    let enc = m.encryption_detail.as_ref().expect("encryption detail");
    assert_eq!(enc["key"], team.fpr.as_str(), "{enc}");
    assert!(
        enc["algorithm"].as_str().is_some_and(|a| !a.is_empty()),
        "{enc}"
    );
    assert_eq!(m.signer.as_deref(), Some(fpr.as_str()));
    assert_eq!(m.signer_matches_from, Some(true));
    assert!(
        m.text.contains("A crafted PNG overflows the heap"),
        "{}",
        m.text
    );
    let names = attachment_names(m);
    assert!(names.contains(&"poc.py".to_owned()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.ends_with("encrypted.asc")),
        "{names:?}"
    );
    assert!(m.problems.is_empty(), "{:?}", m.problems);

    // Rita's key was learned from inside the encrypted part.
    assert_eq!(d.keys.len(), 1, "{:?}", d.keys);
    assert_eq!(
        (
            d.keys[0].address.as_str(),
            d.keys[0].fingerprint.as_str(),
            d.keys[0].source.as_str(),
            d.keys[0].status.as_str()
        ),
        (RITA, fpr.as_str(), "encrypted-attachment", "current")
    );
    assert_eq!(event(&d, "key-learned")["fingerprint"], fpr.as_str());
    // A key a mail carries does not prove it is Rita's: the acknowledgement
    // waits until a round trip through her mailbox confirms it.
    assert_eq!(the_ack_row(&d).status, "needs-key");
    crate::keys::confirm_by_round_trip(&env, &gpg, &team.fpr, RITA_FROM, 1);
    let d = detail(&env, 1);
    assert_eq!(event(&d, "held-mail-released")["key"], fpr.as_str());

    // The acknowledgement: PGP/MIME, nothing of the report outside, readable by Rita.
    let ack = env.sent_of(&d, "acknowledgement").remove(0);
    assert_eq!(content_type(&ack), "multipart/encrypted");
    assert_eq!(header(&ack, "Subject").as_deref(), Some("..."));
    assert!(!contains(&ack, "thumbnailer"), "the subject leaked");
    assert_autocrypt(&gpg, &ack, &team.fpr);
    let (plain, status) = decrypt_and_verify(&gpg, &ack, &team.fpr);
    for keyid in [gpg.encryption_keyid(&fpr), gpg.encryption_keyid(&team.fpr)] {
        assert!(
            status.contains(&format!("[GNUPG:] ENC_TO {keyid}")),
            "not encrypted to {keyid}:\n{status}"
        );
    }
    let text = readable(&plain);
    assert!(text.contains(&y("SEC-2026-0001")), "{text}");
    assert!(text.contains("Heap overflow in the thumbnailer"), "{text}");
    assert_eq!(d.outbox[0].status, "sent");

    // `report --json` says the same.
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["report", &y("SEC-2026-0001"), "--json"])).expect("JSON");
    let m = &json["messages"][0];
    assert_eq!(m["openpgp"], "pgp-mime");
    assert_eq!(m["encryption"], "decrypted");
    assert_eq!(m["signature"], "valid");
    assert_eq!(m["signer"], fpr.as_str());
    assert!(
        m["text"]
            .as_str()
            .is_some_and(|t| t.contains("A crafted PNG overflows the heap")),
        "{m}"
    );
}

#[test]
fn sq_curve25519_signed_and_encrypted_with_an_autocrypt_header_is_valid() {
    sq_signed_and_encrypted_with_an_autocrypt_header("cv25519", Algo::Curve25519);
}

#[test]
fn sq_rsa3k_signed_and_encrypted_with_an_autocrypt_header_is_valid() {
    sq_signed_and_encrypted_with_an_autocrypt_header("rsa3k", Algo::Rsa3072);
}

/// Rita uses `sq` with a key of cipher suite `suite`; the team key is `team_algo`.
fn sq_signed_and_encrypted_with_an_autocrypt_header(suite: &str, team_algo: Algo) {
    let (env, team) = team_env(team_algo, "");
    let sq = Sq::new();
    let key = sq.generate("rita", RITA_FROM, suite);
    let team_cert = sq.write_cert("team.cert", &team.public());
    let inner = inner_entity(
        "SSRF in the webhook tester",
        RITA_FROM,
        "The webhook tester fetches http://169.254.169.254/ for anyone.\n",
        &[],
    );
    let armored = sq.encrypt(&inner, &[&team_cert, &key.cert], Some(&key.key));
    let raw = pgp_mime(
        &headers(
            RITA_FROM,
            "...",
            "sq1@researcher.example",
            &autocrypt_header(RITA, &key.cert_bytes()),
        ),
        &armored,
    );
    env.deliver(&raw);
    env.run_once();

    let d = detail(&env, 1);
    assert_eq!(d.summary.subject, "SSRF in the webhook tester");
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("pgp-mime", "decrypted", "valid"));
    assert_eq!(m.signer.as_deref(), Some(key.fingerprint.as_str()));
    assert_eq!(m.signer_matches_from, Some(true));
    assert!(m.text.contains("169.254.169.254"), "{}", m.text);
    assert_eq!(
        d.keys
            .iter()
            .map(|k| (k.fingerprint.as_str(), k.source.as_str(), k.status.as_str()))
            .collect::<Vec<_>>(),
        [(key.fingerprint.as_str(), "autocrypt", "current")]
    );

    // Sequoia reads the confirmation of the key Autocrypt announced, and
    // answers it encrypted.
    let confirmation = the_ack(&env);
    assert_eq!(
        env.sent_of(&d, "key-confirmation"),
        std::slice::from_ref(&confirmation)
    );
    let plain = sq
        .decrypt(&encrypted_payload(&confirmation), &key.key, &team_cert)
        .unwrap_or_else(|err| panic!("sq cannot read the confirmation: {err}"));
    let text = body_text(&plain);
    let at = text.find("key-confirm-").expect("a token");
    let token = &text[at..at + "key-confirm-".len() + 32];
    let answer = inner_entity(
        "Re: Please confirm your OpenPGP key",
        RITA_FROM,
        &format!("> {token}\n"),
        &[],
    );
    let reply_to = header(&confirmation, "Reply-To").expect("Reply-To");
    env.deliver(&pgp_mime(
        &format!(
            "From: {RITA_FROM}\r\nTo: {reply_to}\r\nSubject: ...\r\n\
             Message-ID: <sq2@researcher.example>\r\n"
        ),
        &sq.encrypt(&answer, &[&team_cert], None),
    ));
    env.run_once();

    // Sequoia reads and verifies the acknowledgement.
    let d = detail(&env, 1);
    let ack = env.sent_of(&d, "acknowledgement").remove(0);
    let plain = sq
        .decrypt(&encrypted_payload(&ack), &key.key, &team_cert)
        .unwrap_or_else(|err| panic!("sq cannot read the acknowledgement: {err}"));
    let text = readable(&plain);
    assert!(text.contains(&y("SEC-2026-0001")), "{text}");
    assert!(text.contains("SSRF in the webhook tester"), "{text}");
}

#[test]
fn multipart_signed_inside_pgp_mime_is_verified() {
    let (env, team) = team_env(Algo::Rsa3072, "");
    let (gpg, fpr) = rita(Algo::Curve25519, &team.public());
    let key = gpg.export_public(&fpr);
    let part1 = text_entity(
        "Path traversal in /download?file=../../etc/passwd\n",
        &[key_part(&key)],
    );
    let signed = multipart_signed(&part1, &gpg.sign_detached(&part1, &fpr));
    // Encrypted only: the signature is the MIME one inside.
    let armored = gpg.encrypt(&signed, &[&team.fpr], None);
    let raw = pgp_mime(
        &headers(
            RITA_FROM,
            "Path traversal",
            "nested1@researcher.example",
            "",
        ),
        &armored,
    );
    env.deliver(&raw);
    env.run_once();

    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("pgp-mime", "decrypted", "valid"));
    assert_eq!(m.signer.as_deref(), Some(fpr.as_str()));
    assert!(m.text.contains("Path traversal in /download"), "{}", m.text);
    assert_eq!(d.keys.len(), 1, "{:?}", d.keys);
    assert_eq!(d.keys[0].source, "encrypted-attachment");
    decrypt_and_verify(&gpg, &the_ack(&env), &team.fpr);
}

/// Rita signs (not encrypts) a report; `line_ending` turns the mail into what
/// the Maildir holds. Returns the env, the team, Rita's gpg and fingerprint and
/// the delivered bytes.
fn signed_only(
    keyring: bool,
    tamper: bool,
    line_ending: fn(&[u8]) -> Vec<u8>,
) -> (Env, Team, Gpg, String, Vec<u8>) {
    let extra = if keyring {
        "keyring = \"keyring.pgp\"\n"
    } else {
        ""
    };
    let team = Team::new(Algo::Curve25519);
    let (gpg, fpr) = rita(Algo::Rsa3072, &team.public());
    let public = gpg.export_public(&fpr);
    let files: &[(&str, &[u8])] = if keyring {
        &[("keyring.pgp", &public)]
    } else {
        &[]
    };
    let env = team_installation(&team, extra, files);
    let part1 = text_entity(
        "The admin API listens on port 8080 without authentication.\nGrüße, Rita\n",
        &[],
    );
    let signature = gpg.sign_detached(&part1, &fpr);
    let part1 = if tamper {
        String::from_utf8(part1)
            .expect("utf-8")
            .replace("8080", "8081")
            .into_bytes()
    } else {
        part1
    };
    let raw = line_ending(&mail_with(
        &headers(
            RITA_FROM,
            "Unauthenticated admin API",
            "signed1@researcher.example",
            "",
        ),
        &multipart_signed(&part1, &signature),
    ));
    env.deliver(&raw);
    env.run_once();
    (env, team, gpg, fpr, raw)
}

fn unchanged(raw: &[u8]) -> Vec<u8> {
    raw.to_vec()
}

fn assert_signed_by_unknown_key(line_ending: fn(&[u8]) -> Vec<u8>) {
    let (env, team, gpg, fpr, raw) = signed_only(false, false, line_ending);
    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_raw_kept(&env, m, &raw);
    assert_eq!(crypto(m), ("signed", "none", "unknown-key"));
    assert_eq!(m.signer.as_deref(), Some(fpr.as_str()));
    assert!(m.text.contains("port 8080"), "{}", m.text);
    assert!(d.keys.is_empty(), "{:?}", d.keys);

    // No key, wrote in clear: the answer is signed, and gpg verifies it.
    let ack = the_ack(&env);
    let status = verify_signed_mail(&gpg, &ack);
    assert_validsig(&status, &team.fpr);
    assert_autocrypt(&gpg, &ack, &team.fpr);
    assert_eq!(
        parse_subject(&ack).as_deref(),
        Some(y("[SEC-2026-0001] Re: Unauthenticated admin API").as_str())
    );
    assert_eq!(event(&d, "acknowledgement-queued")["protection"], "signed");
}

#[test]
fn signed_only_by_an_unknown_key_is_recorded_and_answered_signed() {
    assert_signed_by_unknown_key(unchanged);
}

#[test]
fn signed_only_by_an_unknown_key_with_lf_line_endings() {
    assert_signed_by_unknown_key(lf);
}

fn assert_signed_by_keyring_key(line_ending: fn(&[u8]) -> Vec<u8>) {
    let (env, team, gpg, fpr, raw) = signed_only(true, false, line_ending);
    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_raw_kept(&env, m, &raw);
    assert_eq!(crypto(m), ("signed", "none", "valid"));
    assert_eq!(m.signer.as_deref(), Some(fpr.as_str()));
    assert_eq!(m.signer_matches_from, Some(true));
    assert_eq!(
        d.keys
            .iter()
            .map(|k| (k.fingerprint.as_str(), k.source.as_str(), k.status.as_str()))
            .collect::<Vec<_>>(),
        [(fpr.as_str(), "keyring", "current")]
    );
    // A key is known: the answer is encrypted to it.
    let (plain, _) = decrypt_and_verify(&gpg, &the_ack(&env), &team.fpr);
    assert!(readable(&plain).contains(&y("SEC-2026-0001")));
}

#[test]
fn signed_only_by_a_keyring_key_is_valid_and_answered_encrypted() {
    assert_signed_by_keyring_key(unchanged);
}

#[test]
fn signed_only_by_a_keyring_key_with_lf_line_endings_is_valid() {
    assert_signed_by_keyring_key(lf);
}

#[test]
fn a_tampered_signed_message_is_bad() {
    let (env, _team, _gpg, fpr, _raw) = signed_only(true, true, unchanged);
    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("signed", "none", "bad"));
    assert_eq!(m.signer.as_deref(), Some(fpr.as_str()));
    assert!(
        m.problems.iter().any(|p| p.starts_with("bad-signature:")),
        "{:?}",
        m.problems
    );
    assert!(m.text.contains("port 8081"), "{}", m.text);
}

const UNICODE_TEXT: &str =
    "Grüße aus Köln – 日本語\nDer Export-Endpunkt gibt fremde Rechnungen heraus.\n";

#[test]
fn inline_armored_text_with_non_ascii_and_encrypted_attachments_is_decrypted() {
    let (env, team) = team_env(Algo::Rsa3072, "");
    let (gpg, _fpr) = rita(Algo::Curve25519, &team.public());
    let body = gpg.encrypt(UNICODE_TEXT.as_bytes(), &[&team.fpr], None);
    let trace = "GET /export?invoice=1042 HTTP/1.1\n200 OK\n".repeat(20);
    let poc_pgp = gpg.encrypt_with(POC, &[&team.fpr], None, &[]);
    let trace_pgp = gpg.encrypt_with(trace.as_bytes(), &[&team.fpr], None, &[]);
    let raw = inline_mail(
        &headers(
            RITA_FROM,
            "IDOR in the invoice export",
            "inline1@researcher.example",
            "",
        ),
        &body,
        &[
            Part {
                name: "poc.py.pgp",
                content_type: "application/octet-stream",
                data: &poc_pgp,
            },
            Part {
                name: "trace.log.pgp",
                content_type: "application/octet-stream",
                data: &trace_pgp,
            },
        ],
    );
    env.deliver(&raw);
    env.run_once();

    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_raw_kept(&env, m, &raw);
    assert_eq!(crypto(m), ("inline", "decrypted", "none"));
    assert_eq!(
        m.encryption_detail.as_ref().expect("detail")["key"],
        team.fpr.as_str()
    );
    assert_eq!(
        String::from_utf8(lf(m.text.as_bytes()))
            .expect("utf-8")
            .trim_end(),
        UNICODE_TEXT.trim_end()
    );
    assert_eq!(attachment_names(m), ["poc.py", "trace.log"]);
    let sizes: Vec<(Option<&str>, u64)> = m
        .attachments
        .iter()
        .map(|a| (a.name.as_deref(), a.size))
        .collect();
    assert!(
        sizes.contains(&(Some("poc.py"), POC.len() as u64)),
        "{sizes:?}"
    );
    assert!(
        sizes.contains(&(Some("trace.log"), trace.len() as u64)),
        "{sizes:?}"
    );
    // Rita wrote encrypted and no key of hers is known: nothing goes out in clear.
    assert!(sent_to(&env, RITA).is_empty());
    assert_eq!(the_ack_row(&d).status, "needs-key");
    // Alice has no key either: her notice holds no report content.
    assert_signed_metadata_notice(
        &env,
        &team,
        &[
            "IDOR in the invoice export",
            "Grüße aus Köln",
            "Der Export-Endpunkt",
            "poc.py",
            "trace.log",
        ],
    );
}

#[test]
fn inline_armor_in_a_quoted_printable_body_is_decrypted() {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, _fpr) = rita(Algo::Curve25519, &team.public());
    let armored = gpg.encrypt(UNICODE_TEXT.as_bytes(), &[&team.fpr], None);
    // Some mail programs send every text part quoted-printable: the armor's
    // base64 padding and checksum line then read `=3D`.
    let raw = mail_with(
        &headers(RITA_FROM, "IDOR", "qp1@researcher.example", ""),
        &[
            &b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"[..],
            &quoted_printable(&crlf(&armored)),
        ]
        .concat(),
    );
    assert!(contains(&raw, "=3D"), "the armor has no `=` to encode");
    env.deliver(&raw);
    env.run_once();

    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("inline", "decrypted", "none"));
    assert_eq!(
        String::from_utf8(lf(m.text.as_bytes()))
            .expect("utf-8")
            .trim_end(),
        UNICODE_TEXT.trim_end()
    );
}

#[test]
fn an_encoded_protected_subject_is_decoded() {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, _fpr) = rita(Algo::Curve25519, &team.public());
    let inner = inner_entity(
        "=?utf-8?q?XSS_in_der_Gr=C3=BC=C3=9Fkarte_=E2=80=93_K=C3=B6ln?=",
        RITA_FROM,
        "Details inside.\n",
        &[],
    );
    let armored = gpg.encrypt(&inner, &[&team.fpr], None);
    env.deliver(&pgp_mime(
        &headers(RITA_FROM, "...", "enc-subject1@researcher.example", ""),
        &armored,
    ));
    env.run_once();
    assert_eq!(
        detail(&env, 1).summary.subject,
        "XSS in der Grüßkarte – Köln"
    );
}

#[test]
fn cleartext_signed_inline_with_the_key_attached_is_valid() {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, fpr) = rita(Algo::Curve25519, &team.public());
    let key = gpg.export_public(&fpr);
    let signed = gpg.clearsign(
        b"Hello team,\n\nthe password reset token is predictable (it is the time in ms).\n\nRita\n",
        &fpr,
    );
    let raw = mail_with(
        &headers(
            RITA_FROM,
            "Predictable reset tokens",
            "clear1@researcher.example",
            "",
        ),
        &text_entity(
            std::str::from_utf8(&signed).expect("utf-8"),
            &[key_part(&key)],
        ),
    );
    env.deliver(&raw);
    env.run_once();

    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("inline", "none", "valid"));
    assert_eq!(m.signer.as_deref(), Some(fpr.as_str()));
    assert!(m.text.contains("reset token is predictable"), "{}", m.text);
    assert_eq!(d.keys.len(), 1, "{:?}", d.keys);
    assert_eq!(
        (d.keys[0].source.as_str(), d.keys[0].status.as_str()),
        ("attachment", "current")
    );
    decrypt_and_verify(&gpg, &the_ack(&env), &team.fpr);
}

#[test]
fn mail_with_hidden_recipients_is_decrypted() {
    let (env, team) = team_env(Algo::Rsa3072, "");
    let (gpg, fpr) = rita(Algo::Curve25519, &team.public());
    let inner = inner_entity(
        "SQL injection in search",
        RITA_FROM,
        "The q parameter reaches the query unescaped.\n",
        &[],
    );
    // --throw-keyids: wildcard key ids, as for Bcc-style hidden recipients.
    let armored = gpg.encrypt_with(
        &inner,
        &[&fpr, &team.fpr],
        None,
        &["--armor", "--throw-keyids"],
    );
    env.deliver(&pgp_mime(
        &headers(RITA_FROM, "...", "hidden1@researcher.example", ""),
        &armored,
    ));
    env.run_once();

    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("pgp-mime", "decrypted", "none"));
    assert_eq!(
        m.encryption_detail.as_ref().expect("detail")["key"],
        team.fpr.as_str()
    );
    assert_eq!(d.summary.subject, "SQL injection in search");
}

#[test]
fn mail_encrypted_to_the_team_and_two_others_is_decrypted() {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, _fpr) = rita(Algo::Rsa3072, &team.public());
    let colleague = gpg.generate("Colin <colin@researcher.example>", Algo::Curve25519);
    let lawyer = gpg.generate("Lou <lou@law.example>", Algo::Rsa3072);
    let inner = inner_entity(
        "Account takeover via OAuth state",
        RITA_FROM,
        "The OAuth state parameter is not bound to the session.\n",
        &[],
    );
    let armored = gpg.encrypt(&inner, &[&colleague, &team.fpr, &lawyer], None);
    env.deliver(&pgp_mime(
        &headers(
            RITA_FROM,
            "...",
            "multi1@researcher.example",
            "Cc: colin@researcher.example\r\n",
        ),
        &armored,
    ));
    env.run_once();

    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("pgp-mime", "decrypted", "none"));
    assert_eq!(
        m.encryption_detail.as_ref().expect("detail")["key"],
        team.fpr.as_str()
    );
    assert_eq!(d.summary.subject, "Account takeover via OAuth state");
    assert!(m.text.contains("not bound to the session"), "{}", m.text);
}

/// A team with an old and a new key (both Curve25519, the same user id).
fn rotated_team() -> (Gpg, String, String) {
    let gpg = Gpg::new();
    let old = gpg.generate(TEAM_UID, Algo::Curve25519);
    let new = gpg.generate(TEAM_UID, Algo::Curve25519);
    (gpg, old, new)
}

#[test]
fn after_a_rotation_the_old_key_still_decrypts_and_the_new_one_signs() {
    let (team, old, new) = rotated_team();
    let env = Env::with_file_transport("[openpgp]\nsecret_keys = [\"new.key\", \"old.key\"]\n");
    write_secret(&env.path("new.key"), &team.export_secret(&new));
    write_secret(&env.path("old.key"), &team.export_secret(&old));
    env.init();
    let (gpg, fpr) = rita(Algo::Rsa3072, &team.export_public(&old));
    let key = gpg.export_public(&fpr);
    let inner = inner_entity(
        "CSRF on the settings page",
        RITA_FROM,
        "No token.\n",
        &[key_part(&key)],
    );
    // Rita still has the old key only.
    let armored = gpg.encrypt(&inner, &[&old], Some(&fpr));
    env.deliver(&pgp_mime(
        &headers(RITA_FROM, "...", "rot1@researcher.example", ""),
        &armored,
    ));
    env.run_once();

    let d = detail(&env, 1);
    let m = &d.messages[0];
    assert_eq!(crypto(m), ("pgp-mime", "decrypted", "valid"));
    assert_eq!(
        m.encryption_detail.as_ref().expect("detail")["key"],
        old.as_str()
    );
    // The answer is signed by the first (new) key and announces it.
    gpg.import(&team.export_public(&new));
    let ack = the_ack(&env);
    assert_autocrypt(&gpg, &ack, &new);
    decrypt_and_verify(&gpg, &ack, &new);
}

/// Asserts report 1 is an undecryptable report with `reason`, answered with a
/// signed, content-free "could not read" mail naming `key` (the team key to use).
fn assert_could_not_read(env: &Env, gpg: &Gpg, reason: &str, key: &str, secrets: &[&str]) {
    let d = detail(env, 1);
    let m = &d.messages[0];
    assert_eq!(m.encryption, "undecryptable");
    assert_eq!(m.openpgp, "pgp-mime");
    let detail = m.encryption_detail.as_ref().expect("encryption detail");
    assert_eq!(detail["reason"], reason, "{detail}");
    assert!(
        m.problems.iter().any(|p| p.starts_with("undecryptable:")),
        "{:?}",
        m.problems
    );
    // Nothing of the plaintext is kept.
    assert!(
        env.store()
            .read()
            .decrypted_message(m.id)
            .expect("read")
            .is_none()
    );
    for secret in secrets {
        assert!(!m.text.contains(secret), "{secret} in {}", m.text);
    }

    let ack = the_ack(env);
    assert_eq!(
        parse_subject(&ack).as_deref(),
        Some(y("[SEC-2026-0001] We could not read your encrypted message").as_str())
    );
    let status = verify_signed_mail(gpg, &ack);
    assert_validsig(&status, key);
    assert!(
        body_text(&ack).contains(&grouped(key)),
        "{}",
        body_text(&ack)
    );
    for secret in secrets {
        assert!(!contains(&ack, secret), "{secret} leaked into the answer");
    }
    assert_eq!(d.outbox[0].status, "sent");
    assert!(!kinds(&d).contains(&"reply-held"), "{:?}", kinds(&d));
}

#[test]
fn mail_to_a_retired_key_is_undecryptable_and_answered_with_the_current_fingerprint() {
    let (team, old, new) = rotated_team();
    let env = Env::with_file_transport("[openpgp]\nsecret_keys = [\"new.key\"]\n");
    write_secret(&env.path("new.key"), &team.export_secret(&new));
    env.init();
    let (gpg, fpr) = rita(Algo::Rsa3072, &team.export_public(&old));
    gpg.import(&team.export_public(&new));
    let inner = inner_entity(
        "Xylophone42 bypass",
        RITA_FROM,
        "The Xylophone42 secret word works as admin password.\n",
        &[],
    );
    let armored = gpg.encrypt(&inner, &[&old], Some(&fpr));
    env.deliver(&pgp_mime(
        &headers(
            RITA_FROM,
            "Frobnicator RCE",
            "retired1@researcher.example",
            "",
        ),
        &armored,
    ));
    env.run_once();

    let d = detail(&env, 1);
    let recipients = &d.messages[0].encryption_detail.as_ref().expect("detail")["recipients"];
    let subkey = gpg.encryption_keyid(&old);
    assert!(
        recipients.as_array().is_some_and(|r| r.iter().any(|id| id
            .as_str()
            .is_some_and(|id| id.to_ascii_uppercase().ends_with(&subkey)))),
        "{subkey} not in {recipients}"
    );
    assert_could_not_read(&env, &gpg, "no-key", &new, &["Frobnicator", "Xylophone42"]);
}

/// Rita's report, encrypted to the team as binary data, mangled by `damage`.
fn damaged_report(damage: fn(Vec<u8>) -> Vec<u8>) {
    let (env, team) = team_env(Algo::Rsa3072, "");
    let (gpg, fpr) = rita(Algo::Curve25519, &team.public());
    let text = "Xylophone42 is the admin password on every appliance.\n".repeat(100);
    let inner = inner_entity("Xylophone42 default password", RITA_FROM, &text, &[]);
    let binary = gpg.encrypt_with(&inner, &[&team.fpr], Some(&fpr), &[]);
    let armored = armor_message(&damage(binary));
    env.deliver(&pgp_mime(
        &headers(
            RITA_FROM,
            "Frobnicator default password",
            "dmg1@researcher.example",
            "",
        ),
        &armored,
    ));
    env.run_once();
    assert_could_not_read(
        &env,
        &gpg,
        "corrupt",
        &team.fpr,
        &["Frobnicator", "Xylophone42"],
    );
}

#[test]
fn corrupt_ciphertext_is_undecryptable_and_answered_without_content() {
    damaged_report(|mut data| {
        // Inside the encrypted data, away from the session key packet.
        let at = data.len() - 200;
        data[at] ^= 0x55;
        data
    });
}

#[test]
fn truncated_ciphertext_is_undecryptable_and_answered_without_content() {
    damaged_report(|mut data| {
        data.truncate(data.len() * 3 / 4);
        data
    });
}

#[test]
fn a_compression_bomb_hits_the_limit_and_other_mail_goes_on() {
    let (env, team) = team_env(
        Algo::Curve25519,
        "\n[limits]\nmax_decompressed_size = \"1 MiB\"\n",
    );
    let (gpg, _fpr) = rita(Algo::Curve25519, &team.public());
    // 300 MiB of zeros, compressed to a few hundred KiB.
    let bomb = gpg.shell(&format!(
        "head -c 300M /dev/zero | gpg --batch --trust-model always --compress-algo zlib -z 9 \
         --armor --recipient {} --encrypt",
        team.fpr
    ));
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    env.deliver(&pgp_mime(
        &headers(RITA_FROM, "...", "bomb1@researcher.example", ""),
        &bomb,
    ));
    env.deliver(&crate::common::mail(
        "Bob <bob@other.example>",
        "security@example.org",
        "Open redirect",
        "plain1@other.example",
        "",
    ));
    let out = env.run_once();
    assert!(out.contains("opened 2 report"), "{out}");

    let messages = env.messages();
    let bomb = messages
        .iter()
        .find(|m| m.from.as_deref() == Some(RITA))
        .expect("the bomb is stored");
    assert_eq!(bomb.encryption, "undecryptable");
    assert_eq!(
        bomb.encryption_detail.as_ref().expect("detail")["reason"],
        "limit"
    );
    let plain = messages
        .iter()
        .find(|m| m.from.as_deref() == Some("bob@other.example"))
        .expect("the plain report is stored");
    assert_eq!(plain.subject, "Open redirect");
    assert!(plain.report_id.is_some());
    assert_eq!(sent_to(&env, "bob@other.example").len(), 1);
    assert_eq!(sent_to(&env, RITA).len(), 1);
}

#[test]
fn a_reply_to_someone_who_wrote_encrypted_waits_for_their_key() {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, fpr) = rita(Algo::Curve25519, &team.public());
    let inner = inner_entity(
        "Stored XSS in comments",
        RITA_FROM,
        "<script> in a comment runs for every reader.\n",
        &[],
    );
    let armored = gpg.encrypt(&inner, &[&team.fpr], Some(&fpr));
    env.deliver(&pgp_mime(
        &headers(RITA_FROM, "...", "held1@researcher.example", ""),
        &armored,
    ));
    env.run_once();

    let d = detail(&env, 1);
    assert_eq!(
        crypto(&d.messages[0]),
        ("pgp-mime", "decrypted", "unknown-key")
    );
    assert!(sent_to(&env, RITA).is_empty(), "nothing is sent in clear");
    assert_eq!(outbox(&d, "acknowledgement").len(), 1);
    assert_eq!(the_ack_row(&d).status, "needs-key");
    assert_eq!(event(&d, "reply-held")["to"], RITA);
    // The team is told without the report's content: Alice has no key.
    assert_signed_metadata_notice(
        &env,
        &team,
        &["Stored XSS in comments", "<script> in a comment"],
    );

    // Rita writes again, with her key inside.
    let key = gpg.export_public(&fpr);
    let inner = inner_entity(
        "Re: Stored XSS in comments",
        RITA_FROM,
        "Here is my key.\n",
        &[key_part(&key)],
    );
    let armored = gpg.encrypt(&inner, &[&team.fpr], Some(&fpr));
    env.deliver(&pgp_mime(
        &headers(
            RITA_FROM,
            "...",
            "held2@researcher.example",
            "In-Reply-To: <held1@researcher.example>\r\nReferences: <held1@researcher.example>\r\n",
        ),
        &armored,
    ));
    env.run_once();

    let d = detail(&env, 1);
    assert_eq!(d.messages.len(), 2);
    assert_eq!(crypto(&d.messages[1]), ("pgp-mime", "decrypted", "valid"));
    // Signed by it proves the key, not the mailbox: held until confirmed.
    assert_eq!(the_ack_row(&d).status, "needs-key");
    assert!(
        !kinds(&d).contains(&"held-mail-released"),
        "{:?}",
        kinds(&d)
    );
    crate::keys::confirm_by_round_trip(&env, &gpg, &team.fpr, RITA_FROM, 1);

    let d = detail(&env, 1);
    assert_eq!(d.messages.len(), 3);
    assert_eq!(event(&d, "held-mail-released")["key"], fpr.as_str());
    assert_eq!(
        outbox(&d, "acknowledgement").len(),
        1,
        "the follow-up is not acknowledged again"
    );
    assert_eq!(the_ack_row(&d).status, "sent");
    assert_team_notified(&d, 3);
    let ack = env.sent_of(&d, "acknowledgement").remove(0);
    let (plain, _) = decrypt_and_verify(&gpg, &ack, &team.fpr);
    let text = readable(&plain);
    assert!(text.contains(&y("SEC-2026-0001")), "{text}");
    assert!(text.contains("Stored XSS in comments"), "{text}");
}

#[test]
fn a_held_reply_is_released_by_a_key_in_a_new_report_and_its_own_report_says_so() {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, fpr) = rita(Algo::Curve25519, &team.public());
    let inner = inner_entity("Open S3 bucket", RITA_FROM, "Listable.\n", &[]);
    let armored = gpg.encrypt(&inner, &[&team.fpr], None);
    env.deliver(&pgp_mime(
        &headers(RITA_FROM, "...", "rel1@researcher.example", ""),
        &armored,
    ));
    env.run_once();
    assert_eq!(detail(&env, 1).outbox[0].status, "needs-key");

    // A new, unrelated report in clear, announcing her key by Autocrypt.
    let key = gpg.run(&["--export", &fpr], b"");
    env.deliver(&crate::common::mail(
        RITA_FROM,
        "security@example.org",
        "Another thing: verbose errors",
        "rel2@researcher.example",
        &autocrypt_header(RITA, &key),
    ));
    env.run_once();
    // Announced is not proven: both acknowledgements wait until Rita answers
    // the confirmation sent to the announced key.
    assert_eq!(the_ack_row(&detail(&env, 1)).status, "needs-key");
    assert_eq!(the_ack_row(&detail(&env, 2)).status, "needs-key");
    crate::keys::confirm_by_round_trip(&env, &gpg, &team.fpr, RITA_FROM, 1);

    let first = detail(&env, 1);
    assert_eq!(the_ack_row(&first).status, "sent");
    let second = detail(&env, 2);
    assert_eq!(second.keys[0].source, "autocrypt");
    // Both acknowledgements went out encrypted to the new key.
    let acks: Vec<Vec<u8>> = [&first, &second]
        .into_iter()
        .flat_map(|d| env.sent_of(d, "acknowledgement"))
        .collect();
    assert_eq!(acks.len(), 2);
    for ack in &acks {
        decrypt_and_verify(&gpg, ack, &team.fpr);
    }
    // Each held mail's own report shows its release.
    for d in [&first, &second] {
        assert!(
            kinds(d).contains(&"held-mail-released"),
            "report 1 events: {:?}; report 2 events: {:?}",
            kinds(&first),
            kinds(&second)
        );
    }
}

#[test]
fn expired_keys_and_keys_for_other_addresses_are_ignored() {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, _fpr) = rita(Algo::Curve25519, &team.public());
    let expired = gpg.generate_expired(RITA_FROM);
    let other = gpg.generate("Mallory <mallory@evil.example>", Algo::Curve25519);
    let expired_key = gpg.export_public(&expired);
    let other_key = gpg.export_public(&other);
    env.deliver(&mail_with(
        &headers(RITA_FROM, "Clickjacking", "ign1@researcher.example", ""),
        &text_entity(
            "No frame-ancestors.\n",
            &[
                key_part(&expired_key),
                Part {
                    name: "mallory.asc",
                    content_type: "application/pgp-keys",
                    data: &other_key,
                },
            ],
        ),
    ));
    env.run_once();

    let d = detail(&env, 1);
    assert!(d.keys.is_empty(), "{:?}", d.keys);
    let mut ignored: Vec<&str> = d
        .events
        .iter()
        .filter(|e| e.kind == "key-ignored")
        .filter_map(|e| e.detail["fingerprint"].as_str())
        .collect();
    ignored.sort();
    let mut expected = vec![expired.as_str(), other.as_str()];
    expected.sort();
    assert_eq!(ignored, expected, "{:?}", kinds(&d));
    // No usable key: the answer is only signed.
    let status = verify_signed_mail(&gpg, &the_ack(&env));
    assert_validsig(&status, &team.fpr);
}

/// Rita's first plain report with key A attached, then a follow-up carrying
/// key B, signed by A when `signed_by_old`.
fn second_key(signed_by_old: bool) -> (Env, String, String) {
    let (env, team) = team_env(Algo::Curve25519, "");
    let (gpg, a) = rita(Algo::Curve25519, &team.public());
    let b = gpg.generate(RITA_FROM, Algo::Curve25519);
    let key_a = gpg.export_public(&a);
    env.deliver(&mail_with(
        &headers(RITA_FROM, "Weak TLS config", "k1@researcher.example", ""),
        &text_entity("TLS 1.0 is still enabled.\n", &[key_part(&key_a)]),
    ));
    env.run_once();

    let key_b = gpg.export_public(&b);
    let part1 = text_entity("I have a new key.\n", &[key_part(&key_b)]);
    let entity = if signed_by_old {
        multipart_signed(&part1, &gpg.sign_detached(&part1, &a))
    } else {
        part1
    };
    env.deliver(&mail_with(
        &headers(
            RITA_FROM,
            "Re: Weak TLS config",
            "k2@researcher.example",
            "In-Reply-To: <k1@researcher.example>\r\nReferences: <k1@researcher.example>\r\n",
        ),
        &entity,
    ));
    env.run_once();
    (env, a, b)
}

fn key_states(d: &ReportDetail) -> Vec<(String, String)> {
    let mut keys: Vec<_> = d
        .keys
        .iter()
        .map(|k| (k.fingerprint.clone(), k.status.clone()))
        .collect();
    keys.sort();
    keys
}

#[test]
fn a_different_key_without_proof_waits_and_the_team_is_told() {
    let (env, a, b) = second_key(false);
    let d = detail(&env, 1);
    assert_eq!(d.messages.len(), 2);
    let mut expected = vec![
        (a.clone(), "current".to_owned()),
        (b.clone(), "pending".to_owned()),
    ];
    expected.sort();
    assert_eq!(key_states(&d), expected);
    let changed = event(&d, "key-changed");
    assert_eq!(changed["current"], a.as_str());
    assert_eq!(changed["new"], b.as_str());
    assert!(
        d.outbox.iter().any(|o| o.kind == "key-changed"),
        "{:?}",
        d.outbox
    );
    // Alice hears of the new report, of the follow-up, and of the key change.
    assert_team_notified(&d, 2);
    assert_eq!(sent_to(&env, ALICE).len(), 3);
    let notices = env.sent_of(&d, "key-changed");
    assert_eq!(notices.len(), 1);
    assert!(
        header(&notices[0], "To").is_some_and(|to| to.contains(ALICE)),
        "{:?}",
        header(&notices[0], "To")
    );
    // Alice has no key configured: the notice says that a key changed on the
    // report, never whose or which.
    let notice = String::from_utf8_lossy(&notices[0]).into_owned();
    assert!(notice.contains(&y("SEC-2026-0001")), "{notice}");
    for secret in [b.as_str(), a.as_str(), RITA] {
        assert!(
            !notice.contains(secret),
            "{secret} in a keyless notice: {notice}"
        );
    }

    // The team confirms the new key: it becomes the one in use, in the log.
    let out = env.cmd(&["key", "accept", RITA, "0000 0000"]);
    assert_eq!(out.status.code(), Some(1), "an unknown key is refused");
    let spaced: String = b
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    let said = env.ok(&["key", "accept", RITA, &spaced]);
    assert!(said.contains(&b), "{said}");
    let d = detail(&env, 1);
    let mut expected = vec![
        (a.clone(), "replaced".to_owned()),
        (b.clone(), "current".to_owned()),
    ];
    expected.sort();
    assert_eq!(key_states(&d), expected);
    let accepted = event(&d, "key-accepted");
    assert_eq!(
        (
            accepted["fingerprint"].as_str(),
            accepted["replaces"].as_str()
        ),
        (Some(b.as_str()), Some(a.as_str()))
    );
}

#[test]
fn a_new_key_signed_by_the_current_one_replaces_it() {
    let (env, a, b) = second_key(true);
    let d = detail(&env, 1);
    assert_eq!(d.messages[1].signature, "valid");
    let mut expected = vec![
        (a.clone(), "replaced".to_owned()),
        (b.clone(), "current".to_owned()),
    ];
    expected.sort();
    assert_eq!(key_states(&d), expected);
    let rotated = event(&d, "key-rotated");
    assert_eq!(
        (rotated["old"].as_str(), rotated["new"].as_str()),
        (Some(a.as_str()), Some(b.as_str()))
    );
    assert!(!kinds(&d).contains(&"key-changed"), "{:?}", kinds(&d));
    // The team is not asked about the key: Alice gets only the notifications
    // of the report and of the follow-up.
    assert!(outbox(&d, "key-changed").is_empty(), "{:?}", d.outbox);
    assert_team_notified(&d, 2);
    assert_eq!(sent_to(&env, ALICE), env.sent_of(&d, "notification"));
}

#[test]
fn encrypted_follow_ups_thread_by_references_and_by_the_protected_subject() {
    let (env, team) = team_env(Algo::Rsa3072, "");
    let (gpg, fpr) = rita(Algo::Curve25519, &team.public());
    let key = gpg.export_public(&fpr);
    let send = |n: u32, subject: &str, extra: &str, attachments: &[Part<'_>]| {
        let inner = inner_entity(subject, RITA_FROM, &format!("Message {n}.\n"), attachments);
        let armored = gpg.encrypt(&inner, &[&team.fpr], Some(&fpr));
        env.deliver(&pgp_mime(
            &headers(RITA_FROM, "...", &format!("t{n}@researcher.example"), extra),
            &armored,
        ));
        env.run_once();
    };
    send(1, "Race in the payment callback", "", &[key_part(&key)]);
    let ack_id = the_ack_row(&env.report(1)).message_id.clone();
    send(
        2,
        "Re: more details",
        &format!("In-Reply-To: <{ack_id}>\r\nReferences: <{ack_id}>\r\n"),
        &[],
    );
    send(3, &y("[SEC-2026-0001] the PoC video"), "", &[]);

    let d = detail(&env, 1);
    let via: Vec<&str> = d.messages.iter().map(|m| m.threaded_by.as_str()).collect();
    assert_eq!(via, ["new-report", "references", "subject-tag"]);
    assert!(d.messages.iter().all(|m| m.encryption == "decrypted"));
    // The follow-ups carry no key: their signatures are checked with the one
    // stored from the first message.
    let signatures: Vec<&str> = d.messages.iter().map(|m| m.signature.as_str()).collect();
    assert_eq!(signatures, ["valid", "valid", "valid"]);
    assert!(
        d.messages
            .iter()
            .all(|m| m.signer.as_deref() == Some(fpr.as_str()))
    );
    assert_eq!(d.summary.subject, "Race in the payment callback");
    assert_eq!(env.store().read().reports(None).expect("list").len(), 1);
    assert_eq!(outbox(&d, "acknowledgement").len(), 1);
    assert_eq!(sent_to(&env, RITA).len(), 1);
    // The team hears of the report and of each follow-up.
    assert_team_notified(&d, 3);
}

#[test]
fn over_imap_and_smtp_an_encrypted_report_gets_an_encrypted_signed_answer() {
    let stack = MailStack::start();
    let security = unique("security");
    let researcher = unique("researcher");
    let team = Team::new(Algo::Curve25519);
    let env = Env::with_sections(
        &security,
        &stack.imap_source(&security, ""),
        &format!(
            "{}\n[openpgp]\nsecret_keys = [\"team.key\"]\n",
            stack.smtp_transport("retry_initial = \"1s\"\nretry_max = \"2s\"")
        ),
    );
    team.install(&env, "team.key");
    env.init();

    let gpg = Gpg::new();
    let fpr = gpg.generate(&format!("Rita <{researcher}>"), Algo::Rsa3072);
    gpg.import(&team.public());
    let key = gpg.export_public(&fpr);
    let inner = inner_entity(
        "RCE in the image resizer",
        &researcher,
        "ImageMagick delegates are enabled.\n",
        &[key_part(&key)],
    );
    let armored = gpg.encrypt(&inner, &[&team.fpr, &fpr], Some(&fpr));
    let raw = pgp_mime(
        &format!(
            "From: {researcher}\r\nTo: {security}\r\nSubject: ...\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <live1@researcher.example>\r\n"
        ),
        &armored,
    );
    stack.send(&researcher, &security, &raw);
    stack.wait_for(&security, "INBOX", 1, Duration::from_secs(30));
    env.run_once();

    let stored = env.messages();
    assert_eq!(stored.len(), 1);
    assert_eq!(crypto(&stored[0]), ("pgp-mime", "decrypted", "valid"));
    // First a confirmation of the key the report carried; the researcher
    // answers it encrypted, through the mail servers.
    let first = stack.wait_for(&researcher, "INBOX", 1, Duration::from_secs(30));
    let confirmation = crlf(&first[0].raw);
    let (plain, _) = decrypt_and_verify(&gpg, &confirmation, &team.fpr);
    let text = body_text(&plain);
    let at = text.find("key-confirm-").expect("a token");
    let token = &text[at..at + "key-confirm-".len() + 32];
    let reply_to = header(&confirmation, "Reply-To").expect("Reply-To");
    let answer = inner_entity(
        "Re: Please confirm your OpenPGP key",
        &researcher,
        &format!("> {token}\n"),
        &[],
    );
    let raw = pgp_mime(
        &format!(
            "From: {researcher}\r\nTo: {reply_to}\r\nSubject: ...\r\n\
             Date: Mon, 23 Nov 2026 10:05:00 +0000\r\nMessage-ID: <live2@researcher.example>\r\n"
        ),
        &gpg.encrypt(&answer, &[&team.fpr], None),
    );
    stack.send(&researcher, &reply_to, &raw);
    stack.wait_for(&security, "INBOX", 2, Duration::from_secs(30));
    env.run_once();

    let mail = stack.wait_for(&researcher, "INBOX", 2, Duration::from_secs(30));
    let ack = crlf(&mail[1].raw);
    let (plain, _) = decrypt_and_verify(&gpg, &ack, &team.fpr);
    let text = readable(&plain);
    assert!(text.contains(&crate::common::year().to_string()), "{text}");
    assert!(text.contains("RCE in the image resizer"), "{text}");
}

#[test]
fn a_member_with_a_key_gets_the_report_encrypted_and_signed() {
    let team = Team::new(Algo::Curve25519);
    let alice = Gpg::new();
    let alice_fpr = alice.generate("Alice <alice@example.org>", Algo::Curve25519);
    alice.import(&team.public());
    let env = Env::new(
        "key = \"alice.asc\"\n[transport]\nkind = \"file\"\ndir = \"outbox\"\n\
         [openpgp]\nsecret_keys = [\"team.key\"]\n",
    );
    team.install(&env, "team.key");
    std::fs::write(env.path("alice.asc"), alice.export_public(&alice_fpr)).expect("write");
    env.init();

    // A report in clear, with an attachment.
    env.deliver(&mail_with(
        &headers(
            RITA_FROM,
            "SSRF in the webhook tester",
            "member1@researcher.example",
            "",
        ),
        &text_entity(
            "The webhook tester fetches internal addresses.\n",
            &[Part {
                name: "poc.py",
                content_type: "text/x-python",
                data: POC,
            }],
        ),
    ));
    env.run_once();

    let d = detail(&env, 1);
    assert_team_notified(&d, 1);
    let notices = sent_to(&env, ALICE);
    assert_eq!(notices.len(), 1);
    assert_eq!(env.sent_of(&d, "notification"), notices);
    let notice = &notices[0];
    // The report's content travels only inside the encryption.
    for secret in ["SSRF in the webhook tester", "fetches internal addresses"] {
        assert!(!contains(notice, secret), "{secret} in clear");
    }
    assert_eq!(
        header(notice, "Reply-To").as_deref(),
        Some(y("security+SEC-2026-0001-internal@example.org").as_str())
    );
    let (plain, _) = decrypt_and_verify(&alice, notice, &team.fpr);
    let text = readable(&plain);
    for needle in [
        &y("SEC-2026-0001"),
        "SSRF in the webhook tester",
        "The webhook tester fetches internal addresses.",
    ] {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    use mail_parser::MimeHeaders;
    let inner = mail_parser::MessageParser::default()
        .parse(&plain)
        .expect("the decrypted notification parses");
    let attached: Vec<(Option<&str>, Vec<u8>)> = inner
        .attachments()
        .map(|a| (a.attachment_name(), lf(a.contents())))
        .collect();
    assert!(
        attached.contains(&(Some("poc.py"), POC.to_vec())),
        "the attachment is not in the decrypted notification: {attached:?}"
    );
    // Rita's acknowledgement is separate, and only hers.
    assert_eq!(sent_to(&env, RITA).len(), 1);
}
