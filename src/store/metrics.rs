//! What the metrics endpoint reads of the store at each scrape: counts by
//! label over indexed columns, all in the caller's one read transaction.

use jiff::Timestamp;

use super::{Result, Tx, ctx, from_ms};

/// The store's side of the metrics, as of one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreGauges {
    /// Messages stored, by the class they were stored as (`reporter`, `team`,
    /// `bounce`, …).
    pub messages_by_class: Vec<(String, u64)>,
    /// Reports by state, as stored (states with no report are absent).
    pub reports_by_state: Vec<(String, u64)>,
    /// Mail waiting to be sent.
    pub outbox_queued: u64,
    /// Mail given up on.
    pub outbox_failed: u64,
    /// When the oldest mail still waiting was queued.
    pub oldest_queued: Option<Timestamp>,
    /// Deadlines breached, by deadline: escalated by the SLA clock, or
    /// already past when their report was imported.
    pub breaches_by_deadline: Vec<(String, u64)>,
}

impl Tx<'_> {
    /// The counts the metrics endpoint shows.
    pub fn store_gauges(&self) -> Result<StoreGauges> {
        let grouped = |sql: &str, what: &'static str| -> Result<Vec<(String, u64)>> {
            let mut stmt = self.conn.prepare_cached(sql).map_err(ctx(what))?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                })
                .map_err(ctx(what))?;
            rows.map(|r| {
                r.map(|(label, n)| (label, u64::try_from(n).unwrap_or(0)))
                    .map_err(ctx(what))
            })
            .collect()
        };
        let messages_by_class = grouped(
            "SELECT kind, COUNT(*) FROM messages GROUP BY kind ORDER BY kind",
            "counting messages by class",
        )?;
        let reports_by_state = grouped(
            "SELECT state, COUNT(*) FROM reports GROUP BY state ORDER BY state",
            "counting reports by state",
        )?;
        let breaches_by_deadline = grouped(
            "SELECT deadline, SUM(n) FROM (
                 SELECT deadline, COUNT(*) AS n FROM sla_notices
                 WHERE kind = 'escalation' GROUP BY deadline
                 UNION ALL
                 SELECT deadline, COUNT(*) AS n FROM historical_breaches GROUP BY deadline
             ) GROUP BY deadline ORDER BY deadline",
            "counting breached deadlines",
        )?;
        let (queued, failed, oldest) = self
            .conn
            .prepare_cached(
                "SELECT
                     (SELECT COUNT(*) FROM outbox WHERE status = 'queued'),
                     (SELECT COUNT(*) FROM outbox WHERE status = 'failed'),
                     (SELECT MIN(created_at) FROM outbox WHERE status = 'queued')",
            )
            .and_then(|mut stmt| {
                stmt.query_row([], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                    ))
                })
            })
            .map_err(ctx("measuring the outbox"))?;
        Ok(StoreGauges {
            messages_by_class,
            reports_by_state,
            outbox_queued: u64::try_from(queued).unwrap_or(0),
            outbox_failed: u64::try_from(failed).unwrap_or(0),
            oldest_queued: oldest.map(from_ms),
            breaches_by_deadline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NewMail, NoticeKind, Store};
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + s).expect("time")
    }

    #[test]
    fn the_gauges_count_reports_the_outbox_and_every_breach() {
        let mut store = Store::open_in_memory().expect("store");
        let gauges = store
            .write(|w| {
                let tx = w.tx();
                let one = tx.create_report("SEC", 2026, "a@x", "one", at(0))?;
                tx.create_report("SEC", 2026, "b@x", "two", at(1))?;
                let recipients = vec!["a@x".to_owned()];
                for (i, created) in [(1, at(10)), (2, at(20))] {
                    tx.enqueue(
                        &NewMail {
                            report_id: Some(&one),
                            kind: "acknowledgement",
                            message_id: &format!("m{i}@example.org"),
                            envelope_from: "security@example.org",
                            return_token: None,
                            recipients: &recipients,
                            rate_key: None,
                            raw: b"raw",
                            held: false,
                            team_lines: &[],
                        },
                        created,
                    )?;
                }
                // Escalated by the clock, past at import, and a reminder
                // (not a breach).
                tx.record_notice(
                    Some(&one),
                    "acknowledge",
                    at(5),
                    NoticeKind::Escalation,
                    at(6),
                )?;
                tx.record_notice(Some(&one), "triage", at(5), NoticeKind::Reminder, at(6))?;
                tx.record_historical_breach(&one, "acknowledge", at(3), at(7))?;
                tx.record_historical_breach(&one, "fix", at(3), at(7))?;
                tx.store_gauges()
            })
            .expect("write");
        assert_eq!(gauges.reports_by_state, [("new".to_owned(), 2)]);
        assert_eq!(gauges.outbox_queued, 2);
        assert_eq!(gauges.outbox_failed, 0);
        assert_eq!(gauges.oldest_queued, Some(at(10)));
        assert_eq!(
            gauges.breaches_by_deadline,
            [("acknowledge".to_owned(), 2), ("fix".to_owned(), 1)]
        );
        assert!(gauges.messages_by_class.is_empty());
    }
}
