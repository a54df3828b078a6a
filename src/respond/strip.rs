//! What of a team member's mail may reach the reporter (SPEC §3): the member's own
//! words, without command lines, quoted text, forwarded or original messages, our
//! own notifications, signature blocks, and without the member's address.
//!
//! Pure line work on the decoded plain-text body; the caller decides what to do
//! with an empty result (refuse to relay it).

/// The line that starts the body of every team notification; it and everything
/// after it are never relayed, even when a client forwards or quotes it unprefixed.
pub const NOTIFICATION_MARKER: &str = "-----BEGIN DISCLOSED NOTIFICATION-----";

/// What a team member's address is replaced with.
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
    /// Member addresses replaced, plus sign-off lines that were only a member's name.
    pub member_mentions: usize,
}

/// A line after which nothing is relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// A signature separator, `-- ` or `--`.
    Signature,
    /// Outlook's "-----Original Message-----" or its From/Sent/To/Subject block.
    OriginalMessage,
    /// "---------- Forwarded message ---------", "Begin forwarded message:".
    ForwardedMessage,
    /// [`NOTIFICATION_MARKER`]: one of our own notifications.
    Notification,
}

impl Tail {
    /// A short name for the event log.
    pub fn as_str(self) -> &'static str {
        match self {
            Tail::Signature => "signature",
            Tail::OriginalMessage => "original-message",
            Tail::ForwardedMessage => "forwarded-message",
            Tail::Notification => "notification",
        }
    }
}

/// Strips a team member's mail down to what may be relayed to the reporter.
///
/// `members` lists the team's addresses (entries with an `@`) and names (the
/// others). Every occurrence of an address, in any case, becomes
/// [`MEMBER_PLACEHOLDER`]; a line that is only a member's name (a sign-off such as
/// `Alice` or `-- Alice`) is removed. Names inside sentences stay: the member
/// wrote them on purpose.
pub fn relay_text(body: &str, members: &[&str]) -> Stripped {
    let lines: Vec<&str> = body.lines().collect();
    let mut removed = Removed::default();

    let start = command_block_end(&lines);
    removed.command_lines = lines[..start].iter().filter(|l| is_command(l)).count();
    let lines = &lines[start..];

    let (end, tail) = find_tail(lines);
    removed.tail = tail;
    removed.tail_lines = lines.len() - end;
    let lines = &lines[..end];

    let mut keep = vec![true; lines.len()];
    for (index, line) in lines.iter().enumerate() {
        if is_quoted(line) {
            keep[index] = false;
            removed.quoted_lines += 1;
        }
    }
    for index in attribution_lines(lines, &keep, tail) {
        if keep[index] {
            keep[index] = false;
            removed.quoted_lines += 1;
        }
    }

    let (addresses, names): (Vec<&str>, Vec<&str>) = members
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .partition(|m| m.contains('@'));
    for (index, line) in lines.iter().enumerate() {
        if keep[index] && is_name_sign_off(line, &names) {
            keep[index] = false;
            removed.member_mentions += 1;
        }
    }

    let mut kept: Vec<String> = Vec::new();
    let mut removed_since_last = false;
    for (index, line) in lines.iter().enumerate() {
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
        if blank {
            kept.push(String::new());
            continue;
        }
        let (line, replaced) = replace_addresses(line, &addresses);
        removed.member_mentions += replaced;
        kept.push(line);
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

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// The first line after which nothing is relayed, and why.
fn find_tail(lines: &[&str]) -> (usize, Option<Tail>) {
    for (index, line) in lines.iter().enumerate() {
        if is_quoted(line) {
            continue;
        }
        let tail = if *line == "-- " || *line == "--" {
            Some(Tail::Signature)
        } else if line.contains(NOTIFICATION_MARKER) {
            Some(Tail::Notification)
        } else if is_forward_separator(line) {
            Some(Tail::ForwardedMessage)
        } else if is_original_separator(line) || is_header_block(&lines[index..]) {
            Some(Tail::OriginalMessage)
        } else {
            None
        };
        if let Some(tail) = tail {
            return (include_rule_above(lines, index), Some(tail));
        }
    }
    (lines.len(), None)
}

/// Outlook draws a line of underscores above the quoted header block; it goes
/// with the block.
fn include_rule_above(lines: &[&str], index: usize) -> usize {
    let above = lines[..index].iter().rposition(|l| !l.trim().is_empty());
    match above {
        Some(above) if is_rule(lines[above]) => above,
        _ => index,
    }
}

fn is_rule(line: &str) -> bool {
    let line = line.trim();
    line.len() >= 10 && line.bytes().all(|b| b == b'_')
}

/// Gmail, Thunderbird and others: `---------- Forwarded message ---------`;
/// Apple Mail: `Begin forwarded message:`.
fn is_forward_separator(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
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
        ]
        .iter()
        .any(|phrase| lower.contains(phrase))
}

/// Outlook and older Thunderbird: `-----Original Message-----`.
fn is_original_separator(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    lower.starts_with("--")
        && [
            "original message",
            "ursprüngliche nachricht",
            "message d'origine",
            "mensaje original",
            "oorspronkelijk bericht",
        ]
        .iter()
        .any(|phrase| lower.contains(phrase))
}

/// Outlook's quoted header block: `From:` followed within a few lines by a date
/// and a subject line (in the client's language).
fn is_header_block(lines: &[&str]) -> bool {
    const FROM: &[&str] = &["from:", "von:", "de:", "van:"];
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
    ];
    const SUBJECT: &[&str] = &["subject:", "betreff:", "objet:", "asunto:", "onderwerp:"];
    let Some(first) = lines.first() else {
        return false;
    };
    if !header_name_is(first, FROM) {
        return false;
    }
    let following = &lines[1..lines.len().min(7)];
    following.iter().any(|l| header_name_is(l, DATE))
        && following.iter().any(|l| header_name_is(l, SUBJECT))
}

/// Whether the line starts with one of `names`, ignoring case, the `*bold*` that
/// plain-text conversions add, and the space French puts before a colon.
fn header_name_is(line: &str, names: &[&str]) -> bool {
    let lower = line
        .trim_start()
        .trim_start_matches('*')
        .to_lowercase()
        .replace("*:", ":")
        .replace(" :", ":");
    names.iter().any(|name| lower.starts_with(name))
}

/// The lines that introduce a quote ("On … wrote:"), possibly wrapped over two
/// lines. They count only where a quote (or a forwarded or original message, or a
/// notification) follows them, so a member's own sentence ending in "wrote:" stays.
fn attribution_lines(lines: &[&str], keep: &[bool], tail: Option<Tail>) -> Vec<usize> {
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if !keep[index] || !is_attribution(line) {
            continue;
        }
        let next = (index + 1..lines.len()).find(|&i| !lines[i].trim().is_empty());
        let introduces_quote = match next {
            Some(next) => is_quoted(lines[next]),
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
            && starts_with_opener(lines[index - 1])
            && !lines[index - 1].trim_end().ends_with(['.', '!', '?'])
        {
            found.push(index - 1);
        }
    }
    found
}

/// "On … wrote:", "Am … schrieb …:", "Le … a écrit :", "El … escribió:",
/// "Op … schreef …:", and "Jane Doe wrote:".
fn is_attribution(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    lower.len() <= 300
        && lower.ends_with(':')
        && ["wrote", "schrieb", "a écrit", "escribió", "schreef"]
            .iter()
            .any(|verb| lower.contains(verb))
}

fn starts_with_opener(line: &str) -> bool {
    let line = line.trim_start();
    ["On ", "Am ", "Le ", "El ", "Op "]
        .iter()
        .any(|opener| line.starts_with(opener))
}

/// A sign-off line that is only a member's name, perhaps after a dash.
fn is_name_sign_off(line: &str, names: &[&str]) -> bool {
    let bare = line
        .trim()
        .trim_start_matches(['-', '–', '—', '~'])
        .trim_start();
    !bare.is_empty() && names.iter().any(|name| bare.eq_ignore_ascii_case(name))
}

/// Replaces every member address (any case; with its angle brackets when it has
/// them) by [`MEMBER_PLACEHOLDER`] and says how many there were.
fn replace_addresses(line: &str, addresses: &[&str]) -> (String, usize) {
    let mut line = line.to_owned();
    let mut count = 0;
    for address in addresses {
        for needle in [format!("<{address}>"), (*address).to_owned()] {
            loop {
                // ASCII lower-casing keeps byte offsets, so a position found in
                // the lowered copy is valid in the original.
                let lowered = line.to_ascii_lowercase();
                let Some(at) = lowered.find(&needle.to_ascii_lowercase()) else {
                    break;
                };
                line.replace_range(at..at + needle.len(), MEMBER_PLACEHOLDER);
                count += 1;
            }
        }
    }
    (line, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMBERS: &[&str] = &[
        "Alice",
        "alice@example.org",
        "Bob Builder",
        "bob@example.org",
    ];

    fn strip(body: &str) -> Stripped {
        let lf = relay_text(body, MEMBERS);
        let crlf = relay_text(&body.replace('\n', "\r\n"), MEMBERS);
        assert_eq!(lf, crlf, "CRLF input gives the same result");
        lf
    }
    #[test]
    fn thunderbird_reply_loses_commands_quote_and_signature() {
        let body = "\
#state triaged
#severity high

Hello Jane,

thank you, we could reproduce it and are working on a fix.

Am 02.03.26 um 10:15 schrieb Jane Doe:
> Hello,
>
> the search page is vulnerable to SQL injection.
>
> Jane

-- 
Alice Example
Security Team, Example Org
alice@example.org
";
        let out = strip(body);
        assert_eq!(
            out.text,
            "Hello Jane,\n\nthank you, we could reproduce it and are working on a fix.\n"
        );
        assert_eq!(
            out.removed,
            Removed {
                command_lines: 2,
                quoted_lines: 6,
                tail: Some(Tail::Signature),
                tail_lines: 4,
                member_mentions: 0,
            }
        );
    }

    #[test]
    fn gmail_top_post_with_wrapped_attribution() {
        let body = "\
Hi Jane,

The fix ships in 3.1.1 next Tuesday. If you need me, write to
Alice@Example.org (or <alice@example.org>).

Best,
Alice

On Mon, Mar 2, 2026 at 10:15 AM Jane Doe <jane@researcher.example>
wrote:

> Any news on SEC-2026-0042?
>
> On Fri, Feb 27, 2026 at 9:00 AM Example Security <
> security+SEC-2026-0042@example.org> wrote:
>
>> Thank you for your report to the Example security team.
>>
";
        let out = strip(body);
        assert_eq!(
            out.text,
            "Hi Jane,\n\nThe fix ships in 3.1.1 next Tuesday. If you need me, write to\n\
             [team member] (or [team member]).\n\nBest,\n"
        );
        assert_eq!(out.removed.quoted_lines, 2 + 7);
        assert_eq!(
            out.removed.member_mentions, 3,
            "two addresses and the sign-off"
        );
        assert_eq!(out.removed.tail, None);
    }

    #[test]
    fn outlook_header_block_and_everything_after_it() {
        let body = "\
Hello Jane,

We have released 3.1.1 with the fix. Would you like to be credited?

Kind regards
Bob Builder
Security Engineer
Example Org | bob@example.org

________________________________
From: Example Security <security+SEC-2026-0042-internal@example.org>
Sent: Monday, March 2, 2026 10:15
To: Bob Builder <bob@example.org>
Subject: [SEC-2026-0042] SQL injection in /search

-----BEGIN DISCLOSED NOTIFICATION-----
Report SEC-2026-0042 from jane@researcher.example
";
        let out = strip(body);
        assert_eq!(
            out.text,
            "Hello Jane,\n\nWe have released 3.1.1 with the fix. Would you like to be credited?\n\n\
             Kind regards\nSecurity Engineer\nExample Org | [team member]\n"
        );
        assert_eq!(out.removed.tail, Some(Tail::OriginalMessage));
        assert_eq!(out.removed.tail_lines, 8, "from the underscore rule on");
        assert_eq!(out.removed.member_mentions, 2);
    }

    #[test]
    fn outlook_original_message_separator_in_other_languages() {
        for separator in [
            "-----Original Message-----",
            "-----Ursprüngliche Nachricht-----",
            "-----Message d'origine-----",
        ] {
            let body = format!("Fixed in 3.1.1.\n\n{separator}\nFrom: Jane\nSecret details\n");
            let out = strip(&body);
            assert_eq!(out.text, "Fixed in 3.1.1.\n", "{separator}");
            assert_eq!(out.removed.tail, Some(Tail::OriginalMessage), "{separator}");
        }
        let german = "Behoben.\n\nVon: Jane Doe <jane@researcher.example>\n\
                      Gesendet: Montag, 2. März 2026 10:15\nAn: Bob\nBetreff: Re: SQLi\n\nDetails\n";
        assert_eq!(strip(german).text, "Behoben.\n");
        let french = "Corrigé.\n\nDe : Jane Doe\nEnvoyé : lundi 2 mars 2026\n\
                      À : Bob\nObjet : SQLi\n\nDétails\n";
        assert_eq!(strip(french).text, "Corrigé.\n");
    }

    #[test]
    fn apple_mail_reply_and_forward() {
        let reply = "\
Hi Jane,

Yes, please go ahead and publish on the 21st.

Sent from my iPhone

On 2 Mar 2026, at 10:15, Jane Doe <jane@researcher.example> wrote:

> Can I publish on February 21?
";
        let out = strip(reply);
        assert_eq!(
            out.text,
            "Hi Jane,\n\nYes, please go ahead and publish on the 21st.\n\nSent from my iPhone\n"
        );
        assert_eq!(out.removed.quoted_lines, 2);

        let ios = "Agreed.\n\n> On 2 Mar 2026, at 10:15, Jane Doe wrote:\n>\n> Can I publish?\n";
        assert_eq!(strip(ios).text, "Agreed.\n");

        let forward = "\
Jane, our vendor confirmed the issue.

Begin forwarded message:

From: Vendor <psirt@vendor.example>
Subject: Re: SQL injection
Date: 2 March 2026 at 10:15:00 CET
To: bob@example.org

Internal details that must not leak.
";
        let out = strip(forward);
        assert_eq!(out.text, "Jane, our vendor confirmed the issue.\n");
        assert_eq!(out.removed.tail, Some(Tail::ForwardedMessage));
        assert_eq!(
            out.removed.member_mentions, 0,
            "the address was cut with the forward"
        );
    }

    #[test]
    fn mutt_inline_reply_keeps_the_members_lines() {
        let body = "\
On Mon, Mar 02, 2026 at 10:15:00AM +0100, Jane Doe wrote:
> Is the fix in 3.1.1?

Yes, it is.

> And when do you plan to publish the advisory?
> I would like to present it at a conference.

On March 21, together with the release notes.

> Thanks,
> Jane

Thanks to you,
-- Alice

-- 
Alice Example <alice@example.org>
OpenPGP: 0x1234ABCD
";
        let out = strip(body);
        assert_eq!(
            out.text,
            "Yes, it is.\n\nOn March 21, together with the release notes.\n\nThanks to you,\n"
        );
        assert_eq!(
            out.removed,
            Removed {
                command_lines: 0,
                quoted_lines: 1 + 1 + 2 + 2,
                tail: Some(Tail::Signature),
                tail_lines: 3,
                member_mentions: 1,
            }
        );
    }

    #[test]
    fn forwarded_notification_is_removed_entirely() {
        let body = "\
#state out-of-scope

---------- Forwarded message ---------
From: Example Security <security+SEC-2026-0042-internal@example.org>
Date: Mon, 2 Mar 2026 at 10:15
Subject: [SEC-2026-0042] New report: SQL injection in /search
To: <alice@example.org>

-----BEGIN DISCLOSED NOTIFICATION-----
Report SEC-2026-0042 was opened by jane@researcher.example.
";
        let out = strip(body);
        assert!(out.is_empty(), "{:?}", out.text);
        assert_eq!(out.removed.command_lines, 1);
        assert_eq!(out.removed.tail, Some(Tail::ForwardedMessage));
    }

    #[test]
    fn notification_quoted_without_prefix_is_cut_with_its_attribution() {
        let body = "\
Thanks, we are on it.

On 02.03.26 10:15, Example Security wrote:

    -----BEGIN DISCLOSED NOTIFICATION-----
    Report SEC-2026-0042 from jane@researcher.example
    Reply-To: security+SEC-2026-0042-internal@example.org
";
        let out = strip(body);
        assert_eq!(out.text, "Thanks, we are on it.\n");
        assert_eq!(out.removed.tail, Some(Tail::Notification));
        assert_eq!(out.removed.quoted_lines, 1, "the attribution");
    }

    #[test]
    fn a_body_of_only_commands_is_empty() {
        let out = strip("\n#state triaged\n\n#severity high\n#assign bob@example.org\n\n");
        assert!(out.is_empty());
        assert_eq!(out.text, "");
        assert_eq!(out.removed.command_lines, 3);
        assert_eq!(strip("").text, "");
        assert_eq!(strip("> only a quote\n-- \nsig\n").text, "");
    }

    #[test]
    fn commands_count_only_at_the_top() {
        let out = strip("#1 priority for us.\n#state triaged\n");
        assert_eq!(out.text, "#1 priority for us.\n#state triaged\n");
        assert_eq!(out.removed.command_lines, 0);
        let out = strip("  #waiting\nHello\n");
        assert_eq!(out.text, "Hello\n", "an indented command does not leak");
    }

    #[test]
    fn signature_separators_are_exact() {
        assert_eq!(strip("Text\n--\nsig\n").text, "Text\n");
        assert_eq!(strip("Text\n---\nmore\n").text, "Text\n---\nmore\n");
        assert_eq!(strip("Text\n-- x\nmore\n").text, "Text\n-- x\nmore\n");
        let quoted = strip("Text\n> -- \n> her signature\nMine\n");
        assert_eq!(quoted.text, "Text\nMine\n");
        assert_eq!(quoted.removed.tail, None, "a quoted separator cuts nothing");
    }

    #[test]
    fn quotes_of_any_depth_and_indentation_go() {
        let out = strip("a\n>>> deep\n  > indented\n>no space\nb\n");
        assert_eq!(out.text, "a\nb\n");
        assert_eq!(out.removed.quoted_lines, 3);
    }

    #[test]
    fn attribution_forms_of_common_clients() {
        for attribution in [
            "On Mon, 2 Mar 2026 10:15:00 +0100, Jane Doe wrote:",
            "Am 02.03.2026 um 10:15 schrieb Jane Doe:",
            "Le lun. 2 mars 2026 à 10:15, Jane Doe <jane@researcher.example> a écrit :",
            "El lun, 2 mar 2026 a las 10:15, Jane Doe (<jane@researcher.example>) escribió:",
            "Op ma 2 mrt 2026 om 10:15 schreef Jane Doe <jane@researcher.example>:",
            "Jane Doe wrote:",
        ] {
            let body = format!("Mine.\n\n{attribution}\n> hers\n");
            let out = strip(&body);
            assert_eq!(out.text, "Mine.\n", "{attribution}");
            assert_eq!(out.removed.quoted_lines, 2, "{attribution}");
        }
    }

    #[test]
    fn own_sentences_that_look_like_attributions_stay() {
        let body = "On Monday the reporter wrote:\nthe fix works.\n\nOn our side it is done.\nShe wrote:\n";
        assert_eq!(strip(body).text, body);
        let wrapped = "On our side it is done.\nJane wrote:\n> hers\n";
        assert_eq!(strip(wrapped).text, "On our side it is done.\n");
    }

    #[test]
    fn member_addresses_never_appear() {
        let members = ["Alice", "alice@example.org"];
        let out = relay_text(
            "Write to ALICE@EXAMPLE.ORG, alice@example.org or mailto:alice@example.org.\n",
            &members,
        );
        assert_eq!(
            out.text,
            "Write to [team member], [team member] or mailto:[team member].\n"
        );
        assert_eq!(out.removed.member_mentions, 3);
        // A name in a sentence is the member's choice; a bare sign-off goes.
        let out = relay_text("Alice will check it.\n\nCheers,\n  ALICE  \n", &members);
        assert_eq!(out.text, "Alice will check it.\n\nCheers,\n");
        // Other addresses stay.
        let out = relay_text("Ask jane@researcher.example.\n", &members);
        assert_eq!(out.text, "Ask jane@researcher.example.\n");
    }

    #[test]
    fn blank_lines_are_trimmed_and_collapsed_only_around_removals() {
        let out = strip("\n\n\nFirst\n\n\nSecond\n\n> q\n\nThird\n\n\n");
        assert_eq!(out.text, "First\n\n\nSecond\n\nThird\n");
    }
}
