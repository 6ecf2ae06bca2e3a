//! Arbitrary bytes as a zip archive through `io::read_zip`; the check lives in
//! `tests/zip_input.rs` (`check_zip`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/zip_input.rs"]
mod zip_input;

fuzz_target!(|data: &[u8]| zip_input::check_zip(data));
