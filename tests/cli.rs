//! The binary: exit codes, text and JSON output, errors on stderr.

use crate::support::{RETARGET_ACME, bin, manifest_dir, tmp};

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

#[test]
fn apply_folder_to_folder_with_report() {
    let d = tmp("cli-apply");
    let out = d.join("out");
    let report = d.join("report.json");
    let st = bin()
        .arg("apply")
        .args(RETARGET_ACME)
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let summary = String::from_utf8_lossy(&st.stderr);
    assert!(
        summary.contains("4 file(s)") && summary.contains("3 secret(s) to re-enter"),
        "{summary}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 4);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["files"].as_array().unwrap().len(), 4);
    assert!(r["id_map"].as_array().unwrap().len() >= 5);
    assert!(!String::from_utf8_lossy(&std::fs::read(&report).unwrap()).contains('\u{FDDE}'));

    // A second run refuses to overwrite; --force replaces.
    let again = bin()
        .args(["apply", "--target", "acme"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let forced = bin()
        .args(["apply", "--target", "acme", "--force"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(forced.status.success());
}

#[test]
fn apply_refuses_bad_input_and_writes_nothing() {
    let d = tmp("cli-bad");
    let out = d.join("out.xml");
    let st = bin()
        .args(["apply", "--target", "acme"])
        .arg(manifest_dir().join("fixtures/malformed/nested_cdata.xml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("nested_cdata.xml:4:166"));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&d).unwrap().count(),
        0,
        "no temporary file left"
    );
    // An unusable plan: exit 2, nothing written.
    let st = bin()
        .args(["apply", "--source", "dev1"])
        .arg(manifest_dir().join("fixtures/unload_record.xml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn apply_never_writes_over_an_input() {
    let d = tmp("cli-input");
    let input = d.join("x.xml");
    std::fs::copy(manifest_dir().join("fixtures/unload_record.xml"), &input).unwrap();
    let st = bin()
        .args(["apply", "--target", "acme", "--force"])
        .arg(&input)
        .arg("--out")
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        std::fs::read(manifest_dir().join("fixtures/unload_record.xml")).unwrap()
    );
}

#[test]
fn dry_run_reports_and_writes_nothing() {
    let d = tmp("cli-dry");
    let out = d.join("o.xml");
    let st = bin()
        .args([
            "apply",
            "--dry-run",
            "--target",
            "acme",
            "--source",
            "dev12345",
        ])
        .arg(manifest_dir().join("fixtures/update_set_cdata.xml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success());
    assert!(!out.exists());
    let r: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(r["totals"]["host"], 2);
}

#[test]
fn plan_then_apply_with_the_plan_and_undo_with_the_reversed_map() {
    let d = tmp("cli-plan");
    let plan = d.join("plan.toml");
    let input = manifest_dir().join("fixtures/update_set_escaped.xml");
    let st = bin()
        .args(["plan", "--target", "acme"])
        .arg(&input)
        .arg("-o")
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let text = std::fs::read_to_string(&plan).unwrap();
    let host = "# \"dev12345.service-now.com\" = \"acme.service-now.com\"";
    assert!(text.contains(host), "{text}");
    // Edit it as a user would: move the host, regenerate ids.
    std::fs::write(
        &plan,
        text.replace("sys_ids = \"keep\"", "sys_ids = \"regenerate\"")
            .replace(host, &host[2..]),
    )
    .unwrap();
    let out = d.join("out.xml");
    let report = d.join("r.json");
    let st = bin()
        .arg("apply")
        .arg(&input)
        .arg("--plan")
        .arg(&plan)
        .args(["--secrets", "keep", "--out"])
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let mut csv = String::from("old,new\n");
    for p in r["id_map"].as_array().unwrap() {
        csv.push_str(&format!(
            "{},{}\n",
            p["old"].as_str().unwrap(),
            p["new"].as_str().unwrap()
        ));
    }
    let map = d.join("map.csv");
    std::fs::write(&map, csv).unwrap();
    let back = d.join("back.xml");
    let st = bin()
        .arg("apply")
        .arg(&out)
        .args([
            "--target",
            "dev12345",
            "--source",
            "acme",
            "--secrets",
            "keep",
            "--map-reverse",
            "--map",
        ])
        .arg(&map)
        .arg("--out")
        .arg(&back)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(&input).unwrap()
    );
}
