//! Fuzzes `disclosed::fuzzing::auth_results`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| disclosed::fuzzing::auth_results(data));
