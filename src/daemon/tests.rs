use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use tokio::sync::watch;

use super::{Settings, reload};
use crate::crypto::{Crypto, keys};

fn now() -> jiff::Timestamp {
    "2026-11-23T12:00:00Z".parse().expect("time")
}

#[test]
fn a_reload_with_an_unusable_key_keeps_the_keys_in_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    let plain = crate::config::tests::MINIMAL.to_owned();
    std::fs::write(&path, &plain).expect("write");
    let loaded = crate::settings::load(&path).expect("config");
    let (sender, receiver) = watch::channel(Arc::new(Settings {
        config: loaded.config,
        rules: loaded.rules,
        templates: loaded.templates,
        crypto: Crypto::default(),
    }));

    let key = keys::generate(
        "Example Security <security@example.org>",
        now() - jiff::SignedDuration::from_hours(1),
        None,
        None,
    )
    .expect("generate");
    let key_path = dir.path().join("team.key");
    keys::write_secret(&key_path, &key).expect("write key");
    std::fs::write(
        &path,
        format!("{plain}\n[openpgp]\nsecret_keys = [\"team.key\"]\n"),
    )
    .expect("write");

    // Open to others: refused, and the running settings stay.
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    reload(&path, &sender, now());
    assert!(receiver.borrow().crypto.team.is_none());
    assert!(receiver.borrow().config.openpgp.secret_keys.is_empty());

    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    reload(&path, &sender, now());
    let settings = receiver.borrow();
    let team = settings.crypto.team.as_ref().expect("keys in force");
    assert_eq!(team.current().fingerprint(), key.fingerprint());
}
