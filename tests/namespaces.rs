//! Properties of namespace matching over generated text: a rename is undone by the rename
//! back, every match is a whole identifier or its start, nothing of the old namespace is left,
//! and a protected longer namespace is never touched.

use proptest::prelude::*;
use sn_retarget::plan::namespace::{NamespaceRenames, occurrences};

/// Text made of pieces that put namespaces next to every kind of neighbour.
fn text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "x_a_b",
        "x_a_b_core",
        "x_a_b2",
        "X_A_B",
        "_",
        ".",
        "/",
        "-",
        " ",
        "a",
        "B",
        "9",
        "t",
        "<",
        ">",
        "&quot;",
        "sys_dictionary_",
        "x_",
        "b",
    ]);
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn alnum(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_alphanumeric)
}

proptest! {
    #[test]
    fn renaming_back_gives_the_text_back(t in text()) {
        let there = NamespaceRenames::new(vec![("x_a_b".into(), "x_c_d".into())]);
        let back = NamespaceRenames::new(vec![("x_c_d".into(), "x_a_b".into())]);
        prop_assert_eq!(back.apply_to(&there.apply_to(&t)), t);
    }

    #[test]
    fn matches_are_whole_identifiers_or_their_start(t in text()) {
        let bytes = t.as_bytes();
        for s in occurrences("x_a_b", &[], bytes, false) {
            prop_assert_eq!(&bytes[s.range()], b"x_a_b");
            prop_assert!(s.start == 0 || !alnum(bytes.get(s.start - 1)));
            prop_assert!(!alnum(bytes.get(s.end)));
        }
    }

    #[test]
    fn nothing_of_the_old_namespace_is_left_but_what_is_kept(t in text()) {
        // The new namespace starts with the old one: it is kept, as fork keeps it.
        let keep = vec!["x_a_b_core".to_string()];
        let renames = NamespaceRenames::new(vec![("x_a_b".into(), "x_a_b_new".into())])
            .protect(keep.clone());
        let out = renames.apply_to(&t);
        let mut kept = keep.clone();
        kept.push("x_a_b_new".into());
        prop_assert_eq!(occurrences("x_a_b", &kept, out.as_bytes(), false).count(), 0);
        // The protected namespace is as often there as before.
        let count = |s: &str| occurrences("x_a_b_core", &[], s.as_bytes(), false).count();
        prop_assert_eq!(count(&out), count(&t));
    }
}
