//! The check every fuzz input and every kept regression input goes through (shared with
//! `fuzz/fuzz_targets/read_identity.rs`): never a panic; when a document reads, every value span
//! lies inside the input, spans do not overlap, writing every value back over itself gives the
//! input byte for byte, and the inventory builds; errors render with their masked snippet.

use sn_retarget::analyze::inspect::Inspector;
use sn_retarget::model::{Collect, read};
use sn_retarget::splice::{Edit, Edits};

pub fn check(data: &[u8]) {
    // The check in pieces never accepts what the whole check refuses, and passes every byte on.
    let whole = sn_retarget::model::check_outer(data).is_ok();
    for piece in [1, 5, 64] {
        let mut copy = Vec::new();
        let ok = sn_retarget::model::check_outer_streamed_with(
            data,
            |p| {
                copy.extend_from_slice(p);
                Ok(())
            },
            piece,
        )
        .expect("reading a slice never fails");
        assert!(!ok || whole, "accepted in pieces of {piece}, refused whole");
        assert_eq!(copy, data);
    }
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

/// The rewrite on arbitrary bytes: when the input reads, `apply` (regenerate ids, the hosts it
/// names retargeted, secrets placeholdered) gives output that reads with no more malformed
/// payloads than the input, holds no ciphertext, and is a fixed point of the same plan.
pub fn check_apply(data: &[u8]) {
    use sn_retarget::ErrorKind;
    use sn_retarget::apply::apply;
    use sn_retarget::plan::{IdMode, Plan, RewriteError};

    let mut c = Collect::default();
    let Ok(before) = read(data, &mut c) else {
        return;
    };
    let mut i = Inspector::new();
    i.add("in.xml", data).expect("reads");
    let sources: Vec<String> = i.finish().files[0]
        .hosts
        .iter()
        .map(|h| h.host.clone())
        .collect();
    // Every host to acme, each asked for (merging several is refused unless each is named).
    let plan = Plan {
        target: Some("acme.service-now.com".into()),
        hosts: sources
            .into_iter()
            .map(|s| (s, "acme.service-now.com".to_string()))
            .collect(),
        sys_ids: IdMode::Regenerate,
        ..Plan::default()
    };
    let applied = match apply(&plan, &[("in.xml", data)], false) {
        Ok(a) => a,
        Err(e) => match e.kind() {
            // Ciphertext where no rule reaches (outside any record): refused, as promised.
            ErrorKind::Rewrite {
                source: RewriteError::SecretLeft { .. },
                ..
            } => return,
            // A secret in a payload the flip broke (its records are not read): refused, as
            // promised, for it cannot be replaced there.
            ErrorKind::Rewrite {
                source: RewriteError::SecretInUnreadPayload { .. },
                ..
            } => return,
            // A value named like a secret (a fuzzed name such as `x.signing_key_y`) with no rule
            // saying whether it is one: refused until declared, as promised.
            ErrorKind::LooksSecret(_) => return,
            _ => panic!("apply failed on readable input: {e}"),
        },
    };
    let out = &applied.outputs[0].bytes;
    let after = read(out, &mut Collect::default()).expect("output reads");
    let malformed = |o: &sn_retarget::model::ReadOutcome| {
        o.diagnostics
            .iter()
            .filter(|d| d.code == "malformed-payload")
            .count()
    };
    assert!(malformed(&after) <= malformed(&before), "a payload broke");
    let text = String::from_utf8_lossy(out);
    assert!(
        !text.contains(|c: char| ('\u{FDD0}'..='\u{FDEF}').contains(&c)),
        "ciphertext left"
    );
    // A host no longer named is refused like a misspelling: the second run maps the rest.
    let mut second = plan.clone();
    second.hosts.retain(|h, _| {
        let h = sn_retarget::plan::Instance::parse(h).expect("found hosts parse");
        sn_retarget::plan::fit::names_instance(&[out], &h)
    });
    let again = apply(&second, &[("out.xml", out)], false).expect("output applies");
    assert_eq!(again.outputs[0].edits, 0, "not idempotent");
}
