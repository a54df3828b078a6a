//! Who is on the team, as a relay must not show it: every member address and
//! name becomes [`MEMBER_PLACEHOLDER`](super::MEMBER_PLACEHOLDER).

use std::sync::LazyLock;

use regex::Regex;

use super::MEMBER_PLACEHOLDER;
use super::fold::fold;

/// Stands for a replaced mention until the line is finished, so that later
/// patterns never match inside a placeholder. A private-use character: no
/// mail means it.
pub(super) const MARK: char = '\u{E000}';

/// The team's addresses and names, ready to find in text.
#[derive(Debug, Clone)]
pub struct Members {
    /// Lower-cased.
    addresses: Vec<String>,
    /// Whole configured names, any case, any spacing between their words.
    names: Option<Regex>,
    /// The capitalised words of names of more than one word ("Alice" of
    /// "Alice Example"), as configured: a sign-off or a greeting often has
    /// only the first name. Lower-case words ("van", "de") are left, they are
    /// ordinary words too.
    parts: Option<Regex>,
    /// For matching folded text ([`Self::erase`]): every address, name, word
    /// of a name and the placeholder, folded, in any case.
    folded: Option<Regex>,
}

/// Mentions next to each other become one: a mention in angle brackets,
/// parentheses or quotes right after another is the same person ("Alice
/// <alice@…>", "\"Smith, Alice\" (alice@…)"), and a list of members tells
/// the reporter no more than one placeholder does.
static DOUBLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "\"?{MARK}\"?(?:[ \\t,;]*(?:\\({MARK}\\)|<{MARK}>|\"?{MARK}\"?))+"
    ))
    .expect("a constant pattern compiles")
});

impl Members {
    /// `entries` are addresses (with an `@`) and names (the others).
    pub fn new(entries: &[&str]) -> Self {
        let (addresses, names): (Vec<&str>, Vec<&str>) = entries
            .iter()
            .map(|m| m.trim())
            .filter(|m| !m.is_empty())
            .partition(|m| m.contains('@'));
        let mut whole: Vec<String> = names
            .iter()
            .map(|n| {
                n.split_whitespace()
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(r"\s+")
            })
            .collect();
        let mut parts: Vec<String> = names
            .iter()
            .filter(|n| n.split_whitespace().nth(1).is_some())
            .flat_map(|n| n.split_whitespace())
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|w| w.chars().count() >= 2 && w.chars().next().is_some_and(char::is_uppercase))
            .map(regex::escape)
            .collect();
        let mut folded: Vec<String> = addresses
            .iter()
            .map(|a| regex::escape(&fold(a)))
            .chain(names.iter().flat_map(|n| {
                let n = fold(n);
                let words: Vec<String> = n.split_whitespace().map(regex::escape).collect();
                let mut forms = vec![words.join(r"\s+")];
                forms.extend(words.into_iter().filter(|w| w.chars().count() >= 2));
                forms
            }))
            .chain([regex::escape(MEMBER_PLACEHOLDER)])
            .collect();
        Self {
            addresses: addresses.iter().map(|a| a.to_ascii_lowercase()).collect(),
            names: alternation(&mut whole, "(?i)"),
            parts: alternation(&mut parts, ""),
            folded: alternation(&mut folded, "(?i)"),
        }
    }

    /// Whether there is nobody to look for.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.names.is_none()
    }

    /// `line` with every member address and name replaced by
    /// [`MEMBER_PLACEHOLDER`], and how many were replaced.
    pub fn replace(&self, line: &str) -> (String, usize) {
        let (marked, count) = self.mark(line);
        (unmark(&marked), count)
    }

    /// Folded `text` (see [`fold`]) without any member address, name, word of
    /// a name or placeholder, in any case: for comparing lines, never shown.
    pub fn erase(&self, folded: &str) -> String {
        match &self.folded {
            Some(pattern) => pattern.replace_all(folded, " ").into_owned(),
            None => folded.to_owned(),
        }
    }

    /// Like [`Self::replace`], with each mention as [`MARK`].
    pub(super) fn mark(&self, line: &str) -> (String, usize) {
        let mut line = line.replace(MARK, "\u{FFFD}");
        let mut count = 0;
        // Addresses first: a name may be part of an address (alice.smith@…).
        for address in &self.addresses {
            for needle in [format!("<{address}>"), address.clone()] {
                // ASCII lower-casing keeps byte offsets, so a position found
                // in the lowered copy is valid in the original.
                while let Some(at) = line.to_ascii_lowercase().find(&needle) {
                    line.replace_range(at..at + needle.len(), &MARK.to_string());
                    count += 1;
                }
            }
        }
        for pattern in [&self.names, &self.parts].into_iter().flatten() {
            let found = pattern.find_iter(&line).count();
            if found > 0 {
                count += found;
                line = pattern
                    .replace_all(&line, MARK.to_string().as_str())
                    .into_owned();
            }
        }
        if count > 0 {
            line = DOUBLED
                .replace_all(&line, MARK.to_string().as_str())
                .into_owned();
        }
        (line, count)
    }
}

/// The marks of [`Members::mark`] as placeholders.
pub(super) fn unmark(line: &str) -> String {
    line.replace(MARK, MEMBER_PLACEHOLDER)
}

/// One case-insensitive or exact pattern for all `words` (escaped), longest
/// first so that "Alice Example" wins over "Alice", each whole: between word
/// boundaries where it starts or ends with a letter or digit.
fn alternation(words: &mut Vec<String>, flags: &str) -> Option<Regex> {
    if words.is_empty() {
        return None;
    }
    words.sort();
    words.dedup();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let bounded: Vec<String> = words
        .iter()
        .map(|w| {
            let edge = |c: Option<char>| {
                if c.is_some_and(char::is_alphanumeric) {
                    r"\b"
                } else {
                    ""
                }
            };
            format!("{}{w}{}", edge(w.chars().next()), edge(w.chars().last()))
        })
        .collect();
    Regex::new(&format!("{flags}(?:{})", bounded.join("|"))).ok()
}
