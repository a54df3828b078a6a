//! What a message may cost: mail that inflates when decrypted is held one
//! message at a time, and attachments past a size or a report's or a
//! sender's quota are kept once, in the store, instead of being mailed to
//! each member; `disclosed attachment` writes them out.

use std::process::Command;

use crate::common::{ALICE, BIN, Env, body_text, y};
use crate::pgp::{
    Algo, Gpg, Part, encrypted_payload, headers, inner_entity, mail_with, pgp_mime, text_entity,
    write_secret,
};

const RITA_FROM: &str = "Rita Reporter <rita@researcher.example>";
const TEAM_UID: &str = "Example Security <security@example.org>";

/// An installation whose team key is `team.key` and whose member Alice has a
/// key (so she gets the report's content and attachments), with `limits`
/// as the `[limits]` section. Returns it with the team's and Alice's GnuPG.
fn installation(limits: &str) -> (Env, Gpg, String, Gpg) {
    let team = Gpg::new();
    let team_fpr = team.generate(TEAM_UID, Algo::Curve25519);
    let alice = Gpg::new();
    let alice_fpr = alice.generate("Alice <alice@example.org>", Algo::Curve25519);
    alice.import(&team.export_public(&team_fpr));
    let env = Env::new(&format!(
        "key = \"alice.asc\"\n[transport]\nkind = \"file\"\ndir = \"outbox\"\n\
         [openpgp]\nsecret_keys = [\"team.key\"]\n[limits]\n{limits}\n"
    ));
    write_secret(&env.path("team.key"), &team.export_secret(&team_fpr));
    std::fs::write(env.path("alice.asc"), alice.export_public(&alice_fpr)).expect("write");
    env.init();
    (env, team, team_fpr, alice)
}

/// What Alice reads of each notification: the decrypted entities.
fn alices_notifications(env: &Env, alice: &Gpg) -> Vec<Vec<u8>> {
    env.sent_to(ALICE)
        .iter()
        .map(|mail| alice.decrypt(&encrypted_payload(mail)).0)
        .collect()
}

fn attachments_of(entity: &[u8]) -> Vec<(Option<String>, Vec<u8>)> {
    use mail_parser::MimeHeaders;
    let parsed = mail_parser::MessageParser::default()
        .parse(entity)
        .expect("the notification parses");
    parsed
        .attachments()
        .map(|a| {
            (
                a.attachment_name().map(str::to_owned),
                a.contents().to_vec(),
            )
        })
        .collect()
}

/// Runs `disclosed attachment REPORT N --output FILE` and returns the file.
fn fetch(env: &Env, report: &str, n: u32) -> Vec<u8> {
    let out = env.path(&format!("fetched-{n}.bin"));
    env.ok(&[
        "attachment",
        report,
        &n.to_string(),
        "--output",
        out.to_str().expect("path"),
    ]);
    std::fs::read(out).expect("the fetched attachment")
}

/// Bytes that do not compress to nothing, so that sizes stay honest.
fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[0] ^ seed)
        .collect()
}

fn report_with_attachment(data: &[u8], id: &str) -> Vec<u8> {
    mail_with(
        &headers(RITA_FROM, "Heap overflow in the parser", id, ""),
        &text_entity(
            "The parser overflows; the proof of concept is attached.\n",
            &[Part {
                name: "poc.bin",
                content_type: "application/octet-stream",
                data,
            }],
        ),
    )
}

#[test]
fn an_attachment_under_the_quota_still_reaches_each_member_encrypted() {
    let (env, _team, _fpr, alice) = installation("");
    let poc = payload(20 << 10, 1);
    env.deliver(&report_with_attachment(&poc, "small@researcher.example"));
    env.run_once();

    let notices = alices_notifications(&env, &alice);
    assert_eq!(notices.len(), 1);
    assert_eq!(
        attachments_of(&notices[0]),
        [(Some("poc.bin".to_owned()), poc)]
    );
    let text = body_text(&notices[0]);
    assert!(!text.contains("withheld"), "{text}");
}

#[test]
fn past_the_report_quota_members_get_a_fetch_command_not_a_copy() {
    let (env, _team, _fpr, alice) = installation("max_report_attachment_bytes = \"16 KiB\"");
    let poc = payload(20 << 10, 2);
    env.deliver(&report_with_attachment(&poc, "big@researcher.example"));
    env.run_once();

    let notices = alices_notifications(&env, &alice);
    assert_eq!(notices.len(), 1);
    assert!(attachments_of(&notices[0]).is_empty(), "a copy was mailed");
    let text = body_text(&notices[0]);
    let command = y("disclosed attachment SEC-2026-0001 1 --output FILE");
    assert!(text.contains("withheld"), "{text}");
    assert!(text.contains(&command), "no fetch command in:\n{text}");
    // The outbox grew by the notice, not by the attachment.
    let sent: usize = env.sent().iter().map(|(_, raw)| raw.len()).sum();
    assert!(sent < poc.len(), "{sent} bytes sent");

    assert_eq!(
        fetch(&env, &y("SEC-2026-0001"), 1),
        poc,
        "not byte for byte"
    );
}

#[test]
fn an_attachment_over_the_mailed_size_is_withheld_and_a_small_one_beside_it_is_mailed() {
    let (env, _team, _fpr, alice) = installation("max_mailed_attachment_size = \"64 KiB\"");
    let small = payload(1 << 10, 3);
    let large = payload(100 << 10, 4);
    env.deliver(&mail_with(
        &headers(RITA_FROM, "Two files", "two@researcher.example", ""),
        &text_entity(
            "Logs and a core dump.\n",
            &[
                Part {
                    name: "log.txt",
                    content_type: "text/plain",
                    data: &small,
                },
                Part {
                    name: "core.bin",
                    content_type: "application/octet-stream",
                    data: &large,
                },
            ],
        ),
    ));
    env.run_once();

    let notices = alices_notifications(&env, &alice);
    assert_eq!(notices.len(), 1);
    let mailed = attachments_of(&notices[0]);
    assert_eq!(
        mailed.len(),
        1,
        "{:?}",
        mailed.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    assert_eq!(mailed[0].0.as_deref(), Some("log.txt"));
    let text = body_text(&notices[0]);
    assert!(
        text.contains(&y("disclosed attachment SEC-2026-0001 2 --output FILE")),
        "{text}"
    );
    assert_eq!(fetch(&env, &y("SEC-2026-0001"), 2), large);
}

/// A PGP/MIME mail of a few kilobytes: `entity` compressed with bzip2 and
/// encrypted to the team.
fn bzip2_bomb(team: &Gpg, fpr: &str, entity: &[u8], id: &str) -> Vec<u8> {
    let armored = team.run(
        &[
            "--compress-algo",
            "bzip2",
            "-z",
            "9",
            "--armor",
            "--recipient",
            fpr,
            "--encrypt",
        ],
        entity,
    );
    pgp_mime(&headers(RITA_FROM, "...", id, ""), &armored)
}

/// A MIME entity with a base64 attachment of `len` zero bytes.
fn zeros_entity(len: usize) -> (Vec<u8>, Vec<u8>) {
    let zeros = vec![0u8; len];
    let entity = inner_entity(
        "Crash",
        RITA_FROM,
        "A file that crashes the parser.\n",
        &[Part {
            name: "crash.bin",
            content_type: "application/octet-stream",
            data: &zeros,
        }],
    );
    (entity, zeros)
}

#[test]
fn a_batch_of_decompression_bombs_is_held_one_at_a_time() {
    let (env, team, fpr, _alice) = installation("");
    let (entity, _) = zeros_entity(6 << 20);
    for n in 0..3 {
        let bomb = bzip2_bomb(&team, &fpr, &entity, &format!("bomb{n}@researcher.example"));
        assert!(bomb.len() < 16 << 10, "{} bytes", bomb.len());
        env.deliver(&bomb);
    }
    let out = Command::new(BIN)
        .arg("--config")
        .arg(env.config())
        .args(["run", "--once"])
        .env("RUST_LOG", "disclosed::daemon=debug")
        .env("NO_COLOR", "1")
        .output()
        .expect("run disclosed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    let batches: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("batch committed"))
        .collect();
    // 8 MiB of decrypted data each: every bomb is a batch of its own.
    assert_eq!(batches.len(), 3, "{log}");
    assert!(
        batches.iter().all(|l| l.contains("messages=1")),
        "{batches:?}"
    );
    assert_eq!(env.messages().len(), 3);
}

#[test]
fn past_the_sender_quota_no_decrypted_copy_is_kept_and_the_fetch_command_decrypts() {
    let (env, team, fpr, alice) = installation("max_sender_bytes_per_day = \"3 MiB\"");
    let (entity, zeros) = zeros_entity(1 << 20);
    for n in 0..3 {
        env.deliver(&bzip2_bomb(
            &team,
            &fpr,
            &entity,
            &format!("q{n}@researcher.example"),
        ));
    }
    env.run_once();

    let store = env.store();
    let messages = env.messages();
    assert_eq!(messages.len(), 3);
    let kept: Vec<bool> = messages
        .iter()
        .map(|m| {
            store
                .read()
                .decrypted_message(m.id)
                .expect("read")
                .is_some()
        })
        .collect();
    // About 1.4 MiB each once decrypted: two fit in 3 MiB, the third does not.
    assert_eq!(kept, [true, true, false]);
    // Past the quota, Alice is not mailed the attachment either.
    let report = y("SEC-2026-0003");
    let notices = alices_notifications(&env, &alice);
    assert_eq!(notices.len(), 3);
    let third: Vec<&Vec<u8>> = notices
        .iter()
        .filter(|n| body_text(n).contains(&report))
        .collect();
    assert_eq!(third.len(), 1);
    assert!(attachments_of(third[0]).is_empty());
    assert!(body_text(third[0]).contains("withheld"));
    // Still readable by the team: decrypted again with the team key.
    assert_eq!(fetch(&env, &report, 1), zeros);
    let shown = env.ok(&["report", &report]);
    assert!(
        shown.contains("A file that crashes the parser."),
        "the text is not shown:\n{shown}"
    );
}
