//! `disclosed publish --out DIR`: the static site, written idempotently.

use std::path::PathBuf;

use jiff::Timestamp;

use super::hall_of_fame::site_templates;
use super::output::{self, outln};
use super::{CliError, load_crypto, open_existing};
use crate::publish::{self, PublishError};
use crate::settings::Loaded;

/// Writes the site to `out` (else `[publish] dir`) and says what changed.
pub fn run(
    loaded: &Loaded,
    out: Option<PathBuf>,
    as_json: bool,
    now: Timestamp,
) -> Result<(), CliError> {
    let config = &loaded.config;
    let Some(dir) = out.or_else(|| config.publish.dir.clone()) else {
        return Err(CliError::Usage(
            "where to? give --out DIR or set `[publish] dir`".into(),
        ));
    };
    let templates = site_templates(config)?;
    let crypto = load_crypto(config, now)?;
    let store = open_existing(config)?;
    let written = publish::publish(
        &store.read(),
        config,
        crypto.team.as_deref(),
        &templates,
        &dir,
        now,
    )
    .map_err(|err| match err {
        PublishError::SecurityTxt(err) => {
            CliError::Usage(format!("{}: {err}", config.path.display()))
        }
        other => CliError::Other(other.into()),
    })?;
    if as_json {
        output::json(&serde_json::json!({ "dir": dir, "changes": written }));
        return Ok(());
    }
    outln!(
        "{}: {} file(s) written, {} unchanged, {} removed",
        dir.display(),
        written.written.len(),
        written.unchanged,
        written.removed.len()
    );
    Ok(())
}
