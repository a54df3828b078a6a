//! Finding the command block at the top of a body and parsing each line.
//!
//! Parsing checks only what a line says on its own (a real date, a CVE id's
//! shape, a URL's scheme); what depends on the report, the team or today is
//! [`super::plan`]'s job.

use jiff::civil::Date;

use super::cvss::parse_cvss;
use super::{Affects, Block, Command, CommandError, Credit, Entry, Notify, Severity, shorten};
use crate::config::Address;
use crate::report::{
    Affected, CreditTextError, ReportId, ReportState, UnknownState, check_credit_text, is_hidden,
    split_affiliation,
};

/// Longest credit name or `#fixed-in` version; longer text is surely a mistake.
const MAX_TEXT: usize = 100;

/// Longest `#summary`: a paragraph, not the report.
pub const MAX_SUMMARY: usize = 2000;

/// Longest `#state risk-accepted` reason.
const MAX_REASON: usize = 500;

/// Longest version in an `#affects` range.
const MAX_VERSION: usize = 64;

/// Splits the command block off the top of `body`; `prefix` is the report id prefix.
///
/// Leading blank lines are skipped; the block is the run of lines whose trimmed
/// text is `#` and a letter (blank lines between them allowed) and ends at the
/// first other non-blank line. `# Heading` and quoted `> #state` lines are text.
pub fn parse_block<'a>(body: &'a str, prefix: &str) -> Block<'a> {
    let mut entries = Vec::new();
    let mut rest_offset = body.len();
    let mut offset = 0;
    for raw in body.split_inclusive('\n') {
        // A byte-order mark may precede the first line of a decoded body.
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            offset += raw.len();
            continue;
        }
        if !is_command_line(line) {
            rest_offset = offset;
            break;
        }
        entries.push(Entry {
            line: line.to_owned(),
            command: parse_command(line, prefix),
        });
        offset += raw.len();
    }
    // Without commands the body is relayed untouched, leading blank lines and all.
    if entries.is_empty() {
        rest_offset = 0;
    }
    Block {
        entries,
        rest_offset,
        rest: body.get(rest_offset..).unwrap_or(""),
    }
}

/// The line that sends a member's answer to the reporter: `#reply`.
pub const REPLY_DIRECTIVE: &str = "#reply";

/// Takes the `#reply` line out of the command block at the top of `body`.
///
/// `#reply` is not a command but the member's signed statement that the mail
/// is meant for the reporter: only what the signature covers may choose that
/// route, and the outer `To:` is not covered. Returns whether the line was there
/// and the body without it; a `#reply` below the command block is ordinary text.
pub fn take_reply_directive(body: &str) -> (bool, String) {
    let mut found = false;
    let mut out = String::with_capacity(body.len());
    let mut in_block = true;
    for raw in body.split_inclusive('\n') {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if in_block && !line.is_empty() && !is_command_line(line) {
            in_block = false;
        }
        if in_block && line.eq_ignore_ascii_case(REPLY_DIRECTIVE) {
            found = true;
            continue;
        }
        out.push_str(raw);
    }
    (found, out)
}

fn is_command_line(trimmed: &str) -> bool {
    let mut chars = trimmed.chars();
    chars.next() == Some('#') && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Parses one command line (`#state triaged`); `prefix` is the report id prefix.
pub fn parse_command(line: &str, prefix: &str) -> Result<Command, CommandError> {
    let line = line.trim();
    let (name, argument) = match line.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (line, ""),
    };
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "#state" => {
            let text = required(argument, "#state", "#state STATE, e.g. #state triaged")?;
            state_line(text)
        }
        "#publish" => no_argument(argument, "#publish", Command::Publish),
        "#affects" => {
            let text = required(
                argument,
                "#affects",
                "#affects PRODUCT VERSIONS, e.g. #affects server < 9.5.3, or #affects none",
            )?;
            affects(text).map(Command::Affects)
        }
        "#cwe" => {
            let text = required(argument, "#cwe", "#cwe CWE-79, or #cwe none")?;
            cwe(text).map(Command::Cwe)
        }
        "#summary" => {
            let text = required(
                argument,
                "#summary",
                "#summary TEXT (published in the advisory), or #summary none",
            )?;
            summary(text).map(Command::Summary)
        }
        "#credit-key" => {
            let text = required(
                argument,
                "#credit-key",
                "#credit-key NAME (the name one person's credits merge by), or #credit-key none",
            )?;
            credit_key(text).map(Command::CreditKey)
        }
        "#severity" => {
            let text = required(
                argument,
                "#severity",
                "#severity none|low|medium|high|critical",
            )?;
            Severity::parse(text).map(Command::Severity).ok_or_else(|| {
                invalid(
                    "#severity",
                    format!(
                        "`{}` is not a severity (one of: none, low, medium, high, critical)",
                        shorten(text)
                    ),
                )
            })
        }
        "#cvss" => {
            let text = required(argument, "#cvss", "#cvss CVSS:3.1/AV:N/AC:L/…")?;
            parse_cvss(text)
                .map(Command::Cvss)
                .map_err(|reason| invalid("#cvss", reason))
        }
        "#assign" => {
            let text = required(argument, "#assign", "#assign ADDRESS, or #assign none")?;
            assignee(text).map(Command::Assign)
        }
        "#duplicate" => {
            let text = required(argument, "#duplicate", "#duplicate ID [reply]")?;
            duplicate(text, prefix)
        }
        "#cve" => {
            let text = required(argument, "#cve", "#cve CVE-2026-12345")?;
            cve(text).map(Command::Cve)
        }
        "#credit" => {
            let text = required(
                argument,
                "#credit",
                "#credit \"Jane Doe\" [from \"ACME\"] https://jane.example, or #credit none",
            )?;
            credit(text).map(Command::Credit)
        }
        "#fixed-in" => {
            let text = required(
                argument,
                "#fixed-in",
                "#fixed-in VERSION, e.g. #fixed-in 3.1.1",
            )?;
            checked_text("#fixed-in", "version", text).map(Command::FixedIn)
        }
        "#disclose" => {
            let text = required(argument, "#disclose", "#disclose YYYY-MM-DD")?;
            date(text).map(Command::Disclose)
        }
        "#extend" => {
            let text = required(argument, "#extend", "#extend 30d because REASON")?;
            extend(text)
        }
        "#waiting" => no_argument(argument, "#waiting", Command::Waiting),
        "#resend-ack" => no_argument(argument, "#resend-ack", Command::ResendAck),
        "#attach" => {
            let text = required(argument, "#attach", "#attach MSG, e.g. #attach 42")?;
            match text.parse::<i64>() {
                Ok(n) if n > 0 => Ok(Command::Attach(n)),
                _ => Err(invalid(
                    "#attach",
                    format!(
                        "`{}` is not a message number; `disclosed messages --unattached` lists them",
                        shorten(text)
                    ),
                )),
            }
        }
        "#notify" => no_argument(argument, "#notify", Command::Notify(Notify::Force)),
        "#quiet" => no_argument(argument, "#quiet", Command::Notify(Notify::Quiet)),
        "#help" => no_argument(argument, "#help", Command::Help),
        "#list" if argument.is_empty() => Ok(Command::List(None)),
        "#list" => state("#list", argument).map(|state| Command::List(Some(state))),
        "#show" => {
            let text = required(argument, "#show", "#show ID")?;
            report_id("#show", text, prefix).map(Command::Show)
        }
        "#digest" => no_argument(argument, "#digest", Command::Digest),
        "#stats" => no_argument(argument, "#stats", Command::Stats),
        "#hall-of-fame" => no_argument(argument, "#hall-of-fame", Command::HallOfFame),
        "#outbox" => no_argument(argument, "#outbox", Command::Outbox),
        "#advisory" => {
            let text = required(argument, "#advisory", "#advisory ID")?;
            report_id("#advisory", text, prefix).map(Command::Advisory)
        }
        "#search" => {
            let text = required(argument, "#search", "#search WORDS")?;
            match crate::store::SearchQuery::parse(text) {
                Ok(_) => Ok(Command::Search(text.to_owned())),
                Err(err) => Err(invalid("#search", err.to_string())),
            }
        }
        _ => Err(CommandError::Unknown {
            name: shorten(name),
        }),
    }
}

fn invalid(command: &'static str, reason: String) -> CommandError {
    CommandError::Invalid { command, reason }
}

fn required<'a>(
    argument: &'a str,
    command: &'static str,
    usage: &'static str,
) -> Result<&'a str, CommandError> {
    if argument.is_empty() {
        Err(CommandError::MissingArgument { command, usage })
    } else {
        Ok(argument)
    }
}

fn no_argument(
    argument: &str,
    command: &'static str,
    parsed: Command,
) -> Result<Command, CommandError> {
    if argument.is_empty() {
        Ok(parsed)
    } else {
        Err(CommandError::UnexpectedArgument {
            command,
            argument: shorten(argument),
        })
    }
}

fn state(command: &'static str, text: &str) -> Result<ReportState, CommandError> {
    text.parse::<ReportState>()
        .map_err(|_| invalid(command, UnknownState(shorten(text)).to_string()))
}

fn is_none(text: &str) -> bool {
    text.eq_ignore_ascii_case("none")
}

fn assignee(text: &str) -> Result<Option<Address>, CommandError> {
    if is_none(text) {
        return Ok(None);
    }
    // Mail clients paste addresses as `<alice@example.org>` or `Alice <alice@…>`.
    let bare = text
        .strip_suffix('>')
        .and_then(|t| t.rsplit_once('<'))
        .map_or(text, |(_, address)| address);
    Address::parse(bare).map(Some).ok_or_else(|| {
        invalid(
            "#assign",
            format!(
                "`{}` is not an address; write a team member's address like alice@example.org, or `none`",
                shorten(text)
            ),
        )
    })
}

fn report_id(command: &'static str, text: &str, prefix: &str) -> Result<ReportId, CommandError> {
    ReportId::parse(prefix, text).ok_or_else(|| {
        invalid(
            command,
            format!(
                "`{}` is not a report id; write it like {prefix}-2026-0042",
                shorten(text)
            ),
        )
    })
}

fn duplicate(text: &str, prefix: &str) -> Result<Command, CommandError> {
    let mut words = text.split_whitespace();
    let id = report_id("#duplicate", words.next().unwrap_or_default(), prefix)?;
    let reply = match words.next() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case("reply") => true,
        Some(word) => {
            return Err(invalid(
                "#duplicate",
                format!(
                    "after the id only `reply` may follow (to send the reporter the duplicate reply), not `{}`",
                    shorten(word)
                ),
            ));
        }
    };
    if let Some(extra) = words.next() {
        return Err(invalid(
            "#duplicate",
            format!("unexpected `{}` after `reply`", shorten(extra)),
        ));
    }
    Ok(Command::Duplicate { of: id, reply })
}

/// `CVE-YYYY-NNNN…`, as the CVE JSON 5 schema allows: 4 to 19 sequence digits.
fn cve(text: &str) -> Result<String, CommandError> {
    let upper = text.to_ascii_uppercase();
    let well_formed = upper
        .strip_prefix("CVE-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(year, seq)| {
            year.len() == 4
                && (4..=19).contains(&seq.len())
                && year.bytes().chain(seq.bytes()).all(|b| b.is_ascii_digit())
        });
    if well_formed {
        Ok(upper)
    } else {
        Err(invalid(
            "#cve",
            format!(
                "`{}` is not a CVE id; write it like CVE-2026-12345",
                shorten(text)
            ),
        ))
    }
}

fn credit(text: &str) -> Result<Option<Credit>, CommandError> {
    if is_none(text) {
        return Ok(None);
    }
    // The last word is the URL when it looks like one (has a scheme); after a
    // quoted name, whatever is not `from …` is meant as the URL.
    let after_quote = text
        .strip_prefix('"')
        .and_then(|q| q.split_once('"'))
        .map(|(_, rest)| rest.trim())
        .filter(|rest| {
            !rest.is_empty()
                && !rest.eq_ignore_ascii_case("from")
                && !rest
                    .get(..5)
                    .is_some_and(|w| w.eq_ignore_ascii_case("from "))
        });
    let (who, url) = match (after_quote, text.rsplit_once(char::is_whitespace)) {
        (Some(rest), _) => {
            let mut words = rest.split_whitespace();
            let url = words.next().unwrap_or_default();
            if let Some(extra) = words.next() {
                return Err(invalid(
                    "#credit",
                    format!(
                        "after the name only one URL may follow, not also `{}`",
                        shorten(extra)
                    ),
                ));
            }
            (&text[..text.len() - rest.len()], Some(url))
        }
        (None, Some((who, last))) if looks_like_url(last) => (who.trim(), Some(last)),
        _ if looks_like_url(text) => ("", Some(text)),
        _ => (text, None),
    };
    let who = who.trim();
    if who.starts_with('"') && !who[1..].contains('"') {
        return Err(invalid(
            "#credit",
            "the name's closing quote `\"` is missing".to_owned(),
        ));
    }
    if let Some(word) = who.split_whitespace().find(|w| looks_like_url(w)) {
        return Err(invalid(
            "#credit",
            format!(
                "`{}` looks like a URL inside the name; put the URL last: #credit \"Jane Doe\" https://jane.example",
                shorten(word)
            ),
        ));
    }
    let Some((name, affiliation)) = split_affiliation(who) else {
        return Err(invalid(
            "#credit",
            format!(
                "`{}` is not NAME [from AFFILIATION] [URL]; write #credit \"Jane Doe\" from \"ACME\" https://jane.example",
                shorten(who)
            ),
        ));
    };
    if name.is_empty() {
        return Err(invalid(
            "#credit",
            "the name is missing; write #credit \"Jane Doe\" https://jane.example".to_owned(),
        ));
    }
    let name = credit_text("#credit", "name", name)?;
    let affiliation = affiliation
        .map(|a| credit_text("#credit", "affiliation", a))
        .transpose()?;
    let url = url.map(credit_url).transpose()?;
    Ok(Some(Credit {
        name,
        affiliation,
        url,
    }))
}

/// A credit name, affiliation or key, as [`check_credit_text`] allows it.
fn credit_text(command: &'static str, what: &str, text: &str) -> Result<String, CommandError> {
    check_credit_text(text).map_err(|err| {
        let reason = match err {
            CreditTextError::Empty => format!("the {what} is empty"),
            CreditTextError::TooLong(n) => {
                format!("the {what} is {n} characters long; at most {MAX_TEXT} are allowed")
            }
            CreditTextError::Hidden => format!(
                "the {what} `{}` contains control characters or invisible formatting characters",
                shorten(text).escape_debug()
            ),
        };
        invalid(command, reason)
    })?;
    Ok(text.trim().to_owned())
}

fn credit_key(text: &str) -> Result<Option<String>, CommandError> {
    if is_none(text) {
        return Ok(None);
    }
    let text = text.trim_matches('"').trim();
    credit_text("#credit-key", "key", text).map(Some)
}

/// `#state S`, and `#state risk-accepted because REASON`, the one state that
/// needs a reason.
fn state_line(text: &str) -> Result<Command, CommandError> {
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    let usage = "the team's reason is required: #state risk-accepted because the feature is removed in the next release";
    match (state("#state", word), rest) {
        (Ok(ReportState::RiskAccepted), rest) => {
            let reason = match rest.split_once(char::is_whitespace) {
                Some((because, reason)) if because.eq_ignore_ascii_case("because") => reason.trim(),
                _ if rest.eq_ignore_ascii_case("because") => "",
                _ => rest,
            };
            if reason.is_empty() {
                return Err(invalid("#state", usage.to_owned()));
            }
            let length = reason.chars().count();
            if length > MAX_REASON {
                return Err(invalid(
                    "#state",
                    format!(
                        "the reason is {length} characters long; at most {MAX_REASON} are allowed"
                    ),
                ));
            }
            if reason.chars().any(is_hidden) {
                return Err(invalid(
                    "#state",
                    "the reason contains control characters or invisible formatting characters"
                        .to_owned(),
                ));
            }
            Ok(Command::RiskAccept {
                reason: reason.to_owned(),
            })
        }
        (Ok(state), "") => Ok(Command::State(state)),
        // Only risk-accepted takes a reason; anything else is a typo.
        (Ok(_), _) | (Err(_), _) => state("#state", text).map(Command::State),
    }
}

/// `#affects PRODUCT VERSIONS`, `#affects "Product name" VERSIONS`,
/// `#affects PRODUCT none`, `#affects none`.
fn affects(text: &str) -> Result<Affects, CommandError> {
    if is_none(text) {
        return Ok(Affects::ClearAll);
    }
    let (product, versions) = match text.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').ok_or_else(|| {
            invalid(
                "#affects",
                "the product's closing quote `\"` is missing".to_owned(),
            )
        })?,
        None => text.split_once(char::is_whitespace).unwrap_or((text, "")),
    };
    let product = product.trim();
    let versions = versions.trim();
    if product.is_empty() {
        return Err(invalid("#affects", "the product is missing".to_owned()));
    }
    let length = product.chars().count();
    if length > 64 {
        return Err(invalid(
            "#affects",
            format!("the product name is {length} characters long; at most 64 are allowed"),
        ));
    }
    if product.chars().any(is_hidden) {
        return Err(invalid(
            "#affects",
            format!(
                "the product `{}` contains control characters or invisible formatting characters",
                shorten(product).escape_debug()
            ),
        ));
    }
    if versions.is_empty() {
        return Err(invalid(
            "#affects",
            format!(
                "the versions are missing: #affects {product} < 9.5.3 (or >= 9.0, < 9.5.3; 9.5.0 - 9.5.2; = 9.1.0; *)"
            ),
        ));
    }
    if is_none(versions) {
        return Ok(Affects::ClearProduct(product.to_owned()));
    }
    let versions = version_range(versions).map_err(|reason| invalid("#affects", reason))?;
    Ok(Affects::Add(Affected {
        product: product.to_owned(),
        versions,
    }))
}

/// A version range in canonical spelling: `*`, `A - B`, or one to four
/// comparisons (`<`, `<=`, `>`, `>=`, `=`, a bare version meaning `=`)
/// separated by commas.
pub fn version_range(text: &str) -> Result<String, String> {
    let text = text.trim();
    let bad = |why: &str| {
        format!(
            "`{}` is not a version range ({why}); write e.g. < 9.5.3, >= 9.0, < 9.5.3, 9.5.0 - 9.5.2, = 9.1.0 or *",
            shorten(text)
        )
    };
    if text == "*" {
        return Ok("*".to_owned());
    }
    if let Some((low, high)) = text.split_once(" - ") {
        let (low, high) = (low.trim(), high.trim());
        if !is_version(low) || !is_version(high) {
            return Err(bad("a range is VERSION - VERSION"));
        }
        return Ok(format!("{low} - {high}"));
    }
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() > 4 {
        return Err(bad("at most four comparisons"));
    }
    let mut out = Vec::new();
    for part in parts {
        let split = part
            .find(|c: char| !matches!(c, '<' | '>' | '='))
            .unwrap_or(part.len());
        let (op, version) = part.split_at(split);
        let op = match op {
            "" | "=" | "==" => "=",
            "<" | "<=" | ">" | ">=" => op,
            _ => return Err(bad("the comparisons are <, <=, >, >= and =")),
        };
        let version = version.trim();
        if !is_version(version) {
            return Err(bad("a version is letters, digits and . + - _ ~"));
        }
        out.push(format!("{op} {version}"));
    }
    Ok(out.join(", "))
}

/// `9.5.3`, `1.0.0-rc.1`, `2024.01+build5`: starts with a letter or digit
/// and has a digit somewhere (`latest` names no version).
fn is_version(text: &str) -> bool {
    (1..=MAX_VERSION).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.contains(|c: char| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+-_~".contains(c))
}

/// `CWE-79`, any case; the number from 1 to 9999 (the catalogue's range).
fn cwe(text: &str) -> Result<Option<String>, CommandError> {
    if is_none(text) {
        return Ok(None);
    }
    let upper = text.trim().to_ascii_uppercase();
    let number = upper
        .strip_prefix("CWE-")
        .filter(|n| (1..=4).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n >= 1);
    match number {
        Some(n) => Ok(Some(format!("CWE-{n}"))),
        None => Err(invalid(
            "#cwe",
            format!(
                "`{}` is not a CWE id; write it like CWE-79 (1 to 9999)",
                shorten(text)
            ),
        )),
    }
}

/// The summary published in advisories: one line, at most [`MAX_SUMMARY`]
/// characters, no control or invisible characters.
fn summary(text: &str) -> Result<Option<String>, CommandError> {
    if is_none(text) {
        return Ok(None);
    }
    let length = text.chars().count();
    if length > MAX_SUMMARY {
        return Err(invalid(
            "#summary",
            format!("the summary is {length} characters long; at most {MAX_SUMMARY} are allowed"),
        ));
    }
    if text.chars().any(is_hidden) {
        return Err(invalid(
            "#summary",
            "the summary contains control characters or invisible formatting characters".to_owned(),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// A word with a URL scheme (`https://…`, `javascript:…`), so that a bad scheme is
/// refused rather than taken into the name.
fn looks_like_url(word: &str) -> bool {
    let Some((scheme, rest)) = word.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        && !rest.is_empty()
}

fn credit_url(url: &str) -> Result<String, CommandError> {
    let lower = url.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(host) = host else {
        return Err(invalid(
            "#credit",
            format!(
                "`{}` is not an http or https URL; only those are linked",
                shorten(url)
            ),
        ));
    };
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.chars().any(char::is_control) {
        return Err(invalid(
            "#credit",
            format!("`{}` is not a usable URL (no host)", shorten(url)),
        ));
    }
    Ok(url.to_owned())
}

/// A short free text: not empty, at most [`MAX_TEXT`] characters, no control characters.
fn checked_text(command: &'static str, what: &str, text: &str) -> Result<String, CommandError> {
    let length = text.chars().count();
    if length > MAX_TEXT {
        return Err(invalid(
            command,
            format!("the {what} is {length} characters long; at most {MAX_TEXT} are allowed"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(
            command,
            format!(
                "the {what} `{}` contains control characters",
                shorten(text).escape_debug()
            ),
        ));
    }
    Ok(text.to_owned())
}

fn date(text: &str) -> Result<Date, CommandError> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(invalid(
            "#disclose",
            format!(
                "`{}` is not a date; write it as YYYY-MM-DD, e.g. 2027-02-21",
                shorten(text)
            ),
        ));
    }
    text.parse::<Date>()
        .map_err(|_| invalid("#disclose", format!("{text} is not a real date")))
}

/// `30d`, `30 days`, `4w`, `4 weeks`, then the reason, with or without `because`.
fn extend(text: &str) -> Result<Command, CommandError> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (amount, after) = text.split_at(digits_end);
    let after = after.trim_start();
    let unit_end = after
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(after.len());
    let (unit, reason) = after.split_at(unit_end);
    let per_unit = match unit.to_ascii_lowercase().as_str() {
        "d" | "day" | "days" => Some(1),
        "w" | "week" | "weeks" => Some(7),
        _ => None,
    };
    let days = amount
        .parse::<u32>()
        .ok()
        .zip(per_unit)
        .and_then(|(amount, per_unit)| amount.checked_mul(per_unit))
        .filter(|days| *days > 0);
    let Some(days) = days else {
        return Err(invalid(
            "#extend",
            format!(
                "`{}` does not start with a length like 30d, 30 days, 4w or 4 weeks",
                shorten(text)
            ),
        ));
    };
    if !reason.is_empty() && !reason.starts_with(char::is_whitespace) {
        return Err(invalid(
            "#extend",
            format!("`{}` is not a length like 30d or 4 weeks", shorten(text)),
        ));
    }
    let reason = reason.trim();
    let reason = match reason.split_once(char::is_whitespace) {
        Some((word, rest)) if word.eq_ignore_ascii_case("because") => rest.trim(),
        _ if reason.eq_ignore_ascii_case("because") => "",
        _ => reason,
    };
    if reason.is_empty() {
        return Err(invalid(
            "#extend",
            "a reason is required: #extend 30d because the fix needs a protocol change".to_owned(),
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err(invalid(
            "#extend",
            "the reason contains control characters".to_owned(),
        ));
    }
    Ok(Command::Extend {
        days,
        reason: reason.to_owned(),
    })
}
