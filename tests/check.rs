//! `check`: every rule triggered by a one-field break of a clean fixture, and silent on it; the
//! seed scenarios clean when right; SARIF valid; the corpus checked without a crash.

use sn_retarget::Source;
use sn_retarget::apply::apply;
use sn_retarget::check::{CheckOptions, CheckReport, check, render};
use sn_retarget::io::{Limits, load_inputs};
use sn_retarget::plan::{Instance, Plan};

use crate::support::{corpus_dir, manifest_dir, sn, xml_escaped};

fn source(name: &str, bytes: Vec<u8>) -> Source {
    Source {
        name: name.into(),
        path: name.into(),
        relative: name.into(),
        bytes: bytes.into(),
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(manifest_dir().join("fixtures").join(name)).unwrap()
}

fn run(sources: &[Source]) -> CheckReport {
    check(&named(sources), &CheckOptions::default()).unwrap()
}

fn errors(r: &CheckReport) -> Vec<&'static str> {
    r.findings
        .iter()
        .filter(|f| f.severity == sn_retarget::Severity::Error)
        .map(|f| f.rule)
        .collect()
}

/// (fixture, text to replace (first occurrence), replacement, rule that must fire)
const BREAKS: &[(&str, &str, &str, &str)] = &[
    (
        "check/third_party_provider.xml",
        "<default>true</default>",
        "<default>false</default>",
        "oauth-default-profile",
    ),
    (
        "check/third_party_provider.xml",
        "<default_grant_type>authorization_code",
        "<default_grant_type>client_credentials",
        "oauth-grant-type",
    ),
    (
        "check/instances.xml",
        "<active>true</active>",
        "<active>false</active>",
        "oauth-inactive",
    ),
    (
        "check/third_party_provider.xml",
        "<oauth_entity display_value=\"Calendar service\">10000000000000000000000000000001",
        "<oauth_entity display_value=\"Calendar service\">10000000000000000000000000000009",
        "missing-reference",
    ),
    (
        "check/endpoint_five_scopes.xml",
        "<oauth_entity_scope display_value=\"email\">20000000000000000000000000000103",
        "<oauth_entity_scope display_value=\"email\">20000000000000000000000000000199",
        "oauth-scope-undefined",
    ),
    (
        "check/pipeline_controller.xml",
        ", https://test1.service-now.com/oauth_redirect.do</redirect_url>",
        "</redirect_url>",
        "oauth-redirect-missing",
    ),
    (
        "check/pipeline_controller.xml",
        "<client_id>c0ffee00c0ffee00c0ffee00c0ffee00</client_id>\n<client_secret>SN-RETARGET-SECRET(oauth_entity.client_secret:30000000000000000000000000000011)",
        "<client_id>badbadbadbadbadbadbadbadbadbadba</client_id>\n<client_secret>SN-RETARGET-SECRET(oauth_entity.client_secret:30000000000000000000000000000011)",
        "oauth-client-id",
    ),
    (
        "check/pipeline_controller.xml",
        "prod1.service-now.com/oauth_token.do",
        "prod1.service-now.com/oauth/token",
        "oauth-url-path",
    ),
    (
        "check/instances.xml",
        "<url>https://prod1.service-now.com</url>",
        "<url>https://prod1.service-now.com/</url>",
        "instance-url-form",
    ),
    (
        "check/instances.xml",
        "<environment>development</environment>",
        "<environment>production</environment>",
        "several-production",
    ),
    (
        "check/instances.xml",
        "<token_url>https://prod1.service-now.com/oauth_token.do",
        "<token_url>https://dev1.service-now.com/oauth_token.do",
        "oauth-token-url-host",
    ),
    (
        "check/third_party_provider.xml",
        "<client_secret>SN-RETARGET-SECRET(oauth_entity.client_secret:10000000000000000000000000000001)",
        "<client_secret>)pR#c2VjcmV0c2VjcmV0",
        "secret-left",
    ),
];

#[test]
fn every_rule_fires_on_its_break_and_not_on_the_clean_fixture() {
    for (file, old, new, rule) in BREAKS {
        let clean = fixture(file);
        assert!(clean.contains(old), "{file}: {old:?} not found");
        let report = run(&[source(file, clean.clone().into_bytes())]);
        assert!(
            report.of(rule).next().is_none(),
            "{file}: {rule} fires on the clean fixture: {:?}",
            report.findings
        );
        assert!(
            errors(&report).is_empty(),
            "{file}: clean fixture has errors {:?}",
            errors(&report)
        );
        let broken = clean.replacen(old, new, 1);
        let report = run(&[source(file, broken.into_bytes())]);
        let f = report
            .of(rule)
            .next()
            .unwrap_or_else(|| panic!("{file}: {rule} did not fire: {:?}", report.findings));
        assert!(f.location.line >= 1 && f.location.table.is_some(), "{f:?}");
        assert!(!f.hint.is_empty());
    }
}

#[test]
fn an_inactive_registry_used_only_by_its_own_profile_is_fine() {
    let broken = fixture("check/third_party_provider.xml").replacen(
        "<active>true</active>",
        "<active>false</active>",
        1,
    );
    assert!(
        run(&[source("t", broken.into_bytes())])
            .of("oauth-inactive")
            .next()
            .is_none()
    );
}

#[test]
fn one_record_in_two_files_counts_once_for_production_and_default_profile() {
    // The same export given twice: one production record, one default profile.
    let a = fixture("check/instances.xml");
    let r = run(&[
        source("a", a.clone().into_bytes()),
        source("b", a.into_bytes()),
    ]);
    assert!(
        r.of("several-production").next().is_none(),
        "{:?}",
        r.findings
    );
    assert!(
        r.of("oauth-default-profile").next().is_none(),
        "{:?}",
        r.findings
    );
}

#[test]
fn malformed_payloads_are_reported() {
    let bytes = std::fs::read(manifest_dir().join("fixtures/update_set_bad_payload.xml")).unwrap();
    let r = run(&[source("bad", bytes)]);
    assert_eq!(r.of("malformed-payload").count(), 1);
}

#[test]
fn warnings_and_notes_fire_too() {
    // http to an instance: a warning.
    let clean = fixture("check/pipeline_controller.xml");
    let broken = clean.replacen(
        "https://prod1.service-now.com/oauth_auth.do",
        "http://prod1.service-now.com/oauth_auth.do",
        1,
    );
    assert!(
        run(&[source("p", broken.into_bytes())])
            .of("http-instance-url")
            .next()
            .is_some()
    );
    // Placeholders: a note pointing at the checklist.
    assert!(
        run(&[source("p", clean.into_bytes())])
            .of("secret-placeholder")
            .next()
            .is_some()
    );
    // Several source instances.
    let a = fixture("source_control_delete.xml");
    let b = a.replace("dev12345", "dev99999").replace(
        "a1c3e5f7091b2d3f4a5b6c7d8e9f0a1b",
        "a1c3e5f7091b2d3f4a5b6c7d8e9f0a1c",
    );
    let r = run(&[
        source("a", a.clone().into_bytes()),
        source("b", b.into_bytes()),
    ]);
    assert!(r.of("several-source-instances").next().is_some());
    assert!(
        run(&[source("a", a.into_bytes())])
            .of("several-source-instances")
            .next()
            .is_none()
    );
    // The same sys_id, different content.
    let list = fixture("unload_list.xml");
    let start = list.find("<sys_properties").unwrap();
    let end = list.find("</sys_properties>").unwrap() + "</sys_properties>\n".len();
    let twice = format!(
        "{}{}{}",
        &list[..end],
        list[start..end].replace("x.integration.endpoint", "x.other"),
        &list[end..]
    );
    assert!(
        run(&[source("l", twice.into_bytes())])
            .of("duplicate-sys-id")
            .next()
            .is_some()
    );
    assert!(
        run(&[source("l", list.into_bytes())])
            .of("duplicate-sys-id")
            .next()
            .is_none()
    );
}

#[test]
fn seed000_both_directions_pass_once_applied() {
    let dev = load_inputs(
        &[manifest_dir().join("fixtures/seed000_dev")],
        &Limits::default(),
    )
    .unwrap();
    // As exported: the three secrets are errors.
    assert_eq!(errors(&run(&dev)), ["secret-left"; 3]);
    // Dev made ready for prod, and prod derived from dev: clean.
    for plan in [
        Plan {
            target: Some("prod12345".into()),
            ..Plan::default()
        },
        Plan {
            target: Some("prod12345".into()),
            sources: vec!["dev12345".into()],
            sys_ids: sn_retarget::plan::IdMode::Regenerate,
            regenerate_fields: vec!["oauth_entity.client_id".into()],
            ..Plan::default()
        },
    ] {
        let inputs: Vec<(&str, &[u8])> = dev
            .iter()
            .map(|s| (s.name.as_str(), s.bytes.as_slice()))
            .collect();
        let applied = apply(&plan, &inputs, false).unwrap();
        let out: Vec<Source> = applied
            .outputs
            .iter()
            .map(|o| source(&o.name, o.bytes.clone()))
            .collect();
        let options = CheckOptions {
            sources: plan
                .sources
                .iter()
                .map(|s| Instance::parse(s).unwrap())
                .collect(),
            old_ids: applied
                .report
                .id_map
                .iter()
                .map(|p| p.old.clone())
                .collect(),
            ..CheckOptions::default()
        };
        let report = check(&named(&out), &options).unwrap();
        assert!(errors(&report).is_empty(), "{:?}", report.findings);
        // And back: those records made ready for development are clean too.
        let back: Vec<(&str, &[u8])> = out
            .iter()
            .map(|s| (s.name.as_str(), s.bytes.as_slice()))
            .collect();
        let to_dev = Plan {
            target: Some("dev12345".into()),
            ..Plan::default()
        };
        let again = apply(&to_dev, &back, false).unwrap();
        let again: Vec<Source> = again
            .outputs
            .iter()
            .map(|o| source(&o.name, o.bytes.clone()))
            .collect();
        let report = check(&named(&again), &CheckOptions::default()).unwrap();
        assert!(errors(&report).is_empty(), "{:?}", report.findings);
        // One field broken: the provider no longer shares the endpoint's client id.
        let mut broken = out.clone();
        let text = String::from_utf8(broken[2].bytes.to_vec()).unwrap();
        let cid = text
            .split("<client_id>")
            .nth(2)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        broken[2].bytes = text
            .replacen(&format!("<client_id>{cid}"), "<client_id>x", 1)
            .into_bytes()
            .into();
        // (the first client_id is the endpoint's; changing it leaves the provider unmatched)
        assert!(
            check(&named(&broken), &options)
                .unwrap()
                .of("oauth-client-id")
                .next()
                .is_some()
        );
        // After apply, a source host or an old id left is an error.
        if !options.sources.is_empty() {
            let mut left = out.clone();
            left[0].bytes = String::from_utf8(left[0].bytes.to_vec())
                .unwrap()
                .replace("prod12345.service-now.com", "dev12345.service-now.com")
                .into_bytes()
                .into();
            assert!(
                check(&named(&left), &options)
                    .unwrap()
                    .of("source-host-left")
                    .next()
                    .is_some()
            );
            let old = applied.report.id_map[0].old.clone();
            left[1].bytes = String::from_utf8(left[1].bytes.to_vec())
                .unwrap()
                .replace("<username>", &format!("<username>{old}"))
                .into_bytes()
                .into();
            assert!(
                check(&named(&left), &options)
                    .unwrap()
                    .of("old-id-left")
                    .next()
                    .is_some()
            );
        }
    }
}

#[test]
fn sarif_validates_against_its_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_dir().join("tests/data/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dev = load_inputs(
        &[
            manifest_dir().join("fixtures/seed000_dev"),
            manifest_dir().join("fixtures/check"),
        ],
        &Limits::default(),
    )
    .unwrap();
    let sarif = render::sarif(&run(&dev));
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn cli_exit_codes_and_formats() {
    let fixture = |name: &str| manifest_dir().join("fixtures").join(name);
    let clean = sn(&[&"check", &fixture("check/pipeline_controller.xml")]);
    assert_eq!(clean.code, Some(0), "{}", clean.stdout);
    let dirty = sn(&[&"check", &"--format", &"json", &fixture("seed000_dev")]);
    assert_eq!(dirty.code, Some(1));
    let v = dirty.json();
    assert_eq!(v["findings"][1]["rule"], "secret-left");
    assert!(!dirty.stdout.contains('\u{FDDE}'));
    let t = sn(&[&"check", &fixture("seed000_dev")]).stdout;
    // A caret under the place, the hint, and the error the instance would answer.
    assert!(
        t.contains("^") && t.contains("hint:") && t.contains("decrypts to garbage"),
        "{t}"
    );
    let bad = sn(&[&"check", &fixture("malformed/doctype.xml")]);
    assert_eq!(bad.code, Some(2));
}

#[test]
fn the_corpus_is_checked_without_a_crash() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        println!("corpus folder {} absent: skipped", dir.display());
        return;
    }
    let mut rules = std::collections::BTreeMap::new();
    for p in crate::support::xml_files(&dir) {
        let bytes = std::fs::read(&p).unwrap();
        let name = p.display().to_string();
        if let Ok(report) = check(
            &[(name.as_str(), bytes.as_slice())],
            &CheckOptions::default(),
        ) {
            for f in report.findings {
                *rules.entry((f.rule, f.severity)).or_insert(0) += 1;
            }
        }
    }
    println!("corpus findings: {rules:?}");
}

/// The files as `check` takes them: named byte slices.
fn named(sources: &[sn_retarget::Source]) -> Vec<(&str, &[u8])> {
    sources
        .iter()
        .map(|s| (s.name.as_str(), s.bytes.as_slice()))
        .collect()
}

#[test]
fn readme_rule_table_names_every_rule_and_no_other() {
    use sn_retarget::check::rules::RuleId;
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let table = readme
        .split("| rule | finds |")
        .nth(1)
        .expect("the README has the rule table");
    let mut named = std::collections::BTreeSet::new();
    for line in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let first = line.split('|').nth(1).unwrap();
        named.extend(first.split('`').skip(1).step_by(2).map(str::to_string));
    }
    let ids: std::collections::BTreeSet<String> =
        RuleId::ALL.iter().map(|r| r.id().to_string()).collect();
    assert_eq!(named, ids, "the README's rule table and RuleId disagree");
}

/// `check` finds a source host left in a file when told the source (`--source`), and in a
/// bundle from its manifest, where `apply` and `bundle` send outputs too large to check
/// themselves.
#[test]
fn source_hosts_left_are_found_from_the_flag_or_the_manifest() {
    use crate::support::folder_of;
    let unload = |url: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><unload unload_date=\"2024-01-01 00:00:00\"><sys_properties action=\"INSERT_OR_UPDATE\"><name>x.url</name><value>{url}</value><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_properties></unload>"
        )
    };
    let d = folder_of(
        "check-source",
        &[("left.xml", &unload("https://dev1.service-now.com/x.do"))],
    );
    let file = d.join("left.xml");
    let ran = sn(&[&"check", &file]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let ran = sn(&[&"check", &file, &"--source", &"dev1", &"--format", &"json"]);
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    assert_eq!(ran.json()["findings"][0]["rule"], "source-host-left");

    // A bundle made from dev1, with the host put back by hand into one output.
    let input = folder_of(
        "check-source-in",
        &[("in.xml", &unload("https://dev1.service-now.com/x.do"))],
    );
    let bundle = d.join("bundle");
    let ran = sn(&[
        &"bundle",
        &input,
        &"--source",
        &"dev1",
        &"--target",
        &"prod1",
        &"--out",
        &bundle,
        &"-q",
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let ran = sn(&[&"check", &bundle]);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let out = std::fs::read_dir(&bundle)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "xml"))
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let edited = text.replace("prod1.service-now.com", "dev1.service-now.com");
    assert_ne!(text, edited);
    std::fs::write(&out, edited).unwrap();
    let ran = sn(&[&"check", &bundle, &"--format", &"json"]);
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    let rules: Vec<String> = ran.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(rules.iter().any(|r| r == "source-host-left"), "{rules:?}");
}

/// `old-id-left` reads values as the instance reads them: an old id spelled with character
/// references (`&#48;` for `0`, in a file or two payloads down) is as much left as one written
/// plainly, and each is reported once.
#[test]
fn old_ids_spelled_with_references_are_left_too() {
    let old = "0123456789abcdef0123456789abcdef";
    let spelled = format!("&#48;{}", &old[1..]);
    let file = |value: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><unload><sys_script action=\"INSERT_OR_UPDATE\"><name>n</name><script>var x = '{value}';</script><sys_id>fedcba9876543210fedcba9876543210</sys_id></sys_script></unload>"
        )
    };
    let payload = |value: &str| {
        let inner = format!(
            "<record_update table=\"sys_script\"><sys_script action=\"INSERT_OR_UPDATE\"><script>{value}</script><sys_id>fedcba9876543210fedcba9876543211</sys_id></sys_script></record_update>"
        );
        let escaped = xml_escaped(&inner);
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload>{escaped}</payload><sys_id>fedcba9876543210fedcba9876543212</sys_id></sys_update_xml></unload>"
        )
    };
    let options = CheckOptions {
        old_ids: [old.to_string()].into(),
        ..CheckOptions::default()
    };
    for (what, text) in [
        ("plain", file(old)),
        ("spelled", file(&spelled)),
        ("spelled in a payload", payload(&spelled)),
        (
            "hex reference in a payload",
            payload(&format!("&#x30;{}", &old[1..])),
        ),
    ] {
        let report = check(&[("f.xml", text.as_bytes())], &options).unwrap();
        let left: Vec<_> = report.of("old-id-left").collect();
        assert_eq!(left.len(), 1, "{what}: {:?}", report.findings);
    }
    // Another id spelled the same way is no leftover.
    let other = format!("&#49;{}", &old[1..]);
    let report = check(&[("f.xml", file(&other).as_bytes())], &options).unwrap();
    assert_eq!(report.of("old-id-left").count(), 0);
}
