//! The reader on arbitrary bytes; the check itself lives in `tests/any_bytes.rs`, which the
//! regression test runs over every input kept in `fuzz/regressions/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/any_bytes.rs"]
#[allow(dead_code)]
mod any_bytes;

fuzz_target!(|data: &[u8]| any_bytes::check(data));
