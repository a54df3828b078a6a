//! The Hall of Fame: one line per credited person, from the reports that are
//! disclosed and whose reporter agreed to be named. Pure: the caller fills the
//! entries from the store.

use std::collections::HashMap;

use icu_normalizer::ComposingNormalizerBorrowed;
use jiff::Timestamp;
use serde::Serialize;

use crate::report::ReportState;

/// One report as the Hall of Fame sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub report: String,
    pub state: ReportState,
    /// `Some` only when the credit the store holds is `named`: the reporter
    /// agreed (or the team recorded their consent). `none` and `unknown` are
    /// `None` and never shown.
    pub credit: Option<NamedCredit>,
    /// When the report became disclosed.
    pub disclosed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCredit {
    pub name: String,
    pub affiliation: Option<String>,
    pub url: Option<String>,
    /// The name entries merge by; `None`: derived from `name`.
    pub key: Option<String>,
}

/// One person in the Hall of Fame, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub name: String,
    pub affiliation: Option<String>,
    /// Only `http://` or `https://` URLs; anything else is dropped.
    pub url: Option<String>,
    pub contributions: usize,
    /// The most recent disclosure credited to them.
    pub last_disclosed: Timestamp,
    /// The same day as `YYYY-MM-DD` (UTC), for templates.
    pub last_disclosed_day: String,
}

/// The lines of the Hall of Fame: only disclosed reports with a named credit,
/// one line per merge key, the displayed name, affiliation and URL from that
/// person's most recent disclosure; ordered by contribution count, then most
/// recent disclosure, then name.
pub fn build(entries: &[Entry]) -> Vec<Line> {
    struct Person<'a> {
        latest: &'a NamedCredit,
        latest_at: Timestamp,
        count: usize,
    }
    let mut people: HashMap<String, Person<'_>> = HashMap::new();
    for e in entries {
        let (ReportState::Disclosed, Some(credit), Some(at)) = (e.state, &e.credit, e.disclosed_at)
        else {
            continue;
        };
        let name = clean_text(&credit.name);
        if name.is_empty() {
            continue;
        }
        let key = merge_key(credit.key.as_deref().unwrap_or(&credit.name));
        if key.is_empty() {
            continue;
        }
        let person = people.entry(key).or_insert(Person {
            latest: credit,
            latest_at: at,
            count: 0,
        });
        person.count += 1;
        // A tie on the time goes to the greater spelling, so the result does
        // not depend on the order entries come in.
        if at > person.latest_at || (at == person.latest_at && credit.name > person.latest.name) {
            person.latest = credit;
            person.latest_at = at;
        }
    }
    let mut lines: Vec<Line> = people
        .into_values()
        .map(|p| Line {
            name: clean_text(&p.latest.name),
            affiliation: p
                .latest
                .affiliation
                .as_deref()
                .map(clean_text)
                .filter(|a| !a.is_empty()),
            url: p.latest.url.as_deref().and_then(safe_url),
            contributions: p.count,
            last_disclosed: p.latest_at,
            last_disclosed_day: day(p.latest_at),
        })
        .collect();
    lines.sort_by(|a, b| {
        b.contributions
            .cmp(&a.contributions)
            .then(b.last_disclosed.cmp(&a.last_disclosed))
            .then_with(|| a.name.cmp(&b.name))
    });
    lines
}

/// `YYYY-MM-DD` of `at` in UTC.
pub fn day(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// The name entries merge by: Unicode NFKC, lower-cased, controls dropped and
/// whitespace runs collapsed to one space, so "Jane  Doe" and "jane doe" are
/// the same person.
pub fn merge_key(name: &str) -> String {
    let nfkc = ComposingNormalizerBorrowed::new_nfkc().normalize(name);
    let lower = nfkc.to_lowercase();
    // Lower-casing can leave text that is not NFKC (e.g. a capital with a
    // combining mark); a second pass makes the key stable.
    let folded = ComposingNormalizerBorrowed::new_nfkc().normalize(&lower);
    clean_text(&folded)
}

/// `text` with control characters and bidirectional controls removed and
/// whitespace collapsed: nothing in it can reorder, hide or break the page.
pub fn clean_text(text: &str) -> String {
    let visible: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_invisible_control(*c))
        .collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Bidirectional embeddings, overrides, isolates and marks, zero-width
/// characters and the byte order mark.
fn is_invisible_control(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}'
    )
}

/// `url` if it is an `http://` or `https://` URL with a host and nothing that
/// could end an attribute or a line; anything else (`javascript:`, `data:`,
/// relative paths) is not linked.
pub fn safe_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    let clean = url.chars().all(|c| {
        c.is_ascii() && !c.is_ascii_control() && !c.is_whitespace() && !"<>\"'`\\".contains(c)
    });
    (host_ok && clean).then(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> Timestamp {
        format!("2026-10-{day:02}T12:00:00Z").parse().expect("time")
    }

    fn named(report: &str, name: &str, day: u32) -> Entry {
        Entry {
            report: report.into(),
            state: ReportState::Disclosed,
            credit: Some(NamedCredit {
                name: name.into(),
                affiliation: None,
                url: None,
                key: None,
            }),
            disclosed_at: Some(at(day)),
        }
    }

    #[test]
    fn people_are_ordered_by_contributions_then_recency_then_name() {
        let entries = [
            named("1", "Bob", 1),
            named("2", "Alice", 2),
            named("3", "Alice", 3),
            named("4", "Carol", 9),
            named("5", "Dave", 9),
        ];
        let lines = build(&entries);
        let names: Vec<_> = lines
            .iter()
            .map(|l| (l.name.as_str(), l.contributions))
            .collect();
        assert_eq!(names, [("Alice", 2), ("Carol", 1), ("Dave", 1), ("Bob", 1)]);
        assert_eq!(lines[0].last_disclosed_day, "2026-10-03");
    }

    #[test]
    fn spellings_of_one_name_merge_and_the_latest_is_shown() {
        let mut old = named("1", "jane  doe", 1);
        if let Some(c) = old.credit.as_mut() {
            c.url = Some("https://old.example".into());
            c.affiliation = Some("Old Corp".into());
        }
        let mut new = named("2", "Jane Doe", 5);
        if let Some(c) = new.credit.as_mut() {
            c.url = Some("https://jane.example".into());
        }
        let lines = build(&[new, old, named("3", "ＪＡＮＥ\u{00A0}DOE", 2)]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].contributions, 3);
        assert_eq!(lines[0].name, "Jane Doe");
        assert_eq!(lines[0].url.as_deref(), Some("https://jane.example"));
        assert_eq!(lines[0].affiliation, None);
    }

    #[test]
    fn the_credit_key_merges_entries_across_different_names() {
        let mut a = named("1", "J. Doe", 1);
        let mut b = named("2", "Jane Doe (Acme)", 2);
        for e in [&mut a, &mut b] {
            if let Some(c) = e.credit.as_mut() {
                c.key = Some("Jane Doe".into());
            }
        }
        let lines = build(&[a, b, named("3", "jane doe", 3)]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].name, "jane doe");
        assert_eq!(lines[0].contributions, 3);
    }

    #[test]
    fn a_report_that_is_not_disclosed_never_appears() {
        for state in [
            ReportState::New,
            ReportState::Triaged,
            ReportState::Accepted,
            ReportState::Fixed,
            ReportState::RiskAccepted,
            ReportState::Spam,
        ] {
            let mut e = named("1", "Mallory", 1);
            e.state = state;
            assert!(build(&[e]).is_empty(), "{state:?}");
        }
    }

    #[test]
    fn a_report_without_a_named_credit_never_appears() {
        let mut e = named("1", "Mallory", 1);
        e.credit = None;
        assert!(build(&[e]).is_empty());
        let mut blank = named("2", " \u{202E} ", 1);
        blank.disclosed_at = Some(at(2));
        assert!(build(&[blank]).is_empty());
    }

    #[test]
    fn a_javascript_url_in_a_credit_is_never_kept() {
        for url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.example",
            "https://a.example/\"onmouseover=\"alert(1)",
            "https://",
            "ftp://a.example",
        ] {
            assert_eq!(safe_url(url), None, "{url}");
        }
        assert_eq!(
            safe_url("https://jane.example/about?x=1#y").as_deref(),
            Some("https://jane.example/about?x=1#y")
        );
        assert!(safe_url("http://jane.example").is_some());
    }

    #[test]
    fn control_and_bidi_characters_in_a_credit_are_not_emitted() {
        let mut e = named("1", "Jane\u{202E}eoD\u{0007}\u{200B}\r\nX", 1);
        if let Some(c) = e.credit.as_mut() {
            c.affiliation = Some("\u{2066}Acme\u{2069}\u{0000}".into());
        }
        let lines = build(&[e]);
        assert_eq!(lines[0].name, "JaneeoD X");
        assert_eq!(lines[0].affiliation.as_deref(), Some("Acme"));
    }
}
