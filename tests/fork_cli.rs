//! `sn-retarget fork` from the command line: refusals (exit 2, nothing written), `--force`,
//! `--report` and `--map` back; namespace corner cases; `check --namespace`; `inspect`'s
//! applications.

use std::path::{Path, PathBuf};

use sn_retarget::fork::{App, ForkOptions, fork};

use crate::support::{Run, app, manifest_dir, sn, tmp};

const APP_ID: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const SCRIPT_ID: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const GLOBAL_REF: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";

/// A small application in ServiceNow's source-control layout: namespace `x_acme_app`, named
/// `Tiny`, its folder named by its sys_id; a script that also names `x_acme_app2` (another
/// identifier) and `x_acme_app_core` (another application's scope).
fn tiny_files() -> Vec<(PathBuf, Vec<u8>)> {
    let scope = format!(
        r#"<sys_package display_value="Tiny" source="x_acme_app">{APP_ID}</sys_package><sys_scope display_value="Tiny">{APP_ID}</sys_scope>"#
    );
    vec![
        (
            "sn_source_control.properties".into(),
            format!("# generated\npath={APP_ID}\n").into_bytes(),
        ),
        (format!("{APP_ID}/checksum.txt").into(), b"opaque".to_vec()),
        (
            format!("{APP_ID}/sys_app_{APP_ID}.xml").into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"sys_app\">\n    <sys_app action=\"INSERT_OR_UPDATE\">\n        <name>Tiny</name>\n        <scope>x_acme_app</scope>\n        <source>x_acme_app</source>\n        <vendor_prefix>acme</vendor_prefix>\n        <sys_id>{APP_ID}</sys_id>\n    </sys_app>\n</record_update>\n"
            )
            .into_bytes(),
        ),
        (
            format!("{APP_ID}/update/sys_script_include_{SCRIPT_ID}.xml").into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"sys_script_include\">\n    <sys_script_include action=\"INSERT_OR_UPDATE\">\n        <api_name>x_acme_app.Util</api_name>\n        <caller display_value=\"System Administrator\">{GLOBAL_REF}</caller>\n        <script><![CDATA[var t = new GlideRecord('x_acme_app_task'); new x_acme_app.Util(); gs.info('x_acme_app2'); x_acme_app_core.Api.call();]]></script>\n        <sys_id>{SCRIPT_ID}</sys_id>\n        {scope}\n        <sys_update_name>sys_script_include_{SCRIPT_ID}</sys_update_name>\n    </sys_script_include>\n</record_update>\n"
            )
            .into_bytes(),
        ),
        (
            format!("{APP_ID}/dictionary/x_acme_app_task.xml").into(),
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><database>\n    <element label=\"Task\" max_length=\"40\" name=\"x_acme_app_task\" type=\"collection\">\n        <element label=\"Parent\" max_length=\"32\" name=\"parent\" reference=\"x_acme_app_task\" type=\"reference\"/>\n    </element>\n</database>\n".to_vec(),
        ),
    ]
}

/// The small application written under `dir/tiny`.
fn tiny_app(dir: &Path) -> PathBuf {
    let root = dir.join("tiny");
    for (path, bytes) in tiny_files() {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    root
}

/// The small application's script include, changed by `edit`.
fn edit_script(app: &Path, edit: impl Fn(&str) -> String) {
    let file = app.join(format!(
        "{APP_ID}/update/sys_script_include_{SCRIPT_ID}.xml"
    ));
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, edit(&text)).unwrap();
}

/// Exit 2, the message, and nothing new in `dir` but `keep`.
fn assert_refused(out: &Run, says: &str, dir: &Path, keep: &[&str]) {
    let err = &out.stderr;
    assert_eq!(out.code, Some(2), "{err}");
    assert!(err.contains(says), "{err}");
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, keep, "something was written");
}

#[test]
fn fork_refuses_namespaces_that_are_not_scopes_or_the_same() {
    let dir = tmp("fork-bad-scope");
    let app = tiny_app(&dir);
    let out = dir.join("out");
    for (scope, says) in [
        ("x_acme", "x_<vendor prefix>_<name>"),
        ("X_acme_b", "lower-case"),
        ("y_acme_b", "starts with x_"),
        ("x_acme_far_too_long_name", "at most 18"),
        ("x_acme_b_", "start and end"),
        ("x__b", "vendor prefix is empty"),
        ("x_acme_app", "already x_acme_app"),
    ] {
        let o = sn(&[&"fork", &app, &"--scope", &scope, &"--out", &out]);
        assert_refused(&o, says, &dir, &["tiny"]);
    }
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_beta_app",
        &"--name",
        &" ",
        &"--out",
        &out,
    ]);
    assert_refused(&o, "--name must be non-empty", &dir, &["tiny"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fork_refuses_an_input_that_is_not_one_app() {
    let dir = tmp("fork-not-one");
    let out = dir.join("out");
    // Global-scope exports only.
    let none = manifest_dir().join("fixtures/update_set_escaped.xml");
    let o = sn(&[&"fork", &none, &"--scope", &"x_acme_b", &"--out", &out]);
    assert_refused(&o, "no scoped application", &dir, &[]);
    // Two applications side by side, without properties files.
    let two = dir.join("two");
    let first = tiny_app(&dir);
    std::fs::create_dir_all(&two).unwrap();
    let other = tiny_files()[2].1.clone();
    let other = String::from_utf8(other)
        .unwrap()
        .replace(APP_ID, "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4")
        .replace("x_acme_app", "x_other_app");
    std::fs::write(two.join("a.xml"), other).unwrap();
    std::fs::copy(
        first.join(format!("{APP_ID}/sys_app_{APP_ID}.xml")),
        two.join("b.xml"),
    )
    .unwrap();
    let o = sn(&[&"fork", &two, &"--scope", &"x_acme_b", &"--out", &out]);
    assert_refused(&o, "more than one application", &dir, &["tiny", "two"]);
    // Two repositories (two properties files).
    if let Some(apps) = app("needit").and_then(|p| p.parent().map(Path::to_path_buf)) {
        let o = sn(&[&"fork", &apps, &"--scope", &"x_acme_b", &"--out", &out]);
        assert_refused(&o, "more than one application", &dir, &["tiny", "two"]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fork_refuses_a_file_that_is_not_well_formed_with_where() {
    let dir = tmp("fork-malformed");
    let app = tiny_app(&dir);
    edit_script(&app, |t| t.replace("</api_name>", "</api_nam>"));
    let out = dir.join("out");
    let o = sn(&[&"fork", &app, &"--scope", &"x_beta_app", &"--out", &out]);
    assert_refused(
        &o,
        &format!("sys_script_include_{SCRIPT_ID}.xml:3:"),
        &dir,
        &["tiny"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fork_refuses_a_namespace_the_input_already_names() {
    let dir = tmp("fork-in-use");
    let app = tiny_app(&dir);
    let out = dir.join("out");
    let o = sn(&[&"fork", &app, &"--scope", &"x_acme_app2", &"--out", &out]);
    assert_refused(&o, "already names x_acme_app2", &dir, &["tiny"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fork_refuses_an_existing_output_and_replaces_only_its_own_earlier_fork() {
    let dir = tmp("fork-exists");
    let app = tiny_app(&dir);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("mine.txt"), "keep me").unwrap();
    let o = sn(&[&"fork", &app, &"--scope", &"x_beta_app", &"--out", &out]);
    assert_refused(&o, "already exists", &dir, &["out", "tiny"]);
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_beta_app",
        &"--out",
        &out,
        &"--force",
    ]);
    assert_refused(&o, "not a fork into x_beta_app", &dir, &["out", "tiny"]);
    assert_eq!(std::fs::read(out.join("mine.txt")).unwrap(), b"keep me");
    // Inside the input: refused too.
    let inside = app.join("fork");
    let o = sn(&[&"fork", &app, &"--scope", &"x_beta_app", &"--out", &inside]);
    assert_refused(&o, "inputs are never modified", &dir, &["out", "tiny"]);
    assert!(!inside.exists());

    std::fs::remove_dir_all(&out).unwrap();
    let o = sn(&[&"fork", &app, &"--scope", &"x_beta_app", &"--out", &out]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let first = std::fs::read_dir(&out).unwrap().count();
    // An earlier fork into the same namespace is replaced with --force, whole.
    std::fs::write(out.join("stale.txt"), "old").unwrap();
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_beta_app",
        &"--out",
        &out,
        &"--force",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(!out.join("stale.txt").exists());
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), first);
    // ... but not into another namespace.
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_gamma_app",
        &"--out",
        &out,
        &"--force",
    ]);
    assert_refused(&o, "not a fork into x_gamma_app", &dir, &["out", "tiny"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fork_writes_the_app_and_the_report_and_forks_back_from_the_report() {
    let dir = tmp("fork-cli");
    let app = tiny_app(&dir);
    let (out, report, back) = (dir.join("out"), dir.join("report.json"), dir.join("back"));
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_beta_app",
        &"--name",
        &"Tiny Two",
        &"--out",
        &out,
        &"--report",
        &report,
        &"--keep-scope",
        &"x_acme_app_core",
    ]);
    let err = o.stderr;
    assert_eq!(o.code, Some(0), "{err}");
    assert!(
        err.contains("sn-retarget fork: x_acme_app -> x_beta_app"),
        "{err}"
    );
    assert!(err.contains("checksum.txt dropped"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let new_app = json["app_sys_id"]["new"].as_str().unwrap();
    let new_script = json["id_map"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["old"] == SCRIPT_ID)
        .unwrap()["new"]
        .as_str()
        .unwrap();
    assert_eq!(json["summary"]["renamed"], 3);
    let script = out.join(format!(
        "{new_app}/update/sys_script_include_{new_script}.xml"
    ));
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.contains("new x_beta_app.Util(); gs.info('x_acme_app2'); x_acme_app_core.Api.call();")
    );
    assert!(text.contains(&format!(
        "<caller display_value=\"System Administrator\">{GLOBAL_REF}</caller>"
    )));
    assert!(text.contains("<sys_scope display_value=\"Tiny Two\">"));
    let sys_app =
        std::fs::read_to_string(out.join(format!("{new_app}/sys_app_{new_app}.xml"))).unwrap();
    assert!(
        sys_app.contains("<vendor_prefix>beta</vendor_prefix>"),
        "{sys_app}"
    );
    assert!(
        sys_app.contains("<scope>x_beta_app</scope>") && sys_app.contains("<name>Tiny Two</name>")
    );
    assert!(
        out.join(format!("{new_app}/dictionary/x_beta_app_task.xml"))
            .is_file()
    );
    assert!(!out.join(format!("{new_app}/checksum.txt")).exists());
    let props = std::fs::read_to_string(out.join("sn_source_control.properties")).unwrap();
    assert_eq!(props, format!("# generated\npath={new_app}\n"));
    let files = json["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .all(|f| f["input"].is_string() && f["output"].is_string())
    );

    let o = sn(&[
        &"fork",
        &out,
        &"--scope",
        &"x_acme_app",
        &"--name",
        &"Tiny",
        &"--out",
        &back,
        &"--map",
        &report,
        &"--map-reverse",
        &"--keep-scope",
        &"x_acme_app_core",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    for (path, bytes) in tiny_files() {
        if path.ends_with("checksum.txt") {
            assert!(!back.join(&path).exists());
        } else {
            assert_eq!(
                std::fs::read(back.join(&path)).unwrap(),
                bytes,
                "{}",
                path.display()
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_namespace_in_another_case_is_reported_not_renamed_and_nothing_is_written() {
    let dir = tmp("fork-shouted");
    let app = tiny_app(&dir);
    edit_script(&app, |t| {
        t.replace("gs.info('x_acme_app2')", "gs.info('X_ACME_APP.Util')")
    });
    let out = dir.join("out");
    let o = sn(&[&"fork", &app, &"--scope", &"x_beta_app", &"--out", &out]);
    assert_refused(&o, "written X_ACME_APP", &dir, &["tiny"]);
    let err = o.stderr;
    assert!(
        err.contains("error[old-namespace-left]") && err.contains("nothing was written"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_value_named_like_a_secret_stops_the_fork_until_declared() {
    let dir = tmp("fork-looks-secret");
    let app = tiny_app(&dir);
    let prop = app.join(format!(
        "{APP_ID}/update/sys_properties_e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5.xml"
    ));
    std::fs::write(&prop, format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"sys_properties\">\n    <sys_properties action=\"INSERT_OR_UPDATE\">\n        <name>x_acme_app.api_password</name>\n        <sys_id>e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5</sys_id>\n        <sys_scope display_value=\"Tiny\">{APP_ID}</sys_scope>\n        <type>string</type>\n        <value>hunter2</value>\n    </sys_properties>\n</record_update>\n")).unwrap();
    let out = dir.join("out");
    let o = sn(&[&"fork", &app, &"--scope", &"x_beta_app", &"--out", &out]);
    assert_refused(&o, "--secret-field", &dir, &["tiny"]);
    assert!(!o.stderr.contains("hunter2"));
    let selector = "sys_properties[name=x_acme_app.api_password].value";
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_beta_app",
        &"--out",
        &out,
        &"--secret-field",
        &selector,
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let written: Vec<u8> = walk(&out)
        .into_iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(!String::from_utf8_lossy(&written).contains("hunter2"));
    std::fs::remove_dir_all(&out).unwrap();
    let not = format!("{selector}=a label, not a password");
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_beta_app",
        &"--out",
        &out,
        &"--not-secret",
        &not,
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn longer_identifiers_stay_and_other_scopes_are_reported_or_kept() {
    let app = App::from_files(tiny_files());
    let plain = fork(&app, &ForkOptions::new("x_beta_app")).unwrap();
    let script = |f: &sn_retarget::fork::Forked| {
        f.files
            .iter()
            .find(|f| f.input.to_string_lossy().contains("sys_script_include"))
            .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
            .unwrap()
    };
    let text = script(&plain);
    // Unsure: renamed (it is in the application's namespace) and said.
    assert!(
        text.contains("x_beta_app_core.Api") && text.contains("'x_acme_app2'"),
        "{text}"
    );
    let warned = plain.report.warnings.join("\n");
    assert!(
        warned.contains("x_acme_app_core") && warned.contains("--keep-scope"),
        "{warned}"
    );
    assert!(
        !warned.contains("x_acme_app_task"),
        "a table it defines: {warned}"
    );
    // Kept when named.
    let kept = fork(
        &app,
        &ForkOptions {
            keep: vec!["x_acme_app_core".into()],
            ..ForkOptions::new("x_beta_app")
        },
    )
    .unwrap();
    assert!(script(&kept).contains("x_acme_app_core.Api.call()"));
    assert!(
        kept.report.warnings.is_empty(),
        "{:?}",
        kept.report.warnings
    );
}

#[test]
fn check_namespace_finds_every_leftover_and_none_after_a_fork() {
    let dir = tmp("fork-check");
    let app = tiny_app(&dir);
    let o = sn(&[
        &"check",
        &app,
        &"--namespace",
        &"x_acme_app",
        &"--format",
        &"json",
    ]);
    assert_eq!(o.code, Some(1));
    let json: serde_json::Value = o.json();
    let left: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "old-namespace-left")
        .collect();
    // Values, attributes, element and attribute names of the dictionary, the script (not
    // x_acme_app2), and every file.
    assert_eq!(left.len(), 9, "{left:?}");
    assert!(left.iter().any(|f| f["location"]["field"] == "script"));
    assert!(left.iter().any(|f| {
        f["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("x_acme_app_task.xml")
    }));
    let out = dir.join("out");
    let o = sn(&[
        &"fork",
        &app,
        &"--scope",
        &"x_beta_app",
        &"--out",
        &out,
        &"--keep-scope",
        &"x_acme_app_core",
    ]);
    assert_eq!(o.code, Some(0));
    let o = sn(&[
        &"check",
        &out,
        &"--namespace",
        &"x_acme_app",
        &"--keep-scope",
        &"x_acme_app_core",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    // The kept scope is the one name left.
    let o = sn(&[&"check", &out, &"--namespace", &"x_acme_app"]);
    assert_eq!(o.code, Some(1));
    assert_eq!(o.stdout.matches("error[old-namespace-left]").count(), 1);
    // Written in another case, still found.
    let shouted = dir.join("shouted.xml");
    std::fs::write(&shouted, "<unload><sys_script action=\"INSERT_OR_UPDATE\"><script>X_ACME_APP.Util</script></sys_script></unload>").unwrap();
    let o = sn(&[&"check", &shouted, &"--namespace", &"x_acme_app"]);
    assert_eq!(o.code, Some(1));
    assert!(o.stdout.contains("written X_ACME_APP"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_names_the_app_its_namespace_id_and_tables() {
    let dir = tmp("fork-inspect");
    let app = tiny_app(&dir);
    let o = sn(&[&"inspect", &app, &"--json"]);
    assert_eq!(o.code, Some(0));
    let json: serde_json::Value = o.json();
    let apps = json["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["namespace"], "x_acme_app");
    assert_eq!(apps[0]["sys_id"], APP_ID);
    assert_eq!(apps[0]["name"], "Tiny");
    assert_eq!(apps[0]["tables"], serde_json::json!(["x_acme_app_task"]));
    let o = sn(&[&"inspect", &app]);
    let text = o.stdout;
    assert!(
        text.contains(&format!(
            "applications:\n  x_acme_app {APP_ID} \"Tiny\": 2 record(s), tables: x_acme_app_task"
        )),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
