//! Integration tests: the real binary on real Maildirs and against a real
//! Dovecot and Postfix (`scripts/mailstack`), with the store read back through
//! the library.

mod backup;
mod bounce;
mod budget;
mod chaos;
mod cli;
mod common;
mod corpus;
mod crash;
mod defaults;
mod deliver;
mod demo;
mod flood;
mod forgery;
mod fuzz_corpus;
mod golden;
mod instance;
mod keys;
mod live;
mod mailstack;
mod openpgp;
mod pgp;
mod pipeline;
mod relay_leak;
mod resend;
mod service;
mod sla;
mod sla_mail;
mod systemd;
mod team;
mod team_auth;
mod wellformed;
