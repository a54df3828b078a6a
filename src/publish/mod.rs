//! What the program publishes: the Hall of Fame, security.txt (RFC 9116)
//! and a static site of both with the security updates, advisories and
//! response statistics.
//!
//! ```text
//! collect      store + config ─▶ plain inputs (the only place that decides
//!   │          what of a report is public)
//! hall_of_fame disclosed reports with a named credit ─▶ one line per person
//! security_txt fields ─▶ body ─▶ cleartext-signed with the team's v4 key
//! pages        inputs ─▶ pages through the site templates
//! site         pages ─▶ files under a directory, idempotently
//! warnings     security.txt and signing key expiry ─▶ team mail, once each
//! ```

pub mod charts;
pub mod collect;
pub mod hall_of_fame;
pub mod pages;
pub mod security_txt;
pub mod site;
pub mod templates;
pub mod warnings;

use std::path::Path;

use jiff::Timestamp;

pub use hall_of_fame::{Entry, Line, NamedCredit};
pub use pages::{AdvisoryFile, AdvisoryInput, Format, SiteInfo, SiteInput};
pub use security_txt::SecurityTxtError;
pub use site::{SiteFile, Written};
pub use templates::SiteTemplates;

use crate::config::Config;
use crate::crypto::TeamKeys;
use crate::store::{StoreError, Tx};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    SecurityTxt(#[from] SecurityTxtError),
    #[error(transparent)]
    Page(#[from] pages::PageError),
    #[error(transparent)]
    Template(#[from] templates::SiteTemplateError),
    #[error(transparent)]
    Site(#[from] site::SiteError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] crate::crypto::KeyError),
    #[error(transparent)]
    Advisory(#[from] crate::advisory::AdvisoryError),
    #[error(transparent)]
    AdvisoryTemplates(#[from] crate::advisory::TemplatesError),
}

/// Builds the whole site from the store and writes it under `dir`.
pub fn publish(
    tx: &Tx<'_>,
    config: &Config,
    team: Option<&TeamKeys>,
    templates: &SiteTemplates,
    dir: &Path,
    now: Timestamp,
) -> Result<Written, PublishError> {
    let input = collect::site(tx, config, team, now)?;
    let files = pages::render_site(templates, &input)?;
    Ok(site::write_site(dir, &files)?)
}
