//! `fork` on the two real applications of `SN_RETARGET_APPS` (default `../shared/apps`), read
//! in place: clean forks, the same structure, one id map, file names that match their records,
//! and forks forked back to the original bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sn_retarget::fork::{App, FileKind, ForkOptions, Forked, fork};
use sn_retarget::io::Limits;
use sn_retarget::model::OwnedRecord;

use crate::support::oracle::oracle;
use crate::support::{app, collect};

/// The two applications: folder, old namespace, new namespace.
const APPS: [(&str, &str, &str); 2] = [
    ("needit", "x_58872_needit", "x_acme_needit"),
    ("dms", "x_1312311_dms", "x_acme_dms"),
];

fn load(dir: &Path) -> App {
    App::load(dir, &Limits::default()).unwrap()
}

fn forked(app: &App, namespace: &str) -> Forked {
    let options = ForkOptions {
        details: true,
        ..ForkOptions::new(namespace)
    };
    fork(app, &options).unwrap_or_else(|e| panic!("{namespace}: {e}"))
}

fn is_xml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "xml")
}

/// Every sys_id a record of the input defines (any depth), and the records of each file.
fn defined_ids(app: &App) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for f in app.files.iter().filter(|f| is_xml(&f.path)) {
        for r in collect(&f.bytes).1 {
            if let Some(id) = r
                .sys_id
                .filter(|id| sn_retarget::analyze::refs::is_sys_id(id))
            {
                ids.insert(id);
            }
        }
    }
    ids
}

/// The document and every payload in it parse with roxmltree (an independent parser).
fn assert_well_formed(name: &Path, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap();
    let doc =
        roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{}: {e}", name.display()));
    for node in doc.descendants().filter(|n| n.has_tag_name("payload")) {
        let inner: String = node.children().filter_map(|c| c.text()).collect();
        if inner.trim_start().starts_with('<') {
            assert_well_formed(name, inner.as_bytes());
        }
    }
}

/// The names a file of the application may have: its main record's `sys_update_name`,
/// `<table>_<sys_id>`, or a dictionary's table name (compared without case: ServiceNow writes
/// `..._NULL` in the record and `..._null` in the name).
fn names_of(records: &[OwnedRecord]) -> Vec<String> {
    let top: Vec<&OwnedRecord> = records.iter().filter(|r| r.place.depth == 0).collect();
    let mut names = Vec::new();
    if let Some(f) = top
        .iter()
        .find_map(|r| r.field("sys_update_name").filter(|f| !f.text.is_empty()))
    {
        names.push(f.text.to_ascii_lowercase());
    }
    if let Some(r) = top.iter().find(|r| r.sys_id.is_some()) {
        names.push(format!(
            "{}_{}",
            r.table,
            r.sys_id.as_deref().unwrap_or_default()
        ));
    }
    if let Some((_, n)) = top
        .first()
        .and_then(|r| r.attrs.iter().find(|(a, _)| a == "name"))
    {
        names.push(n.clone());
    }
    names
}

fn assert_names_match(path: &Path, bytes: &[u8]) {
    let stem = path
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .to_ascii_lowercase();
    let names = names_of(&collect(bytes).1);
    assert!(
        names.contains(&stem),
        "{}: file named {stem}, records say {names:?}",
        path.display()
    );
}

#[test]
fn both_apps_fork_cleanly() {
    for (name, old, new) in APPS {
        let Some(dir) = app(name) else { return };
        let app = load(&dir);
        let out = forked(&app, new);
        let report = &out.report;
        let defined = defined_ids(&app);
        let app_id = &report.app_sys_id.old;
        assert!(
            defined.contains(app_id),
            "{name}: the sys_app record is in the folder"
        );
        assert_eq!(report.namespace.old, old);

        // No old namespace, no id the input defines, in any file's contents or path.
        for f in &out.files {
            let text = String::from_utf8_lossy(&f.bytes).to_ascii_lowercase();
            let path = f.output.to_string_lossy().to_string();
            assert!(
                !text.contains(old) && !path.contains(old),
                "{}: {old} left",
                path
            );
            for id in &defined {
                assert!(!text.contains(id.as_str()), "{path}: old id {id} left");
                assert!(
                    !path.contains(id.as_str()),
                    "{path}: old id {id} in the path"
                );
            }
        }
        // The fork's own check agrees: no leftover, no secret.
        let leftovers: Vec<_> = report
            .apply
            .findings
            .iter()
            .filter(|f| f.severity == sn_retarget::Severity::Error)
            .collect();
        assert!(leftovers.is_empty(), "{name}: {leftovers:?}");

        // One id map for all files: every defined id, each to its own new id.
        let map: BTreeMap<&str, &str> = report
            .apply
            .id_map
            .iter()
            .map(|p| (p.old.as_str(), p.new.as_str()))
            .collect();
        assert_eq!(map.len(), report.apply.id_map.len());
        for id in &defined {
            assert!(
                map.contains_key(id.as_str()),
                "{name}: {id} not regenerated"
            );
        }
        let news: BTreeSet<&str> = map.values().copied().collect();
        assert_eq!(news.len(), map.len(), "{name}: two ids became one");
        assert!(news.iter().all(|n| !defined.contains(*n)));
        assert_eq!(map[app_id.as_str()], report.app_sys_id.new);

        let inputs: BTreeMap<&Path, &[u8]> = app
            .files
            .iter()
            .map(|f| (f.path.as_path(), f.bytes.as_slice()))
            .collect();
        for f in out.files.iter().filter(|f| f.kind == FileKind::Xml) {
            let before = inputs[f.input.as_path()];
            assert_well_formed(&f.output, &f.bytes);
            // The same records, tables renamed; every id through the one map.
            let (a, b) = (collect(before).1, collect(&f.bytes).1);
            assert_eq!(a.len(), b.len(), "{}", f.output.display());
            let oa = oracle(std::str::from_utf8(before).unwrap()).unwrap();
            let ob = oracle(std::str::from_utf8(&f.bytes).unwrap()).unwrap();
            assert_eq!(oa.len(), ob.len(), "{}", f.output.display());
            for (ra, rb) in a.iter().zip(&b) {
                assert_eq!(ra.table.replace(old, new), rb.table);
                assert_eq!((ra.place, ra.fields.len()), (rb.place, rb.fields.len()));
                if let (Some(ia), Some(ib)) = (&ra.sys_id, &rb.sys_id) {
                    assert_eq!(map.get(ia.as_str()).copied().unwrap_or(ia), ib);
                }
                for (fa, fb) in ra.fields.iter().zip(&rb.fields) {
                    if fa.attrs.iter().any(|(n, _)| n == "display_value") {
                        let t = fa.text.trim();
                        let renamed = t.replace(old, new);
                        let expected = map.get(t).copied().unwrap_or(&renamed);
                        assert_eq!(expected, fb.text.trim());
                    }
                }
            }
            // File names match their records, before and after.
            if f.input.components().count() > 1 || f.input.starts_with("sys_app_") {
                assert_names_match(&f.input, before);
                assert_names_match(&f.output, &f.bytes);
            }
        }
    }
}

#[test]
fn fork_keeps_the_folder_structure_and_follows_the_app_folder() {
    for (name, old, new) in APPS {
        let Some(dir) = app(name) else { return };
        let app = load(&dir);
        let out = forked(&app, new);
        let app_old = &out.report.app_sys_id.old;
        let app_new = &out.report.app_sys_id.new;
        // Every input file but checksum.txt is there, as deep, in the folder renamed the same.
        let written: BTreeSet<&PathBuf> = out.files.iter().map(|f| &f.output).collect();
        assert_eq!(written.len(), out.files.len());
        for f in &app.files {
            let dropped = f.path.file_name().is_some_and(|n| n == "checksum.txt");
            let w = out.files.iter().find(|o| o.input == f.path);
            assert_eq!(w.is_none(), dropped, "{}", f.path.display());
            if let Some(w) = w {
                assert_eq!(w.input.components().count(), w.output.components().count());
                let rename = |p: &Path| {
                    p.to_string_lossy()
                        .replace(app_old.as_str(), app_new)
                        .replace(old, new)
                };
                let (pi, po) = (w.input.parent().unwrap(), w.output.parent().unwrap());
                assert_eq!(rename(pi), po.to_string_lossy(), "{}", w.input.display());
            }
        }
        assert!(
            out.files
                .iter()
                .any(|f| f.output.ends_with(format!("sys_app_{app_new}.xml")))
        );
        let props = out
            .files
            .iter()
            .find(|f| f.kind == FileKind::Properties)
            .unwrap();
        let text = String::from_utf8_lossy(&props.bytes);
        let path_line = text.lines().find(|l| l.starts_with("path=")).unwrap();
        if name == "dms" {
            // The folder was named by the application's sys_id: it follows.
            assert_eq!(path_line, format!("path={app_new}"));
            assert!(
                out.files
                    .iter()
                    .all(|f| f.kind == FileKind::Properties || f.output.starts_with(app_new))
            );
        } else {
            assert_eq!(path_line, "path=");
            assert_eq!(
                props.bytes,
                app.files
                    .iter()
                    .find(|f| f.path == props.input)
                    .unwrap()
                    .bytes
            );
        }
        assert!(out.report.to_string().contains("checksum.txt dropped"));
    }
}

#[test]
fn forking_the_fork_back_gives_every_original_file_byte_for_byte() {
    for (k, (name, old, new)) in APPS.into_iter().enumerate() {
        let Some(dir) = app(name) else { return };
        let app = load(&dir);
        // One of the two also renames the application, and back.
        let rename = k == 1;
        let mut options = ForkOptions::new(new);
        if rename {
            options.name = Some("Forked & <Renamed>".into());
        }
        let there = fork(&app, &options).unwrap();
        let fork_app = App::from_files(
            there
                .files
                .iter()
                .map(|f| (f.output.clone(), f.bytes.clone()))
                .collect(),
        );
        let mut back_options = ForkOptions::new(old);
        back_options.map = there
            .report
            .apply
            .id_map
            .iter()
            .map(|p| (p.new.clone(), p.old.clone()))
            .collect();
        if rename {
            back_options.name = Some(there.report.name.old.clone());
            assert!(there.files.iter().any(|f| {
                String::from_utf8_lossy(&f.bytes).contains("Forked &amp; &lt;Renamed&gt;")
            }));
        }
        let back = fork(&fork_app, &back_options).unwrap();
        let originals: BTreeMap<&PathBuf, &Vec<u8>> = app
            .files
            .iter()
            .filter(|f| f.path.file_name().is_none_or(|n| n != "checksum.txt"))
            .map(|f| (&f.path, &f.bytes))
            .collect();
        let returned: BTreeMap<&PathBuf, &Vec<u8>> =
            back.files.iter().map(|f| (&f.output, &f.bytes)).collect();
        assert_eq!(originals.len(), returned.len(), "{name}");
        for (path, bytes) in &originals {
            let got = returned
                .get(path)
                .unwrap_or_else(|| panic!("{name}: {} missing", path.display()));
            assert!(got == bytes, "{name}: {} differs", path.display());
        }
        assert_eq!(
            back.report.apply.id_map.len(),
            there.report.apply.id_map.len()
        );
    }
}

#[test]
fn forks_are_deterministic_and_depend_on_the_namespace_and_seed() {
    let Some(dir) = app("dms") else { return };
    let app = load(&dir);
    let a = forked(&app, "x_acme_dms");
    let b = forked(&app, "x_acme_dms");
    assert_eq!(a.files, b.files);
    let ids = |f: &Forked| -> BTreeSet<String> {
        f.report
            .apply
            .id_map
            .iter()
            .map(|p| p.new.clone())
            .collect()
    };
    let other_ns = forked(&app, "x_beta_dms");
    assert!(
        ids(&a).is_disjoint(&ids(&other_ns)),
        "two forks of one app collide"
    );
    let seeded = fork(
        &app,
        &ForkOptions {
            seed: "s2".into(),
            ..ForkOptions::new("x_acme_dms")
        },
    )
    .unwrap();
    assert!(ids(&a).is_disjoint(&ids(&seeded)));
}

#[test]
fn an_update_set_of_an_app_forks_and_its_app_id_changes_without_its_record() {
    let path =
        crate::support::corpus_dir().join("mmsn__servicenow_for_mattermost_notifications_v2.3.xml");
    if !path.is_file() {
        println!("{} absent: skipped", path.display());
        return;
    }
    let app = load(&path);
    let out = forked(&app, "x_acme_mm");
    let r = &out.report;
    assert_eq!(r.namespace.old, "x_830655_mm_std");
    assert_eq!(r.app_sys_id.old, "d8e8fb312f73011063df52172799b6f2");
    let [file] = out.files.as_slice() else {
        panic!()
    };
    assert_eq!(file.output, file.input);
    assert_well_formed(&file.output, &file.bytes);
    let text = String::from_utf8_lossy(&file.bytes);
    assert!(!text.contains("x_830655_mm_std") && !text.contains(&r.app_sys_id.old));
    assert!(text.contains("<application_scope>x_acme_mm</application_scope>"));
    // The update set and its rows are new records too.
    assert!(!text.contains("5fb427f747102110442b84d7536d4369"));
    assert!(
        r.apply
            .findings
            .iter()
            .all(|f| f.severity != sn_retarget::Severity::Error)
    );
}

#[test]
fn a_zip_of_an_app_forks_as_its_folder_does() {
    let Some(dir) = app("dms") else { return };
    let folder = load(&dir);
    let entries: Vec<(String, Vec<u8>)> = folder
        .files
        .iter()
        .map(|f| (f.path.to_string_lossy().replace('\\', "/"), f.bytes.clone()))
        .collect();
    let tmp = crate::support::tmp("fork-zip");
    let zip = tmp.join("dms.zip");
    std::fs::write(&zip, sn_retarget::io::zip_bytes(&entries).unwrap()).unwrap();
    let zipped = load(&zip);
    assert_eq!(zipped.files, folder.files);
    assert_eq!(
        forked(&zipped, "x_acme_dms").files,
        forked(&folder, "x_acme_dms").files
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}
