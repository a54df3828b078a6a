//! The installed layout, checked without a container: the unit, the package's
//! files, the README's install commands and the key's home agree, and the
//! binary's own generated documentation works without a configuration.
//! `scripts/systemd-test` (run by `scripts/test.sh`) proves the same files
//! under a real systemd.

use std::path::Path;
use std::process::Command;

use disclosed::config::{Config, SourceConfig};

use crate::common::{BIN, Env};

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of README.md's fenced block marked `<!-- systemd-test: NAME -->`,
/// the way `scripts/systemd-test` reads them.
fn readme_block(name: &str) -> String {
    let readme = repo_file("README.md");
    let marker = format!("<!-- systemd-test: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"))
        .1;
    let body = after
        .split_once("```sh\n")
        .expect("a fenced block after the marker")
        .1;
    body.split_once("\n```")
        .expect("the fenced block ends")
        .0
        .to_owned()
}

/// Lines that are not comments.
fn directives(unit: &str) -> Vec<&str> {
    unit.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
}

#[test]
fn a_key_is_never_generated_into_a_credential_directory() {
    let env = Env::with_file_transport("");
    let target = "/run/credentials/disclosed.service/team-key";
    let out = env.cmd(&["key", "generate", "--output", target]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/etc/disclosed/keys/team.key"), "{stderr}");
    assert!(stderr.contains("lost"), "{stderr}");
    assert!(!Path::new(target).exists(), "nothing is written there");

    // The same through the configuration and `init --generate-key`.
    let env = Env::with_file_transport(&format!("[openpgp]\nsecret_keys = [\"{target}\"]\n"));
    let out = env.cmd(&["init", "--generate-key"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/etc/disclosed/keys/team.key"), "{stderr}");
    assert!(!Path::new(target).exists());
}

#[test]
fn a_key_is_generated_anywhere_else() {
    let env = Env::with_file_transport("");
    let target = env.path("keys/team.key");
    let target = target.to_str().expect("utf-8 path");
    let out = env.ok(&["key", "generate", "--output", target]);
    assert!(out.contains("generated key"), "{out}");
    assert!(Path::new(target).is_file());
}

#[test]
fn completions_and_manual_pages_need_no_configuration() {
    let missing = "/nonexistent/disclosed/config.toml";
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN)
            .args(["--config", missing, "completions", shell])
            .output()
            .expect("run");
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("disclosed") && text.contains("generate"),
            "{shell}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["--config", missing, "manpages"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let page = std::fs::read_to_string(dir.path().join("disclosed-key-generate.1")).expect("page");
    assert!(page.contains("validity"), "{page}");
}

#[test]
fn a_credential_a_setup_does_not_use_cannot_stop_the_start() {
    // systemd 252 fails a start whose LoadCredential= file is missing: the
    // unit names none; the optional drop-in offers them.
    let unit = repo_file("systemd/disclosed.service");
    let lines = directives(&unit);
    assert!(
        !lines.iter().any(|l| l.starts_with("LoadCredential")),
        "{lines:?}"
    );
    assert!(!lines.contains(&"DynamicUser=yes"), "{lines:?}");
    assert!(lines.contains(&"User=disclosed"), "{lines:?}");
    let drop_in = repo_file("pkg/examples/credentials.conf");
    for line in [
        "LoadCredential=imap:",
        "LoadCredential=smtp:",
        "LoadCredential=key-passphrase:",
    ] {
        assert!(drop_in.contains(line), "the drop-in lacks {line}");
    }
}

#[test]
fn the_unit_the_package_and_the_readme_agree_on_every_path() {
    let unit = repo_file("systemd/disclosed.service");
    let manifest = repo_file("Cargo.toml");
    let tmpfiles = repo_file("pkg/tmpfiles.d/disclosed.conf");
    let sysusers = repo_file("pkg/sysusers.d/disclosed.conf");
    // The binary the unit runs is the one the package installs.
    assert!(unit.contains("ExecStart=/usr/bin/disclosed run"));
    assert!(manifest.contains(r#"["target/release/disclosed", "usr/bin/", "755"]"#));
    assert!(manifest.contains(r#""usr/lib/sysusers.d/disclosed.conf""#));
    assert!(manifest.contains(r#""usr/lib/tmpfiles.d/disclosed.conf""#));
    assert!(manifest.contains(r#"["config.example.toml", "etc/disclosed/config.toml", "644"]"#));
    assert!(sysusers.contains("u disclosed "), "{sysusers}");
    // The state directory, the Maildir and the keys' home, owned by the user.
    for dir in [
        "/var/lib/disclosed ",
        "/var/lib/disclosed/Maildir/new ",
        "/var/lib/disclosed/outbox ",
        "/etc/disclosed/keys ",
    ] {
        assert!(
            tmpfiles.lines().any(|l| l.starts_with("d ")
                && l.contains(dir)
                && l.contains("disclosed disclosed")),
            "tmpfiles.d lacks {dir}"
        );
    }

    // The example and the README's configuration use exactly those places.
    let readme_config = readme_block("first-hour");
    let readme_config = readme_config
        .split_once("<<'EOF'\n")
        .and_then(|(_, rest)| rest.split_once("\nEOF\n"))
        .expect("a config heredoc in the first-hour block")
        .0;
    for (name, text) in [
        ("config.example.toml", repo_file("config.example.toml")),
        ("README first hour", readme_config.to_owned()),
    ] {
        let config = Config::parse(&text, Path::new("/etc/disclosed/config.toml"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            config.storage.database,
            Path::new("/var/lib/disclosed/disclosed.sqlite3"),
            "{name}"
        );
        match &config.source {
            SourceConfig::Maildir { path, .. } => {
                assert_eq!(path, Path::new("/var/lib/disclosed/Maildir"), "{name}");
            }
            SourceConfig::Imap(_) => panic!("{name}: the first source is the Maildir"),
        }
        assert_eq!(
            config.openpgp.secret_keys,
            vec![Path::new("/etc/disclosed/keys/team.key").to_path_buf()],
            "{name}"
        );
    }
}

#[test]
fn the_readme_install_commands_are_where_the_container_test_reads_them() {
    let first_hour = readme_block("first-hour");
    for command in [
        "disclosed key generate",
        "disclosed key export",
        "disclosed check",
        "systemctl enable --now disclosed",
        "disclosed reports",
    ] {
        assert!(first_hour.contains(command), "first hour lacks {command}");
    }
    assert!(readme_block("install-deb").contains("apt-get install ./disclosed_"));
    assert!(readme_block("build-deb").contains("scripts/package"));
    assert!(readme_block("from-source").contains("cargo build --release"));
    let script = repo_file("scripts/systemd-test");
    for name in ["install-deb", "first-hour", "from-source"] {
        assert!(
            script.contains(&format!("block {name}")),
            "scripts/systemd-test does not run the {name} block"
        );
    }
}
