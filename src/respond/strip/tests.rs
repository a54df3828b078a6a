//! Stripping cases: the plain-text forms of common clients, HTML answers, look-alike
//! characters in markers, and member names. Each attack on the stripping has a
//! test named after what it must never relay.

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
    // A name in a sentence is replaced too; a bare sign-off goes.
    let out = relay_text("Alice will check it.\n\nCheers,\n  ALICE  \n", &members);
    assert_eq!(out.text, "[team member] will check it.\n\nCheers,\n");
    // Other addresses stay.
    let out = relay_text("Ask jane@researcher.example.\n", &members);
    assert_eq!(out.text, "Ask jane@researcher.example.\n");
}

#[test]
fn blank_lines_are_trimmed_and_collapsed_only_around_removals() {
    let out = strip("\n\n\nFirst\n\n\nSecond\n\n> q\n\nThird\n\n\n");
    assert_eq!(out.text, "First\n\n\nSecond\n\nThird\n");
}
