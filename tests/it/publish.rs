//! The published outputs through the binary: `hall-of-fame`, `security-txt`
//! (parsed by an independent RFC 9116 parser, its signature checked by gpg and
//! sq) and `publish --out DIR`.

use std::path::Path;
use std::process::Command;

use jiff::{SignedDuration, Timestamp, ToSpan};

use disclosed::audit::{Actor, Auth};
use disclosed::clock::{Clock, SystemClock};
use disclosed::crypto::keys;
use disclosed::report::{Credit, ReportId, ReportState};
use disclosed::store::{Recorder, StoreError};

use crate::common::Env;

/// An installation with a team key, `[publish]` and `[security_txt]`
/// expiring `expires_in_days` from today.
pub fn site_env(expires_in_days: i64) -> Env {
    let today = SystemClock
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let expires = today.checked_add(expires_in_days.days()).expect("day");
    let env = Env::with_file_transport(&format!(
        "[openpgp]\nsecret_keys = [\"keys/team.key\"]\n\n\
         [publish]\nbase_url = \"https://example.org/security\"\n\n\
         [security_txt]\nexpires = \"{expires}\"\nlanguages = [\"en\", \"de\"]\n"
    ));
    env.ok(&["init", "--generate-key"]);
    env
}

/// One report as a test wants it: its credit, the state it ends in, the
/// release that fixes it.
pub struct Seed<'a> {
    pub credit: Credit,
    pub end: ReportState,
    pub fixed_in: Option<&'a str>,
}

pub fn named(name: &str, url: Option<&str>) -> Credit {
    Credit::Named {
        name: name.into(),
        affiliation: None,
        url: url.map(Into::into),
        key: None,
    }
}

/// Creates the reports through the store: arrival, fix, then `end`.
pub fn seed(env: &Env, seeds: &[Seed<'_>]) -> Vec<ReportId> {
    let mut store = env.store();
    let base: Timestamp = "2026-09-01T08:00:00Z".parse().expect("time");
    store
        .write(|batch| {
            let tx = batch.tx();
            let mut ids = Vec::new();
            for (i, s) in seeds.iter().enumerate() {
                let opened = base + SignedDuration::from_hours(24 * i as i64);
                let id = tx.create_report(
                    "SEC",
                    2026,
                    &format!("r{i}@reporter.example"),
                    "SECRET SUBJECT of the reporter",
                    opened,
                )?;
                let rec = |hours: i64| Recorder {
                    report: Some(&id),
                    at: opened + SignedDuration::from_hours(hours),
                    actor: Actor::Named("alice@example.org"),
                    auth: Auth::None,
                    message: None,
                };
                tx.set_credit(&id, &s.credit)?;
                if let Some(v) = s.fixed_in {
                    tx.set_fixed_in(&id, v)?;
                }
                rec(2).change_state(&tx, &id, ReportState::Accepted, "state", None)?;
                if matches!(s.end, ReportState::Fixed | ReportState::Disclosed) {
                    rec(24 * 5).change_state(&tx, &id, ReportState::Fixed, "state", None)?;
                }
                if s.end == ReportState::Disclosed {
                    rec(24 * 40).change_state(&tx, &id, ReportState::Disclosed, "state", None)?;
                }
                ids.push(id);
            }
            Ok::<_, StoreError>(ids)
        })
        .expect("seed")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The team's public certificate, as the site publishes it.
fn public_key(env: &Env) -> String {
    let certs = keys::read_secret_keys(&env.path("keys/team.key")).expect("key");
    keys::export_public(&certs[0]).expect("export")
}

#[test]
fn security_txt_parses_and_its_signature_verifies_with_gpg_and_sq() {
    let env = site_env(180);
    let text = env.ok(&["security-txt"]);
    let parsed = sectxtlib::SecurityTxt::parse(&text).expect("RFC 9116");
    assert!(parsed.is_signed);
    assert_eq!(
        parsed.contact[0].uri.as_str(),
        "mailto:security@example.org"
    );
    assert_eq!(
        parsed.encryption[0].uri.as_str(),
        "https://example.org/security/pgp-key.txt"
    );
    assert_eq!(
        parsed.acknowledgments[0].uri.as_str(),
        "https://example.org/security/hall-of-fame.html"
    );
    assert_eq!(
        parsed.canonical[0].uri.as_str(),
        "https://example.org/security/.well-known/security.txt"
    );
    assert_eq!(
        parsed.policy[0].uri.as_str(),
        "https://example.org/security"
    );
    let languages = parsed.preferred_languages.expect("languages");
    assert_eq!(languages.languages.len(), 2);
    assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("Hash: ")));

    let dir = tempfile::tempdir().expect("tempdir");
    let signed = dir.path().join("security.txt");
    std::fs::write(&signed, &text).expect("write");
    let cert = dir.path().join("team.asc");
    std::fs::write(&cert, public_key(&env)).expect("write");

    // gpg: a keyring of its own, the team's certificate only.
    assert!(has("gpg"), "gpg is needed for this test");
    let home = dir.path().join("gnupg");
    std::fs::create_dir(&home).expect("mkdir");
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("chmod");
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .arg("--homedir")
            .arg(&home)
            .args(["--batch", "--no-tty"])
            .args(args)
            .output()
            .expect("run gpg")
    };
    let import = gpg(&["--import", cert.to_str().expect("utf-8")]);
    assert!(import.status.success(), "{}", stderr(&import));
    let verify = gpg(&["--verify", signed.to_str().expect("utf-8")]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(
        stderr(&verify).contains("Good signature"),
        "{}",
        stderr(&verify)
    );

    assert!(has("sq"), "sq is needed for this test");
    let sq = Command::new("sq")
        .arg("verify")
        .arg("--signer-cert")
        .arg(&cert)
        .arg(&signed)
        .output()
        .expect("run sq");
    assert!(sq.status.success(), "{}", stderr(&sq));
    assert!(String::from_utf8_lossy(&sq.stdout).contains("Contact: mailto:security@example.org"));
}

#[test]
fn a_tampered_security_txt_fails_verification() {
    let env = site_env(180);
    let text = env.ok(&["security-txt"]);
    let tampered = text.replace(
        "mailto:security@example.org",
        "mailto:attacker@evil.example",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let signed = dir.path().join("security.txt");
    std::fs::write(&signed, tampered).expect("write");
    let cert = dir.path().join("team.asc");
    std::fs::write(&cert, public_key(&env)).expect("write");
    let sq = Command::new("sq")
        .arg("verify")
        .arg("--signer-cert")
        .arg(&cert)
        .arg(&signed)
        .output()
        .expect("run sq");
    assert!(!sq.status.success(), "a changed Contact must not verify");
}

#[test]
fn security_txt_refuses_an_expiry_more_than_a_year_ahead_or_past() {
    for days in [367, 0, -3] {
        let env = site_env(days);
        let out = env.cmd(&["security-txt"]);
        assert_eq!(out.status.code(), Some(2), "{days}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("security_txt] expires"),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_v6_signing_key_is_refused_for_security_txt() {
    let env = site_env(90);
    let now = SystemClock.now();
    let (cert, _) =
        sequoia_openpgp::cert::CertBuilder::general_purpose(Some("Example <security@example.org>"))
            .set_profile(sequoia_openpgp::Profile::RFC9580)
            .expect("profile")
            .set_creation_time(disclosed::crypto::system_time(
                now - SignedDuration::from_hours(1),
            ))
            .generate()
            .expect("v6 key");
    std::fs::remove_file(env.path("keys/team.key")).expect("rm");
    keys::write_secret(&env.path("keys/team.key"), &cert).expect("write");
    let out = env.cmd(&["security-txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("v6 key"), "{}", stderr(&out));
}

#[test]
fn the_hall_of_fame_lists_only_disclosed_reports_with_consent() {
    let env = site_env(90);
    seed(
        &env,
        &[
            Seed {
                credit: named("Jane  Doe", Some("https://jane.example")),
                end: ReportState::Disclosed,
                fixed_in: Some("1.0"),
            },
            Seed {
                credit: named("jane doe", None),
                end: ReportState::Disclosed,
                fixed_in: Some("1.1"),
            },
            Seed {
                credit: named("Bob", None),
                end: ReportState::Disclosed,
                fixed_in: Some("1.1"),
            },
            Seed {
                credit: named("Not Yet Public", None),
                end: ReportState::Fixed,
                fixed_in: Some("1.2"),
            },
            Seed {
                credit: Credit::None,
                end: ReportState::Disclosed,
                fixed_in: Some("1.2"),
            },
            Seed {
                credit: Credit::Unknown,
                end: ReportState::Disclosed,
                fixed_in: None,
            },
        ],
    );
    let json = env.ok(&["hall-of-fame", "--format", "json"]);
    let lines: serde_json::Value = serde_json::from_str(&json).expect("json");
    let names: Vec<_> = lines
        .as_array()
        .expect("array")
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap_or_default().to_owned(),
                l["contributions"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("jane doe".to_owned(), Some(2)),
            ("Bob".to_owned(), Some(1))
        ]
    );
    let md = env.ok(&["hall-of-fame", "--format", "md"]);
    assert!(md.contains("1. jane doe (2 contributions"), "{md}");
    let html = env.ok(&["hall-of-fame"]);
    assert!(!html.contains("Not Yet Public") && !html.contains("reporter.example"));
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn publish_writes_the_site_once_and_a_second_run_rewrites_nothing() {
    let env = site_env(90);
    let ids = seed(
        &env,
        &[
            Seed {
                credit: named("Jane", None),
                end: ReportState::Disclosed,
                fixed_in: Some("2.0"),
            },
            Seed {
                credit: named("Hidden", None),
                end: ReportState::Fixed,
                fixed_in: Some("2.1"),
            },
        ],
    );
    let site = env.path("site");
    let out = env.ok(&["publish", "--out", site.to_str().expect("utf-8")]);
    assert!(
        out.contains("7 file(s) written, 0 unchanged, 0 removed"),
        "{out}"
    );
    let sectxt = read(&site, ".well-known/security.txt");
    sectxtlib::SecurityTxt::parse(&sectxt).expect("RFC 9116");
    assert!(read(&site, "pgp-key.txt").starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    let updates = read(&site, "security-updates.html");
    assert!(updates.contains(ids[0].as_str()) && updates.contains("Release 2.0"));
    assert!(
        !updates.contains(ids[1].as_str()),
        "a fixed report is not public yet"
    );
    assert!(site.join(format!("advisories/{}.html", ids[0])).is_file());
    assert!(site.join(format!("advisories/{}.json", ids[0])).is_file());
    assert!(!site.join(format!("advisories/{}.html", ids[1])).exists());
    for page in [
        "hall-of-fame.html",
        "security-updates.html",
        "statistics.html",
    ] {
        let text = read(&site, page);
        assert!(
            !text.contains("SECRET SUBJECT") && !text.contains("reporter.example"),
            "{page}"
        );
    }
    let mtime = |rel: &str| {
        std::fs::metadata(site.join(rel))
            .and_then(|m| m.modified())
            .expect("mtime")
    };
    let before = mtime(".well-known/security.txt");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = env.ok(&["publish", "--out", site.to_str().expect("utf-8")]);
    assert!(
        again.contains("0 file(s) written, 7 unchanged, 0 removed"),
        "{again}"
    );
    assert_eq!(before, mtime(".well-known/security.txt"), "not re-signed");

    // The same for scripts.
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "publish",
        "--out",
        site.to_str().expect("utf-8"),
        "--json",
    ]))
    .expect("json");
    assert_eq!(json["changes"]["written"], serde_json::json!([]), "{json}");
    assert_eq!(json["changes"]["unchanged"], 7, "{json}");
    std::fs::remove_file(site.join("statistics.html")).expect("remove");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "publish",
        "--out",
        site.to_str().expect("utf-8"),
        "--json",
    ]))
    .expect("json");
    assert_eq!(
        json["changes"]["written"],
        serde_json::json!(["statistics.html"]),
        "{json}"
    );
    let sectxt: serde_json::Value =
        serde_json::from_str(&env.ok(&["security-txt", "--json"])).expect("json");
    assert_eq!(
        sectxt["fields"]["contact"].as_str(),
        Some("security@example.org"),
        "{sectxt}"
    );
    // Signed again now, so only the text before the signature is the same.
    let text = |signed: &str| {
        signed
            .split("-----BEGIN PGP SIGNATURE-----")
            .next()
            .map(str::to_owned)
    };
    assert_eq!(
        sectxt["signed"].as_str().and_then(text),
        text(&read(&site, ".well-known/security.txt")),
        "the same text as the published file"
    );
}

#[test]
fn publish_needs_a_directory() {
    let env = site_env(90);
    let out = env.cmd(&["publish"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn the_team_can_override_the_hall_of_fame_template() {
    let env = site_env(90);
    std::fs::create_dir_all(env.path("templates")).expect("mkdir");
    std::fs::write(
        env.path("templates/hall-of-fame.md.hbs"),
        "Thanks to:{{#each lines}} {{name}} ({{contributions}}){{/each}}\n",
    )
    .expect("write");
    let config = std::fs::read_to_string(env.config()).expect("read");
    env.write_config(&format!("{config}\n[templates]\ndir = \"templates\"\n"));
    seed(
        &env,
        &[Seed {
            credit: named("Jane_Doe", None),
            end: ReportState::Disclosed,
            fixed_in: None,
        }],
    );
    assert_eq!(
        env.ok(&["hall-of-fame", "--format", "md"]),
        "Thanks to: Jane\\_Doe (1)\n"
    );
}
