//! The last check before a relay leaves, independent of how a client quotes:
//! does the relay carry lines of mail the system itself sent to the team
//! (notifications, answers to commands, copies of notes and relays, refusals,
//! reminders, digests)? Such mail is recorded as fingerprints of its lines when
//! it is queued ([`fingerprints`]); a relay whose lines match is held back and
//! its author told which lines looked internal ([`shown_lines`]).
//!
//! A line is compared whole, folded (case, spacing, punctuation, quote marks,
//! Unicode look-alikes, member names and addresses do not count), and so is
//! each field of it (`Key: value`, table columns), when it has at least
//! [`MIN_SIGNIFICANT`] letters and digits. What is not internal although team
//! mail carried it: the reporter's own words (quoting them back is fine), and
//! the author's own words (lines they relayed before when no team mail had
//! them, and lines of their earlier mail in the same report that only team mail
//! about that report carried).

use std::collections::{BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::strip::{Members, fold};
use crate::store::LineFingerprint;

/// Fewer letters and digits than this make a line too common to tell anything
/// ("Thanks,", "Best regards", a date).
pub const MIN_SIGNIFICANT: usize = 20;

/// At most this many fingerprints are kept of one mail: the table grows by
/// bounded steps, and the first lines of a mail (where its facts are) count.
pub const MAX_PER_MAIL: usize = 2_000;

/// Shown to the member at most this many lines, each at most this long.
const SHOWN_LINES: usize = 20;
const SHOWN_CHARS: usize = 200;

/// The fingerprints of the lines and fields of `text`, without repeats, at
/// most [`MAX_PER_MAIL`].
pub fn fingerprints(text: &str, members: &Members) -> Vec<LineFingerprint> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        for fingerprint in line_fingerprints(line, members) {
            if out.len() >= MAX_PER_MAIL {
                return out;
            }
            if seen.insert(fingerprint) {
                out.push(fingerprint);
            }
        }
    }
    out
}

/// The fingerprints of one line: of the whole line and of each of its fields,
/// those with enough letters and digits.
pub fn line_fingerprints(line: &str, members: &Members) -> Vec<LineFingerprint> {
    let line = members.erase(&fold(line));
    let mut keys: Vec<String> = vec![alphanumeric(&line)];
    keys.extend(fields(&line).map(alphanumeric));
    let mut out: Vec<LineFingerprint> = Vec::new();
    for key in keys {
        if key.chars().count() < MIN_SIGNIFICANT {
            continue;
        }
        let fingerprint = fingerprint(&key);
        if !out.contains(&fingerprint) {
            out.push(fingerprint);
        }
    }
    out
}

/// The letters and digits of folded text.
fn alphanumeric(folded: &str) -> String {
    folded.chars().filter(|c| c.is_alphanumeric()).collect()
}

fn fingerprint(key: &str) -> LineFingerprint {
    let digest = Sha256::digest(key.as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// The parts of a folded line a reader may copy on their own: the value after
/// a short `Key:` label, and cells separated by runs of spaces (tabs are folded
/// to spaces) or `|`.
fn fields(line: &str) -> impl Iterator<Item = &str> {
    let value = line
        .split_once(": ")
        .map(|(label, value)| (label.split_whitespace().count() <= 3).then_some(value))
        .unwrap_or_default();
    let cells: Vec<&str> = line
        .split('|')
        .flat_map(|cell| cell.split("  "))
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    let cells = if cells.len() > 1 { cells } else { Vec::new() };
    value.into_iter().chain(cells)
}

/// One line of a relay and its fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayLine {
    pub text: String,
    pub fingerprints: Vec<LineFingerprint>,
}

/// The lines of `relay` that have fingerprints.
pub fn relay_lines(relay: &str, members: &Members) -> Vec<RelayLine> {
    relay
        .lines()
        .map(|line| RelayLine {
            text: line.to_owned(),
            fingerprints: line_fingerprints(line, members),
        })
        .filter(|line| !line.fingerprints.is_empty())
        .collect()
}

/// Every fingerprint of `lines`, once.
pub fn all_fingerprints(lines: &[RelayLine]) -> Vec<LineFingerprint> {
    let mut seen = HashSet::new();
    lines
        .iter()
        .flat_map(|l| l.fingerprints.iter().copied())
        .filter(|f| seen.insert(*f))
        .collect()
}

/// What the store knows of a relay's fingerprints.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Those mail to the team carried, with the reports that mail was about
    /// (`""`: about no single report).
    pub team: HashMap<LineFingerprint, BTreeSet<String>>,
    /// Those the author relayed before when no team mail had carried them.
    pub relayed_by_author: HashSet<LineFingerprint>,
}

/// Fingerprints that are not internal for this relay although team mail
/// carried them.
#[derive(Debug, Clone, Default)]
pub struct Exempt {
    /// Of the reporter's own messages in this report.
    pub reporter: HashSet<LineFingerprint>,
    /// Of the author's own earlier mail in this report (their words only,
    /// quotes stripped): a draft posted as an internal note, or repeated.
    pub author: HashSet<LineFingerprint>,
}

/// A relay line that looked internal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalLine {
    pub text: String,
    /// Team mail about another report (or about none) carried it.
    pub other_report: bool,
}

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Lines that must not reach the reporter; the relay is held back if any.
    pub internal: Vec<InternalLine>,
    /// Fingerprints no team mail and no reporter message carried: the author's
    /// own words, recorded as such once the relay has left.
    pub fresh: Vec<LineFingerprint>,
}

impl Verdict {
    pub fn passes(&self) -> bool {
        self.internal.is_empty()
    }
}

/// Checks the lines of a relay in `report` against what the team was sent.
pub fn check(lines: &[RelayLine], report: &str, known: &Known, exempt: &Exempt) -> Verdict {
    let mut verdict = Verdict::default();
    let mut fresh = HashSet::new();
    for line in lines {
        let mut internal = false;
        let mut other_report = false;
        for fingerprint in &line.fingerprints {
            let Some(reports) = known.team.get(fingerprint) else {
                if !exempt.reporter.contains(fingerprint) && fresh.insert(*fingerprint) {
                    verdict.fresh.push(*fingerprint);
                }
                continue;
            };
            let only_this_report = reports.iter().all(|r| r == report);
            let allowed = exempt.reporter.contains(fingerprint)
                || known.relayed_by_author.contains(fingerprint)
                // Their own earlier words, unless they reached the team through
                // mail about something else too (a line of another report
                // pasted into a note stays another report's line).
                || (exempt.author.contains(fingerprint) && only_this_report);
            if !allowed {
                internal = true;
                other_report |= !only_this_report;
            }
        }
        if internal {
            verdict.internal.push(InternalLine {
                text: line.text.clone(),
                other_report,
            });
        }
    }
    verdict
}

/// A line the author is shown of a relay held back, cut to a readable length.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShownLine {
    pub text: String,
    /// It was cut at [`SHOWN_CHARS`] characters.
    pub cut: bool,
    /// Team mail about another report (or about none) carried it.
    pub other_report: bool,
}

/// The lines of `internal` to show the author, at most [`SHOWN_LINES`], and
/// how many more there are.
pub fn shown_lines(internal: &[InternalLine]) -> (Vec<ShownLine>, usize) {
    let shown = internal
        .iter()
        .take(SHOWN_LINES)
        .map(|line| {
            let trimmed = line.text.trim();
            ShownLine {
                text: trimmed.chars().take(SHOWN_CHARS).collect(),
                cut: trimmed.chars().count() > SHOWN_CHARS,
                other_report: line.other_report,
            }
        })
        .collect();
    (shown, internal.len().saturating_sub(SHOWN_LINES))
}

#[cfg(test)]
mod tests;
