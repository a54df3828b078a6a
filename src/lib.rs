//! `disclosed` turns a coordinated-disclosure inbox into tracked reports.
//!
//! Mail flows through stages, each a module that owns its types (SPEC §2):
//!
//! ```text
//! source (IMAP | Maildir) ─▶ parse (MIME) ─▶ thread (classify, pick a report)
//!    ─▶ store (SQLite: raw bytes, metadata, reports, events, outbox — one transaction)
//!    ─▶ mark processed on the source
//! respond (templates, outbox worker) ─▶ transport (SMTP | sendmail | file)
//! daemon: the workers as tasks, systemd notifications, signals and reload
//! ```
//!
//! [`ingest`] only orders those stages and draws the transaction boundary; every
//! decision (which report a message joins, whether it may be answered) is a pure
//! function in its stage. [`store`] is the only module that writes SQL. Time comes
//! from a [`clock::Clock`] so tests and the SLA engine can set it.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod command;
pub mod config;
pub mod crypto;
pub mod daemon;
pub mod ingest;
pub mod net;
pub mod parse;
pub mod report;
pub mod respond;
pub mod settings;
pub mod sla;
pub mod source;
pub mod store;
pub mod thread;
pub mod transport;
pub mod triage;
