//! HTML answers: cut the body where quoted or forwarded mail starts, then turn
//! what is left into text. The text conversion loses the structure that marks
//! a quote (`<blockquote>`, a client's quote container), so the cut comes first.
//!
//! Finding the cut looks at every `<name …>` in the source, even inside
//! comments, scripts and attribute-less junk: a quote start hidden where a real
//! parser would not see a tag only makes the cut earlier, never later.

use mail_parser::decoders::html::add_html_token;

use super::Tail;
use super::fold::fold;

/// The text before the first quote, and what the quote was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// LF line endings; blank lines kept as the message shows them.
    pub text: String,
    pub tail: Option<Tail>,
    /// Lines of text in the part that was cut.
    pub cut_lines: usize,
}

/// Cuts `html` at the first quote, reply header, forward or signature, and
/// converts the rest to text.
pub fn cut(html: &str) -> Cut {
    let (at, tail) = match find_cut(html) {
        Some((at, tail)) => (at, Some(tail)),
        None => (html.len(), None),
    };
    let cut_lines = if tail.is_some() {
        to_text(&html[at..])
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count()
    } else {
        0
    };
    Cut {
        text: to_text(&html[..at]),
        tail,
        cut_lines,
    }
}

/// A start tag: its lower-cased name and attributes, and where it ends.
struct StartTag {
    name: String,
    attributes: Vec<(String, String)>,
    end: usize,
}

impl StartTag {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The byte offset of the first element that starts quoted mail, and which.
fn find_cut(html: &str) -> Option<(usize, Tail)> {
    let bytes = html.as_bytes();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        at = start + 1;
        if !bytes.get(start + 1).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let tag = start_tag(html, start + 1);
        if let Some(tail) = quote_start(&tag, &html[tag.end..]) {
            return Some((start, tail));
        }
    }
    None
}

/// Parses the start tag whose name begins at `from` (after `<`). An
/// unterminated tag runs to the end of the input.
fn start_tag(html: &str, from: usize) -> StartTag {
    let bytes = html.as_bytes();
    let mut i = from;
    while i < bytes.len() && !matches!(bytes[i], b'>' | b'/') && !bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    let name = html[from..i].to_ascii_lowercase();
    let mut attributes = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            break;
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let attribute = html[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let close = html[i + 1..]
                        .find(quote as char)
                        .map_or(bytes.len(), |n| i + 1 + n);
                    value = decode(&html[i + 1..close]);
                    i = (close + 1).min(bytes.len());
                }
                _ => {
                    let value_start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = decode(&html[value_start..i]);
                }
            }
        }
        if attribute.is_empty() {
            // A stray `=` (with or without a value): never stop on the spot,
            // and a byte consumed above needs no stepping over.
            if i == name_start {
                i += 1;
            }
        } else {
            attributes.push((attribute, value));
        }
    }
    StartTag {
        name,
        attributes,
        end: (i + 1).min(bytes.len()),
    }
}

/// Whether `tag` starts quoted mail (given the source after it), and which.
fn quote_start(tag: &StartTag, after: &str) -> Option<Tail> {
    if tag.name == "blockquote" {
        return Some(Tail::Quote);
    }
    if tag
        .attribute("type")
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("cite"))
    {
        return Some(Tail::Quote);
    }
    for class in tag
        .attribute("class")
        .unwrap_or_default()
        .split_ascii_whitespace()
    {
        let class = class.to_ascii_lowercase();
        // Gmail's gmail_quote (and its gmail_quote_container), Yahoo's
        // yahoo_quoted, Proton's protonmail_quote, Thunderbird's
        // moz-cite-prefix (the attribution above its blockquote).
        if class.contains("quote")
            || class.contains("cite")
            || class == "gmail_attr"
            || class == "gmail_extra"
        {
            return Some(Tail::Quote);
        }
        if class.contains("forward") {
            return Some(Tail::ForwardedMessage);
        }
        if class.contains("signature") {
            return Some(Tail::Signature);
        }
    }
    let id = tag.attribute("id").unwrap_or_default().to_ascii_lowercase();
    // Outlook: divRplyFwdMsg (x_divRplyFwdMsg in a reply to a reply),
    // appendonsend above it, the new Outlook's reference-message container,
    // Outlook for Mac's OLK_SRC_BODY_SECTION; Zimbra's zwchr rule.
    if [
        "rplyfwdmsg",
        "appendonsend",
        "reference-message",
        "olk_src_body_section",
        "zwchr",
    ]
    .iter()
    .any(|marker| id.contains(marker))
    {
        return Some(Tail::OriginalMessage);
    }
    if id.contains("signature") {
        return Some(Tail::Signature);
    }
    let style: String = tag
        .attribute("style")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    // Outlook's "prefix each line" quote, and clients that draw a quote bar.
    if style.contains("border-left:") && !style.contains("border-left:none") {
        return Some(Tail::Quote);
    }
    // Outlook's reply header: a rule (a top border or an <hr>) over From:,
    // Sent:, To:, Subject:.
    if (tag.name == "hr" || style.contains("border-top:") && !style.contains("border-top:none"))
        && starts_with_from(after)
    {
        return Some(Tail::OriginalMessage);
    }
    None
}

/// Whether the text after a tag begins (within its first few hundred
/// characters) with a From header name in one of the languages we know.
fn starts_with_from(after: &str) -> bool {
    let mut end = after.len().min(4000);
    while !after.is_char_boundary(end) {
        end -= 1;
    }
    let text = fold(&to_text(&after[..end]));
    let first = text.trim_start().trim_start_matches(['*', '_']);
    super::FROM.iter().any(|name| {
        first
            .replace(" :", ":")
            .replace("*:", ":")
            .starts_with(name)
    })
}

/// Block elements: the text around them is on lines of its own.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
];

/// Elements whose content is not shown as text.
const HIDDEN: &[&str] = &[
    "head", "noscript", "script", "style", "template", "textarea", "title", "xml",
];

/// The text of `html` as a mail client shows it: one line per block and `<br>`,
/// spaces collapsed outside `<pre>`, entities decoded, nothing of comments,
/// scripts, styles or the head.
pub fn to_text(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = Text::default();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' if html[i..].starts_with("<!--") => {
                i = html[i + 4..]
                    .find("-->")
                    .map_or(bytes.len(), |n| i + 4 + n + 3);
            }
            b'<' if matches!(bytes.get(i + 1), Some(b'!' | b'?')) => {
                i = html[i..].find('>').map_or(bytes.len(), |n| i + n + 1);
            }
            b'<' if bytes.get(i + 1) == Some(&b'/')
                && bytes.get(i + 2).is_some_and(u8::is_ascii_alphabetic) =>
            {
                let tag = start_tag(html, i + 2);
                out.end_tag(&tag.name);
                i = tag.end;
            }
            b'<' if bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => {
                let tag = start_tag(html, i + 1);
                i = tag.end;
                if HIDDEN.contains(&tag.name.as_str()) {
                    // Skip to the matching end tag; for the head, to the body.
                    let rest = &html[i..];
                    let mut skip = find_ignoring_case(rest, &format!("</{}", tag.name));
                    if tag.name == "head" {
                        skip = skip.or_else(|| find_ignoring_case(rest, "<body"));
                    }
                    i = skip.map_or(bytes.len(), |n| i + n);
                    continue;
                }
                out.start_tag(&tag.name);
            }
            b'&' => {
                let (decoded, len) = entity(html, i);
                out.text(&decoded);
                i += len;
            }
            _ => {
                // Up to the next tag or reference; a `<` that starts none is text.
                let first = html[i..].chars().next().map_or(1, char::len_utf8);
                let next = html[i + first..]
                    .find(['<', '&'])
                    .map_or(bytes.len(), |n| i + first + n);
                out.text(&html[i..next]);
                i = next;
            }
        }
    }
    out.finish()
}

/// Text being built from HTML.
#[derive(Default)]
struct Text {
    out: String,
    /// Inside `<pre>`: spaces and line breaks as they are.
    pre: usize,
    /// A space is owed before the next word.
    space: bool,
}

impl Text {
    fn start_tag(&mut self, name: &str) {
        match name {
            "br" => {
                self.out.push('\n');
                self.space = false;
            }
            "td" | "th" => self.space = true,
            "pre" => {
                self.line_break();
                self.pre += 1;
            }
            name if BLOCKS.contains(&name) => self.line_break(),
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        if name == "pre" {
            self.pre = self.pre.saturating_sub(1);
        }
        if name == "pre" || BLOCKS.contains(&name) {
            self.line_break();
        }
    }

    /// Ends the current line unless it is empty.
    fn line_break(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.space = false;
    }

    fn text(&mut self, text: &str) {
        for c in text.chars() {
            if c == '\r' {
                continue;
            }
            if c == '\u{00A0}' {
                // Shown, unlike collapsible spaces: `<p>&nbsp;</p>` is an
                // empty line.
                self.out.push(' ');
                self.space = false;
            } else if self.pre > 0 {
                self.out.push(c);
            } else if c.is_whitespace() {
                self.space = true;
            } else if c.is_control() {
                // A decoded `&#0;` or the like shows nothing.
            } else {
                if self.space && !self.out.is_empty() && !self.out.ends_with('\n') {
                    self.out.push(' ');
                }
                self.space = false;
                self.out.push(c);
            }
        }
    }

    fn finish(self) -> String {
        let mut text = String::with_capacity(self.out.len());
        for line in self.out.lines() {
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

/// Attribute values with their character references decoded.
fn decode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while let Some(n) = value[i..].find('&') {
        out.push_str(&value[i..i + n]);
        let (decoded, len) = entity(value, i + n);
        out.push_str(&decoded);
        i += n + len;
    }
    out.push_str(&value[i..]);
    out
}

/// The character reference at `at` (where `text` has a `&`) decoded, and its
/// length; a bare `&` is itself.
fn entity(text: &str, at: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let len = bytes[at + 1..]
        .iter()
        .take(32)
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'#'));
    match len {
        Some(len) if len > 0 && bytes.get(at + 1 + len) == Some(&b';') => {
            let mut decoded = String::new();
            add_html_token(&mut decoded, &bytes[at..at + len + 2], false);
            (decoded, len + 2)
        }
        _ => ("&".to_owned(), 1),
    }
}

/// Where `needle` (ASCII) first occurs in `haystack`, ignoring ASCII case.
fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}
