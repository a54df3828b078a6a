//! `disclosed` turns a coordinated-disclosure inbox into tracked reports.
//!
//! One message, from the mailbox to the mail it causes:
//!
//! ```text
//! source        IMAP | Maildir: list pending mail, load its bytes
//!   │
//! prepare       ingest::prepare, before the store's lock is taken: hash ·
//!   │           parse (MIME → facts and problems) · crypto::open (decrypt,
//!   │           verify, carried keys)
//!   ▼
//! ingest        one store transaction per batch; for each message:
//!   ├ thread    a copy of our own mail? a bounce to a return path of ours?
//!   │           classify, then pick a report (plus address, subject tag,
//!   │           references) or open one
//!   ├ store     raw bytes, metadata, attachments, participants, events;
//!   │           keys learned (crypto::learn), held mail released
//!   │           (respond::held)
//!   ├ plan      ingest::plan: a pure list of actions
//!   ├ execute   new report: triage rule, acknowledgement (or the rule's
//!   │           reply), notification to each member (respond: templates,
//!   │           protect, team)
//!   │           reporter follow-up: notification · bounce: delivery problem
//!   │           team mail ─▶ team_mail, the team stage:
//!   │             auth (signature or DKIM result, binding, replay) → covered
//!   │             content → command (parse, plan all or none) → apply
//!   │             (command::apply), answer the author → relay to the
//!   │             reporter (respond::strip and respond::leak) with a copy to
//!   │             the team, or an internal note
//!   └ outbox    every mail above as an outbox row with its event
//!   ▼ commit    (respond::queue), and the source's cursor
//! source        marks the message processed
//!
//! outbox worker respond::deliver_due ─▶ transport (SMTP | sendmail | file);
//!               each result recorded, failures retried with backoff
//! SLA tick      sla::tick: deadlines from the event log ─▶ reminders,
//!               escalations, digest as outbox rows
//! ```
//!
//! Around the flow: [`daemon`] runs the source, delivery and SLA workers as
//! tasks (systemd, signals, reload); [`cli`] is the command line; [`config`]
//! turns the TOML file into typed values; [`net`] holds the TLS trust store
//! and reconnect backoff that IMAP and SMTP share; [`report`] says what a
//! report id and state are; [`clock`] is the only wall-clock read, so tests
//! and the SLA engine set the time. [`store`] is the only module that writes
//! SQL: every stage above writes through its transaction. [`audit`] is the
//! event log's vocabulary, [`settings`] loads the configuration with its
//! [`triage`] rules and templates, and [`auth`] and [`command`] are the team
//! stage's pure checks and plans.
//!
//! Decisions (which report a message joins, whether it may be answered, what a
//! command may change, which deadlines are due) are pure functions in their
//! modules; [`ingest`] orders the stages and draws the transaction boundary,
//! and hands a member's mail to [`team_mail`], which never reaches back into
//! [`ingest`]. Both queue mail through [`respond`].

pub mod advisory;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod command;
pub mod config;
pub mod crypto;
pub mod daemon;
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod ingest;
pub mod metrics;
pub mod monitor;
pub mod net;
pub mod parse;
pub mod publish;
pub mod report;
pub mod respond;
pub mod settings;
pub mod sla;
pub mod source;
pub mod store;
pub mod team_mail;
pub mod thread;
pub mod transport;
pub mod triage;
