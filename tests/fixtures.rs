//! Every fixture: read, identity, agreement with the roxmltree oracle, inspect snapshots.

use sn_retarget::analyze::inspect::Inspector;
use sn_retarget::model::{Collect, Shape, read};
use sn_retarget::splice::Edits;

use crate::support::oracle::{check_spans, oracle, ours};
use crate::support::{collect, good_fixtures, malformed_fixtures, manifest_dir, self_splice};

fn name(path: &std::path::Path) -> String {
    path.strip_prefix(manifest_dir().join("fixtures"))
        .unwrap()
        .to_string_lossy()
        .replace(['/', '\\'], "__")
}

#[test]
fn every_fixture_reads_and_writes_back_byte_for_byte() {
    let files = good_fixtures();
    assert!(files.len() >= 20, "fixtures missing: {}", files.len());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let (_, records) = collect(&bytes);
        assert_eq!(Edits::new().apply_to_vec(&bytes).unwrap(), bytes);
        assert_eq!(self_splice(&bytes, &records), bytes, "{}", path.display());
    }
}

#[test]
fn every_fixture_agrees_with_the_dom_oracle() {
    for path in good_fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let (_, records) = collect(&bytes);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let expected = oracle(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(ours(&records), expected, "{}", path.display());
        check_spans(&bytes, &records);
    }
}

#[test]
fn inspect_snapshots() {
    for path in good_fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let mut inspector = Inspector::new();
        let label = name(&path);
        inspector.add(&label, &bytes).unwrap();
        let inventory = inspector.finish();
        let json = serde_json::to_string_pretty(&inventory).unwrap();
        insta::assert_snapshot!(format!("inspect_json__{label}"), json);
        insta::assert_snapshot!(format!("inspect_text__{label}"), inventory.to_string());
    }
}

#[test]
fn inspect_snapshots_of_malformed_files() {
    for path in malformed_fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        let mut inspector = Inspector::new();
        let label = name(&path);
        assert!(inspector.add(&label, &bytes).is_err());
        let inventory = inspector.finish();
        assert!(inventory.has_errors());
        let json = serde_json::to_string_pretty(&inventory).unwrap();
        insta::assert_snapshot!(format!("inspect_json__{label}"), json);
        insta::assert_snapshot!(format!("inspect_text__{label}"), inventory.to_string());
    }
}

#[test]
fn seed000_bundle_inventory() {
    let dir = manifest_dir().join("fixtures/seed000_dev");
    let mut inspector = Inspector::new();
    for path in crate::support::xml_files(&dir) {
        let bytes = std::fs::read(&path).unwrap();
        inspector.add(&name(&path), &bytes).unwrap();
    }
    let inv = inspector.finish();
    let tables: Vec<&str> = inv
        .files
        .iter()
        .flat_map(|f| f.records.iter().map(|r| r.table.as_str()))
        .collect();
    assert_eq!(
        tables,
        [
            "sn_se_instance",
            "sys_auth_profile_oauth2",
            "oauth_entity",
            "oauth_entity",
            "oauth_entity_profile"
        ]
    );
    let secrets: Vec<String> = inv
        .files
        .iter()
        .flat_map(|f| f.secrets.iter().map(|s| format!("{}.{}", s.table, s.field)))
        .collect();
    assert_eq!(
        secrets,
        [
            "sys_auth_profile_oauth2.password",
            "oauth_entity.client_secret",
            "oauth_entity.client_secret"
        ]
    );
    // Every reference between the four files resolves inside the bundle, except the scope.
    for f in &inv.files {
        for r in &f.references {
            assert_eq!(
                r.resolved,
                !matches!(r.field.as_str(), "sys_scope" | "sys_package"),
                "{r:?}"
            );
        }
    }
    let hosts: Vec<&str> = inv
        .files
        .iter()
        .flat_map(|f| f.hosts.iter().map(|h| h.host.as_str()))
        .collect();
    assert!(hosts.iter().all(|h| *h == "dev12345.service-now.com"));
    // The secret values are nowhere in the output.
    let json = serde_json::to_string(&inv).unwrap();
    let text = inv.to_string();
    for out in [&json, &text] {
        assert!(
            !out.contains('\u{FDDE}') && !out.contains("fSv3aoaTHat"),
            "secret leaked"
        );
    }
}

#[test]
fn shapes_are_recognised() {
    let cases = [
        ("unload_record.xml", Shape::RecordExport),
        ("unload_list.xml", Shape::ListExport),
        ("unload_mixed.xml", Shape::MixedExport),
        ("unload_empty.xml", Shape::EmptyUnload),
        ("unload_self_closed.xml", Shape::EmptyUnload),
        ("update_set_cdata.xml", Shape::UpdateSet),
        ("update_set_escaped.xml", Shape::UpdateSet),
        ("source_control_delete.xml", Shape::SourceControl),
        ("dictionary.xml", Shape::Dictionary),
        ("scripted_update_set.xml", Shape::ScriptedUpdateSet),
    ];
    for (file, shape) in cases {
        let bytes = std::fs::read(manifest_dir().join("fixtures").join(file)).unwrap();
        let (outcome, _) = collect(&bytes);
        assert_eq!(outcome.shape, shape, "{file}");
    }
}

#[test]
fn payload_records_know_where_they_live() {
    let bytes = std::fs::read(manifest_dir().join("fixtures/update_set_escaped.xml")).unwrap();
    let (outcome, records) = collect(&bytes);
    assert_eq!(outcome.payloads, 3);
    let version = records
        .iter()
        .find(|r| r.table == "sys_update_version")
        .unwrap();
    let inner = records.iter().find(|r| r.place.depth == 2).unwrap();
    assert_eq!(inner.place.payload_of, Some(version.index));
    assert_eq!(inner.escapings.len(), 2);
    let owner = &records[version.place.payload_of.unwrap()];
    assert_eq!(owner.table, "sys_update_xml");
    // The depth-2 script's text decodes from doubly escaped bytes in the file.
    let script = inner.field("script").unwrap();
    assert!(script.text.contains("https://dev12345.service-now.com"));
    let raw = &bytes[script.file_span.range()];
    assert!(
        raw.starts_with(b"&amp;lt;![CDATA["),
        "{}",
        String::from_utf8_lossy(raw)
    );
}

#[test]
fn jelly_inside_a_payload_stays_text() {
    let bytes = std::fs::read(manifest_dir().join("fixtures/update_set_jelly.xml")).unwrap();
    let (_, records) = collect(&bytes);
    assert_eq!(records.iter().map(|r| r.place.depth).max(), Some(1));
    let page = records.iter().find(|r| r.table == "sys_ui_page").unwrap();
    assert!(
        page.field("html")
            .unwrap()
            .text
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\" ?><j:jelly")
    );
}

#[test]
fn a_malformed_payload_is_a_warning_and_passes_through() {
    let bytes = std::fs::read(manifest_dir().join("fixtures/update_set_bad_payload.xml")).unwrap();
    let mut c = Collect::default();
    let outcome = read(&bytes, &mut c).unwrap();
    assert_eq!(outcome.diagnostics.len(), 1);
    let d = &outcome.diagnostics[0];
    assert_eq!(d.code, "malformed-payload");
    let loc = &d.location;
    assert_eq!(loc.payloads.len(), 1);
    assert_eq!(
        loc.payloads[0].sys_id.as_deref(),
        Some("5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0e")
    );
    let inner = loc.inner.unwrap();
    assert_eq!((inner.line, inner.column), (1, 139));
    // The file position points at the bad end tag's bytes in the file.
    let at = loc.file.offset as usize;
    assert!(
        bytes[at..].starts_with(b"&lt;/scrip&gt;"),
        "{}",
        String::from_utf8_lossy(&bytes[at..at + 20])
    );
    // Its records were withdrawn; the row itself stays, with its payload as text.
    assert_eq!(c.records.iter().filter(|r| r.place.depth > 0).count(), 1);
    let row = c
        .records
        .iter()
        .find(|r| r.sys_id.as_deref() == Some("5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0e"))
        .unwrap();
    assert!(!row.field("payload").unwrap().payload.unwrap().read);
    assert!(d.to_string().contains("38:"), "{d}");
}

#[test]
fn malformed_files_fail_with_line_and_column() {
    let expected = [
        ("concatenated.xml", 3, 1, "XML declaration not at the start"),
        ("doctype.xml", 2, 1, "DOCTYPE"),
        ("nested_cdata.xml", 4, 166, "mismatched end tag"),
        ("secret_line.xml", 4, 1, "expected '>'"),
    ];
    let files = malformed_fixtures();
    assert_eq!(files.len(), expected.len());
    for (file, line, column, what) in expected {
        let path = manifest_dir().join("fixtures/malformed").join(file);
        let bytes = std::fs::read(&path).unwrap();
        let err = read(&bytes, &mut Collect::default())
            .unwrap_err()
            .with_path(file);
        let pos = err.location().file;
        assert_eq!((pos.line, pos.column), (line, column), "{file}: {err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{file}:{line}:{column}: ")),
            "{msg}"
        );
        assert!(msg.contains(what), "{msg}");
        // roxmltree agrees these are not documents (DOCTYPE: refused by policy).
        let text = String::from_utf8(bytes).unwrap();
        assert!(oracle(&text).is_err(), "{file}");
    }
}

#[test]
fn secrets_never_reach_error_snippets() {
    let path = manifest_dir().join("fixtures/malformed/secret_line.xml");
    let bytes = std::fs::read(&path).unwrap();
    // Put the error on the secret's own line, just after it.
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("<name>x</name></oauth_entity\n", "</nam></oauth_entity>\n");
    let err = read(text.as_bytes(), &mut Collect::default()).unwrap_err();
    assert_eq!(err.location().file.line, 3, "{err}");
    let shown = format!(
        "{err}\n{}",
        err.location()
            .snippet
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(
        !shown.contains("bGVha2Vk") && !shown.contains('\u{FDDE}'),
        "{shown}"
    );
}
