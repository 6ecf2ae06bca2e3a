//! Arbitrary bytes as a zip archive (shared with `fuzz/fuzz_targets/zip_reader.rs`):
//! `io::read_zip` never panics, keeps to its limits (entry count, inflated bytes per entry and
//! in all), and never hands out an entry whose name is absolute, has a drive letter or a `..`
//! step (with `/` or `\` separators), or is not an `*.xml` file.

#![allow(dead_code)]

use std::path::{Component, Path};

use sn_retarget::io::{Limits, read_zip};

/// Small limits, so that the fuzzer reaches them.
pub const LIMITS: Limits = Limits {
    max_entries: 16,
    max_entry_bytes: 64 << 10,
    max_total_bytes: 256 << 10,
};

/// `true` when an entry name can only land inside the folder it is extracted to.
pub fn safe_name(name: &Path) -> bool {
    let s = name.to_string_lossy();
    name.is_relative()
        && name.components().all(|c| matches!(c, Component::Normal(_)))
        && !s.starts_with(['/', '\\'])
        && s.as_bytes().get(1) != Some(&b':')
        && !s.split(['/', '\\']).any(|c| c == "..")
}

pub fn check_zip(data: &[u8]) {
    check_zip_with(data, &LIMITS);
}

pub fn check_zip_with(data: &[u8], limits: &Limits) {
    match read_zip(Path::new("fuzz.zip"), data, limits) {
        Ok(entries) => {
            assert!(entries.len() <= limits.max_entries);
            let mut total = 0u64;
            for (name, bytes) in &entries {
                assert!(safe_name(name), "unsafe entry name {name:?}");
                assert!(
                    name.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| e.eq_ignore_ascii_case("xml")),
                    "{name:?}"
                );
                assert!(bytes.len() as u64 <= limits.max_entry_bytes, "{name:?}");
                total += bytes.len() as u64;
            }
            assert!(total <= limits.max_total_bytes);
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with("fuzz.zip: "), "{message}");
        }
    }
}
