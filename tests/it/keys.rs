//! OpenPGP keys through the binary. The team's: `key generate|list|export`,
//! `init --generate-key`, and what `init` and `check` say about the keys the
//! configuration names; the exported key is read back by GnuPG 2.2. The
//! correspondents': a key a mail carries is trusted only after a confirmation
//! round trip through the address's mailbox, or `key accept`; forgeries of
//! either are refused.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use disclosed::clock::{Clock, SystemClock};
use disclosed::crypto::keys;
use jiff::{SignedDuration, Timestamp};
use sequoia_openpgp::Cert;
use sequoia_openpgp::crypto::Password;

use disclosed::store::ReportDetail;

use crate::common::{BIN, Env, body_text, header, outbox, parse_subject, the_ack_row, y};
use crate::pgp::{
    Algo, Gpg, Part, contains, content_type, encrypted_payload, find, grouped, inner_entity,
    pgp_mime, text_entity,
};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const TEAM_KEY: &str = "[openpgp]\nsecret_keys = [\"keys/team.key\"]\n";

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// `at`'s day in the test program's time zone, as the CLI prints it.
fn day(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("tz"))
        .strftime("%Y-%m-%d")
        .to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A key made by the library (as another tool would), written 0600 to `rel`.
fn key_file(
    env: &Env,
    rel: &str,
    created: Timestamp,
    validity: Option<Duration>,
    passphrase: Option<&str>,
) -> Cert {
    let password = passphrase.map(Password::from);
    let cert = keys::generate(
        "Example Security <security@example.org>",
        created,
        validity,
        password.as_ref(),
    )
    .expect("generate");
    let path = env.path(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    keys::write_secret(&path, &cert).expect("write key");
    cert
}

/// The 40-hex-digit fingerprint in `text` after `marker`.
fn fingerprint_after(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {text}"))
        + marker.len();
    let fpr: String = text[start..].chars().take(40).collect();
    assert!(
        fpr.len() == 40
            && fpr
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
        "{fpr} in {text}"
    );
    fpr
}

/// What GnuPG sees in `armored`, without importing it anywhere that lasts.
/// Fails when gpg is missing: the export is meant for GnuPG users.
fn gpg_show(armored: &str) -> String {
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new("gpg")
        .arg("--homedir")
        .arg(home.path())
        .args([
            "--batch",
            "--import",
            "--import-options",
            "show-only",
            "--with-colons",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gpg (GnuPG 2.2) must be installed to run this test");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(armored.as_bytes()).expect("write to gpg");
    }
    let out = child.wait_with_output().expect("gpg");
    assert!(out.status.success(), "gpg failed: {}", stderr(&out));
    stdout(&out)
}

/// The primary-key fingerprints in gpg's colon listing.
fn gpg_primary_fingerprints(listing: &str) -> Vec<String> {
    let lines: Vec<&str> = listing.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].starts_with("pub:"))
        .filter_map(|w| w[1].strip_prefix("fpr:"))
        .map(|rest| rest.trim_matches(':').to_owned())
        .collect()
}

#[test]
fn help_on_every_key_command() {
    for args in [
        vec!["key", "--help"],
        vec!["key", "generate", "--help"],
        vec!["key", "list", "--help"],
        vec!["key", "export", "--help"],
        vec!["key", "accept", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().expect("run");
        assert_eq!(code(&out), 0, "{args:?}");
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn generate_list_and_export_to_gnupg() {
    let env = Env::with_file_transport(TEAM_KEY);
    let out = env.ok(&[
        "key",
        "generate",
        "--userid",
        "Example Security <security@example.org>",
    ]);
    let fpr = fingerprint_after(&out, "generated key ");
    let path = env.path("keys/team.key");
    assert!(out.contains(&path.display().to_string()), "{out}");
    assert_eq!(mode(&path), 0o600);

    // Listed with its expiry, two years out.
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["key", "list", "--json"])).expect("json");
    assert_eq!(listed[0]["fingerprint"], fpr.as_str());
    assert_eq!(listed[0]["role"], "signs");
    assert_eq!(listed[0]["can_sign"], true);
    assert_eq!(
        listed[0]["user_ids"][0],
        "Example Security <security@example.org>"
    );
    let created: Timestamp = listed[0]["created"]
        .as_str()
        .expect("created")
        .parse()
        .expect("ts");
    let expires: Timestamp = listed[0]["expires"]
        .as_str()
        .expect("expires")
        .parse()
        .expect("ts");
    assert_eq!(
        expires.duration_since(created),
        SignedDuration::from_hours(730 * 24)
    );
    let table = env.ok(&["key", "list"]);
    assert!(table.contains(&fpr), "{table}");
    assert!(table.contains("signs"), "{table}");
    assert!(table.contains(&day(expires)), "{table}");

    // The export is the public key only, and GnuPG 2.2 reads it.
    let exported = env.ok(&["key", "export"]);
    assert!(
        exported.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
        "{exported}"
    );
    assert!(!exported.contains("PRIVATE"), "{exported}");
    let listing = gpg_show(&exported);
    assert_eq!(
        gpg_primary_fingerprints(&listing),
        [fpr.as_str()],
        "{listing}"
    );
    assert!(
        !listing
            .lines()
            .any(|l| l.starts_with("sec:") || l.starts_with("ssb:")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("sub:") && l.contains(":e:")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("sub:") && l.contains(":s:")),
        "{listing}"
    );

    // Never over an existing key.
    let before = std::fs::read(&path).expect("read");
    let out = env.cmd(&["key", "generate", "--userid", "x <x@example.org>"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn generate_needs_somewhere_to_write() {
    let env = Env::with_file_transport("");
    let out = env.cmd(&["key", "generate", "--userid", "x <x@example.org>"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--output"), "{}", stderr(&out));

    let output = env.path("elsewhere/new.key");
    let output = output.to_str().expect("utf-8 path");
    let out = env.ok(&["key", "generate", "--output", output]);
    assert!(
        out.contains("openpgp.secret_keys"),
        "not configured yet: {out}"
    );
    assert_eq!(mode(&env.path("elsewhere/new.key")), 0o600);

    let out = env.cmd(&["key", "export"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn a_key_file_others_may_read_is_refused() {
    let env = Env::with_file_transport(TEAM_KEY);
    key_file(
        &env,
        "keys/team.key",
        now(),
        Some(keys::DEFAULT_VALIDITY),
        None,
    );
    let path = env.path("keys/team.key");
    chmod(&path, 0o644);
    let chmod_hint = format!("chmod 600 {}", path.display());
    for args in [&["init"][..], &["key", "list"][..], &["key", "export"][..]] {
        let out = env.cmd(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&chmod_hint),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(
        !env.path("state/disclosed.sqlite3").exists(),
        "init stopped before the store"
    );

    chmod(&path, 0o600);
    env.init();
    chmod(&path, 0o640);
    let out = env.cmd(&["check", "--offline"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("FAILED   keys:") && stdout(&out).contains(&chmod_hint),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_passphrase_protected_key_needs_the_right_passphrase() {
    let secret = "tr0ub4dor&3";
    let env = Env::with_file_transport(&format!(
        "{TEAM_KEY}passphrase_file = \"secrets/passphrase\"\n"
    ));
    let cert = key_file(
        &env,
        "keys/team.key",
        now(),
        Some(keys::DEFAULT_VALIDITY),
        Some(secret),
    );
    let fpr = cert.fingerprint().to_hex();
    let pass = env.path("secrets/passphrase");
    std::fs::create_dir_all(pass.parent().expect("parent")).expect("mkdir");

    std::fs::write(&pass, format!("{secret}\n")).expect("write");
    chmod(&pass, 0o600);
    let out = env.ok(&["init"]);
    assert!(out.contains(&format!("signing {fpr}")), "{out}");
    assert!(
        env.ok(&["check", "--offline"])
            .contains(&format!("ok       keys: 1 team key (signing {fpr})"))
    );

    std::fs::write(&pass, "wrong-passphrase\n").expect("write");
    let out = env.cmd(&["init"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&env.path("keys/team.key").display().to_string()),
        "{err}"
    );
    assert!(err.contains(&fpr), "{err}");
    assert!(
        !err.contains("wrong-passphrase") && !err.contains(secret),
        "{err}"
    );
    let out = env.cmd(&["check", "--offline"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("FAILED   keys:") && stdout(&out).contains(&fpr));
    assert!(!stdout(&out).contains("wrong-passphrase"));

    // Listing and exporting need no passphrase.
    assert!(env.ok(&["key", "list"]).contains(&fpr));
    assert!(env.ok(&["key", "export"]).contains("PUBLIC KEY BLOCK"));
}

#[test]
fn check_warns_before_a_key_expires_and_fails_once_it_has() {
    // Alice's key and the keyring come from outside: public files.
    let env = Env::new(&format!(
        "key = \"alice.asc\"\n[transport]\nkind = \"file\"\ndir = \"outbox\"\n\
         {TEAM_KEY}keyring = \"keyring.asc\"\n"
    ));
    let alice = keys::generate("Alice <alice@example.org>", now(), Some(365 * DAY), None)
        .expect("generate");
    std::fs::write(
        env.path("alice.asc"),
        keys::export_public(&alice).expect("export"),
    )
    .expect("write");
    let others: Vec<Cert> = (0..3)
        .map(|i| {
            keys::generate(&format!("r{i} <r{i}@example.net>"), now(), None, None)
                .expect("generate")
        })
        .collect();
    std::fs::write(
        env.path("keyring.asc"),
        keys::export_public_all(&others).expect("export"),
    )
    .expect("write");

    // The clock of the binary is the real one: the key expires ten days from now.
    let cert = key_file(&env, "keys/team.key", now(), Some(10 * DAY), None);
    let fpr = cert.fingerprint().to_hex();
    env.init();
    let out = env.cmd(&["check", "--offline"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let expires = now().checked_add(10 * DAY).expect("add");
    assert!(text.contains("WARNING  keys: 1 team key"), "{text}");
    assert!(text.contains("1 member key, keyring 3 keys"), "{text}");
    assert!(
        text.contains(&format!("team key {fpr}")) && text.contains(&day(expires)),
        "{text}"
    );
    let list = env.ok(&["key", "list"]);
    assert!(
        list.contains("member Alice") && list.contains(&alice.fingerprint().to_hex()),
        "{list}"
    );

    // Expired: the daemon could not sign with it.
    std::fs::remove_file(env.path("keys/team.key")).expect("rm");
    let long_ago = now().checked_sub(40 * DAY).expect("sub");
    let cert = key_file(&env, "keys/team.key", long_ago, Some(30 * DAY), None);
    let out = env.cmd(&["check", "--offline"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.contains("FAILED   keys:")
            && text.contains(&cert.fingerprint().to_hex())
            && text.contains("expired"),
        "{text}"
    );
    let list = env.ok(&["key", "list"]);
    assert!(list.contains("expired"), "{list}");
}

#[test]
fn init_generates_the_key_once() {
    let env = Env::with_file_transport(TEAM_KEY);
    let out = env.cmd(&["init", "--userid", "x <x@example.org>"]);
    assert_eq!(code(&out), 2, "--userid without --generate-key");

    let out = env.ok(&["init", "--generate-key"]);
    let fpr = fingerprint_after(&out, "generated key ");
    let path = env.path("keys/team.key");
    assert_eq!(mode(&path), 0o600);
    assert!(out.contains(&format!("signing {fpr}")), "{out}");
    assert!(env.path("state/disclosed.sqlite3").exists());
    let list = env.ok(&["key", "list"]);
    assert!(
        list.contains("Example Security Team <security@example.org>"),
        "the default user id: {list}"
    );

    let before = std::fs::read(&path).expect("read");
    let out = env.ok(&[
        "init",
        "--generate-key",
        "--userid",
        "Other <o@example.org>",
    ]);
    assert!(out.contains("left as it is"), "{out}");
    assert!(out.contains(&format!("signing {fpr}")), "{out}");
    assert_eq!(std::fs::read(&path).expect("read"), before);

    // Without anywhere configured to put it.
    let bare = Env::with_file_transport("");
    assert_eq!(code(&bare.cmd(&["init", "--generate-key"])), 2);
}

#[test]
fn export_all_gives_every_team_key() {
    let env =
        Env::with_file_transport("[openpgp]\nsecret_keys = [\"keys/new.key\", \"keys/old.key\"]\n");
    let new = key_file(
        &env,
        "keys/new.key",
        now(),
        Some(keys::DEFAULT_VALIDITY),
        None,
    );
    let old = key_file(
        &env,
        "keys/old.key",
        now().checked_sub(800 * DAY).expect("sub"),
        Some(keys::DEFAULT_VALIDITY),
        None,
    );
    let current = gpg_show(&env.ok(&["key", "export"]));
    assert_eq!(
        gpg_primary_fingerprints(&current),
        [new.fingerprint().to_hex()]
    );
    let all = gpg_show(&env.ok(&["key", "export", "--all"]));
    assert_eq!(
        gpg_primary_fingerprints(&all),
        [new.fingerprint().to_hex(), old.fingerprint().to_hex()]
    );
    // An old, expired key still decrypts: it is listed, not a failure.
    env.init();
    let list = env.ok(&["key", "list"]);
    assert!(list.contains("decrypt only"), "{list}");
    let check = env.ok(&["check", "--offline"]);
    assert!(check.contains("ok       keys: 2 team keys"), "{check}");
}

/// A throw-away GnuPG home whose agent is stopped with it.
struct GnupgHome(tempfile::TempDir);

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.0.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

/// Runs gpg in `home` with a passphrase given on the command line (test keys only).
fn gpg(home: &Path, args: &[&str]) -> Output {
    let out = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "gnupg-pass",
        ])
        .args(args)
        .output()
        .expect("gpg (GnuPG 2.2) must be installed to run this test");
    assert!(out.status.success(), "gpg {args:?}: {}", stderr(&out));
    out
}

#[test]
fn a_gnupg_key_with_its_primary_kept_offline_loads() {
    let home = GnupgHome(tempfile::tempdir().expect("tempdir"));
    let home = home.0.path();
    // The agent's calibrated S2K count takes seconds to undo in a debug build.
    std::fs::write(home.join("gpg-agent.conf"), "s2k-count 65536\n").expect("write");
    gpg(
        home,
        &[
            "--quick-gen-key",
            "G <g@example.org>",
            "ed25519",
            "cert",
            "1y",
        ],
    );
    let listing = stdout(&gpg(home, &["--with-colons", "--list-keys"]));
    let fpr = fingerprint_after(&listing, "fpr:::::::::");
    gpg(home, &["--quick-add-key", &fpr, "ed25519", "sign", "1y"]);
    gpg(home, &["--quick-add-key", &fpr, "cv25519", "encr", "1y"]);
    // Subkeys only: the primary key is a stub without secret material.
    let exported = gpg(home, &["--armor", "--export-secret-subkeys", &fpr]).stdout;

    let env = Env::with_file_transport(&format!("{TEAM_KEY}passphrase_file = \"passphrase\"\n"));
    std::fs::create_dir_all(env.path("keys")).expect("mkdir");
    std::fs::write(env.path("keys/team.key"), exported).expect("write");
    chmod(&env.path("keys/team.key"), 0o600);
    std::fs::write(env.path("passphrase"), "gnupg-pass\n").expect("write");
    chmod(&env.path("passphrase"), 0o600);
    let out = env.ok(&["init"]);
    assert!(
        out.contains(&format!("1 team key (signing {fpr})")),
        "{out}"
    );
}

// ---------------------------------------------------------------------------
// Correspondents' keys are trusted only after proof: a key a mail carries
// never receives held or confidential mail until a round trip through the
// address's mailbox (or the team's `key accept`) proved it.

const RITA: &str = "rita@researcher.example";
const RITA_FROM: &str = "Rita Reporter <rita@researcher.example>";
/// Rita's first report's subject: it travels only encrypted.
const SECRET: &str = "Stored XSS in the comment preview";

/// An installation whose team key (made by the library, as another tool would)
/// is `keys/team.key`; `openpgp` is more of `[openpgp]`, `rest` more sections.
struct Desk {
    env: Env,
    team_fpr: String,
    team_public: Vec<u8>,
}

fn desk(openpgp: &str, rest: &str) -> Desk {
    keyring_deskwith(openpgp, rest, &[])
}

/// Like [`desk`], with `files` (name, content) written before `init`.
fn keyring_deskwith(openpgp: &str, rest: &str, files: &[(&str, &[u8])]) -> Desk {
    let env = Env::with_file_transport(&format!("{TEAM_KEY}{openpgp}\n{rest}"));
    for (name, content) in files {
        std::fs::write(env.path(name), content).expect("write a file of the installation");
    }
    let an_hour_ago = now()
        .checked_sub(SignedDuration::from_hours(1))
        .expect("sub");
    let cert = key_file(
        &env,
        "keys/team.key",
        an_hour_ago,
        Some(keys::DEFAULT_VALIDITY),
        None,
    );
    env.init();
    Desk {
        env,
        team_fpr: cert.fingerprint().to_hex(),
        team_public: keys::export_public(&cert).expect("export").into_bytes(),
    }
}

/// Someone with GnuPG, a key for `uid` and the team's public key.
pub(crate) struct Person {
    pub gpg: Gpg,
    pub fpr: String,
}

impl Person {
    pub fn new(uid: &str, team_public: &[u8]) -> Self {
        let gpg = Gpg::new();
        let fpr = gpg.generate(uid, Algo::Curve25519);
        gpg.import(team_public);
        Self { gpg, fpr }
    }

    fn key(&self) -> Vec<u8> {
        self.gpg.export_public(&self.fpr)
    }
}

fn key_part(data: &[u8]) -> Part<'_> {
    Part {
        name: "key.asc",
        content_type: "application/pgp-keys",
        data,
    }
}

/// A PGP/MIME mail by `who` as `from` to `to`, encrypted to the team (and
/// signed by `who` when `signed`), the protected subject `subject`.
#[expect(clippy::too_many_arguments, reason = "one mail's facts")]
fn encrypted_mail(
    who: &Person,
    team_fpr: &str,
    from: &str,
    to: &str,
    subject: &str,
    text: &str,
    message_id: &str,
    attachments: &[Part<'_>],
    signed: bool,
) -> Vec<u8> {
    let inner = inner_entity(subject, from, text, attachments);
    let signer = signed.then_some(who.fpr.as_str());
    pgp_mail(&who.gpg, signer, team_fpr, from, to, &inner, message_id)
}

/// `inner` encrypted by `gpg` to the team (signed by `signer`), as PGP/MIME
/// from `from` to `to`.
fn pgp_mail(
    gpg: &Gpg,
    signer: Option<&str>,
    team_fpr: &str,
    from: &str,
    to: &str,
    inner: &[u8],
    message_id: &str,
) -> Vec<u8> {
    let armored = gpg.encrypt(inner, &[team_fpr], signer);
    pgp_mime(
        &format!(
            "From: {from}\r\nTo: {to}\r\nSubject: ...\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
             Message-ID: <{message_id}>\r\n"
        ),
        &armored,
    )
}

/// Rita's first report, encrypted (signed, her key inside when `with_key`).
fn rita_reports(desk: &Desk, rita: &Person, with_key: bool) {
    let key = rita.key();
    let attachments: Vec<Part<'_>> = if with_key {
        vec![key_part(&key)]
    } else {
        Vec::new()
    };
    desk.env.deliver(&encrypted_mail(
        rita,
        &desk.team_fpr,
        RITA_FROM,
        "security@example.org",
        SECRET,
        "A comment with <img onerror> runs script in the preview.\n",
        "first@researcher.example",
        &attachments,
        with_key,
    ));
    desk.env.run_once();
}

fn kinds(d: &ReportDetail) -> Vec<&str> {
    d.events.iter().map(|e| e.kind.as_str()).collect()
}

fn events<'d>(d: &'d ReportDetail, kind: &str) -> Vec<&'d serde_json::Value> {
    d.events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| &e.detail)
        .collect()
}

/// `(fingerprint, status, trust)` of each key stored for `address`.
fn stored_keys(env: &Env, address: &str) -> Vec<(String, String, String)> {
    env.store()
        .read()
        .key_history(address)
        .expect("keys")
        .into_iter()
        .map(|k| (k.fingerprint, k.status.as_str().to_owned(), k.trust))
        .collect()
}

fn trust_of(env: &Env, address: &str, fpr: &str) -> (String, String) {
    stored_keys(env, address)
        .into_iter()
        .find(|(f, _, _)| f == fpr)
        .map(|(_, status, trust)| (status, trust))
        .unwrap_or_else(|| panic!("no key {fpr} for {address}"))
}

/// The confirmation mails of report `seq` as sent, oldest first.
fn confirmations(env: &Env, seq: u32) -> Vec<Vec<u8>> {
    env.sent_of(&env.report(seq), "key-confirmation")
}

/// Every confirmation row of every report so far.
fn confirmation_rows(env: &Env) -> usize {
    (1..)
        .map_while(|seq| {
            let id = disclosed::report::ReportId::new("SEC", crate::common::year(), seq);
            env.store().read().report_detail(&id).expect("read")
        })
        .map(|d| outbox(&d, "key-confirmation").len())
        .sum()
}

/// The one-time token in `mail`, read as the holder of `who`'s key reads it;
/// `None` when they cannot decrypt it.
pub(crate) fn token_in(who: &Gpg, mail: &[u8]) -> Option<String> {
    let (plain, status) = who.decrypt(&encrypted_payload(mail));
    if !status.contains("DECRYPTION_OKAY") {
        return None;
    }
    let text = body_text(&plain);
    let at = text.find("key-confirm-")?;
    Some(text[at..at + "key-confirm-".len() + 32].to_owned())
}

/// The answer to `confirmation` from `from`, encrypted to the team with
/// `gpg`, to its `Reply-To`, with `text` (which should quote the token).
fn encrypted_answer(
    gpg: &Gpg,
    team_fpr: &str,
    from: &str,
    confirmation: &[u8],
    text: &str,
    message_id: &str,
) -> Vec<u8> {
    let reply_to = header(confirmation, "Reply-To").expect("Reply-To");
    let parent = header(confirmation, "Message-ID").expect("Message-ID");
    let inner = inner_entity("Re: Please confirm your OpenPGP key", from, text, &[]);
    let mut raw = pgp_mail(gpg, None, team_fpr, from, &reply_to, &inner, message_id);
    let threading = format!("In-Reply-To: {parent}\r\nReferences: {parent}\r\n");
    raw.splice(0..0, threading.into_bytes());
    raw
}

/// Answers the confirmation of report `seq` that `gpg` can read, as its
/// owner would (encrypted, from `from`, quoting the token), and runs the
/// daemon once: the key is then confirmed and mail held for it released.
pub(crate) fn confirm_by_round_trip(env: &Env, gpg: &Gpg, team_fpr: &str, from: &str, seq: u32) {
    let (token, confirmation) = confirmations(env, seq)
        .into_iter()
        .find_map(|m| token_in(gpg, &m).map(|t| (t, m)))
        .expect("a confirmation mail this key opens");
    let id = format!("confirm-{}@round-trip.example", &token[token.len() - 8..]);
    env.deliver(&encrypted_answer(
        gpg,
        team_fpr,
        from,
        &confirmation,
        &quoting(&token),
        &id,
    ));
    env.run_once();
}

fn quoting(token: &str) -> String {
    format!("Yes, that is my key.\n\n> Please reply …\n>\n>     {token}\n")
}

/// Decrypts `mail` as `who` and asserts it decrypted and carries a good
/// signature by the team key: the decrypted entity.
fn read_as(who: &Gpg, mail: &[u8], team_fpr: &str) -> Vec<u8> {
    let (plain, status) = who.decrypt(&encrypted_payload(mail));
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.contains(team_fpr)),
        "not signed by the team: {status}"
    );
    plain
}

/// Whether `who` can decrypt any mail sent to Rita that shows `secret`.
fn readable_by(env: &Env, who: &Gpg, secret: &str) -> bool {
    env.sent_to(RITA)
        .iter()
        .filter(|m| content_type(m) == "multipart/encrypted")
        .any(|m| {
            let (plain, status) = who.decrypt(&encrypted_payload(m));
            status.contains("DECRYPTION_OKAY")
                && (String::from_utf8_lossy(&plain).contains(secret)
                    || parse_subject(&plain).is_some_and(|s| s.contains(secret)))
        })
}

/// Rita wrote encrypted without her key: her acknowledgement is held. Then
/// Mallory, who cannot read Rita's mailbox, sends `forged` (a mail in Rita's
/// name carrying Mallory's key for Rita's address).
fn held_then_forged(forged: impl FnOnce(&Desk, &Person) -> Vec<u8>) -> (Desk, Person, Person) {
    let desk = desk("", "");
    let rita = Person::new(RITA_FROM, &desk.team_public);
    rita_reports(&desk, &rita, false);
    assert_eq!(the_ack_row(&desk.env.report(1)).status, "needs-key");
    let mallory = Person::new(RITA_FROM, &desk.team_public);
    desk.env.deliver(&forged(&desk, &mallory));
    desk.env.run_once();
    (desk, rita, mallory)
}

/// Asserts what a forged key may not do: the held acknowledgement stays held,
/// the forger's key is stored unproven, and nothing showing Rita's report is
/// readable with it.
fn assert_the_forgery_gained_nothing(desk: &Desk, mallory: &Person, trust: &str) {
    let env = &desk.env;
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "needs-key", "{:?}", kinds(&d));
    assert!(
        !kinds(&d).contains(&"held-mail-released"),
        "{:?}",
        kinds(&d)
    );
    let (status, stored_trust) = trust_of(env, RITA, &mallory.fpr);
    assert_eq!((status.as_str(), stored_trust.as_str()), ("current", trust));
    assert!(
        !readable_by(env, &mallory.gpg, SECRET),
        "Rita's report is readable with the forger's key"
    );
    // The forgery's own acknowledgement waits too: Rita wrote encrypted.
    assert_eq!(the_ack_row(&env.report(2)).status, "needs-key");
}

#[test]
fn a_forged_attached_key_does_not_release_the_held_acknowledgement() {
    let (desk, rita, mallory) = held_then_forged(|_, mallory| {
        let key = mallory.key();
        crate::pgp::mail_with(
            &crate::pgp::headers(RITA_FROM, "Here is my key", "forged1@evil.example", ""),
            &text_entity("Please use this key from now on.\n", &[key_part(&key)]),
        )
    });
    assert_the_forgery_gained_nothing(&desk, &mallory, "attached");
    let env = &desk.env;

    // The confirmation goes to Rita's mailbox, encrypted to the key to prove:
    // only someone with both could answer it. Mallory has only the key.
    let sent = confirmations(env, 1);
    assert_eq!(sent.len(), 1, "{:?}", env.report(1).outbox);
    assert!(
        header(&sent[0], "To").is_some_and(|to| to.contains(RITA)),
        "{:?}",
        header(&sent[0], "To")
    );
    assert_eq!(token_in(&rita.gpg, &sent[0]), None);
    assert!(token_in(&mallory.gpg, &sent[0]).is_some());

    // Without the mailbox, Mallory can only guess a token.
    let guess = format!("key-confirm-{}", "0123456789abcdef".repeat(2));
    let answer = encrypted_answer(
        &mallory.gpg,
        &desk.team_fpr,
        RITA_FROM,
        &sent[0],
        &quoting(&guess),
        "forged2@evil.example",
    );
    env.deliver(&answer);
    env.run_once();
    assert_the_forgery_gained_nothing(&desk, &mallory, "attached");
    assert!(!kinds(&env.report(1)).contains(&"key-confirmed"));
}

#[test]
fn a_forged_autocrypt_header_does_not_release_the_held_acknowledgement() {
    let (desk, _rita, mallory) = held_then_forged(|_, mallory| {
        let key = mallory.gpg.run(&["--export", &mallory.fpr], b"");
        let data = crate::pgp::base64(&key);
        let folded: Vec<&str> = data
            .as_bytes()
            .chunks(72)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect();
        crate::common::mail(
            RITA_FROM,
            "security@example.org",
            "Another thing",
            "forged-ac@evil.example",
            &format!(
                "Autocrypt: addr={RITA}; prefer-encrypt=mutual; keydata=\r\n {}\r\n",
                folded.join("\r\n ")
            ),
        )
    });
    assert_the_forgery_gained_nothing(&desk, &mallory, "autocrypt");
    // One confirmation, which only Mallory's key opens, in Rita's mailbox.
    assert_eq!(confirmations(&desk.env, 1).len(), 1);
}

/// Rita's first contact: encrypted, signed, her key inside. The
/// acknowledgement waits for the key to be confirmed; the confirmation mail is
/// returned as sent.
fn first_contact(openpgp: &str) -> (Desk, Person, Vec<u8>) {
    let desk = desk(openpgp, "");
    let rita = Person::new(RITA_FROM, &desk.team_public);
    rita_reports(&desk, &rita, true);
    let env = &desk.env;
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "needs-key", "{:?}", kinds(&d));
    assert_eq!(
        trust_of(env, RITA, &rita.fpr),
        ("current".to_owned(), "signed".to_owned()),
        "possession shown, the mailbox not yet"
    );
    let mut sent = confirmations(env, 1);
    assert_eq!(sent.len(), 1, "{:?}", d.outbox);
    (desk, rita, sent.remove(0))
}

#[test]
fn a_first_contact_reporter_gets_the_acknowledgement_after_confirming_the_key() {
    let (desk, rita, confirmation) = first_contact("");
    let env = &desk.env;

    // The confirmation: to Rita, automatic, encrypted to her key and signed by
    // the team, nothing of the report outside; it asks for the token back.
    assert!(header(&confirmation, "To").is_some_and(|to| to.contains(RITA)));
    assert_eq!(
        header(&confirmation, "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(header(&confirmation, "Subject").as_deref(), Some("..."));
    assert!(!contains(&confirmation, SECRET));
    let plain = read_as(&rita.gpg, &confirmation, &desk.team_fpr);
    let text = body_text(&plain);
    assert!(text.contains(&grouped(&rita.fpr)), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    let token = token_in(&rita.gpg, &confirmation).expect("a token");
    // Only its hash is stored.
    let db = std::fs::read(env.path("state/disclosed.sqlite3")).expect("db");
    assert!(
        find(&db, token.as_bytes()).is_none(),
        "the token is stored in clear"
    );
    let d = env.report(1);
    assert_eq!(
        events(&d, "key-confirmation-sent")[0]["fingerprint"],
        rita.fpr.as_str()
    );

    // Rita answers from her mail program: encrypted, quoting the token.
    env.deliver(&encrypted_answer(
        &rita.gpg,
        &desk.team_fpr,
        RITA_FROM,
        &confirmation,
        &quoting(&token),
        "confirm1@researcher.example",
    ));
    env.run_once();

    let d = env.report(1);
    assert_eq!(d.messages.len(), 2, "the answer joined the report");
    assert_eq!(
        trust_of(env, RITA, &rita.fpr),
        ("current".to_owned(), "confirmed".to_owned())
    );
    assert_eq!(
        events(&d, "key-confirmed")[0]["fingerprint"],
        rita.fpr.as_str()
    );
    assert_eq!(
        events(&d, "held-mail-released")[0]["key"],
        rita.fpr.as_str()
    );
    assert_eq!(the_ack_row(&d).status, "sent");
    let acks = env.sent_of(&d, "acknowledgement");
    let plain = read_as(&rita.gpg, &acks[0], &desk.team_fpr);
    assert!(
        parse_subject(&plain).is_some_and(|s| s.contains(SECRET)),
        "{:?}",
        parse_subject(&plain)
    );
    // No second confirmation was needed or sent.
    assert_eq!(confirmations(env, 1).len(), 1);
}

#[test]
fn a_confirmation_answered_in_clear_does_not_confirm_the_key() {
    let (desk, rita, confirmation) = first_contact("");
    let env = &desk.env;
    let token = token_in(&rita.gpg, &confirmation).expect("a token");
    // Rita's answer, decrypted by her but sent unencrypted: anyone on the way
    // read the token.
    let parent = header(&confirmation, "Message-ID").expect("Message-ID");
    let reply_to = header(&confirmation, "Reply-To").expect("Reply-To");
    let clear = format!(
        "From: {RITA_FROM}\r\nTo: {reply_to}\r\nSubject: Re: Please confirm your OpenPGP key\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <clear1@researcher.example>\r\n\
         In-Reply-To: {parent}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         {}",
        quoting(&token).replace('\n', "\r\n")
    );
    env.deliver(clear.as_bytes());
    env.run_once();

    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "needs-key");
    assert_eq!(
        trust_of(env, RITA, &rita.fpr),
        ("current".to_owned(), "signed".to_owned())
    );
    assert_eq!(
        events(&d, "key-confirmation-refused")[0]["reason"],
        "the token arrived unencrypted"
    );
    // The exposed token is spent: sent again encrypted, it confirms nothing.
    env.deliver(&encrypted_answer(
        &rita.gpg,
        &desk.team_fpr,
        RITA_FROM,
        &confirmation,
        &quoting(&token),
        "late1@researcher.example",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "needs-key");
    assert!(!kinds(&d).contains(&"key-confirmed"), "{:?}", kinds(&d));
    // A fresh token went out instead; answering that one, encrypted, works.
    let sent = confirmations(env, 1);
    assert_eq!(sent.len(), 2, "{:?}", d.outbox);
    let fresh = token_in(&rita.gpg, &sent[1]).expect("a token");
    assert_ne!(fresh, token);
    env.deliver(&encrypted_answer(
        &rita.gpg,
        &desk.team_fpr,
        RITA_FROM,
        &sent[1],
        &quoting(&fresh),
        "confirm2@researcher.example",
    ));
    env.run_once();
    assert_eq!(the_ack_row(&env.report(1)).status, "sent");
}

#[test]
fn an_expired_or_replayed_token_does_not_confirm_the_key() {
    let (desk, rita, confirmation) = first_contact("key_confirmation_expiry = \"2s\"\n");
    let env = &desk.env;
    let token = token_in(&rita.gpg, &confirmation).expect("a token");
    std::thread::sleep(Duration::from_secs(3));
    env.deliver(&encrypted_answer(
        &rita.gpg,
        &desk.team_fpr,
        RITA_FROM,
        &confirmation,
        &quoting(&token),
        "expired1@researcher.example",
    ));
    env.run_once();
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "needs-key");
    assert_eq!(
        events(&d, "key-confirmation-refused")[0]["reason"],
        "the token has expired"
    );

    // The expired token made way for a new one, answered in time.
    let sent = confirmations(env, 1);
    assert_eq!(sent.len(), 2, "{:?}", d.outbox);
    let fresh = token_in(&rita.gpg, &sent[1]).expect("a token");
    let answer = encrypted_answer(
        &rita.gpg,
        &desk.team_fpr,
        RITA_FROM,
        &sent[1],
        &quoting(&fresh),
        "confirm3@researcher.example",
    );
    env.deliver(&answer);
    env.run_once();
    assert_eq!(the_ack_row(&env.report(1)).status, "sent");

    // The team later makes another key of Rita's current. Replaying the
    // answer (the same encrypted content in a new envelope) does not bring
    // the old key back.
    let other = Person::new(RITA_FROM, &desk.team_public);
    let other_key = other.key();
    env.deliver(&crate::pgp::mail_with(
        &crate::pgp::headers(RITA_FROM, "New key", "newkey@researcher.example", ""),
        &text_entity("My new key.\n", &[key_part(&other_key)]),
    ));
    env.run_once();
    env.ok(&["key", "accept", RITA, &other.fpr, "--by", "alice"]);
    let replay = String::from_utf8(answer)
        .expect("utf-8")
        .replace("confirm3@researcher.example", "replay1@researcher.example")
        .into_bytes();
    env.deliver(&replay);
    env.run_once();
    assert_eq!(
        trust_of(env, RITA, &other.fpr),
        ("current".to_owned(), "confirmed".to_owned())
    );
    assert_eq!(trust_of(env, RITA, &rita.fpr).0, "replaced");
    let d = env.report(1);
    let refused = events(&d, "key-confirmation-refused");
    assert!(
        refused
            .iter()
            .any(|e| e["reason"] == "the token was used before"),
        "{refused:?}"
    );
    assert_eq!(events(&d, "key-confirmed").len(), 1);
}

#[test]
fn a_token_sent_to_another_address_confirms_nothing_here() {
    // Mallory gets an honest confirmation for her own address and key…
    let desk = desk("", "");
    let env = &desk.env;
    let rita = Person::new(RITA_FROM, &desk.team_public);
    rita_reports(&desk, &rita, false);
    let mallory = Person::new("Mallory <mallory@evil.example>", &desk.team_public);
    let key = mallory.key();
    env.deliver(&encrypted_mail(
        &mallory,
        &desk.team_fpr,
        "Mallory <mallory@evil.example>",
        "security@example.org",
        "A report of my own",
        "Nothing much.\n",
        "own1@evil.example",
        &[key_part(&key)],
        true,
    ));
    env.run_once();
    let own = confirmations(env, 2);
    assert_eq!(own.len(), 1);
    let token = token_in(&mallory.gpg, &own[0]).expect("her own token");

    // …and sends it back in Rita's name, encrypted, with a key for Rita.
    let forged_key = Person::new(RITA_FROM, &desk.team_public);
    let forged_public = forged_key.key();
    let mut forged = encrypted_mail(
        &forged_key,
        &desk.team_fpr,
        RITA_FROM,
        &y("security+SEC-2026-0001@example.org"),
        "Re: Please confirm your OpenPGP key",
        &quoting(&token),
        "forged3@evil.example",
        &[key_part(&forged_public)],
        true,
    );
    forged.splice(
        0..0,
        b"In-Reply-To: <first@researcher.example>\r\n".to_vec(),
    );
    env.deliver(&forged);
    env.run_once();

    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "needs-key", "{:?}", kinds(&d));
    assert_eq!(
        events(&d, "key-confirmation-refused")[0]["reason"],
        "the token was sent to another address"
    );
    assert_eq!(trust_of(env, RITA, &forged_key.fpr).1, "signed");
    assert_eq!(
        trust_of(env, "mallory@evil.example", &mallory.fpr).1,
        "signed",
        "the token was spent, not used for Mallory either"
    );
    assert!(!readable_by(env, &forged_key.gpg, SECRET));
}

#[test]
fn a_token_confirms_only_the_key_it_was_sent_for() {
    // Mallory's key for Rita arrives first and is current; Rita's own key
    // arrives later and waits as pending. Each gets a confirmation.
    let (desk, rita, mallory) = held_then_forged(|_, mallory| {
        let key = mallory.key();
        crate::pgp::mail_with(
            &crate::pgp::headers(RITA_FROM, "Key", "forged4@evil.example", ""),
            &text_entity("My key.\n", &[key_part(&key)]),
        )
    });
    let env = &desk.env;
    let key = rita.key();
    env.deliver(&encrypted_mail(
        &rita,
        &desk.team_fpr,
        RITA_FROM,
        &y("security+SEC-2026-0001@example.org"),
        "Re: my report",
        "Here is my key.\n",
        "rita-key@researcher.example",
        &[key_part(&key)],
        true,
    ));
    env.run_once();
    assert_eq!(trust_of(env, RITA, &rita.fpr).0, "pending");
    let sent = confirmations(env, 1);
    assert_eq!(sent.len(), 2, "{:?}", env.report(1).outbox);
    let mine = sent
        .iter()
        .find_map(|m| token_in(&rita.gpg, m).map(|t| (t, m.clone())))
        .expect("a confirmation Rita can read");

    // Rita answers hers, and (by mistake or not) attaches Mallory's key.
    let mallory_key = mallory.key();
    let reply_to = header(&mine.1, "Reply-To").expect("Reply-To");
    env.deliver(&encrypted_mail(
        &rita,
        &desk.team_fpr,
        RITA_FROM,
        &reply_to,
        "Re: Please confirm your OpenPGP key",
        &quoting(&mine.0),
        "confirm4@researcher.example",
        &[key_part(&mallory_key)],
        false,
    ));
    env.run_once();

    assert_eq!(
        trust_of(env, RITA, &rita.fpr),
        ("current".to_owned(), "confirmed".to_owned())
    );
    // Seen again inside Rita's encrypted mail, but still unproven.
    let (status, trust) = trust_of(env, RITA, &mallory.fpr);
    assert_eq!((status.as_str(), trust.as_str()), ("replaced", "encrypted"));
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "sent");
    assert!(!readable_by(env, &mallory.gpg, SECRET));
    assert!(readable_by(env, &rita.gpg, SECRET));
}

#[test]
fn a_flood_of_forged_keys_sends_a_bounded_number_of_confirmations() {
    let desk = desk("", "[limits]\nauto_replies_per_sender = 5\n");
    let env = &desk.env;
    let rita = Person::new(RITA_FROM, &desk.team_public);
    rita_reports(&desk, &rita, false);
    // Fifty mails in Rita's name, each with a new key for her address.
    let created = now()
        .checked_sub(SignedDuration::from_hours(1))
        .expect("sub");
    for n in 0..50 {
        let cert = keys::generate(RITA_FROM, created, None, None).expect("generate");
        let key = keys::export_public(&cert).expect("export");
        env.deliver(&crate::pgp::mail_with(
            &crate::pgp::headers(
                RITA_FROM,
                &format!("Key {n}"),
                &format!("flood{n}@evil.example"),
                "",
            ),
            &text_entity("Use this key.\n", &[key_part(key.as_bytes())]),
        ));
    }
    env.run_once();

    let confirmations = confirmation_rows(env);
    assert!(
        (1..=5).contains(&confirmations),
        "{confirmations} confirmation mails"
    );
    // Everything automatic to Rita in the window, acknowledgements included,
    // stays within the limit.
    let to_rita = env.sent_to(RITA).len();
    assert!(to_rita <= 5, "{to_rita} mails to Rita");
    assert_eq!(the_ack_row(&env.report(1)).status, "needs-key");
    let skipped: usize = (1..=51)
        .map(|n| events(&env.report(n), "key-confirmation-skipped").len())
        .sum();
    assert!(skipped > 0, "the rate limit was never hit");
}

#[test]
fn a_keyring_key_is_proven_and_answers_at_once() {
    let gpg = Gpg::new();
    let fpr = gpg.generate(RITA_FROM, Algo::Curve25519);
    let keyring = gpg.export_public(&fpr);
    let keyring_desk = keyring_deskwith(
        "keyring = \"keyring.asc\"\n",
        "",
        &[("keyring.asc", &keyring)],
    );
    gpg.import(&keyring_desk.team_public);
    let rita = Person { gpg, fpr };
    rita_reports(&keyring_desk, &rita, false);
    let env = &keyring_desk.env;
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "sent", "{:?}", kinds(&d));
    assert_eq!(
        trust_of(env, RITA, &rita.fpr),
        ("current".to_owned(), "keyring".to_owned())
    );
    assert!(outbox(&d, "key-confirmation").is_empty());
    let acks = env.sent_of(&d, "acknowledgement");
    read_as(&rita.gpg, &acks[0], &keyring_desk.team_fpr);

    // A key in the keyring also takes over from one a mail brought.
    let mallory = Person::new(RITA_FROM, &keyring_desk.team_public);
    let forged = mallory.key();
    env.deliver(&crate::pgp::mail_with(
        &crate::pgp::headers(RITA_FROM, "Key", "forged5@evil.example", ""),
        &text_entity("My key.\n", &[key_part(&forged)]),
    ));
    env.run_once();
    assert_eq!(trust_of(env, RITA, &rita.fpr).0, "current");
    assert_eq!(trust_of(env, RITA, &mallory.fpr).0, "pending");
}

#[test]
fn key_accept_confirms_the_key_and_releases_held_mail_at_once() {
    let (desk, rita, _confirmation) = first_contact("");
    let env = &desk.env;
    let spaced = grouped(&rita.fpr).to_lowercase();
    let said = env.ok(&["key", "accept", RITA, &spaced, "--by", "alice"]);
    assert!(said.contains("1 held mail"), "{said}");
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "queued");
    let accepted = &events(&d, "key-accepted")[0];
    assert_eq!(accepted["by"], "alice");
    assert_eq!(accepted["fingerprint"], rita.fpr.as_str());
    assert_eq!(
        events(&d, "held-mail-released")[0]["key"],
        rita.fpr.as_str()
    );
    assert_eq!(
        trust_of(env, RITA, &rita.fpr),
        ("current".to_owned(), "confirmed".to_owned())
    );
    env.run_once();
    let d = env.report(1);
    assert_eq!(the_ack_row(&d).status, "sent");
    let acks = env.sent_of(&d, "acknowledgement");
    read_as(&rita.gpg, &acks[0], &desk.team_fpr);
    // Accepting it again changes nothing.
    let again = env.ok(&["key", "accept", RITA, &rita.fpr]);
    assert!(again.contains("already"), "{again}");
}
