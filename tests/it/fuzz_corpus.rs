//! The fuzz corpora (`fuzz/corpus/<target>/`) replayed through the bodies of
//! their fuzz targets (`disclosed::fuzzing`) on the ordinary toolchain: every
//! input the fuzzer kept, and every crash it once found, must run without a
//! panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use disclosed::crypto::{Encryption, FailReason, Signature};
use disclosed::fuzzing::{self, Keyring};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        Keyring::load(&root().join("tests/data/openpgp")).expect("the test keyring loads")
    })
}

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = root().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no input", dir.display());
    files
}

/// Runs `body` on every input of `target`'s corpus and fails naming each
/// input that panicked.
fn replay(target: &str, body: impl Fn(&[u8])) {
    let panicked: Vec<String> = corpus(target)
        .into_iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("read corpus input");
            catch_unwind(AssertUnwindSafe(|| body(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        panicked.is_empty(),
        "{target}: panicked on {}",
        panicked.join(", ")
    );
}

fn input(target: &str, name: &str) -> Vec<u8> {
    std::fs::read(root().join("fuzz/corpus").join(target).join(name)).expect("corpus input")
}

#[test]
fn every_target_has_a_corpus_and_a_body() {
    let mut targets: Vec<&str> = fuzzing::TARGETS.iter().map(|(name, _)| *name).collect();
    targets.push("openpgp");
    targets.sort_unstable();
    let mut dirs: Vec<String> = std::fs::read_dir(root().join("fuzz/corpus"))
        .expect("fuzz/corpus")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    dirs.sort_unstable();
    assert_eq!(targets, dirs, "one corpus directory per fuzz target");
}

#[test]
fn the_mime_corpus_parses_and_classifies_without_panicking() {
    replay("mime", fuzzing::mime);
}

#[test]
fn the_openpgp_corpus_opens_without_panicking() {
    replay("openpgp", |data| {
        let _ = fuzzing::openpgp(data, keyring());
    });
}

#[test]
fn the_authentication_results_corpus_parses_without_panicking() {
    replay("auth_results", fuzzing::auth_results);
}

#[test]
fn the_command_corpus_parses_and_plans_without_panicking() {
    replay("command", fuzzing::command);
}

#[test]
fn the_strip_corpus_strips_text_and_html_without_panicking() {
    replay("strip", fuzzing::strip);
}

#[test]
fn the_config_corpus_parses_without_panicking() {
    replay("config", fuzzing::config);
}

/// The honest case beside the one below: the OpenPGP target really decrypts
/// and verifies with the test keyring, so the fuzzer reaches past the
/// decryption step instead of stopping at "no key".
#[test]
fn the_openpgp_target_decrypts_and_verifies_with_the_test_keyring() {
    let opened = fuzzing::openpgp(&input("openpgp", "pgp-mime-signed.eml"), keyring());
    assert!(
        matches!(opened.encryption, Encryption::Decrypted { .. }),
        "{:?}",
        opened.encryption
    );
    assert!(
        matches!(
            opened.signature,
            Signature::Valid {
                from_matches: true,
                ..
            }
        ),
        "{:?}",
        opened.signature
    );
    let inner = String::from_utf8_lossy(opened.inner.as_deref().expect("inner entity"));
    assert!(
        inner.contains("The export endpoint leaks invoices."),
        "{inner}"
    );
}

/// sequoia-openpgp panics (an `unwrap()` on `UnexpectedEof` in its parser) on a
/// PGP/MIME part holding only the first 200 bytes of a real encrypted
/// message; the guard around sequoia turns that into a corrupt message.
#[test]
fn a_truncated_pgp_mime_part_is_recorded_as_corrupt_not_a_crash() {
    let opened = fuzzing::openpgp(&input("openpgp", "pgp-mime-truncated-200.eml"), keyring());
    assert!(
        matches!(
            opened.encryption,
            Encryption::Failed {
                reason: FailReason::Corrupt,
                ..
            }
        ),
        "{:?}",
        opened.encryption
    );
    assert!(opened.inner.is_none(), "nothing of the plaintext is kept");
}
