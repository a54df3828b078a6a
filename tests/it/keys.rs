//! The team's OpenPGP keys through the binary: `key generate|list|export`,
//! `init --generate-key`, and what `init` and `check` say about the keys the
//! configuration names. The exported key is read back by GnuPG 2.2.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use disclosed::clock::{Clock, SystemClock};
use disclosed::crypto::keys;
use jiff::{SignedDuration, Timestamp};
use sequoia_openpgp::Cert;
use sequoia_openpgp::crypto::Password;

use crate::common::{BIN, Env};

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
