//! What of a team member's mail may reach the reporter: the member's own
//! words, without command lines, quoted text, forwarded or original messages, our
//! own notifications, signature blocks, and without the members' addresses and
//! names.
//!
//! Line work on the decoded plain-text body, or on an HTML body cut at its first
//! quote first (`html`). Markers and attributions are matched on a folded form
//! of each line (`fold`), so that a no-break space, a Unicode dash or an
//! invisible character does not hide them; the relayed lines are never folded.
//! The caller decides what to do with an empty result (refuse to relay it).

mod fold;
mod html;
mod members;

pub use fold::fold;
pub use html::to_text as html_to_text;
pub use members::Members;

use members::{MARK, unmark};

/// The line that starts the body of every team notification; it and everything
/// after it are never relayed, even when a client forwards or quotes it unprefixed.
pub const NOTIFICATION_MARKER: &str = "-----BEGIN DISCLOSED NOTIFICATION-----";

/// What a team member's address or name is replaced with.
pub const MEMBER_PLACEHOLDER: &str = "[team member]";

/// The text to relay and what was taken out of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stripped {
    /// The member's own words, LF line endings, ending in one newline; empty if
    /// nothing is left.
    pub text: String,
    /// What was removed, for the event log.
    pub removed: Removed,
}

impl Stripped {
    /// Whether nothing is left to relay.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Counts of what [`relay_text`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Removed {
    /// Command lines at the top (`#state triaged`).
    pub command_lines: usize,
    /// `>` lines and the attribution lines ("On … wrote:") that introduce them.
    pub quoted_lines: usize,
    /// What cut off the rest of the message, if anything did.
    pub tail: Option<Tail>,
    /// Lines from the start of `tail` to the end of the message.
    pub tail_lines: usize,
    /// Member addresses and names replaced, each sign-off of only names counted
    /// once.
    pub member_mentions: usize,
}

/// A line (or HTML element) after which nothing is relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// A signature separator, `-- ` or `--`, or a client's signature block.
    Signature,
    /// Outlook's "-----Original Message-----" or its From/Sent/To/Subject block.
    OriginalMessage,
    /// "---------- Forwarded message ---------", "Begin forwarded message:".
    ForwardedMessage,
    /// [`NOTIFICATION_MARKER`]: one of our own notifications.
    Notification,
    /// Quoted mail in HTML: `<blockquote>`, a client's quote container.
    Quote,
}

impl Tail {
    /// A short name for the event log.
    pub fn as_str(self) -> &'static str {
        match self {
            Tail::Signature => "signature",
            Tail::OriginalMessage => "original-message",
            Tail::ForwardedMessage => "forwarded-message",
            Tail::Notification => "notification",
            Tail::Quote => "quote",
        }
    }
}

/// Strips a team member's plain-text mail down to what may be relayed to the
/// reporter.
///
/// `members` lists the team's addresses (entries with an `@`) and names (the
/// others). Every address, in any case, and every name, as a whole word or
/// phrase in any case, becomes [`MEMBER_PLACEHOLDER`] (see [`Members`]); a line
/// of only names (a sign-off such as `Alice` or `-- Alice`) is removed.
pub fn relay_text(body: &str, members: &[&str]) -> Stripped {
    strip_lines(body, &Members::new(members), None)
}

/// Like [`relay_text`] for a mail's body: from `html` when the body has HTML
/// (cut at its first quote, reply header, forward or signature, then turned
/// into text), else from `text`.
pub fn relay_body(text: &str, html: Option<&str>, members: &Members) -> Stripped {
    let Some(html) = html else {
        return strip_lines(text, members, None);
    };
    let cut = html::cut(html);
    let mut stripped = strip_lines(&cut.text, members, cut.tail);
    if let Some(tail) = cut.tail {
        stripped.removed.tail.get_or_insert(tail);
        stripped.removed.tail_lines += cut.cut_lines;
    }
    stripped
}

/// `after`: the text was already cut there (an HTML quote), so an attribution
/// at its end introduces what was cut.
fn strip_lines(body: &str, members: &Members, after: Option<Tail>) -> Stripped {
    let lines: Vec<&str> = body.lines().collect();
    let folded: Vec<String> = lines.iter().map(|l| fold(l)).collect();
    let mut removed = Removed::default();

    let start = command_block_end(&lines);
    removed.command_lines = lines[..start].iter().filter(|l| is_command(l)).count();
    let (lines, folded) = (&lines[start..], &folded[start..]);

    let (end, tail) = find_tail(folded);
    removed.tail = tail;
    removed.tail_lines = lines.len() - end;
    let (lines, folded) = (&lines[..end], &folded[..end]);

    let mut keep = vec![true; lines.len()];
    for (index, line) in folded.iter().enumerate() {
        if is_quoted(line) {
            keep[index] = false;
            removed.quoted_lines += 1;
        }
    }
    for index in attribution_lines(folded, &keep, tail.or(after)) {
        if keep[index] {
            keep[index] = false;
            removed.quoted_lines += 1;
        }
    }

    // Members replaced before blank lines are collapsed: a removed sign-off is
    // a removal like a quote.
    let mut replaced: Vec<String> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let (marked, count) = members.mark(line);
        if keep[index] && count > 0 {
            removed.member_mentions += count;
            if is_only_names(&marked) {
                keep[index] = false;
            }
        }
        replaced.push(unmark(&marked));
    }

    let mut kept: Vec<String> = Vec::new();
    let mut removed_since_last = false;
    for (index, line) in replaced.into_iter().enumerate() {
        if !keep[index] {
            removed_since_last = true;
            continue;
        }
        let blank = line.trim().is_empty();
        let after_blank = kept.last().is_none_or(|l| l.is_empty());
        // A quote taken out of an inline reply leaves a blank line on each side of
        // it; one is enough.
        if blank && after_blank && removed_since_last {
            continue;
        }
        removed_since_last = false;
        kept.push(if blank { String::new() } else { line });
    }

    let first = kept.iter().position(|l| !l.trim().is_empty());
    let last = kept.iter().rposition(|l| !l.trim().is_empty());
    let text = match (first, last) {
        (Some(first), Some(last)) => {
            let mut text = kept[first..=last].join("\n");
            text.push('\n');
            text
        }
        _ => String::new(),
    };
    Stripped { text, removed }
}

/// A line with nothing but member mentions, dashes and punctuation.
fn is_only_names(marked: &str) -> bool {
    marked.contains(MARK) && marked.chars().all(|c| c == MARK || !c.is_alphanumeric())
}

/// `#` and an ASCII letter: a command the daemon applies, never meant for the
/// reporter. Leading spaces are tolerated so that an indented command is not leaked.
fn is_command(line: &str) -> bool {
    let mut chars = line.trim_start().chars();
    chars.next() == Some('#') && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// The index of the first line after the leading command lines and blank lines
/// between them.
fn command_block_end(lines: &[&str]) -> usize {
    let mut end = 0;
    for (index, line) in lines.iter().enumerate() {
        if is_command(line) {
            end = index + 1;
        } else if !line.trim().is_empty() {
            break;
        }
    }
    end
}

fn is_quoted(folded: &str) -> bool {
    folded.trim_start().starts_with('>')
}

/// The first line after which nothing is relayed, and why. Works on folded
/// lines.
fn find_tail(folded: &[String]) -> (usize, Option<Tail>) {
    for (index, line) in folded.iter().enumerate() {
        if is_quoted(line) {
            continue;
        }
        let tail = if line.trim_end() == "--" {
            Some(Tail::Signature)
        } else if is_notification_marker(line) {
            Some(Tail::Notification)
        } else if is_forward_separator(line) {
            Some(Tail::ForwardedMessage)
        } else if is_original_separator(line) || is_header_block(&folded[index..]) {
            Some(Tail::OriginalMessage)
        } else {
            None
        };
        if let Some(tail) = tail {
            return (include_rule_above(folded, index), Some(tail));
        }
    }
    (folded.len(), None)
}

/// Our marker in any spacing, dashes and case: its words are what count.
fn is_notification_marker(folded: &str) -> bool {
    let letters: String = folded.chars().filter(|c| c.is_alphanumeric()).collect();
    letters.contains("begindisclosednotification")
}

/// Outlook draws a line of underscores above the quoted header block; it goes
/// with the block.
fn include_rule_above(folded: &[String], index: usize) -> usize {
    let above = folded[..index].iter().rposition(|l| !l.trim().is_empty());
    match above {
        Some(above) if is_rule(&folded[above]) => above,
        _ => index,
    }
}

fn is_rule(line: &str) -> bool {
    let line = line.trim();
    line.len() >= 10 && line.bytes().all(|b| b == b'_')
}

/// Gmail, Thunderbird and others: `---------- Forwarded message ---------`;
/// Apple Mail: `Begin forwarded message:`.
fn is_forward_separator(folded: &str) -> bool {
    let lower = folded.trim();
    if lower.starts_with("begin forwarded message") {
        return true;
    }
    lower.starts_with("--")
        && [
            "forwarded message",
            "weitergeleitete nachricht",
            "message transféré",
            "mensaje reenviado",
            "doorgestuurd bericht",
            "messaggio inoltrato",
            "mensagem encaminhada",
            "vidarebefordrat meddelande",
            "videresendt meddelelse",
            "wiadomość przekazana",
        ]
        .iter()
        .any(|phrase| lower.contains(phrase))
}

/// Outlook and older Thunderbird: `-----Original Message-----`.
fn is_original_separator(folded: &str) -> bool {
    let lower = folded.trim();
    lower.starts_with("--")
        && [
            "original message",
            "ursprüngliche nachricht",
            "message d'origine",
            "mensaje original",
            "oorspronkelijk bericht",
            "messaggio originale",
            "mensagem original",
            "ursprungligt meddelande",
            "oprindelig meddelelse",
            "wiadomość oryginalna",
        ]
        .iter()
        .any(|phrase| lower.contains(phrase))
}

/// Header names of a quoted header block, folded, in the languages of common
/// clients.
const FROM: &[&str] = &[
    "from:",
    "von:",
    "de:",
    "van:",
    "da:",
    "från:",
    "fra:",
    "od:",
    "от:",
    "差出人:",
    "发件人:",
    "寄件者:",
];
const DATE: &[&str] = &[
    "sent:",
    "date:",
    "gesendet:",
    "datum:",
    "envoyé:",
    "enviado:",
    "enviado el:",
    "fecha:",
    "verzonden:",
    "inviato:",
    "data:",
    "skickat:",
    "sendt:",
    "wysłano:",
    "отправлено:",
    "送信日時:",
    "发送时间:",
    "日期:",
];
const TO: &[&str] = &[
    "to:",
    "an:",
    "à:",
    "a:",
    "para:",
    "aan:",
    "till:",
    "til:",
    "do:",
    "кому:",
    "宛先:",
    "收件人:",
];
const CC: &[&str] = &["cc:", "kopie:", "copie à:", "kopia:", "копия:"];
const SUBJECT: &[&str] = &[
    "subject:",
    "betreff:",
    "objet:",
    "asunto:",
    "onderwerp:",
    "oggetto:",
    "assunto:",
    "ämne:",
    "emne:",
    "temat:",
    "тема:",
    "件名:",
    "主题:",
    "主旨:",
];
/// Other header lines Outlook may put in the block.
const OTHER: &[&str] = &[
    "reply-to:",
    "bcc:",
    "importance:",
    "priority:",
    "attachments:",
    "anlagen:",
];

/// A quoted header block (Outlook, Apple Mail forwards): a `From:` line, then
/// header lines, at least one of them a date, recipient or subject. A line
/// that is not a header but holds an address or a list (`@`, `;`, `,`) or is
/// indented continues the header above it: a `To:` of many colleagues wraps
/// over many lines, and the block is recognised however long it is.
fn is_header_block(folded: &[String]) -> bool {
    let Some(first) = folded.first() else {
        return false;
    };
    if !header_name_is(first, FROM) {
        return false;
    }
    for line in folded[1..].iter().take(200) {
        if line.trim().is_empty() {
            return false;
        }
        if [DATE, TO, CC, SUBJECT]
            .iter()
            .any(|names| header_name_is(line, names))
        {
            return true;
        }
        let continues = header_name_is(line, OTHER)
            || line.starts_with([' ', '\t'])
            || line.contains(['@', ';', ',']);
        if !continues {
            return false;
        }
    }
    false
}

/// Whether the folded line starts with one of `names`, ignoring the `*bold*`
/// that plain-text conversions add and the space French puts before a colon.
fn header_name_is(folded: &str, names: &[&str]) -> bool {
    let lower = folded
        .trim_start()
        .trim_start_matches('*')
        .replace("*:", ":")
        .replace(" :", ":");
    names.iter().any(|name| lower.starts_with(name))
}

/// The lines that introduce a quote ("On … wrote:"), possibly wrapped over two
/// lines. They count only where a quote (or a forwarded or original message, or a
/// notification) follows them, so a member's own sentence ending in "wrote:" stays.
fn attribution_lines(folded: &[String], keep: &[bool], tail: Option<Tail>) -> Vec<usize> {
    let mut found = Vec::new();
    for (index, line) in folded.iter().enumerate() {
        if !keep[index] || !is_attribution(line) {
            continue;
        }
        let next = (index + 1..folded.len()).find(|&i| !folded[i].trim().is_empty());
        let introduces_quote = match next {
            Some(next) => is_quoted(&folded[next]),
            None => tail.is_some_and(|t| t != Tail::Signature),
        };
        if !introduces_quote {
            continue;
        }
        found.push(index);
        // Gmail wraps long attributions: "On Mon, … Jane Doe <" / "jane@…> wrote:".
        if index > 0
            && keep[index - 1]
            && !starts_with_opener(line)
            && starts_with_opener(&folded[index - 1])
            && !folded[index - 1].trim_end().ends_with(['.', '!', '?'])
        {
            found.push(index - 1);
        }
    }
    found
}

/// "On … wrote:", "Am … schrieb …:", "Le … a écrit :", "El … escribió:",
/// "Op … schreef …:", "Il … ha scritto:", "Em … escreveu:", "Den … skrev …:",
/// and "Jane Doe wrote:".
fn is_attribution(folded: &str) -> bool {
    let lower = folded.trim();
    lower.chars().count() <= 300
        && lower.ends_with(':')
        && [
            "wrote",
            "schrieb",
            "a écrit",
            "escribió",
            "schreef",
            "scritto",
            "escreveu",
            "skrev",
            "napisał",
            "написал",
        ]
        .iter()
        .any(|verb| lower.contains(verb))
}

fn starts_with_opener(folded: &str) -> bool {
    let line = folded.trim_start();
    [
        "on ", "am ", "le ", "el ", "op ", "il ", "em ", "den ", "w dniu ",
    ]
    .iter()
    .any(|opener| line.starts_with(opener))
}

#[cfg(test)]
mod tests;
