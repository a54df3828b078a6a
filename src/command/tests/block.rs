//! Where the command block of a body starts and ends.

use super::*;

fn lines<'b>(block: &'b Block<'_>) -> Vec<&'b str> {
    block.entries.iter().map(|e| e.line.as_str()).collect()
}

#[test]
fn block_then_text() {
    let body = "\n\n  #state triaged\n#severity high\n\n#cve CVE-2026-12345\n\nThanks, we are on it.\n#state fixed\n";
    let block = parse_block(body, PREFIX);
    assert_eq!(
        lines(&block),
        ["#state triaged", "#severity high", "#cve CVE-2026-12345"]
    );
    assert!(block.entries.iter().all(|e| e.command.is_ok()));
    assert_eq!(block.rest, "Thanks, we are on it.\n#state fixed\n");
    assert_eq!(&body[block.rest_offset..], block.rest);
}

#[test]
fn crlf_bodies() {
    let body = "\r\n#state triaged\r\n\r\n#waiting\r\n\r\nHello\r\n";
    let block = parse_block(body, PREFIX);
    assert_eq!(lines(&block), ["#state triaged", "#waiting"]);
    assert_eq!(
        block.entries[0].command,
        Ok(Command::State(ReportState::Triaged))
    );
    assert_eq!(block.rest, "Hello\r\n");
}

#[test]
fn byte_order_mark_before_the_first_command() {
    let block = parse_block("\u{feff}#waiting\nHi", PREFIX);
    assert_eq!(lines(&block), ["#waiting"]);
    assert_eq!(block.rest, "Hi");
}

#[test]
fn only_commands() {
    let block = parse_block("#help", PREFIX);
    assert_eq!(lines(&block), ["#help"]);
    assert_eq!(block.rest, "");
    let block = parse_block("#help\r\n\r\n", PREFIX);
    assert_eq!(block.rest, "");
}

#[test]
fn no_block() {
    let cases = [
        "",
        "\n\n",
        "Hello,\n#state triaged\n",
        "# Heading\n#state triaged\n",
        "> #state triaged\n#state fixed\n",
        ">#state triaged\n",
        "#1 priority\n",
        "#\n#state triaged\n",
        "-----BEGIN PGP SIGNED MESSAGE-----\n#state triaged\n",
    ];
    for body in cases {
        let block = parse_block(body, PREFIX);
        assert!(block.is_empty(), "{body:?}: {:?}", lines(&block));
        assert_eq!(block.rest_offset, 0, "{body:?}");
        assert_eq!(block.rest, body, "{body:?}");
    }
}

#[test]
fn quote_ends_the_block() {
    let body = "#state triaged\n> #state fixed\n#severity low\n";
    let block = parse_block(body, PREFIX);
    assert_eq!(lines(&block), ["#state triaged"]);
    assert_eq!(block.rest, "> #state fixed\n#severity low\n");
}

#[test]
fn bad_lines_stay_in_the_block_with_their_error() {
    let block = parse_block("#state fixd\n#bogus thing\n#severity high\nText", PREFIX);
    assert_eq!(block.entries.len(), 3);
    assert!(matches!(
        block.entries[0].command,
        Err(CommandError::Invalid {
            command: "#state",
            ..
        })
    ));
    assert_eq!(
        block.entries[1].command,
        Err(CommandError::Unknown {
            name: "#bogus".to_owned()
        })
    );
    assert_eq!(
        block.entries[2].command,
        Ok(Command::Severity(Severity::High))
    );
    assert_eq!(block.rest, "Text");
}

#[test]
fn non_ascii_text_after_the_block() {
    let body = "#waiting\nGrüße, 你好\n";
    let block = parse_block(body, PREFIX);
    assert_eq!(block.rest, "Grüße, 你好\n");
}

#[test]
fn the_reply_directive_is_taken_from_the_command_block_only() {
    let cases: &[(&str, bool, &str)] = &[
        ("#reply\n\nThanks!\n", true, "\nThanks!\n"),
        (
            "#state triaged\n#REPLY\nThanks!\n",
            true,
            "#state triaged\nThanks!\n",
        ),
        ("\r\n  #Reply \r\nThanks\r\n", true, "\r\nThanks\r\n"),
        // Below the block it is text: only the member's top lines choose a route.
        ("Thanks!\n#reply\n", false, "Thanks!\n#reply\n"),
        ("> #reply\nThanks\n", false, "> #reply\nThanks\n"),
        ("#replyall\nThanks\n", false, "#replyall\nThanks\n"),
        ("", false, ""),
    ];
    for (body, found, rest) in cases {
        let (got, text) = take_reply_directive(body);
        assert_eq!((got, text.as_str()), (*found, *rest), "body {body:?}");
        // What is left never carries the directive into the command parser.
        assert!(
            parse_block(&text, PREFIX)
                .entries
                .iter()
                .all(|e| !e.line.eq_ignore_ascii_case("#reply")),
            "{body:?}"
        );
    }
}
