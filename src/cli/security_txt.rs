//! `disclosed security-txt`: the signed `/.well-known/security.txt`.

use jiff::Timestamp;

use super::{CliError, load_crypto};
use crate::publish::collect;
use crate::settings::Loaded;

pub fn print(loaded: &Loaded, now: Timestamp) -> Result<(), CliError> {
    let config = &loaded.config;
    let crypto = load_crypto(config, now)?;
    let signed = collect::signed_security_txt(config, crypto.team.as_deref(), now)
        .map_err(|err| CliError::Usage(format!("{}: {err}", config.path.display())))?;
    print!("{signed}");
    Ok(())
}
