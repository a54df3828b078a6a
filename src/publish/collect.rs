//! Filling the site's inputs from the store and the configuration. The
//! renderers beside this module never read the store; this is the one place
//! that decides what of a report is public.

use jiff::Timestamp;

use super::hall_of_fame::{Entry, NamedCredit};
use super::pages::{AdvisoryFile, AdvisoryInput, Sample, SiteInfo, SiteInput, StatsInput};
use super::security_txt::{self, Fields, SecurityTxtError};
use super::{PublishError, hall_of_fame};
use crate::advisory::{self, AdvisoryError, Format as AdvisoryFormat};
use crate::config::Config;
use crate::crypto::TeamKeys;
use crate::report::{Credit, ReportId, ReportState};
use crate::sla::ReportSla;
use crate::store::{StoreError, Tx};

/// The reports with their timelines, as the SLA engine reads them.
pub fn reports(tx: &Tx<'_>, config: &Config, now: Timestamp) -> Result<Vec<ReportSla>, StoreError> {
    crate::sla::survey(tx, config, None, now)
}

/// What the Hall of Fame may use of each report. Only a `named` credit
/// becomes a [`NamedCredit`]: `none` and `unknown` never do.
pub fn hall_of_fame_entries(reports: &[ReportSla]) -> Vec<Entry> {
    reports
        .iter()
        .map(|r| Entry {
            report: r.record.id.to_string(),
            state: r.record.state,
            credit: match &r.record.credit {
                Credit::Named {
                    name,
                    affiliation,
                    url,
                    key,
                } => Some(NamedCredit {
                    name: name.clone(),
                    affiliation: affiliation.clone(),
                    url: url.clone(),
                    key: key.clone(),
                }),
                Credit::None | Credit::Unknown => None,
            },
            disclosed_at: r.timeline.disclosed,
        })
        .collect()
}

/// The disclosed reports as advisories, with only what is public: the id,
/// the CVE, the severity, the fixing release. The reporter's subject is not
/// public and is not used.
pub fn advisories(reports: &[ReportSla]) -> Vec<AdvisoryInput> {
    reports
        .iter()
        .filter(|r| r.record.state == ReportState::Disclosed)
        .filter_map(|r| {
            Some(AdvisoryInput {
                id: r.record.id.to_string(),
                title: format!("Security advisory {}", r.record.id),
                cve: r.record.cve.clone(),
                severity: r
                    .record
                    .severity
                    .or(r.record.cvss_severity)
                    .map(|s| s.to_string()),
                fixed_in: r.record.fixed_in.clone(),
                disclosed_at: r.timeline.disclosed?,
            })
        })
        .collect()
}

/// The files each disclosed report publishes under `advisories/`: the human
/// advisory `ID.html`, the draft's public fields `ID.json`, and the CVE
/// (`ID.cve.json`), OSV (`ID.osv.json`) and CSAF (`ID.csaf.json`) records
/// when `[advisory]` names a publisher and the report has what each needs
/// (a record the team has not given enough for is left out, not guessed).
/// Sets each advisory's title from its draft.
pub fn advisory_files(
    tx: &Tx<'_>,
    config: &Config,
    advisories: &mut [AdvisoryInput],
    now: Timestamp,
) -> Result<Vec<AdvisoryFile>, PublishError> {
    let templates = advisory::Templates::load(config.templates.dir.as_deref())?;
    let publisher = config.advisory.clone().unwrap_or_default();
    let mut files = Vec::new();
    for a in advisories.iter_mut() {
        let id = ReportId::from_stored(a.id.clone());
        let url = advisory::advisory_url(config, &id);
        let Some(draft) = advisory::draft_from_store(tx, config, &id, url.as_deref())? else {
            continue;
        };
        a.title = draft.title.clone();
        let html = advisory::render(AdvisoryFormat::Html, &draft, &publisher, &templates, now)?;
        files.push(AdvisoryFile {
            name: format!("{id}.html"),
            bytes: html.into_bytes(),
        });
        let mut fields =
            serde_json::to_string_pretty(&draft).map_err(|source| AdvisoryError::Json {
                format: AdvisoryFormat::Html,
                source,
            })?;
        fields.push('\n');
        files.push(AdvisoryFile {
            name: format!("{id}.json"),
            bytes: fields.into_bytes(),
        });
        if config.advisory.is_none() {
            continue;
        }
        for (format, suffix) in [
            (AdvisoryFormat::Cve, "cve.json"),
            (AdvisoryFormat::Osv, "osv.json"),
            (AdvisoryFormat::Csaf, "csaf.json"),
        ] {
            match advisory::render(format, &draft, &publisher, &templates, now) {
                Ok(mut text) => {
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    files.push(AdvisoryFile {
                        name: format!("{id}.{suffix}"),
                        bytes: text.into_bytes(),
                    });
                }
                // What the team has not recorded yet: no such record.
                Err(
                    AdvisoryError::NoCve { .. }
                    | AdvisoryError::NoProduct { .. }
                    | AdvisoryError::Missing { .. }
                    | AdvisoryError::NoReference { .. }
                    | AdvisoryError::NoOsvId { .. },
                ) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(files)
}

/// The measured times: acknowledgement (first mail of a member to the
/// reporter) and fix, from the report's arrival.
pub fn stats(reports: &[ReportSla]) -> StatsInput {
    let since = |r: &ReportSla, at: Timestamp| Sample {
        opened: r.timeline.opened,
        seconds: at.as_second() - r.timeline.opened.as_second(),
    };
    StatsInput {
        reports: reports.len(),
        acknowledge: reports
            .iter()
            .filter_map(|r| r.timeline.to_reporter.first().map(|at| since(r, *at)))
            .collect(),
        fix: reports
            .iter()
            .filter_map(|r| r.timeline.fixed.map(|at| since(r, at)))
            .collect(),
    }
}

/// The program's name, address and policy for every page.
pub fn site_info(config: &Config) -> SiteInfo {
    SiteInfo {
        program: config.program.name.clone(),
        contact: config.program.address.to_string(),
        policy_url: Some(config.program.policy_url.clone()),
    }
}

/// The fields of security.txt: overrides from `[security_txt]`, else URLs
/// under `[publish] base_url` (the key also from `[openpgp] key_url`).
pub fn security_txt_fields(config: &Config, now: Timestamp) -> Result<Fields, SecurityTxtError> {
    let s = &config.security_txt;
    let base = config.publish.base_url.as_deref();
    let under = |path: &str| base.map(|b| format!("{b}/{path}"));
    Ok(Fields {
        contact: config.program.address.to_string(),
        expires: security_txt::expires_at(s.expires, now)?,
        encryption: s
            .encryption
            .clone()
            .or_else(|| under("pgp-key.txt"))
            .or_else(|| config.openpgp.key_url.clone()),
        policy: s
            .policy
            .clone()
            .or_else(|| Some(config.program.policy_url.clone())),
        acknowledgments: s
            .acknowledgments
            .clone()
            .or_else(|| under("hall-of-fame.html")),
        languages: s.languages.clone(),
        canonical: s
            .canonical
            .clone()
            .or_else(|| under(".well-known/security.txt")),
    })
}

/// The signed security.txt.
pub fn signed_security_txt(
    config: &Config,
    team: Option<&TeamKeys>,
    now: Timestamp,
) -> Result<String, SecurityTxtError> {
    let fields = security_txt_fields(config, now)?;
    let team = team.ok_or(SecurityTxtError::NoKey)?;
    security_txt::sign(&security_txt::body(&fields), team.signer(), now)
}

/// Everything the site is made of, from the store (through `tx`), the
/// configuration and the team's keys.
pub fn site(
    tx: &Tx<'_>,
    config: &Config,
    team: Option<&TeamKeys>,
    now: Timestamp,
) -> Result<SiteInput, PublishError> {
    let security_txt = signed_security_txt(config, team, now)?;
    let team = team.ok_or(SecurityTxtError::NoKey)?;
    let public_key = crate::crypto::keys::export_public(team.current())?;
    let reports = reports(tx, config, now)?;
    let info = site_info(config);
    let lines = hall_of_fame::build(&hall_of_fame_entries(&reports));
    let mut advisories = advisories(&reports);
    let advisory_files = advisory_files(tx, config, &mut advisories, now)?;
    Ok(SiteInput {
        info,
        hall_of_fame: lines,
        advisories,
        advisory_files,
        stats: stats(&reports),
        security_txt,
        public_key,
    })
}
