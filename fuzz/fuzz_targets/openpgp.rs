//! Fuzzes `disclosed::fuzzing::openpgp` with the test keyring in tests/data/openpgp.
#![no_main]

use std::sync::{Once, OnceLock};

use disclosed::fuzzing::Keyring;

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/openpgp");
        Keyring::load(std::path::Path::new(dir)).expect("the test keyring loads")
    })
}

/// libfuzzer-sys aborts on any panic, even one that is caught. The library
/// catches panics inside sequoia-openpgp (known upstream bugs reachable by
/// crafted input) and records the message as corrupt, so those unwind to that
/// guard; every other panic still aborts, and so does one sequoia's that the
/// library did not catch (libfuzzer-sys aborts when a panic leaves the target).
fn tolerate_sequoia_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_sequoia = info
                .location()
                .is_some_and(|l| l.file().contains("sequoia-openpgp"));
            if !in_sequoia {
                abort(info);
            }
        }));
    });
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tolerate_sequoia_panics();
    disclosed::fuzzing::openpgp(data, keyring());
});
