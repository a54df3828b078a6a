//! `disclosed security-txt`: the signed `/.well-known/security.txt`.

use jiff::Timestamp;

use super::output;
use super::{CliError, load_crypto};
use crate::publish::collect;
use crate::settings::Loaded;

/// Prints the signed file, or with `as_json` its fields and the signed text.
pub fn print(loaded: &Loaded, as_json: bool, now: Timestamp) -> Result<(), CliError> {
    let config = &loaded.config;
    let crypto = load_crypto(config, now)?;
    let usage = |err: crate::publish::SecurityTxtError| {
        CliError::Usage(format!("{}: {err}", config.path.display()))
    };
    let signed =
        collect::signed_security_txt(config, crypto.team.as_deref(), now).map_err(usage)?;
    if as_json {
        let fields = collect::security_txt_fields(config, now).map_err(usage)?;
        output::json(&serde_json::json!({ "fields": fields, "signed": signed }));
    } else {
        print!("{signed}");
    }
    Ok(())
}
