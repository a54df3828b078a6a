//! `disclosed ack resend ID`: queue the acknowledgement of a report whose
//! acknowledgement could not be composed (a template that failed on this
//! report's data), once the template is fixed.

use jiff::Timestamp;

use crate::report::ReportId;
use crate::respond::ack::{self, Resent};
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
    if store
        .read()
        .report_record(&report)
        .map_err(anyhow::Error::from)?
        .is_none()
    {
        return Err(CliError::Other(anyhow::anyhow!(
            "no report {report} in {}",
            store.path().display()
        )));
    }
    let mailer = Mailer {
        config,
        templates: &loaded.templates,
        crypto: &crypto,
    };
    let resent = store
        .write(|batch| ack::resend(&mailer, &batch.tx(), &report, now))
        .map_err(anyhow::Error::from)?;
    match resent {
        Resent::Queued => {
            super::output::outln!(
                "queued the acknowledgement of {report}; the daemon (or `run --once`) sends it"
            );
            Ok(())
        }
        Resent::AlreadyQueued | Resent::DidNotFail => {
            Err(CliError::Usage(format!("{report}: {resent}")))
        }
        Resent::NotQueued => Err(CliError::Other(anyhow::anyhow!(
            "the acknowledgement of {report} was not queued: see `disclosed report {report}` for why"
        ))),
        Resent::NotStored => Err(CliError::Other(anyhow::anyhow!("{report}: {resent}"))),
    }
}
