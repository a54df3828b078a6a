//! Fuzzes `disclosed::fuzzing::command`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| disclosed::fuzzing::command(data));
