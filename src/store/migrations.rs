//! The schema, as forward-only migrations. Each runs in its own transaction with its
//! version bump (`PRAGMA user_version`); a database newer than this code is refused.

use rusqlite_migration::{M, Migrations};

pub(crate) const V1: &str = r#"
CREATE TABLE reports (
    id          TEXT PRIMARY KEY,
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'new',
    reporter    TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (year, seq)
) STRICT;

-- One row per distinct message content; sha256 is the dedupe key. The raw bytes
-- live in raw_messages unless the message was too large to load (then `location`
-- says where it still is on the source). The readable text is not stored: it is
-- derived from the raw bytes when shown, so the raw message stays the one truth
-- and each message is written once, not twice.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL UNIQUE,
    size         INTEGER NOT NULL,
    source       TEXT NOT NULL,
    location     TEXT NOT NULL,
    message_id   TEXT,
    in_reply_to  TEXT,
    refs         TEXT NOT NULL DEFAULT '[]',
    from_addr    TEXT,
    from_name    TEXT,
    to_addrs     TEXT NOT NULL DEFAULT '[]',
    subject      TEXT NOT NULL DEFAULT '',
    date         INTEGER,
    kind         TEXT NOT NULL,
    report_id    TEXT REFERENCES reports(id),
    threaded_by  TEXT NOT NULL,
    problems     TEXT NOT NULL DEFAULT '[]',
    received_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_message_id ON messages (message_id);

-- The bytes as received, apart from the metadata so that scans stay small.
CREATE TABLE raw_messages (
    message     INTEGER PRIMARY KEY REFERENCES messages(id),
    data        BLOB NOT NULL
) STRICT;
CREATE INDEX messages_report ON messages (report_id);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    message       INTEGER NOT NULL REFERENCES messages(id),
    name          TEXT,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL
) STRICT;
CREATE INDEX attachments_message ON attachments (message);

CREATE TABLE participants (
    report_id   TEXT NOT NULL REFERENCES reports(id),
    address     TEXT NOT NULL,
    name        TEXT,
    role        TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (report_id, address)
) STRICT;

-- Append-only audit log: who did what, when, how authenticated, from which message.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    report_id   TEXT REFERENCES reports(id),
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    auth        TEXT NOT NULL DEFAULT 'none',
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}',
    message     INTEGER REFERENCES messages(id)
) STRICT;
CREATE INDEX events_report ON events (report_id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

-- Outgoing mail is a row first: rendered, with its Message-ID fixed, before any
-- transport sees it.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    report_id        TEXT REFERENCES reports(id),
    kind             TEXT NOT NULL,
    message_id       TEXT NOT NULL UNIQUE,
    envelope_from    TEXT NOT NULL,
    recipients       TEXT NOT NULL,
    rate_key         TEXT,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (status, id, next_attempt_at);
CREATE INDEX outbox_rate ON outbox (rate_key, created_at) WHERE rate_key IS NOT NULL;

-- The rendered mail, apart from the row whose status changes.
CREATE TABLE outbox_raw (
    outbox      INTEGER PRIMARY KEY REFERENCES outbox(id),
    raw         BLOB NOT NULL
) STRICT;

-- Where each source got to (IMAP: UIDVALIDITY and last UID per mailbox).
CREATE TABLE source_cursors (
    source       TEXT NOT NULL,
    mailbox      TEXT NOT NULL,
    uidvalidity  INTEGER,
    last_uid     INTEGER,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (source, mailbox)
) STRICT;
"#;

// OpenPGP: what each message's encryption and signature were, the readable
// (decrypted) entity beside the raw bytes, the keys learned per address, and
// outgoing mail held until a reporter's key is known.
const V2: &str = r#"
ALTER TABLE messages ADD COLUMN crypto_form TEXT NOT NULL DEFAULT 'plain';
ALTER TABLE messages ADD COLUMN encryption TEXT NOT NULL DEFAULT 'none';
ALTER TABLE messages ADD COLUMN encryption_detail TEXT;
ALTER TABLE messages ADD COLUMN signature TEXT NOT NULL DEFAULT 'none';
ALTER TABLE messages ADD COLUMN signer TEXT;
ALTER TABLE messages ADD COLUMN signer_matches_from INTEGER;
CREATE INDEX messages_from_encrypted ON messages (from_addr) WHERE encryption != 'none';

-- The readable MIME entity of an encrypted (or inline-PGP) message: what the
-- team reads. The raw, still encrypted, bytes stay in raw_messages.
CREATE TABLE decrypted_messages (
    message     INTEGER PRIMARY KEY REFERENCES messages(id),
    data        BLOB NOT NULL
) STRICT;

-- Public keys of correspondents. One `current` key per address is used to
-- encrypt; a different key seen later is `pending` until the team accepts it.
CREATE TABLE participant_keys (
    id           INTEGER PRIMARY KEY,
    address      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    cert         BLOB NOT NULL,
    source       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('current', 'pending', 'replaced')),
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    message      INTEGER REFERENCES messages(id),
    UNIQUE (address, fingerprint)
) STRICT;
CREATE INDEX participant_keys_address ON participant_keys (address, status);

-- The outbox gains the status `needs-key`: SQLite cannot change a CHECK, so the
-- table is rebuilt (its rows copied as they are). outbox_raw is rebuilt with it,
-- children before parents, so no foreign key ever points nowhere.
CREATE TABLE outbox_v2 (
    id               INTEGER PRIMARY KEY,
    report_id        TEXT REFERENCES reports(id),
    kind             TEXT NOT NULL,
    message_id       TEXT NOT NULL UNIQUE,
    envelope_from    TEXT NOT NULL,
    recipients       TEXT NOT NULL,
    rate_key         TEXT,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sent', 'failed', 'needs-key')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
) STRICT;
INSERT INTO outbox_v2 (id, report_id, kind, message_id, envelope_from, recipients, rate_key,
    status, attempts, next_attempt_at, last_error, created_at, sent_at)
    SELECT id, report_id, kind, message_id, envelope_from, recipients, rate_key,
        status, attempts, next_attempt_at, last_error, created_at, sent_at FROM outbox;
CREATE TABLE outbox_raw_v2 (
    outbox      INTEGER PRIMARY KEY REFERENCES outbox_v2(id),
    raw         BLOB NOT NULL
) STRICT;
INSERT INTO outbox_raw_v2 (outbox, raw) SELECT outbox, raw FROM outbox_raw;
DROP TABLE outbox_raw;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
ALTER TABLE outbox_raw_v2 RENAME TO outbox_raw;
CREATE INDEX outbox_due ON outbox (status, id, next_attempt_at);
CREATE INDEX outbox_rate ON outbox (rate_key, created_at) WHERE rate_key IS NOT NULL;
"#;

// The team's work on a report (commands and triage rules), and the authenticated
// command mails already applied, so that a replayed one changes nothing.
const V3: &str = r#"
ALTER TABLE reports ADD COLUMN severity TEXT;
ALTER TABLE reports ADD COLUMN cvss_vector TEXT;
ALTER TABLE reports ADD COLUMN cvss_score REAL;
ALTER TABLE reports ADD COLUMN cvss_severity TEXT;
ALTER TABLE reports ADD COLUMN assignee TEXT;
ALTER TABLE reports ADD COLUMN duplicate_of TEXT REFERENCES reports(id);
ALTER TABLE reports ADD COLUMN cve TEXT;
-- `unknown` until the reporter or the team says; `none`: not to be credited.
ALTER TABLE reports ADD COLUMN credit TEXT NOT NULL DEFAULT 'unknown'
    CHECK (credit IN ('unknown', 'named', 'none'));
ALTER TABLE reports ADD COLUMN credit_name TEXT;
ALTER TABLE reports ADD COLUMN credit_url TEXT;
ALTER TABLE reports ADD COLUMN fixed_in TEXT;
-- A civil date (YYYY-MM-DD) in the program's time zone.
ALTER TABLE reports ADD COLUMN disclose_on TEXT;
ALTER TABLE reports ADD COLUMN fix_extension_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

CREATE TABLE applied_commands (
    key      TEXT PRIMARY KEY,
    message  INTEGER NOT NULL REFERENCES messages(id),
    at       INTEGER NOT NULL
) STRICT;
"#;

// The SLA engine's memory of the reminders, escalations and digests it sent,
// so each goes out once however often it ticks. `report_id` is '' for a digest;
// `due` is the deadline (or the digest's scheduled time) it was about.
const V4: &str = r#"
CREATE TABLE sla_notices (
    report_id  TEXT NOT NULL,
    deadline   TEXT NOT NULL,
    due        INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('reminder', 'escalation', 'digest')),
    at         INTEGER NOT NULL,
    PRIMARY KEY (report_id, deadline, due, kind)
) STRICT;
CREATE INDEX events_kind ON events (kind, report_id);
"#;

// Each outgoing mail's own return path: the random token in its envelope
// sender (`security+bounce-<token>@…`), by which a bounce finds the one mail
// it returns. Mail queued before has none, so bounces of it stay unattached.
const V5: &str = r#"
ALTER TABLE outbox ADD COLUMN return_token TEXT;
CREATE UNIQUE INDEX outbox_return_token ON outbox (return_token) WHERE return_token IS NOT NULL;
"#;

// Keys are trusted only after proof. Each learned key gets a trust level:
// `keyring` (configured by the team), `confirmed` (a round trip through the
// address's mailbox, or the team's `key accept`), or, unproven, where it came
// from (`signed` the mail that carried it, `encrypted` inside it, `attached`,
// `autocrypt`). Existing keys take the level of their origin; those the team
// accepted with `key accept` are `confirmed`. The confirmation tokens sent to
// prove a key are stored hashed, single-use and with an expiry.
const V6: &str = r#"
ALTER TABLE participant_keys ADD COLUMN trust TEXT NOT NULL DEFAULT 'attached'
    CHECK (trust IN ('keyring', 'confirmed', 'signed', 'encrypted', 'attached', 'autocrypt'));
UPDATE participant_keys SET trust = CASE source
    WHEN 'keyring' THEN 'keyring'
    WHEN 'autocrypt' THEN 'autocrypt'
    WHEN 'encrypted-attachment' THEN 'encrypted'
    ELSE 'attached' END;
UPDATE participant_keys SET trust = 'confirmed'
    WHERE trust != 'keyring' AND EXISTS (
        SELECT 1 FROM events e WHERE e.kind = 'key-accepted'
            AND json_extract(e.detail, '$.address') = participant_keys.address
            AND json_extract(e.detail, '$.fingerprint') = participant_keys.fingerprint);

CREATE TABLE key_confirmations (
    id            INTEGER PRIMARY KEY,
    address       TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    token_sha256  TEXT NOT NULL UNIQUE,
    report_id     TEXT REFERENCES reports(id),
    outbox        INTEGER NOT NULL REFERENCES outbox(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    used_by       INTEGER REFERENCES messages(id),
    outcome       TEXT CHECK (outcome IN ('confirmed', 'exposed'))
) STRICT;
CREATE INDEX key_confirmations_key ON key_confirmations (address, fingerprint);
"#;

// What the team was sent, as fingerprints only (16-byte SHA-256 prefixes of
// folded lines, never text): of every mail to a member, per report ('' for mail
// about no single report), and of the lines a member relayed that no team mail
// had carried before. A relay that carries the team's lines is held back.
const V7: &str = r#"
CREATE TABLE team_lines (
    fingerprint  BLOB NOT NULL CHECK (length(fingerprint) = 16),
    report_id    TEXT NOT NULL DEFAULT '',
    first_seen   INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, report_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE relayed_lines (
    fingerprint  BLOB NOT NULL CHECK (length(fingerprint) = 16),
    author       TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, author)
) STRICT, WITHOUT ROWID;
"#;

// A sender claims the queued rows it hands to a transport, so that no row goes
// out from two processes at once: `claimed_by` names the claiming process (its
// token, held alive by a kernel lock next to the database), `claimed_until` is
// the lease after which the claim lapses even if that process cannot be checked.
// Recording a result (sent, retry, failed) clears the claim.
const V8: &str = r#"
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
CREATE INDEX outbox_claims ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;
"#;

// Counters for the flood limits: how many automatic replies and team notices
// one key (a sender's mailbox, or everyone) caused, per minute, so a limit is a
// sum over the window's minutes however many mails arrived.
const V9: &str = r#"
CREATE TABLE rate_counts (
    key     TEXT NOT NULL,
    minute  INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (key, minute)
) STRICT, WITHOUT ROWID;
CREATE INDEX rate_counts_minute ON rate_counts (minute);
"#;

// What one sender added to the store in a day is summed on every message they
// send (the per-sender quota): an index keeps that from scanning every message.
const V10: &str = r#"
CREATE INDEX messages_from_received ON messages (from_addr, received_at);
"#;

// What a disclosure publishes about a report, set by the team's commands:
// the products and version ranges it affects (a JSON list of
// `{"product", "versions"}`), its CWE, the summary written for publication,
// why the risk was accepted, and for the credit an affiliation and the stable
// key credits of one person merge by (NULL: derived from the credit name).
const V11: &str = r#"
ALTER TABLE reports ADD COLUMN affects TEXT NOT NULL DEFAULT '[]';
ALTER TABLE reports ADD COLUMN cwe TEXT;
ALTER TABLE reports ADD COLUMN public_summary TEXT;
ALTER TABLE reports ADD COLUMN risk_reason TEXT;
ALTER TABLE reports ADD COLUMN credit_affiliation TEXT;
ALTER TABLE reports ADD COLUMN credit_key TEXT;
"#;

// The expiry warnings sent: once per thing that expires (the published
// security.txt, the team's signing key) and expiry date, however often the
// daemon ticks or restarts.
const V12: &str = r#"
CREATE TABLE publication_notices (
    kind     TEXT NOT NULL CHECK (kind IN ('security-txt-expires', 'signing-key-expires')),
    expires  INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (kind, expires)
) STRICT, WITHOUT ROWID;
"#;

// The disclosure mail, each sent once: the team's mail on the disclosure date
// (`day` is that date, so a date moved by `#disclose` is mailed once more) and
// the bulletin to the announcement list when the report is disclosed (`day`
// is '': one per report, however often the command mail is replayed).
const V13: &str = r#"
CREATE TABLE disclosure_mail (
    report_id  TEXT NOT NULL REFERENCES reports(id),
    kind       TEXT NOT NULL CHECK (kind IN ('disclosure-day', 'bulletin')),
    day        TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (report_id, kind, day)
) STRICT, WITHOUT ROWID;
"#;

// `disclosed import`: what each run was told (the date before which nothing
// is ever answered, which the live daemon reads too), and the deadlines that
// were already past when their report was imported, never escalated.
const V14: &str = r#"
CREATE TABLE import_runs (
    id                INTEGER PRIMARY KEY,
    started_at        INTEGER NOT NULL,
    source            TEXT NOT NULL,
    state             TEXT NOT NULL,
    no_answer_before  INTEGER
) STRICT;
CREATE TABLE historical_breaches (
    report_id    TEXT NOT NULL REFERENCES reports (id),
    deadline     TEXT NOT NULL,
    due          INTEGER NOT NULL,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (report_id, deadline, due)
) STRICT, WITHOUT ROWID;
"#;

// The metrics endpoint counts messages by class and reports by state at
// every scrape: an index each keeps that off a table scan.
const V15: &str = r#"
CREATE INDEX messages_kind ON messages (kind);
CREATE INDEX reports_state ON reports (state);
"#;

// Full-text search (FTS5). One document per message (its subject, readable
// text and sender) and one per report (its people, ids, tags and public
// fields), each a row of `search_docs` whose id is the document's rowid in
// `search_text`. A message's report is looked up when searching, so a
// message moved to another report needs no new document. `confidential`
// marks a document holding decrypted text, or the document of a report some
// of whose mail was encrypted: it is never searched for a member who would
// read the answer in clear. Report documents are kept by
// the triggers below; message documents by the store code that writes the
// message, since the readable text is MIME the store must decode. Messages
// stored before are listed in `search_pending` and indexed when the store
// is next opened.
const V16: &str = r#"
CREATE TABLE search_docs (
    id            INTEGER PRIMARY KEY,
    report_id     TEXT,
    message       INTEGER,
    confidential  INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),
    CHECK ((report_id IS NULL) != (message IS NULL))
) STRICT;
CREATE UNIQUE INDEX search_docs_report ON search_docs (report_id) WHERE report_id IS NOT NULL;
CREATE UNIQUE INDEX search_docs_message ON search_docs (message) WHERE message IS NOT NULL;

CREATE VIRTUAL TABLE search_text USING fts5 (
    subject, body, people, ids, tags, public,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Ranking: bm25 with the columns weighted in order (subject, body, people,
-- ids, tags, public): a word in an id or a tag says more than one in a body.
INSERT INTO search_text (search_text, rank) VALUES ('rank', 'bm25(4.0, 1.0, 3.0, 8.0, 4.0, 2.0)');

CREATE TABLE search_pending (
    message  INTEGER PRIMARY KEY
) STRICT;
INSERT INTO search_pending (message) SELECT id FROM messages;

-- What a report's own document says. Stored JSON that is not valid adds
-- nothing rather than failing the write that changed the report.
CREATE VIEW search_report_text AS
SELECT r.id AS report_id,
    r.reporter || ' ' || COALESCE((SELECT group_concat(p.address || ' ' || COALESCE(p.name, ''), ' ')
        FROM participants p WHERE p.report_id = r.id), '') AS people,
    r.id || ' ' || COALESCE(r.cve, '') || ' ' || COALESCE(r.cwe, '') AS ids,
    CASE WHEN json_valid(r.tags)
        THEN COALESCE((SELECT group_concat(value, ' ') FROM json_each(r.tags)), '')
        ELSE '' END AS tags,
    COALESCE(r.public_summary, '') || ' ' || CASE WHEN json_valid(r.affects)
        THEN COALESCE((SELECT group_concat(json_extract(value, '$.product'), ' ')
            FROM json_each(r.affects)), '')
        ELSE '' END AS public
FROM reports r;

INSERT INTO search_docs (report_id, confidential)
    SELECT id, EXISTS (SELECT 1 FROM messages m WHERE m.report_id = reports.id
        AND m.encryption != 'none')
    FROM reports;
INSERT INTO search_text (rowid, subject, body, people, ids, tags, public)
    SELECT d.id, '', '', v.people, v.ids, v.tags, v.public
    FROM search_docs d JOIN search_report_text v ON v.report_id = d.report_id;

CREATE TRIGGER search_report_insert AFTER INSERT ON reports BEGIN
    INSERT INTO search_docs (report_id) VALUES (NEW.id);
    INSERT INTO search_text (rowid, subject, body, people, ids, tags, public)
        SELECT d.id, '', '', v.people, v.ids, v.tags, v.public
        FROM search_docs d JOIN search_report_text v ON v.report_id = d.report_id
        WHERE d.report_id = NEW.id;
END;
CREATE TRIGGER search_report_update
    AFTER UPDATE OF reporter, cve, cwe, tags, public_summary, affects ON reports BEGIN
    DELETE FROM search_text WHERE rowid = (SELECT id FROM search_docs WHERE report_id = NEW.id);
    INSERT INTO search_text (rowid, subject, body, people, ids, tags, public)
        SELECT d.id, '', '', v.people, v.ids, v.tags, v.public
        FROM search_docs d JOIN search_report_text v ON v.report_id = d.report_id
        WHERE d.report_id = NEW.id;
END;
CREATE TRIGGER search_report_delete AFTER DELETE ON reports BEGIN
    DELETE FROM search_text WHERE rowid = (SELECT id FROM search_docs WHERE report_id = OLD.id);
    DELETE FROM search_docs WHERE report_id = OLD.id;
END;
CREATE TRIGGER search_participant_insert AFTER INSERT ON participants BEGIN
    DELETE FROM search_text WHERE rowid = (SELECT id FROM search_docs WHERE report_id = NEW.report_id);
    INSERT INTO search_text (rowid, subject, body, people, ids, tags, public)
        SELECT d.id, '', '', v.people, v.ids, v.tags, v.public
        FROM search_docs d JOIN search_report_text v ON v.report_id = d.report_id
        WHERE d.report_id = NEW.report_id;
END;
CREATE TRIGGER search_participant_update AFTER UPDATE OF address, name ON participants
    WHEN OLD.address IS NOT NEW.address OR OLD.name IS NOT NEW.name BEGIN
    DELETE FROM search_text WHERE rowid = (SELECT id FROM search_docs WHERE report_id = NEW.report_id);
    INSERT INTO search_text (rowid, subject, body, people, ids, tags, public)
        SELECT d.id, '', '', v.people, v.ids, v.tags, v.public
        FROM search_docs d JOIN search_report_text v ON v.report_id = d.report_id
        WHERE d.report_id = NEW.report_id;
END;
CREATE TRIGGER search_message_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search_text WHERE rowid = (SELECT id FROM search_docs WHERE message = OLD.id);
    DELETE FROM search_docs WHERE message = OLD.id;
    DELETE FROM search_pending WHERE message = OLD.id;
END;
"#;

// The alerts the daemon raised about itself (the source failing, mail stuck
// in the outbox, no mail arriving, a member's key expiring, the disk filling
// up, the daily canary not coming back): one row per condition while it lasts, so that it is mailed once; the
// row goes when the condition clears, and a new occurrence alerts again.
const V17: &str = r#"
CREATE TABLE monitor_alerts (
    condition  TEXT PRIMARY KEY,
    raised_at  INTEGER NOT NULL
) STRICT;
-- The daily canaries: mail sent to ourselves through the public route, each
-- known by the random token in its Message-ID, and when it came back.
CREATE TABLE monitor_canaries (
    token        TEXT PRIMARY KEY,
    sent_at      INTEGER NOT NULL,
    returned_at  INTEGER
) STRICT;
CREATE INDEX monitor_canaries_sent ON monitor_canaries (sent_at);
"#;

pub(crate) const MIGRATIONS: &[M<'static>] = &[
    M::up(V1),
    M::up(V2),
    M::up(V3),
    M::up(V4),
    M::up(V5),
    M::up(V6),
    M::up(V7),
    M::up(V8),
    M::up(V9),
    M::up(V10),
    M::up(V11),
    M::up(V12),
    M::up(V13),
    M::up(V14),
    M::up(V15),
    M::up(V16),
    M::up(V17),
];

pub fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// The schema version this code writes.
pub const LATEST: usize = 17;

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
