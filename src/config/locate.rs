//! Where in the file a key is written: the line and column a problem points
//! at, and the dotted key (`rules[3].pattern`) at the byte offset of one of
//! toml's errors, whose own message names neither.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A position in the file, both counted from 1; the column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// The position of byte `offset` of `text`.
pub fn location(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The file's tables with the byte ranges of their keys and values. A file
/// that is not valid TOML gives as much as could be read.
pub struct Spans<'a> {
    text: &'a str,
    root: Spanned<DeTable<'a>>,
}

impl<'a> Spans<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            root: DeTable::parse_recoverable(text).0,
        }
    }

    /// Where the value of `key` (`team.members[1].email`) is written; `None`
    /// for a key the file does not have (it got its default).
    pub fn find(&self, key: &str) -> Option<Location> {
        let mut table = self.root.get_ref();
        let mut found: Option<&Spanned<DeValue<'a>>> = None;
        for segment in key.split('.') {
            if let Some(found) = found {
                table = match found.get_ref() {
                    DeValue::Table(t) => t,
                    _ => return None,
                };
            }
            let (name, index) = match segment.split_once('[') {
                Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (segment, None),
            };
            let value = table
                .iter()
                .find(|(k, _)| k.get_ref() == name)
                .map(|(_, v)| v)?;
            found = Some(match (index, value.get_ref()) {
                (None, _) => value,
                (Some(i), DeValue::Array(items)) => items.get(i)?,
                (Some(_), _) => return None,
            });
        }
        found.map(|v| location(self.text, v.span().start))
    }

    /// The dotted key written at byte `offset`, or the table an error there
    /// belongs to (toml points at a table's header when one of its keys is
    /// missing); `""` before the first table.
    pub fn key_at(&self, offset: usize) -> String {
        let mut best = Best::default();
        visit(self.root.get_ref(), "", offset, &mut best);
        if let Some(exact) = best.exact {
            return exact;
        }
        // A key toml refused before storing it (a duplicate): the table whose
        // header comes last before it, and the key as written.
        let table = best.header.map(|(_, path)| path).unwrap_or_default();
        let word = self.text.get(offset..).map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<String>()
        });
        match word {
            Some(word) if !word.is_empty() => join(&table, &word),
            _ => table,
        }
    }
}

#[derive(Default)]
struct Best {
    /// The deepest key whose name or value covers the offset.
    exact: Option<String>,
    /// The last table header starting at or before the offset.
    header: Option<(usize, String)>,
}

fn visit(table: &DeTable<'_>, path: &str, offset: usize, best: &mut Best) {
    for (key, value) in table.iter() {
        let here = join(path, key.get_ref());
        visit_value(value, here, key.span(), offset, best);
    }
}

fn visit_value(
    value: &Spanned<DeValue<'_>>,
    path: String,
    key: Range<usize>,
    offset: usize,
    best: &mut Best,
) {
    let span = value.span();
    if key.contains(&offset) || span.contains(&offset) {
        best.exact = Some(path.clone());
    }
    match value.get_ref() {
        DeValue::Table(table) => {
            if span.start <= offset && best.header.as_ref().is_none_or(|(at, _)| *at <= span.start)
            {
                best.header = Some((span.start, path.clone()));
            }
            visit(table, &path, offset, best);
        }
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                visit_value(item, format!("{path}[{i}]"), 0..0, offset, best);
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[program]\nname = \"x\"\nname = \"y\"\n\n[limits]\nmax_mime_depth = \"deep\"\n\n[[rules]]\nname = \"a\"\n[[rules]]\npattern = 5\n";

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        assert_eq!(location("ab\ncé", 0), Location { line: 1, column: 1 });
        assert_eq!(location("ab\ncéd", 6), Location { line: 2, column: 3 });
    }

    #[test]
    fn the_key_at_an_offset_is_dotted_with_indices() {
        let spans = Spans::new(TEXT);
        let at = |needle: &str| TEXT.find(needle).expect("in the text");
        assert_eq!(spans.key_at(at("\"deep\"")), "limits.max_mime_depth");
        assert_eq!(spans.key_at(at("5\n")), "rules[1].pattern");
        assert_eq!(spans.key_at(at("[[rules]]\npattern")), "rules[1]");
        assert_eq!(spans.key_at(at("name = \"y\"")), "program.name");
        assert_eq!(spans.key_at(at("[program]")), "program");
    }

    #[test]
    fn a_dotted_key_is_found_where_it_is_written() {
        let spans = Spans::new(TEXT);
        assert_eq!(
            spans.find("limits.max_mime_depth"),
            Some(Location {
                line: 6,
                column: 18
            })
        );
        assert_eq!(
            spans.find("rules[1].pattern"),
            Some(Location {
                line: 11,
                column: 11
            })
        );
        assert_eq!(spans.find("rules[2].pattern"), None);
        assert_eq!(spans.find("sla.acknowledge"), None);
    }
}
