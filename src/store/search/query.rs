//! What a searcher types, turned into an FTS5 expression this code wrote.
//!
//! The text never reaches FTS5 as syntax: every word and phrase is emitted as a
//! quoted FTS5 string, and only the operators and field names below are
//! recognised, each mapped to columns of the index. So a query cannot name a
//! column, call `NEAR`, or fail to parse inside SQLite; whatever else it holds
//! is searched for as words.

use std::fmt::Write as _;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;

/// Most words and phrases in one query.
pub const MAX_TERMS: usize = 16;

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("nothing to search for: give a word, a \"phrase\" or a field such as tag:WORD")]
    Empty,
    #[error("the query is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the query has more than {max} words and phrases")]
    TooManyTerms { max: usize },
    #[error("a quote (\") is not closed")]
    UnbalancedQuote,
    #[error("the query only excludes words; give at least one word to find")]
    OnlyExclusions,
}

/// The searchable fields a query may name, and the index columns each means.
const FIELDS: &[(&str, &str)] = &[
    ("subject", "subject"),
    ("text", "body"),
    ("body", "body"),
    ("from", "people"),
    ("reporter", "people"),
    ("cve", "ids"),
    ("cwe", "ids"),
    ("id", "ids"),
    ("tag", "tags"),
    ("product", "public"),
    ("summary", "public"),
];

/// A checked query: the FTS5 `MATCH` expression it compiles to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    fts: String,
}

#[derive(Debug, Clone)]
struct Term {
    column: Option<&'static str>,
    text: String,
    prefix: bool,
}

#[derive(Debug)]
enum Token {
    Term { term: Term, negated: bool },
    Or,
}

impl SearchQuery {
    /// Checks `text` and builds its expression. Words are ANDed; `OR` between
    /// two words accepts either; `-word` or `NOT word` excludes; `"…"` is a
    /// phrase; `word*` a prefix; `field:word` looks in one field (`subject`,
    /// `text`, `from`, `cve`, `tag`, `product`, …); anything else is a word.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong {
                max: MAX_QUERY_CHARS,
            });
        }
        let tokens = tokens(text)?;
        let terms = tokens
            .iter()
            .filter(|t| matches!(t, Token::Term { .. }))
            .count();
        if terms > MAX_TERMS {
            return Err(QueryError::TooManyTerms { max: MAX_TERMS });
        }
        // Clauses of terms joined by OR, each either required or excluded.
        let mut clauses: Vec<(bool, Vec<Term>)> = Vec::new();
        let mut or = false;
        for token in tokens {
            match token {
                Token::Or => or = !clauses.is_empty(),
                Token::Term { term, negated } => {
                    match clauses.last_mut() {
                        Some((last_negated, terms)) if or && *last_negated == negated => {
                            terms.push(term);
                        }
                        _ => clauses.push((negated, vec![term])),
                    }
                    or = false;
                }
            }
        }
        let render = |clauses: &mut dyn Iterator<Item = &Vec<Term>>, join: &str| {
            clauses
                .map(|terms| {
                    let inner: Vec<String> = terms.iter().map(fts_term).collect();
                    format!("({})", inner.join(" OR "))
                })
                .collect::<Vec<_>>()
                .join(join)
        };
        let wanted = render(
            &mut clauses.iter().filter(|(n, _)| !n).map(|(_, t)| t),
            " AND ",
        );
        let unwanted = render(
            &mut clauses.iter().filter(|(n, _)| *n).map(|(_, t)| t),
            " OR ",
        );
        match (wanted.is_empty(), unwanted.is_empty()) {
            (true, true) => Err(QueryError::Empty),
            (true, false) => Err(QueryError::OnlyExclusions),
            (false, true) => Ok(Self { fts: wanted }),
            (false, false) => Ok(Self {
                fts: format!("({wanted}) NOT ({unwanted})"),
            }),
        }
    }

    /// The FTS5 expression.
    pub fn as_fts(&self) -> &str {
        &self.fts
    }
}

/// One term as an FTS5 string: quoted (inner quotes doubled), with its
/// column filter and prefix marker.
fn fts_term(term: &Term) -> String {
    let mut out = String::new();
    if let Some(column) = term.column {
        let _ = write!(out, "{column} : ");
    }
    let _ = write!(out, "\"{}\"", term.text.replace('"', "\"\""));
    if term.prefix {
        out.push_str(" *");
    }
    out
}

/// Whether a word holds something the tokenizer indexes.
fn has_word(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

fn tokens(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut out = Vec::new();
    let mut negated = false;
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        if first == '"' {
            let body = &rest[1..];
            let end = body.find('"').ok_or(QueryError::UnbalancedQuote)?;
            let phrase = &body[..end];
            rest = &body[end + 1..];
            let prefix = rest.starts_with('*');
            if prefix {
                rest = rest.trim_start_matches('*');
            }
            push_term(&mut out, &mut negated, None, phrase, prefix);
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        match word {
            "OR" => {
                out.push(Token::Or);
                continue;
            }
            "AND" => continue,
            "NOT" => {
                negated = true;
                continue;
            }
            _ => {}
        }
        let (word, neg) = match word.strip_prefix('-') {
            Some(stripped) if !stripped.is_empty() => (stripped, true),
            _ => (word, false),
        };
        negated |= neg;
        let (column, word) = match word.split_once(':') {
            Some((field, value)) => {
                match FIELDS.iter().find(|(f, _)| field.eq_ignore_ascii_case(f)) {
                    Some((_, column)) => (Some(*column), value),
                    None => (None, word),
                }
            }
            None => (None, word),
        };
        // `field:"a phrase"`: the phrase follows the colon.
        if column.is_some() && word.is_empty() && rest.starts_with('"') {
            let body = &rest[1..];
            let end = body.find('"').ok_or(QueryError::UnbalancedQuote)?;
            let phrase = &body[..end];
            rest = &body[end + 1..];
            push_term(&mut out, &mut negated, column, phrase, false);
            continue;
        }
        let prefix = word.ends_with('*');
        let word = word.trim_end_matches('*');
        push_term(&mut out, &mut negated, column, word, prefix);
    }
    Ok(out)
}

fn push_term(
    out: &mut Vec<Token>,
    negated: &mut bool,
    column: Option<&'static str>,
    text: &str,
    prefix: bool,
) {
    let was_negated = std::mem::take(negated);
    // Punctuation alone indexes nothing: searching for it would find nothing.
    if !has_word(text) {
        return;
    }
    out.push(Token::Term {
        term: Term {
            column,
            text: text.to_owned(),
            prefix,
        },
        negated: was_negated,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fts(text: &str) -> String {
        SearchQuery::parse(text).expect("parses").fts
    }

    #[test]
    fn words_are_quoted_and_anded() {
        assert_eq!(fts("sql injection"), r#"("sql") AND ("injection")"#);
        assert_eq!(fts("sql OR xss"), r#"("sql" OR "xss")"#);
        assert_eq!(
            fts("\"login page\" -xss"),
            r#"(("login page")) NOT (("xss"))"#
        );
        assert_eq!(fts("NOT xss rce"), r#"(("rce")) NOT (("xss"))"#);
        assert_eq!(fts("resiz*"), r#"("resiz" *)"#);
        assert_eq!(
            fts("tag:rce cve:CVE-2026-1234"),
            r#"(tags : "rce") AND (ids : "CVE-2026-1234")"#
        );
        assert_eq!(
            fts("subject:\"open redirect\""),
            r#"(subject : "open redirect")"#
        );
    }

    #[test]
    fn a_query_cannot_name_a_column_or_use_fts_syntax() {
        // An unknown field is a word; a known one maps to its own columns.
        assert_eq!(fts("confidential:1"), r#"("confidential:1")"#);
        assert_eq!(fts("rowid:1"), r#"("rowid:1")"#);
        assert_eq!(fts("{body}:x"), r#"("{body}:x")"#);
        // `x" OR subject:*`: the quoted x, then an OR with nothing to search.
        assert_eq!(fts(r#""x" OR subject:*"#), r#"("x")"#);
        assert_eq!(fts("NEAR(a b)"), r#"("NEAR(a") AND ("b)")"#);
        assert_eq!(fts("a AND OR NOT"), r#"("a")"#);
        assert_eq!(fts("^start"), r#"("^start")"#);
    }

    #[test]
    fn a_query_that_cannot_be_searched_is_a_clear_error() {
        assert_eq!(
            SearchQuery::parse("\"open"),
            Err(QueryError::UnbalancedQuote)
        );
        assert_eq!(
            SearchQuery::parse("subject:\"open"),
            Err(QueryError::UnbalancedQuote)
        );
        assert_eq!(SearchQuery::parse("  "), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("( * : -"), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("-xss"), Err(QueryError::OnlyExclusions));
        assert_eq!(
            SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS + 1)),
            Err(QueryError::TooLong {
                max: MAX_QUERY_CHARS
            })
        );
        assert_eq!(
            SearchQuery::parse(&"a ".repeat(MAX_TERMS + 1)),
            Err(QueryError::TooManyTerms { max: MAX_TERMS })
        );
    }
}
