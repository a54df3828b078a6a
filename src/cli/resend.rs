//! `disclosed ack resend ID`: queue the acknowledgement of a report whose
//! acknowledgement could not be composed (a template that failed on this
//! report's data), once the template is fixed.

use jiff::Timestamp;

use crate::parse::ParseLimits;
use crate::report::ReportId;
use crate::respond::queue::Mailer;
use crate::settings::Loaded;

use super::{CliError, load_crypto, open_existing};

pub(super) fn resend(loaded: &Loaded, id: &str, now: Timestamp) -> Result<(), CliError> {
    let config = &loaded.config;
    let Some(report) = ReportId::parse(&config.program.id_prefix, id) else {
        return Err(CliError::Usage(format!(
            "`{id}` is not a report id like {}-2026-0042",
            config.program.id_prefix
        )));
    };
    let crypto = load_crypto(config, now)?;
    let mut store = open_existing(config)?;
    let detail = store
        .read()
        .report_detail(&report)
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| anyhow::anyhow!("no report {report} in {}", store.path().display()))?;
    if detail
        .outbox
        .iter()
        .any(|row| row.kind == "acknowledgement")
    {
        return Err(CliError::Usage(format!(
            "{report} has an acknowledgement already; nothing to resend"
        )));
    }
    let Some(message) = detail
        .events
        .iter()
        .rev()
        .find(|e| e.kind == "acknowledgement-failed")
        .and_then(|e| e.message)
    else {
        return Err(CliError::Usage(format!(
            "the acknowledgement of {report} did not fail; nothing to resend"
        )));
    };
    let sha256 = detail
        .messages
        .iter()
        .find(|m| m.id == message)
        .map(|m| m.sha256.clone())
        .ok_or_else(|| anyhow::anyhow!("the message of {report} that failed is not stored"))?;
    let raw = store
        .read()
        .raw_message(&sha256)
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the message of {report} is too large to be stored whole; answer it by hand"
            )
        })?;
    let parsed = crate::parse::parse(&raw, &ParseLimits::from_config(&config.limits));
    let mailer = Mailer {
        config,
        templates: &loaded.templates,
        crypto: &crypto,
    };
    let queued = store
        .write(|batch| {
            crate::respond::ack::acknowledge(
                &mailer,
                &batch.tx(),
                &report,
                &parsed,
                crate::respond::ack::Answer::Acknowledgement,
                message,
                now,
            )
        })
        .map_err(anyhow::Error::from)?;
    if !queued {
        return Err(CliError::Other(anyhow::anyhow!(
            "the acknowledgement of {report} was not queued: see `disclosed report {report}` for why"
        )));
    }
    super::output::outln!(
        "queued the acknowledgement of {report}; the daemon (or `run --once`) sends it"
    );
    Ok(())
}
