//! Integration tests: the real binary on real Maildirs, with the file and sendmail
//! transports, and the store read back through the library.

mod cli;
mod common;
mod corpus;
mod crash;
mod pipeline;
