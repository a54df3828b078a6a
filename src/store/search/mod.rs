//! Full-text search over the store (SQLite FTS5): one document per message
//! (subject, readable text, sender) and one per report (people, ids, tags,
//! public fields), ranked by bm25 and grouped by report.
//!
//! Message documents are written here, in the transaction that stores the
//! message or its decrypted entity; report documents by triggers of the
//! schema. The readable text is what the team reads: the decrypted entity of
//! an encrypted message (then the document is `confidential`), else the raw
//! message, decoded, at most [`MAX_INDEXED_BYTES`] of it, attachments left out.

mod query;

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

pub use query::{MAX_QUERY_CHARS, QueryError, SearchQuery};

use super::{Result, Store, StoreError, Tx, ctx, from_ms};
use crate::parse::{self, ParseLimits};
use crate::report::{ReportId, ReportState};

/// Most readable text indexed per message, in bytes.
pub const MAX_INDEXED_BYTES: usize = 256 * 1024;

/// Most bytes of a stored message decoded to find its text: MIME decoding
/// stops there, so a huge message costs no more than this to index.
const MAX_DECODED_BYTES: usize = 4 << 20;

/// Longest snippet, in characters.
pub const MAX_SNIPPET_CHARS: usize = 160;

/// Messages indexed per transaction when the store catches up.
const BACKFILL_BATCH: usize = 200;

/// What to search and what to return.
#[derive(Debug, Clone, Copy)]
pub struct SearchFilter {
    /// Only reports in this state.
    pub state: Option<ReportState>,
    /// Most reports returned.
    pub limit: usize,
    /// Search decrypted text too. False for an answer that may travel in
    /// clear: then what was encrypted neither matches nor shows.
    pub confidential: bool,
    /// Return a snippet of each report's best match.
    pub snippets: bool,
}

/// One report found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub report: ReportId,
    pub state: ReportState,
    pub opened: Timestamp,
    pub updated: Timestamp,
    /// bm25 of its best document: lower is better.
    pub score: f64,
    /// One line around the words found, matches in `[`…`]`, without control
    /// characters and at most [`MAX_SNIPPET_CHARS`] long.
    pub snippet: Option<String>,
}

/// The reports found, best first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// More reports match than the limit let through.
    pub more: bool,
}

/// Parse limits for indexing: no configuration reaches the store, and the
/// text is cut to [`MAX_INDEXED_BYTES`] anyway.
fn limits() -> ParseLimits {
    ParseLimits {
        max_header_size: 1 << 20,
        max_mime_depth: 20,
        max_attachments: 0,
        max_text_len: MAX_INDEXED_BYTES,
    }
}

/// The readable text of a stored entity, cut to the index's limit.
fn readable_text(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(MAX_DECODED_BYTES)];
    let mut text = parse::parse(bytes, &limits()).text;
    if text.len() > MAX_INDEXED_BYTES {
        let mut end = MAX_INDEXED_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// `text` on one line, without control characters, at most
/// [`MAX_SNIPPET_CHARS`] characters.
fn one_line(text: &str) -> String {
    let clean = parse::clean_text(text);
    parse::clip(&clean, MAX_SNIPPET_CHARS).into_owned()
}

impl Tx<'_> {
    /// (Re)writes the document of message `id` from what the store holds:
    /// its subject and sender, and the readable text of its decrypted entity
    /// when it has one (then the document is confidential), else of its raw
    /// bytes unless it was encrypted. `readable` is those bytes when the
    /// caller has them at hand.
    pub(super) fn index_message(&self, id: i64, readable: Option<&[u8]>) -> Result<()> {
        let what = "indexing a message for search";
        let row = self
            .conn
            .prepare_cached(
                "SELECT subject, COALESCE(from_addr, ''), COALESCE(from_name, ''),
                     encryption != 'none'
                 FROM messages WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, bool>(3)?,
                    ))
                })
                .optional()
            })
            .map_err(ctx(what))?;
        let Some((subject, from_addr, from_name, encrypted)) = row else {
            return Ok(());
        };
        let body = match readable {
            Some(bytes) => readable_text(bytes),
            None => {
                // An encrypted message's raw bytes are ciphertext: only its
                // decrypted entity is text.
                let sql = if encrypted {
                    "SELECT data FROM decrypted_messages WHERE message = ?1"
                } else {
                    "SELECT COALESCE(
                         (SELECT data FROM decrypted_messages WHERE message = ?1),
                         (SELECT data FROM raw_messages WHERE message = ?1))"
                };
                let bytes: Option<Vec<u8>> = self
                    .conn
                    .prepare_cached(sql)
                    .and_then(|mut stmt| stmt.query_row([id], |row| row.get(0)).optional())
                    .map_err(ctx(what))?
                    .flatten();
                bytes.as_deref().map(readable_text).unwrap_or_default()
            }
        };
        self.conn
            .prepare_cached(
                "DELETE FROM search_text WHERE rowid = (SELECT id FROM search_docs WHERE message = ?1)",
            )
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(ctx(what))?;
        self.conn
            .prepare_cached(
                "INSERT INTO search_docs (message, confidential) VALUES (?1, ?2)
                 ON CONFLICT (message) WHERE message IS NOT NULL
                 DO UPDATE SET confidential = excluded.confidential",
            )
            .and_then(|mut stmt| stmt.execute(params![id, encrypted]))
            .map_err(ctx(what))?;
        self.conn
            .prepare_cached(
                "INSERT INTO search_text (rowid, subject, body, people, ids, tags, public)
                 SELECT id, ?2, ?3, ?4, '', '', '' FROM search_docs WHERE message = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id,
                    subject,
                    body,
                    format!("{from_addr} {from_name}")
                ])
            })
            .map_err(ctx(what))?;
        self.conn
            .prepare_cached("DELETE FROM search_pending WHERE message = ?1")
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(ctx(what))?;
        // A report some of whose mail was encrypted keeps all of itself (who
        // reported it, its ids and tags) from a search answered in clear.
        if encrypted {
            self.conn
                .prepare_cached(
                    "UPDATE search_docs SET confidential = 1
                     WHERE report_id = (SELECT report_id FROM messages WHERE id = ?1)",
                )
                .and_then(|mut stmt| stmt.execute([id]))
                .map_err(ctx(what))?;
        }
        Ok(())
    }

    /// Indexes up to `n` messages stored before the index existed; how many.
    fn index_pending(&self, n: usize) -> Result<usize> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached("SELECT message FROM search_pending ORDER BY message LIMIT ?1")
            .and_then(|mut stmt| {
                stmt.query_map([n as i64], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(ctx("listing messages to index"))?;
        for &id in &ids {
            self.index_message(id, None)?;
            // A message gone meanwhile leaves its pending row behind.
            self.conn
                .prepare_cached("DELETE FROM search_pending WHERE message = ?1")
                .and_then(|mut stmt| stmt.execute([id]))
                .map_err(ctx("indexing a message for search"))?;
        }
        Ok(ids.len())
    }

    /// The reports matching `query`, best first.
    ///
    /// FTS5 ranks the documents (bm25, weighted by the index's `rank`
    /// setting) and hands them over best first, a page at a time, each page
    /// twice the last, until `limit` reports are found: a report's best
    /// document is the first of it read. Documents the filter leaves out
    /// (confidential, another state, no report) are skipped. Matches are not
    /// counted: that would read every one of them, ranked or not.
    pub fn search(&self, query: &SearchQuery, filter: &SearchFilter) -> Result<SearchResults> {
        let what = "searching";
        let mut seen = std::collections::HashSet::new();
        let mut rows = Vec::new();
        let mut offset = 0;
        let mut page = (filter.limit * 4).max(32);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.id, r.state, r.created_at, r.updated_at, t.rowid, t.rank,
                     r.id IS NOT NULL AND (?2 OR d.confidential = 0)
                         AND (?3 IS NULL OR r.state = ?3)
                 FROM (SELECT rowid, rank FROM search_text WHERE search_text MATCH ?1
                       ORDER BY rank LIMIT ?4 OFFSET ?5) t
                 LEFT JOIN search_docs d ON d.id = t.rowid
                 LEFT JOIN messages m ON m.id = d.message
                 LEFT JOIN reports r ON r.id = COALESCE(d.report_id, m.report_id)
                 ORDER BY t.rank, t.rowid",
            )
            .map_err(ctx(what))?;
        'pages: loop {
            let mut read = 0;
            let mut found = stmt
                .query(params![
                    query.as_fts(),
                    filter.confidential,
                    filter.state.map(|s| s.as_str()),
                    page as i64,
                    offset as i64,
                ])
                .map_err(ctx(what))?;
            while let Some(row) = found.next().map_err(ctx(what))? {
                read += 1;
                if !row.get::<_, bool>(6).map_err(ctx(what))? {
                    continue;
                }
                let id: String = row.get(0).map_err(ctx(what))?;
                if !seen.insert(id.clone()) {
                    continue;
                }
                let state: String = row.get(1).map_err(ctx(what))?;
                let state = state.parse().map_err(|_| StoreError::Corrupt {
                    what: "report state",
                    detail: state.clone(),
                })?;
                rows.push((
                    SearchHit {
                        report: ReportId::from_stored(id),
                        state,
                        opened: from_ms(row.get(2).map_err(ctx(what))?),
                        updated: from_ms(row.get(3).map_err(ctx(what))?),
                        score: row.get(5).map_err(ctx(what))?,
                        snippet: None,
                    },
                    row.get::<_, i64>(4).map_err(ctx(what))?,
                ));
                if rows.len() > filter.limit {
                    break 'pages;
                }
            }
            if read < page {
                break;
            }
            offset += page;
            page *= 2;
        }
        drop(stmt);
        // One report past the limit was looked for: it says there are more.
        let more = rows.len() > filter.limit;
        rows.truncate(filter.limit);
        let mut hits = Vec::with_capacity(rows.len());
        for (mut hit, doc) in rows {
            if filter.snippets {
                hit.snippet = self.snippet(query, doc)?;
            }
            hits.push(hit);
        }
        Ok(SearchResults { hits, more })
    }

    /// A snippet of document `doc` around `query`'s matches.
    fn snippet(&self, query: &SearchQuery, doc: i64) -> Result<Option<String>> {
        let text: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT snippet(search_text, -1, '[', ']', '…', 12) FROM search_text
                 WHERE search_text MATCH ?1 AND rowid = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![query.as_fts(), doc], |row| row.get(0))
                    .optional()
            })
            .map_err(ctx("making a search snippet"))?;
        Ok(text.map(|t| one_line(&t)).filter(|t| !t.is_empty()))
    }

    /// Bytes the search index takes (its FTS5 shadow tables and documents).
    pub fn search_index_bytes(&self) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat
                 WHERE name LIKE 'search_text%' OR name LIKE 'search_docs%'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(ctx("measuring the search index"))
    }
}

impl Store {
    /// Indexes the messages stored before the index existed, a batch per
    /// transaction so that a large store does not hold the writer for long;
    /// how many. Called when the store is opened.
    pub(super) fn index_backlog(&mut self) -> Result<usize> {
        let mut done = 0;
        loop {
            let n = self.write(|batch| batch.tx().index_pending(BACKFILL_BATCH))?;
            done += n;
            if n < BACKFILL_BATCH {
                return Ok(done);
            }
        }
    }
}

#[cfg(test)]
mod tests;
