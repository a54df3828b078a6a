//! Fuzzes `disclosed::fuzzing::strip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| disclosed::fuzzing::strip(data));
