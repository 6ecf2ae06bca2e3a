//! The README's recipes: each seed procedure's command, read from the README's Recipes section
//! and run as written on the fixtures; its outputs snapshot-tested (each file's diff against
//! its input, CHECKLIST.md, manifest.json) and checked field by field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sn_retarget::model::OwnedRecord;

use crate::support::{bin, collect, manifest_dir, tmp};

/// One recipe of the README: the fenced blocks after its `<!-- recipe: NAME -->` marker.
pub(crate) struct Recipe {
    pub(crate) blocks: Vec<(String, String)>,
}

/// The README's recipes, by name.
pub(crate) fn recipes() -> BTreeMap<String, Recipe> {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let start = readme.find("\n## Recipes").expect("a Recipes section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Recipe)> = None;
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_prefix("<!-- recipe: ")
            .and_then(|l| l.strip_suffix(" -->"))
        {
            if let Some((n, r)) = current.take() {
                out.insert(n, r);
            }
            current = Some((name.to_string(), Recipe { blocks: Vec::new() }));
        } else if let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) {
            let mut text = String::new();
            for l in lines.by_ref() {
                if l == "```" {
                    break;
                }
                text.push_str(l);
                text.push('\n');
            }
            if let Some((_, r)) = &mut current {
                r.blocks.push((lang.to_string(), text));
            }
        }
    }
    if let Some((n, r)) = current {
        out.insert(n, r);
    }
    out
}

/// A shell command line as `sh` splits it: words, single and double quotes, backslash line
/// continuations (all the README's recipes use).
fn words(command: &str) -> Vec<String> {
    let command = command.replace("\\\n", " ");
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '"'));
            }
            c if c.is_whitespace() => out.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

/// A recipe run as written.
pub(crate) struct Ran {
    command: String,
    pub(crate) code: Option<i32>,
    stdout: String,
    pub(crate) stderr: String,
    /// The scratch folder (`--out` and plan files are written there).
    pub(crate) dir: PathBuf,
    /// Where `--out` went.
    pub(crate) out: Option<PathBuf>,
}

/// Runs the recipe `name` from the project's folder: its plan file (a `toml` block) is
/// written where its `--plan` says, its `--out` goes into a scratch folder.
fn run(name: &str) -> Ran {
    run_with(name, "", &[])
}

/// [`run`], in a scratch folder of its own (`tag`), with `extra` arguments after the recipe's
/// (a path in them is relative to the scratch folder).
pub(crate) fn run_with(name: &str, tag: &str, extra: &[&str]) -> Ran {
    let all = recipes();
    let recipe = all
        .get(name)
        .unwrap_or_else(|| panic!("no recipe {name} in the README"));
    let dir = tmp(&format!("recipe-{name}{tag}"));
    let toml = recipe.blocks.iter().find(|(l, _)| l == "toml");
    let (_, sh) = recipe
        .blocks
        .iter()
        .find(|(l, _)| l == "sh")
        .expect("a command");
    let args = words(sh.trim());
    assert_eq!(args[0], "sn-retarget", "{sh}");
    let mut cmd = bin();
    cmd.current_dir(manifest_dir());
    let mut out = None;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        cmd.arg(a);
        if a == "--out" || a == "--plan" {
            let path = dir.join(it.next().expect("a path"));
            if a == "--plan" {
                std::fs::write(&path, &toml.expect("the plan file's block").1).unwrap();
            } else {
                out = Some(path.clone());
            }
            cmd.arg(&path);
        }
    }
    for a in extra {
        match a.strip_prefix("@") {
            Some(path) => cmd.arg(dir.join(path)),
            None => cmd.arg(a),
        };
    }
    let o = crate::support::run(&mut cmd);
    Ran {
        command: sh.trim().to_string(),
        code: o.code,
        stdout: o.stdout,
        stderr: o.stderr,
        out,
        dir,
    }
}

impl Ran {
    pub(crate) fn ok(&self) -> &Ran {
        assert_eq!(self.code, Some(0), "{}\n{}", self.command, self.stderr);
        self
    }

    fn redacted(&self, text: &str) -> String {
        text.replace(&self.dir.display().to_string(), "<out>")
    }

    /// The bundle's files (name, text), in the manifest's order, with their inputs.
    fn bundle(&self) -> (serde_json::Value, Vec<(String, String, String)>) {
        let out = self.out.as_ref().unwrap();
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        let files = manifest["order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let file = e["file"].as_str().unwrap().to_string();
                let input = e["input"].as_str().unwrap().to_string();
                let text = std::fs::read_to_string(out.join(&file)).unwrap();
                (file, input, text)
            })
            .collect();
        (manifest, files)
    }

    /// Every record of the outputs.
    fn records(&self) -> Vec<OwnedRecord> {
        let out = self.out.as_ref().unwrap();
        sn_retarget::io::expand_inputs(std::slice::from_ref(out))
            .unwrap()
            .into_iter()
            .flat_map(|p| collect(&std::fs::read(p).unwrap()).1)
            .collect()
    }

    /// The readable snapshot: the command, its messages, each output's diff against its
    /// input, and the bundle's checklist and manifest.
    fn snapshot(&self) -> String {
        let mut s = format!(
            "$ {}\nexit {:?}\n{}",
            self.command,
            self.code,
            self.redacted(&self.stderr)
        );
        let Some(out) = &self.out else {
            s.push_str(&self.stdout);
            return s;
        };
        if out.join("manifest.json").is_file() {
            let (manifest, files) = self.bundle();
            for (file, input, text) in &files {
                let before = std::fs::read_to_string(manifest_dir().join(input)).unwrap();
                s.push_str(&diff(input, file, &before, text));
            }
            s.push_str("\n==== CHECKLIST.md\n");
            s.push_str(&std::fs::read_to_string(out.join("CHECKLIST.md")).unwrap());
            s.push_str("\n==== manifest.json\n");
            s.push_str(&serde_json::to_string_pretty(&manifest).unwrap());
        } else {
            for p in sn_retarget::io::expand_inputs(std::slice::from_ref(out)).unwrap() {
                let rel = p.strip_prefix(out).unwrap();
                let input = Path::new("fixtures/seed003_pipeline").join(rel);
                let before = std::fs::read_to_string(manifest_dir().join(&input)).unwrap();
                let after = std::fs::read_to_string(&p).unwrap();
                s.push_str(&diff(
                    &input.display().to_string(),
                    &rel.display().to_string(),
                    &before,
                    &after,
                ));
            }
        }
        s
    }
}

/// A unified diff of `after` against `before`, the inputs' ciphertext masked (the outputs hold
/// placeholders).
fn diff(from: &str, to: &str, before: &str, after: &str) -> String {
    let before = mask(before);
    let d = similar::TextDiff::from_lines(before.as_str(), after);
    format!(
        "\n==== {to} (from {from})\n{}",
        d.unified_diff().context_radius(1).header(from, to)
    )
}

/// `text` with every ciphertext value (KMF framing, `)pR#`) shown as `<ciphertext>`.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['\u{FDDE}', ')']) {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let end = if tail.starts_with('\u{FDDE}') {
            tail.find('\u{FDEF}').map(|e| e + '\u{FDEF}'.len_utf8())
        } else if tail.starts_with(")pR#") {
            tail.find('<')
        } else {
            None
        };
        match end {
            Some(e) => {
                out.push_str("<ciphertext>");
                rest = &tail[e..];
            }
            None => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn field<'r>(r: &'r OwnedRecord, name: &str) -> &'r str {
    r.field(name)
        .unwrap_or_else(|| panic!("{} has no {name}", r.table))
        .text
        .as_str()
}

fn attr<'r>(r: &'r OwnedRecord, f: &str, a: &str) -> &'r str {
    r.field(f)
        .and_then(|f| f.attrs.iter().find(|(k, _)| k == a))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{}.{f} has no {a}", r.table))
}

fn named<'r>(records: &'r [OwnedRecord], name: &str) -> &'r OwnedRecord {
    records
        .iter()
        .find(|r| r.field("name").is_some_and(|f| f.text.trim() == name))
        .unwrap_or_else(|| panic!("no record named {name}"))
}

fn fixture_records(folder: &str) -> Vec<OwnedRecord> {
    sn_retarget::io::expand_inputs(&[manifest_dir().join(folder)])
        .unwrap()
        .into_iter()
        .flat_map(|p| collect(&std::fs::read(p).unwrap()).1)
        .collect()
}

fn rules(manifest: &serde_json::Value) -> Vec<String> {
    manifest["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            format!(
                "{}:{}",
                f["severity"].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_readme_names_every_seed_procedure() {
    let names: Vec<String> = recipes().into_keys().collect();
    assert_eq!(
        names,
        [
            "seed000-stage1",
            "seed000-stage3",
            "seed000-stage6",
            "seed000-stage6-plan",
            "seed000-stage8",
            "seed001-third-party",
            "seed002-endpoint",
            "seed003-pipeline",
        ]
    );
    assert_eq!(words("a 'b c' \"d e\"f \\\n  g"), ["a", "b c", "d ef", "g"]);
}

#[test]
fn seed000_stage1_inventories_the_development_export() {
    let r = run("seed000-stage1");
    r.ok();
    insta::assert_snapshot!("seed000_stage1", r.snapshot());
    for name in [
        "OAuth Client Dev",
        "OAuth Provider Dev",
        "Integration Account",
        "Development",
    ] {
        assert!(r.stdout.contains(name), "{name}\n{}", r.stdout);
    }
    assert!(!r.stdout.contains('\u{FDDE}'), "no secret shown");
}

#[test]
fn seed000_stage3_copies_the_development_records_as_they_are() {
    let r = run("seed000-stage3");
    r.ok();
    insta::assert_snapshot!("seed000_stage3", r.snapshot());
    let (manifest, files) = r.bundle();
    assert_eq!(manifest["intent"], "copy");
    assert_eq!(manifest["target"], "prod12345.service-now.com");
    assert_eq!(rules(&manifest), Vec::<String>::new());
    assert_eq!(files.len(), 4);
    let dev = fixture_records("fixtures/seed000_dev");
    let out = r.records();
    // Ids, names and URLs kept: only the three secrets changed.
    let ids = |rs: &[OwnedRecord]| {
        let mut v: Vec<_> = rs.iter().map(|r| r.sys_id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&dev), ids(&out));
    assert_eq!(manifest["totals"], serde_json::json!({ "secret": 3 }));
    let instance = named(&out, "Development");
    assert_eq!(field(instance, "url"), "https://dev12345.service-now.com");
    assert_eq!(field(instance, "connection_status"), "connection_valid");
    let provider = named(&out, "OAuth Provider Dev");
    assert_eq!(
        field(provider, "token_url"),
        "https://dev12345.service-now.com/oauth_token.do"
    );
    let checklist = std::fs::read_to_string(r.out.unwrap().join("CHECKLIST.md")).unwrap();
    assert!(checklist.contains(
        "https://prod12345.service-now.com/oauth_entity.do?sys_id=b2d4f6a8102c3e4f5a6b7c8d9e0f1a2c"
    ));
}

/// Stage 6, by command and by plan file: the same bundle.
#[test]
fn seed000_stage6_derives_the_prod_twins() {
    let r = run("seed000-stage6");
    r.ok();
    let plan = run("seed000-stage6-plan");
    plan.ok();
    insta::assert_snapshot!("seed000_stage6", r.snapshot());
    let (manifest, files) = r.bundle();
    let (_, by_plan) = plan.bundle();
    assert_eq!(files, by_plan, "the plan file makes the same bundle");
    assert_eq!(manifest["intent"], "derive");
    assert_eq!(
        manifest["hosts"],
        serde_json::json!([{ "from": "dev12345.service-now.com", "to": "prod12345.service-now.com" }])
    );
    // Nothing to warn about: the Integration Account exists on production (a note).
    assert_eq!(rules(&manifest), Vec::<String>::new());
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let dev = fixture_records("fixtures/seed000_dev");
    let out = r.records();
    assert_eq!(out.len(), 4, "the Integration Account is left out");
    let client = named(&out, "OAuth Client Prod");
    let provider = named(&out, "OAuth Provider Prod");
    let profile = named(&out, "OAuth Provider Prod default_profile");
    let instance = named(&out, "Production");
    // New ids, every one.
    for (twin, original) in [
        (client, "OAuth Client Dev"),
        (provider, "OAuth Provider Dev"),
        (profile, "OAuth Provider Dev default_profile"),
        (instance, "Development"),
    ] {
        assert_ne!(twin.sys_id, named(&dev, original).sys_id, "{original}");
    }
    // One new client_id, shared by the endpoint and the provider calling it.
    let dev_client_id = field(named(&dev, "OAuth Client Dev"), "client_id");
    assert_eq!(field(client, "client_id"), field(provider, "client_id"));
    assert_ne!(field(client, "client_id"), dev_client_id);
    assert_eq!(
        manifest["client_ids"],
        serde_json::json!([{ "old": dev_client_id, "new": field(client, "client_id") }])
    );
    // Production URLs, name and environment.
    for f in ["redirect_url", "token_url", "auth_url", "revoke_token_url"] {
        assert!(
            field(provider, f).starts_with("https://prod12345.service-now.com/oauth_"),
            "{f}"
        );
    }
    assert_eq!(field(instance, "url"), "https://prod12345.service-now.com");
    assert_eq!(field(instance, "instance_name"), "prod12345");
    assert_eq!(field(instance, "environment"), "production");
    // State reset.
    assert_eq!(field(instance, "connection_status"), "");
    assert_eq!(field(instance, "validated"), "false");
    // References point at the twins and show their names.
    assert_eq!(
        Some(field(instance, "oauth_application_registry")),
        provider.sys_id.as_deref()
    );
    assert_eq!(
        attr(instance, "oauth_application_registry", "display_value"),
        "OAuth Provider Prod"
    );
    assert_eq!(
        Some(field(profile, "oauth_entity")),
        provider.sys_id.as_deref()
    );
    assert_eq!(
        attr(profile, "oauth_entity", "display_value"),
        "OAuth Provider Prod"
    );
    // The existing profile is kept: its id, its name.
    let account = named(&dev, "Integration Account");
    assert_eq!(
        Some(field(instance, "oauth_user_profile")),
        account.sys_id.as_deref()
    );
    assert_eq!(
        attr(instance, "oauth_user_profile", "display_value"),
        "Integration Account"
    );
    // The manifest and the checklist name the outputs.
    let records: Vec<String> = manifest["order"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["records"].as_array().unwrap().clone())
        .map(|r| {
            format!(
                "{} {}",
                r["name"].as_str().unwrap(),
                r["sys_id"].as_str().unwrap()
            )
        })
        .collect();
    for r in [client, provider, profile, instance] {
        let line = format!(
            "{} {}",
            field(r, "name").trim(),
            r.sys_id.as_deref().unwrap()
        );
        assert!(records.contains(&line), "{line} in {records:?}");
    }
    assert_eq!(manifest["left_out"][0]["name"], "Integration Account");
    let checklist = std::fs::read_to_string(r.out.unwrap().join("CHECKLIST.md")).unwrap();
    for r in [client, provider] {
        assert!(checklist.contains(&format!(
            "https://prod12345.service-now.com/oauth_entity.do?sys_id={}",
            r.sys_id.as_deref().unwrap()
        )));
    }
    assert!(checklist.contains("\"OAuth Client Prod\"") && !checklist.contains("Dev\""));
    assert!(checklist.contains("open the new instance record sn_se_instance \"Production\""));
}

#[test]
fn seed000_stage8_copies_the_production_records_into_development() {
    let r = run("seed000-stage8");
    r.ok();
    insta::assert_snapshot!("seed000_stage8", r.snapshot());
    let (manifest, _) = r.bundle();
    assert_eq!(manifest["intent"], "copy");
    assert_eq!(rules(&manifest), Vec::<String>::new());
    let notes: Vec<&str> = manifest["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "missing-reference")
        .map(|f| f["message"].as_str().unwrap())
        .filter(|m| m.starts_with("sys_auth_profile_oauth2"))
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("exists on the target"), "{notes:?}");
    let prod = fixture_records("fixtures/seed000_prod");
    let out = r.records();
    for name in ["OAuth Client Prod", "OAuth Provider Prod", "Production"] {
        assert_eq!(
            named(&out, name).sys_id,
            named(&prod, name).sys_id,
            "{name}"
        );
    }
    let provider = named(&out, "OAuth Provider Prod");
    assert_eq!(
        field(provider, "token_url"),
        "https://prod12345.service-now.com/oauth_token.do"
    );
    assert!(field(provider, "client_secret").starts_with("SN-RETARGET-SECRET("));
    assert_eq!(field(named(&out, "Production"), "validated"), "true");
}

#[test]
fn seed001_moves_a_third_party_provider_and_keeps_its_client_id() {
    let r = run("seed001-third-party");
    r.ok();
    insta::assert_snapshot!("seed001_third_party", r.snapshot());
    let (manifest, _) = r.bundle();
    assert_eq!(manifest["intent"], "move");
    assert_eq!(manifest["target"], "acme.service-now.com");
    assert_eq!(rules(&manifest), Vec::<String>::new());
    let before = fixture_records("fixtures/seed001_third_party");
    let out = r.records();
    let provider = named(&out, "Calendar service");
    let original = named(&before, "Calendar service");
    assert_eq!(
        field(provider, "redirect_url"),
        "https://acme.service-now.com/oauth_redirect.do"
    );
    for f in ["client_id", "auth_url", "token_url", "revoke_token_url"] {
        assert_eq!(field(provider, f), field(original, f), "{f}");
    }
    assert_eq!(provider.sys_id, original.sys_id);
    let message = named(&out, "Calendar API");
    assert_eq!(
        attr(message, "oauth2_profile", "display_value"),
        "Calendar service default_profile"
    );
}

#[test]
fn seed002_moves_an_endpoint_for_external_clients() {
    let r = run("seed002-endpoint");
    r.ok();
    insta::assert_snapshot!("seed002_endpoint", r.snapshot());
    let (manifest, _) = r.bundle();
    assert_eq!(rules(&manifest), Vec::<String>::new());
    let out = r.records();
    let endpoint = named(&out, "CXone Knowledge OAuth");
    assert_eq!(
        field(endpoint, "redirect_url"),
        "https://classics.service-now.com/oauth_redirect.do"
    );
    assert_eq!(
        field(endpoint, "client_id"),
        "6f9d3c8e0a0a4b7fb2c9e4a1b3c12345"
    );
    assert_eq!(field(endpoint, "access_token_lifespan"), "7200");
    assert_eq!(field(endpoint, "refresh_token_lifespan"), "31536000");
    let scopes: Vec<&str> = out
        .iter()
        .filter(|r| r.table == "oauth_entity_scope")
        .map(|r| field(r, "oauth_entity_scope"))
        .collect();
    assert_eq!(
        scopes,
        [
            "useraccount",
            "openid",
            "profile",
            "email",
            "offline_access"
        ]
    );
    assert_eq!(
        out.iter()
            .filter(|r| r.table == "oauth_entity_profile_scope")
            .count(),
        5
    );
}

#[test]
fn seed003_maps_controller_dev_and_test_in_one_run() {
    let r = run("seed003-pipeline");
    r.ok();
    insta::assert_snapshot!("seed003_pipeline", r.snapshot());
    let out = r.records();
    assert_eq!(
        field(named(&out, "Pipeline Controller Client"), "redirect_url"),
        "https://acme.service-now.com/oauth_redirect.do, https://acmedev.service-now.com/oauth_redirect.do, https://acmetest.service-now.com/oauth_redirect.do"
    );
    assert_eq!(
        field(named(&out, "Pipeline Development Client"), "redirect_url"),
        "https://acme.service-now.com/oauth_redirect.do, https://acmedev.service-now.com/oauth_redirect.do"
    );
    let providers: Vec<(&str, &str)> = out
        .iter()
        .filter(|r| field_or(r, "type") == "oauth_provider")
        .map(|r| (field(r, "redirect_url"), field(r, "token_url")))
        .collect();
    assert_eq!(
        providers,
        [
            (
                "https://acmedev.service-now.com/oauth_redirect.do",
                "https://acme.service-now.com/oauth_token.do"
            ),
            (
                "https://acmetest.service-now.com/oauth_redirect.do",
                "https://acme.service-now.com/oauth_token.do"
            ),
        ]
    );
    // Clean for check: every provider still pairs with the controller's endpoint.
    let c = bin()
        .arg("check")
        .arg(r.out.as_ref().unwrap())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&c.stdout);
    assert!(text.contains(" 0 error(s), 0 warning(s)"), "{text}");
}

fn field_or<'r>(r: &'r OwnedRecord, name: &str) -> &'r str {
    r.field(name).map_or("", |f| f.text.as_str())
}

/// The README prints the table of state a derived twin does not inherit, row by row.
#[test]
fn the_readme_prints_every_state_field() {
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    for s in sn_retarget::plan::intent::STATE_FIELDS {
        let reset = match s.reset {
            "" => "(empty)".to_string(),
            r => format!("`{r}`"),
        };
        let row = format!("| `{}` | `{}` | {reset} | {} |", s.tables, s.field, s.what);
        assert!(readme.contains(&row), "README lacks {row}");
    }
}
