//! Integration tests: the real binary on real Maildirs and against a real
//! Dovecot and Postfix (`scripts/mailstack`), with the store read back through
//! the library.

mod advisory;
mod backup;
mod bounce;
mod budget;
mod bulletin;
mod chaos;
mod cli;
mod closing;
mod common;
mod control_forgery;
mod corpus;
mod crash;
mod defaults;
mod deliver;
mod demo;
mod disclosure;
mod flood;
mod forgery;
mod fuzz_corpus;
mod golden;
mod import;
mod instance;
mod keys;
mod live;
mod mailstack;
mod monitor;
mod observe;
mod openpgp;
mod pgp;
mod pipeline;
mod progress;
mod publish;
mod recover;
mod relay_leak;
mod resend;
mod search;
mod service;
mod site_render;
mod sla;
mod sla_mail;
mod systemd;
mod team;
mod team_auth;
mod wellformed;
