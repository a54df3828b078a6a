//! `Authentication-Results` (RFC 8601): parse one header value, and pick the DKIM
//! verdicts that our own trusted receiving server wrote.
//!
//! The grammar of RFC 8601 §2.2 is followed: the authserv-id is a token or a
//! quoted-string (with quoted-pairs), comments (nested, holding anything, `;` and
//! `"` included) and folding may stand wherever CFWS may, an optional version
//! follows the id, `none` stands alone, `reason=` takes a token or quoted-string,
//! and a property value is a token, a quoted-string or `[local-part]@domain`. A
//! line break must be a fold (followed by a space or tab); tokens are ASCII, and
//! UTF-8 appears only inside quotes, comments and domain names.
//!
//! Four deviations of widespread servers are accepted because none can change which
//! domain passes: `/` and `=` unquoted in a value (Gmail's base64 `header.b`), a
//! property without `ptype.` (Fastmail's `x-bits=2048`), `_` in names (Fastmail's
//! `policy.is_org`), and empty clauses (a trailing `;`). The passing identity is
//! read only from `header.d` and `header.i`, which must be plain domain names
//! ([`ResInfo::dkim_domain`]). Which headers count at all is [`trusted_results`]'s
//! rule.

use thiserror::Error;

/// One parsed `Authentication-Results` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    /// The server that wrote the header, unquoted (compare case-insensitively).
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
    /// A token or quoted-string value unquoted; an address (`local@domain`,
    /// `@domain`) as written, so a quoted local-part keeps its quotes and the
    /// domain always follows the last `@`.
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

    /// The signing domain of a DKIM result, in lower case: `header.d`, or the
    /// domain of `header.i` when only that is given (Gmail).
    ///
    /// `None`, so the result vouches for nobody, when neither is given, when either
    /// appears twice with different values, when a value is not a plain ASCII
    /// domain name of two or more labels (a look-alike in another script, an
    /// address where a domain belongs), or when `header.i` lies outside
    /// `header.d` (RFC 6376 forbids it, so the header is not what a verifier
    /// wrote). A subdomain is a different domain: `header.i=@sub.example.org`
    /// alone names `sub.example.org`, never `example.org`.
    pub fn dkim_domain(&self) -> Option<String> {
        let d = match self.only_property("header", "d")? {
            Some(d) => Some(domain_name(d)?),
            None => None,
        };
        let i = match self.only_property("header", "i")? {
            Some(i) => Some(domain_name(i.rsplit_once('@')?.1)?),
            None => None,
        };
        match (d, i) {
            (Some(d), Some(i)) => {
                let inside = i == d || i.strip_suffix(&d).is_some_and(|s| s.ends_with('.'));
                inside.then_some(d)
            }
            (d, i) => d.or(i),
        }
    }

    /// `Some(None)` when `ptype.name` is absent, `Some(Some(value))` when every
    /// occurrence agrees, `None` when two disagree.
    fn only_property(&self, ptype: &str, name: &str) -> Option<Option<&str>> {
        let mut values = self
            .properties
            .iter()
            .filter(|p| p.ptype == ptype && p.name == name)
            .map(|p| p.value.as_str());
        let Some(first) = values.next() else {
            return Some(None);
        };
        values
            .all(|v| v.eq_ignore_ascii_case(first))
            .then_some(Some(first))
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
    parse_spelled(value).map(|(results, _)| results)
}

/// The headers our trusted server wrote: the topmost contiguous run of
/// well-formed headers among `headers` (values, top of the header block first)
/// whose authserv-id is `trusted_authserv_id`, parsed.
///
/// The trusted server adds its headers on arrival, above everything the message
/// already carried, and must delete any arriving header that claims its id (RFC
/// 8601 §5). So the run ends at the first header that is malformed, names another
/// authserv-id, or spells the trusted id differently from the topmost one (the
/// server writes its id the same way every time; a quoted or re-cased copy is one
/// its removal missed). Nothing below that point counts, even with the trusted
/// id: it arrived with the message. Ids compare ASCII case-insensitively and
/// otherwise exactly, so a look-alike in another script never matches.
pub fn trusted_results(headers: &[&str], trusted_authserv_id: &str) -> Vec<Results> {
    let trusted = trusted_authserv_id.trim();
    let mut run = Vec::new();
    if trusted.is_empty() {
        return run;
    }
    let mut spelling = None;
    for value in headers {
        let Ok((results, written)) = parse_spelled(value) else {
            break;
        };
        if !results.authserv_id.eq_ignore_ascii_case(trusted)
            || *spelling.get_or_insert(written) != written
        {
            break;
        }
        run.push(results);
    }
    run
}

/// The domains (lower case, in header order, no repeats) that our trusted server
/// reports `dkim=pass` for.
///
/// `headers` are the values of all `Authentication-Results` headers, top of the
/// header block first; only [`trusted_results`]' run counts. Within it the DKIM
/// verdicts come from the topmost header that reports any `dkim` result: a
/// verifier writes all its verdicts into one header, so a second set below it
/// can only be a copy that arrived with the message. The domain of each passing
/// result is [`ResInfo::dkim_domain`] and must equal the member's domain exactly.
pub fn dkim_pass_domains(headers: &[&str], trusted_authserv_id: &str) -> Vec<String> {
    let run = trusted_results(headers, trusted_authserv_id);
    let Some(verdicts) = run
        .iter()
        .find(|r| r.resinfos.iter().any(|resinfo| resinfo.method == "dkim"))
    else {
        return Vec::new();
    };
    let mut domains: Vec<String> = Vec::new();
    for resinfo in &verdicts.resinfos {
        // Version 1 is the only DKIM there is; another is not ours to read.
        let pass = resinfo.method == "dkim"
            && matches!(resinfo.method_version, None | Some(1))
            && resinfo.result == "pass";
        if !pass {
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

/// `domain` in lower case without a final dot, when it is a plain ASCII domain
/// name: two or more labels of letters, digits and inner hyphens.
fn domain_name(domain: &str) -> Option<String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let ok = domain.len() <= 253 && domain.contains('.') && domain.split('.').all(label_ok);
    ok.then(|| domain.to_ascii_lowercase())
}

/// Parses a value and also returns the authserv-id exactly as written.
fn parse_spelled(value: &str) -> Result<(Results, &str), ResultsError> {
    let mut lexer = Lexer::new(value);
    parse(&mut lexer).map_err(|problem| ResultsError {
        header: excerpt(value),
        problem,
    })
}

fn parse<'a>(lexer: &mut Lexer<'a>) -> Result<(Results, &'a str), Problem> {
    lexer.skip_cfws()?;
    let start = lexer.pos;
    let authserv_id = lexer.value()?;
    let written = &lexer.text[start..lexer.pos];
    let spaced = lexer.skip_cfws()?;
    // `spf=pass …` (Microsoft 365) starts with a result, not an id.
    if authserv_id.as_deref().is_none_or(str::is_empty) || lexer.peek() == Some('=') {
        return Err(Problem::MissingAuthservId);
    }
    let authserv_id = authserv_id.unwrap_or_default();
    let mut version = None;
    if spaced && lexer.peek().is_some_and(|c| c.is_ascii_digit()) {
        version = lexer.number()?;
        lexer.skip_cfws()?;
    }
    let mut resinfos = Vec::new();
    let mut saw_none = false;
    while lexer.peek().is_some() {
        lexer.expect(';', "`;` before the next result")?;
        lexer.skip_cfws()?;
        // Tolerated: several servers end the header with `;`.
        if matches!(lexer.peek(), None | Some(';')) {
            continue;
        }
        let method = lexer.keyword("a method name such as `dkim`")?;
        lexer.skip_cfws()?;
        if method == "none" && !matches!(lexer.peek(), Some('=' | '/')) {
            saw_none = true;
            continue;
        }
        resinfos.push(parse_resinfo(lexer, method)?);
    }
    match (saw_none, resinfos.is_empty()) {
        (true, false) => Err(Problem::NoneWithOthers),
        (false, true) => Err(Problem::NoResults),
        _ => Ok((
            Results {
                authserv_id,
                version,
                resinfos,
            },
            written,
        )),
    }
}

/// Parses what follows the method name: `[/version] = result [reason] [props]`,
/// leaving the lexer at the next `;` or the end.
fn parse_resinfo(lexer: &mut Lexer, method: String) -> Result<ResInfo, Problem> {
    let mut method_version = None;
    if lexer.eat('/') {
        lexer.skip_cfws()?;
        method_version = lexer.number()?;
        if method_version.is_none() {
            return Err(lexer.unexpected("a method version number"));
        }
        lexer.skip_cfws()?;
    }
    lexer.expect('=', "`=` after the method name")?;
    lexer.skip_cfws()?;
    let result = lexer.keyword("a result such as `pass`")?;
    let mut reason = None;
    let mut properties = Vec::new();
    // Whether the next reason or property may follow without CFWS: only after a
    // quoted-string, whose closing quote ends it unambiguously.
    let mut quoted = false;
    loop {
        let spaced = lexer.skip_cfws()?;
        if matches!(lexer.peek(), None | Some(';')) {
            break;
        }
        if !spaced && !quoted {
            return Err(lexer.unexpected("a space before the next property"));
        }
        let first = lexer.keyword("a property such as `header.d`")?;
        lexer.skip_cfws()?;
        if lexer.eat('.') {
            lexer.skip_cfws()?;
            let name = lexer.keyword("a property name after `.`")?;
            lexer.skip_cfws()?;
            lexer.expect('=', "`=` after the property name")?;
            let (value, was_quoted) = lexer.property_value()?;
            quoted = was_quoted;
            properties.push(Property {
                ptype: first,
                name,
                value,
            });
            continue;
        }
        lexer.expect('=', "`=` after the property name")?;
        if first == "reason" && reason.is_none() {
            lexer.skip_cfws()?;
            quoted = lexer.peek() == Some('"');
            reason = lexer.value()?;
            if reason.is_none() {
                return Err(lexer.unexpected("a reason (a word or a quoted string)"));
            }
        } else {
            let (value, was_quoted) = lexer.property_value()?;
            quoted = was_quoted;
            properties.push(Property {
                ptype: String::new(),
                name: first,
                value,
            });
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

/// RFC 2045 `tspecials`: what a token may not contain.
const TSPECIALS: &str = "()<>@,;:\\\"/[]?=";

/// RFC 2045 `token` characters: printable ASCII except `tspecials`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !TSPECIALS.contains(c)
}

/// Characters of an unquoted value or local-part: token characters, RFC 5322
/// `atext`, and the base64 `/` and `=` written unquoted by Gmail.
fn is_word_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"[]".contains(c)
}

/// RFC 5322 `atext`, the characters of a dot-atom local-part besides `.`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// Characters of a domain name after `@`: ASCII letters, digits, `-`, `_`, and
/// any letter of a U-label.
fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
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

    /// Consumes a line break at the cursor (CRLF, or LF as Unix mailboxes store
    /// it), which must be a fold: followed by a space or tab, or end the value.
    fn line_break(&mut self) -> Result<(), Problem> {
        if self.eat('\r') && self.peek() != Some('\n') {
            return Err(self.unexpected("a line feed after a carriage return"));
        }
        self.bump();
        match self.peek() {
            None | Some(' ' | '\t') => Ok(()),
            Some(_) => Err(self.unexpected("a space or tab after a line break")),
        }
    }

    /// Skips CFWS: spaces, tabs, folds and `( comments )`, which nest. Returns
    /// whether anything was skipped.
    fn skip_cfws(&mut self) -> Result<bool, Problem> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(' ' | '\t') => {
                    self.bump();
                }
                Some('\r' | '\n') => self.line_break()?,
                Some('(') => self.skip_comment()?,
                _ => return Ok(self.pos != start),
            }
        }
    }

    fn skip_comment(&mut self) -> Result<(), Problem> {
        // Counted, not recursive: a hostile header must not exhaust the stack.
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(Problem::UnclosedComment),
                Some('\r' | '\n') => self.line_break()?,
                Some('\\') => {
                    self.bump();
                    self.quoted_pair(Problem::UnclosedComment)?;
                }
                Some(c) if c.is_control() && c != '\t' => {
                    return Err(self.unexpected("comment text"));
                }
                Some(c) => {
                    self.bump();
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// The character after a `\`: printable, a space or a tab.
    fn quoted_pair(&mut self, at_end: Problem) -> Result<char, Problem> {
        match self.peek() {
            None => Err(at_end),
            Some(c) if c.is_control() && c != '\t' => {
                Err(self.unexpected("a printable character after `\\`"))
            }
            Some(c) => {
                self.bump();
                Ok(c)
            }
        }
    }

    /// `[A-Za-z0-9_-]+`, lower-cased: RFC 5321 `Keyword`, plus `_`.
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
        digits
            .parse()
            .map(Some)
            .map_err(|_| Problem::NumberTooLarge { at })
    }

    /// RFC 2045 `value`: a `token` or a `quoted-string`, unquoted; `None` when
    /// neither is here.
    fn value(&mut self) -> Result<Option<String>, Problem> {
        if self.peek() == Some('"') {
            return self.quoted_string().map(Some);
        }
        let token = self.take_while(is_token_char);
        Ok((!token.is_empty()).then(|| token.to_owned()))
    }

    /// RFC 8601 `pvalue` after the `=`: `[CFWS] (value / [[local-part] "@"]
    /// domain-name)`. Returns the value and whether it ended with a quote.
    fn property_value(&mut self) -> Result<(String, bool), Problem> {
        self.skip_cfws()?;
        let start = self.pos;
        if self.peek() == Some('"') {
            let unquoted = self.quoted_string()?;
            if self.eat('@') {
                self.domain()?;
                return Ok((self.text[start..self.pos].to_owned(), false));
            }
            return Ok((unquoted, true));
        }
        let word = self.take_while(is_word_char);
        if self.eat('@') {
            let dot_atom = word.is_empty()
                || (word.split('.').all(|atom| !atom.is_empty())
                    && word.chars().all(|c| is_atext(c) || c == '.'));
            if !dot_atom {
                return Err(Problem::Unexpected {
                    expected: "a local-part before `@`",
                    at: self.text[..start].chars().count(),
                    found: format!("`{}`", word.escape_debug()),
                });
            }
            self.domain()?;
            return Ok((self.text[start..self.pos].to_owned(), false));
        }
        if word.is_empty() {
            return Err(self.unexpected("a property value"));
        }
        if let Some(bad) = word
            .chars()
            .find(|&c| !is_token_char(c) && c != '/' && c != '=')
        {
            return Err(Problem::Unexpected {
                expected: "a property value (quote it)",
                at: self.text[..start].chars().count(),
                found: format!("`{}`", bad.escape_debug()),
            });
        }
        Ok((word.to_owned(), false))
    }

    /// A domain name after `@`: dot-separated, non-empty labels.
    fn domain(&mut self) -> Result<(), Problem> {
        let domain = self.take_while(|c| is_domain_char(c) || c == '.');
        if domain.is_empty() || domain.split('.').any(str::is_empty) {
            return Err(self.unexpected("a domain name after `@`"));
        }
        Ok(())
    }

    /// A `quoted-string` at the cursor, unquoted, with folds removed and
    /// quoted-pairs resolved.
    fn quoted_string(&mut self) -> Result<String, Problem> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(Problem::UnclosedQuote),
                Some('"') => {
                    self.bump();
                    return Ok(out);
                }
                Some('\\') => {
                    self.bump();
                    out.push(self.quoted_pair(Problem::UnclosedQuote)?);
                }
                // A fold: the line break is not part of the value, the space is.
                Some('\r' | '\n') => self.line_break()?,
                Some(c) if c.is_control() && c != '\t' => {
                    return Err(self.unexpected("quoted text"));
                }
                Some(c) => {
                    self.bump();
                    out.push(c);
                }
            }
        }
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
