//! The rewrite engine: every fixture and corpus file retargeted with new ids, the properties (identity, locality, idempotence,
//! determinism, reversibility, reference integrity, well-formedness, no secret left), escaping
//! at every depth, and the seed-000 flows.

use std::collections::BTreeSet;

use sn_retarget::ErrorKind;
use sn_retarget::analyze::inspect::Inspector;
use sn_retarget::apply::apply;
use sn_retarget::plan::Rewriter;
use sn_retarget::plan::{IdMode, NATURAL_KEY_TABLES, Plan, SecretMode};

use crate::support::oracle::oracle;
use crate::support::{
    apply_one, check_consistency, check_locality, collect, corpus_dir, defined_ids, good_fixtures,
    hosts_of, manifest_dir, no_ciphertext, regenerate_plan, well_formed, xml_files,
};

/// `bytes` retargeted (every host to acme, new ids): well-formed, only the reported bytes
/// changed, ids following the map, no source host, old id or ciphertext left (no old id at all
/// with natural keys forced); identity with a plan that changes nothing; idempotent and
/// deterministic.
fn retargets_completely(name: &str, bytes: &[u8]) {
    let sources = hosts_of(bytes);
    let mut plan = regenerate_plan(sources.clone());
    // Values named like secrets stop the run until the plan says what they are: here, secrets.
    if let Err(e) = apply(&plan, &[(name, bytes)], true) {
        if let ErrorKind::LooksSecret(list) = e.into_kind() {
            plan.secret_fields = list.into_iter().map(|(_, l)| l.selector).collect();
        }
    }
    let applied = apply_one(&plan, name, bytes);
    let out = &applied.outputs[0].bytes;
    well_formed(name, out);
    check_locality(bytes, &applied);
    check_consistency(&applied);
    let left = hosts_of(out);
    for s in &sources {
        assert!(
            !left.contains(s) || s == "acme.service-now.com",
            "{name}: {s} left"
        );
    }
    let out_text = String::from_utf8_lossy(out);
    for (table, id) in defined_ids(bytes) {
        if NATURAL_KEY_TABLES.contains(&table.as_str()) {
            continue; // kept by design, listed in the report
        }
        assert!(
            !out_text.contains(&id),
            "{name}: old id {id} of {table} left"
        );
    }
    no_ciphertext(name, out);

    // Forcing natural keys leaves no old id at all.
    let forced = Plan {
        force_natural_keys: true,
        ..plan.clone()
    };
    let out = apply_one(&forced, name, bytes).outputs.remove(0).bytes;
    let out_text = String::from_utf8_lossy(&out);
    for (table, id) in defined_ids(bytes) {
        assert!(
            !out_text.contains(&id),
            "{name}: old id {id} of {table} left with force"
        );
    }

    // Identity: secrets kept and nothing else, byte for byte.
    let keep = Plan {
        secrets: SecretMode::Keep,
        ..Plan::default()
    };
    assert_eq!(
        apply_one(&keep, name, bytes).outputs[0].bytes,
        bytes,
        "{name}: identity"
    );

    // Idempotence: the same plan on the output changes nothing.
    let first = &applied.outputs[0].bytes;
    let again = apply_one(&crate::support::for_outputs(&plan, &[first]), name, first);
    assert_eq!(
        again.outputs[0].edits,
        0,
        "{name}: not idempotent: {:?}",
        again.report.files[0].entries.first()
    );

    // Determinism.
    assert_eq!(
        &apply_one(&plan, name, bytes).outputs[0].bytes,
        first,
        "{name}: not deterministic"
    );
}

fn inputs() -> Vec<std::path::PathBuf> {
    let mut files = good_fixtures();
    let dir = corpus_dir();
    if dir.is_dir() {
        for p in xml_files(&dir) {
            let text = std::fs::read_to_string(&p).unwrap();
            if oracle(&text).is_ok() {
                files.push(p);
            }
        }
    } else {
        println!("corpus folder {} absent: only fixtures", dir.display());
    }
    files
}

#[test]
fn every_file_retargeted_with_new_ids_is_local_complete_idempotent_and_deterministic() {
    for path in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        retargets_completely(&path.display().to_string(), &bytes);
    }
}

#[test]
fn reversible_with_the_inverse_map_and_hosts() {
    let mut checked = 0;
    for path in inputs() {
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let sources = hosts_of(&bytes);
        if sources.len() > 1 {
            continue; // several sources merge into one target: not reversible by a host map
        }
        let plan = Plan {
            secrets: SecretMode::Keep,
            ..regenerate_plan(sources.clone())
        };
        let applied = apply_one(&plan, &name, &bytes);
        let inverse = applied
            .report
            .id_map
            .iter()
            .map(|p| (p.new.clone(), p.old.clone()))
            .collect();
        let back = Plan {
            target: sources.first().cloned(),
            sources: if sources.is_empty() {
                vec![]
            } else {
                vec!["acme.service-now.com".into()]
            },
            map: inverse,
            secrets: SecretMode::Keep,
            ..Plan::default()
        };
        let restored = apply_one(&back, &name, &applied.outputs[0].bytes)
            .outputs
            .remove(0)
            .bytes;
        if restored != bytes {
            // Only host names written in upper case may differ: they come back in lower case.
            let upper = sn_retarget::analyze::hosts::HostFinder::new()
                .find_all(&bytes)
                .any(|m| m.host.bytes().any(|b| b.is_ascii_uppercase()));
            assert!(upper, "{name}: not restored");
            assert_eq!(
                String::from_utf8_lossy(&restored).to_lowercase(),
                String::from_utf8_lossy(&bytes).to_lowercase(),
                "{name}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} files checked");
}

#[test]
fn shuffled_records_give_the_same_records() {
    let path = manifest_dir().join("fixtures/unload_list.xml");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("<sys_properties").unwrap();
    let end = text.rfind("</unload>").unwrap();
    let mut records: Vec<&str> = text[start..end]
        .split_inclusive("</sys_properties>\n")
        .collect();
    let plan = regenerate_plan(vec!["dev12345.service-now.com".into()]);
    let a = String::from_utf8(
        apply_one(&plan, "a", text.as_bytes())
            .outputs
            .remove(0)
            .bytes,
    )
    .unwrap();
    records.reverse();
    let shuffled = format!("{}{}{}", &text[..start], records.concat(), &text[end..]);
    let b = String::from_utf8(
        apply_one(&plan, "b", shuffled.as_bytes())
            .outputs
            .remove(0)
            .bytes,
    )
    .unwrap();
    let set = |s: &str| {
        s.split_inclusive("</sys_properties>\n")
            .map(str::to_string)
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(set(&a[start..]), set(&b[start..]));
}

#[test]
fn replacements_are_escaped_for_every_layer() {
    let path = manifest_dir().join("fixtures/update_set_escaped.xml");
    let bytes = std::fs::read(path).unwrap();
    let tricky = "a <b> & \"c\" ]]> d";
    let plan = Plan {
        set: vec![
            format!("sys_script_include.name={tricky}"), // depth 1, escaped payload
            format!("sys_script.name={tricky}"),         // depth 1 and depth 2
            format!("sys_remote_update_set.description={tricky}"), // depth 0
        ],
        replace: vec!["sys_script.script:was on=moved from".into()], // CDATA at depth 2
        ..Plan::default()
    };
    let applied = apply_one(&plan, "set", &bytes);
    let out = &applied.outputs[0].bytes;
    well_formed("set", out);
    check_locality(&bytes, &applied);
    let (_, records) = collect(out);
    let names: Vec<(usize, &str)> = records
        .iter()
        .filter(|r| matches!(r.table.as_str(), "sys_script_include" | "sys_script"))
        .map(|r| (r.place.depth, r.field("name").unwrap().text.as_str()))
        .collect();
    assert_eq!(names, [(1, tricky), (1, tricky), (2, tricky)]);
    let header = records
        .iter()
        .find(|r| r.table == "sys_remote_update_set")
        .unwrap();
    assert_eq!(header.field("description").unwrap().text, tricky);
    let deep = records.iter().find(|r| r.place.depth == 2).unwrap();
    assert!(
        deep.field("script")
            .unwrap()
            .text
            .contains("moved from https://")
    );
    // Idempotent too.
    assert_eq!(apply_one(&plan, "again", out).outputs[0].edits, 0);
}

#[test]
fn secrets_in_cdata_and_escaped_payloads_become_placeholders() {
    for (file, expected) in [
        ("source_control_delete.xml", 2),
        ("unload_list.xml", 1),
        ("source_control_oauth_entity.xml", 1),
    ] {
        let bytes = std::fs::read(manifest_dir().join("fixtures").join(file)).unwrap();
        let applied = apply_one(&Plan::default(), file, &bytes);
        assert_eq!(applied.report.secrets.len(), expected, "{file}");
        let out = &applied.outputs[0].bytes;
        well_formed(file, out);
        no_ciphertext(file, out);
        let text = String::from_utf8_lossy(out);
        assert!(text.contains("SN-RETARGET-SECRET("), "{file}");
        // The report never holds a secret value.
        let report = format!("{:?}", applied.report);
        assert!(
            !report.contains('\u{FDDE}') && !report.contains(")pR#"),
            "{file}"
        );
        let blank = Plan {
            secrets: SecretMode::Blank,
            ..Plan::default()
        };
        no_ciphertext(file, &apply_one(&blank, file, &bytes).outputs[0].bytes);
    }
}

#[test]
fn dictionary_declared_secret_columns_are_found() {
    let dict = std::fs::read(manifest_dir().join("fixtures/dictionary.xml")).unwrap();
    let data =
        std::fs::read(manifest_dir().join("fixtures/source_control_custom_secret.xml")).unwrap();
    let applied = apply(
        &Plan::default(),
        &[("dictionary.xml", &dict), ("data.xml", &data)],
        false,
    )
    .unwrap();
    assert_eq!(applied.report.secrets.len(), 1);
    assert_eq!(applied.report.secrets[0].note.field, "secret_key");
}

#[test]
fn ciphertext_without_a_rule_is_caught_and_fail_closed() {
    // A ciphertext on the root element: no record holds it, so no rule replaces it, and the
    // output is refused.
    let input = "<unload note=\"\u{FDDE}\u{FDDF}abc\u{FDEE}\u{FDEF}\"><x_t action=\"INSERT_OR_UPDATE\"><name>a</name></x_t></unload>";
    let err = apply(&Plan::default(), &[("x.xml", input.as_bytes())], false).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("ciphertext left") && msg.contains("1:"),
        "{msg}"
    );
    assert!(!msg.contains("abc"));
    // With `keep` it passes through.
    let keep = Plan {
        secrets: SecretMode::Keep,
        ..Plan::default()
    };
    assert_eq!(
        apply(&keep, &[("x.xml", input.as_bytes())], false)
            .unwrap()
            .outputs[0]
            .bytes,
        input.as_bytes()
    );
}

/// Edits prepared without the ciphertext check are checked while written: a clean output is
/// written as `prepare` would write it; one that would leave ciphertext is refused, by the
/// write and by `verify`, as `prepare` refuses it.
#[test]
fn unverified_edits_are_checked_while_written() {
    use sn_retarget::apply::{prepare, prepare_unverified};
    let d = crate::support::tmp("unverified");
    let left = "<unload note=\"\u{FDDE}\u{FDDF}abc\u{FDEE}\u{FDEF}\"><x_t action=\"INSERT_OR_UPDATE\"><u>https://dev1.service-now.com/</u></x_t></unload>";
    let clean = "<unload><x_t action=\"INSERT_OR_UPDATE\"><u>https://dev1.service-now.com/</u></x_t></unload>";
    let plan = Plan {
        target: Some("prod1".into()),
        sources: vec!["dev1".into()],
        ..Plan::default()
    };
    for (name, input) in [("left.xml", left), ("clean.xml", clean)] {
        let input = input.as_bytes();
        let checked = prepare(&plan, &[(name, input)], false, &|| {});
        let unverified = prepare_unverified(&plan, &[(name, input)], false, &|| {}).unwrap();
        assert_eq!(unverified.report().totals.values().sum::<usize>(), 1);
        let path = d.join(name);
        let file = std::fs::File::create(&path).unwrap();
        let written = unverified.write_output_at(0, input, &file).unwrap();
        let verified = unverified.verify(&[input]);
        match checked {
            Ok(p) => {
                assert!(written.is_ok() && verified.is_ok());
                assert_eq!(std::fs::read(&path).unwrap(), p.output(0, input).unwrap());
            }
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains("ciphertext left"), "{e}");
                assert_eq!(written.unwrap_err().to_string(), e);
                assert_eq!(verified.unwrap_err().to_string(), e);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn natural_key_records_keep_their_ids_with_a_note() {
    let bytes = std::fs::read(manifest_dir().join("fixtures/unload_list.xml")).unwrap();
    let applied = apply_one(&regenerate_plan(vec![]), "list", &bytes);
    assert_eq!(applied.report.natural_keys_kept.len(), 3);
    assert!(applied.report.id_map.is_empty());
}

#[test]
fn one_read_sees_every_defined_record() {
    let bytes = std::fs::read(manifest_dir().join("fixtures/update_set_escaped.xml")).unwrap();
    let rewriter = Rewriter::new(regenerate_plan(vec![]).compile().unwrap());
    let pass = rewriter.read(&bytes, false).unwrap();
    let defined: std::collections::BTreeSet<_> = pass.defined().map(|(id, _)| id).collect();
    assert_eq!(defined.len(), 8, "{defined:?}");
}

#[test]
fn only_whole_source_hosts_are_rewritten() {
    let input = br#"<unload><sys_script action="INSERT_OR_UPDATE"><script><![CDATA[
a("https://dev12345.service-now.com/x"); b("https://xdev12345.service-now.com/");
c("https://dev12345.service-now.com.evil.example/"); d("https://hi.service-now.com/");
e("https://DEV12345.service-now.com"); f("dev12345.service-now.com, https://dev12345.service-now.com/oauth_redirect.do");
]]></script><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_script></unload>"#;
    let plan = Plan {
        target: Some("https://acme.service-now.com/".into()),
        sources: vec!["dev12345".into()],
        ..Plan::default()
    };
    let out = String::from_utf8(apply_one(&plan, "hosts", input).outputs.remove(0).bytes).unwrap();
    assert!(out.contains(r#"a("https://acme.service-now.com/x")"#));
    assert!(out.contains("xdev12345.service-now.com"));
    assert!(out.contains("dev12345.service-now.com.evil.example"));
    assert!(out.contains("hi.service-now.com"));
    assert!(out.contains(r#"e("https://acme.service-now.com")"#));
    assert!(out.contains("acme.service-now.com, https://acme.service-now.com/oauth_redirect.do"));
}

#[test]
fn scopes_rename_by_id_and_namespace() {
    let old_id = "b812ceb69337a210633378917cba10bc";
    let new_id = "c923dfc7a448b321744489028dcb21cd";
    let input = format!(
        r#"<record_update table="sys_script_include"><sys_script_include action="INSERT_OR_UPDATE"><api_name>x_old_app.Util</api_name><name>Util</name><sys_id>0123456789abcdef0123456789abcdef</sys_id><sys_package display_value="Old App" source="x_old_app">{old_id}</sys_package><sys_scope display_value="Old App">{old_id}</sys_scope><table>x_old_app_thing</table></sys_script_include></record_update>"#
    );
    let plan = Plan {
        scopes: vec![format!("{old_id}={new_id}"), "x_old_app=x_new_app".into()],
        ..Plan::default()
    };
    let out = String::from_utf8(
        apply_one(&plan, "scope", input.as_bytes())
            .outputs
            .remove(0)
            .bytes,
    )
    .unwrap();
    assert!(
        out.contains(&format!(r#"source="x_new_app">{new_id}</sys_package>"#)),
        "{out}"
    );
    assert!(out.contains(&format!(
        r#"<sys_scope display_value="Old App">{new_id}</sys_scope>"#
    )));
    assert!(
        out.contains("<api_name>x_old_app.Util</api_name>"),
        "prefixes only with scope_prefix"
    );
    let prefixed = Plan {
        scope_prefix: true,
        ..plan
    };
    let out = String::from_utf8(
        apply_one(&prefixed, "scope", input.as_bytes())
            .outputs
            .remove(0)
            .bytes,
    )
    .unwrap();
    assert!(out.contains("<api_name>x_new_app.Util</api_name>"));
    assert!(out.contains("<table>x_new_app_thing</table>"));
}

#[test]
fn user_secret_columns_and_placeholder_templates() {
    let input = br#"<unload><x_vault action="INSERT_OR_UPDATE"><name>Lab</name><pin>s3cr3t-pin</pin><sys_id>0123456789abcdef0123456789abcdef</sys_id></x_vault></unload>"#;
    let plan = Plan {
        secret_fields: vec!["x_vault.pin".into()],
        placeholder: "RE-ENTER {name} {field}".into(),
        ..Plan::default()
    };
    let applied = apply_one(&plan, "vault", input);
    let out = String::from_utf8(applied.outputs[0].bytes.clone()).unwrap();
    assert!(out.contains("<pin>RE-ENTER Lab pin</pin>"), "{out}");
    assert!(!format!("{:?}", applied.report).contains("s3cr3t"));
}

// Regressions: corners found by the first independent review.

#[test]
fn ciphertext_in_cdata_in_a_field_no_rule_names_is_replaced() {
    let input = br#"<unload><x_t action="INSERT_OR_UPDATE"><u_key><![CDATA[)pR#c2VjcmV0c2VjcmV0]]></u_key><sys_id>0123456789abcdef0123456789abcdef</sys_id></x_t></unload>"#;
    let applied = apply_one(&Plan::default(), "cdata", input);
    no_ciphertext("cdata", &applied.outputs[0].bytes);
    assert_eq!(applied.report.secrets.len(), 1);
    let mut i = Inspector::new();
    i.add("x", &input[..]).unwrap();
    assert_eq!(i.finish().files[0].secrets.len(), 1, "inspect sees it too");
}

#[test]
fn a_bad_entity_reference_in_a_secret_is_not_echoed_in_the_error() {
    let input =
        b"<unload><x action=\"INSERT_OR_UPDATE\"><password>ab&Hunter2;</password></x></unload>";
    let err =
        sn_retarget::model::read(input, &mut sn_retarget::model::Collect::default()).unwrap_err();
    let shown = format!("{err}\n{}", err.location().snippet.as_ref().unwrap());
    assert!(!shown.contains("Hunter2"), "{shown}");
}

#[test]
fn a_self_closing_field_takes_a_set_value_and_its_attribute_host_edit() {
    let input = br#"<unload><t action="INSERT_OR_UPDATE"><u_ep display_value="https://dev1.service-now.com/"/><sys_id>0123456789abcdef0123456789abcdef</sys_id></t></unload>"#;
    let plan = Plan {
        target: Some("prod1".into()),
        sources: vec!["dev1".into()],
        set: vec!["t.u_ep=X".into()],
        ..Plan::default()
    };
    let out = String::from_utf8(apply_one(&plan, "sc", input).outputs.remove(0).bytes).unwrap();
    assert!(
        out.contains(r#"<u_ep display_value="https://prod1.service-now.com/">X</u_ep>"#),
        "{out}"
    );
}

#[test]
fn an_unreadable_payload_holding_ciphertext_is_refused() {
    let input = "<unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload>&lt;record_update&gt;&lt;x action=\"I\"&gt;&lt;password&gt;\u{FDDE}\u{FDDF}abc&lt;/passw&gt;&lt;/x&gt;&lt;/record_update&gt;</payload></sys_update_xml></unload>";
    let err = apply(&Plan::default(), &[("p.xml", input.as_bytes())], false).unwrap_err();
    assert!(err.to_string().contains("ciphertext left"), "{err}");
}

#[test]
fn a_kept_secret_edited_by_replace_stays_out_of_the_report() {
    let input = br#"<unload><oauth_entity action="INSERT_OR_UPDATE"><client_secret>plain-s3cret</client_secret><sys_id>0123456789abcdef0123456789abcdef</sys_id></oauth_entity></unload>"#;
    let plan = Plan {
        secrets: SecretMode::Keep,
        replace: vec!["oauth_entity.client_secret:s3cret=other".into()],
        ..Plan::default()
    };
    let applied = apply_one(&plan, "keep", input);
    assert_eq!(applied.outputs[0].edits, 1);
    assert!(!format!("{:?}", applied.report).contains("plain-s3cret"));
}

#[test]
fn replace_in_mixed_content_keeps_its_child_elements() {
    let path = manifest_dir().join("fixtures/unload_mixed.xml");
    let bytes = std::fs::read(path).unwrap();
    let plan = Plan {
        replace: vec!["sys_script.filter_condition:active=true=active=false".into()],
        ..Plan::default()
    };
    let out = String::from_utf8(apply_one(&plan, "mixed", &bytes).outputs.remove(0).bytes).unwrap();
    assert!(
        out.contains("<item display_value=\"\" endquery=\"false\""),
        "child elements kept"
    );
}

/// Large files are read in parts, in parallel: cut into parts of a few hundred bytes, every
/// file must give the same edits, secrets and ids as when read whole.
#[test]
fn reading_in_parts_changes_nothing() {
    let plan = Plan {
        target: Some("acme".into()),
        sources: vec!["dev12345".into(), "dev1".into()],
        sys_ids: IdMode::Regenerate,
        ..Plan::default()
    };
    for path in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        let run = |part_bytes: Option<usize>| {
            let mut w = Rewriter::new(plan.compile().unwrap());
            if let Some(n) = part_bytes {
                w = w.with_part_bytes(n);
            }
            let mut pass = match w.read(&bytes, true) {
                Ok(p) => p,
                Err(e) => return Err(e.to_string()),
            };
            if !pass.secret_columns().is_empty() {
                w.add_secret_columns(pass.secret_columns().to_vec());
                pass = w.read(&bytes, true).map_err(|e| e.to_string())?;
            }
            let ids = w.resolve([&pass]);
            let r = w
                .finish(pass, &ids, &bytes, true)
                .map_err(|e| e.to_string())?;
            Ok((r, ids))
        };
        let whole = run(None);
        for n in [1, 200, 1000] {
            assert_eq!(run(Some(n)), whole, "{} in parts of {n}", path.display());
        }
    }
}

/// Read in parts, a document fails exactly where a plain read fails: the outline checks the
/// structure only, the parts and the bytes between them their text.
#[test]
fn reading_in_parts_fails_where_a_plain_read_fails() {
    use sn_retarget::model::{Record, Visitor, read, read_parts};
    struct Nothing;
    impl Visitor for Nothing {
        fn record(&mut self, _: &Record<'_>) {}
        fn discard_from(&mut self, _: usize) {}
    }
    let r = |t: &str| format!("<t action='INSERT_OR_UPDATE'><v>{t}</v></t>");
    let mut docs: Vec<String> = vec![
        format!("<unload>{}{}&bad;{}</unload>", r("a"), r("b"), r("c")),
        format!("<unload>&#0;{}{}{}</unload>", r("a"), r("b"), r("c")),
        format!("<unload>{}{}{}&amp</unload>", r("a"), r("b"), r("c")),
        format!(
            "<unload>{}{}{}</unload>",
            r("a"),
            r("&nope;"),
            r("c &#xD800; d")
        ),
        format!(
            "<unload>{}<!-- & -->{}{}</unload>",
            r("a"),
            r("b"),
            r("&nope;")
        ),
        format!("<unload>{}{}<x>{}</unload>", r("&bad;"), r("b"), r("c")),
        format!("<unload>{}{}{}</unload> &bad;", r("a"), r("b"), r("c")),
    ];
    for path in crate::support::malformed_fixtures() {
        docs.push(String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned());
    }
    for doc in &docs {
        let whole = read(doc.as_bytes(), &mut Nothing)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(whole.is_err(), "{doc}");
        for part_bytes in [1, 20, 60] {
            let parts = read_parts(doc.as_bytes(), part_bytes, || Nothing)
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert_eq!(parts, whole, "{doc} in parts of {part_bytes}");
        }
    }
}

/// Large documents are cut where `</t>` and whitespace meet `<t` (named as the root's first
/// children) without reading them first. Cuts that land inside a CDATA payload, a comment, a
/// processing instruction or a nested element of the same name must be caught
/// (the records come out as a whole read gives them), and documents that look whole in parts
/// only (the root closed early, a second root) must still fail, as a whole read does.
#[test]
fn guessed_parts_read_as_a_whole_read() {
    use sn_retarget::model::{Collect, read, read_parts};
    let r = |t: &str| format!("<t action='INSERT_OR_UPDATE'><v>{t}</v></t>\n");
    let tricky = [
        "<t action='INSERT_OR_UPDATE'><payload><![CDATA[<record_update><t action='INSERT_OR_UPDATE'><v>in</v></t>\n<t action='INSERT_OR_UPDATE'><v>in2</v></t></record_update>]]></payload></t>\n",
        "<!-- </t>\n<t action='x'> -->\n",
        "<t action='INSERT_OR_UPDATE'><t><v>nested</v></t>\n<t><v>n2</v></t></t>\n",
        "<?pi </t> <t ?>\n",
        "<u action='INSERT_OR_UPDATE'><v>other table</v></u>\n<t action='INSERT_OR_UPDATE'><v>&lt;/t&gt; &lt;t</v></t>\n",
    ];
    let wrap =
        |body: String| format!("<?xml version='1.0'?>\n<unload>\n{body}</unload>\n<!-- end -->\n");
    let mut good: Vec<String> = (0..tricky.len())
        .map(|k| {
            let next = tricky[(k + 1) % tricky.len()];
            wrap(format!("{}{}{}{next}{}", r("a"), tricky[k], r("b"), r("c")))
        })
        .collect();
    good.push(wrap(tricky.concat().repeat(3)));
    let key = |c: Collect| {
        let mut c = c.records;
        c.sort_by_key(|r| r.file_span.start);
        c.into_iter()
            .map(|r| (r.table, r.file_span, r.fields))
            .collect::<Vec<_>>()
    };
    for doc in &good {
        let mut whole = Collect::default();
        let outcome = read(doc.as_bytes(), &mut whole).unwrap();
        let whole = key(whole);
        for part_bytes in 1..doc.len() / 2 {
            let (o, parts) = read_parts(doc.as_bytes(), part_bytes, Collect::default).unwrap();
            assert_eq!(
                (o.shape.clone(), o.records, o.payloads),
                (outcome.shape.clone(), outcome.records, outcome.payloads),
                "{doc} in parts of {part_bytes}"
            );
            let mut all = Collect::default();
            for (_, c) in parts {
                all.records.extend(c.records);
            }
            assert_eq!(key(all), whole, "{doc} in parts of {part_bytes}");
        }
    }
    let bad = [
        format!(
            "<unload>\n{}{}</unload>\n{}</unload>",
            r("a"),
            r("b"),
            r("c")
        ),
        format!(
            "<unload>\n{}{}</unload>\n<unload>\n{}</unload>",
            r("a"),
            r("b"),
            r("c")
        ),
        format!(
            "<unload>\n{}<t action='x'><v>open</v>\n{}{}</unload>",
            r("a"),
            r("b"),
            r("c")
        ),
        format!("<unload>\n{}{}&bad;{}</unload>", r("a"), r("b"), r("c")),
    ];
    for doc in &bad {
        let whole = read(doc.as_bytes(), &mut Collect::default())
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(whole.is_err(), "{doc}");
        for part_bytes in 1..doc.len() / 2 {
            let parts = read_parts(doc.as_bytes(), part_bytes, Collect::default)
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert_eq!(parts, whole, "{doc} in parts of {part_bytes}");
        }
    }
}
