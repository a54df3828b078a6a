//! How well the policy was kept: median and 90th
//! percentile of the time to acknowledge, triage and fix, and the share of
//! decided deadlines that were met.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ReportSla;
use super::deadlines::Kind;

/// The spread of one measured time, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Spread {
    /// How many reports it was measured on.
    pub count: usize,
    pub median_seconds: i64,
    pub p90_seconds: i64,
}

/// Deadlines kept and missed, of those decided (met, met late or breached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Kept {
    pub met: usize,
    pub missed: usize,
}

impl Kept {
    pub fn decided(&self) -> usize {
        self.met + self.missed
    }

    /// The share met, 0.0–1.0; `None` with nothing decided.
    pub fn share(&self) -> Option<f64> {
        (self.decided() > 0).then(|| self.met as f64 / self.decided() as f64)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub reports: usize,
    pub open: usize,
    pub by_state: BTreeMap<&'static str, usize>,
    /// From the report's arrival to the first mail a team member sent the reporter.
    pub time_to_acknowledge: Option<Spread>,
    /// From arrival to the first decision (triaged, accepted or closed).
    pub time_to_triage: Option<Spread>,
    /// From arrival to `fixed`.
    pub time_to_fix: Option<Spread>,
    pub deadlines: Kept,
    pub deadlines_by_kind: BTreeMap<Kind, Kept>,
}

/// The nearest-rank percentile `p` (0–100) of sorted values.
fn percentile(sorted: &[i64], p: usize) -> i64 {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn spread(mut values: Vec<i64>) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(Spread {
        count: values.len(),
        median_seconds: percentile(&values, 50),
        p90_seconds: percentile(&values, 90),
    })
}

pub fn compute(reports: &[ReportSla]) -> Stats {
    let since_opened = |at: Option<jiff::Timestamp>, r: &ReportSla| {
        at.map(|t| t.as_second() - r.timeline.opened.as_second())
    };
    let measure = |pick: &dyn Fn(&ReportSla) -> Option<jiff::Timestamp>| {
        spread(
            reports
                .iter()
                .filter_map(|r| since_opened(pick(r), r))
                .collect(),
        )
    };
    let mut deadlines = Kept::default();
    let mut by_kind: BTreeMap<Kind, Kept> = BTreeMap::new();
    for d in reports.iter().flat_map(|r| &r.deadlines) {
        let Some(kept) = d.status.kept() else {
            continue;
        };
        let entry = by_kind.entry(d.kind).or_default();
        if kept {
            deadlines.met += 1;
            entry.met += 1;
        } else {
            deadlines.missed += 1;
            entry.missed += 1;
        }
    }
    let mut by_state = BTreeMap::new();
    for r in reports {
        *by_state.entry(r.record.state.as_str()).or_default() += 1;
    }
    Stats {
        by_state,
        reports: reports.len(),
        open: reports.iter().filter(|r| r.record.state.is_open()).count(),
        time_to_acknowledge: measure(&|r| r.timeline.to_reporter.first().copied()),
        time_to_triage: measure(&|r| r.timeline.triaged),
        time_to_fix: measure(&|r| r.timeline.fixed),
        deadlines,
        deadlines_by_kind: by_kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), 5);
        assert_eq!(percentile(&ten, 90), 9);
        assert_eq!(percentile(&[7], 90), 7);
        let s = spread(vec![30, 10, 20]).expect("values");
        assert_eq!((s.count, s.median_seconds, s.p90_seconds), (3, 20, 30));
        assert_eq!(spread(Vec::new()), None);
    }

    #[test]
    fn the_share_met_counts_only_decided_deadlines() {
        let k = Kept { met: 3, missed: 1 };
        assert_eq!(k.share(), Some(0.75));
        assert_eq!(Kept::default().share(), None);
    }
}
