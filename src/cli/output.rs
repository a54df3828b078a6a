//! How the read commands print: a table or text for people, JSON for scripts.
//!
//! Much of what they print comes from mail (subjects, names, bodies, key user
//! ids), and a terminal obeys escape sequences: a subject could set a link
//! (OSC 8), move the cursor over other lines, or retitle the window. So every
//! line the command line prints for people goes through [`terminal_safe`]
//! (via [`outln!`] and [`out!`]), which removes escape sequences and shows
//! other control characters and bidirectional overrides as `�`, as ripgrep and
//! git neutralise what they print. JSON keeps the data whole: serde escapes
//! the C0 controls and [`json`] escapes the rest (DEL, C1, bidi controls) as
//! `\uXXXX`, so a script reads exactly what the mail said and a terminal that
//! shows the JSON obeys none of it.

use std::borrow::Cow;
use std::fmt::Write as _;

use jiff::Timestamp;

use crate::config::Config;
use crate::store::{ReportDetail, ReportSummary};

pub(super) fn local(at: Timestamp, config: &Config) -> String {
    at.to_zoned_datetime(config.program.timezone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Prints `format!(…)` and a newline to stdout, made [`terminal_safe`].
macro_rules! outln {
    () => {
        ::std::println!()
    };
    ($($arg:tt)*) => {
        ::std::println!("{}", $crate::cli::output::terminal_safe(&::std::format!($($arg)*)))
    };
}
pub(crate) use outln;

/// Prints `format!(…)` to stdout, made [`terminal_safe`].
macro_rules! out {
    ($($arg:tt)*) => {
        ::std::print!("{}", $crate::cli::output::terminal_safe(&::std::format!($($arg)*)))
    };
}
pub(crate) use out;

/// `text` as a terminal may show it: escape sequences (CSI, OSC such as OSC 8
/// links, DCS, SOS, PM, APC, and two-character ESC sequences, in their 7-bit
/// and C1 forms) removed; every other control character but newline and tab,
/// and every bidirectional embedding, override or isolate, replaced by `�`.
/// An unterminated string sequence loses only its introducer, so no text after
/// it disappears.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_care) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if !needs_care(c) {
            out.push(c);
            rest = after;
            continue;
        }
        rest = match (c, after.chars().next()) {
            ('\u{1b}', Some('[')) => skip_csi(&after[1..]),
            ('\u{9b}', _) => skip_csi(after),
            ('\u{1b}', Some(']' | 'P' | 'X' | '^' | '_')) => skip_string(&after[1..]),
            ('\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}', _) => skip_string(after),
            ('\u{1b}', Some(next)) => skip_escape(after, next),
            _ => {
                out.push('\u{fffd}');
                after
            }
        };
    }
    Cow::Owned(out)
}

fn needs_care(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// Embeddings, overrides and isolates (Unicode TR9): they reorder what
/// follows them, so a subject could show a file name or address backwards.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// After a CSI introducer: parameter and intermediate bytes, then one final byte.
fn skip_csi(after: &str) -> &str {
    let params = after
        .find(|c: char| !('\u{20}'..='\u{3f}').contains(&c))
        .unwrap_or(after.len());
    let rest = &after[params..];
    match rest.chars().next() {
        Some(c @ '\u{40}'..='\u{7e}') => &rest[c.len_utf8()..],
        _ => rest,
    }
}

/// After an OSC, DCS, SOS, PM or APC introducer: everything up to and with its
/// terminator (BEL, ESC `\\` or ST); without one, nothing.
fn skip_string(after: &str) -> &str {
    let mut chars = after.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return &after[i + c.len_utf8()..],
            '\u{1b}' if chars.peek().is_some_and(|(_, n)| *n == '\\') => return &after[i + 2..],
            _ => {}
        }
    }
    after
}

/// After ESC followed by `next`: intermediates (`(`, `#`…) and a final byte
/// form the sequence; anything else leaves only the ESC removed.
fn skip_escape(after: &str, next: char) -> &str {
    if !('\u{20}'..='\u{7e}').contains(&next) {
        return after;
    }
    let intermediates = after
        .find(|c: char| !('\u{20}'..='\u{2f}').contains(&c))
        .unwrap_or(after.len());
    let rest = &after[intermediates..];
    match rest.chars().next() {
        Some(c @ '\u{30}'..='\u{7e}') => &rest[c.len_utf8()..],
        _ => rest,
    }
}

/// `value` as pretty JSON on stdout: every string whole, with what a terminal
/// could obey escaped (see the module documentation).
pub(super) fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{}", json_terminal_safe(&text)),
        Err(err) => eprintln!("cannot serialize: {err}"),
    }
}

/// `json` (serialized by serde, which escapes C0 controls already) with DEL,
/// C1 controls and bidi controls escaped as `\uXXXX`. They can only occur
/// inside strings, where the escape means the same character.
pub(crate) fn json_terminal_safe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(needs_care) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs_care(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

pub fn reports(reports: &[ReportSummary], as_json: bool, config: &Config) {
    if as_json {
        return json(&reports);
    }
    if reports.is_empty() {
        outln!("no reports");
        return;
    }
    outln!(
        "{:<15} {:<13} {:<22} {:>4}  {:<30} SUBJECT",
        "ID",
        "STATE",
        "OPENED",
        "MSGS",
        "REPORTER"
    );
    for r in reports {
        outln!(
            "{:<15} {:<13} {:<22} {:>4}  {:<30} {}{}",
            r.id,
            r.state,
            local(r.created_at, config),
            r.messages,
            clip(&r.reporter, 30),
            clip(&r.subject, 60),
            if r.ack_failed { "  !ack" } else { "" }
        );
    }
    if reports.iter().any(|r| r.ack_failed) {
        outln!(
            "\n!ack: the acknowledgement could not be composed; fix the template, then `disclosed ack resend ID`"
        );
    }
}

pub fn report(
    d: &ReportDetail,
    sla: Option<&crate::sla::ReportSla>,
    now: Timestamp,
    as_json: bool,
    config: &Config,
) {
    let cal = crate::sla::calendar(config);
    if as_json {
        #[derive(serde::Serialize)]
        struct WithDeadlines<'a> {
            #[serde(flatten)]
            detail: &'a ReportDetail,
            sla: Option<crate::sla::ReportView>,
        }
        return json(&WithDeadlines {
            detail: d,
            sla: sla.map(|r| r.view(&cal, now)),
        });
    }
    let s = &d.summary;
    outln!("{}  [{}]  {}", s.id, s.state, s.subject);
    outln!("reporter: {}", s.reporter);
    outln!("opened:   {}", local(s.created_at, config));
    outln!("updated:  {}", local(s.updated_at, config));
    outln!(
        "reply to: {}",
        config.program.address.with_tag(s.id.as_str())
    );
    if let Some(team) = &d.team {
        outln!("\nteam:");
        out!(
            "{}",
            crate::respond::control::show(team, &config.program.timezone)
        );
    }
    if let Some(r) = sla {
        outln!("\ndeadlines (as of {}):", local(now, config));
        for line in crate::sla::text::report_lines(r, &cal, now) {
            outln!("  {line}");
        }
    }
    outln!("\nparticipants:");
    for p in &d.participants {
        outln!("  {:<10} {}", p.role, p.address);
    }
    outln!("\nmessages:");
    for m in &d.messages {
        outln!(
            "  #{} {}  {}  from {}  ({}, via {}, {} bytes)",
            m.id,
            local(m.received_at, config),
            clip(&m.subject, 50),
            m.from.as_deref().unwrap_or("?"),
            m.kind,
            m.threaded_by,
            m.size
        );
        if m.openpgp != "plain" {
            let signer = m.signer.as_deref().map_or(String::new(), |f| {
                let matches = match m.signer_matches_from {
                    Some(true) => ", matches From",
                    Some(false) => ", does NOT match From",
                    None => "",
                };
                format!(" by {f}{matches}")
            });
            outln!(
                "      openpgp {}: encryption {}, signature {}{signer}",
                m.openpgp,
                m.encryption,
                m.signature
            );
        }
        for a in &m.attachments {
            outln!(
                "      attachment {} ({}, {} bytes, sha256 {})",
                a.name.as_deref().unwrap_or("(unnamed)"),
                a.content_type,
                a.size,
                &a.sha256[..16.min(a.sha256.len())]
            );
        }
        for p in &m.problems {
            outln!("      problem {p}");
        }
        for line in m.text.trim_end().lines() {
            outln!("      | {line}");
        }
    }
    if !d.keys.is_empty() {
        outln!("\nkeys:");
        for k in &d.keys {
            outln!(
                "  {:<8} {}  {}  ({}, from {}, first seen {}, last seen {})",
                k.status,
                k.address,
                k.fingerprint,
                k.trust,
                k.source,
                local(k.first_seen, config),
                local(k.last_seen, config)
            );
        }
    }
    outln!("\nevents:");
    for e in &d.events {
        outln!(
            "  {}  {:<24} {}  {}",
            local(e.at, config),
            e.kind,
            e.actor,
            e.detail
        );
    }
    outln!("\nmail:");
    for o in &d.outbox {
        outln!(
            "  {} {:<16} to {}  [{}; {} attempt(s)]{}",
            o.message_id,
            o.kind,
            o.recipients.join(", "),
            o.status,
            o.attempts,
            o.last_error
                .as_deref()
                .map(|e| format!(" last error: {e}"))
                .unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_untouched() {
        for text in ["Stored XSS in /search", "Grüße\tund\nmehr", "مرحبا", ""] {
            assert!(matches!(terminal_safe(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn an_osc8_link_in_a_subject_is_not_a_link_in_the_terminal() {
        let subject = "see \u{1b}]8;;https://evil.example/\u{7}the fix\u{1b}]8;;\u{1b}\\ now";
        assert_eq!(terminal_safe(subject), "see the fix now");
        let c1 = "see \u{9d}8;;https://evil.example/\u{9c}the fix\u{9d}8;;\u{9c}";
        assert_eq!(terminal_safe(c1), "see the fix");
    }

    #[test]
    fn escape_sequences_are_removed_and_other_controls_shown() {
        let cases = [
            ("\u{1b}[2J\u{1b}[1;1Hcleared", "cleared"),
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("\u{9b}31mred", "red"),
            ("\u{1b}]0;new title\u{7}text", "text"),
            ("\u{1b}P1$r\u{1b}\\dcs", "dcs"),
            ("\u{1b}(Bcharset", "charset"),
            ("\u{1b}7save", "save"),
            ("over\rwrite", "over\u{fffd}write"),
            ("bell\u{7}", "bell\u{fffd}"),
            ("del\u{7f}", "del\u{fffd}"),
            ("\u{85}next line", "\u{fffd}next line"),
            ("invoice\u{202e}fdp.exe", "invoice\u{fffd}fdp.exe"),
            ("\u{2066}isolated\u{2069}", "\u{fffd}isolated\u{fffd}"),
            ("lines\nand\ttabs", "lines\nand\ttabs"),
            // Unterminated: only the introducer goes, nothing after it hides.
            (
                "\u{1b}]8;;https://evil.example/ rest",
                "8;;https://evil.example/ rest",
            ),
            ("\u{1b}[", ""),
            ("end\u{1b}", "end\u{fffd}"),
        ];
        for (input, expected) in cases {
            assert_eq!(terminal_safe(input), expected, "{input:?}");
        }
    }

    #[test]
    fn json_keeps_the_data_with_terminal_controls_escaped() {
        let value = serde_json::json!({
            "subject": "a\u{1b}]8;;https://evil.example/\u{7}b\u{9b}2J\u{202e}c"
        });
        let text = serde_json::to_string(&value).expect("json");
        let safe = json_terminal_safe(&text);
        assert!(!safe.chars().any(needs_care), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still json");
        assert_eq!(back, value);
    }
}
