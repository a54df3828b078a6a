//! `disclosed hall-of-fame [--format html|md|json]`: the Hall of Fame from
//! the store, through the site templates (which `[templates] dir` overrides).

use jiff::Timestamp;

use super::{CliError, open_existing};
use crate::publish::{Format, SiteTemplates, collect, hall_of_fame, pages};
use crate::settings::Loaded;

pub fn print(loaded: &Loaded, format: Format, now: Timestamp) -> Result<(), CliError> {
    let config = &loaded.config;
    let templates = site_templates(config)?;
    let store = open_existing(config)?;
    let reports = collect::reports(&store.read(), config, now).map_err(anyhow::Error::from)?;
    let lines = hall_of_fame::build(&collect::hall_of_fame_entries(&reports));
    let text = pages::hall_of_fame(&templates, &collect::site_info(config), &lines, format)
        .map_err(anyhow::Error::from)?;
    // Every value in it went through the template's escaping and lost its
    // control characters; JSON escapes the rest.
    print!("{text}");
    Ok(())
}

/// The site templates, with the overrides in `[templates] dir`.
pub(super) fn site_templates(config: &crate::config::Config) -> Result<SiteTemplates, CliError> {
    SiteTemplates::load(config.templates.dir.as_deref()).map_err(|err| {
        CliError::Usage(format!(
            "{}: `[templates] dir`: {err}",
            config.path.display()
        ))
    })
}
