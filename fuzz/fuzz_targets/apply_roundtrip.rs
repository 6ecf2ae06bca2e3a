//! `apply` on arbitrary bytes; the check lives in `tests/any_bytes.rs` (`check_apply`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/any_bytes.rs"]
#[allow(dead_code)]
mod any_bytes;

fuzz_target!(|data: &[u8]| any_bytes::check_apply(data));
