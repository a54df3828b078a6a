//! Checking parsed commands against the report, the team and the SLA.
//!
//! Commands are checked in order against the state the earlier ones leave, so
//! `#state triaged` then `#state accepted` works in one mail; any refusal
//! discards every change, because half-applied mail is hard to undo by mail.

use jiff::Unit;
use jiff::civil::Date;

use super::{
    Affects, Applies, Assignee, Change, Command, DayKind, Entry, Notify, Refusal, Refused,
    ReportFacts, Scope,
};
use crate::config::{PolicyDuration, Sla, Team};
use crate::report::{ReportId, ReportState, Severity};
use crate::respond::progress::Update;

/// Most product ranges one report lists: more is a mistake, not an advisory.
pub const MAX_AFFECTS: usize = 50;

/// Validates `entries` for `scope`: every change in order, or every refusal.
///
/// `lookup` gives the state of another report (for `#duplicate`); `today` is the
/// program's current date (for `#disclose` and calendar `fix` values in months).
pub fn plan(
    entries: &[Entry],
    scope: &Scope,
    lookup: &dyn Fn(&ReportId) -> Option<ReportState>,
    team: &Team,
    sla: &Sla,
    today: Date,
) -> Result<Vec<Change>, Vec<Refusal>> {
    let mut report = match scope {
        Scope::Report(facts) => Some(facts.clone()),
        Scope::Control => None,
    };
    let context = Context {
        lookup,
        team,
        sla,
        today,
    };
    let mut changes = Vec::new();
    let mut refusals = Vec::new();
    let mut notify = Vec::new();
    for entry in entries {
        let outcome = entry
            .command
            .as_ref()
            .map_err(|err| Refused::Parse(err.clone()))
            .and_then(|command| context.check(command, report.as_mut()));
        match outcome {
            Ok(Change::Notify(flag)) => {
                notify.push((entry.line.clone(), flag));
                changes.push(Change::Notify(flag));
            }
            Ok(change) => changes.push(change),
            Err(reason) => refusals.push(Refusal {
                line: entry.line.clone(),
                reason,
            }),
        }
    }
    refusals.extend(notify_refusals(&notify, &changes));
    if refusals.is_empty() {
        Ok(changes)
    } else {
        Err(refusals)
    }
}

struct Context<'a> {
    lookup: &'a dyn Fn(&ReportId) -> Option<ReportState>,
    team: &'a Team,
    sla: &'a Sla,
    today: Date,
}

impl Context<'_> {
    /// Checks one command; on success `report` reflects it for the next one.
    fn check(
        &self,
        command: &Command,
        report: Option<&mut ReportFacts>,
    ) -> Result<Change, Refused> {
        let report = match (command.applies(), report) {
            (Applies::Report, None) => {
                return Err(Refused::NeedsReportAddress {
                    command: command.name(),
                });
            }
            (Applies::Control, Some(_)) => {
                return Err(Refused::NeedsControlAddress {
                    command: command.name(),
                });
            }
            (_, report) => report,
        };
        match (command, report) {
            (Command::Help, _) => Ok(Change::Help),
            (Command::List(state), _) => Ok(Change::List(*state)),
            (Command::Show(id), _) => Ok(Change::Show(id.clone())),
            (Command::Digest, _) => Ok(Change::Digest),
            (Command::Stats, _) => Ok(Change::Stats),
            (Command::HallOfFame, _) => Ok(Change::HallOfFame),
            (Command::Outbox, _) => Ok(Change::Outbox),
            (Command::Advisory(id), _) => self.check_advisory(id),
            (Command::Search(query), _) => Ok(Change::Search(query.clone())),
            (_, None) => Err(Refused::NeedsReportAddress {
                command: command.name(),
            }),
            (command, Some(report)) => self.check_report(command, report),
        }
    }

    /// `#advisory ID`: only for a report that has one to draft.
    fn check_advisory(&self, id: &ReportId) -> Result<Change, Refused> {
        match (self.lookup)(id) {
            None => Err(Refused::NoSuchReport { id: id.clone() }),
            Some(state) if !crate::respond::bulletin::advisory_ready(state) => {
                Err(Refused::AdvisoryNotReady {
                    id: id.clone(),
                    state,
                })
            }
            Some(_) => Ok(Change::Advisory(id.clone())),
        }
    }

    fn check_report(&self, command: &Command, report: &mut ReportFacts) -> Result<Change, Refused> {
        match command {
            Command::State(ReportState::Duplicate) => Err(Refused::StateDuplicate),
            Command::State(to) => {
                let from = report.state;
                transition(from, *to)?;
                if *to == ReportState::RiskAccepted {
                    // The parser gives risk-accepted only with its reason.
                    return Err(Refused::Parse(super::CommandError::Invalid {
                        command: "#state",
                        reason: "the team's reason is required: #state risk-accepted because …"
                            .to_owned(),
                    }));
                }
                report.state = *to;
                Ok(Change::State {
                    from,
                    to: *to,
                    reason: None,
                })
            }
            Command::RiskAccept { reason } => {
                let from = report.state;
                transition(from, ReportState::RiskAccepted)?;
                report.state = ReportState::RiskAccepted;
                Ok(Change::State {
                    from,
                    to: ReportState::RiskAccepted,
                    reason: Some(reason.clone()),
                })
            }
            Command::Publish => {
                let from = report.state;
                if !matches!(from, ReportState::Fixed | ReportState::RiskAccepted) {
                    return Err(Refused::PublishNotReady { state: from });
                }
                transition(from, ReportState::Disclosed)?;
                report.state = ReportState::Disclosed;
                Ok(Change::State {
                    from,
                    to: ReportState::Disclosed,
                    reason: None,
                })
            }
            Command::Credit(Some(_)) if report.credit_declined => Err(Refused::CreditDeclined),
            Command::Credit(credit) => {
                report.credited = credit.is_some();
                Ok(Change::Credit(credit.clone()))
            }
            Command::CreditKey(Some(_)) if !report.credited => Err(Refused::CreditKeyWithoutCredit),
            Command::CreditKey(key) => Ok(Change::CreditKey(key.clone())),
            Command::Affects(line) => {
                let mut all = report.affects.clone();
                match line {
                    Affects::Add(a) => {
                        if all.contains(a) {
                            return Err(Refused::AffectsAlready {
                                product: a.product.clone(),
                                versions: a.versions.clone(),
                            });
                        }
                        if all.len() >= MAX_AFFECTS {
                            return Err(Refused::AffectsTooMany { max: MAX_AFFECTS });
                        }
                        all.push(a.clone());
                    }
                    Affects::ClearProduct(product) => {
                        let before = all.len();
                        all.retain(|a| a.product != *product);
                        if all.len() == before {
                            let listed: Vec<&str> =
                                report.affects.iter().map(|a| a.product.as_str()).collect();
                            return Err(Refused::AffectsUnknownProduct {
                                product: product.clone(),
                                listed: if listed.is_empty() {
                                    "none".to_owned()
                                } else {
                                    listed.join(", ")
                                },
                            });
                        }
                    }
                    Affects::ClearAll => all.clear(),
                }
                report.affects.clone_from(&all);
                Ok(Change::Affects {
                    line: line.clone(),
                    all,
                })
            }
            Command::Cwe(cwe) => Ok(Change::Cwe(cwe.clone())),
            Command::Summary(text) => Ok(Change::Summary(text.clone())),
            Command::Duplicate { of, reply } => {
                if *of == report.id {
                    return Err(Refused::DuplicateOfItself { id: of.clone() });
                }
                if (self.lookup)(of).is_none() {
                    return Err(Refused::NoSuchReport { id: of.clone() });
                }
                let from = report.state;
                transition(from, ReportState::Duplicate)?;
                report.state = ReportState::Duplicate;
                Ok(Change::Duplicate {
                    of: of.clone(),
                    from,
                    reply: *reply,
                })
            }
            Command::Assign(None) => Ok(Change::Assign(None)),
            Command::Assign(Some(address)) => self
                .team
                .members
                .iter()
                .find(|member| member.email == *address)
                .map(|member| {
                    Change::Assign(Some(Assignee {
                        name: member.name.clone(),
                        email: member.email.clone(),
                    }))
                })
                .ok_or_else(|| Refused::NotAMember {
                    address: address.clone(),
                    members: self
                        .team
                        .members
                        .iter()
                        .map(|member| member.email.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            Command::Extend { days, reason } => {
                if report.state != ReportState::Accepted {
                    return Err(Refused::ExtendNotAccepted {
                        state: report.state,
                    });
                }
                let limits =
                    FixLimits::from_sla(self.sla, report.effective_severity(), self.today)?;
                let extension_days = report.extension_days.saturating_add(*days);
                let total_days = limits.fix.saturating_add(extension_days);
                if total_days > limits.max {
                    return Err(Refused::ExtendBeyondMax {
                        total: total_days,
                        max: limits.max,
                        asked: *days,
                        kind: limits.kind,
                        severity: limits.severity,
                    });
                }
                report.extension_days = extension_days;
                Ok(Change::Extend {
                    days: *days,
                    reason: reason.clone(),
                    extension_days,
                    total_days,
                    kind: limits.kind,
                })
            }
            Command::Disclose(date) => {
                if *date < self.today {
                    return Err(Refused::DiscloseInPast {
                        date: *date,
                        today: self.today,
                    });
                }
                Ok(Change::Disclose(*date))
            }
            Command::Waiting => {
                if !report.state.is_open() {
                    return Err(Refused::WaitingClosed {
                        state: report.state,
                    });
                }
                if report.waiting {
                    return Err(Refused::AlreadyWaiting);
                }
                report.waiting = true;
                Ok(Change::Waiting)
            }
            Command::ResendAck => {
                if !report.ack_failed {
                    return Err(Refused::NoFailedAck);
                }
                // Once per mail: a second line would find it queued.
                report.ack_failed = false;
                Ok(Change::ResendAck)
            }
            Command::Attach(message) => {
                // Once per mail: a second line for the same message would
                // find it attached.
                match report.attachable.iter().position(|m| m == message) {
                    Some(at) => {
                        report.attachable.remove(at);
                        Ok(Change::Attach(*message))
                    }
                    None => Err(Refused::NotAttachable { message: *message }),
                }
            }
            Command::Severity(severity) => {
                report.severity = Some(*severity);
                Ok(Change::Severity(*severity))
            }
            Command::Cvss(cvss) => {
                report.cvss_severity = Some(cvss.severity);
                Ok(Change::Cvss(cvss.clone()))
            }
            Command::Cve(cve) => Ok(Change::Cve(cve.clone())),
            Command::FixedIn(version) => Ok(Change::FixedIn(version.clone())),
            // Checked against the whole mail once every line is planned.
            Command::Notify(flag) => Ok(Change::Notify(*flag)),
            // Control commands were answered in `check`.
            Command::Help
            | Command::List(_)
            | Command::Show(_)
            | Command::Digest
            | Command::Stats
            | Command::HallOfFame
            | Command::Outbox
            | Command::Advisory(_)
            | Command::Search(_) => Err(Refused::NeedsControlAddress {
                command: command.name(),
            }),
        }
    }
}

/// The state a mail's changes leave the report in, if they move it: the
/// reporter's update (if any) is about this one state, not each step.
pub fn state_reached(changes: &[Change]) -> Option<ReportState> {
    changes.iter().rev().find_map(|change| match change {
        Change::State { to, .. } => Some(*to),
        Change::Duplicate { .. } => Some(ReportState::Duplicate),
        _ => None,
    })
}

/// `#notify` and `#quiet` (`lines`, as planned) only qualify a state change of
/// the same mail: alone, together, or `#notify` for a state without an
/// update, they are refused.
fn notify_refusals(lines: &[(String, Notify)], changes: &[Change]) -> Vec<Refusal> {
    let both = lines.iter().any(|(_, f)| *f == Notify::Force)
        && lines.iter().any(|(_, f)| *f == Notify::Quiet);
    let reached = state_reached(changes);
    lines
        .iter()
        .filter_map(|(line, flag)| {
            let reason = match reached {
                _ if both => Refused::NotifyAndQuiet,
                None => Refused::NotifyWithoutState {
                    command: flag.name(),
                },
                Some(state) if *flag == Notify::Force && Update::for_state(state).is_none() => {
                    Refused::NotifyNoUpdate { state }
                }
                Some(_) => return None,
            };
            Some(Refusal {
                line: line.clone(),
                reason,
            })
        })
        .collect()
}

fn transition(from: ReportState, to: ReportState) -> Result<(), Refused> {
    if from == to {
        Err(Refused::AlreadyInState { state: to })
    } else if from.can_become(to) {
        Ok(())
    } else {
        Err(Refused::TransitionNotAllowed { from, to })
    }
}

/// The fix time and its maximum for one severity, in one unit of days.
struct FixLimits {
    fix: u32,
    max: u32,
    kind: DayKind,
    /// The severity whose own limits applied; `None` for the plain ones.
    severity: Option<Severity>,
}

impl FixLimits {
    fn from_sla(sla: &Sla, severity: Option<Severity>, today: Date) -> Result<Self, Refused> {
        let (policy, configured) = sla.fix_policy(severity);
        let (fix_key, max_key) = match configured {
            Some(s) => (
                format!("sla.severity.{s}.fix"),
                format!("sla.severity.{s}.fix_max"),
            ),
            None => ("sla.fix".to_owned(), "sla.fix_max".to_owned()),
        };
        let (fix, fix_kind) = days_of(&fix_key, &policy.fix, today)?;
        let (max, max_kind) = days_of(&max_key, &policy.fix_max, today)?;
        if fix_kind != max_kind {
            return Err(Refused::ExtendPolicy {
                reason: format!(
                    "{fix_key} ({}) and {max_key} ({}) count different kinds of days",
                    policy.fix, policy.fix_max
                ),
            });
        }
        Ok(Self {
            fix,
            max,
            kind: fix_kind,
            severity: configured,
        })
    }
}

fn days_of(key: &str, duration: &PolicyDuration, today: Date) -> Result<(u32, DayKind), Refused> {
    match duration {
        PolicyDuration::BusinessDays(days) => Ok((*days, DayKind::Business)),
        PolicyDuration::BusinessHours(_) => Err(Refused::ExtendPolicy {
            reason: format!("{key} is `{duration}`, but extensions are counted in days"),
        }),
        PolicyDuration::Calendar(span) => {
            // Relative to today so that months and years count as real calendar days.
            let total = span
                .total((Unit::Day, today))
                .map_err(|err| Refused::ExtendPolicy {
                    reason: format!("{key} `{duration}` cannot be counted in days: {err}"),
                })?;
            let rounded = total.round();
            if !(0.0..=f64::from(u32::MAX)).contains(&rounded) {
                return Err(Refused::ExtendPolicy {
                    reason: format!("{key} `{duration}` is out of range"),
                });
            }
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "range checked just above"
            )]
            let days = rounded as u32;
            Ok((days, DayKind::Calendar))
        }
    }
}
