//! Issue 13, item by item: intent, host map, labels, names that follow, selectors, records
//! that already exist, the doctor rules for intent mistakes, and the command line's edges
//! (`--out X.xml`, `--report` to a special file, `--quiet` and summarised findings).

use sn_retarget::apply::{Applied, apply};
use sn_retarget::check::Finding;
use sn_retarget::model::OwnedRecord;
use sn_retarget::plan::fit::MisfitError;
use sn_retarget::plan::{Intent, Plan, PlanError};
use sn_retarget::{Error, ErrorKind};

use crate::support::{bin, collect, fixture_files, manifest_dir, tmp, xml_escaped};

fn try_run(plan: &Plan, files: &[(String, Vec<u8>)]) -> Result<Applied, Error> {
    let inputs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let mut applied = apply(plan, &inputs, true)?;
    sn_retarget::apply::check_outputs(plan, &mut applied)?;
    for o in &applied.outputs {
        if !o.bytes.is_empty() {
            crate::support::well_formed(&o.name, &o.bytes);
        }
    }
    Ok(applied)
}

fn run(plan: &Plan, files: &[(String, Vec<u8>)]) -> Applied {
    try_run(plan, files).unwrap_or_else(|e| panic!("{e}"))
}

fn records(applied: &Applied) -> Vec<OwnedRecord> {
    applied
        .outputs
        .iter()
        .zip(&applied.report.files)
        .filter(|(_, f)| !f.dropped)
        .flat_map(|(o, _)| collect(&o.bytes).1)
        .collect()
}

fn named<'r>(rs: &'r [OwnedRecord], name: &str) -> &'r OwnedRecord {
    rs.iter()
        .find(|r| r.field("name").is_some_and(|f| f.text.trim() == name))
        .unwrap_or_else(|| panic!("no record named {name}"))
}

fn text<'r>(r: &'r OwnedRecord, field: &str) -> &'r str {
    r.field(field).map_or("", |f| f.text.as_str())
}

fn display<'r>(r: &'r OwnedRecord, field: &str) -> &'r str {
    r.field(field)
        .and_then(|f| f.attrs.iter().find(|(k, _)| k == "display_value"))
        .map_or("", |(_, v)| v.as_str())
}

fn found<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

fn plan(f: impl FnOnce(&mut Plan)) -> Plan {
    let mut p = Plan::default();
    f(&mut p);
    p
}

fn hosts(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// 1. Intent.

#[test]
fn copy_is_the_default_without_a_host_map_and_move_with_one() {
    let dev = fixture_files("seed000_dev", true);
    let copy = run(&plan(|p| p.target = Some("prod12345".into())), &dev);
    assert_eq!(copy.report.intent, Intent::Copy);
    assert!(copy.report.hosts.is_empty());
    let moved = run(&plan(|p| p.hosts = hosts(&[("dev12345", "acme")])), &dev);
    assert_eq!(moved.report.intent, Intent::Move);
    assert_eq!(moved.report.target.as_deref(), Some("acme.service-now.com"));
    assert_eq!(moved.report.hosts[0].from, "dev12345.service-now.com");
}

#[test]
fn an_intent_the_plan_contradicts_is_refused() {
    let dev = fixture_files("seed000_dev", true);
    for (p, says) in [
        (
            plan(|p| {
                p.intent = Some(Intent::Copy);
                p.hosts = hosts(&[("dev12345", "acme")]);
            }),
            "no host is mapped",
        ),
        (
            plan(|p| {
                p.intent = Some(Intent::Copy);
                p.sys_ids = sn_retarget::plan::IdMode::Regenerate;
            }),
            "ids kept",
        ),
        (
            plan(|p| {
                p.intent = Some(Intent::Copy);
                p.labels = hosts(&[("Dev", "Prod")]);
            }),
            "labels rename",
        ),
        (
            plan(|p| {
                p.intent = Some(Intent::Move);
                p.target = Some("acme".into());
            }),
            "give --host OLD=NEW",
        ),
    ] {
        match try_run(&p, &dev).map_err(Error::into_kind) {
            Err(ErrorKind::Plan(e @ PlanError::IntentConflict { .. })) => {
                assert!(e.to_string().contains(says), "{e}")
            }
            other => panic!("{p:?}: {:?}", other.map(|_| ())),
        }
    }
    let d = tmp("intent-derive-keep");
    let out = bin()
        .args(["apply", "--intent", "derive", "--sys-ids", "keep", "--host"])
        .arg("dev12345=acme")
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sys-ids keep contradicts"));
    assert!(!d.join("out").exists());
}

#[test]
fn plan_writes_the_intent_first_and_the_host_map_commented_out() {
    let out = bin()
        .args(["plan", "--target", "prod12345"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().find(|l| l.contains("intent")).unwrap();
    assert!(
        first.starts_with("# The intent: what the output is for"),
        "{first}"
    );
    for seed in [
        "Seed 000 stage 3",
        "stage 8",
        "Seeds 001/004",
        "002",
        "003",
        "stage 6",
    ] {
        assert!(text.contains(seed), "{seed}");
    }
    assert!(text.contains("# intent = \"copy\"\n# intent = \"move\"\n# intent = \"derive\""));
    assert!(text.contains("# \"dev12345.service-now.com\" = \"prod12345.service-now.com\""));
    assert!(!text.contains("oauth_entity.client_id\" keeps a provider"));
    let p: Plan = toml::from_str(&text).unwrap();
    assert!(p.hosts.is_empty() && p.sources.is_empty() && p.intent.is_none());
    assert_eq!(p.compile().unwrap().intent, Intent::Copy);
}

// 2. Host map.

#[test]
fn several_sources_the_input_holds_are_refused_naming_them() {
    let d = tmp("intent-merge");
    let out = bin()
        .arg("apply")
        .arg(manifest_dir().join("fixtures/seed003_pipeline"))
        .args([
            "--source", "dev1", "--source", "test1", "--source", "prod1", "--target", "acme",
            "--out",
        ])
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for h in [
        "dev1.service-now.com",
        "test1.service-now.com",
        "prod1.service-now.com",
        "--host dev1=",
    ] {
        assert!(err.contains(h), "{h}: {err}");
    }
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0, "nothing written");
}

#[test]
fn a_source_the_input_does_not_name_is_refused_naming_those_it_does() {
    let dev = fixture_files("seed000_dev", true);
    for p in [
        plan(|p| {
            p.target = Some("acme".into());
            p.sources = strings(&["dev1234"]);
        }),
        plan(|p| p.hosts = hosts(&[("dev1234", "acme")])),
    ] {
        match try_run(&p, &dev).map_err(Error::into_kind) {
            Err(ErrorKind::Misfit(e @ MisfitError::HostNotFound { .. })) => {
                let e = e.to_string();
                assert!(e.contains("dev1234.service-now.com"), "{e}");
                assert!(e.contains("it names dev12345.service-now.com"), "{e}");
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
    // A host met only as a bare name counts as named.
    let bare = vec![(
        "bare.xml".to_string(),
        b"<unload><sn_se_instance action=\"INSERT_OR_UPDATE\"><instance_name>dev77</instance_name><name>dev77</name><sys_id>0123456789abcdef0123456789abcdef</sys_id></sn_se_instance></unload>".to_vec(),
    )];
    let moved = run(&plan(|p| p.hosts = hosts(&[("dev77", "acme")])), &bare);
    let r = &records(&moved)[0];
    assert_eq!(
        (text(r, "instance_name"), text(r, "name")),
        ("acme", "acme")
    );
}

#[test]
fn instances_merged_by_hand_leave_a_duplicate_redirect_error() {
    let pipeline = fixture_files("seed003_pipeline", true);
    let merged = run(
        &plan(|p| {
            p.hosts = hosts(&[("prod1", "acme"), ("dev1", "acme"), ("test1", "acme")]);
        }),
        &pipeline,
    );
    let dups = found(&merged.report.findings, "redirect-duplicate");
    assert_eq!(dups.len(), 3, "{:?}", merged.report.findings);
    assert!(
        dups.iter()
            .all(|f| f.severity == sn_retarget::Severity::Error)
    );
    assert!(dups[0].message.contains("Pipeline Controller Client"));
}

// 3. Labels, and whole-word replacements.

#[test]
fn labels_rename_whole_words_of_display_fields_only() {
    let dev = fixture_files("seed000_dev", true);
    let out = records(&run(
        &plan(|p| {
            p.hosts = hosts(&[("dev12345", "acme")]);
            p.labels = hosts(&[("Dev", "Prod")]);
        }),
        &dev,
    ));
    named(&out, "OAuth Client Prod");
    named(&out, "OAuth Provider Prod default_profile");
    named(&out, "Development"); // not "Prodelopment"
    named(&out, "Integration Account");
    // A label no display field holds is a warning.
    let none = run(
        &plan(|p| {
            p.hosts = hosts(&[("dev12345", "acme")]);
            p.labels = hosts(&[("Staging", "Live")]);
        }),
        &dev,
    );
    assert!(
        none.report
            .warnings
            .iter()
            .any(|w| w.contains("--label Staging=Live")),
        "{:?}",
        none.report.warnings
    );
}

#[test]
fn replace_matches_whole_words_and_replace_substring_any_occurrence() {
    let dev = fixture_files("seed000_dev", true);
    let words = records(&run(
        &plan(|p| p.replace = strings(&["sn_se_instance.name:Dev=Prod"])),
        &dev,
    ));
    named(&words, "Development");
    let warned = run(
        &plan(|p| p.replace = strings(&["sn_se_instance.name:Dev=Prod"])),
        &dev,
    );
    assert!(
        warned.report.warnings[0].contains("use --replace-substring"),
        "{:?}",
        warned.report.warnings
    );
    let inside = records(&run(
        &plan(|p| p.replace_substring = strings(&["sn_se_instance.name:Dev=Prod"])),
        &dev,
    ));
    named(&inside, "Prodelopment");
}

// 4. Names follow.

const ID1: &str = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a01";
const ID2: &str = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a02";

/// An update set whose escaped payload defines "OAuth Provider Dev" and whose CDATA payload
/// (and a sys_update_version inside it, one level deeper) references it.
fn update_set() -> Vec<u8> {
    let entity = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"oauth_entity\"><oauth_entity action=\"INSERT_OR_UPDATE\"><name>OAuth Provider Dev</name><type>oauth_provider</type><sys_id>{ID1}</sys_id></oauth_entity></record_update>"
    );
    let escaped = xml_escaped(&entity);
    let deep = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"oauth_entity_profile\"><oauth_entity_profile action=\"INSERT_OR_UPDATE\"><name>old</name><oauth_entity display_value=\"OAuth Provider Dev\">{ID1}</oauth_entity><sys_id>{ID2}</sys_id></oauth_entity_profile></record_update>"
    );
    let deep_escaped = xml_escaped(&deep);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><unload unload_date="2026-06-01 10:00:00">
<sys_update_xml action="INSERT_OR_UPDATE"><name>oauth_entity_{ID1}</name><payload>{escaped}</payload><target_name>OAuth Provider Dev</target_name><sys_id>1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b01</sys_id></sys_update_xml>
<sys_update_xml action="INSERT_OR_UPDATE"><name>oauth_entity_profile_{ID2}</name><payload><![CDATA[<?xml version="1.0" encoding="UTF-8"?><record_update table="oauth_entity_profile"><oauth_entity_profile action="INSERT_OR_UPDATE"><name>OAuth Provider Dev default_profile</name><oauth_entity display_value="OAuth Provider Dev">{ID1}</oauth_entity><sys_id>{ID2}</sys_id></oauth_entity_profile><sys_update_version action="INSERT_OR_UPDATE"><name>oauth_entity_profile_{ID2}</name><payload>{deep_escaped}</payload><sys_id>1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b03</sys_id></sys_update_version></record_update>]]></payload><sys_id>1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b02</sys_id></sys_update_xml>
</unload>
"#
    )
    .into_bytes()
}

#[test]
fn display_values_follow_a_renamed_record_at_every_depth_and_across_files() {
    let instance = format!(
        "<unload><sn_se_instance action=\"INSERT_OR_UPDATE\"><name>Prod link</name><oauth_application_registry display_value=\"OAuth Provider Dev\">{ID1}</oauth_application_registry><other display_value=\"not the name\">{ID1}</other><sys_id>2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c01</sys_id></sn_se_instance></unload>"
    );
    let files = vec![
        ("set.xml".to_string(), update_set()),
        ("instance.xml".to_string(), instance.into_bytes()),
    ];
    let p = plan(|p| {
        p.intent = Some(Intent::Derive);
        p.labels = hosts(&[("Dev", "Prod & <Co>")]);
    });
    let applied = run(&p, &files);
    let all = records(&applied);
    let new_id = applied
        .report
        .id_map
        .iter()
        .find(|m| m.old == ID1)
        .unwrap()
        .new
        .clone();
    let refs: Vec<(usize, &str, &str)> = all
        .iter()
        .filter_map(|r| {
            let f = ["oauth_entity", "oauth_application_registry"]
                .into_iter()
                .find(|f| r.field(f).is_some())?;
            Some((r.place.depth, display(r, f), text(r, f)))
        })
        .collect();
    assert_eq!(
        refs,
        [
            (1, "OAuth Provider Prod & <Co>", new_id.as_str()),
            (2, "OAuth Provider Prod & <Co>", new_id.as_str()),
            (0, "OAuth Provider Prod & <Co>", new_id.as_str()),
        ]
    );
    // The update carrying it names it by its new name too.
    let update = all
        .iter()
        .find(|r| r.table == "sys_update_xml" && !text(r, "target_name").is_empty())
        .unwrap();
    assert_eq!(text(update, "target_name"), "OAuth Provider Prod & <Co>");
    // A display value that is not the record's name is left as it is.
    let inst = named(&all, "Prod link");
    assert_eq!(display(inst, "other"), "not the name");
    // The report describes the outputs: the record's new id and name beside the input's.
    let notes = &applied.report.files[0].records;
    let provider = notes
        .iter()
        .find(|n| n.input_sys_id.as_deref() == Some(ID1))
        .unwrap();
    assert_eq!(provider.sys_id.as_deref(), Some(new_id.as_str()));
    assert_eq!(provider.name.as_deref(), Some("OAuth Provider Prod & <Co>"));
    assert_eq!(provider.input_name.as_deref(), Some("OAuth Provider Dev"));
    // Idempotent: a second run changes nothing.
    let outputs: Vec<(String, Vec<u8>)> = applied
        .outputs
        .iter()
        .map(|o| (o.name.clone(), o.bytes.clone()))
        .collect();
    let again = run(&p, &outputs);
    assert_eq!(
        again.report.totals.values().sum::<usize>(),
        0,
        "{:?}",
        again.report.files
    );
}

#[test]
fn order_with_a_plan_names_the_outputs() {
    let out = bin()
        .args([
            "order",
            "--intent",
            "derive",
            "--host",
            "dev12345=prod12345",
        ])
        .args([
            "--label",
            "Dev=Prod",
            "--exclude",
            "sys_auth_profile_oauth2",
        ])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("01_3_application_registries.xml"), "{text}");
    assert!(
        text.contains("\"OAuth Provider Prod\"") && !text.contains("Provider Dev"),
        "{text}"
    );
    assert!(
        text.contains("(OAuth Provider Prod)"),
        "the reason names the output: {text}"
    );
    assert!(
        text.contains("left out: sys_auth_profile_oauth2 \"Integration Account\""),
        "{text}"
    );
}

// 5. Selectors.

#[test]
fn a_selector_picks_the_records_set_and_replace_touch() {
    let dev = fixture_files("seed000_dev", true);
    let out = records(&run(
        &plan(|p| {
            p.set = strings(&[
                "oauth_entity[name=OAuth Client Dev].active=false",
                "oauth_entity[b2d4f6a8102c3e4f5a6b7c8d9e0f1a2c].comments=the provider",
            ]);
            p.replace = strings(&["oauth_entity[type=oauth_provider].name:Dev=Prod"]);
        }),
        &dev,
    ));
    let client = named(&out, "OAuth Client Dev");
    let provider = named(&out, "OAuth Provider Prod");
    assert_eq!(
        (text(client, "active"), text(provider, "active")),
        ("false", "true")
    );
    assert_eq!(
        (text(client, "comments"), text(provider, "comments")),
        ("", "the provider")
    );
    // A selector that matches no record changes nothing, and says so.
    let none = run(
        &plan(|p| p.set = strings(&["oauth_entity[name=OAuth Client Dv].active=false"])),
        &dev,
    );
    assert_eq!(
        none.report
            .totals
            .get(&sn_retarget::plan::tokens::ChangeKind::Set),
        None
    );
    assert!(
        none.report.warnings[0].contains("no record"),
        "{:?}",
        none.report.warnings
    );
    assert!(matches!(
        Plan {
            set: strings(&["oauth_entity[name=x.active=false"]),
            ..Plan::default()
        }
        .compile(),
        Err(PlanError::BadSelector { .. })
    ));
}

#[test]
fn only_and_exclude_choose_the_records_written() {
    let dev = fixture_files("seed000_dev", true);
    let only = run(&plan(|p| p.only = strings(&["oauth_entity"])), &dev);
    let written: Vec<&str> = only
        .report
        .files
        .iter()
        .filter(|f| !f.dropped)
        .map(|f| f.input.as_str())
        .collect();
    assert_eq!(
        written,
        ["fixtures/seed000_dev/3_application_registries.xml"]
    );
    let one = run(
        &plan(|p| p.exclude = strings(&["oauth_entity[name=OAuth Client Dev]"])),
        &dev,
    );
    let out = records(&one);
    assert!(!out.iter().any(|r| text(r, "name") == "OAuth Client Dev"));
    let registries = String::from_utf8(one.outputs[2].bytes.clone()).unwrap();
    assert!(registries.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2026-05-29 09:16:22\">\n<oauth_entity action=\"INSERT_OR_UPDATE\">\n<access_token_lifespan>1800"));
    assert_eq!(
        one.report.files[2].left_out[0].name.as_deref(),
        Some("OAuth Client Dev")
    );
    // Nothing left to write: refused.
    assert!(matches!(
        try_run(&plan(|p| p.only = strings(&["sys_user"])), &dev).map_err(Error::into_kind),
        Err(ErrorKind::NothingLeft(5))
    ));
}

#[test]
fn only_picks_whole_updates_of_an_update_set() {
    let files = vec![("set.xml".to_string(), update_set())];
    let applied = run(
        &plan(|p| p.only = strings(&["oauth_entity_profile"])),
        &files,
    );
    let out = records(&applied);
    let tables: Vec<&str> = out.iter().map(|r| r.table.as_str()).collect();
    assert_eq!(
        tables,
        [
            "sys_update_xml",
            "oauth_entity_profile",
            "sys_update_version",
            "oauth_entity_profile"
        ]
    );
}

#[test]
fn a_left_out_record_others_reference_is_a_finding() {
    let dev = fixture_files("seed000_dev", true);
    let left = run(
        &plan(|p| p.exclude = strings(&["oauth_entity[name=OAuth Provider Dev]"])),
        &dev,
    );
    let missing = found(&left.report.findings, "missing-reference");
    let about: Vec<&&Finding> = missing
        .iter()
        .filter(|f| f.message.contains("b2d4f6a8102c3e4f5a6b7c8d9e0f1a2c"))
        .collect();
    assert_eq!(about.len(), 1, "{missing:?}");
    assert_eq!(about[0].severity, sn_retarget::Severity::Warning);
    assert!(
        about[0].message.contains("left out of the bundle"),
        "{}",
        about[0].message
    );
    let existing = run(
        &plan(|p| {
            p.exclude = strings(&["oauth_entity[name=OAuth Provider Dev]"]);
            p.existing = strings(&["oauth_entity:OAuth Provider Dev"]);
        }),
        &dev,
    );
    let f = found(&existing.report.findings, "missing-reference")
        .into_iter()
        .find(|f| f.message.contains("b2d4f6a8102c3e4f5a6b7c8d9e0f1a2c"))
        .unwrap();
    assert_eq!(f.severity, sn_retarget::Severity::Info);
    assert!(f.message.contains("exists on the target"));
}

// 6. Records that already exist on the target.

#[test]
fn check_reports_existing_records_as_notes() {
    let prod = manifest_dir().join("fixtures/seed000_prod");
    let without = bin()
        .args(["check", "--format", "json"])
        .arg(&prod)
        .output()
        .unwrap();
    let with = bin()
        .args(["check", "--format", "json", "--existing"])
        .arg("sys_auth_profile_oauth2:Integration Account")
        .arg(&prod)
        .output()
        .unwrap();
    let severity = |o: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["message"]
                    .as_str()
                    .unwrap()
                    .contains("Integration Account")
            })
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(severity(&without).as_deref(), Some("warning"));
    assert_eq!(severity(&with).as_deref(), Some("info"));
}

#[test]
fn derive_never_repoints_an_existing_record() {
    let dev = fixture_files("seed000_dev", true);
    let applied = run(
        &plan(|p| {
            p.intent = Some(Intent::Derive);
            p.hosts = hosts(&[("dev12345", "prod12345")]);
            p.labels = hosts(&[("Dev", "Prod"), ("Account", "Login")]);
            p.existing = strings(&["sys_auth_profile_oauth2:Integration Account"]);
        }),
        &dev,
    );
    let out = records(&applied);
    let account = named(&out, "Integration Account"); // not relabelled
    assert_eq!(
        account.sys_id.as_deref(),
        Some("d4f6b8ca324e5a6b7c8d9e0f1a2b3c4e")
    );
    let instance = named(&out, "Development");
    assert_eq!(
        text(instance, "oauth_user_profile"),
        "d4f6b8ca324e5a6b7c8d9e0f1a2b3c4e"
    );
    assert_ne!(
        instance.sys_id.as_deref(),
        Some("e5a7c9db435f6b7c8d9e0f1a2b3c4d5f")
    );
    // Written all the same, it would replace the one on the target: a warning says so.
    let w = found(&applied.report.findings, "existing-written");
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("Integration Account"));
}

// 7. The doctor's rules for intent mistakes.

#[test]
fn moving_what_should_be_copied_is_an_instance_url_mismatch() {
    let dev = fixture_files("seed000_dev", true);
    let moved = run(
        &plan(|p| {
            p.target = Some("prod12345".into());
            p.sources = strings(&["dev12345"]);
        }),
        &dev,
    );
    let m = found(&moved.report.findings, "instance-url-mismatch");
    let said: Vec<&str> = m
        .iter()
        .map(|f| f.location.table.as_deref().unwrap())
        .collect();
    assert_eq!(said, ["sn_se_instance", "oauth_entity"], "{m:?}");
    assert!(m[0].message.contains("\"Development\" says development"));
    // The copy the procedure asks for is clean.
    let copied = run(&plan(|p| p.target = Some("prod12345".into())), &dev);
    assert!(found(&copied.report.findings, "instance-url-mismatch").is_empty());
    // Stage 8 the same way round: the production records moved to development by mistake.
    let prod = fixture_files("seed000_prod", true);
    let back = run(
        &plan(|p| {
            p.target = Some("dev12345".into());
            p.sources = strings(&["prod12345"]);
        }),
        &prod,
    );
    let m = found(&back.report.findings, "instance-url-mismatch");
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m.iter()
            .any(|f| f.message.contains("\"Production\" says production")),
        "{m:?}"
    );
    let copied = run(&plan(|p| p.target = Some("dev12345".into())), &prod);
    assert!(found(&copied.report.findings, "instance-url-mismatch").is_empty());
    // An instance name that is not the URL's is an error.
    let odd = vec![(
        "odd.xml".to_string(),
        b"<unload><sn_se_instance action=\"INSERT_OR_UPDATE\"><instance_name>acme</instance_name><name>Acme</name><url>https://acmeprod.service-now.com</url><sys_id>0123456789abcdef0123456789abcdef</sys_id></sn_se_instance></unload>".to_vec(),
    )];
    let odd = run(&Plan::default(), &odd);
    let e = found(&odd.report.findings, "instance-url-mismatch");
    assert_eq!(e[0].severity, sn_retarget::Severity::Error);
}

#[test]
fn a_third_party_client_id_changed_is_an_error_and_derive_keeps_it() {
    let cal = fixture_files("seed001_third_party", true);
    let regenerated = run(
        &plan(|p| {
            p.hosts = hosts(&[("dev12345", "acme")]);
            p.regenerate_fields = strings(&["oauth_entity.client_id"]);
        }),
        &cal,
    );
    let e = found(&regenerated.report.findings, "client-id-changed");
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("third party"), "{}", e[0].message);
    assert_eq!(e[0].instance_error, Some("invalid_client"));
    let derived = run(
        &plan(|p| {
            p.intent = Some(Intent::Derive);
            p.hosts = hosts(&[("dev12345", "acme")]);
        }),
        &cal,
    );
    let derived_records = records(&derived);
    let provider = named(&derived_records, "Calendar service");
    assert_eq!(
        text(provider, "client_id"),
        "418273645019-calendar.apps.example"
    );
    assert!(derived.report.client_ids.is_empty());
    assert!(found(&derived.report.findings, "client-id-changed").is_empty());
    // A ServiceNow provider whose endpoint is not in the bundle keeps its own too.
    let dev = fixture_files("seed000_dev", true);
    let lone = run(
        &plan(|p| {
            p.intent = Some(Intent::Derive);
            p.hosts = hosts(&[("dev12345", "prod12345")]);
            p.exclude = strings(&["oauth_entity[type=client]"]);
        }),
        &dev,
    );
    let lone_records = records(&lone);
    let provider = named(&lone_records, "OAuth Provider Dev");
    assert_eq!(
        text(provider, "client_id"),
        "9f8e7d6c5b4a39281716051423324150"
    );
}

#[test]
fn a_twin_carrying_the_originals_state_is_a_finding() {
    let dev = fixture_files("seed000_dev", true);
    // The eight-flag way: new ids, but the state copied.
    let by_hand = run(
        &plan(|p| {
            p.hosts = hosts(&[("dev12345", "prod12345")]);
            p.sys_ids = sn_retarget::plan::IdMode::Regenerate;
        }),
        &dev,
    );
    let w = found(&by_hand.report.findings, "derived-state");
    let fields: Vec<&str> = w
        .iter()
        .map(|f| f.location.field.as_deref().unwrap())
        .collect();
    assert_eq!(fields, ["connection_status", "validated"]);
    assert!(
        w.iter()
            .all(|f| f.severity == sn_retarget::Severity::Warning)
    );
    // A derive resets it; setting it back is an error.
    let set_back = run(
        &plan(|p| {
            p.intent = Some(Intent::Derive);
            p.hosts = hosts(&[("dev12345", "prod12345")]);
            p.set = strings(&["sn_se_instance.validated=true"]);
        }),
        &dev,
    );
    let e = found(&set_back.report.findings, "derived-state");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].severity, sn_retarget::Severity::Error);
}

#[test]
fn check_target_says_when_a_bundle_was_made_for_another_instance() {
    let d = tmp("intent-bundle-target");
    let b = d.join("for-prod");
    let st = bin()
        .args(["bundle", "--target", "prod12345", "-q"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(&b)
        .output()
        .unwrap();
    assert!(st.status.success());
    let check = |target: &str| {
        let o = bin()
            .args(["check", "--format", "json", "--target", target])
            .arg(&b)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let rules: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        (o.status.code(), rules)
    };
    assert_eq!(check("prod12345"), (Some(0), vec![]));
    assert_eq!(check("acme"), (Some(1), vec!["bundle-target".to_string()]));
}

// 8. The command line's edges.

#[test]
fn one_output_file_for_several_inputs_is_refused() {
    let d = tmp("intent-out-xml");
    let out = bin()
        .args(["apply", "--target", "acme"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(d.join("one.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("names one file, but the inputs are 4 files")
    );
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
    let bundle = bin()
        .args(["bundle", "--target", "acme"])
        .arg(manifest_dir().join("fixtures/seed000_dev"))
        .arg("--out")
        .arg(d.join("one.xml"))
        .output()
        .unwrap();
    assert_eq!(bundle.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
}

#[test]
fn a_report_to_a_special_file_is_written_as_it_is() {
    let d = tmp("intent-report-special");
    let input = manifest_dir().join("fixtures/seed000_dev");
    let apply = |report: &str, out: &str| {
        bin()
            .args(["apply", "--target", "acme", "-q"])
            .arg(&input)
            .arg("--out")
            .arg(d.join(out))
            .args(["--report", report])
            .output()
            .unwrap()
    };
    let stdout = apply("/dev/stdout", "a");
    assert!(
        stdout.status.success(),
        "{}",
        String::from_utf8_lossy(&stdout.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&stdout.stdout).unwrap();
    assert_eq!(v["intent"], "copy");
    assert!(apply("/dev/null", "b").status.success());
    // A named pipe, read while written.
    let fifo = d.join("report.fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let piped = apply(&fifo.display().to_string(), "c");
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let bytes = reader.join().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 4);
    assert!(d.join("c").is_dir());
}

#[test]
fn quiet_prints_errors_only_and_repeated_findings_are_summarised() {
    let d = tmp("intent-quiet");
    let inputs = d.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    for k in 0..12 {
        std::fs::write(
            inputs.join(format!("rest_{k:02}.xml")),
            format!("<unload><sys_rest_message action=\"INSERT_OR_UPDATE\"><name>m{k}</name><rest_endpoint>http://dev1.service-now.com/api</rest_endpoint><sys_id>{:032x}</sys_id></sys_rest_message></unload>", k + 1),
        )
        .unwrap();
    }
    std::fs::write(
        inputs.join("zz_instance.xml"),
        "<unload><sn_se_instance action=\"INSERT_OR_UPDATE\"><name>Odd</name><url>https://dev1.service-now.com/</url><sys_id>ffffffffffffffffffffffffffffff01</sys_id></sn_se_instance></unload>",
    )
    .unwrap();
    let bundle = |quiet: bool, out: &str| {
        let mut c = bin();
        c.args(["bundle", "--target", "acme"])
            .arg(&inputs)
            .arg("--out")
            .arg(d.join(out));
        if quiet {
            c.arg("--quiet");
        }
        let o = c.output().unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stderr).unwrap()
    };
    let loud = bundle(false, "loud");
    let http: Vec<&str> = loud
        .lines()
        .filter(|l| l.contains("warning[http-instance-url]"))
        .collect();
    assert_eq!(http.len(), 3, "{loud}");
    assert!(
        loud.contains(
            "... and 9 more warning(s) [http-instance-url] (12 in all; every finding is in"
        ),
        "{loud}"
    );
    assert!(loud.contains("manifest.json"), "{loud}");
    let quiet = bundle(true, "quiet");
    let lines: Vec<&str> = quiet.lines().collect();
    assert_eq!(lines.len(), 1, "{quiet}");
    assert!(lines[0].contains("error[instance-url-form]"), "{quiet}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("quiet/manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "http-instance-url")
            .count(),
        12
    );
}

/// Each row of the state table, walked: a derived twin starts with the row's value; a
/// `--reset-field` column starts empty; a copy keeps them all.
#[test]
fn derive_resets_every_state_field_of_the_table() {
    use sn_retarget::plan::intent::{STATE_FIELDS, Tables};
    let mut doc = String::from("<unload>\n");
    for (k, s) in STATE_FIELDS.iter().enumerate() {
        let table = match s.tables {
            Tables::Is(t) => t,
            Tables::InstanceRecords => "sn_se_instance",
        };
        doc.push_str(&format!(
            "<{table} action=\"INSERT_OR_UPDATE\"><name>r{k}</name><{f}>original state</{f}><u_last_ping>2026-05-01</u_last_ping><sys_id>{:032x}</sys_id></{table}>\n",
            k + 1,
            f = s.field
        ));
    }
    doc.push_str("</unload>\n");
    let files = vec![("state.xml".to_string(), doc.into_bytes())];
    let derived = run(
        &plan(|p| {
            p.intent = Some(Intent::Derive);
            p.reset_fields = strings(&["sn_se_instance.u_last_ping"]);
        }),
        &files,
    );
    let out = records(&derived);
    for (k, s) in STATE_FIELDS.iter().enumerate() {
        let r = named(&out, &format!("r{k}"));
        assert_eq!(text(r, s.field), s.reset, "{} {}", s.tables, s.field);
        let ping = if r.table == "sn_se_instance" {
            ""
        } else {
            "2026-05-01"
        };
        assert_eq!(text(r, "u_last_ping"), ping, "{}", r.table);
    }
    // A copy keeps the state (the tokens, secrets, become placeholders to re-enter).
    let copied = records(&run(&Plan::default(), &files));
    assert!(
        copied
            .iter()
            .filter(|r| r.table == "sn_se_instance")
            .all(|r| r.fields.iter().any(|f| f.text == "original state"))
    );
    // A derive's tokens are not to be re-entered: none is listed.
    assert!(
        derived.report.secrets.is_empty(),
        "{:?}",
        derived.report.secrets
    );
}
