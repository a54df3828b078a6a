//! Awkward mail (tests/data/corpus plus generated giants): every message is stored
//! byte-exact with its problem recorded, and the daemon never stops.

use std::path::Path;

use crate::common::{ALICE, Env, assert_metadata_only, header, parse_subject};

struct Case {
    file: &'static str,
    problems: &'static [&'static str],
    kind: &'static str,
    opens_report: bool,
    subject: Option<&'static str>,
    text: Option<&'static str>,
}

const fn case(
    file: &'static str,
    problems: &'static [&'static str],
    kind: &'static str,
    opens_report: bool,
) -> Case {
    Case {
        file,
        problems,
        kind,
        opens_report,
        subject: None,
        text: None,
    }
}

const CASES: &[Case] = &[
    case("no-message-id.eml", &["no-message-id"], "reporter", true),
    case("duplicate-message-id-1.eml", &[], "reporter", true),
    case(
        "duplicate-message-id-2.eml",
        &["duplicate-message-id"],
        "reporter",
        true,
    ),
    Case {
        subject: Some("Sicherheitslücke in der Anmeldung"),
        text: Some("Grüße aus München."),
        ..case("subject-latin1.eml", &[], "reporter", true)
    },
    Case {
        subject: Some("Уязвимость"),
        ..case("subject-koi8r.eml", &[], "reporter", true)
    },
    Case {
        subject: Some("セキュリティ"),
        ..case("subject-iso2022jp.eml", &[], "reporter", true)
    },
    Case {
        subject: Some("Vulnerabilidad crítica — RCE"),
        ..case("subject-utf8-split.eml", &[], "reporter", true)
    },
    Case {
        text: Some("Grüße, das Passwort"),
        ..case("body-latin1-8bit.eml", &[], "reporter", true)
    },
    case(
        "body-invalid-utf8.eml",
        &["undecodable-text"],
        "reporter",
        true,
    ),
    case(
        "malformed-headers.eml",
        &["malformed-header", "bad-date"],
        "reporter",
        true,
    ),
    case("dsn-bounce.eml", &["not-answered"], "bounce", false),
    case("out-of-office.eml", &["not-answered"], "auto-reply", false),
    case("mailing-list.eml", &["not-answered"], "list", false),
    case(
        "empty.eml",
        &["empty", "no-sender", "no-message-id"],
        "reporter",
        true,
    ),
    case("binary-garbage.eml", &["no-sender"], "reporter", true),
    case(
        "generated-1mb-header.eml",
        &["header-too-large"],
        "reporter",
        true,
    ),
    case(
        "generated-deep-nesting.eml",
        &["mime-too-deep"],
        "reporter",
        true,
    ),
    case("generated-25mb-attachment.eml", &[], "reporter", true),
];

const ATTACHMENT_SIZE: usize = 25 << 20;

fn attachment_bytes() -> Vec<u8> {
    // Deterministic, incompressible-looking bytes (xorshift).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..ATTACHMENT_SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn generated(name: &str) -> Vec<u8> {
    let head = "From: gen@researcher.example\nTo: security@example.org\nDate: Mon, 23 Nov 2026 11:00:00 +0000\nMIME-Version: 1.0\n";
    match name {
        "generated-1mb-header.eml" => {
            let mut s = format!(
                "{head}Message-ID: <big-header@researcher.example>\nSubject: Huge header\nX-Padding: start\n"
            );
            while s.len() < 1 << 20 {
                s.push_str(" padding padding padding padding padding padding padding padding\n");
            }
            s.push_str("\nbody\n");
            s.into_bytes()
        }
        "generated-deep-nesting.eml" => {
            let mut s = format!("{head}Message-ID: <deep@researcher.example>\nSubject: Deep\n");
            for i in 0..200 {
                s.push_str(&format!(
                    "Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"
                ));
            }
            s.push_str("Content-Type: text/plain\n\nat the bottom\n");
            for i in (0..200).rev() {
                s.push_str(&format!("--b{i}--\n"));
            }
            s.into_bytes()
        }
        "generated-25mb-attachment.eml" => {
            use base64_lines::encode;
            let mut s = format!(
                "{head}Message-ID: <big-attachment@researcher.example>\nSubject: Video PoC\n\
Content-Type: multipart/mixed; boundary=\"X\"\n\n--X\nContent-Type: text/plain\n\nVideo attached.\n\
--X\nContent-Type: video/mp4; name=\"poc.mp4\"\nContent-Disposition: attachment; filename=\"poc.mp4\"\n\
Content-Transfer-Encoding: base64\n\n"
            );
            encode(&attachment_bytes(), &mut s);
            s.push_str("--X--\n");
            s.into_bytes()
        }
        other => panic!("unknown generated file {other}"),
    }
}

/// A tiny base64 encoder for the generator (76-character lines, LF).
mod base64_lines {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(data: &[u8], out: &mut String) {
        for line in data.chunks(57) {
            for chunk in line.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for i in 0..4 {
                    if i <= chunk.len() {
                        out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                    } else {
                        out.push('=');
                    }
                }
            }
            out.push('\n');
        }
    }
}

fn load(case: &Case, crlf: bool) -> Vec<u8> {
    let bytes = if case.file.starts_with("generated-") {
        generated(case.file)
    } else {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/corpus")
            .join(case.file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    if crlf && case.file != "binary-garbage.eml" {
        let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 20);
        for &b in &bytes {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
        out
    } else {
        bytes
    }
}

fn run_corpus(crlf: bool) {
    let committed =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus"))
            .expect("corpus dir")
            .count();
    assert!(committed >= 15, "the corpus is missing files");
    assert_eq!(
        committed,
        CASES
            .iter()
            .filter(|c| !c.file.starts_with("generated-"))
            .count(),
        "every corpus file needs an expectation"
    );

    let env = Env::with_file_transport("");
    env.init();
    let mut delivered = Vec::new();
    for case in CASES {
        let bytes = load(case, crlf);
        let name = env.deliver(&bytes);
        delivered.push((case, name, bytes));
    }
    env.run_once();
    assert_eq!(env.count_files("maildir/new"), 0);

    let store = env.store();
    let mut messages = store.read().all_messages().expect("messages");
    let limits = disclosed::config::Limits::default();
    disclosed::cli::fill_text(&store, &mut messages, &limits).expect("text");
    assert_eq!(
        messages.len(),
        CASES.len(),
        "every message stored exactly once"
    );
    for (case, name, bytes) in &delivered {
        let m = messages
            .iter()
            .find(|m| &m.location == name)
            .unwrap_or_else(|| panic!("{} not stored", case.file));
        let codes: Vec<&str> = m
            .problems
            .iter()
            .map(|p| p.split(':').next().unwrap_or(""))
            .collect();
        for want in case.problems {
            assert!(
                codes.contains(want),
                "{} (crlf={crlf}): {want} missing in {:?}",
                case.file,
                m.problems
            );
        }
        assert_eq!(m.kind, case.kind, "{}", case.file);
        assert_eq!(m.report_id.is_some(), case.opens_report, "{}", case.file);
        if let Some(subject) = case.subject {
            assert_eq!(m.subject, subject, "{}", case.file);
        }
        if let Some(text) = case.text {
            assert!(m.text.contains(text), "{}: {:?}", case.file, m.text);
        }
        let raw = store
            .read()
            .raw_message(&m.sha256)
            .expect("read")
            .expect("raw stored");
        assert!(raw == *bytes, "{}: raw bytes differ", case.file);
    }

    let big = messages
        .iter()
        .find(|m| m.subject == "Video PoC")
        .expect("25 MB message");
    assert_eq!(big.attachments.len(), 1);
    assert_eq!(big.attachments[0].size, ATTACHMENT_SIZE as u64);
    assert_eq!(big.attachments[0].name.as_deref(), Some("poc.mp4"));
    assert_eq!(
        big.attachments[0].sha256,
        disclosed::parse::sha256_hex(&attachment_bytes())
    );

    // Reports with a sender were acknowledged; the rest say why not.
    let with_sender = delivered
        .iter()
        .filter(|(c, _, _)| c.opens_report && !c.problems.contains(&"no-sender"))
        .count();
    let (team, outside): (Vec<_>, Vec<_>) = env
        .sent()
        .into_iter()
        .map(|(_, raw)| raw)
        .partition(|raw| header(raw, "To").is_some_and(|to| to.contains(ALICE)));
    assert_eq!(outside.len(), with_sender);
    // The team hears of every report, with or without a sender, and Alice (no
    // key) gets metadata only: none of the reports' subjects or text.
    let opened = CASES.iter().filter(|c| c.opens_report).count();
    assert_eq!(team.len(), opened);
    let secrets: Vec<&str> = CASES
        .iter()
        .flat_map(|c| [c.subject, c.text])
        .flatten()
        .chain([
            "Video PoC",
            "Video attached",
            "poc.mp4",
            "Huge header",
            "at the bottom",
        ])
        .collect();
    for raw in &team {
        let id = parse_subject(raw)
            .and_then(|s| {
                s.strip_prefix('[')
                    .and_then(|s| s.split(']').next())
                    .map(str::to_owned)
            })
            .expect("a report tag in the subject");
        assert_metadata_only(raw, &id, &secrets);
    }
}

#[test]
fn corpus_with_lf_line_endings() {
    run_corpus(false);
}

#[test]
fn corpus_with_crlf_line_endings() {
    run_corpus(true);
}
