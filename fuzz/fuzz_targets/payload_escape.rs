//! The escaping round trip (text, attribute, CDATA, through nested payloads); the check lives
//! in `tests/escape_roundtrip.rs` (`check_escape`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/escape_roundtrip.rs"]
mod escape_roundtrip;

fuzz_target!(|data: &[u8]| escape_roundtrip::check_escape(data));
