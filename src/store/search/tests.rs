use jiff::Timestamp;

use super::*;
use crate::store::{MessageCrypto, NewMessage, OpenMode, ThreadedBy};

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + s).expect("time")
}

fn all(store: &Store, text: &str, confidential: bool) -> SearchResults {
    let query = SearchQuery::parse(text).expect("query");
    store
        .read()
        .search(
            &query,
            &SearchFilter {
                state: None,
                limit: 20,
                confidential,
                snippets: true,
            },
        )
        .expect("search")
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.report.as_str()).collect()
}

fn mail(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Rita Reporter <rita@researcher.example>\r\nTo: security@example.org\r\n\
         Subject: {subject}\r\nMessage-ID: <{}@x>\r\n\r\n{body}\r\n",
        crate::parse::sha256_hex(body.as_bytes())
    )
    .into_bytes()
}

/// Stores `raw` as a message of `report`; with `decrypted`, as an encrypted
/// one whose readable entity that is.
fn store_message(
    tx: &Tx<'_>,
    report: &ReportId,
    subject: &str,
    raw: &[u8],
    decrypted: Option<&[u8]>,
) -> i64 {
    let sha = crate::parse::sha256_hex(raw);
    let id = tx
        .insert_message(&NewMessage {
            sha256: &sha,
            raw: Some(raw),
            size: raw.len() as u64,
            source: "test",
            location: "m",
            message_id: None,
            in_reply_to: None,
            references: &[],
            from_addr: Some("rita@researcher.example"),
            from_name: Some("Rita Reporter"),
            to_addrs: &[],
            subject,
            date: None,
            kind: "report",
            report_id: Some(report),
            threaded_by: ThreadedBy::NewReport,
            problems: &[],
            received_at: at(0),
        })
        .expect("insert");
    if let Some(entity) = decrypted {
        tx.record_message_crypto(
            id,
            &MessageCrypto {
                form: "pgp-mime",
                encryption: "decrypted",
                encryption_detail: None,
                signature: "none",
                signer: None,
                signer_matches_from: None,
                decrypted: Some(entity),
            },
        )
        .expect("crypto");
    }
    id
}

/// Report 1: plain mail about an SQL injection. Report 2: encrypted mail
/// whose decrypted text tells of an RCE in the image resizer.
fn two_reports() -> Store {
    let mut store = Store::open_in_memory().expect("store");
    store
        .write(|w| {
            let tx = w.tx();
            let one = tx.create_report(
                "SEC",
                2026,
                "rita@researcher.example",
                "SQL injection",
                at(0),
            )?;
            store_message(
                &tx,
                &one,
                "SQL injection",
                &mail(
                    "SQL injection",
                    "The q parameter is concatenated unescaped.",
                ),
                None,
            );
            tx.upsert_participant(
                &one,
                "rita@researcher.example",
                Some("Rita Reporter"),
                "reporter",
                at(0),
            )?;
            let two =
                tx.create_report("SEC", 2026, "sam@example.net", "Encrypted report", at(1))?;
            let ciphertext = mail(
                "...",
                "-----BEGIN PGP MESSAGE-----\r\nhQEMA8zzzz\r\n-----END PGP MESSAGE-----",
            );
            store_message(
                &tx,
                &two,
                "Resizer",
                &ciphertext,
                Some(&mail(
                    "Resizer",
                    "A crafted SVG runs code in the imagemagick resizer.",
                )),
            );
            tx.set_cve(&two, "CVE-2026-4242")?;
            Ok::<_, StoreError>(())
        })
        .expect("write");
    store
}

#[test]
fn words_of_subjects_text_people_and_ids_are_found_with_a_snippet() {
    let store = two_reports();
    let found = all(&store, "concatenated", true);
    assert_eq!(ids(&found), ["SEC-2026-0001"]);
    assert!(!found.more);
    let snippet = found.hits[0].snippet.as_deref().expect("snippet");
    assert!(snippet.contains("[concatenated]"), "{snippet}");
    assert_eq!(ids(&all(&store, "from:sam", true)), ["SEC-2026-0002"]);
    assert_eq!(
        ids(&all(&store, "\"Rita Reporter\"", false)),
        ["SEC-2026-0001"]
    );
    assert_eq!(
        ids(&all(&store, "cve:CVE-2026-4242", true)),
        ["SEC-2026-0002"]
    );
    assert_eq!(ids(&all(&store, "SEC-2026-0002", true)), ["SEC-2026-0002"]);
    assert_eq!(ids(&all(&store, "imagemagick", true)), ["SEC-2026-0002"]);
    assert_eq!(
        ids(&all(&store, "sql -concatenated", true)),
        Vec::<&str>::new()
    );
}

#[test]
fn decrypted_text_is_not_searched_for_an_answer_in_clear() {
    let store = two_reports();
    // The same words, searched for someone who would read the answer in clear.
    for query in ["imagemagick", "subject:resizer", "crafted SVG"] {
        assert!(all(&store, query, false).hits.is_empty(), "{query}");
    }
    // Nor is anything else of that report: who reported it, its ids.
    for query in ["CVE-2026-4242", "from:sam", "SEC-2026-0002"] {
        assert!(all(&store, query, false).hits.is_empty(), "{query}");
        assert_eq!(ids(&all(&store, query, true)), ["SEC-2026-0002"], "{query}");
    }
    // The plain report is.
    assert_eq!(ids(&all(&store, "SEC-2026-0001", false)), ["SEC-2026-0001"]);
    // The ciphertext was never indexed as text.
    assert!(all(&store, "hQEMA8zzzz", true).hits.is_empty());
}

#[test]
fn report_fields_are_indexed_as_they_change() {
    let mut store = two_reports();
    assert!(all(&store, "tag:rce", true).hits.is_empty());
    store
        .write(|w| {
            let tx = w.tx();
            let id = ReportId::from_stored("SEC-2026-0001".to_owned());
            tx.add_tags(&id, &["rce".to_owned()])?;
            tx.set_cwe(&id, Some("CWE-89"))?;
            tx.set_public_summary(&id, Some("Blind injection in the search form"))?;
            Ok::<_, StoreError>(())
        })
        .expect("write");
    assert_eq!(ids(&all(&store, "tag:rce", true)), ["SEC-2026-0001"]);
    assert_eq!(ids(&all(&store, "CWE-89", true)), ["SEC-2026-0001"]);
    assert_eq!(ids(&all(&store, "summary:blind", true)), ["SEC-2026-0001"]);
}

#[test]
fn an_injection_attempt_reads_no_other_column_and_does_not_fail() {
    let store = two_reports();
    for text in [
        r#""x" OR subject:*"#,
        "confidential:0",
        "NEAR(sql concatenated)",
        "{body people}: sql",
        "sql AND OR NOT",
        "rowid:1 OR 1=1",
        "search_text:*",
    ] {
        let query = SearchQuery::parse(text).expect("a query of words");
        store
            .read()
            .search(
                &query,
                &SearchFilter {
                    state: None,
                    limit: 5,
                    confidential: false,
                    snippets: true,
                },
            )
            .unwrap_or_else(|err| panic!("{text}: {err}"));
    }
    // None of them finds the encrypted report's text for an answer in clear.
    assert!(all(&store, "NEAR(crafted SVG)", false).hits.is_empty());
}

#[test]
fn messages_stored_before_the_index_are_indexed_when_the_store_opens() {
    let mut store = two_reports();
    store
        .conn
        .execute_batch(
            "DELETE FROM search_text; DELETE FROM search_docs WHERE message IS NOT NULL;
                        INSERT INTO search_pending (message) SELECT id FROM messages;",
        )
        .expect("forget the index");
    assert!(all(&store, "concatenated", true).hits.is_empty());
    assert_eq!(store.index_backlog().expect("backfill"), 2);
    assert_eq!(ids(&all(&store, "concatenated", true)), ["SEC-2026-0001"]);
    assert_eq!(ids(&all(&store, "imagemagick", true)), ["SEC-2026-0002"]);
    assert!(all(&store, "imagemagick", false).hits.is_empty());
}

#[test]
fn only_the_first_part_of_a_huge_text_is_indexed() {
    let text = format!("start {} needle", "word ".repeat(MAX_INDEXED_BYTES / 5));
    let indexed = readable_text(&mail("big", &text));
    assert!(indexed.len() <= MAX_INDEXED_BYTES);
    assert!(indexed.starts_with("start"));
    assert!(!indexed.contains("needle"));
}

#[test]
fn a_store_from_before_the_index_is_searchable_once_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        // Version 16 creates the index: stop just before it.
        let before = &crate::store::migrations::MIGRATIONS[..15];
        rusqlite_migration::Migrations::from_slice(before)
            .to_latest(&mut conn)
            .expect("the schema before the index");
        let raw = mail(
            "Resizer",
            "A crafted SVG runs code in the imagemagick resizer.",
        );
        conn.execute_batch(
            "INSERT INTO reports (id, year, seq, reporter, subject, created_at, updated_at, cve)
                 VALUES ('SEC-2026-0001', 2026, 1, 'sam@example.net', 'Plain', 0, 0, 'CVE-2026-1'),
                        ('SEC-2026-0002', 2026, 2, 'rita@researcher.example', '...', 0, 0, NULL);
             INSERT INTO messages (id, sha256, size, source, location, subject, kind,
                     report_id, threaded_by, received_at, encryption)
                 VALUES (1, 'a', 1, 't', 'm', 'Crash', 'report', 'SEC-2026-0001', 'new-report', 0, 'none'),
                        (2, 'b', 1, 't', 'm', 'Resizer', 'report', 'SEC-2026-0002', 'new-report', 0, 'decrypted');
             INSERT INTO raw_messages (message, data)
                 VALUES (1, CAST('Subject: Crash

The resizer crashes on a zero-width PNG.' AS BLOB)),
                        (2, CAST('-----BEGIN PGP MESSAGE----- hQEMA8zzzz' AS BLOB));",
        )
        .expect("rows of the old schema");
        conn.execute(
            "INSERT INTO decrypted_messages (message, data) VALUES (2, ?1)",
            [&raw],
        )
        .expect("the decrypted entity");
    }
    let store = Store::open(&path, OpenMode::Existing).expect("migrated");
    assert_eq!(ids(&all(&store, "zero-width", false)), ["SEC-2026-0001"]);
    assert_eq!(ids(&all(&store, "CVE-2026-1", false)), ["SEC-2026-0001"]);
    assert_eq!(ids(&all(&store, "imagemagick", true)), ["SEC-2026-0002"]);
    assert!(all(&store, "imagemagick", false).hits.is_empty());
    assert!(all(&store, "from:rita", false).hits.is_empty());
    assert!(all(&store, "hQEMA8zzzz", true).hits.is_empty());
    let pending: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM search_pending", [], |row| row.get(0))
        .expect("count");
    assert_eq!(pending, 0);
}
