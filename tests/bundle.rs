//! Bundles: import order, folders and zips in and out, manifest and checklist, safety.

use std::io::Write;
use std::process::Command;

use sn_retarget::bundle::{build, combine};
use sn_retarget::io::{InputError, Limits, load_inputs, read_zip, zip_bytes};
use sn_retarget::plan::Plan;

use crate::support::{RETARGET_ACME, bin, collect, manifest_dir, no_ciphertext, tmp, well_formed};

fn seed_zip(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<(String, Vec<u8>)> =
        crate::support::xml_files(&manifest_dir().join("fixtures/seed000_dev"))
            .into_iter()
            .map(|p| {
                (
                    format!("export/{}", p.file_name().unwrap().to_string_lossy()),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
    let path = dir.join("seed000.zip");
    std::fs::write(&path, zip_bytes(&files).unwrap()).unwrap();
    path
}

const EXPECTED: [&str; 4] = [
    "01_3_application_registries.xml",
    "02_4_oauth_entity_profile.xml",
    "03_2_oauth_user_profile.xml",
    "04_1_my_sn_instance.xml",
];

#[test]
fn seed000_folder_and_zip_come_out_ordered_with_manifest_and_checklist() {
    let d = tmp("bundle-seed");
    let zip = seed_zip(&d);
    let plan = Plan {
        target: Some("prod12345".into()),
        ..Plan::default()
    };
    for input in [manifest_dir().join("fixtures/seed000_dev"), zip] {
        let sources = load_inputs(std::slice::from_ref(&input), &Limits::default()).unwrap();
        let b = build(&plan, &sources).unwrap();
        let names: Vec<&str> = b.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[..4], EXPECTED, "{}", input.display());
        assert_eq!(
            names[4..],
            [
                "manifest.json",
                "CHECKLIST.md",
                "review.html",
                sn_retarget::bundle::MARKER
            ]
        );
        for (name, bytes) in &b.files[..4] {
            well_formed(name, bytes);
            no_ciphertext(name, bytes);
        }
        // The manifest's checksums are the outputs'.
        let m: serde_json::Value = serde_json::from_slice(&b.files[4].1).unwrap();
        for (entry, (_, bytes)) in m["order"].as_array().unwrap().iter().zip(&b.files) {
            use sha2::Digest;
            let hex: String = sha2::Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(entry["sha256"], hex.as_str());
        }
        assert_eq!(m["order"][1]["reason"]["kind"], "after");
        // The marker lists every other file with its checksum.
        let marker: serde_json::Value = serde_json::from_slice(&b.files[7].1).unwrap();
        assert_eq!(marker["made_by"], "sn-retarget bundle");
        let listed = marker["files"].as_array().unwrap();
        assert_eq!(listed.len(), 7);
        for (entry, (name, bytes)) in listed.iter().zip(&b.files) {
            use sha2::Digest;
            let hex: String = sha2::Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(entry["file"], name.as_str());
            assert_eq!(entry["sha256"], hex.as_str());
        }
        let checklist = String::from_utf8(b.files[5].1.clone()).unwrap();
        for needle in [
            "OAuth Client Dev\", field **client_secret**",
            "OAuth Provider Dev\", field **client_secret**",
            "Integration Account\", field **password**",
            "https://prod12345.service-now.com/oauth_entity.do?sys_id=a1c3e5f7091b2d3f4a5b6c7d8e9f0a1b",
            "Validate Connection",
            "Track",
        ] {
            assert!(
                checklist.contains(needle),
                "{needle} missing from\n{checklist}"
            );
        }
    }
}

#[test]
fn zip_in_zip_out_round_trips() {
    let d = tmp("bundle-zip");
    let zip = seed_zip(&d);
    let out = d.join("out.zip");
    let st = bin()
        .args(["bundle", "--target", "prod12345", "-q"])
        .arg(&zip)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let folder = d.join("out");
    let st = bin()
        .args(["bundle", "--target", "prod12345", "-q"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(&folder)
        .output()
        .unwrap();
    assert!(st.status.success());
    let entries = read_zip(&out, &std::fs::read(&out).unwrap(), &Limits::default()).unwrap();
    assert_eq!(
        entries.len(),
        4,
        "manifest.json and CHECKLIST.md are not *.xml"
    );
    for (name, bytes) in entries {
        assert_eq!(
            bytes,
            std::fs::read(folder.join(&name)).unwrap(),
            "{}",
            name.display()
        );
    }
    // The bundle zip goes back in as input, and comes out the same (already ordered and clean).
    let again = d.join("again.zip");
    let st = bin()
        .args(["bundle", "--target", "prod12345", "-q"])
        .arg(&out)
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap();
    assert!(st.status.success());
    let a = read_zip(&again, &std::fs::read(&again).unwrap(), &Limits::default()).unwrap();
    let names: Vec<String> = a.iter().map(|(n, _)| n.display().to_string()).collect();
    assert_eq!(names, EXPECTED.map(|n| format!("{}_{n}", &n[..2])));
}

#[test]
fn order_explains_itself() {
    let st = bin()
        .arg("order")
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .output()
        .unwrap();
    assert!(st.status.success());
    let text = String::from_utf8(st.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0].contains("3_application_registries.xml")
            && lines[0].contains("oauth_entity records go early")
    );
    assert!(
        lines[1].contains("4_oauth_entity_profile.xml")
            && lines[1].contains("after")
            && lines[1].contains("OAuth Provider Dev")
    );
    assert!(lines[3].contains("1_my_sn_instance.xml") && lines[3].contains("Integration Account"));
}

#[test]
fn second_run_refuses_without_force_and_leaves_nothing_partial() {
    let d = tmp("bundle-again");
    let out = d.join("b");
    let run = |force: bool| {
        let mut c = bin();
        c.args(["bundle", "--target", "acme", "-q"])
            .arg(manifest_dir().join("fixtures/seed000_dev"))
            .arg("--out")
            .arg(&out);
        if force {
            c.arg("--force");
        }
        c.output().unwrap()
    };
    assert!(run(false).status.success());
    let second = run(false);
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already exists"));
    assert!(run(true).status.success());
    // --force replaces only a previous bundle.
    let other = d.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "mine").unwrap();
    let st = bin()
        .args(["bundle", "--target", "acme", "--force"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(other.join("keep.txt").exists());
    // A malformed input: exit 2, nothing written, no staging folder left.
    let bad = d.join("bad");
    let st = bin()
        .args(["bundle", "--target", "acme"])
        .arg(manifest_dir().join("fixtures/malformed"))
        .arg("--out")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(!bad.exists());
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.iter().all(|n| !n.to_string_lossy().contains(".tmp")),
        "{left:?}"
    );
}

#[test]
fn hostile_archives_are_refused() {
    let d = tmp("bundle-hostile");
    // Zip-slip names.
    for evil in ["../evil.xml", "/abs/evil.xml"] {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file(evil, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"<unload/>").unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let path = d.join("slip.zip");
        std::fs::write(&path, &bytes).unwrap();
        let err = load_inputs(&[path], &Limits::default()).unwrap_err();
        assert!(
            matches!(err, InputError::UnsafeEntry { .. }),
            "{evil}: {err}"
        );
    }
    // A bomb: 50 MB of zeros deflate to a few KB; the limits count inflated bytes.
    let bomb = zip_bytes(&[("a.xml".into(), vec![b' '; 50_000_000])]).unwrap();
    assert!(bomb.len() < 200_000);
    let small = Limits {
        max_entry_bytes: 1_000_000,
        ..Limits::default()
    };
    let err = read_zip("bomb.zip".as_ref(), &bomb, &small).unwrap_err();
    assert!(err.to_string().contains("over the limit"), "{err}");
    let total = Limits {
        max_total_bytes: 10,
        ..Limits::default()
    };
    let two = zip_bytes(&[
        ("a.xml".into(), vec![b' '; 8]),
        ("b.xml".into(), vec![b' '; 8]),
    ])
    .unwrap();
    assert!(read_zip("t.zip".as_ref(), &two, &total).is_err());
    let few = Limits {
        max_entries: 1,
        ..Limits::default()
    };
    assert!(read_zip("t.zip".as_ref(), &two, &few).is_err());
    // Not a zip at all.
    let path = d.join("fake.zip");
    std::fs::write(&path, b"PK\x03\x04 not really").unwrap();
    assert!(matches!(
        load_inputs(&[path], &Limits::default()).unwrap_err(),
        InputError::Zip { .. }
    ));
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_out_of_a_folder() {
    let d = tmp("bundle-links");
    let inside = d.join("in");
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::copy(
        manifest_dir().join("fixtures/unload_record.xml"),
        inside.join("a.xml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        manifest_dir().join("fixtures/update_set_cdata.xml"),
        inside.join("b.xml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(manifest_dir().join("fixtures"), inside.join("all")).unwrap();
    let sources = load_inputs(&[inside], &Limits::default()).unwrap();
    let names: Vec<String> = sources
        .iter()
        .map(|s| s.relative.display().to_string())
        .collect();
    assert_eq!(names, ["a.xml"]);
}

#[test]
fn combine_writes_one_unload_in_import_order() {
    let sources = load_inputs(
        &[
            manifest_dir().join("fixtures/seed000_dev"),
            manifest_dir().join("fixtures/update_set_cdata.xml"),
        ],
        &Limits::default(),
    )
    .unwrap();
    let b = build(
        &Plan {
            target: Some("acme".into()),
            ..Plan::default()
        },
        &sources,
    )
    .unwrap();
    let outputs: Vec<(String, Vec<u8>)> = b.files[..5].to_vec();
    let (combined, order) = combine(&outputs).unwrap();
    well_formed("combined", &combined);
    let (_, records) = collect(&combined);
    let tops: Vec<&str> = records
        .iter()
        .filter(|r| r.place.depth == 0)
        .map(|r| r.table.as_str())
        .collect();
    assert_eq!(
        tops,
        [
            "oauth_entity",
            "oauth_entity",
            "oauth_entity_profile",
            "sys_auth_profile_oauth2",
            "sn_se_instance",
            "sys_remote_update_set",
            "sys_update_xml",
            "sys_update_xml"
        ]
    );
    assert!(order.cycles.is_empty());
    assert!(String::from_utf8_lossy(&combined).starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2026-05-29 09:17:05\">"
    ));
}

#[test]
fn one_thread_or_two_the_same_bytes() {
    let d = tmp("bundle-threads");
    let mut outs = Vec::new();
    let fixture = |name: &str| manifest_dir().join("fixtures").join(name);
    for threads in ["1", "2"] {
        let bundle = |inputs: &[std::path::PathBuf], out: &std::path::Path| {
            bin()
                .env("RAYON_NUM_THREADS", threads)
                .arg("bundle")
                .args(RETARGET_ACME)
                .arg("-q")
                .args(inputs)
                .arg("--out")
                .arg(out)
                .output()
                .unwrap()
        };
        // fixtures/ holds malformed files: refused as a whole.
        let st = bundle(&[fixture("")], &d.join(format!("t{threads}.zip")));
        assert_eq!(st.status.code(), Some(2));
        let out = d.join(format!("s{threads}.zip"));
        let st = bundle(
            &[
                fixture("seed000_dev"),
                fixture("update_set_escaped.xml"),
                fixture("source_control_delete.xml"),
            ],
            &out,
        );
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        outs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn strict_turns_warnings_into_exit_1() {
    let d = tmp("bundle-strict");
    let run = |strict: bool, quiet: bool, out: &str| {
        let mut c = bin();
        c.args(["bundle", "--target", "acme"])
            .arg(manifest_dir().join("fixtures/update_set_bad_payload.xml"))
            .arg("--out")
            .arg(d.join(out));
        if strict {
            c.arg("--strict");
        }
        if quiet {
            c.arg("-q");
        }
        c.output().unwrap()
    };
    let lax = run(false, false, "a");
    assert_eq!(lax.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&lax.stderr).contains("warning"));
    assert_eq!(run(true, false, "b").status.code(), Some(1));
    // Quiet: errors only on the terminal, the exit code as strict says.
    let quiet = run(true, true, "c");
    assert_eq!(quiet.status.code(), Some(1));
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_leaves_nothing_behind() {
    let d = tmp("bundle-ctrlc");
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let one = std::fs::read(manifest_dir().join("fixtures/update_set_escaped.xml")).unwrap();
    for i in 0..3000 {
        std::fs::write(input.join(format!("f{i:04}.xml")), &one).unwrap();
    }
    let out = d.join("out");
    let mut child = bin()
        .arg("bundle")
        .args(crate::support::RETARGET_ACME)
        .arg("-q")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let left: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    if status.code() == Some(130) {
        assert!(!out.exists(), "partial output left");
        assert_eq!(left, ["in"], "staging left: {left:?}");
    } else {
        // Finished before the signal: then it is whole.
        assert!(status.success());
        assert!(out.join("manifest.json").exists());
    }
}

#[test]
fn combine_through_the_cli_describes_one_file() {
    let d = tmp("bundle-combine");
    let out = d.join("c");
    let st = bin()
        .args(["bundle", "--combine", "--target", "acme", "-q"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["order"].as_array().unwrap().len(), 1);
    assert_eq!(m["order"][0]["file"], "01_combined.xml");
    assert_eq!(m["order"][0]["records"].as_array().unwrap().len(), 5);
    let checklist = std::fs::read_to_string(out.join("CHECKLIST.md")).unwrap();
    assert!(
        checklist.contains("in `01_combined.xml`") && !checklist.contains("04_"),
        "{checklist}"
    );
    // Only <unload> exports combine.
    let st = bin()
        .args(["bundle", "--combine", "--target", "acme", "-q"])
        .arg(manifest_dir().join("fixtures/dictionary.xml"))
        .arg("--out")
        .arg(d.join("bad"))
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("--combine takes <unload> exports only"));
}

#[test]
fn force_never_replaces_an_input_archive() {
    let d = tmp("bundle-forcezip");
    let zip = seed_zip(&d);
    let before = std::fs::read(&zip).unwrap();
    let st = bin()
        .args(["bundle", "--target", "acme", "--force", "-q"])
        .arg(&zip)
        .arg("--out")
        .arg(&zip)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert_eq!(std::fs::read(&zip).unwrap(), before);
}
