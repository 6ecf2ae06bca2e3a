//! The check every fuzz input and every kept regression input goes through (shared with
//! `fuzz/fuzz_targets/read_identity.rs`): never a panic; when a document reads, every value span
//! lies inside the input, spans do not overlap, writing every value back over itself gives the
//! input byte for byte, and the inventory builds; errors render with their masked snippet.

use sn_retarget::inspect::Inspector;
use sn_retarget::model::{Collect, read};
use sn_retarget::splice::{Edit, Edits};

pub fn check(data: &[u8]) {
    let mut c = Collect::default();
    match read(data, &mut c) {
        Ok(outcome) => {
            for d in &outcome.diagnostics {
                let _ = d.to_string();
            }
            let mut edits = Edits::new();
            for r in &c.records {
                assert!(r.file_span.end <= data.len());
                for f in &r.fields {
                    assert!(f.file_span.start <= f.file_span.end);
                    assert!(f.file_span.end <= data.len());
                    if f.payload.is_some_and(|p| p.read) {
                        continue;
                    }
                    edits.push(Edit::new(f.file_span, &data[f.file_span.range()]));
                }
            }
            assert_eq!(edits.apply_to_vec(data).expect("disjoint spans"), data);
            let mut i = Inspector::new();
            i.add("fuzz.xml", data).expect("read once, reads again");
            let _ = i.finish().to_string();
        }
        Err(e) => {
            let _ = e.to_string();
            if let Some(s) = &e.location().snippet {
                let _ = s.to_string();
            }
        }
    }
}
