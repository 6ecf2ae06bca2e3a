//! `apply` on structured random exports and plans built from the fuzz input; the generator and
//! the checks live in `tests/structured.rs` (`check_structured`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/structured.rs"]
mod structured;

fuzz_target!(|data: &[u8]| structured::check_structured(data));
