//! `Authentication-Results` (RFC 8601): parse one header value, and pick the DKIM
//! verdict that our own trusted receiving server wrote.
//!
//! The grammar is followed where it matters for trust (the authserv-id, method,
//! result and property names) and relaxed where widespread servers deviate
//! harmlessly: unquoted `/`, `=` and `+` in values (base64 `header.b`), properties
//! without a `ptype.` (Fastmail's `x-bits=2048`, Microsoft's `action=none`), a
//! `reason` after properties, and empty or trailing `;`.

use thiserror::Error;

/// One parsed `Authentication-Results` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    /// The server that wrote the header, as written (compare case-insensitively).
    pub authserv_id: String,
    /// The optional version number after the authserv-id.
    pub version: Option<u32>,
    /// The results in header order; empty for `none`.
    pub resinfos: Vec<ResInfo>,
}

/// One `method=result` clause with its reason and properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResInfo {
    /// Lower case: `dkim`, `spf`, `dmarc`, `arc`…
    pub method: String,
    /// The method version (`dkim/1`), when given.
    pub method_version: Option<u32>,
    /// Lower case: `pass`, `fail`, `none`, `neutral`, `temperror`…
    pub result: String,
    /// The `reason=` value, unquoted.
    pub reason: Option<String>,
    /// `ptype.property = value` pairs in header order.
    pub properties: Vec<Property>,
}

/// One property such as `header.d=example.org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Lower case: `header`, `smtp`, `policy`…; empty for a non-standard property
    /// without a type (`x-bits=2048`).
    pub ptype: String,
    /// Lower case: `d`, `i`, `b`, `mailfrom`…
    pub name: String,
    /// As written, unquoted.
    pub value: String,
}

impl ResInfo {
    /// The value of the first property `ptype.name` (give it in lower case).
    pub fn property(&self, ptype: &str, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.ptype == ptype && p.name == name)
            .map(|p| p.value.as_str())
    }

    /// The signing domain of a DKIM result: `header.d`, else the domain of
    /// `header.i`, in lower case.
    pub fn dkim_domain(&self) -> Option<String> {
        let domain = match self.property("header", "d") {
            Some(d) => d,
            None => self.property("header", "i")?.rsplit_once('@')?.1,
        };
        let domain = domain.trim().trim_end_matches('.');
        (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
    }
}

/// A header value that is not a valid `Authentication-Results`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("malformed Authentication-Results header `{header}`: {problem}")]
pub struct ResultsError {
    /// The offending value, whitespace collapsed and shortened for the message.
    pub header: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a header value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    #[error("it does not start with the id of the server that wrote it (authserv-id)")]
    MissingAuthservId,
    #[error("it has no result after the authserv-id (not even `none`)")]
    NoResults,
    #[error("`none` must be the only result")]
    NoneWithOthers,
    #[error("a comment `(` is never closed")]
    UnclosedComment,
    #[error("a quoted string `\"` is never closed")]
    UnclosedQuote,
    #[error("expected {expected} at character {at}, found {found}")]
    Unexpected {
        expected: &'static str,
        /// Character position (0-based) in the value.
        at: usize,
        /// The character found, or `the end`.
        found: String,
    },
    #[error("the number at character {at} is too large")]
    NumberTooLarge { at: usize },
}

/// Parses one `Authentication-Results` header value (without the field name; the
/// raw value with folding and line breaks is fine).
pub fn parse_results(value: &str) -> Result<Results, ResultsError> {
    let mut lexer = Lexer::new(value);
    parse(&mut lexer).map_err(|problem| ResultsError {
        header: excerpt(value),
        problem,
    })
}

/// The topmost header among `headers` (values, top of the header block first)
/// whose authserv-id is `trusted_authserv_id`, parsed; `None` when there is none.
///
/// A header is attributed by its leading authserv-id alone, so a trusted header
/// that fails to parse still hides any forged ones below it.
pub fn trusted_results(
    headers: &[&str],
    trusted_authserv_id: &str,
) -> Option<Result<Results, ResultsError>> {
    let trusted = trusted_authserv_id.trim();
    if trusted.is_empty() {
        return None;
    }
    let value = headers.iter().find(|value| {
        leading_authserv_id(value).is_some_and(|id| id.eq_ignore_ascii_case(trusted))
    })?;
    Some(parse_results(value))
}

/// The domains (lower case, in header order, no repeats) with `dkim=pass` in the
/// topmost `Authentication-Results` header written by `trusted_authserv_id`.
///
/// `headers` are the values of all `Authentication-Results` headers, top of the
/// header block first. Only the topmost one carrying the trusted id counts: the
/// trusted server adds its header on arrival, above anything the sender wrote, and
/// RFC 8601 §5 requires it to delete forged headers carrying its own id; any
/// further ones below are ignored in case it did not. Headers from other
/// authserv-ids are ignored entirely, and a malformed trusted header yields
/// nothing (see [`trusted_results`] to learn why).
pub fn dkim_pass_domains(headers: &[&str], trusted_authserv_id: &str) -> Vec<String> {
    let Some(Ok(results)) = trusted_results(headers, trusted_authserv_id) else {
        return Vec::new();
    };
    let mut domains: Vec<String> = Vec::new();
    for resinfo in &results.resinfos {
        if resinfo.method != "dkim" || resinfo.result != "pass" {
            continue;
        }
        if let Some(domain) = resinfo.dkim_domain()
            && !domains.contains(&domain)
        {
            domains.push(domain);
        }
    }
    domains
}

/// The authserv-id a header value starts with, read without parsing the rest.
fn leading_authserv_id(value: &str) -> Option<String> {
    let mut lexer = Lexer::new(value);
    lexer.skip_cfws().ok()?;
    let id = lexer.value().ok()?;
    lexer.skip_cfws().ok()?;
    // `spf=pass …` (Microsoft 365) starts with a result, not an id.
    (!id.is_empty() && lexer.peek() != Some('=')).then_some(id)
}

fn parse(lexer: &mut Lexer) -> Result<Results, Problem> {
    lexer.skip_cfws()?;
    let authserv_id = lexer.value()?;
    lexer.skip_cfws()?;
    if authserv_id.is_empty() || lexer.peek() == Some('=') {
        return Err(Problem::MissingAuthservId);
    }
    let version = lexer.number()?;
    let mut resinfos = Vec::new();
    let mut saw_none = false;
    loop {
        lexer.skip_cfws()?;
        if lexer.peek().is_none() {
            break;
        }
        lexer.expect(';', "`;` before the next result")?;
        lexer.skip_cfws()?;
        // Tolerate empty clauses: several servers end the header with `;`.
        if matches!(lexer.peek(), None | Some(';')) {
            continue;
        }
        let method = lexer.keyword("a method name such as `dkim`")?;
        lexer.skip_cfws()?;
        if method == "none" && lexer.peek() != Some('=') && lexer.peek() != Some('/') {
            saw_none = true;
            continue;
        }
        resinfos.push(parse_resinfo(lexer, method)?);
    }
    match (saw_none, resinfos.is_empty()) {
        (true, false) => Err(Problem::NoneWithOthers),
        (false, true) => Err(Problem::NoResults),
        _ => Ok(Results {
            authserv_id,
            version,
            resinfos,
        }),
    }
}

/// Parses what follows the method name: `[/version] = result [reason] [props]`.
fn parse_resinfo(lexer: &mut Lexer, method: String) -> Result<ResInfo, Problem> {
    let mut method_version = None;
    if lexer.eat('/') {
        lexer.skip_cfws()?;
        method_version = lexer.number()?;
        if method_version.is_none() {
            return Err(lexer.unexpected("a method version number"));
        }
    }
    lexer.expect('=', "`=` after the method name")?;
    lexer.skip_cfws()?;
    let result = lexer.keyword("a result such as `pass`")?;
    let mut reason = None;
    let mut properties = Vec::new();
    loop {
        let before = lexer.pos;
        lexer.skip_cfws()?;
        if matches!(lexer.peek(), None | Some(';')) {
            break;
        }
        if lexer.pos == before {
            return Err(lexer.unexpected("a space before the next property"));
        }
        let first = lexer.keyword("a property such as `header.d`")?;
        lexer.skip_cfws()?;
        let (ptype, name) = if lexer.eat('.') {
            lexer.skip_cfws()?;
            (first, lexer.keyword("a property name after `.`")?)
        } else {
            (String::new(), first)
        };
        lexer.skip_cfws()?;
        lexer.expect('=', "`=` after the property name")?;
        lexer.skip_cfws()?;
        let value = lexer.property_value()?;
        if ptype.is_empty() && name == "reason" && reason.is_none() {
            reason = Some(value);
        } else {
            properties.push(Property { ptype, name, value });
        }
    }
    Ok(ResInfo {
        method,
        method_version,
        result,
        reason,
        properties,
    })
}

/// The value shortened for error messages, which are mailed back to people.
fn excerpt(value: &str) -> String {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 200;
    match collapsed.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

/// A cursor over the header value.
struct Lexer<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, wanted: char) -> bool {
        let found = self.peek() == Some(wanted);
        if found {
            self.pos += wanted.len_utf8();
        }
        found
    }

    fn expect(&mut self, wanted: char, expected: &'static str) -> Result<(), Problem> {
        if self.eat(wanted) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn unexpected(&self, expected: &'static str) -> Problem {
        Problem::Unexpected {
            expected,
            at: self.text[..self.pos].chars().count(),
            found: match self.peek() {
                Some(c) => format!("`{}`", c.escape_debug()),
                None => "the end".to_owned(),
            },
        }
    }

    /// Skips whitespace, line breaks and `( comments )`, which nest.
    fn skip_cfws(&mut self) -> Result<(), Problem> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('(') => self.skip_comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn skip_comment(&mut self) -> Result<(), Problem> {
        // Counted, not recursive: a hostile header must not exhaust the stack.
        let mut depth = 0usize;
        while let Some(c) = self.bump() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                '\\' => {
                    self.bump();
                }
                _ => {}
            }
        }
        Err(Problem::UnclosedComment)
    }

    /// `[A-Za-z0-9_-]+`, lower-cased.
    fn keyword(&mut self, expected: &'static str) -> Result<String, Problem> {
        let word = self.take_while(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if word.is_empty() {
            return Err(self.unexpected(expected));
        }
        Ok(word.to_ascii_lowercase())
    }

    /// Digits, if any.
    fn number(&mut self) -> Result<Option<u32>, Problem> {
        let at = self.text[..self.pos].chars().count();
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return Ok(None);
        }
        let number = digits.parse().map_err(|_| Problem::NumberTooLarge { at })?;
        self.skip_cfws()?;
        Ok(Some(number))
    }

    /// An RFC 2045 `token` or `quoted-string`; empty when neither is here.
    fn value(&mut self) -> Result<String, Problem> {
        if self.peek() == Some('"') {
            return self.quoted_string();
        }
        const TSPECIALS: &str = "()<>@,;:\\\"/[]?=";
        Ok(self
            .take_while(|c| !c.is_whitespace() && !c.is_control() && !TSPECIALS.contains(c))
            .to_owned())
    }

    /// A property value: quoted, or anything up to whitespace, `;` or a comment.
    /// Looser than `token` because servers write base64 (`/`, `+`, `=`) and
    /// addresses (`@`) unquoted.
    fn property_value(&mut self) -> Result<String, Problem> {
        if self.peek() == Some('"') {
            return self.quoted_string();
        }
        let value =
            self.take_while(|c| !c.is_whitespace() && !c.is_control() && !"();\"".contains(c));
        if value.is_empty() {
            return Err(self.unexpected("a property value"));
        }
        Ok(value.to_owned())
    }

    fn quoted_string(&mut self) -> Result<String, Problem> {
        self.bump();
        let mut out = String::new();
        while let Some(c) = self.bump() {
            match c {
                '"' => return Ok(out),
                '\\' => {
                    if let Some(escaped) = self.bump() {
                        out.push(escaped);
                    }
                }
                // Folding inside the quotes: a line break is not part of the value.
                '\r' | '\n' => {}
                _ => out.push(c),
            }
        }
        Err(Problem::UnclosedQuote)
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek().filter(|&c| keep(c)) {
            self.pos += c.len_utf8();
        }
        &self.text[start..self.pos]
    }
}

#[cfg(test)]
mod tests;
