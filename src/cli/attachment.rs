//! `disclosed attachment REPORT N --output FILE`: writes one attachment of a
//! report to a file, byte for byte. Attachments that were too large (or past a
//! quota) to mail to each member are kept only here, in the stored message;
//! when no decrypted copy of it was kept, it is decrypted again with the team
//! key.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use jiff::Timestamp;

use super::{CliError, load_crypto, open_existing};
use crate::config::Config;
use crate::crypto::CryptoLimits;
use crate::parse::{self, ParseLimits};
use crate::report::ReportId;

/// Writes attachment `number` (as the report's notifications number them)
/// of report `id` to `output`, a new file (mode 0600): it is report content.
pub fn fetch(
    config: &Config,
    id: &str,
    number: usize,
    output: &Path,
    now: Timestamp,
) -> Result<(), CliError> {
    let Some(report) = ReportId::parse(&config.program.id_prefix, id) else {
        return Err(CliError::Usage(format!(
            "`{id}` is not a report id like {}-2026-0042",
            config.program.id_prefix
        )));
    };
    let store = open_existing(config)?;
    let listed = store
        .read()
        .report_attachments(&report)
        .map_err(anyhow::Error::from)?;
    let Some(wanted) = listed.iter().find(|a| a.number == number) else {
        return Err(CliError::Usage(format!(
            "report {report} has {} attachment(s); there is no number {number}",
            listed.len()
        )));
    };
    let stored = store
        .read()
        .stored_bytes(wanted.message)
        .map_err(anyhow::Error::from)?;
    let readable = match (stored.decrypted, stored.raw) {
        (Some(decrypted), _) => decrypted,
        (None, Some(raw)) if crate::crypto::open::is_encrypted_form(&raw) => {
            let crypto = load_crypto(config, now)?;
            decrypt(config, &crypto, &raw, now).ok_or_else(|| {
                anyhow::anyhow!(
                    "the message holding attachment {number} of {report} cannot be decrypted"
                )
            })?
        }
        (None, Some(raw)) => raw,
        (None, None) => {
            return Err(anyhow::anyhow!(
                "the message holding attachment {number} of {report} was too large to store; \
                 it is still on the source"
            )
            .into());
        }
    };
    let limits = ParseLimits::from_config(&config.limits);
    let found = parse::attachment_contents(&readable, &limits)
        .into_iter()
        .find(|a| parse::sha256_hex(&a.data) == wanted.sha256)
        .ok_or_else(|| {
            anyhow::anyhow!("attachment {number} of {report} is not in its stored message")
        })?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(output)
        .map_err(|err| anyhow::anyhow!("cannot create {}: {err}", output.display()))?;
    file.write_all(&found.data)
        .and_then(|()| file.sync_all())
        .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", output.display()))?;
    eprintln!(
        "wrote {} ({} bytes) to {}",
        // Mail-derived: no control characters reach the terminal.
        found
            .name
            .as_deref()
            .unwrap_or("unnamed")
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>(),
        found.data.len(),
        output.display()
    );
    Ok(())
}

/// The readable entity of the encrypted message `raw`, opened again with the
/// team keys; `None` when they cannot open it.
pub(super) fn decrypt(
    config: &Config,
    crypto: &crate::crypto::Crypto,
    raw: &[u8],
    now: Timestamp,
) -> Option<Vec<u8>> {
    crate::crypto::open::open(
        raw,
        None,
        crypto.team.as_deref(),
        &(),
        &CryptoLimits::from_config(&config.limits),
        now,
    )
    .inner
}
