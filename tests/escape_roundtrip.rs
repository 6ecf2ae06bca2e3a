//! The escaping round trip (shared with `fuzz/fuzz_targets/payload_escape.rs`): any text,
//! escaped for the place it lands by `plan::escape` (text, attribute, CDATA, and through up to
//! three enclosing payloads, CDATA or entity-escaped), reads back as the same text.
//!
//! The first input byte picks the options (quotes as `&quot;`, the payload layers, a CDATA or
//! text field); the rest, as UTF-8 (invalid sequences replaced), without the control characters
//! XML cannot hold at all (the plan refuses values with one), is the text. Checks:
//!
//! - `escape_text`, `escape_attr`: no markup character left raw, and `decode_escaped` /
//!   `unescape` give the text back (the offset map ends where the raw text ends);
//! - `cdata_section`: sections that never hold `]]>`, whose contents concatenate to the text;
//! - in a document: the text as a field (escaped or CDATA), a record attribute and a field
//!   attribute of a record nested in the payloads: the reader finds the record at the depth and
//!   behind the layers built, decodes the field and attributes back to the text (a raw CR in
//!   CDATA reads as LF, as XML prescribes), and the field's bytes in the file are exactly
//!   `through_layers(escaped value, layers)`.

#![allow(dead_code)]

use sn_retarget::model::{Collect, Escaping, ValueKind, read};
use sn_retarget::plan::escape::{cdata_section, escape_attr, escape_text, through_layers};
use sn_retarget::scan::{OffsetMap, decode_escaped, unescape};

const SYS_ID: &str = "0123456789abcdef0123456789abcdef";

/// The layers and field style the option byte asks for (never CDATA directly inside CDATA,
/// which no export can hold).
pub fn options(opts: u8) -> (bool, Vec<Escaping>, bool) {
    let quot = opts & 1 != 0;
    let depth = usize::from((opts >> 1) & 3);
    let mut layers = Vec::new();
    for i in 0..depth {
        let cdata = (opts >> (3 + i)) & 1 != 0 && layers.last() != Some(&Escaping::Cdata);
        layers.push(if cdata {
            Escaping::Cdata
        } else {
            Escaping::Escaped
        });
    }
    let cdata_field = opts & 0x80 != 0 && layers.last() != Some(&Escaping::Cdata);
    (quot, layers, cdata_field)
}

/// XML line-end normalization (what a CDATA section's text reads as).
fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn check_escaped(text: &str, e: &str, quot: bool, attr: bool) {
    assert!(!e.contains(['<', '>']), "{e:?}");
    assert!(!e.contains('\r'), "{e:?}");
    if quot || attr {
        assert!(!e.contains('"'), "{e:?}");
    }
    if attr {
        assert!(!e.contains('\''), "{e:?}");
    }
    // Every `&` starts a reference the decoder knows.
    let (mut out, mut map) = (Vec::new(), OffsetMap::default());
    assert!(decode_escaped(e.as_bytes(), &mut out, &mut map), "{e:?}");
    assert_eq!(out, text.as_bytes(), "{e:?}");
    assert_eq!(map.to_raw(out.len()), e.len());
    let mut last = 0;
    for i in 0..=out.len() {
        let r = map.to_raw(i);
        assert!(r >= last && r <= e.len(), "offset map not monotonic at {i}");
        last = r;
    }
    assert_eq!(unescape(e), text);
}

fn check_cdata(text: &str) {
    let c = cdata_section(text);
    let inner = c
        .strip_prefix("<![CDATA[")
        .and_then(|c| c.strip_suffix("]]>"))
        .expect("a CDATA section");
    let pieces: Vec<&str> = inner.split("]]><![CDATA[").collect();
    for p in &pieces {
        assert!(!p.contains("]]>"), "{c:?}");
    }
    assert_eq!(pieces.concat(), text, "{c:?}");
}

/// Wraps `doc` (a payload document) for `layer`, as the file writes it.
fn wrap(doc: &str, layer: Escaping, quot: bool) -> String {
    match layer {
        Escaping::Escaped => escape_text(doc, quot),
        Escaping::Cdata => {
            assert!(!doc.contains("]]>"), "no CDATA directly in CDATA");
            cdata_section(doc)
        }
    }
}

/// The document holding `text` behind `layers`, and the field value as written in its own
/// document.
pub fn document(
    text: &str,
    quot: bool,
    layers: &[Escaping],
    cdata_field: bool,
) -> (String, String) {
    let value = if cdata_field {
        cdata_section(text)
    } else {
        escape_text(text, quot)
    };
    let a = escape_attr(text);
    let record = format!(
        "<u_t action=\"INSERT_OR_UPDATE\" a=\"{a}\"><sys_id>{SYS_ID}</sys_id><f d=\"{a}\">{value}</f></u_t>"
    );
    if layers.is_empty() {
        return (format!("<unload>{record}</unload>"), value);
    }
    let mut doc = format!("<record_update table=\"u_t\">{record}</record_update>");
    for (i, layer) in layers.iter().enumerate().rev() {
        let payload = wrap(&doc, *layer, quot);
        doc = if i == 0 {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload>{payload}</payload><sys_id>{SYS_ID}</sys_id></sys_update_xml></unload>"
            )
        } else {
            format!(
                "<record_update table=\"sys_update_version\"><sys_update_version action=\"INSERT_OR_UPDATE\"><payload>{payload}</payload></sys_update_version></record_update>"
            )
        };
    }
    (doc, value)
}

pub fn check_escape(data: &[u8]) {
    let (&opts, rest) = data.split_first().unwrap_or((&0, &[]));
    let text: String = String::from_utf8_lossy(rest)
        .chars()
        .filter(|&c| c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let text = text.as_str();
    let (quot, layers, cdata_field) = options(opts);

    check_escaped(text, &escape_text(text, quot), quot, false);
    check_escaped(text, &escape_attr(text), true, true);
    check_cdata(text);

    let (doc, value) = document(text, quot, &layers, cdata_field);
    let bytes = doc.as_bytes();
    let mut c = Collect::default();
    let outcome = read(bytes, &mut c).unwrap_or_else(|e| panic!("does not read: {e}\n{doc}"));
    assert!(
        outcome.diagnostics.is_empty(),
        "{:?}\n{doc}",
        outcome.diagnostics
    );
    let found: Vec<_> = c.records.iter().filter(|r| r.table == "u_t").collect();
    assert_eq!(found.len(), 1, "{doc}");
    let r = found[0];
    assert_eq!(r.place.depth, layers.len(), "{doc}");
    assert_eq!(r.escapings, layers, "{doc}");
    assert_eq!(r.sys_id.as_deref(), Some(SYS_ID));
    assert_eq!(
        r.attrs,
        [
            ("action".into(), "INSERT_OR_UPDATE".into()),
            ("a".into(), text.into())
        ]
    );
    let f = r.field("f").expect("the field");
    assert_eq!(f.attrs, [("d".to_string(), text.to_string())]);
    let expected_kind = match (cdata_field, text.is_empty(), text.contains("]]>")) {
        (true, _, false) => ValueKind::Cdata,
        (true, _, true) => ValueKind::Mixed,
        (false, true, _) => ValueKind::EmptyPair,
        (false, false, _) => ValueKind::Text,
    };
    assert_eq!(f.kind, expected_kind, "{doc}");
    let expected = if cdata_field {
        normalize_newlines(text)
    } else {
        text.to_string()
    };
    assert_eq!(f.text, expected, "{doc}");
    // The file holds the value exactly as the rewrite would write it there.
    let in_file = &bytes[f.file_span.range()];
    assert_eq!(
        std::str::from_utf8(in_file).unwrap(),
        through_layers(value, &layers, quot),
        "{doc}"
    );
}
