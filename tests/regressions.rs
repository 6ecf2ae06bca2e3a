//! Every input kept in `fuzz/regressions/` (crashes found by fuzzing, minimized, and hand-made
//! hostile inputs), run through its fuzz target's check. Named inputs say what they caught.
//! XML inputs at the top of the folder go through `read_identity` and `apply_roundtrip`;
//! `fuzz/regressions/<target>/` holds the inputs of the other targets. The committed seeds
//! (`fuzz/seeds/<target>/`) are replayed too.

use std::path::Path;

use crate::any_bytes::{check, check_apply};
use crate::escape_roundtrip::check_escape;
use crate::structured::check_structured;
use crate::support::manifest_dir;
use crate::zip_input::check_zip;

/// The files directly in `dir` (none when it does not exist), sorted.
fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` over the kept regressions and seeds of `target`; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let fuzz = manifest_dir().join("fuzz");
    let mut n = 0;
    for dir in [
        fuzz.join("regressions").join(target),
        fuzz.join("seeds").join(target),
    ] {
        for path in files_in(&dir) {
            let data = std::fs::read(&path).unwrap();
            eprintln!("{}", path.display());
            check(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn fuzz_regressions() {
    let dir = manifest_dir().join("fuzz/regressions");
    let mut n = 0;
    for path in files_in(&dir) {
        let data = std::fs::read(&path).unwrap();
        check(&data);
        check_apply(&data);
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn fuzz_regressions_of_apply_structured() {
    replay("apply_structured", check_structured);
}

#[test]
fn fuzz_regressions_of_payload_escape() {
    replay("payload_escape", check_escape);
}

#[test]
fn fuzz_regressions_of_zip_reader() {
    assert!(replay("zip_reader", check_zip) > 0, "no zip seeds");
}

#[test]
fn truncated_fixtures_never_panic() {
    // Every prefix of a nested, mixed-encoding fixture: an error or a document, never a panic.
    let bytes = std::fs::read(manifest_dir().join("fixtures/update_set_escaped.xml")).unwrap();
    for end in 0..bytes.len() {
        check(&bytes[..end]);
    }
    // And apply on every readable prefix of a smaller one.
    let small = std::fs::read(manifest_dir().join("fixtures/source_control_delete.xml")).unwrap();
    for end in 0..small.len() {
        check_apply(&small[..end]);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let depth = 100_000;
    let mut doc = "<a>".repeat(depth);
    doc.push_str(&"</a>".repeat(depth));
    let err = sn_retarget::model::read(doc.as_bytes(), &mut sn_retarget::model::Collect::default())
        .unwrap_err();
    assert!(err.to_string().contains("nested deeper"), "{err}");
}

#[test]
fn structured_apply_cases() {
    // Deterministic pseudo-random inputs through the structured generator (the fuzz target
    // `apply_structured` explores further; STRUCTURED_CASES runs more).
    let cases = std::env::var("STRUCTURED_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300u64);
    for seed in 0..cases {
        let data = crate::support::xorshift_bytes(seed, 64 + (seed as usize * 7) % 700);
        crate::structured::check_structured(&data);
    }
}

#[test]
fn escape_round_trip_cases() {
    // Every option byte (quotes, 0 to 3 layers, CDATA or text field) with texts that need
    // every kind of escaping.
    let texts: [&[u8]; 7] = [
        b"",
        b"plain",
        b"a<b & c>d \"q\" 'a' ]]> ]]]]> &amp; &#13;",
        b"line\r\nbreak\rcr\n\ttab ]]> in mixed content",
        "\u{e9}\u{65e5}\u{1F600} \u{FDDE}".as_bytes(),
        b"<![CDATA[x]]>",
        b"\xff\xfe invalid UTF-8 \xc3",
    ];
    for opts in 0..=255u8 {
        for t in texts {
            let mut data = vec![opts];
            data.extend_from_slice(t);
            check_escape(&data);
        }
    }
}
