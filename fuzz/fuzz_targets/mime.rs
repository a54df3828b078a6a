//! Fuzzes `disclosed::fuzzing::mime`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| disclosed::fuzzing::mime(data));
