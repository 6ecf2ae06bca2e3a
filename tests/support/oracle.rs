//! An independent reading of the same documents with roxmltree (a DOM parser), applying the
//! record rules to the tree, payloads included. The tests compare it with the streaming reader.

use roxmltree::{Document, Node, ParsingOptions};
use sn_retarget::model::OwnedRecord;
use sn_retarget::scan::unescape;

/// What the oracle knows of a record: (table, depth, [(field, text)]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ORecord {
    pub table: String,
    pub depth: usize,
    pub fields: Vec<(String, String)>,
}

/// Parses `text` with roxmltree and lists its records in document order (pre-order), reading
/// payloads recursively. `Err` when roxmltree rejects the document.
pub fn oracle(text: &str) -> Result<Vec<ORecord>, String> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let opts = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, opts).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let root = doc.root_element();
    let dictionary = root.tag_name().name() == "database";
    for child in root.children().filter(Node::is_element) {
        record(child, 0, dictionary, true, &mut out);
    }
    Ok(out)
}

fn record(node: Node, depth: usize, dictionary: bool, top: bool, out: &mut Vec<ORecord>) {
    let name = node.tag_name().name();
    let table = if dictionary {
        if top {
            "sys_db_object".to_string()
        } else if node
            .parent()
            .is_some_and(|p| p.tag_name().name() == "choice")
        {
            "sys_choice".to_string()
        } else {
            "sys_dictionary".to_string()
        }
    } else {
        name.to_string()
    };
    let at = out.len();
    out.push(ORecord {
        table,
        depth,
        fields: Vec::new(),
    });
    let mut fields = Vec::new();
    for child in node.children().filter(Node::is_element) {
        if dictionary {
            if child.tag_name().name() == "element" {
                record(child, depth, dictionary, false, out);
            } else {
                for grand in child.children().filter(Node::is_element) {
                    if grand.tag_name().name() == "element" {
                        record(grand, depth, dictionary, false, out);
                    }
                }
            }
            continue;
        }
        if child.has_attribute("action") {
            record(child, depth, dictionary, false, out);
            continue;
        }
        let text: String = child
            .children()
            .filter(Node::is_text)
            .filter_map(|t| t.text())
            .collect();
        if child.tag_name().name() == "payload" && text.trim_start().starts_with('<') {
            // A malformed payload contributes nothing (it passes through as text).
            let _ = oracle_payload(&text, depth + 1, out);
        }
        fields.push((child.tag_name().name().to_string(), text));
    }
    out[at].fields = fields;
}

fn oracle_payload(text: &str, depth: usize, out: &mut Vec<ORecord>) -> Result<(), String> {
    if depth > sn_retarget::model::MAX_PAYLOAD_DEPTH {
        return Ok(());
    }
    // Only `<record_update>` documents are payloads; other XML in the field stays text.
    let stripped = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let doc = Document::parse(stripped).map_err(|e| e.to_string())?;
    if doc.root_element().tag_name().name() != "record_update" {
        return Ok(());
    }
    let inner = oracle(text)?;
    out.extend(inner.into_iter().map(|mut r| {
        r.depth += depth;
        r
    }));
    Ok(())
}

/// The same view of the streaming reader's records.
pub fn ours(records: &[OwnedRecord]) -> Vec<ORecord> {
    records
        .iter()
        .map(|r| ORecord {
            table: r.table.clone(),
            depth: r.place.depth,
            fields: r
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.text.clone()))
                .collect(),
        })
        .collect()
}

/// Checks that the file bytes under each text field's span decode to the field's text through
/// every escaping layer (the offset maps are right).
pub fn check_spans(bytes: &[u8], records: &[OwnedRecord]) {
    use sn_retarget::model::{Escaping, ValueKind};
    for r in records {
        for f in &r.fields {
            if f.kind != ValueKind::Text {
                continue;
            }
            let mut text = String::from_utf8(bytes[f.file_span.range()].to_vec()).unwrap();
            // Undo the enclosing payload layers that escaped it, innermost last.
            for e in &r.escapings {
                if *e == Escaping::Escaped {
                    text = unescape(&text).into_owned();
                }
            }
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(
                unescape(&text),
                f.text,
                "{}.{} at {:?} (depth {})",
                r.table,
                f.name,
                f.file_span,
                r.place.depth
            );
        }
    }
}
