//! OpenPGP opening benchmark: how fast `crypto::open::open` decrypts and
//! verifies a directory of PGP/MIME reports in one process.
//!
//! `scripts/bench-openpgp` generates the corpus with GnuPG and runs this with
//! `DISCLOSED_BENCH_OPENPGP_DIR` pointing at it:
//!
//! - `mail/*.eml`: the messages (each a complete mail);
//! - `team.key`: the team's secret key;
//! - `certs.pgp`: the senders' public keys (for verification).
//!
//! It opens every message (best of three passes), checks that each was
//! decrypted and carries a valid signature, and prints one `RESULT` line the
//! script reads. Without the variable it says how to run it and exits 0, so
//! `cargo bench` alone does not fail.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use disclosed::clock::Clock as _;
use disclosed::crypto::{CryptoLimits, Encryption, Signature, TeamKeys, keys, open};
use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse as _;

const DIR_VAR: &str = "DISCLOSED_BENCH_OPENPGP_DIR";
const PASSES: usize = 3;

fn main() -> ExitCode {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        println!("{DIR_VAR} is not set: run scripts/bench-openpgp, which generates the corpus");
        return ExitCode::SUCCESS;
    };
    match run(Path::new(&dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-openpgp: {err}");
            ExitCode::FAILURE
        }
    }
}

/// One message: its bytes and lower-cased From address.
struct Message {
    raw: Vec<u8>,
    from: Option<String>,
}

fn run(dir: &Path) -> Result<(), String> {
    let now = disclosed::clock::SystemClock.now();
    let team_cert = Cert::from_file(dir.join("team.key"))
        .map_err(|e| format!("{}: {e}", dir.join("team.key").display()))?;
    let team = TeamKeys::from_certs(vec![team_cert], now).map_err(|e| e.to_string())?;
    let certs = keys::load_keyring(&dir.join("certs.pgp")).map_err(|e| e.to_string())?;
    let limits = CryptoLimits::from_config(&disclosed::config::Limits::default());

    let mut paths: Vec<_> = std::fs::read_dir(dir.join("mail"))
        .map_err(|e| format!("{}: {e}", dir.join("mail").display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    let messages: Vec<Message> = paths
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let from = mail_parser::MessageParser::default()
                .parse(&raw)
                .and_then(|m| {
                    m.from()
                        .and_then(|f| f.first())
                        .and_then(|a| a.address())
                        .map(str::to_ascii_lowercase)
                });
            Ok(Message { raw, from })
        })
        .collect::<Result<_, String>>()?;
    if messages.is_empty() {
        return Err(format!("no .eml files in {}", dir.join("mail").display()));
    }
    let bytes: usize = messages.iter().map(|m| m.raw.len()).sum();

    let mut best = Duration::MAX;
    for _ in 0..PASSES {
        let started = Instant::now();
        let (mut decrypted, mut valid) = (0, 0);
        for m in &messages {
            let opened = open::open(&m.raw, m.from.as_deref(), Some(&team), &certs, &limits, now);
            decrypted += usize::from(matches!(opened.encryption, Encryption::Decrypted { .. }));
            valid += usize::from(matches!(opened.signature, Signature::Valid { .. }));
            std::hint::black_box(&opened);
        }
        best = best.min(started.elapsed());
        if decrypted != messages.len() || valid != messages.len() {
            return Err(format!(
                "of {} messages {decrypted} were decrypted and {valid} had a valid signature",
                messages.len()
            ));
        }
    }
    let rate = messages.len() as f64 / best.as_secs_f64();
    println!(
        "RESULT in-process messages={} bytes={bytes} seconds={:.4} rate={rate:.1}",
        messages.len(),
        best.as_secs_f64()
    );
    Ok(())
}
