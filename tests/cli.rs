//! The binary: exit codes, text and JSON output, errors on stderr.

use std::process::Command;

use crate::support::manifest_dir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sn-retarget"))
}

#[test]
fn inspect_json_lists_files_and_records() {
    let out = bin()
        .arg("inspect")
        .arg("--json")
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    let regs = &files[2];
    assert_eq!(regs["shape"], "list_export");
    let recs = regs["records"].as_array().unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["table"], "oauth_entity");
    assert_eq!(recs[0]["depth"], 0);
    assert_eq!(recs[0]["action"], "INSERT_OR_UPDATE");
    assert_eq!(recs[1]["sys_id"], "b2d4f6a8102c3e4f5a6b7c8d9e0f1a2c");
    for key in ["references", "hosts", "scopes", "secrets"] {
        assert!(regs[key].is_array(), "{key}");
    }
    assert_eq!(regs["secrets"][0]["why"], "known_column");
}

#[test]
fn inspect_text_for_people() {
    let out = bin()
        .args(["inspect"])
        .arg(manifest_dir().join("fixtures/update_set_escaped.xml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("update set"), "{text}");
    assert!(text.contains("(payload of #6, depth 2)"), "{text}");
}

#[test]
fn malformed_input_exits_2_with_a_position() {
    let out = bin()
        .args(["inspect", "--json"])
        .arg(manifest_dir().join("fixtures/malformed/nested_cdata.xml"))
        .arg(manifest_dir().join("fixtures/unload_record.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("nested_cdata.xml:4:166: mismatched end tag"),
        "{err}"
    );
    // The good file is still inventoried, the bad one carries its error.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["error"]["location"]["file"]["line"], 4);
    assert_eq!(v["files"][1]["records"].as_array().unwrap().len(), 1);
}

#[test]
fn missing_input_exits_2() {
    let out = bin()
        .args(["inspect", "/nonexistent/file.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/file.xml"));
}
