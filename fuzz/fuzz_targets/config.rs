//! Fuzzes `disclosed::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| disclosed::fuzzing::config(data));
