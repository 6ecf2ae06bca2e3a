//! Every input kept in `fuzz/regressions/` (crashes found by fuzzing, minimized, and hand-made
//! hostile inputs), run through the fuzz target's check. Named inputs say what they caught.

use crate::any_bytes::{check, check_apply};
use crate::support::manifest_dir;

#[test]
fn fuzz_regressions() {
    let dir = manifest_dir().join("fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        check(&data);
        check_apply(&data);
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
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
