//! `check_outer_streamed`: the check made in pieces agrees with `check_outer` on the whole
//! document, passes every byte on, and never accepts what the whole check refuses.

use sn_retarget::model::{check_outer, check_outer_streamed_with};

use crate::support::{corpus_dir, good_fixtures, xml_files};

/// `Some(passed)` and the bytes passed on, for `doc` read `piece` bytes at a time.
fn streamed(doc: &[u8], piece: usize) -> (bool, Vec<u8>) {
    let mut copy = Vec::new();
    let ok = check_outer_streamed_with(
        doc,
        |p| {
            copy.extend_from_slice(p);
            Ok(())
        },
        piece,
    )
    .unwrap();
    (ok, copy)
}

/// `true` when the root element is written `<root/>`.
fn empty_root(doc: &[u8]) -> bool {
    use sn_retarget::scan::{Token, Tokenizer};
    let mut tok = Tokenizer::new(doc);
    let mut attrs = Vec::new();
    while let Ok(Some(t)) = tok.next(&mut attrs) {
        if let Token::Start { empty, .. } = t {
            return empty;
        }
    }
    false
}

fn all_documents() -> Vec<(String, Vec<u8>)> {
    let mut files = good_fixtures();
    let dir = corpus_dir();
    if dir.is_dir() {
        files.extend(xml_files(&dir));
    }
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn agrees_with_the_whole_check_on_every_fixture_and_corpus_file() {
    for (name, doc) in all_documents() {
        let whole = check_outer(&doc).is_ok();
        for piece in [1, 7, 64, 4096, 1 << 20] {
            let (ok, copy) = streamed(&doc, piece);
            assert_eq!(copy, doc, "{name}: bytes passed on, pieces of {piece}");
            assert!(
                !ok || whole,
                "{name}: accepted in pieces of {piece}, refused whole"
            );
            // An empty root (`<unload/>`) is left to the whole check.
            let settled = ok == whole || (whole && empty_root(&doc));
            assert!(
                settled,
                "{name}: pieces of {piece} say {ok}, whole says {whole}"
            );
        }
    }
}

#[test]
fn never_accepts_a_damaged_document() {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for (name, doc) in all_documents().into_iter().take(40) {
        if doc.is_empty() {
            continue;
        }
        let step = (doc.len() / 150).max(1);
        let mut cases: Vec<Vec<u8>> = (0..doc.len())
            .step_by(step)
            .map(|n| doc[..n].to_vec())
            .collect();
        for _ in 0..60 {
            let mut d = doc.clone();
            let at = (next() as usize) % d.len();
            d[at] = [b'<', b'>', b'&', b'/', b'"', 0xC3, 0xFF, b']', b'!'][(next() % 9) as usize];
            cases.push(d);
        }
        for d in cases {
            let whole = check_outer(&d).is_ok();
            for piece in [3, 50, 1000] {
                let (ok, copy) = streamed(&d, piece);
                assert_eq!(copy, d, "{name}: bytes passed on");
                assert!(
                    !ok || whole,
                    "{name}: a damaged document accepted in pieces of {piece}"
                );
            }
        }
    }
}

#[test]
fn cut_characters_and_references_are_seen_whole() {
    // A multi-byte character and a reference at every possible cut.
    let doc = "<unload><a action='INSERT'>é€𝄞 &amp; &#x41;</a><b action='INSERT'>x</b></unload>";
    for piece in 1..doc.len() {
        assert!(streamed(doc.as_bytes(), piece).0, "pieces of {piece}");
    }
    let mut bad = doc.as_bytes().to_vec();
    let e = bad.iter().position(|&b| b == 0xC3).unwrap();
    bad.remove(e + 1); // a cut é: invalid UTF-8
    for piece in 1..bad.len() {
        assert!(
            !streamed(&bad, piece).0,
            "invalid UTF-8 accepted in pieces of {piece}"
        );
    }
    let unclosed = b"<unload><a action='INSERT'>x</a><b action='INSERT'>";
    for piece in 1..unclosed.len() {
        assert!(
            !streamed(unclosed, piece).0,
            "an unclosed record accepted in pieces of {piece}"
        );
    }
}
