//! Filling the site's inputs from the store and the configuration. The
//! renderers beside this module never read the store; this is the one place
//! that decides what of a report is public.

use jiff::Timestamp;

use super::hall_of_fame::{Entry, NamedCredit};
use super::pages::{AdvisoryFile, AdvisoryInput, Sample, SiteInfo, SiteInput, StatsInput};
use super::security_txt::{self, Fields, SecurityTxtError};
use super::templates::SiteTemplates;
use super::{PublishError, hall_of_fame, pages};
use crate::config::Config;
use crate::crypto::TeamKeys;
use crate::report::{Credit, ReportState};
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

/// The files each advisory publishes. Until the full advisory renderer is
/// plugged in here, a minimal page and JSON record per advisory.
pub fn advisory_files(
    templates: &SiteTemplates,
    info: &SiteInfo,
    advisories: &[AdvisoryInput],
    reports: &[ReportSla],
) -> Result<Vec<AdvisoryFile>, PublishError> {
    let mut files = Vec::new();
    for a in advisories {
        let credit = reports
            .iter()
            .find(|r| r.record.id.as_str() == a.id)
            .and_then(|r| match &r.record.credit {
                Credit::Named { name, .. } => Some(hall_of_fame::clean_text(name)),
                _ => None,
            });
        files.extend(pages::minimal_advisory_files(
            templates,
            info,
            a,
            credit.as_deref(),
        )?);
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
    templates: &SiteTemplates,
    now: Timestamp,
) -> Result<SiteInput, PublishError> {
    let security_txt = signed_security_txt(config, team, now)?;
    let team = team.ok_or(SecurityTxtError::NoKey)?;
    let public_key = crate::crypto::keys::export_public(team.current())?;
    let reports = reports(tx, config, now)?;
    let info = site_info(config);
    let lines = hall_of_fame::build(&hall_of_fame_entries(&reports));
    let advisories = advisories(&reports);
    let advisory_files = advisory_files(templates, &info, &advisories, &reports)?;
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
