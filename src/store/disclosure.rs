//! What the disclosure mail sent, each once: the team's disclosure-day mail
//! (per report and disclosure date) and the public bulletin (per report).

use jiff::Timestamp;
use rusqlite::params;

use super::{Result, Tx, ctx, ms};
use crate::report::ReportId;

/// Which disclosure mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisclosureMail {
    /// To the team, when the disclosure date arrives: the advisory draft.
    Day,
    /// To the announcement list, when the report is disclosed.
    Bulletin,
}

impl DisclosureMail {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "disclosure-day",
            Self::Bulletin => "bulletin",
        }
    }
}

impl Tx<'_> {
    /// Whether `mail` about `report` for `day` (the disclosure date; `""` for
    /// the bulletin) was recorded already.
    pub fn disclosure_mail_recorded(
        &self,
        report: &ReportId,
        mail: DisclosureMail,
        day: &str,
    ) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM disclosure_mail
                 WHERE report_id = ?1 AND kind = ?2 AND day = ?3)",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![report.as_str(), mail.as_str(), day], |row| {
                    row.get(0)
                })
            })
            .map_err(ctx("looking up a disclosure mail"))
    }

    /// Records that `mail` about `report` for `day` went out; false if it had
    /// already (then nothing is to be sent).
    pub fn record_disclosure_mail(
        &self,
        report: &ReportId,
        mail: DisclosureMail,
        day: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO disclosure_mail (report_id, kind, day, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (report_id, kind, day) DO NOTHING",
            )
            .and_then(|mut stmt| stmt.execute(params![report.as_str(), mail.as_str(), day, ms(at)]))
            .map_err(ctx("recording a disclosure mail"))?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreError};

    #[test]
    fn each_disclosure_mail_is_recorded_once_per_report_kind_and_day() {
        let mut store = Store::open_in_memory().expect("store");
        let at = Timestamp::from_second(1_795_000_000).expect("time");
        let firsts = store
            .write(|w| {
                let tx = w.tx();
                let id = tx.create_report("SEC", 2026, "a@x", "one", at)?;
                let before = tx.disclosure_mail_recorded(&id, DisclosureMail::Bulletin, "")?;
                Ok::<_, StoreError>(vec![
                    before,
                    tx.record_disclosure_mail(&id, DisclosureMail::Bulletin, "", at)?,
                    tx.record_disclosure_mail(&id, DisclosureMail::Bulletin, "", at)?,
                    tx.disclosure_mail_recorded(&id, DisclosureMail::Bulletin, "")?,
                    tx.record_disclosure_mail(&id, DisclosureMail::Day, "2026-12-10", at)?,
                    tx.record_disclosure_mail(&id, DisclosureMail::Day, "2026-12-10", at)?,
                    tx.record_disclosure_mail(&id, DisclosureMail::Day, "2026-12-11", at)?,
                    tx.disclosure_mail_recorded(&id, DisclosureMail::Day, "2026-12-12")?,
                ])
            })
            .expect("write");
        assert_eq!(firsts, [false, true, false, true, true, false, true, false]);
    }
}
