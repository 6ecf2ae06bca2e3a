//! The hand-off: CHECKLIST.md walked from the table of steps for every recipe of the README,
//! read for its direction; review.html of the seed-000 bundle (snapshot, an HTML5 parser, no
//! script, no secret); `apply --review`; untrusted values escaped in both files.

use std::collections::BTreeSet;
use std::path::Path;

use sn_retarget::bundle::{Bundle, build};
use sn_retarget::handoff::{Checklist, Phase, Replaced, STEPS, ScopeIs, steps_table};
use sn_retarget::io::{Limits, load_inputs};
use sn_retarget::plan::Plan;

use crate::recipes::{recipes, run_with};
use crate::support::{collect, manifest_dir, tmp, xml_files};

/// The README's bundle recipes and the fixtures they read, as plans for the library.
fn recipe_plans() -> Vec<(&'static str, &'static str, String)> {
    let stage6 = recipes()["seed000-stage6-plan"]
        .blocks
        .iter()
        .find(|(l, _)| l == "toml")
        .unwrap()
        .1
        .clone();
    vec![
        ("seed000-stage3", "fixtures/seed000_dev", "target = \"prod12345\"".into()),
        ("seed000-stage6", "fixtures/seed000_dev", stage6),
        (
            "seed000-stage8",
            "fixtures/seed000_prod",
            "target = \"dev12345\"\nexisting = [\"sys_auth_profile_oauth2:Integration Account\"]".into(),
        ),
        (
            "seed001-third-party",
            "fixtures/seed001_third_party",
            "intent = \"move\"\n[hosts]\ndev12345 = \"acme\"".into(),
        ),
        (
            "seed002-endpoint",
            "fixtures/seed002_endpoint",
            "intent = \"move\"\n[hosts]\ndev1103 = \"classics\"".into(),
        ),
        (
            "seed003-pipeline",
            "fixtures/seed003_pipeline",
            "intent = \"move\"\n[hosts]\nprod1 = \"acme\"\ndev1 = \"acmedev\"\ntest1 = \"acmetest\"".into(),
        ),
    ]
}

fn bundle_of(folder: &str, plan: &str) -> Bundle {
    let plan: Plan = toml::from_str(plan).unwrap();
    let sources = load_inputs(&[manifest_dir().join(folder)], &Limits::default()).unwrap();
    build(&plan, &sources).unwrap()
}

fn file<'b>(b: &'b Bundle, name: &str) -> &'b str {
    let (_, bytes) = b.files.iter().find(|(n, _)| n == name).unwrap();
    std::str::from_utf8(bytes).unwrap()
}

/// Every ciphertext value of the fixtures under `folder` (KMF framing, `)pR#`).
fn ciphertexts(folder: &str) -> Vec<String> {
    xml_files(&manifest_dir().join(folder))
        .iter()
        .flat_map(|p| collect(&std::fs::read(p).unwrap()).1)
        .flat_map(|r| r.fields)
        .map(|f| f.text)
        .filter(|t| t.starts_with('\u{FDDE}') || t.starts_with(")pR#"))
        .collect()
}

fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    assert!(!secrets.is_empty());
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} shows a secret value");
        // Nor the payload inside the framing.
        let inner = s.trim_start_matches(['\u{FDDE}', '\u{FDDF}', '\u{FDD2}', ')', 'p', 'R', '#']);
        let tail = &inner[inner.len().saturating_sub(24)..];
        assert!(!text.contains(tail), "{what} shows part of a secret value");
    }
    assert!(
        !text.contains('\u{FDDE}') && !text.contains(")pR#"),
        "{what}"
    );
}

/// The checklist of each recipe, as the command of the README writes it.
fn recipe_checklist(name: &str) -> String {
    let ran = run_with(name, "-handoff", &[]);
    ran.ok();
    let out = ran.out.as_ref().unwrap();
    std::fs::read_to_string(out.join("CHECKLIST.md")).unwrap()
}

#[test]
fn each_recipe_checklist_is_snapshot_tested() {
    for name in [
        "seed000-stage3",
        "seed000-stage6",
        "seed000-stage8",
        "seed001-third-party",
        "seed002-endpoint",
    ] {
        let text = recipe_checklist(name);
        insta::assert_snapshot!(format!("checklist_{}", name.replace('-', "_")), text);
    }
}

/// Seed 003 is an `apply` recipe: its checklist is the one of its review page.
#[test]
fn seed003_pipeline_review_lists_no_external_client() {
    let ran = run_with("seed003-pipeline", "-review", &["--review", "@review.html"]);
    ran.ok();
    let page = std::fs::read_to_string(ran.dir.join("review.html")).unwrap();
    assert_parses(&page);
    let checklist = &page[page.find("<h2 id=\"checklist\">").unwrap()..];
    insta::assert_snapshot!(
        "checklist_seed003_pipeline_review",
        checklist.replace(&ran.dir.display().to_string(), "<out>")
    );
    // Its endpoints are called by the other instances of the pipeline.
    assert!(!checklist.contains("external client"), "{checklist}");
    assert!(checklist.contains("Pipeline Controller Client"));
}

/// Stage 3 (dev into prod, first time): everything before import, the Track policy once, and
/// the Development record validated on prod.
#[test]
fn seed000_stage3_checklist_reads_for_a_first_copy_into_prod() {
    let c = recipe_checklist("seed000-stage3");
    let before = &c[c.find("## Before import").unwrap()..c.find("## Import").unwrap()];
    for needle in [
        "**Scan Engine** (`sn_se`) is installed on prod12345.service-now.com",
        "**sn_se.scan_engine_admin** and **sn_se.internal_rest_integration**",
        "**Key Management Administration**",
        "**sn_kmf.cryptographic_manager**. Log out and log back in",
    ] {
        assert!(before.contains(needle), "{needle}\n{before}");
    }
    let records = &c[c.find("## After import").unwrap()..c.find("## Then").unwrap()];
    assert_eq!(
        records
            .matches("Switch the application scope to **Scan Engine**")
            .count(),
        1
    );
    let order: Vec<usize> = [
        "OAuth Client Dev\" (https",
        "OAuth Provider Dev\" (https",
        "Integration Account\" (https",
    ]
    .iter()
    .map(|n| records.find(n).unwrap_or_else(|| panic!("{n}\n{records}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "import order");
    assert!(records.contains("configure the form layout to show them"));
    assert_eq!(
        c.matches("**ScanEngine API Util**").count(),
        1,
        "Track once"
    );
    assert!(c.contains(
        "sn_se_instance \"Development\" (https://prod12345.service-now.com/sn_se_instance.do?sys_id=e5a7c9db435f6b7c8d9e0f1a2b3c4d5f"
    ));
    assert!(c.contains("calls `https://dev12345.service-now.com`"));
    assert!(!c.contains("## Tell the others"));
}

/// Stage 6 (twins on prod): the Prod records named, nothing of stage 2 or 5 again.
#[test]
fn seed000_stage6_checklist_names_the_prod_twins_and_repeats_nothing() {
    let c = recipe_checklist("seed000-stage6");
    for needle in [
        "OAuth Client Prod",
        "OAuth Provider Prod",
        "sn_se_instance \"Production\"",
    ] {
        assert!(c.contains(needle), "{needle}\n{c}");
    }
    assert!(
        !c.contains(" Dev\"") && !c.contains("\"Development\""),
        "{c}"
    );
    assert!(c.contains("is set up on prod12345.service-now.com already"));
    for not in [
        "Key Management Administration",
        "access decision",
        "Integration Account\", field",
    ] {
        assert!(!c.contains(not), "{not}\n{c}");
    }
    assert!(c.contains("connection status was the original's and is reset"));
}

/// Stage 8 (prod records into dev): named as on prod, validated on dev; nothing of stage 2 or
/// 5 again.
#[test]
fn seed000_stage8_checklist_names_the_prod_records_on_dev() {
    let c = recipe_checklist("seed000-stage8");
    assert!(c.starts_with("# Import checklist for dev12345.service-now.com"));
    assert!(c.contains("https://dev12345.service-now.com/sn_se_instance.do?sys_id="));
    assert!(c.contains("sn_se_instance \"Production\""));
    assert!(c.contains("calls `https://prod12345.service-now.com`"));
    assert!(c.contains("`sys_auth_profile_oauth2:Integration Account`"));
    for not in [
        "Key Management Administration",
        "access decision",
        "Development",
    ] {
        assert!(!c.contains(not), "{not}\n{c}");
    }
}

#[test]
fn third_party_and_external_client_steps_print_what_to_tell() {
    let c = recipe_checklist("seed001-third-party");
    assert!(c.contains(
        "Register the redirect URL `https://acme.service-now.com/oauth_redirect.do` of oauth_entity \"Calendar service\""
    ), "{c}");
    assert!(
        !c.contains("Hand the owner") && !c.contains("Key Management"),
        "{c}"
    );
    let c = recipe_checklist("seed002-endpoint");
    for needle in [
        "client_id `6f9d3c8e0a0a4b7fb2c9e4a1b3c12345` (not a secret)",
        "the redirect URL `https://classics.service-now.com/oauth_redirect.do`",
        "`useraccount`, `openid`, `profile`, `email`, `offline_access`",
        "invalid_scope",
    ] {
        assert!(c.contains(needle), "{needle}\n{c}");
    }
    assert!(!c.contains("Register the redirect URL"), "{c}");
}

/// The README lists the table as it is.
#[test]
fn the_readme_lists_the_steps_table() {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    assert!(
        readme.contains(&steps_table()),
        "README.md must hold:\n{}",
        steps_table()
    );
}

/// Walks the table: every row is listed for some recipe (or a kept-secrets bundle), and every
/// item listed holds its row's conditions.
#[test]
fn every_step_applies_somewhere_and_only_where_its_conditions_hold() {
    let mut runs: Vec<(String, Bundle)> = recipe_plans()
        .into_iter()
        .map(|(n, f, p)| (n.to_string(), bundle_of(f, &p)))
        .collect();
    runs.push((
        "kept".into(),
        bundle_of(
            "fixtures/seed000_dev",
            "target = \"prod12345\"\nsecrets = \"keep\"",
        ),
    ));
    let mut listed = BTreeSet::new();
    for (name, b) in &runs {
        let h = &b.handoff;
        assert_eq!(Checklist::of(&h.situation), h.checklist, "{name}");
        for section in &h.checklist.sections {
            for item in &section.items {
                listed.insert(item.step);
                let step = STEPS.iter().find(|s| s.id == item.step).unwrap();
                assert_eq!(step.phase, section.phase, "{name}: {}", step.id);
                let w = &step.when;
                assert!(
                    w.intents.is_empty() || w.intents.contains(&h.situation.intent),
                    "{name}: {}",
                    step.id
                );
                if let Some(n) = w.new_to_target {
                    assert_eq!(n, h.situation.new_to_target(), "{name}: {}", step.id);
                }
                let Some(r) = item.record.map(|k| &h.situation.records[k]) else {
                    continue;
                };
                assert!(sn_retarget::handoff::steps_table().contains(step.id));
                assert!(
                    w.tables.is_empty()
                        || w.tables
                            .iter()
                            .any(|t| t.split('*').all(|p| r.table.contains(p))),
                    "{name}: {}",
                    step.id
                );
                match w.scope {
                    ScopeIs::Any => {}
                    ScopeIs::Scoped => assert!(
                        r.scope.as_ref().is_some_and(|s| !s.is_global()),
                        "{name}: {}",
                        step.id
                    ),
                    ScopeIs::App(n) => assert_eq!(
                        r.scope.as_ref().and_then(|s| s.namespace.as_deref()),
                        Some(n)
                    ),
                }
                match w.replaced {
                    Replaced::Any => {}
                    Replaced::Some => assert!(!r.secrets.is_empty(), "{name}: {}", step.id),
                    Replaced::Fields(f) => {
                        assert!(r.secrets.iter().any(|s| f.contains(&s.field.as_str())))
                    }
                }
            }
        }
        // Once per target: the Track policy and the KMF roles at most once per application.
        let steps: Vec<&str> = h
            .checklist
            .sections
            .iter()
            .flat_map(|s| &s.items)
            .map(|i| i.step)
            .collect();
        for once in [
            "kmf-admin",
            "kmf-cryptographic-manager",
            "kmf-track",
            "import-files",
        ] {
            assert!(
                steps.iter().filter(|s| **s == once).count() <= 1,
                "{name}: {once}"
            );
        }
    }
    let all: BTreeSet<&str> = STEPS.iter().map(|s| s.id).collect();
    assert_eq!(
        listed,
        all,
        "rows never listed: {:?}",
        all.difference(&listed).collect::<Vec<_>>()
    );
    // The phases come in order.
    for (_, b) in &runs {
        let phases: Vec<Phase> = b
            .handoff
            .checklist
            .sections
            .iter()
            .map(|s| s.phase)
            .collect();
        assert!(phases.windows(2).all(|w| w[0] < w[1]));
    }
}

/// Parses as browsers do; any parse error fails.
fn assert_parses(page: &str) {
    let doc = scraper::Html::parse_document(page);
    assert_eq!(
        doc.errors,
        Vec::<std::borrow::Cow<str>>::new(),
        "HTML5 parse errors"
    );
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    assert_eq!(doc.select(&sel("script")).count(), 0, "no script");
    for bad in ["link", "img", "iframe", "object", "embed", "form", "base"] {
        assert_eq!(doc.select(&sel(bad)).count(), 0, "no {bad}");
    }
    for a in doc.select(&sel("[href], [src], [action]")) {
        let v = a.value();
        assert!(v.attr("src").is_none() && v.attr("action").is_none());
        let href = v.attr("href").unwrap();
        assert!(
            href.starts_with('#') || href.starts_with("https://"),
            "{href}"
        );
    }
}

#[test]
fn seed000_review_page_is_snapshot_parses_and_shows_no_secret() {
    let b = bundle_of("fixtures/seed000_dev", "target = \"prod12345\"");
    let page = file(&b, "review.html");
    // Input paths are where the crate is checked out: named the same on every machine.
    let crate_dir = manifest_dir().display().to_string();
    insta::assert_snapshot!("review_seed000_stage3", page.replace(&crate_dir, "[crate]"));
    assert_parses(page);
    let doc = scraper::Html::parse_document(page);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    // Each file in import order, each record in a details of its own, then the findings and
    // the checklist.
    let files: Vec<String> = doc
        .select(&sel("section h3 code"))
        .map(|e| e.text().collect())
        .collect();
    let order: Vec<&str> = b.manifest.order.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(files, order);
    assert_eq!(doc.select(&sel("details > summary")).count(), 5);
    let h2: Vec<String> = doc.select(&sel("h2")).map(|e| e.text().collect()).collect();
    assert_eq!(
        h2,
        ["Files in import order", "Changes", "Findings", "Checklist"]
    );
    assert!(page.contains("secret replaced: re-enter it after import (value not shown)"));
    assert!(page.contains("<a href=\"https://prod12345.service-now.com/oauth_entity.do?sys_id=a1c3e5f7091b2d3f4a5b6c7d8e9f0a1b\">"));
    let secrets = ciphertexts("fixtures/seed000_dev");
    assert_no_secret("review.html", page, &secrets);
    assert_no_secret("CHECKLIST.md", file(&b, "CHECKLIST.md"), &secrets);
    // Derived twins: old -> new names and URLs shown.
    let stage6 = &recipe_plans()[1];
    let b = bundle_of(stage6.1, &stage6.2);
    let page = file(&b, "review.html");
    assert_parses(page);
    assert!(
        page.contains(
            "<td><code>OAuth Client Dev</code></td><td><code>OAuth Client Prod</code></td>"
        ),
        "{page}"
    );
    assert_no_secret("review.html", page, &secrets);
}

/// A value holding markup is shown, never run: in the page and the checklist.
#[test]
fn a_script_in_a_record_value_appears_escaped() {
    let d = tmp("handoff-script");
    let evil = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"q\"";
    let xml = format!(
        "<unload><oauth_entity action=\"INSERT_OR_UPDATE\"><name>{evil}</name><type>client</type><client_id>&lt;script&gt;x&lt;/script&gt;</client_id><redirect_url>https://dev12345.service-now.com/oauth_redirect.do</redirect_url><comments>{evil}</comments><client_secret>)pR#c2VjcmV0c2VjcmV0c2VjcmV0</client_secret><sys_scope display_value=\"&lt;script&gt;s()&lt;/script&gt;\">0123456789abcdef0123456789abcdee</sys_scope><sys_package source=\"x_&lt;b&gt;\">0123456789abcdef0123456789abcdee</sys_package><sys_id>0123456789abcdef0123456789abcdef</sys_id></oauth_entity></unload>"
    );
    std::fs::write(d.join("in.xml"), xml).unwrap();
    let plan = "intent = \"move\"\nset = [\"oauth_entity.comments=<script>new()</script>\"]\n[hosts]\ndev12345 = \"acme\"";
    let b = bundle_of(d.to_str().unwrap(), plan);
    let page = file(&b, "review.html");
    assert_parses(page);
    assert!(
        page.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;</code>"),
        "the old value, decoded and escaped: {page}"
    );
    assert!(
        page.contains("&lt;script&gt;new()&lt;/script&gt;"),
        "the new value, escaped"
    );
    assert!(!page.contains("<script"), "{page}");
    let checklist = file(&b, "CHECKLIST.md");
    // Markup backslash-escaped, or inside a code span (shown as written, never run).
    for (at, _) in checklist.match_indices("<script") {
        let before = &checklist[at - 1..at];
        assert!(before == "\\" || before == "`", "{checklist}");
    }
    assert!(
        checklist.contains(r"\<script\>alert\(1\)\</script\>"),
        "{checklist}"
    );
    assert_no_secret(
        "review.html",
        page,
        &[")pR#c2VjcmV0c2VjcmV0c2VjcmV0".into()],
    );
    assert_no_secret(
        "CHECKLIST.md",
        checklist,
        &[")pR#c2VjcmV0c2VjcmV0c2VjcmV0".into()],
    );
}

#[test]
fn apply_review_writes_the_page_of_the_outputs_in_import_order() {
    let d = tmp("handoff-apply-review");
    let page = d.join("review.html");
    let ran = crate::support::run(
        crate::support::bin()
            .args(["apply", "--target", "prod12345", "-q", "--out"])
            .arg(d.join("out"))
            .arg("--review")
            .arg(&page)
            .arg(manifest_dir().join("fixtures/seed000_dev")),
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let text = std::fs::read_to_string(&page).unwrap();
    assert_parses(&text);
    let at = |n: &str| text.find(n).unwrap_or_else(|| panic!("{n}"));
    assert!(
        at("3_application_registries.xml</code></h3>") < at("2_oauth_user_profile.xml</code></h3>")
    );
    assert!(at("2_oauth_user_profile.xml</code></h3>") < at("1_my_sn_instance.xml</code></h3>"));
    assert!(text.contains("Switch the application scope to <strong>Scan Engine</strong>"));
    assert_no_secret("review.html", &text, &ciphertexts("fixtures/seed000_dev"));
    // Never over an input, even with --force.
    let input = d.join("in.xml");
    std::fs::copy(manifest_dir().join("fixtures/unload_record.xml"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let ran = crate::support::run(
        crate::support::bin()
            .args(["apply", "--force", "-q", "--out"])
            .arg(d.join("out2.xml"))
            .arg("--review")
            .arg(&input)
            .arg(&input),
    );
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // A dry run writes nothing, so no page either.
    let ran = crate::support::run(
        crate::support::bin()
            .args(["apply", "--dry-run", "--review"])
            .arg(d.join("again.html"))
            .arg(manifest_dir().join("fixtures/seed000_dev")),
    );
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(!Path::new(&d.join("again.html")).exists());
}
